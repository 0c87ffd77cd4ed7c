"""Covariate fits whose likelihood has no maximum inside the parameter space.

On CLVTools' apparel data the BG/NBD with Gender and Channel on both processes rises as
``a, b -> infinity`` (one dropout probability) for the customers with Channel = 0 only: the
coefficient ``life.Channel -> -infinity`` keeps ``a_i, b_i`` finite for those with
Channel = 1. The limit is fitted with ``a`` held at the boundary and the coefficient free,
and must be at least as likely as the optimiser's end point (never a "limit" 9,000 nats
below it), checked here against the limit model's likelihood written out independently.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.special import betaln, digamma, gammaln

import crmcore
import crmcore.value._bgnbd_cov as bgnbd_cov
import crmcore.value._boundary as boundary
import crmcore.value._likelihood as likelihood
from crmcore import CustomerBase
from crmcore.value import (
    BGNBD,
    MBGNBD,
    ParetoNBD,
    simulate_bgnbd,
    simulate_mbgnbd,
    simulate_pareto_nbd,
)
from crmcore.value._fit_state import _AS_LIKELY

DATA = Path(__file__).resolve().parents[1] / "data"


def _fit_quietly(model: Any, *args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", crmcore.ConvergenceWarning)
        return model.fit(*args, **kwargs)


@pytest.fixture(scope="module")
def limit_fit(apparel: CustomerBase, static_cov: pd.DataFrame) -> BGNBD:
    model: BGNBD = _fit_quietly(BGNBD(), apparel, covariates=static_cov, customer_id="Id")
    return model


def _bgnbd_ll(r: float, alpha: np.ndarray, a: np.ndarray | None, b: np.ndarray | None,
              x: np.ndarray, tx: np.ndarray, t_obs: np.ndarray, p: float | None = None,
              ) -> np.ndarray:
    """FHL (2005) eq. 6 per customer; with ``p`` the limit of one dropout probability p
    for everyone (a, b -> infinity, a/(a+b) = p): Beta(a, b) replaced by a point mass."""
    head = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    if p is None:
        assert a is not None
        assert b is not None
        stay = betaln(a, b + x) - betaln(a, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            drop = np.where(x > 0, betaln(a + 1, np.maximum(b + x - 1, 1e-300))
                            - betaln(a, b), -np.inf)
    else:
        stay = x * np.log1p(-p)
        with np.errstate(divide="ignore"):
            drop = np.where(x > 0, np.log(p) + (x - 1) * np.log1p(-p), -np.inf)
    return np.asarray(head + np.logaddexp(stay - (r + x) * np.log(alpha + t_obs),
                                          drop - (r + x) * np.log(alpha + tx)))


def test_apparel_bgnbd_with_covariates_on_both_processes_fits_the_group_limit(
        limit_fit: BGNBD, apparel: CustomerBase, static_cov: pd.DataFrame) -> None:
    model = limit_fit
    # a covariate model is at least as likely as the models it nests (zero coefficients,
    # or no life covariates): -5857.02 and -5841.17
    plain = BGNBD().fit(apparel)
    purchases_only = BGNBD().fit(apparel, covariates=static_cov, customer_id="Id", life=[])
    assert model.log_likelihood_ > purchases_only.log_likelihood_ > plain.log_likelihood_
    diagnostics = model.optimizer_result_
    end = diagnostics["end_point"]
    theta_end = np.log(np.array([end[n] for n in model.param_names]))
    assert model.boundary_ is not None
    boundary_ = model.boundary_
    assert boundary_["runaway"]["a"] == boundary_["runaway"]["b"] == "infinity"
    assert boundary_["runaway"]["life.Channel"] == "0"
    # a is held; the coefficient is not (it carries the Channel = 1 customers' a_i, b_i)
    assert "a" in boundary_["pinned"]
    assert "life.Channel" not in boundary_["pinned"]
    assert boundary_["absorbing"] == ["life.Channel"]
    assert np.isnan(model.standard_errors_["a"])
    groups = {g["covariates"]["Channel"]: g for g in boundary_["groups"]}
    assert groups[0.0]["customers"] == 372
    assert groups[1.0]["customers"] == 228
    assert {w["to"] for w in groups[0.0]["parameters"].values()} == {"infinity"}
    assert {w["to"] for w in groups[1.0]["parameters"].values()} == {"finite"}
    assert any("Channel = 0: a_i, b_i -> infinity" in text for text in boundary_["limits"])
    # never below the optimiser's own end point (the bug: -14781 against -5840)
    design = model.covariates_
    assert design is not None
    life, trans = model._matrices(design, static_cov, np.asarray(apparel.customer_id))
    x = np.asarray(apparel.frequency, dtype=float)
    tx, t_obs = np.asarray(apparel.recency), np.asarray(apparel.T)
    end_ll = float(model._row_terms(theta_end, (x, tx, t_obs, *life.T, *trans.T),
                                    gradient=False)[0].sum())
    assert model.log_likelihood_ >= end_ll - _AS_LIKELY * len(x)
    # the limit model written out: Channel = 0 customers share one dropout probability
    # p = a/(a+b), Channel = 1 customers are BG/NBD customers at their own a_i, b_i
    par = model.params_
    alpha_i = par["alpha"] * np.exp(-(trans @ np.array([par["trans.Gender"],
                                                        par["trans.Channel"]])))
    scale = np.exp(life @ np.array([par["life.Gender"], par["life.Channel"]]))
    a_i, b_i = par["a"] * scale, par["b"] * scale
    channel = life[:, 1] == 1.0
    p = par["a"] / (par["a"] + par["b"])
    ll = np.where(channel,
                  _bgnbd_ll(par["r"], alpha_i, a_i, b_i, x, tx, t_obs),
                  _bgnbd_ll(par["r"], alpha_i, None, None, x, tx, t_obs, p=p))
    assert float(ll.sum()) == pytest.approx(model.log_likelihood_, abs=1e-6)
    assert 0.4 < a_i[channel].min() < a_i[channel].max() < 2.0


def test_the_limit_predicts_and_round_trips(limit_fit: BGNBD, apparel: CustomerBase,
                                            static_cov: pd.DataFrame) -> None:
    model = limit_fit
    alive = model.p_alive(apparel, covariates=static_cov, customer_id="Id")
    expected = model.expected_purchases(52.0, apparel, covariates=static_cov)
    assert np.all((alive >= 0) & (alive <= 1))
    assert np.all(np.isfinite(expected))
    loaded = BGNBD.from_json(model.to_json())
    assert loaded.boundary_ == model.boundary_
    assert loaded.standard_errors_ == pytest.approx(model.standard_errors_, nan_ok=True)
    np.testing.assert_allclose(
        loaded.expected_purchases(52.0, apparel, covariates=static_cov), expected, rtol=1e-12)


def test_the_warning_names_the_customers_at_the_limit_and_the_remedy(
        apparel: CustomerBase, static_cov: pd.DataFrame) -> None:
    with pytest.warns(crmcore.ConvergenceWarning) as record:
        BGNBD().fit(apparel, covariates=static_cov, customer_id="Id")
    text = " ".join(str(w.message) for w in record)
    assert "the 372 customers with Channel = 0: a_i, b_i -> infinity" in text
    assert "the 228 customers with Channel = 1: finite" in text
    assert "life.Channel" in text
    assert "no effect size" in text
    assert "reg_lambdas" in text


@pytest.mark.parametrize(("remedy", "expected"), [
    ({"reg_lambdas": {"life": 0.01, "trans": 0.01}}, -5841.587),
    ({"life": ["Gender"]}, -5840.991),
    ({"constrain": ["Channel"]}, -5841.572),
])
def test_the_remedies_the_warning_names_have_a_maximum_inside(
        remedy: dict[str, Any], expected: float, apparel: CustomerBase,
        static_cov: pd.DataFrame) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", crmcore.ConvergenceWarning)
        model = BGNBD().fit(apparel, covariates=static_cov, customer_id="Id", **remedy)
    assert model.boundary_ is None
    assert all(np.isfinite(v) for v in model.standard_errors_.values())
    # between the model without covariates and the limit fitted with all of them
    assert -5857.02 < model.log_likelihood_ < -5839.86
    assert model.log_likelihood_ == pytest.approx(expected, abs=2e-3)


@pytest.mark.parametrize(("cls", "nested", "published"),
                         [(MBGNBD, -5848.05, None), (ParetoNBD, -5848.10, -5821.0627)])
def test_mbgnbd_and_pareto_nbd_with_covariates_on_apparel_are_inside(
        cls: type[MBGNBD | ParetoNBD], nested: float, published: float | None,
        apparel: CustomerBase, static_cov: pd.DataFrame) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", crmcore.ConvergenceWarning)
        model = cls().fit(apparel, covariates=static_cov, customer_id="Id")
    assert model.boundary_ is None
    assert model.log_likelihood_ > nested
    if published is not None:  # CLVTools' published value
        assert model.log_likelihood_ == pytest.approx(published, abs=1e-3)


def _two_groups(seed: int, flip: bool, simulate: Any = simulate_bgnbd,
                ) -> tuple[CustomerBase, pd.DataFrame]:
    """1,500 (M)BG/NBD customers with Beta(1.5, 8.5) dropout and 1,500 with one dropout
    probability 0.15 (the same mean); ``g`` marks the second group (``flip``: the first)."""
    heterogeneous = simulate(1500, r=0.8, alpha=10.0, a=1.5, b=8.5, T=52.0, seed=seed)
    homogeneous = simulate(1500, r=0.8, alpha=10.0, a=1e7, b=1e7 * 0.85 / 0.15, T=52.0,
                           seed=seed + 1000)
    x, tx, t_obs = (np.concatenate(pair)
                    for pair in zip(heterogeneous, homogeneous, strict=True))
    n = len(x)
    base = CustomerBase.from_summary(np.arange(n), x, tx, t_obs, np.full(n, 10.0),
                                     time_unit="W")
    g = np.r_[np.zeros(1500), np.ones(1500)]
    return base, pd.DataFrame({"id": np.arange(n), "g": 1.0 - g if flip else g})


@pytest.mark.parametrize(("cls", "simulate"), [(BGNBD, simulate_bgnbd),
                                               (MBGNBD, simulate_mbgnbd)])
def test_either_coding_of_the_group_gives_the_same_limit(cls: type[BGNBD],
                                                         simulate: Any) -> None:
    # g = 1 marks the customers at the limit (life.g -> +infinity, held at the boundary) or
    # those kept finite (a, b held, life.g -> -infinity carries them): the same model
    fits = {}
    for flip in (False, True):
        base, cov = _two_groups(1, flip, simulate)
        with pytest.warns(crmcore.ConvergenceWarning, match="i.e. one dropout probability"):
            fits[flip] = cls().fit(base, covariates=cov, customer_id="id", trans=[])
    held_g, held_a = fits[False], fits[True]
    assert held_g.boundary_ is not None
    assert held_a.boundary_ is not None
    assert "life.g" in held_g.boundary_["pinned"]
    assert "a" in held_a.boundary_["pinned"]
    assert held_a.boundary_["absorbing"] == ["life.g"]
    assert held_g.log_likelihood_ == pytest.approx(held_a.log_likelihood_, abs=1e-4)
    finite = held_g.params_["a"], held_g.params_["b"]
    carried = np.exp(held_a.params_["life.g"])
    np.testing.assert_allclose((held_a.params_["a"] * carried, held_a.params_["b"] * carried),
                               finite, rtol=1e-4)
    assert 1.0 < finite[0] < 3.0  # the heterogeneous group's Beta(1.5, 8.5), recovered
    for model in fits.values():
        groups = model.boundary_["groups"] if model.boundary_ else []
        at_limit = [g["customers"] for g in groups
                    if g["parameters"]["a"]["to"] == "infinity"]
        assert at_limit == [1500.0]
    base, cov = _two_groups(1, False, simulate)
    _, cov_flipped = _two_groups(1, True, simulate)
    np.testing.assert_allclose(held_g.p_alive(base, covariates=cov),
                               held_a.p_alive(base, covariates=cov_flipped), rtol=1e-5)


# -- the guard: no boundary fit below the optimiser's end point -------------------------------


@pytest.fixture
def end_of_apparel_fit(monkeypatch: pytest.MonkeyPatch, apparel: CustomerBase,
                       static_cov: pd.DataFrame) -> dict[str, Any]:
    """What the optimiser hands to the boundary fits on the apparel BG/NBD."""
    seen: dict[str, Any] = {}
    settle = boundary.settle_runaway

    def spy(model: Any, theta: Any, information: Any, data: Any, w: Any, penalizer: float,
            n_obs: float, time_unit: Any, diagnostics: Any) -> Any:
        seen.update(model=model, design=model.covariates_, theta=theta.copy(), data=data,
                    w=w, n_obs=n_obs, time_unit=time_unit)
        return settle(model, theta, information, data, w, penalizer, n_obs, time_unit,
                      diagnostics)

    monkeypatch.setattr(likelihood, "settle_runaway", spy)
    _fit_quietly(BGNBD(), apparel, covariates=static_cov, customer_id="Id")
    return seen


def test_no_face_is_accepted_below_the_reference(end_of_apparel_fit: dict[str, Any]) -> None:
    seen = end_of_apparel_fit
    model, theta, data, w, n_obs = (seen[k] for k in ("model", "theta", "data", "w", "n_obs"))
    end_ll = -model._objective(theta, data, w, 0.0, n_obs)[0] * n_obs
    diagnostics: dict[str, Any] = {}
    runaway = boundary.running_off(model, theta, boundary.information_at(
        model, theta, data, w, 0.0, n_obs))
    reached = boundary.best_boundary(model, runaway, theta, data, w, n_obs, None,
                                     diagnostics, at_least=end_ll)
    assert reached is not None
    assert reached.log_likelihood >= end_ll - _AS_LIKELY * n_obs
    # a reference above every face's likelihood: nothing is returned, the faces say why
    assert boundary.best_boundary(model, runaway, theta, data, w, n_obs, None, diagnostics,
                                  at_least=reached.log_likelihood + 1.0) is None
    faces = diagnostics["faces"]
    assert any(f.get("below_end_point") for f in faces)
    assert all(f["log_likelihood"] is None or f.get("below_end_point") for f in faces)


def _cancelling_row_terms(rows: np.ndarray, data: tuple[np.ndarray, ...], *, modified: bool,
                          gradient: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """The per-customer BG/NBD likelihood as first written (BG/NBD only): differences of
    ``betaln``, which lose their digits far out (a ~ 1e10), so faces there end anywhere."""
    x, tx, t_obs = data[:3]
    r, alpha, a, b = rows.T
    has_second = x > 0
    b_first = b + x
    b_second = np.where(has_second, b_first - 1.0, 1.0)
    log_t = np.log(alpha + t_obs)
    log_gap = np.log(alpha + tx) - log_t
    rx = r + x
    first = betaln(a, b_first) - betaln(a, b)
    d = np.where(has_second, betaln(a + 1.0, b_second) - betaln(a, b_first), -np.inf) - (
        rx * log_gap)
    e = np.exp(-np.abs(d))
    ll = (gammaln(rx) - gammaln(r) + r * np.log(alpha) + first - rx * log_t
          + np.maximum(d, 0.0) + np.log1p(e))
    if not gradient:
        return ll, None
    w2 = np.where(d > 0, 1.0, e) / (1.0 + e)
    psi_abx = digamma(a + b + x)
    d_r = digamma(rx) - digamma(r) + np.log(alpha) - log_t - w2 * log_gap
    d_alpha = r / alpha - rx * ((1.0 - w2) / (alpha + t_obs) + w2 / (alpha + tx))
    d_a = digamma(a + b) - psi_abx + w2 * (digamma(a + 1.0) - digamma(a))
    d_b = (digamma(a + b) - digamma(b) - psi_abx + (1.0 - w2) * digamma(b_first)
           + w2 * np.where(has_second, digamma(b_second), 0.0))
    return ll, np.column_stack([d_r, d_alpha, d_a, d_b])


def test_faces_that_fail_raise_rather_than_return_a_worse_model(
        monkeypatch: pytest.MonkeyPatch, apparel: CustomerBase,
        static_cov: pd.DataFrame) -> None:
    # The fit as it was: coefficients held at the boundary like model parameters, and a
    # likelihood that loses its digits far out. Every face then ends far below the end
    # point (-14781 against -5840); such a "limit" must not be returned.
    monkeypatch.setattr(boundary, "_absorbing_start", lambda *args: None)
    monkeypatch.setattr(bgnbd_cov, "bgnbd_row_terms", _cancelling_row_terms)
    with pytest.raises(crmcore.ConvergenceError, match="no limit model") as info:
        BGNBD().fit(apparel, covariates=static_cov, customer_id="Id")
    diagnostics = info.value.diagnostics
    assert {"runaway", "end_point", "faces", "end_log_likelihood"} <= diagnostics.keys()
    assert diagnostics["runaway"]["a"] == "infinity"
    below = [f["log_likelihood"] for f in diagnostics["faces"] if f.get("below_end_point")]
    assert below
    assert max(below) < diagnostics["end_log_likelihood"]
    assert "reg_lambdas" in str(info.value)
    # score says what to do instead
    with pytest.raises(crmcore.ConvergenceError) as scored:
        crmcore.score(apparel, margin=0.3, discount_rate=0.01, time_unit="W", horizon=52.0,
                      covariates=static_cov, customer_id="Id", lifecycle_model=False,
                      loyalty_model=False)
    assert any('value_model="pareto-nbd"' in note
               for note in getattr(scored.value, "__notes__", []))


def test_score_with_covariates_notes_the_group_limit(apparel: CustomerBase,
                                                     static_cov: pd.DataFrame) -> None:
    with pytest.warns(crmcore.ConvergenceWarning, match="Channel = 0"):
        scores = crmcore.score(apparel, margin=0.3, discount_rate=0.01, time_unit="W",
                               horizon=52.0, covariates=static_cov, customer_id="Id",
                               lifecycle_model=False, loyalty_model=False)
    assert np.all(np.isfinite(scores.clv))
    note = next(n for n in scores.notes if n.startswith("value model BGNBD"))
    assert "the 372 customers with Channel = 0: a_i, b_i -> infinity" in note
    assert "the 228 customers with Channel = 1: finite" in note


def test_limit_groups_by_covariate_values_or_by_where_customers_stand() -> None:
    # a = e^20 held far out and life.z = -18: a_i = e^(20 - 18 z)
    model = BGNBD.from_params(r=0.7, alpha=10.0, a=np.exp(20.0), b=np.exp(21.0),
                              customer_id="id", **{"life.z": -18.0})
    theta = np.log(model._state().params)
    n = 10
    core = (np.ones(n), np.full(n, 5.0), np.full(n, 10.0))
    binary = np.r_[np.zeros(6), np.ones(4)]
    groups = model._limit_groups(theta, (*core, binary), np.ones(n), ["life.z"])
    assert [(g["covariates"], g["customers"], g["parameters"]["a"]["to"],
             g["parameters"]["b"]["to"]) for g in groups] == [
        ({"z": 0.0}, 6.0, "infinity", "infinity"), ({"z": 1.0}, 4.0, "finite", "finite")]
    assert groups[1]["parameters"]["a"]["low"] == pytest.approx(np.exp(2.0))
    # a continuous covariate: customers grouped by where their a_i, b_i stand
    z = np.array([0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6, 1.9])
    # a_i beyond e^12 for z < 4/9, below e^-12 for z > 16/9
    groups = model._limit_groups(theta, (*core, z), np.ones(n), ["life.z"])
    states = {g["parameters"]["a"]["to"]: (g["customers"], g["covariates"]["z"])
              for g in groups}
    assert states == {"infinity": (3.0, [0.0, 0.4]), "finite": (6.0, [0.6, 1.6]),
                      "0": (1.0, [1.9, 1.9])}
    text = boundary.groups_text(groups, BGNBD._mixing_pairs)
    assert "the 3 customers with z from 0 to 0.4: a_i, b_i -> infinity, i.e. one" in text
    assert "the 1 customer with z = 1.9: a_i, b_i -> 0, i.e. the dropout" in text
    # a model without covariates has no groups
    assert BGNBD.from_params(r=0.7, alpha=10.0, a=1.0, b=2.0)._limit_groups(
        np.zeros(4), core, np.ones(n), ["a"]) == []


def test_pareto_nbd_group_without_dropout_is_held_at_the_limit() -> None:
    # 1,500 Pareto/NBD customers with Gamma(0.6, 30) dropout rates and 1,500 who (almost)
    # never drop out: life.g -> -infinity sends beta_i -> infinity for the second group only
    # (no dropout: the NBD model of purchases), the coefficient held at the boundary
    heterogeneous = simulate_pareto_nbd(1500, r=0.8, alpha=10.0, s=0.6, beta=30.0, T=52.0,
                                        seed=0)
    staying = simulate_pareto_nbd(1500, r=0.8, alpha=10.0, s=0.6, beta=3e9, T=52.0,
                                  seed=1000)
    x, tx, t_obs = (np.concatenate(pair) for pair in zip(heterogeneous, staying, strict=True))
    n = len(x)
    base = CustomerBase.from_summary(np.arange(n), x, tx, t_obs, np.full(n, 10.0),
                                     time_unit="W")
    g = np.r_[np.zeros(1500), np.ones(1500)]
    cov = pd.DataFrame({"id": np.arange(n), "g": g})
    with pytest.warns(crmcore.ConvergenceWarning, match="i.e. no customer drops out"):
        model = ParetoNBD().fit(base, covariates=cov, customer_id="id", trans=[])
    assert model.boundary_ is not None
    assert model.boundary_["pinned"] == ["life.g"]
    assert model.boundary_["absorbing"] == []
    groups = {grp["covariates"]["g"]: grp["parameters"]["beta"]["to"]
              for grp in model.boundary_["groups"]}
    assert groups == {0.0: "finite", 1.0: "infinity"}
    # the limit model written out: the first group a Pareto/NBD, the second the NBD
    par = model.params_
    plain = ParetoNBD.from_params(r=par["r"], alpha=par["alpha"], s=par["s"],
                                  beta=par["beta"])
    first = g == 0.0
    ll_first, _ = plain._log_likelihood_terms(
        plain._param_array(), (x[first], tx[first], t_obs[first]), gradient=False)
    r, alpha = par["r"], par["alpha"]
    rest = ~first
    ll_nbd = (gammaln(r + x[rest]) - gammaln(r) + r * np.log(alpha)
              - (r + x[rest]) * np.log(alpha + t_obs[rest]))
    assert float(ll_first.sum() + ll_nbd.sum()) == pytest.approx(model.log_likelihood_,
                                                                 abs=1e-5)

