"""Covariate predictions evaluated in one pass with per-customer parameters (BG/NBD,
MBG/NBD, Pareto/NBD) against the covariate-free model at each customer's own parameters,
one customer at a time: continuous and 0/1 covariates, customers without repeat purchases,
and parameters where the stable forms switch branch."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import crmcore
from crmcore import CustomerBase
from crmcore.value import BGNBD, MBGNBD, ParetoNBD, lifetime_value
from crmcore.value._covariates import covariate_lifetime_value

N = 40
RTOL = 1e-10


def _base(n: int = N, seed: int = 5) -> CustomerBase:
    rng = np.random.default_rng(seed)
    x = rng.poisson(2.0, n).astype(float)
    x[:6] = 0.0  # customers without repeat purchases
    x[6] = 60.0  # and one frequent buyer
    t_obs = rng.choice([30.0, 52.0], n)
    tx = np.where(x > 0, rng.uniform(0.1, 1.0, n) * t_obs, 0.0)
    money = np.where(x > 0, rng.gamma(5.0, 8.0, n), 0.0)
    return CustomerBase.from_summary(np.arange(n), x, tx, t_obs, money, time_unit="W")


def _covariates(kind: str, n: int = N, seed: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n) if kind == "continuous" else (rng.uniform(size=n) < 0.5) * 1.0
    z[0] = z[10] = 0.0  # customers at the base parameters themselves
    return pd.DataFrame({"id": np.arange(n), "z": z})


# core parameters chosen to reach each branch of the covariate-free code
CASES: dict[type, list[tuple[float, ...]]] = {
    BGNBD: [
        (0.8, 9.0, 0.9, 3.0),  # Gauss' hypergeometric function
        (0.8, 9.0, 1.0, 3.0),  # a = 1 for z = 0: the limit there
        (0.8, 9.0, 0.4, 0.6),  # a + b = 1 for z = 0: a pole of 2F1 at x = 0
        (0.8, 9.0, 80.0, 200.0),  # large a: Gauss-Jacobi quadrature (per parameter vector)
        (0.8, 9.0, 3.0, 2e3),  # large b
        (0.8, 9.0, 2e4, 5e4),  # asymptotic expansion
    ],
    MBGNBD: [(0.8, 9.0, 0.9, 3.0), (0.8, 9.0, 1.0, 3.0), (0.8, 9.0, 80.0, 200.0)],
    ParetoNBD: [
        (0.8, 9.0, 0.7, 12.0),  # hypergeometric representation
        (0.8, 9.0, 1.0, 12.0),  # s = 1: the limit of the lifetime factor
        (0.8, 9.0, 80.0, 1500.0),  # s > 50: the stable form
        (0.8, 0.05, 0.7, 12.0),  # rates far apart: the stable form
    ],
}
PARAMS = [(cls, core) for cls, cores in CASES.items() for core in cores]
IDS = [f"{cls.__name__}-{'-'.join(f'{v:g}' for v in core)}" for cls, core in PARAMS]


def _model(cls: type[Any], core: tuple[float, ...]) -> Any:
    return cls.from_params(**dict(zip(cls.param_names, core, strict=True)), customer_id="id",
                           **{"life.z": 0.6, "trans.z": -0.4})


def _per_customer(model: Any, base: CustomerBase, cov: pd.DataFrame, method: str,
                  *lead: Any) -> np.ndarray:
    """``method`` of the covariate-free model at each customer's parameters, one by one."""
    rows = model._customer_rows(cov, np.asarray(base.customer_id))
    x = np.asarray(base.frequency, dtype=float)
    tx, t_obs = np.asarray(base.recency), np.asarray(base.T)
    return np.array([float(np.asarray(getattr(model._plain(rows[i]), method)(
        *lead, x[i:i + 1], tx[i:i + 1], t_obs[i:i + 1]))[0]) for i in range(len(x))])


@pytest.mark.parametrize("kind", ["continuous", "binary"])
@pytest.mark.parametrize(("cls", "core"), PARAMS, ids=IDS)
def test_predictions_equal_the_plain_model_per_customer(cls: type[Any],
                                                        core: tuple[float, ...],
                                                        kind: str) -> None:
    base, cov = _base(), _covariates(kind)
    model = _model(cls, core)
    assert "p_alive" in model._vectorised
    checks = [("p_alive", ()), ("expected_purchases", (10.0,)), ("dert", (0.004,)),
              ("conditional_probability_of_purchases", (0, 10.0)),
              ("conditional_probability_of_purchases", (2, 10.0))]
    for method, lead in checks:
        got = model._by_covariates(method, lead, base, cov, "id")
        want = _per_customer(model, base, cov, method, *lead)
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=1e-300, err_msg=method)


@pytest.mark.parametrize("horizon", [52.0, None])
@pytest.mark.parametrize(("cls", "core"), PARAMS, ids=IDS)
def test_lifetime_value_equals_the_plain_model_per_customer(
        cls: type[Any], core: tuple[float, ...], horizon: float | None) -> None:
    base, cov = _base(), _covariates("continuous")
    model = _model(cls, core)
    spend = np.linspace(10.0, 50.0, N)
    got = covariate_lifetime_value(model, spend, base, covariates=cov, customer_id="id",
                                   margin=0.3, discount_rate=0.002, time_unit="W",
                                   horizon=horizon, step=4.0)
    rows = model._customer_rows(cov, np.asarray(base.customer_id))
    for name in ("clv", "p_alive", "discounted_purchases", "expected_purchases"):
        want = []
        for i in range(N):
            part = lifetime_value(model._plain(rows[i]), spend[i:i + 1], base.take([i]),
                                  margin=0.3, discount_rate=0.002, time_unit="W",
                                  horizon=horizon, step=4.0)
            value = getattr(part, name)
            want.append(np.nan if value is None else float(value[0]))
        value = getattr(got, name)
        if value is None:
            assert np.all(np.isnan(want)), name
            continue
        np.testing.assert_allclose(value, want, rtol=RTOL, atol=1e-300, err_msg=name)


@pytest.mark.parametrize("kind", ["continuous", "binary"])
@pytest.mark.parametrize("horizon", [52.0, None])
@pytest.mark.parametrize("cls", [BGNBD, MBGNBD, ParetoNBD])
def test_score_columns_equal_the_per_group_path(cls: type[Any], horizon: float | None,
                                                kind: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    base, cov = _base(), _covariates(kind)
    model = _model(cls, CASES[cls][0])
    options: dict[str, Any] = {
        "margin": 0.3, "discount_rate": 0.002, "time_unit": "W", "horizon": horizon,
        "value_model": model, "spend_model": "gamma-gamma", "covariates": cov,
        "customer_id": "id", "loyalty_model": False}
    new = crmcore.score(base, **options).to_frame()
    monkeypatch.setattr(cls, "_vectorised", frozenset())  # the per-group path
    old = crmcore.score(base, **options).to_frame()
    assert list(new.columns) == list(old.columns)
    for column in new.columns:
        if new[column].dtype.kind == "f":
            np.testing.assert_allclose(new[column], old[column], rtol=RTOL, atol=1e-300,
                                       err_msg=column)
        else:
            assert new[column].tolist() == old[column].tolist(), column
