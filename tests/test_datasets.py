"""Bundled data sets and the Dask path."""

from __future__ import annotations

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
    for column in ("customer_id", "frequency", "recency", "T", "monetary_value"):
        np.testing.assert_array_equal(getattr(from_dask, column), getattr(from_pandas, column))
