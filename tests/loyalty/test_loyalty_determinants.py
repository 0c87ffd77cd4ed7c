"""The four determinants of seed 001 weighted by lifecycle stage.

The stage weights encode the seed's text (no published numbers exist), so the tests check
that the table says what the seed says, and the index against hand-computed cases.
"""

from __future__ import annotations

import enum

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import crmcore
from crmcore import LoyaltyDeterminant
from crmcore.loyalty import (
    DEFAULT_STAGE_WEIGHTS,
    DETERMINANT_NAMES,
    STAGE_NAMES,
    IndicatorScaleError,
    UnknownIndicatorError,
    determinant_index,
    stage_weights,
)


def test_the_table_says_what_the_seed_says() -> None:
    w = {stage: stage_weights(stage) for stage in STAGE_NAMES}
    for stage in STAGE_NAMES:
        assert sum(w[stage].values()) == pytest.approx(1.0)
        assert w[stage]["perceived_value"] > 0  # runs through the whole lifecycle
    # Satisfaction matters most early, trust in the middle, switching cost middle and late.
    assert max(STAGE_NAMES, key=lambda s: w[s]["satisfaction"]) == "exploration"
    assert w["exploration"]["trust"] == 0
    assert w["stability"]["trust"] == max(w[s]["trust"] for s in STAGE_NAMES)
    assert w["exploration"]["switching_cost"] == 0
    assert w["decline"]["switching_cost"] >= w["decline"]["satisfaction"]
    assert [d.basic for d in LoyaltyDeterminant] == [True, False, False, True]
    assert set(DEFAULT_STAGE_WEIGHTS) == set(STAGE_NAMES)


def test_hand_computed_index_by_stage() -> None:
    # exploration weights 1:2:0:0 -> 1/3, 2/3: 100 * (0.5/3 + 0.8*2/3) = 70.
    # stability weights 1:1:2:2 over 6: 100 * (0.5 + 0.8 + 2*0.2 + 2*0.9) / 6 = 58.33.
    result = determinant_index(
        {"perceived_value": [0.5, 0.5], "satisfaction": [0.8, 0.8], "trust": [0.2, 0.2],
         "switching_cost": [0.1, 0.9]},
        ["exploration", "stability"],
    )
    np.testing.assert_allclose(result.index, [70.0, 350 / 6])
    np.testing.assert_allclose(result.contributions.sum(axis=1), result.index)
    assert result.stages.tolist() == ["exploration", "stability"]


def test_satisfaction_index_scale_and_missing_trust() -> None:
    # formation weights 1:2:1:1 over 5. Satisfaction 60 on 0-100 -> 0.6, value 1.0, trust
    # missing, switching cost 0: 100 * (1.0 * 1 + 0.6 * 2 + 0) / 4 = 55; coverage 4/5.
    result = determinant_index(
        {"perceived_value": [1.0], "satisfaction": [60.0], "trust": [np.nan],
         "switching_cost": [0.0]},
        "formation", scales={"satisfaction": (0, 100)},
    )
    np.testing.assert_allclose(result.index, [55.0])
    np.testing.assert_allclose(result.coverage, [0.8])


def test_lifecycle_enum_members_are_read_by_value() -> None:
    class Stage(enum.Enum):  # stands in for the lifecycle package's enum
        FORMATION = "formation"
        DECLINE = "decline"

    by_enum = determinant_index({"trust": [0.4, 0.4], "switching_cost": [1.0, 1.0]},
                                np.array([Stage.FORMATION, Stage.DECLINE], dtype=object))
    by_name = determinant_index({"trust": [0.4, 0.4], "switching_cost": [1.0, 1.0]},
                                ["formation", "decline"])
    np.testing.assert_allclose(by_enum.index, by_name.index)
    # formation: (0.4 + 1.0) / 2 = 70; decline: (0.4 + 2 * 1.0) / 3 = 80.
    np.testing.assert_allclose(by_name.index, [70.0, 80.0])
    assert stage_weights(Stage.DECLINE) == stage_weights("decline")


@given(st.lists(st.tuples(*[st.floats(0, 1)] * 4), min_size=1, max_size=5),
       st.sampled_from(STAGE_NAMES), st.sampled_from(DETERMINANT_NAMES), st.floats(0.01, 1))
def test_bounded_and_monotone_where_weighted(
    rows: list[tuple[float, float, float, float]], stage: str, name: str, step: float,
) -> None:
    values = {n: np.array([r[k] for r in rows]) for k, n in enumerate(DETERMINANT_NAMES)}
    before = determinant_index(values, stage).index
    assert np.all((before >= 0) & (before <= 100))
    raised = dict(values)
    raised[name] = np.minimum(values[name] + step, 1.0)
    after = determinant_index(raised, stage).index
    assert np.all(after >= before - 1e-9)
    moved = raised[name] - values[name] > 1e-6
    if stage_weights(stage)[name] > 0:
        assert np.all(after[moved] > before[moved])


def test_custom_table() -> None:
    table = {s: {"perceived_value": 1.0} for s in STAGE_NAMES}
    result = determinant_index({"perceived_value": [0.3], "trust": [1.0]}, "decline",
                               stage_weights=table)
    np.testing.assert_allclose(result.index, [30.0])


def test_determinant_bad_input() -> None:
    with pytest.raises(UnknownIndicatorError, match=r"determinants: unknown determinant 'price'"):
        determinant_index({"price": [0.3]}, "decline")
    with pytest.raises(crmcore.InvalidValueError, match=r"'terminated' at row 0 is not a stage"):
        determinant_index({"trust": [0.3]}, "terminated")
    with pytest.raises(crmcore.InvalidValueError, match=r"one stage per customer"):
        determinant_index({"trust": [0.3, 0.2]}, ["decline"])
    with pytest.raises(IndicatorScaleError, match=r"'satisfaction'\] is outside its scale"):
        determinant_index({"satisfaction": [80.0]}, "decline")
    with pytest.raises(UnknownIndicatorError, match=r"scales: unknown determinant 'price'"):
        determinant_index({"trust": [0.3]}, "decline", scales={"price": (0, 1)})
    with pytest.raises(crmcore.InvalidValueError, match=r"no input with a positive weight"):
        determinant_index({"trust": [0.3]}, "exploration")  # trust has no weight there yet
    with pytest.raises(crmcore.InvalidValueError, match=r"stage_weights gives no row for"):
        determinant_index({"trust": [0.3]}, "decline", stage_weights={"decline": {"trust": 1}})
    with pytest.raises(UnknownIndicatorError, match=r"stage_weights\['exploration'\]: unknown "
                                                  r"determinant 'loyalty'"):
        determinant_index({"trust": [0.3]}, "decline",
                          stage_weights={s: {"loyalty": 1} for s in STAGE_NAMES})


def test_determinant_enum_members_with_hyphenated_values_are_read() -> None:
    class Driver(enum.Enum):  # stands in for the lifecycle package's determinant enum
        PERCEIVED_VALUE = "perceived-value"
        SWITCHING_COST = "switching-cost"

    by_enum = determinant_index({Driver.PERCEIVED_VALUE: [0.2], Driver.SWITCHING_COST: [0.8]},
                                "decline", scales={Driver.SWITCHING_COST: (0, 1)})
    # decline: value 1, switching cost 2: 100 * (0.2 + 2 * 0.8) / 3 = 60.
    np.testing.assert_allclose(by_enum.index, [60.0])
    assert by_enum.names == ("perceived_value", "switching_cost")
    table = {s: {Driver.PERCEIVED_VALUE: 1.0} for s in STAGE_NAMES}
    assert stage_weights("decline", table)["perceived_value"] == 1.0
