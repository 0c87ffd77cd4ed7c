"""The finite-horizon cash-flow sum through P(alive) x E[Y(t) | alive, x, T] (once per distinct
(x, T) pair) gives the same lifetime values as the generic path that calls the model's
``expected_purchases`` once per step for every (x, t_x, T) pattern."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import crmcore
from crmcore._base import column_codes, compress_rows
from crmcore.value import BGNBD, MBGNBD, GammaGamma, ParetoNBD, lifetime_value, simulate_bgnbd


class _GenericOnly:
    """The same model seen only through its public predictions (no factorisation)."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.time_unit_ = model.time_unit_

    def expected_purchases(self, *args: Any) -> Any:
        return self.model.expected_purchases(*args)

    def p_alive(self, *args: Any) -> Any:
        return self.model.p_alive(*args)


def _random_base(n: int, seed: int) -> crmcore.CustomerBase:
    rng = np.random.default_rng(seed)
    T = rng.integers(1, 729, n) / 7.0
    x, tx, t_obs = simulate_bgnbd(n, r=0.6, alpha=3.0, a=0.7, b=2.5, T=T, seed=seed + 1,
                                  precision=1 / 7)
    money = np.where(x > 0, rng.gamma(5.0, 8.0, n), 0.0)
    return crmcore.CustomerBase.from_summary(np.arange(n), x, tx, t_obs, money, time_unit="W")


@pytest.mark.parametrize(
    ("model", "params"),
    [(BGNBD, {"r": 0.6, "alpha": 3.0, "a": 0.7, "b": 2.5}),
     (BGNBD, {"r": 0.6, "alpha": 3.0, "a": 1.0, "b": 2.5}),  # the a = 1 limit
     (MBGNBD, {"r": 0.6, "alpha": 3.0, "a": 0.7, "b": 2.5}),
     (ParetoNBD, {"r": 0.55, "alpha": 10.6, "s": 0.6, "beta": 11.7})],
)
def test_factorised_cash_flows_equal_the_generic_sum(model: Any, params: dict[str, float]
                                                     ) -> None:
    base = _random_base(60_000, 3)
    fitted = model.from_params(**params)
    spend = GammaGamma.from_params(p=6.25, q=3.74, v=15.44)
    kwargs: dict[str, Any] = {"margin": 0.3, "discount_rate": 0.002, "time_unit": "W",
                              "horizon": 52, "data_time_unit": "W"}
    data = (base.frequency, base.recency, base.T, base.monetary_value)
    fast = lifetime_value(fitted, spend, data, **kwargs)
    slow = lifetime_value(_GenericOnly(fitted), spend, data, **kwargs)
    assert fast.expected_purchases is not None
    assert slow.expected_purchases is not None
    np.testing.assert_allclose(fast.clv, slow.clv, rtol=1e-10, atol=0)
    np.testing.assert_allclose(fast.expected_purchases, slow.expected_purchases, rtol=1e-10,
                               atol=1e-300)
    np.testing.assert_allclose(fast.p_alive, slow.p_alive, rtol=1e-12)


def test_partial_last_step_and_bootstrap_use_the_same_sum() -> None:
    base = _random_base(3_000, 5)
    fitted = BGNBD().fit(base)
    spend = GammaGamma().fit(base)
    kwargs: dict[str, Any] = {"margin": 0.25, "discount_rate": 0.01, "time_unit": "W",
                              "horizon": 10.5, "step": 4.0}
    fast = lifetime_value(fitted, spend, base, **kwargs)
    slow = lifetime_value(_GenericOnly(fitted), spend, base, **kwargs)
    np.testing.assert_allclose(fast.clv, slow.clv, rtol=1e-10)
    banded = lifetime_value(fitted, spend, base, level=0.8, n_draws=20, seed=1, **kwargs)
    assert banded.lower is not None
    assert banded.upper is not None
    assert np.all(banded.lower <= banded.upper)


@given(st.lists(st.integers(-50, 3_000), min_size=1, max_size=200),
       st.sampled_from([1.0, 1 / 7, 0.5, 1e-3]))
def test_column_codes_match_numpy_unique(values: list[int], scale: float) -> None:
    column = np.asarray(values, dtype=np.float64) * scale
    unique, codes = column_codes(column)
    expected_unique, expected_codes = np.unique(column, return_inverse=True)
    np.testing.assert_array_equal(unique, expected_unique)
    np.testing.assert_array_equal(codes, expected_codes.reshape(-1))


@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 400), st.integers(0, 400)),
                min_size=1, max_size=300))
def test_compress_rows_restores_every_row(rows: list[tuple[int, int, int]]) -> None:
    x, tx, t = (np.asarray(c, dtype=np.float64) for c in zip(*rows, strict=True))
    (ux, utx, ut), weights, inverse = compress_rows(x, tx / 7.0, t)
    np.testing.assert_array_equal(ux[inverse], x)
    np.testing.assert_array_equal(utx[inverse], tx / 7.0)
    np.testing.assert_array_equal(ut[inverse], t)
    assert weights.sum() == len(rows)
    assert len(set(rows)) == len(ux)
