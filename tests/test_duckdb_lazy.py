"""The DuckDB path: a relation in a real database file, a SQL query over Parquet files and a
directory of Parquet files are summarised inside DuckDB (only per-customer-period rows come
back), with the same base as pandas on the same rows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import crmcore
from crmcore import _lazy
from crmcore._time import period_index

duckdb = pytest.importorskip("duckdb")
pd = pytest.importorskip("pandas")


def _log(n: int, seed: int) -> Any:
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, n // 4 + 1, n)
    at = (np.datetime64("1968-11-03T10:00", "us")  # before 1970 as well
          + rng.integers(0, 20_000, n).astype("timedelta64[D]")
          + rng.integers(0, 86_400, n).astype("timedelta64[s]"))
    return pd.DataFrame({"customer": [f"c{i:04d}" for i in ids], "at": at,
                         "amount": np.round(rng.gamma(2.0, 20.0, n), 2),
                         "margin": np.round(rng.normal(5.0, 8.0, n), 2)})


def _same(a: crmcore.CustomerBase, b: crmcore.CustomerBase) -> None:
    for column in ("customer_id", "frequency", "recency", "T", "first_purchase"):
        np.testing.assert_array_equal(getattr(a, column), getattr(b, column), err_msg=column)
    np.testing.assert_allclose(a.monetary_value, b.monetary_value, rtol=1e-12)
    assert a.history is not None
    assert b.history is not None
    assert a.history.margin is not None
    assert b.history.margin is not None
    for column in ("indptr", "period", "count"):
        np.testing.assert_array_equal(getattr(a.history, column), getattr(b.history, column))
    np.testing.assert_allclose(a.history.amount, b.history.amount, rtol=1e-12)
    np.testing.assert_allclose(a.history.margin, b.history.margin, rtol=1e-9, atol=1e-9)
    assert a.observation_end == b.observation_end


KWARGS: dict[str, Any] = {"customer_id": "customer", "monetary_value": "amount",
                          "margin": "margin"}


@pytest.mark.parametrize(("freq", "unit"), [("D", "W"), ("W", "W"), ("M", "Q"), ("Q", "Y"),
                                            ("Y", "Y")])
def test_relation_in_a_database_file(tmp_path: Path, freq: str, unit: str) -> None:
    log = _log(3_000, 1)
    path = tmp_path / "shop.duckdb"
    with duckdb.connect(str(path)) as con:
        con.register("frame", log)
        con.execute("create table purchases as select * from frame")
    with duckdb.connect(str(path), read_only=True) as con:
        relation = con.table("purchases")
        lazy = crmcore.CustomerBase.from_transactions(relation, freq=freq, time_unit=unit,
                                                      **KWARGS)
    eager = crmcore.CustomerBase.from_transactions(log, freq=freq, time_unit=unit, **KWARGS)
    _same(lazy, eager)


def test_sql_over_parquet_and_a_parquet_directory(tmp_path: Path) -> None:
    log = _log(2_000, 2)
    folder = tmp_path / "log"
    folder.mkdir()
    for part, rows in enumerate(np.array_split(np.arange(len(log)), 3)):
        log.iloc[rows].to_parquet(folder / f"part-{part}.parquet")
    eager = crmcore.CustomerBase.from_transactions(log, **KWARGS)
    with duckdb.connect() as con:
        relation = con.sql(f"select * from read_parquet('{folder}/*.parquet') where amount >= 0")
        _same(crmcore.CustomerBase.from_transactions(relation, **KWARGS), eager)
    _same(crmcore.CustomerBase.from_transactions(folder, **KWARGS), eager)
    _same(crmcore.CustomerBase.from_transactions(str(folder / "part-0.parquet"), **KWARGS),
          crmcore.CustomerBase.from_transactions(log.iloc[:667], **KWARGS))
    with pytest.raises(crmcore.DataError):
        crmcore.CustomerBase.from_transactions(tmp_path / "missing", **KWARGS)


def test_checks_run_inside_duckdb() -> None:
    log = _log(200, 3)
    with duckdb.connect() as con:
        bad = log.copy()
        bad.loc[3, "amount"] = -2.0
        con.register("bad", bad)
        with pytest.raises(crmcore.InvalidValueError) as info:
            crmcore.CustomerBase.from_transactions(con.table("bad"), **KWARGS)
        assert info.value.field == "amount"
        con.register("good", log)
        with pytest.raises(crmcore.LateTransactionError) as late:
            crmcore.CustomerBase.from_transactions(con.table("good"),
                                                   observation_end="1970-01-01", **KWARGS)
        assert late.value.field == "at"
        with pytest.raises(crmcore.UnknownColumnError):
            crmcore.CustomerBase.from_transactions(con.table("good"), customer_id="who")
        empty = con.sql("select * from good where amount < 0")
        with pytest.raises(crmcore.EmptyDataError):
            crmcore.CustomerBase.from_transactions(empty, **KWARGS)


@settings(max_examples=12)  # each example starts a DuckDB connection
@given(st.lists(st.datetimes(min_value=dt.datetime(1, 1, 1),
                             max_value=dt.datetime(9999, 12, 31)), min_size=1, max_size=200),
       st.sampled_from(["D", "W", "M", "Q", "Y"]))
def test_engine_periods_equal_numpy_periods(times: list[dt.datetime], freq: str) -> None:
    frame = pd.DataFrame({"at": np.asarray(times, dtype="datetime64[us]")})
    import narwhals.stable.v2 as nw

    with duckdb.connect() as con:
        con.register("t", frame)
        got = (nw.from_native(con.table("t"))
               .select(_lazy._period(nw.col("at"), freq).alias("p")).collect()["p"].to_numpy())
    np.testing.assert_array_equal(np.asarray(got, dtype=np.int64),
                                  period_index(frame["at"].to_numpy(), freq))
