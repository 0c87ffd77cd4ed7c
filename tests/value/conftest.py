"""Shared reference data of the value-model tests: CLVTools' apparel customers (weekly,
estimation split 2006-12-31) with their static and weekly covariates (tests/data/README.md);
and central differences of per-row log-likelihood terms, to check exact gradients against."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmcore import CustomerBase

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="session")
def apparel() -> CustomerBase:
    """The apparel calibration base (600 customers, with spend)."""
    log = pd.read_csv(DATA / "apparelTrans.csv")
    return CustomerBase.from_transactions(
        log, customer_id="Id", datetime="Date", monetary_value="Price", freq="D",
        time_unit="W").calibration_holdout("2006-12-31").calibration


@pytest.fixture(scope="session")
def static_cov() -> pd.DataFrame:
    """One row per customer: Id, Gender, Channel (shared: a test that changes it copies it)."""
    return pd.read_csv(DATA / "apparelStaticCov.csv")


@pytest.fixture(scope="session")
def static(static_cov: pd.DataFrame) -> pd.DataFrame:
    """The static covariates under the name the time-varying tests give them."""
    return static_cov


@pytest.fixture(scope="session")
def dyncov() -> pd.DataFrame:
    """Weekly covariates per customer: Id, Cov.Date, High.Season, Gender, Channel."""
    return pd.read_csv(DATA / "apparelDynCov.csv.gz")


@pytest.fixture(scope="session")
def constant(dyncov: pd.DataFrame, static_cov: pd.DataFrame) -> pd.DataFrame:
    """The static covariates as a weekly series (constant per customer)."""
    return dyncov[["Id", "Cov.Date"]].merge(static_cov, on="Id")


RowTerms = Callable[[np.ndarray], np.ndarray]


def _central_differences(terms: RowTerms, theta: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """``(rows, parameters)``: the derivative of each row's term in each entry of ``theta``
    by central differences of step ``h``."""
    columns = []
    for j in range(len(theta)):
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        columns.append((terms(up) - terms(down)) / (2 * h))
    return np.column_stack(columns)


@pytest.fixture(scope="session")
def central_differences() -> Callable[..., np.ndarray]:
    """:func:`_central_differences`, for the exact-gradient tests."""
    return _central_differences
