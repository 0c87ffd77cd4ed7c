"""``crmcore.score`` on CDNOW, checked against the models' own outputs and lifetimes."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pluggy
import pytest

import crmcore
import crmcore.datasets
import crmcore.testing
from crmcore.value import (
    BGNBD,
    GammaGamma,
    PotentialInputs,
    WalletReferralPotential,
    historical_value,
    lifetime_value,
)

# CDNOW's 39-week calibration (Fader, Hardie & Lee 2005), weeks; 30% margin, 0.2% a week.
MARGIN = 0.3
RATE = 0.002
HORIZON = 52.0


@pytest.fixture(scope="module")
def base() -> crmcore.CustomerBase:
    return crmcore.datasets.load_cdnow_calibration().calibration


@pytest.fixture(scope="module")
def models(base: crmcore.CustomerBase) -> tuple[BGNBD, GammaGamma]:
    return BGNBD().fit(base), GammaGamma().fit(base)


@pytest.fixture(scope="module")
def scores(base: crmcore.CustomerBase) -> crmcore.Scores:
    return crmcore.score(base, margin=MARGIN, discount_rate=RATE, time_unit="W",
                         horizon=HORIZON)


def test_cdnow_value_parts_are_finite(scores: crmcore.Scores) -> None:
    assert len(scores) == 2357
    for name in ("historical_value", "current_value", "clv", "p_alive", "expected_spend"):
        assert np.all(np.isfinite(getattr(scores, name))), name
    assert scores.expected_purchases is not None
    assert np.all(np.isfinite(scores.expected_purchases))
    assert np.all((scores.p_alive >= 0) & (scores.p_alive <= 1))
    assert np.all(scores.current_value >= 0)
    # CDNOW holds no wallet or referral data: potential value is NaN, and says why
    assert np.isnan(scores.potential_value).all()
    assert set(scores.potential_reason.tolist()) == {"no share-of-wallet or referral data given"}
    assert any("no potential value" in note for note in scores.notes)
    assert scores.model == "BGNBD + GammaGamma"


def test_cdnow_potential_is_finite_when_the_data_allow(base: crmcore.CustomerBase) -> None:
    wallet = 2.0 * np.asarray(base.total_spend) + 10.0
    result = crmcore.score(
        base, margin=MARGIN, discount_rate=RATE, time_unit="W", horizon=HORIZON,
        potential_inputs=PotentialInputs(wallet=wallet, referrals=np.zeros(len(base)),
                                         referral_value=50.0),
        lifecycle_model=False, loyalty_model=False)
    assert np.all(np.isfinite(result.potential_value))
    expected = MARGIN * (wallet - np.asarray(base.total_spend))
    assert np.allclose(result.potential_value, expected)
    assert np.allclose(result.drivers.cross_buying, expected)
    assert np.all(result.drivers.referral == 0.0)


def test_cross_checked_against_the_models(scores: crmcore.Scores, base: crmcore.CustomerBase,
                                          models: tuple[BGNBD, GammaGamma]) -> None:
    bgnbd, gamma_gamma = models
    assert np.allclose(scores.p_alive, bgnbd.p_alive(base), rtol=1e-10)
    assert scores.expected_purchases is not None
    assert np.allclose(scores.expected_purchases, bgnbd.expected_purchases(HORIZON, base),
                       rtol=1e-10)
    assert np.allclose(scores.expected_spend, gamma_gamma.expected_spend(base), rtol=1e-10)
    clv = lifetime_value(bgnbd, gamma_gamma, base, margin=MARGIN, discount_rate=RATE,
                         time_unit="W", horizon=HORIZON)
    assert np.allclose(scores.current_value, clv.clv, rtol=1e-10)
    assert np.array_equal(scores.clv, scores.current_value)
    assert np.allclose(scores.historical_value,
                       historical_value(base, margin=MARGIN, discount_rate=RATE))


def test_against_lifetimes(base: crmcore.CustomerBase) -> None:
    lifetimes = pytest.importorskip("lifetimes")
    f, r, t, m = (pd.Series(np.asarray(a, dtype=np.float64)) for a in (
        base.frequency, base.recency, base.T, base.monetary_value))
    bgf = lifetimes.BetaGeoFitter().fit(f, r, t)
    repeat = f > 0
    ggf = lifetimes.GammaGammaFitter().fit(f[repeat], m[repeat])
    # lifetimes' CLV: 12 "months" of 4.345 weeks, 1% a month, no margin (freq="W").
    expected = ggf.customer_lifetime_value(bgf, f, r, t, m, time=12, discount_rate=0.01,
                                           freq="W").to_numpy()
    weekly = 1.01 ** (1 / 4.345) - 1
    ours = crmcore.score(base, margin=1.0, discount_rate=weekly, time_unit="W",
                         horizon=12 * 4.345, step=4.345, lifecycle_model=False,
                         loyalty_model=False)
    assert np.allclose(ours.clv, expected, rtol=1e-4)
    assert np.allclose(ours.p_alive, bgf.conditional_probability_alive(f, r, t), rtol=1e-4)
    assert ours.expected_purchases is not None
    assert np.allclose(
        ours.expected_purchases,
        bgf.conditional_expected_number_of_purchases_up_to_time(12 * 4.345, f, r, t),
        rtol=1e-4)


def test_fitted_models_are_used_as_given(base: crmcore.CustomerBase,
                                         models: tuple[BGNBD, GammaGamma],
                                         scores: crmcore.Scores) -> None:
    bgnbd, gamma_gamma = models
    before = bgnbd.params_
    given = crmcore.score(base, value_model=bgnbd, spend_model=gamma_gamma, margin=MARGIN,
                          discount_rate=RATE, time_unit="W", horizon=HORIZON,
                          lifecycle_model=False, loyalty_model=False)
    assert bgnbd.params_ == before
    assert np.allclose(given.current_value, scores.current_value, rtol=1e-10)
    assert given.stage is None
    assert given.loyalty is None


def test_models_by_name_and_unfitted_objects(base: crmcore.CustomerBase,
                                             scores: crmcore.Scores) -> None:
    named = crmcore.score(base, value_model="bgnbd", spend_model="gamma-gamma", margin=MARGIN,
                          discount_rate=RATE, time_unit="W", horizon=HORIZON,
                          lifecycle_model=False, loyalty_model=False)
    unfitted = crmcore.score(base, value_model=BGNBD(), spend_model=GammaGamma(),
                             margin=MARGIN, discount_rate=RATE, time_unit="W",
                             horizon=HORIZON, lifecycle_model=False, loyalty_model=False)
    assert np.allclose(named.current_value, scores.current_value, rtol=1e-10)
    assert np.allclose(unfitted.current_value, scores.current_value, rtol=1e-10)
    with pytest.raises(crmcore.UnknownModelError, match="no value model named 'nope'"):
        crmcore.score(base, value_model="nope", margin=MARGIN, discount_rate=RATE,
                      time_unit="W", horizon=HORIZON)


def test_spend_as_a_number(base: crmcore.CustomerBase) -> None:
    result = crmcore.score(base, spend_model=20.0, margin=MARGIN, discount_rate=RATE,
                           time_unit="W", horizon=HORIZON, lifecycle_model=False,
                           loyalty_model=False)
    assert np.all(result.expected_spend == 20.0)
    assert result.expected_purchases is not None
    assert np.all(result.current_value <= MARGIN * 20.0 * result.expected_purchases + 1e-9)


def test_lifetime_horizon(base: crmcore.CustomerBase, scores: crmcore.Scores) -> None:
    lifetime = crmcore.score(base, margin=MARGIN, discount_rate=RATE, time_unit="W",
                             horizon=None, lifecycle_model=False, loyalty_model=False)
    assert lifetime.expected_purchases is None
    assert lifetime.horizon is None
    assert np.all(lifetime.current_value >= scores.current_value - 1e-9)
    assert lifetime.value_score(1).expected_purchases is None


def test_stage_and_loyalty_present(scores: crmcore.Scores, base: crmcore.CustomerBase) -> None:
    from crmcore.lifecycle import classify

    assert scores.stage is not None
    assert scores.loyalty is not None
    expected = classify(base, value_model=BGNBD().fit(base))
    assert scores.stage.tolist() == [None if s is None else s.value for s in expected.stage]
    assert np.all((scores.loyalty[~np.isnan(scores.loyalty)] >= 0)
                  & (scores.loyalty[~np.isnan(scores.loyalty)] <= 100))


def test_value_score_and_iteration(scores: crmcore.Scores) -> None:
    one = scores.value_score(1)
    assert isinstance(one, crmcore.ValueScore)
    assert one.customer_id == 1
    assert one.historical_value == pytest.approx(scores.historical_value[0])
    assert one.current_value == pytest.approx(scores.current_value[0])
    assert one.potential_value is None  # NaN becomes None
    assert one.time_unit == "W"
    assert one.horizon == HORIZON
    assert scores.stage is not None
    assert scores.loyalty is not None
    assert one.stage == scores.stage[0]
    assert one.loyalty == pytest.approx(scores.loyalty[0])
    every = list(scores)
    assert len(every) == len(scores)
    assert every[10] == scores.value_score(int(scores.customer_id[10]))
    with pytest.raises(crmcore.DataError, match="customer 999999 is not in the scores"):
        scores.value_score(999999)
    with pytest.raises(crmcore.DataError, match="customer '1' is not in the scores"):
        scores.value_score("1")
    with pytest.raises(crmcore.DataError, match="customer 0 is not in the scores"):
        scores.value_score(0)


def test_frames_and_summary(scores: crmcore.Scores) -> None:
    frame = scores.to_frame()
    assert len(frame) == 2357
    for column in ("customer_id", "historical_value", "current_value", "potential_value",
                   "clv", "p_alive", "expected_purchases", "initial_margin", "purchase_rate",
                   "tenure", "cross_buying", "referral", "stage", "loyalty"):
        assert column in frame.columns, column
    polars_frame = scores.to_frame("polars")
    assert polars_frame.shape == frame.shape
    summary = scores.summary()
    assert summary.n_customers == 2357
    assert summary.total_current_value == pytest.approx(float(np.sum(scores.current_value)))
    assert summary.total_historical_value == pytest.approx(
        float(np.sum(scores.historical_value)))
    assert summary.total_potential_value is None
    assert summary.n_potential_estimated == 0
    assert summary.stage_counts is not None
    assert sum(summary.stage_counts.values()) == 2357
    assert summary.top_fifth_current_share is not None
    assert 0.2 <= summary.top_fifth_current_share <= 1.0


def test_summary_base_scores_without_history() -> None:
    summary_base = crmcore.datasets.load_cdnow_summary()
    result = crmcore.score(summary_base, margin=MARGIN, discount_rate=RATE, time_unit="W",
                           horizon=HORIZON)
    assert np.isnan(result.historical_value).all()
    assert np.all(np.isfinite(result.current_value))
    assert result.stage is None
    assert result.loyalty is None
    assert any("no historical value" in note for note in result.notes)
    assert any("no lifecycle stage" in note for note in result.notes)
    assert result.summary().total_historical_value is None
    assert result.value_score(int(result.customer_id[0])).historical_value is None


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [({"time_unit": "fortnight"}, crmcore.TimeUnitError, "time_unit='fortnight'"),
     ({"discount_rate": "0.1"}, crmcore.InvalidValueError, "discount_rate must be a number"),
     ({"margin": [0.1, 0.2]}, crmcore.InvalidValueError, r"margin has shape \(2,\)"),
     ({"horizon": -1.0}, crmcore.InvalidValueError, "horizon"),
     ({"time_unit": "M"}, crmcore.TimeUnitError, "cannot express"),
     ({"horizon": None, "discount_rate": 0.0}, crmcore.InvalidValueError,
      "discount_rate must be > 0")],
)
def test_bad_input(base: crmcore.CustomerBase, kwargs: dict[str, Any],
                   error: type[Exception], message: str) -> None:
    arguments: dict[str, Any] = {"margin": MARGIN, "discount_rate": RATE, "time_unit": "W",
                                 "horizon": HORIZON, "lifecycle_model": False,
                                 "loyalty_model": False, **kwargs}
    with pytest.raises(error, match=message):
        crmcore.score(base, **arguments)


class _Spy:
    """A plugin that counts how often the registry asks it for models."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {"value": 0, "spend": 0}

    @crmcore.hookimpl
    def crmcore_value_models(self) -> Mapping[str, Any]:
        self.calls["value"] += 1
        return {}

    @crmcore.hookimpl
    def crmcore_spend_models(self) -> Mapping[str, Any]:
        self.calls["spend"] += 1
        return {}


@pytest.mark.parametrize("n", [300, 2357])
def test_hooks_are_called_once_per_batch(base: crmcore.CustomerBase, n: int) -> None:
    spy = _Spy()
    manager: pluggy.PluginManager = crmcore.get_plugin_manager(load_entry_points=False,
                                                               plugins=[spy])
    crmcore.score(base.take(np.arange(n)), margin=MARGIN, discount_rate=RATE, time_unit="W",
                  horizon=HORIZON, plugin_manager=manager, lifecycle_model=False,
                  loyalty_model=False)
    assert spy.calls == {"value": 1, "spend": 1}


def test_custom_potential_model(base: crmcore.CustomerBase) -> None:
    class FlatPotential:
        name = "flat"

        def estimate(self, base: crmcore.CustomerBase, *, margin: Any,
                     inputs: PotentialInputs) -> Any:
            return WalletReferralPotential().estimate(
                base, margin=margin, inputs=PotentialInputs(referrals=np.ones(len(base)),
                                                            referral_value=7.0))

    result = crmcore.score(base, potential_model=FlatPotential(), margin=MARGIN,  # type: ignore[arg-type]
                           discount_rate=RATE, time_unit="W", horizon=HORIZON,
                           lifecycle_model=False, loyalty_model=False)
    assert np.all(result.potential_value == 7.0)
    assert not any("no potential value" in note for note in result.notes)
    assert math.isclose(result.value_score(1).potential_value or 0.0, 7.0)


def test_potential_model_by_name_from_a_plugin(base: crmcore.CustomerBase) -> None:
    class ReferralsOnly:
        name = "referrals-only"

        def __init__(self, referral_value: float = 3.0) -> None:
            self.referral_value = referral_value

        def estimate(self, base: crmcore.CustomerBase, *, margin: Any,
                     inputs: PotentialInputs) -> Any:
            return WalletReferralPotential().estimate(
                base, margin=margin, inputs=PotentialInputs(
                    referrals=np.full(len(base), 2.0), referral_value=self.referral_value))

    class FirmPlugin:
        @crmcore.hookimpl
        def crmcore_potential_models(self) -> Mapping[str, Any]:
            return {"referrals-only": ReferralsOnly}

    manager = crmcore.testing.plugin_manager_with(FirmPlugin())
    assert "referrals-only" in crmcore.available_models("potential", plugin_manager=manager)
    result = crmcore.score(base, potential_model="referrals-only", margin=MARGIN,
                           discount_rate=RATE, time_unit="W", horizon=HORIZON,
                           lifecycle_model=False, loyalty_model=False, plugin_manager=manager)
    assert np.all(result.potential_value == 6.0)


def test_non_finite_model_output_is_refused(base: crmcore.CustomerBase,
                                            models: tuple[BGNBD, GammaGamma]) -> None:
    bgnbd, _ = models

    class Broken:
        time_unit_ = "W"

        @property
        def params_(self) -> dict[str, float]:
            return {"r": 1.0}

        def p_alive(self, *args: Any) -> Any:
            return bgnbd.p_alive(*args)

        def expected_purchases(self, t: Any, frequency: Any, recency: Any, T: Any) -> Any:
            values = np.array(bgnbd.expected_purchases(t, frequency, recency, T))
            values[np.asarray(frequency) == base.frequency.max()] = np.nan
            return values

    # The model fails for the customer(s) with the most repeat purchases; they are named.
    rows = np.flatnonzero(base.frequency == base.frequency.max())
    expected = crmcore._errors.describe_rows(rows.tolist())
    with pytest.raises(crmcore.ConvergenceError,
                       match=f"non-finite current_value at {expected}"):
        crmcore.score(base, value_model=Broken(), margin=MARGIN, discount_rate=RATE,  # type: ignore[arg-type]
                      time_unit="W", horizon=HORIZON, lifecycle_model=False,
                      loyalty_model=False)


# -- spend models fitted where they apply; churn risk (issue 12) ------------------------------


def _load_cdnow_master() -> crmcore.CustomerBase:
    """The full CDNOW master file (it ships inside lifetimes; skips the test without it)."""
    pytest.importorskip("lifetimes")
    return crmcore.datasets.load_cdnow_master()


def test_score_survives_the_full_cdnow_file() -> None:
    base = _load_cdnow_master()
    apart = (base.frequency > 0) & (base.monetary_value == 0)
    assert apart.sum() >= 1  # a repeat buyer whose purchases cost $0: Gamma-Gamma cannot fit
    with pytest.raises(crmcore.InvalidValueError, match="monetary_value is 0"):
        GammaGamma().fit(base)
    result = crmcore.score(base, margin=MARGIN, discount_rate=RATE, time_unit="W",
                           horizon=HORIZON)
    assert len(result) == 23570
    for name in ("clv", "p_alive", "expected_spend", "current_value", "historical_value"):
        assert np.all(np.isfinite(getattr(result, name))), name
    assert result.churn_risk is not None
    assert np.all((result.churn_risk >= 0) & (result.churn_risk <= 1))
    note = next(n for n in result.notes if n.startswith("spend:"))
    assert f"{int(apart.sum())} customer(s)" in note
    assert "mean spend of 0" in note
    assert result.model == "BGNBD + GammaGamma"
    # Gamma-Gamma fitted on the other customers, those apart at the population mean spend
    kept = base.take(np.flatnonzero(~apart))
    reference = GammaGamma().fit(kept)
    np.testing.assert_allclose(result.expected_spend[apart], reference.mean_spend_, rtol=1e-6)
    own = reference.expected_spend(base.frequency[~apart], base.monetary_value[~apart])
    np.testing.assert_allclose(result.expected_spend[~apart], own, rtol=1e-6)


def test_churn_risk_column_is_the_probability_of_no_purchase(
        base: crmcore.CustomerBase, scores: crmcore.Scores,
        models: tuple[BGNBD, GammaGamma]) -> None:
    bgnbd, _ = models
    assert scores.churn_risk is not None
    assert scores.churn_horizon == HORIZON
    np.testing.assert_allclose(
        scores.churn_risk, bgnbd.conditional_probability_of_purchases(0, HORIZON, base),
        rtol=1e-6)
    frame = scores.to_frame()
    assert {"churn_risk", "p_alive"} <= set(frame.columns)
    # the BG/NBD artefact the column avoids: P(alive) is 1 for every one-time buyer
    assert np.all(scores.p_alive[base.frequency == 0] == 1.0)
    assert np.all(scores.churn_risk[base.frequency == 0] < 1.0)
    lifetime = crmcore.score(base, margin=MARGIN, discount_rate=RATE, time_unit="W",
                             horizon=None)
    assert lifetime.churn_horizon == 52.0
    assert any("no purchase within one year" in note for note in lifetime.notes)
