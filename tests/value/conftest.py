"""Shared reference data of the value-model tests: CLVTools' apparel customers (weekly,
estimation split 2006-12-31) with their static and weekly covariates (tests/data/README.md)."""

from __future__ import annotations

from pathlib import Path

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
