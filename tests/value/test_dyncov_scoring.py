"""Covariate value models through the registry and ``crmcore.score`` (issue 16): the
time-varying Pareto/NBD by name, its DERT (covariates held beyond the frame), its P(no
purchase), and churn risk and lifecycle stage from each customer's own parameters with static
and time-varying covariates.

Independent references: the static Pareto/NBD at each customer's parameters (constant
covariates are its special case), adaptive quadrature (``scipy.integrate.quad``) of the DERT
integral on hand-built rate clocks, the likelihood ratio ``L(x, t_x, T+t) / L(x, t_x, T)``
for P(no purchase), and simulation.
"""

from __future__ import annotations

import io
import itertools
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import integrate

import crmcore
from crmcore import CustomerBase, DataError, InvalidValueError, protocols
from crmcore.testing import check_model_plugin
from crmcore.value import (
    ParetoNBD,
    ParetoNBDDynamic,
    simulate_pareto_nbd_dynamic,
    time_varying_lifetime_value,
)
from crmcore.value._pareto_dyncov import _read_paths

DATA = Path(__file__).resolve().parents[1] / "data"
STATIC = {"r": 1.8, "alpha": 90.0, "s": 0.6, "beta": 50.0, "life.Gender": -0.6,
          "life.Channel": 0.8, "trans.Gender": 0.3, "trans.Channel": 0.6}
SEASONAL = {"r": 0.9, "alpha": 8.0, "s": 0.8, "beta": 12.0, "life.season": 0.7,
            "life.gender": -0.4, "trans.season": 0.9, "trans.gender": 0.3}
DAY0 = np.datetime64("2020-01-05")


@pytest.fixture(scope="module")
def seasonal_fit(apparel: CustomerBase, dyncov: pd.DataFrame) -> ParetoNBDDynamic:
    # high season on the purchase process only: on the dropout process its coefficient is
    # not identified on these data (tests/value/test_pareto_dyncov.py)
    return ParetoNBDDynamic().fit(apparel, covariates=dyncov, customer_id="Id",
                                  datetime="Cov.Date", life=["Gender", "Channel"])


def _simulated(n: int, weeks: int, ahead: int, seed: int
               ) -> tuple[CustomerBase, pd.DataFrame, pd.DataFrame]:
    """Customers simulated at SEASONAL over ``weeks + ahead`` weeks; the base is observed for
    ``weeks``, the frame covers ``weeks`` (for ``ahead > 0`` the log of the rest is returned
    as the holdout)."""
    rng = np.random.default_rng(seed)
    total = weeks + ahead
    season = ((np.arange(total) % 26) < 8).astype(float)
    gender = rng.integers(0, 2, n).astype(float)
    cov = np.stack([np.broadcast_to(season, (n, total)),
                    np.broadcast_to(gender[:, None], (n, total))], axis=2)
    cust, when = simulate_pareto_nbd_dynamic(
        r=SEASONAL["r"], alpha=SEASONAL["alpha"], s=SEASONAL["s"], beta=SEASONAL["beta"],
        gamma_life=[SEASONAL["life.season"], SEASONAL["life.gender"]],
        gamma_trans=[SEASONAL["trans.season"], SEASONAL["trans.gender"]],
        covariates=cov, acquired=rng.uniform(0, 20, n), seed=seed + 1)
    log = pd.DataFrame({"id": cust, "at": DAY0 + np.floor(when * 7).astype("timedelta64[D]")})
    end = DAY0 + np.timedelta64(weeks * 7 - 1, "D")
    base = CustomerBase.from_transactions(log[log["at"] <= end], customer_id="id",
                                          datetime="at", freq="D", time_unit="W",
                                          observation_end=str(end))
    frame = pd.DataFrame({"id": np.repeat(np.arange(n), total),
                          "week": np.tile(DAY0 + np.arange(total) * np.timedelta64(7, "D"), n),
                          "season": cov[:, :, 0].reshape(-1),
                          "gender": cov[:, :, 1].reshape(-1)})
    return base, frame, log[log["at"] > end]


def _customer_params(params: dict[str, float], covariates: pd.DataFrame,
                     ids: np.ndarray) -> pd.DataFrame:
    """CLVTools' static parameterisation by hand: alpha_i = alpha exp(-gamma_trans . x_i),
    beta_i = beta exp(-gamma_life . x_i)."""
    rows = covariates.set_index("Id").loc[ids]
    trans = sum(params[f"trans.{c}"] * rows[c] for c in ("Gender", "Channel"))
    life = sum(params[f"life.{c}"] * rows[c] for c in ("Gender", "Channel"))
    return pd.DataFrame({"alpha": params["alpha"] * np.exp(-trans),
                         "beta": params["beta"] * np.exp(-life)}, index=ids)


def _per_customer(method: str, lead: tuple[Any, ...], params: dict[str, float],
                  base: CustomerBase, static: pd.DataFrame) -> np.ndarray:
    """``method`` of the covariate-free ParetoNBD at each customer's own parameters."""
    ids = np.asarray(base.customer_id)
    own = _customer_params(params, static, ids)
    out = np.empty(len(ids))
    for i in range(len(ids)):
        plain = ParetoNBD.from_params(r=params["r"], alpha=float(own["alpha"].iloc[i]),
                                      s=params["s"], beta=float(own["beta"].iloc[i]))
        out[i] = np.asarray(getattr(plain, method)(
            *lead, base.frequency[i:i + 1], base.recency[i:i + 1], base.T[i:i + 1]))[0]
    return out


# -- the registry and the protocol ------------------------------------------------------------


def test_registry_offers_the_time_varying_model() -> None:
    model = crmcore.get_model("value", "pareto-nbd-dynamic")
    assert isinstance(model, ParetoNBDDynamic)
    assert "pareto-nbd-dynamic" in crmcore.available_models("value")
    assert isinstance(model, protocols.TimeVaryingValueModel)
    assert protocols.value_protocol(model) is protocols.TimeVaryingValueModel
    assert protocols.value_protocol(ParetoNBD()) is protocols.ValueModel
    from crmcore.value import _plugin

    report = check_model_plugin(_plugin, "value")
    (entry,) = [m for m in report.models if m.name == "pareto-nbd-dynamic"]
    assert entry.ok, str(report)
    assert entry.protocol == "crmcore.protocols.TimeVaryingValueModel"
    assert entry.optional_missing == ()


def test_checker_holds_time_varying_models_to_their_protocol() -> None:
    class Declared:
        """Claims time-varying covariates but predicts from (frequency, recency, T)."""

        time_varying_covariates = True

        def fit(self, base: CustomerBase) -> Declared:
            return self

        def p_alive(self, frequency: Any, recency: Any, T: Any) -> Any:
            return np.ones(len(frequency))

        def expected_purchases(self, t: float, frequency: Any, recency: Any, T: Any) -> Any:
            return np.zeros(len(frequency))

    class Plugin:
        @crmcore.hookimpl
        def crmcore_value_models(self) -> dict[str, Any]:
            return {"declared-dynamic": Declared}

    report = check_model_plugin(Plugin(), "value")
    (entry,) = report.models
    assert not entry.ok
    assert entry.protocol == "crmcore.protocols.TimeVaryingValueModel"
    assert {m.split(":")[0] for m in entry.mismatched} == {"fit", "p_alive",
                                                           "expected_purchases"}


def test_cli_lists_the_model() -> None:
    from crmcore.cli._commands import run_models

    out = io.StringIO()
    assert run_models(None, out) == 0  # type: ignore[arg-type]
    rows = [line.split() for line in out.getvalue().splitlines()]
    assert ["value", "pareto-nbd-dynamic", "crmcore.value._plugin"] in [r[:3] for r in rows]


# -- DERT -------------------------------------------------------------------------------------


def test_dert_with_constant_covariates_is_the_static_dert(apparel: CustomerBase,
                                                          constant: pd.DataFrame,
                                                          static: pd.DataFrame) -> None:
    base = apparel.take(np.arange(60))
    model = ParetoNBDDynamic.from_params(**STATIC, customer_id="Id")
    ours = model.dert(0.004, base, covariates=constant, datetime="Cov.Date")
    reference = _per_customer("dert", (0.004,), STATIC, base, static)
    np.testing.assert_allclose(ours, reference, rtol=1e-8)
    # a frame that ends at T holds its last row: the same number
    short = constant[constant["Cov.Date"] <= "2007-01-07"]
    np.testing.assert_allclose(model.dert(0.004, base, covariates=short, datetime="Cov.Date"),
                               reference, rtol=1e-8)


def _clocks(frame: pd.DataFrame, first: np.datetime64, gamma: dict[str, float], prefix: str
            ) -> tuple[np.ndarray, np.ndarray]:
    """A customer's rate breakpoints (weeks since her first purchase) and rates, by hand."""
    starts = ((frame["week"].to_numpy().astype("datetime64[D]") - first).astype(float) / 7.0)
    rates = np.exp(sum(gamma[f"{prefix}.{c}"] * frame[c].to_numpy()
                       for c in ("season", "gender")))
    return starts, rates


def _integral(starts: np.ndarray, rates: np.ndarray, t: float) -> float:
    """integral_0^t of the piecewise-constant rate (the last held for ever)."""
    ends = np.append(starts[1:], np.inf)
    return float(np.sum(rates * np.clip(np.minimum(ends, t) - np.maximum(starts, 0.0), 0.0,
                                        None)))


def test_dert_is_the_integral_with_the_last_row_held() -> None:
    """Seasonal covariates that end a few weeks after T: the DERT integral by adaptive
    quadrature on rate clocks built by hand, the last row held to infinity."""
    base, frame, _ = _simulated(40, 60, 0, seed=11)
    frame = frame[frame["week"] < DAY0 + np.timedelta64(63 * 7, "D")]  # 3 weeks past the end
    model = ParetoNBDDynamic.from_params(**SEASONAL, customer_id="id")
    delta = 0.02
    ours = model.dert(delta, base, covariates=frame, datetime="week")
    alive = model.p_alive(base, covariates=frame, datetime="week")
    history = base.history
    assert history is not None
    r, alpha, s, beta = (SEASONAL[k] for k in ("r", "alpha", "s", "beta"))
    for i in range(8):
        cid = base.customer_id[i]
        first = np.datetime64("1970-01-01") + np.timedelta64(
            int(history.period[history.indptr[i]]), "D")
        rows = frame[frame["id"] == cid].sort_values("week")
        a_starts, a_rates = _clocks(rows, first, SEASONAL, "trans")
        b_starts, b_rates = _clocks(rows, first, SEASONAL, "life")
        t_obs = float(base.T[i])
        a_t, b_t = _integral(a_starts, a_rates, t_obs), _integral(b_starts, b_rates, t_obs)

        def integrand(u: float, a_starts: np.ndarray = a_starts, a_rates: np.ndarray = a_rates,
                      b_starts: np.ndarray = b_starts, b_rates: np.ndarray = b_rates,
                      t_obs: float = t_obs, b_t: float = b_t) -> float:
            a_u = a_rates[np.searchsorted(a_starts, u, side="right") - 1]
            b_u = _integral(b_starts, b_rates, u)
            return float(math.exp(-delta * (u - t_obs)) * a_u * ((beta + b_t) / (beta + b_u))
                         ** s)

        breaks = [t_obs, *[b for b in a_starts if b > t_obs]]
        pieces = [integrate.quad(integrand, lo, hi, epsabs=0, epsrel=1e-12)[0]
                  for lo, hi in itertools.pairwise(breaks)]
        pieces.append(integrate.quad(integrand, breaks[-1], np.inf, epsabs=0,
                                     epsrel=1e-12, limit=200)[0])
        expected = alive[i] * (r + base.frequency[i]) / (alpha + a_t) * sum(pieces)
        assert ours[i] == pytest.approx(expected, rel=1e-8), i


def test_dect_over_a_long_horizon_converges_to_dert() -> None:
    base, frame, _ = _simulated(30, 60, 0, seed=12)
    model = ParetoNBDDynamic.from_params(**SEASONAL, customer_id="id")
    delta = 0.01
    dert = model.dert(delta, base, covariates=frame, datetime="week")
    # the frame's last row repeated for 4000 more weeks: e^(-40) of the sum is left out
    last = frame.sort_values("week").groupby("id").tail(1)
    later = last.loc[last.index.repeat(4000)].copy()
    later["week"] = later["week"] + np.tile(np.arange(1, 4001) * np.timedelta64(7, "D"),
                                            len(last))
    extended = pd.concat([frame, later])
    dect = model.dect(delta, 3990.0, base, covariates=extended, datetime="week")
    np.testing.assert_allclose(dect, dert, rtol=1e-8)
    shorter = model.dect(delta, 100.0, base, covariates=extended, datetime="week")
    assert np.all(shorter < dert)


# -- P(no purchase) ---------------------------------------------------------------------------


def test_no_purchase_with_constant_covariates_is_the_static_pmf(
        apparel: CustomerBase, constant: pd.DataFrame, static: pd.DataFrame) -> None:
    base = apparel.take(np.arange(60))
    model = ParetoNBDDynamic.from_params(**STATIC, customer_id="Id")
    ours = model.probability_of_no_purchase(26.0, base, covariates=constant,
                                            datetime="Cov.Date")
    reference = _per_customer("conditional_probability_of_purchases", (0, 26.0), STATIC, base,
                              static)
    np.testing.assert_allclose(ours, reference, rtol=1e-9, atol=1e-12)


def test_no_purchase_is_the_likelihood_ratio() -> None:
    """P(no purchase in (T, T+t] | history) = L(x, t_x, T+t) / L(x, t_x, T): the likelihood
    of the history observed for t longer without a purchase, over that of the history."""
    base, frame, _ = _simulated(200, 60, 20, seed=13)
    model = ParetoNBDDynamic.from_params(**SEASONAL, customer_id="id")
    t = 15.0
    ours = model.probability_of_no_purchase(t, base, covariates=frame, datetime="week")
    design = model.covariates_
    assert design is not None
    theta = np.log(model._state().params)
    x = np.asarray(base.frequency, dtype=np.float64)
    tx, t_obs = np.asarray(base.recency), np.asarray(base.T)
    now = _read_paths(base, frame, "id", "week", design.life, design.trans)
    later = _read_paths(base, frame, "id", "week", design.life, design.trans, horizon=t)
    ll_now, _ = model._terms(theta, now, x, tx, t_obs, gradient=False)
    ll_later, _ = model._terms(theta, later, x, tx, t_obs + t, gradient=False)
    np.testing.assert_allclose(ours, np.exp(ll_later - ll_now), rtol=1e-9)
    assert np.all((ours > 0) & (ours < 1))


def test_no_purchase_agrees_with_simulation() -> None:
    """Simulated customers at the true parameters: the predicted probability of no purchase
    in the 13 weeks after the observation end against how many made none, overall and by
    repeat purchases."""
    base, frame, holdout = _simulated(6000, 60, 13, seed=14)
    model = ParetoNBDDynamic.from_params(**SEASONAL, customer_id="id")
    predicted = model.probability_of_no_purchase(13.0, base, covariates=frame,
                                                 datetime="week")
    bought = np.isin(np.asarray(base.customer_id), holdout["id"].unique())
    x = np.asarray(base.frequency)
    for group in (x >= 0, x == 0, (x >= 1) & (x <= 3), x > 3):
        observed = float(np.mean(~bought[group]))
        mean = float(np.mean(predicted[group]))
        se = math.sqrt(mean * (1 - mean) / group.sum())
        assert abs(observed - mean) < 4 * se, (group.sum(), observed, mean)


def test_hold_last_needs_no_forecast_rows() -> None:
    base, frame, _ = _simulated(30, 60, 0, seed=15)
    model = ParetoNBDDynamic.from_params(**SEASONAL, customer_id="id")
    with pytest.raises(DataError):  # the frame ends at T
        model.probability_of_no_purchase(52.0, base, covariates=frame, datetime="week")
    held = model.probability_of_no_purchase(52.0, base, covariates=frame, datetime="week",
                                            hold_last=True)
    last = frame.sort_values("week").groupby("id").tail(1)
    later = last.loc[last.index.repeat(60)].copy()
    later["week"] = later["week"] + np.tile(np.arange(1, 61) * np.timedelta64(7, "D"),
                                            len(last))
    extended = pd.concat([frame, later])
    np.testing.assert_allclose(held, model.probability_of_no_purchase(
        52.0, base, covariates=extended, datetime="week"), rtol=1e-12)


# -- score ------------------------------------------------------------------------------------


def test_score_by_name_fits_and_scores(apparel: CustomerBase, dyncov: pd.DataFrame) -> None:
    frame = dyncov[["Id", "Cov.Date", "Gender", "Channel"]]
    scores = crmcore.score(apparel, margin=0.3, discount_rate=0.002, time_unit="W",
                           horizon=52.0, value_model="pareto-nbd-dynamic", covariates=frame,
                           customer_id="Id", datetime="Cov.Date", loyalty_model=False)
    assert len(scores) == 600
    assert "ParetoNBDDynamic" in scores.model
    assert np.all(np.isfinite(scores.clv))
    assert np.all(scores.clv >= 0)
    assert scores.stage is not None
    assert scores.churn_risk is not None
    # the spend model is fitted without the periods, and says so; nothing else is noted
    assert [note for note in scores.notes if "covariates" in note] == [
        note for note in scores.notes if note.startswith("spend: fitted without covariates")]
    assert any(note.startswith("spend: fitted without covariates") for note in scores.notes)


def test_score_end_to_end_on_apparel(apparel: CustomerBase, dyncov: pd.DataFrame,
                                     seasonal_fit: ParetoNBDDynamic) -> None:
    model = seasonal_fit
    keywords: dict[str, Any] = {"covariates": dyncov, "customer_id": "Id",
                                "datetime": "Cov.Date"}
    for horizon in (52.0, None):
        scores = crmcore.score(apparel, margin=0.3, discount_rate=0.002, time_unit="W",
                               horizon=horizon, value_model=model, loyalty_model=False,
                               **keywords)
        np.testing.assert_allclose(scores.p_alive, model.p_alive(apparel, **keywords),
                                   rtol=1e-12)
        assert scores.churn_risk is not None
        assert np.all((scores.churn_risk >= 0) & (scores.churn_risk <= 1))
        assert np.all(scores.churn_risk >= 1 - scores.p_alive - 1e-12)
        held = [note for note in scores.notes if "covariates" in note
                and not note.startswith("spend: fitted without covariates")]
        assert len(held) == (horizon is None)  # the held last row is said, nothing else
        if horizon is not None:
            assert scores.expected_purchases is not None
            np.testing.assert_allclose(scores.expected_purchases,
                                       model.expected_purchases(52.0, apparel, **keywords),
                                       rtol=1e-12)
            np.testing.assert_allclose(scores.churn_risk, model.probability_of_no_purchase(
                52.0, apparel, **keywords), rtol=1e-12)
        else:
            delta = math.log1p(0.002)
            spend = scores.expected_spend
            np.testing.assert_allclose(scores.clv, 0.3 * spend * model.dert(
                delta, apparel, **keywords), rtol=1e-12)


def test_stepped_clv_is_the_discounted_increments(apparel: CustomerBase, dyncov: pd.DataFrame,
                                                  seasonal_fit: ParetoNBDDynamic) -> None:
    """Four-weekly cash-flow steps: each step's expected purchases (from the model's public
    expected_purchases) discounted at its end, as lifetime_value does for every model."""
    keywords: dict[str, Any] = {"covariates": dyncov, "customer_id": "Id",
                                "datetime": "Cov.Date"}
    value = time_varying_lifetime_value(seasonal_fit, 10.0, apparel, margin=0.5,
                                        discount_rate=0.01, time_unit="W", horizon=26.0,
                                        step=4.0, **keywords)
    grid = np.minimum(np.arange(1, 8) * 4.0, 26.0)
    cumulative = np.stack([seasonal_fit.expected_purchases(g, apparel, **keywords)
                           for g in grid])
    increments = np.diff(cumulative, axis=0, prepend=0.0)
    np.testing.assert_allclose(value.clv, 5.0 * (1.01 ** -grid) @ increments, rtol=1e-12)


@pytest.mark.parametrize("horizon", [52.0, None])
def test_constant_covariates_score_as_the_static_model(
        apparel: CustomerBase, constant: pd.DataFrame, static: pd.DataFrame,
        horizon: float | None) -> None:
    """The same numbers, churn risk and stages from the time-varying model with constant
    covariates as from the static-covariate Pareto/NBD."""
    common: dict[str, Any] = {"margin": 0.3, "discount_rate": 0.002, "time_unit": "W",
                              "horizon": horizon, "spend_model": 25.0, "loyalty_model": False,
                              "customer_id": "Id"}
    dynamic = crmcore.score(apparel, value_model=ParetoNBDDynamic.from_params(
        **STATIC, customer_id="Id"), covariates=constant, datetime="Cov.Date", **common)
    plain = crmcore.score(apparel, value_model=ParetoNBD.from_params(
        **STATIC, customer_id="Id"), covariates=static, **common)
    for column in ("clv", "p_alive", "churn_risk"):
        np.testing.assert_allclose(getattr(dynamic, column), getattr(plain, column),
                                   rtol=1e-8, err_msg=column)
    assert dynamic.stage is not None
    assert plain.stage is not None
    np.testing.assert_array_equal(dynamic.stage, plain.stage)


def test_static_churn_is_each_customers_own_pmf(apparel: CustomerBase,
                                                 static: pd.DataFrame) -> None:
    base = apparel.take(np.arange(80))
    scores = crmcore.score(base, margin=0.3, discount_rate=0.002, time_unit="W",
                           horizon=26.0, spend_model=25.0, loyalty_model=False,
                           value_model=ParetoNBD.from_params(**STATIC, customer_id="Id"),
                           covariates=static, customer_id="Id")
    reference = _per_customer("conditional_probability_of_purchases", (0, 26.0), STATIC,
                              base, static)
    assert scores.churn_risk is not None
    np.testing.assert_allclose(scores.churn_risk, reference, rtol=1e-10)
    np.testing.assert_allclose(scores.p_alive, _per_customer("p_alive", (), STATIC, base,
                                                             static), rtol=1e-10)


@pytest.mark.parametrize("dynamic", [False, True], ids=["static", "time-varying"])
def test_stage_uses_each_customers_p_alive(apparel: CustomerBase, constant: pd.DataFrame,
                                           static: pd.DataFrame, dynamic: bool) -> None:
    """One customer's Channel switched on under a strong dropout coefficient: her P(alive)
    falls below the classifier's decline threshold (0.5) and a stable or forming customer
    declines by the rule ``p-alive-low``; nobody else moves."""
    params = {**STATIC, "life.Channel": 6.0}
    base = apparel
    ids = np.asarray(base.customer_id)
    channel = static.set_index("Id").loc[ids, "Channel"].to_numpy()
    switched_alive = _per_customer("p_alive", (), params, base, static.assign(Channel=1))
    common: dict[str, Any] = {"margin": 0.3, "discount_rate": 0.002, "time_unit": "W",
                              "horizon": 52.0, "spend_model": 25.0, "loyalty_model": False,
                              "customer_id": "Id"}

    def scored(frame: pd.DataFrame) -> crmcore.Scores:
        if dynamic:
            weekly = constant[["Id", "Cov.Date"]].merge(frame, on="Id")
            return crmcore.score(base, value_model=ParetoNBDDynamic.from_params(
                **params, customer_id="Id"), covariates=weekly, datetime="Cov.Date", **common)
        return crmcore.score(base, value_model=ParetoNBD.from_params(
            **params, customer_id="Id"), covariates=frame, **common)

    before = scored(static)
    assert before.stage is not None
    candidates = np.flatnonzero((channel == 0) & (before.p_alive > 0.5)
                                & (switched_alive < 0.5)
                                & np.isin(before.stage, ["stability", "formation"]))
    assert len(candidates) >= 3
    who = int(candidates[0])
    switched = static.copy()
    switched.loc[switched["Id"] == ids[who], "Channel"] = 1
    after = scored(switched)
    assert after.stage is not None
    assert after.p_alive[who] == pytest.approx(switched_alive[who], rel=1e-9)
    assert after.stage[who] == "decline"
    others = np.arange(len(base)) != who
    np.testing.assert_array_equal(before.stage[others], after.stage[others])
    # the evidence: the classifier saw each customer's own P(alive)
    from crmcore._scoring import _PerCustomerPAlive
    from crmcore.lifecycle import classify
    from crmcore.lifecycle._rules import RULES

    evidence = classify(base, value_model=_PerCustomerPAlive(ParetoNBD(), base, after.p_alive))
    assert evidence.p_alive is not None
    np.testing.assert_allclose(evidence.p_alive, after.p_alive, rtol=1e-12)
    assert RULES[evidence.rule[who]][0] == "p-alive-low"


def test_per_customer_p_alive_answers_only_for_its_base(apparel: CustomerBase) -> None:
    from crmcore._scoring import _PerCustomerPAlive

    adapter = _PerCustomerPAlive(ParetoNBD(), apparel, np.full(len(apparel), 0.5))
    with pytest.raises(InvalidValueError) as info:
        adapter.p_alive(apparel.frequency[:10], apparel.recency[:10], apparel.T[:10])
    assert info.value.field == "value_model"


def test_named_errors(apparel: CustomerBase, dyncov: pd.DataFrame, static: pd.DataFrame,
                      seasonal_fit: ParetoNBDDynamic) -> None:
    common: dict[str, Any] = {"margin": 0.3, "discount_rate": 0.002, "time_unit": "W",
                              "horizon": 52.0, "loyalty_model": False}
    cases: list[tuple[dict[str, Any], str]] = [
        # a time-varying model without its period-start column, or without covariates
        ({"value_model": "pareto-nbd-dynamic", "covariates": dyncov, "customer_id": "Id"},
         "datetime"),
        ({"value_model": seasonal_fit}, "covariates"),
        # datetime= with a static model, or without covariates
        ({"value_model": "pareto-nbd", "covariates": static, "customer_id": "Id",
          "datetime": "Cov.Date"}, "datetime"),
        ({"datetime": "Cov.Date"}, "datetime"),
        # a frame of dated rows given to a static model
        ({"value_model": "pareto-nbd", "customer_id": "Id",
          "covariates": dyncov.assign(**{"Cov.Date": pd.to_datetime(dyncov["Cov.Date"])})},
         "covariates"),
    ]
    for kwargs, field in cases:
        with pytest.raises(InvalidValueError) as info:
            crmcore.score(apparel, **common, **kwargs)
        assert info.value.field == field, kwargs
    # the forecast period is not covered by the frame
    near = dyncov[dyncov["Cov.Date"] <= "2007-03-31"]
    with pytest.raises(DataError) as data_info:
        crmcore.score(apparel, **common, value_model=seasonal_fit, covariates=near,
                      customer_id="Id", datetime="Cov.Date")
    assert data_info.value.field == "Id"


def test_the_dask_path_refuses_time_varying_models() -> None:
    from crmcore import dask as crm_dask

    with pytest.raises(InvalidValueError) as info:
        crm_dask.fit_models(None, value_model="pareto-nbd-dynamic")
    assert info.value.field == "value_model"


# -- the likelihood's quadrature rules ---------------------------------------------------------


def test_period_rules_hold_their_error_bound() -> None:
    """Each period's rule, chosen from how close the powers' singularities are and how far they
    fall, integrates (1 + u/d_A)^-p (1 + u/d_B)^-q over [0, 1] to 1e-11 relative, against
    adaptive quadrature, over random shapes from gentle to extreme."""
    from crmcore.value._pareto_dyncov import _choose_rule, _node_layout

    rng = np.random.default_rng(7)
    n = 150
    p, q = 10 ** rng.uniform(-2, 3, n), 10 ** rng.uniform(0, 2, n)
    d_a, d_b = 10 ** rng.uniform(-7, 4, n), 10 ** rng.uniform(-7, 4, n)
    rule = _choose_rule(np.minimum(d_a, d_b), p / d_a + q / d_b)
    assert len(set(rule.tolist())) >= 4  # the sample reaches most rules
    seg, unit, weight, _ = _node_layout(rule)
    ours = np.bincount(seg, weights=weight * np.exp(-p[seg] * np.log1p(unit / d_a[seg])
                                                     - q[seg] * np.log1p(unit / d_b[seg])))
    edges = [0.0, *(10.0 ** np.arange(-12, 0)), 1.0]
    for i in range(n):
        def f(u: float, i: int = i) -> float:
            return math.exp(-p[i] * math.log1p(u / d_a[i]) - q[i] * math.log1p(u / d_b[i]))

        ref = sum(integrate.quad(f, lo, hi, epsabs=0, epsrel=1e-13, limit=200)[0]
                  for lo, hi in itertools.pairwise(edges))
        assert ours[i] == pytest.approx(ref, rel=1e-11), (p[i], q[i], d_a[i], d_b[i])


def test_small_r_and_long_periods_match_the_static_model(apparel: CustomerBase,
                                                         constant: pd.DataFrame,
                                                         static: pd.DataFrame) -> None:
    """A weak purchase power (r = 0.05) over long merged periods, with a small alpha (the
    singularity close to the period): customers without repeat purchases integrate from their
    first purchase, where plain 16-point quadrature is off by ~1e-6; the rules keep the
    static model's likelihood to 1e-9."""
    params = {**STATIC, "r": 0.05, "alpha": 0.5, "s": 2.0, "beta": 0.3}
    dynamic = ParetoNBDDynamic.from_params(**params, customer_id="Id")
    plain = ParetoNBD.from_params(**params, customer_id="Id")
    design = dynamic.covariates_
    assert design is not None
    paths = _read_paths(apparel, constant, "Id", "Cov.Date", design.life, design.trans)
    x = np.asarray(apparel.frequency, dtype=float)
    tx, t_obs = np.asarray(apparel.recency), np.asarray(apparel.T)
    ll, _ = dynamic._terms(np.log(dynamic._state().params), paths, x, tx, t_obs,
                           gradient=False)
    rows = plain._customer_rows(static, np.asarray(apparel.customer_id))
    ref, _ = plain._row_log_likelihood_terms(rows, (x, tx, t_obs), gradient=False)
    np.testing.assert_allclose(ll, ref, rtol=0, atol=1e-9)


def test_a_subset_of_rows_is_integrated_alone() -> None:
    """The warm start asks for a sample of the customers in any order: the same terms as the
    whole base's at those rows, from their paths alone."""
    base, frame, _ = _simulated(300, 60, 0, seed=16)
    model = ParetoNBDDynamic().fit(base, covariates=frame, customer_id="id", datetime="week")
    theta = np.log(model._state().params) + 0.05
    everyone = np.arange(len(base), dtype=np.float64)
    ll_all, grad_all = model._row_terms(theta, (everyone,), gradient=True)
    rows = np.random.default_rng(1).permutation(len(base))[:70]
    ll, grad = model._row_terms(theta, (rows.astype(np.float64),), gradient=True)
    assert grad is not None
    assert grad_all is not None
    np.testing.assert_allclose(ll, ll_all[rows], rtol=1e-13)
    # the same sums in another order of periods: equal to rounding (a few 1e-13 absolute)
    np.testing.assert_allclose(grad, grad_all[rows], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kwargs", [{}, {"constrain": ["gender"]},
                                    {"reg_lambdas": {"life": 0.1, "trans": 0.2}},
                                    {"life": ["season"]}],
                         ids=["both", "constrained", "penalised", "fewer"])
def test_exact_hessian_is_the_gradients_derivative(kwargs: dict[str, Any]) -> None:
    """The exact Hessian of the mean penalised log-likelihood against central differences of
    the exact gradient, for weighted customers, the whole base and a sample in any order."""
    base, frame, _ = _simulated(300, 60, 0, seed=17)
    model = ParetoNBDDynamic(penalizer=0.01).fit(base, covariates=frame, customer_id="id",
                                                 datetime="week", **kwargs)
    theta = np.log(model._state().params) + 0.03
    weights = np.random.default_rng(2).uniform(0.5, 2.0, len(base))
    n_obs = float(weights.sum())
    for rows in (np.arange(len(base)), np.array([5, 2, 250, 17, 99])):
        data = (rows.astype(np.float64),)
        w = weights[rows]
        _, grad = model._objective(theta, data, w, 0.01, n_obs)
        exact = model._exact_hessian(theta, grad, data, w, 0.01, n_obs)
        assert exact is not None
        central = np.empty_like(exact)
        for i in range(len(theta)):
            step = np.zeros(len(theta))
            step[i] = 1e-5 * max(1.0, abs(theta[i]))
            up = model._objective(theta + step, data, w, 0.01, n_obs)[1]
            down = model._objective(theta - step, data, w, 0.01, n_obs)[1]
            central[i] = -(up - down) / (2 * step[i])
        np.testing.assert_allclose(exact, 0.5 * (central + central.T), rtol=1e-6,
                                   atol=1e-8 * np.abs(central).max())


def test_lifecycle_functions_refuse_a_time_varying_model(apparel: CustomerBase) -> None:
    from crmcore.lifecycle import churn_risk, classify

    model = ParetoNBDDynamic.from_params(**STATIC, customer_id="Id")
    for call in (lambda: classify(apparel, value_model=model),  # type: ignore[arg-type]
                 lambda: churn_risk(apparel, value_model=model)):
        with pytest.raises(InvalidValueError) as info:
            call()
        assert info.value.field == "value_model"


def test_stepped_clv_tends_to_dect(apparel: CustomerBase, dyncov: pd.DataFrame,
                                   seasonal_fit: ParetoNBDDynamic) -> None:
    """Cash flows discounted at the end of ever shorter steps tend to CLVTools' DECT (the
    continuously discounted expectation), margin and spend aside."""
    keywords: dict[str, Any] = {"covariates": dyncov, "customer_id": "Id",
                                "datetime": "Cov.Date"}
    value = time_varying_lifetime_value(seasonal_fit, 1.0, apparel, margin=1.0,
                                        discount_rate=0.01, time_unit="W", horizon=13.0,
                                        step=0.01, **keywords)
    dect = seasonal_fit.dect(math.log1p(0.01), 13.0, apparel, **keywords)
    # the step's end discounts a step's purchases by at most delta * step more
    np.testing.assert_allclose(value.clv, dect, rtol=2e-4)
    assert np.all(value.clv <= dect * (1 + 1e-12))
