"""The exact Hessian of the BG/NBD and MBG/NBD log-likelihood (``_log_likelihood_hessian``).

Checked against central differences of the exact gradient (itself checked against the
likelihood in test_bgnbd.py and test_mbgnbd.py), at points on both routes of the beta-function
ratio (moderate and very large ``a + b``), on CDNOW and on histories drawn by hypothesis; a fit
with it gives the estimates, log-likelihood and standard errors of a fit that differentiates
the gradient numerically (the base's fallback), and FHL 2005's published CDNOW estimates.
Also the compression the fit starts with: columns on a grid ``k / q`` (recency and T in weeks
with daily precision) are coded by counting, with the same result as ``np.unique``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

import crmcore
from crmcore._base import column_codes
from crmcore.datasets import load_cdnow_summary
from crmcore.value import BGNBD, MBGNBD

FloatArray = NDArray[np.float64]
PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # FHL 2005, CDNOW
POINTS = [
    [0.243, 4.414, 0.793, 2.426],
    [2.0, 0.5, 3.0, 0.7],
    [0.1, 30.0, 0.4, 9.0],
    [0.3, 5.0, 0.01, 0.02],
    [0.3, 5.0, 2e4, 6e4],  # a + b beyond 1e4: the sums route of the beta-function ratio
]


class _NumericBGNBD(BGNBD):
    """BG/NBD without its exact Hessian: the base's finite differences of the gradient."""

    def _log_likelihood_hessian(self, params: FloatArray, data: tuple[FloatArray, ...],
                                w: FloatArray) -> FloatArray | None:
        return None


class _NumericMBGNBD(MBGNBD):
    def _log_likelihood_hessian(self, params: FloatArray, data: tuple[FloatArray, ...],
                                w: FloatArray) -> FloatArray | None:
        return None


@pytest.fixture(scope="module")
def cdnow() -> crmcore.CustomerBase:
    return load_cdnow_summary()


def _columns(base: crmcore.CustomerBase) -> tuple[FloatArray, FloatArray, FloatArray]:
    return (np.asarray(base.frequency, dtype=np.float64),
            np.asarray(base.recency, dtype=np.float64), np.asarray(base.T, dtype=np.float64))


def _differenced(model: BGNBD | MBGNBD, params: FloatArray, data: tuple[FloatArray, ...],
                 w: FloatArray) -> FloatArray:
    """Central differences of the exact weighted gradient, in natural parameters."""
    k = len(params)
    out = np.empty((k, k))
    for i in range(k):
        h = 1e-6 * params[i]
        up, down = params.copy(), params.copy()
        up[i] += h
        down[i] -= h
        g_up = model._log_likelihood_terms(up, data, gradient=True)[1]
        g_down = model._log_likelihood_terms(down, data, gradient=True)[1]
        assert g_up is not None
        assert g_down is not None
        out[i] = (w @ g_up - w @ g_down) / (2 * h)
    return 0.5 * (out + out.T)


def _close(exact: FloatArray, numeric: FloatArray, rtol: float) -> None:
    # entries near zero are compared on the scale of the largest (differences carry noise)
    scale = np.abs(numeric) + 1e-3 * np.abs(numeric).max()
    assert np.all(np.abs(exact - numeric) <= rtol * scale), (exact, numeric)


@pytest.mark.parametrize("cls", [BGNBD, MBGNBD])
@pytest.mark.parametrize("point", POINTS)
def test_exact_hessian_matches_differences_of_the_gradient(
    cdnow: crmcore.CustomerBase, cls: type[BGNBD], point: list[float]
) -> None:
    data = _columns(cdnow)
    w = np.random.default_rng(3).integers(1, 4, size=len(data[0])).astype(np.float64)
    params = np.asarray(point)
    exact = cls()._log_likelihood_hessian(params, data, w)
    assert exact is not None
    assert exact.shape == (4, 4)
    np.testing.assert_array_equal(exact, exact.T)
    _close(exact, _differenced(cls(), params, data, w), rtol=1e-5)


@settings(deadline=None)
@given(
    params=st.tuples(st.floats(0.05, 10.0), st.floats(0.1, 100.0), st.floats(0.05, 10.0),
                     st.floats(0.05, 10.0)),
    rows=st.lists(st.tuples(st.integers(0, 300), st.floats(0.0, 1.0), st.floats(0.1, 500.0)),
                  min_size=1, max_size=30),
    modified=st.booleans(),
)
def test_exact_hessian_on_any_history(params: tuple[float, ...],
                                      rows: list[tuple[int, float, float]],
                                      modified: bool) -> None:
    x = np.array([r[0] for r in rows], dtype=np.float64)
    t_obs = np.array([r[2] for r in rows])
    tx = np.where(x > 0, np.array([r[1] for r in rows]) * t_obs, 0.0)
    data = (x, tx, t_obs)
    w = np.ones(len(x))
    model: BGNBD | MBGNBD = MBGNBD() if modified else BGNBD()
    p = np.asarray(params)
    exact = model._log_likelihood_hessian(p, data, w)
    assert exact is not None
    assert np.all(np.isfinite(exact))
    _close(exact, _differenced(model, p, data, w), rtol=1e-4)


@pytest.mark.parametrize(("cls", "numeric_cls"), [(BGNBD, _NumericBGNBD),
                                                  (MBGNBD, _NumericMBGNBD)])
@pytest.mark.parametrize("penalizer", [0.0, 0.01])
def test_fit_with_the_exact_hessian_equals_the_numeric_one(
    cdnow: crmcore.CustomerBase, cls: type[BGNBD], numeric_cls: type[BGNBD], penalizer: float
) -> None:
    exact = cls(penalizer=penalizer).fit(cdnow)
    numeric = numeric_cls(penalizer=penalizer).fit(cdnow)
    for name in exact.param_names:
        assert exact.params_[name] == pytest.approx(numeric.params_[name], rel=1e-8)
        assert exact.standard_errors_[name] == pytest.approx(numeric.standard_errors_[name],
                                                             rel=1e-6)
    assert exact.log_likelihood_ == pytest.approx(numeric.log_likelihood_, rel=1e-12)
    cov_exact: dict[str, Any] = exact.covariance_
    cov_numeric: dict[str, Any] = numeric.covariance_
    for a in exact.param_names:
        for b in exact.param_names:
            assert cov_exact[a][b] == pytest.approx(cov_numeric[a][b], rel=1e-5, abs=1e-12)


def test_published_cdnow_estimates_with_the_exact_hessian(cdnow: crmcore.CustomerBase) -> None:
    fitted = BGNBD().fit(cdnow)
    for name, value in PUBLISHED.items():
        assert round(fitted.params_[name], 3) == value
    assert round(fitted.log_likelihood_, 1) == -9582.4
    # the information is that of a maximum: positive definite
    assert min(fitted.optimizer_result_["information_eigenvalues"]) > 0


def test_covariates_keep_the_numeric_hessian(cdnow: crmcore.CustomerBase) -> None:
    # with covariates the parameter vector has coefficients too: the hook declines
    model = BGNBD()
    model._design = object()  # type: ignore[assignment]
    params = np.asarray(POINTS[0])
    assert model._log_likelihood_hessian(params, _columns(cdnow), np.ones(len(cdnow.T))) is None


# -- the compression the fit starts with: columns on a grid of 1/q counted, not sorted --------

@given(
    st.lists(st.integers(-200, 800), min_size=1, max_size=300),  # spread < 1024: counted
    st.sampled_from([7, 24, 12, 365, 1_000]),
    st.sampled_from(["divide", "multiply"]),
    st.lists(st.floats(-1e3, 1e4, allow_nan=False), max_size=3),
)
def test_column_codes_on_a_grid_match_numpy_unique(
    values: list[int], q: int, form: str, off_grid: list[float]
) -> None:
    k = np.asarray([*values, 0, 1], dtype=np.float64)  # the grid's own step occurs
    column = k / q if form == "divide" else k * (1.0 / q)
    for extra in ([], off_grid):  # on the grid, then with values off it
        both = np.concatenate([column, np.asarray(extra, dtype=np.float64)])
        unique, codes = column_codes(both)
        expected_unique, expected_codes = np.unique(both, return_inverse=True)
        np.testing.assert_array_equal(unique, expected_unique)
        np.testing.assert_array_equal(codes, expected_codes.reshape(-1))


def test_column_codes_with_tiny_gaps() -> None:
    column = np.array([0.0, 5e-324, 1e-300, 1.0, 1.0 + 2.0**-52, 3.5])
    unique, codes = column_codes(column)
    expected_unique, expected_codes = np.unique(column, return_inverse=True)
    np.testing.assert_array_equal(unique, expected_unique)
    np.testing.assert_array_equal(codes, expected_codes)


def test_column_codes_of_values_whose_differences_are_whole() -> None:
    # 93/7 - 23/7 == 10 exactly, but 23/7 + 10 != 93/7: the counting route must not rebuild
    # values from the smallest one
    column = np.array([23.0, 93.0, 23.0]) / 7.0
    unique, codes = column_codes(column)
    np.testing.assert_array_equal(unique, np.unique(column))
    np.testing.assert_array_equal(unique[codes], column)
