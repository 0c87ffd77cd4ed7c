"""Forms (Dick & Basu 1994; seed 001) and types (seed 000) of loyalty, on cases with known
answers: each grid cell and each type's defining evidence."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import crmcore
from crmcore.loyalty import (
    IndicatorScaleError,
    LoyaltyForm,
    LoyaltyType,
    classify_loyalty_type,
    loyalty_form,
)

# -- forms --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attitude", "patronage", "form"),
    [
        # Dick & Basu (1994), figure 1: loyalty / latent / spurious / no loyalty.
        (0.9, 0.9, LoyaltyForm.SUSTAINABLE),
        (0.9, 0.1, LoyaltyForm.EMOTIONAL),
        (0.1, 0.9, LoyaltyForm.BEHAVIOURAL),
        (0.1, 0.1, LoyaltyForm.NONE),
        (0.5, 0.5, LoyaltyForm.SUSTAINABLE),  # the threshold itself counts as high
        (0.4999, 0.5, LoyaltyForm.BEHAVIOURAL),
    ],
)
def test_each_cell_of_the_grid(attitude: float, patronage: float, form: LoyaltyForm) -> None:
    assert loyalty_form(attitude, patronage) is form


def test_vectorised_with_scales_and_thresholds() -> None:
    # Attitude as a 0-100 index cut at 70, patronage as a repeat rate cut at 0.3.
    forms = loyalty_form([80, 80, 20, 20], [0.5, 0.1, 0.5, 0.1], attitude_threshold=70,
                         attitude_scale=(0, 100), patronage_threshold=0.3)
    assert forms.tolist() == [LoyaltyForm.SUSTAINABLE, LoyaltyForm.EMOTIONAL,
                              LoyaltyForm.BEHAVIOURAL, LoyaltyForm.NONE]
    # Broadcast: one patronage for everyone.
    assert loyalty_form([0.9, 0.1], 0.9).tolist() == [LoyaltyForm.SUSTAINABLE,
                                                      LoyaltyForm.BEHAVIOURAL]


@given(st.floats(0, 1), st.floats(0, 1), st.floats(0.01, 1), st.floats(0.01, 1))
def test_form_matches_its_definition(a: float, p: float, ta: float, tp: float) -> None:
    form = loyalty_form(a, p, attitude_threshold=ta, patronage_threshold=tp)
    expected = {(True, True): LoyaltyForm.SUSTAINABLE, (True, False): LoyaltyForm.EMOTIONAL,
                (False, True): LoyaltyForm.BEHAVIOURAL, (False, False): LoyaltyForm.NONE}
    assert form is expected[(a >= ta, p >= tp)]


def test_form_bad_input() -> None:
    with pytest.raises(IndicatorScaleError, match=r"relative_attitude is outside its scale "
                                                  r"\[0, 1\] at row 1 \(first: 1.5\)"):
        loyalty_form([0.2, 1.5], [0.1, 0.1])
    with pytest.raises(crmcore.InvalidValueError, match=r"repeat_patronage is missing or not "
                                                        r"finite at row 0"):
        loyalty_form([0.2], [np.nan])
    with pytest.raises(crmcore.InvalidValueError, match=r"attitude_threshold=2 must lie in"):
        loyalty_form(0.2, 0.2, attitude_threshold=2)
    with pytest.raises(crmcore.InvalidValueError, match=r"do not broadcast"):
        loyalty_form([0.2, 0.3], [0.1, 0.2, 0.3])


# -- types --------------------------------------------------------------------------------------


def test_each_type_from_its_own_evidence() -> None:
    # One customer per type, each showing only the evidence that defines it (seed 000), plus
    # a customer with no evidence and a prospect with a cold attitude.
    result = classify_loyalty_type(
        no_alternative=[True, False, False, False, False, False, False, False],
        social_ties=[False, True, False, False, False, False, False, False],
        incentive_share=[0.0, 0.0, 0.8, 0.0, 0.0, 0.0, 0.0, 0.0],
        habitual=[False, False, False, True, False, False, False, False],
        trust=[0.1, 0.1, 0.1, 0.1, 0.9, 0.1, 0.1, 0.1],
        attitude=[0.0, 0.0, 0.0, 0.0, 0.0, 0.8, 0.0, 0.2],
        is_customer=[True, True, True, True, True, False, True, False],
    )
    assert result.types.tolist() == [
        LoyaltyType.MONOPOLY, LoyaltyType.KINSHIP, LoyaltyType.INTEREST, LoyaltyType.INERTIA,
        LoyaltyType.TRUST, LoyaltyType.LATENT, None, None,
    ]
    assert result.reasons(2) == ("INTEREST: 80% of purchases on incentive (threshold 50%)",)
    assert result.reasons(4) == ("TRUST: trust score 0.90 (threshold 0.50)",)
    assert result.reasons(5) == ("LATENT: prospect with attitude 0.80 (threshold 0.50)",)
    assert result.reasons(6) == ("no driver evidence for any loyalty type",)
    assert result.reasons(7) == ("prospect without a known positive attitude: no loyalty type "
                                 "applies",)
    counts = result.counts()
    assert counts[None] == 2
    assert all(counts[t] == 1 for t in LoyaltyType)


def test_precedence_and_secondary_reasons() -> None:
    # A monopoly customer who also trusts the firm: MONOPOLY first, trust listed after it.
    # A trusting customer buying mostly on incentive: INTEREST by the seed's order, TRUST
    # first when the caller ranks trust higher.
    kwargs: dict[str, Any] = {"no_alternative": [True, False], "trust": [0.9, 0.9],
              "incentive_share": [0.0, 0.7]}
    result = classify_loyalty_type(**kwargs)
    assert result.types.tolist() == [LoyaltyType.MONOPOLY, LoyaltyType.INTEREST]
    assert result.reasons(0) == ("MONOPOLY: no alternative supplier",
                                 "TRUST: trust score 0.90 (threshold 0.50)")
    assert result.holds(LoyaltyType.TRUST).tolist() == [True, True]
    trust_first = [LoyaltyType.TRUST, *[t for t in LoyaltyType if t is not LoyaltyType.TRUST]]
    again = classify_loyalty_type(**kwargs, precedence=trust_first)
    assert again.types.tolist() == [LoyaltyType.TRUST, LoyaltyType.TRUST]


def test_missing_evidence_counts_for_nothing_and_scalars_broadcast() -> None:
    result = classify_loyalty_type(no_alternative=[None, True, np.nan], trust=0.2)
    assert result.types.tolist() == [None, LoyaltyType.MONOPOLY, None]
    single = classify_loyalty_type(habitual=True)
    assert single.types.tolist() == [LoyaltyType.INERTIA]
    # Prospects show no customer type whatever their other evidence.
    prospect = classify_loyalty_type(no_alternative=True, attitude=0.9, is_customer=False)
    assert prospect.types.tolist() == [LoyaltyType.LATENT]


def test_type_bad_input() -> None:
    with pytest.raises(crmcore.InvalidValueError, match=r"needs evidence for at least one"):
        classify_loyalty_type()
    with pytest.raises(IndicatorScaleError, match=r"trust is outside its scale \[0, 1\] at "
                                                  r"row 1 \(first: 7.0\)"):
        classify_loyalty_type(trust=[0.5, 7])
    with pytest.raises(crmcore.InvalidValueError, match=r"habitual must be True, False or "
                                                        r"missing .* row 0 \(first: 2.0\)"):
        classify_loyalty_type(habitual=[2, 1])
    with pytest.raises(crmcore.InvalidValueError, match=r"evidence arrays differ in length"):
        classify_loyalty_type(trust=[0.5, 0.2], habitual=[True, False, True])
    with pytest.raises(crmcore.InvalidValueError, match=r"is_customer is missing at row 1"):
        classify_loyalty_type(trust=[0.5, 0.2], is_customer=[True, None])
    with pytest.raises(crmcore.InvalidValueError, match=r"trust_threshold=0 must lie in"):
        classify_loyalty_type(trust=[0.5], trust_threshold=0)
    with pytest.raises(crmcore.InvalidValueError, match=r"precedence must list each"):
        classify_loyalty_type(trust=[0.5], precedence=[LoyaltyType.TRUST])


def test_seed_terms_in_the_enum_docs() -> None:
    for term in ("垄断忠诚", "亲缘忠诚", "利益忠诚", "惰性忠诚", "信赖忠诚", "潜在忠诚"):
        assert term in (LoyaltyType.__doc__ or "")
    for term in ("可持续忠诚", "精神忠诚", "行为忠诚"):
        assert term in (LoyaltyForm.__doc__ or "")
