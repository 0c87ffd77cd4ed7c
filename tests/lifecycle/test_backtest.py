"""The lifecycle backtest: stages and churn risk checked against what customers did next.

On both CDNOW files (calibration to 30 September 1997, 39-week holdout) and on simulated
customers with known dropout times, the default stages must rank next-period behaviour in the
order they claim, and the default churn risk must rank the customers who did not come back.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import crmcore
from crmcore import CalibrationHoldout, CustomerBase
from crmcore.datasets import CDNOW_CALIBRATION_END, load_cdnow_calibration
from crmcore.lifecycle import (
    LifecycleClassifier,
    LifecycleStage,
    StageBacktest,
    StageResult,
    backtest,
    lapse_limits,
    lift,
    roc_auc,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "lifecycle" / "stages.md"


# -- ROC AUC and lift -------------------------------------------------------------------------


@given(st.lists(st.tuples(st.integers(0, 6), st.booleans()), min_size=2, max_size=60))
def test_roc_auc_matches_scikit_learn(pairs: list[tuple[int, bool]]) -> None:
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    score = np.array([p[0] for p in pairs], dtype=float)  # few values: many ties
    positive = np.array([p[1] for p in pairs])
    if positive.all() or not positive.any():
        with pytest.raises(crmcore.InvalidValueError, match="both outcomes"):
            roc_auc(score, positive)
        return
    assert roc_auc(score, positive) == pytest.approx(
        sklearn_metrics.roc_auc_score(positive, score), abs=1e-12)


def test_lift_by_hand() -> None:
    score = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0])
    positive = np.array([True, True, False, True, False, False, False, False, False, False])
    # top 20%: both positive, against 30% overall
    assert lift(score, positive, 0.2) == pytest.approx(1.0 / 0.3)
    assert lift(score, positive, 1.0) == pytest.approx(1.0)
    # all tied: the top share holds the overall rate, whatever the order
    assert lift(np.zeros(10), positive, 0.1) == pytest.approx(1.0)
    with pytest.raises(crmcore.InvalidValueError, match="share must lie"):
        lift(score, positive, 0.0)
    with pytest.raises(crmcore.InvalidValueError, match="boolean"):
        roc_auc(score, positive.astype(int))


# -- CDNOW ------------------------------------------------------------------------------------


def _check_claimed_order(result: StageBacktest) -> None:
    rate = result.returned_by_stage()
    top = min(rate["formation"], rate["stability"])
    assert top > rate["decline"] > rate["exploration"] > rate["terminated"]
    # terminated well below the base: at most 70% of the base's return rate
    assert rate["terminated"] < 0.7 * result.returned
    # each stage's rule order holds for spend and purchases too (formation/stability highest)
    spend = dict(zip(result.stages.label, result.stages.mean_spend, strict=True))
    assert min(spend["formation"], spend["stability"]) > spend["decline"] > spend[
        "terminated"]


@pytest.fixture(scope="module")
def sample_split() -> CalibrationHoldout:
    return load_cdnow_calibration()


@pytest.fixture(scope="module")
def master_split(cdnow_master: CustomerBase) -> CalibrationHoldout:
    return cdnow_master.calibration_holdout(CDNOW_CALIBRATION_END)


@pytest.fixture(scope="module")
def sample_backtest(sample_split: CalibrationHoldout) -> StageBacktest:
    return backtest(sample_split)


@pytest.fixture(scope="module")
def master_backtest(master_split: CalibrationHoldout) -> StageBacktest:
    return backtest(master_split)


def test_cdnow_sample_stages_rank_the_holdout(sample_backtest: StageBacktest) -> None:
    assert sample_backtest.customers == 2357
    _check_claimed_order(sample_backtest)
    assert sample_backtest.returned == pytest.approx(684 / 2357)


def test_cdnow_master_stages_rank_the_holdout(master_backtest: StageBacktest) -> None:
    assert master_backtest.customers == 23570
    _check_claimed_order(master_backtest)


@pytest.mark.parametrize("value_model", ["bgnbd", "pareto-nbd"])
def test_cdnow_order_holds_with_a_value_model(sample_split: CalibrationHoldout,
                                              value_model: str) -> None:
    result = backtest(sample_split, value_model=value_model)
    _check_claimed_order(result)
    assert result.stage_result.p_alive is not None
    assert result.churn.p_alive is not None


def test_default_churn_risk_ranks_cdnow_churners(sample_backtest: StageBacktest,
                                                 master_backtest: StageBacktest) -> None:
    for result in (sample_backtest, master_backtest):
        assert result.churn_source == "no_purchase"
        assert result.churn_horizon == pytest.approx(39.0)
        assert result.roc_auc is not None
        assert result.roc_auc >= 0.72
        assert result.lift_decile is not None
        assert result.lift_quintile is not None
        assert result.lift_decile > 1.05
        assert result.lift_quintile > 1.05
        churned = result.churn.risk
        assert churned.shape == (result.customers,)


def test_bgnbd_p_alive_misranks_one_time_buyers(sample_split: CalibrationHoldout) -> None:
    # The artefact the default avoids: BG/NBD's P(alive) is 1 for every one-time buyer.
    from crmcore.lifecycle import churn_risk
    from crmcore.value import BGNBD

    base = sample_split.calibration
    model = BGNBD().fit(base)
    risk = churn_risk(base, value_model=model, horizon=39.0)
    assert risk.p_alive is not None
    assert np.all(risk.p_alive[base.frequency == 0] == 1.0)
    churned = sample_split.frequency_holdout == 0
    assert roc_auc(1 - risk.p_alive, churned) < 0.5
    assert roc_auc(risk.risk, churned) >= 0.72
    np.testing.assert_allclose(
        risk.risk, model.conditional_probability_of_purchases(0, 39.0, base))


def test_lapse_limits_read_the_base(sample_split: CalibrationHoldout) -> None:
    base = sample_split.calibration
    limits = lapse_limits(base)
    history = base.history
    assert history is not None
    # by hand: the 90% quantile of the days from first to second purchase, in weeks
    starts = history.indptr[:-1]
    repeat = np.diff(history.indptr) >= 2
    gaps = history.period[starts[repeat] + 1] - history.period[starts[repeat]]
    assert limits[1] == pytest.approx(max(float(np.quantile(gaps, 0.9)), 91.0) / 7)
    assert limits[1] >= limits[3]
    stages = LifecycleClassifier().classify(base)
    assert stages.lapse_limit is not None
    one_time = stages.purchases == 1
    np.testing.assert_allclose(stages.lapse_limit[one_time], limits[1])
    why = stages.explain(int(base.customer_id[np.flatnonzero(one_time)[0]]))
    assert why.rule == "lapsed-exploration"
    assert "90% of the base's customers who made a purchase number 2" in why.reason


def test_backtest_frames_and_plot(sample_backtest: StageBacktest) -> None:
    frame = sample_backtest.to_frame()
    assert frame["stage"].tolist() == [s.value for s in LifecycleStage] + ["all customers"]
    assert int(frame["customers"].iloc[:-1].sum()) == 2357
    rules = sample_backtest.to_frame("polars", by="rule")
    assert rules["rule"].to_list()[-1] == "all customers"
    assert set(rules["stage"].to_list()[:-1]) <= {s.value for s in LifecycleStage}
    churn = sample_backtest.to_frame(by="churn")
    assert churn["roc_auc"].iloc[0] == pytest.approx(sample_backtest.roc_auc)
    with pytest.raises(crmcore.InvalidValueError, match="by must be"):
        sample_backtest.to_frame(by="nope")  # type: ignore[arg-type]

    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = sample_backtest.plot()
    heights = [bar.get_height() for bar in ax.containers[0]]
    np.testing.assert_allclose(heights, sample_backtest.stages.returned)
    assert "39" in ax.get_ylabel()
    _fig, own = plt.subplots()
    assert sample_backtest.plot(ax=own) is own
    plt.close("all")


class _FirmClassifier:
    """A firm's own rule: repeat buyers are stable, everyone else is still exploring."""

    def score(self, base: CustomerBase, *, value_model: Any = None,
              as_of: Any = None) -> StageResult:
        default = LifecycleClassifier().score(base, as_of=as_of)
        code = np.where(default.purchases >= 2, LifecycleStage.STABILITY.order,
                        LifecycleStage.EXPLORATION.order).astype(np.int8)
        import attrs

        return attrs.evolve(default, code=code, classifier=self)


def test_backtest_checks_a_firms_own_classifier(sample_split: CalibrationHoldout,
                                                plugin_manager: Any) -> None:
    result = backtest(sample_split, classifier=_FirmClassifier())
    assert result.classifier == "_FirmClassifier"
    rate = result.returned_by_stage()
    assert rate["stability"] > rate["exploration"]
    assert result.stages.customers[LifecycleStage.DECLINE.order] == 0
    assert np.isnan(result.stages.returned[LifecycleStage.DECLINE.order])
    with pytest.raises(crmcore.DataError, match="CalibrationHoldout"):
        backtest(sample_split.calibration)  # type: ignore[arg-type]


# -- simulated customers with known dropout times ---------------------------------------------


def _simulated(seed: int = 3, n: int = 4000) -> tuple[CalibrationHoldout, pd.Series]:
    """Pareto/NBD customers: first purchase in the first half year, then Poisson purchases at
    a gamma-distributed rate until an exponential lifetime ends; two years of days."""
    rng = np.random.default_rng(seed)
    start = rng.uniform(0, 182, size=n)
    rate = rng.gamma(0.8, 1 / 20.0, size=n)  # purchases a day, mean one every 25 days
    death = start + rng.exponential(300.0, size=n)
    end = 730.0
    ids, days = [np.arange(n)], [start]
    for k in range(n):
        t, stop = start[k], min(death[k], end)
        times = []
        while True:
            t += rng.exponential(1 / rate[k])
            if t >= stop:
                break
            times.append(t)
        ids.append(np.full(len(times), k))
        days.append(np.array(times))
    day = np.floor(np.concatenate(days)).astype(np.int64)
    frame = pd.DataFrame({
        "customer_id": np.concatenate(ids),
        "at": np.datetime64("2020-01-01") + day.astype("timedelta64[D]"),
        "amount": 20.0 + rng.gamma(2.0, 10.0, size=len(day)),
    })
    base = CustomerBase.from_transactions(frame, monetary_value="amount", freq="D",
                                          time_unit="W", observation_end="2021-12-30")
    split = base.calibration_holdout("2020-12-31")
    dead = pd.Series(death < 365.0, index=np.arange(n))
    return split, dead


def test_simulated_stages_rank_the_holdout_and_find_the_dead() -> None:
    split, dead = _simulated()
    result = backtest(split)
    rate = result.returned_by_stage()
    assert max(rate["formation"], rate["stability"]) > rate["decline"]
    assert rate["decline"] > rate["terminated"]
    assert rate["exploration"] > rate["terminated"]
    assert rate["terminated"] < 0.7 * result.returned
    # the known truth: terminated customers had mostly dropped out by the split
    truly_dead = dead.loc[split.calibration.customer_id].to_numpy()
    code = result.stage_result.code
    ended = code == LifecycleStage.TERMINATED.order
    assert truly_dead[ended].mean() > 0.75
    assert truly_dead[ended].mean() > 2 * truly_dead[~ended].mean()
    assert result.roc_auc is not None
    assert result.roc_auc > 0.75


# -- the docs page shows the numbers computed here ---------------------------------------------


def _docs_table(name: str) -> list[list[str]]:
    text = DOCS.read_text(encoding="utf-8")
    match = re.search(rf"<!-- backtest:{name} -->\n(.*?)\n<!-- /backtest -->", text,
                      re.DOTALL)
    assert match, f"no backtest table {name!r} in {DOCS}"
    rows = [line.strip().strip("|").split("|") for line in match.group(1).splitlines()]
    return [[cell.strip() for cell in row] for row in rows[2:]]


def docs_rows(result: StageBacktest) -> list[list[str]]:
    """The stage table as the docs page prints it."""
    rows = []
    for label, customers, returned, purchases, spend in zip(
            result.stages.label, result.stages.customers, result.stages.returned,
            result.stages.mean_purchases, result.stages.mean_spend, strict=True):
        rows.append([str(label), f"{customers:,}", f"{returned:.1%}", f"{purchases:.2f}",
                     f"{spend:.2f}"])
    rows.append(["all customers", f"{result.customers:,}", f"{result.returned:.1%}",
                 f"{result.mean_purchases:.2f}", f"{result.mean_spend:.2f}"])
    return rows


def test_docs_tables_match_the_backtest(sample_backtest: StageBacktest,
                                        master_backtest: StageBacktest) -> None:
    assert _docs_table("sample") == docs_rows(sample_backtest)
    assert _docs_table("master") == docs_rows(master_backtest)
    text = DOCS.read_text(encoding="utf-8")
    for name, result in (("sample", sample_backtest), ("master", master_backtest)):
        assert result.roc_auc is not None
        assert f"<!-- auc:{name} -->{result.roc_auc:.3f}" in text
