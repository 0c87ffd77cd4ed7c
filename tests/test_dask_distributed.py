"""The Dask path on a real ``distributed.LocalCluster`` with 2 workers: the summary as a
distributed group-by, and scoring partition by partition, both equal to the pandas path."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import crmcore

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")

pytestmark = pytest.mark.filterwarnings("ignore:Dask support is moving:FutureWarning")


def _log(n_customers: int, seed: int) -> Any:
    """A log from the BG/NBD story: Poisson purchases while alive, a dropout coin after each
    repeat purchase; first purchases over 300 days, observed until day 700."""
    rng = np.random.default_rng(seed)
    ids, days = [], []
    for customer in range(n_customers):
        first = int(rng.integers(0, 300))
        rate = rng.gamma(0.8, 1 / 25.0)
        dropout = rng.beta(1.0, 4.0)
        day, alive = float(first), True
        ids.append(customer * 7 + 3)
        days.append(first)
        while alive:
            day += rng.exponential(1 / rate)
            if day >= 700:
                break
            ids.append(customer * 7 + 3)
            days.append(int(day))
            alive = rng.random() > dropout
    at = (np.datetime64("2021-01-01T09:00", "us") + np.asarray(days).astype("timedelta64[D]")
          + rng.integers(0, 86_400, len(ids)).astype("timedelta64[s]"))
    return pd.DataFrame({"customer_id": np.asarray(ids), "at": at.astype("datetime64[us]"),
                         "amount": np.round(rng.gamma(3.0, 15.0, len(ids)), 2)})


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as dask_client:
        yield dask_client


def _same_base(a: crmcore.CustomerBase, b: crmcore.CustomerBase) -> None:
    for column in ("customer_id", "frequency", "recency", "T", "first_purchase"):
        np.testing.assert_array_equal(getattr(a, column), getattr(b, column), err_msg=column)
    np.testing.assert_allclose(a.monetary_value, b.monetary_value, rtol=1e-12)
    assert a.history is not None
    assert b.history is not None
    for column in ("indptr", "period", "count"):
        np.testing.assert_array_equal(getattr(a.history, column), getattr(b.history, column))
    np.testing.assert_allclose(a.history.amount, b.history.amount, rtol=1e-12)
    assert a.observation_end == b.observation_end


@pytest.mark.parametrize(("freq", "unit"), [("D", "W"), ("W", "W"), ("M", "M")])
def test_from_transactions_on_dask_is_a_distributed_group_by(client: Any, freq: str,
                                                             unit: str) -> None:
    log = _log(400, 1)
    lazy = dd.from_pandas(log, npartitions=4)
    kwargs: dict[str, Any] = {"monetary_value": "amount", "freq": freq, "time_unit": unit}
    from_dask = crmcore.CustomerBase.from_transactions(lazy, **kwargs)
    _same_base(from_dask, crmcore.CustomerBase.from_transactions(log, **kwargs))
    # the work ran on the cluster's workers
    assert client.run(lambda: True)


def test_dask_errors_are_named(client: Any) -> None:
    log = _log(50, 2)
    log.loc[5, "amount"] = -1.0
    with pytest.raises(crmcore.InvalidValueError) as info:
        crmcore.CustomerBase.from_transactions(dd.from_pandas(log, npartitions=2),
                                               monetary_value="amount")
    assert info.value.field == "amount"
    with pytest.raises(crmcore.UnknownColumnError):
        crmcore.CustomerBase.from_transactions(dd.from_pandas(log, npartitions=2),
                                               monetary_value="spend")


def test_score_per_partition_equals_one_process(client: Any) -> None:
    from crmcore import dask as crm_dask
    from crmcore.value import BGNBD, GammaGamma

    log = _log(600, 3)
    lazy = dd.from_pandas(log, npartitions=3)
    options: dict[str, Any] = {"margin": 0.3, "discount_rate": 0.002, "time_unit": "W",
                               "horizon": 26}
    scored = crm_dask.score(lazy, monetary_value="amount", freq="D", base_time_unit="W",
                            **options)
    assert isinstance(scored, dd.DataFrame)
    got = scored.compute().sort_values("customer_id").reset_index(drop=True)

    base = crmcore.CustomerBase.from_transactions(log, monetary_value="amount", freq="D",
                                                  time_unit="W")
    expected = crmcore.score(base, value_model=BGNBD(), spend_model=GammaGamma(),
                             **options).to_frame()
    assert list(got.columns) == list(expected.columns)
    np.testing.assert_array_equal(got["customer_id"].to_numpy(),
                                  expected["customer_id"].to_numpy())
    for column in expected.columns:
        ours, theirs = got[column].to_numpy(), expected[column].to_numpy()
        if column in ("potential_reason", "stage"):
            np.testing.assert_array_equal(ours.astype(str), theirs.astype(str), err_msg=column)
        else:
            np.testing.assert_allclose(ours.astype(float), theirs.astype(float), rtol=1e-7,
                                       atol=1e-9, equal_nan=True, err_msg=column)


def test_summary_and_pattern_fit(client: Any) -> None:
    from crmcore import dask as crm_dask
    from crmcore.value import BGNBD

    log = _log(300, 4)
    summary = crm_dask.summarise(dd.from_pandas(log, npartitions=3), monetary_value="amount",
                                 freq="D", time_unit="W")
    got = summary.compute().sort_values("customer_id")
    base = crmcore.CustomerBase.from_transactions(log, monetary_value="amount", freq="D",
                                                  time_unit="W")
    np.testing.assert_array_equal(got["frequency"].to_numpy(), base.frequency)
    np.testing.assert_allclose(got["recency"].to_numpy(), base.recency)
    value, _, _ = crm_dask.fit_models(summary, freq="D", time_unit="W")
    direct = BGNBD().fit(base)
    for name, estimate in direct.params_.items():
        assert value.params_[name] == pytest.approx(estimate, rel=1e-8)


def test_not_a_dask_frame() -> None:
    from crmcore import dask as crm_dask

    with pytest.raises(crmcore.DataError):
        crm_dask.score(_log(5, 1), margin=0.3, discount_rate=0.0, time_unit="W", horizon=4)
