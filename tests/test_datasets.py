"""Bundled data sets and the Dask path."""

from __future__ import annotations

import importlib.resources

import numpy as np
import pytest

import crmcore
from crmcore.datasets import (
    load_cdnow,
    load_cdnow_calibration,
    load_cdnow_summary,
    load_cdnow_transactions,
    load_donations,
)


@pytest.mark.parametrize("backend", ["pandas", "polars", "pyarrow"])
def test_cdnow_transactions_in_every_backend(backend: str) -> None:
    frame = load_cdnow_transactions(backend)  # type: ignore[arg-type]
    assert len(frame) == 6919
    assert list(frame.columns if backend != "pyarrow" else frame.column_names) == [
        "customer_id", "date", "quantity", "amount"]


def test_cdnow_facts() -> None:
    # 2,357 customers, 6,919 purchases, first purchases in Q1 1997, data to 30 June 1998.
    base = load_cdnow()
    assert len(base) == 2357
    assert base.history is not None
    assert int(base.history.count.sum()) == 6919
    assert base.first_purchase is not None
    assert str(base.first_purchase.max().astype("datetime64[D]")) <= "1997-03-31"
    assert str(base.observation_end.astype("datetime64[D]")) == "1998-06-30"  # type: ignore[union-attr]
    assert base.total_spend is not None
    total = load_cdnow_transactions()["amount"].sum()
    assert base.total_spend.sum() == pytest.approx(total)


def test_calibration_loader_matches_split() -> None:
    split = load_cdnow_calibration()
    assert split.duration_holdout == pytest.approx(39.0)
    np.testing.assert_array_equal(split.calibration.frequency, load_cdnow_summary().frequency)


def test_donations_patterns() -> None:
    # Fader, Hardie & Shang (2010), Table 1: 11,104 donors, 22 patterns over 6 opportunities.
    donations = load_donations()
    assert donations.weights.sum() == 11104
    assert len(donations.frequency) == 22
    assert set(donations.n_periods.tolist()) == {6}
    assert np.all(donations.recency >= donations.frequency)
    assert donations.weights[(donations.frequency == 0)].sum() == 3464


@pytest.mark.filterwarnings("ignore:Dask support is moving out of Narwhals:FutureWarning")
def test_dask_frames_give_the_same_base() -> None:
    dd = pytest.importorskip("dask.dataframe")
    frame = load_cdnow_transactions()
    lazy = dd.from_pandas(frame, npartitions=3)
    kwargs = {"customer_id": "customer_id", "datetime": "date", "monetary_value": "amount",
              "freq": "W"}
    from_dask = crmcore.CustomerBase.from_transactions(lazy, **kwargs)
    from_pandas = crmcore.CustomerBase.from_transactions(frame, **kwargs)
    for column in ("customer_id", "frequency", "recency", "T"):
        np.testing.assert_array_equal(getattr(from_dask, column), getattr(from_pandas, column))
    # spend is summed inside the engine, in its own order: equal to rounding
    np.testing.assert_allclose(from_dask.monetary_value, from_pandas.monetary_value,
                               rtol=1e-12)


def test_cdnow_master_is_the_full_cohort_read_from_lifetimes() -> None:
    pytest.importorskip("lifetimes")
    import lifetimes.utils
    import pandas as pd

    from crmcore.datasets import load_cdnow_master

    base = load_cdnow_master()
    assert len(base) == 23_570
    assert base.history is not None
    assert int(base.history.count.sum()) == 69_659  # every purchase (some share a day)
    # lifetimes' own summary of its own file agrees (days counted in weeks)
    raw = pd.read_csv(
        str(importlib.resources.files("lifetimes") / "datasets" / "CDNOW_master.txt"),
        sep=r"\s+", dtype={"date": str})
    raw["date"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    theirs = lifetimes.utils.summary_data_from_transaction_data(
        raw, "customer_id", "date", observation_period_end="1998-06-30", freq="D",
        freq_multiplier=1)
    np.testing.assert_array_equal(base.frequency, theirs["frequency"].to_numpy())
    np.testing.assert_allclose(base.recency * 7, theirs["recency"].to_numpy(), atol=1e-9)
    np.testing.assert_allclose(base.T * 7, theirs["T"].to_numpy(), atol=1e-9)


def test_cdnow_master_without_lifetimes_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from crmcore import MissingDependencyError
    from crmcore.datasets import load_cdnow_master

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(MissingDependencyError) as info:
        load_cdnow_master()
    assert info.value.extra == "lifetimes"
