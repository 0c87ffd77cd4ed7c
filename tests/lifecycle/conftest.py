"""Synthetic purchase logs with a known lifecycle stage per customer, and shared fixtures."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from numpy.typing import NDArray

import crmcore.datasets
from crmcore import CustomerBase
from crmcore.lifecycle import LifecycleStage

WEEKS = 104
START = np.datetime64("2024-01-01")  # a Monday: week k of the log starts START + 7k days


def _weekly_log(
    rng: np.random.Generator, prob: NDArray[np.float64], spend: NDArray[np.float64],
    first_id: int,
) -> tuple[NDArray[np.int64], NDArray[np.datetime64], NDArray[np.float64]]:
    """Purchases from per-customer, per-week purchase probabilities (rows: customers)."""
    spend = np.broadcast_to(spend, prob.shape)
    buys = rng.random(prob.shape) < prob
    rows, weeks = np.nonzero(buys)
    days = rng.integers(0, 7, size=len(rows))
    at = START + (weeks * 7 + days).astype("timedelta64[D]")
    amount = spend[rows, weeks] * rng.lognormal(0.0, 0.2, size=len(rows))
    return rows + first_id, at, amount


def synthetic_log(n_per_stage: int = 200, seed: int = 7) -> tuple[pd.DataFrame, dict[int, Any]]:
    """A two-year weekly log whose customers are clearly new, growing, steady, declining or
    ended at its end, with the stage each was built to be in."""
    rng = np.random.default_rng(seed)
    week = np.arange(WEEKS, dtype=np.float64)
    n = n_per_stage
    ids: list[NDArray[np.int64]] = []
    ats: list[NDArray[np.datetime64]] = []
    amounts: list[NDArray[np.float64]] = []
    truth: dict[int, Any] = {}

    def add(prob: NDArray[np.float64], spend: NDArray[np.float64], stage: LifecycleStage,
            force_week: NDArray[np.int64] | None = None) -> None:
        if force_week is not None:  # make sure each customer buys in the given week
            prob = prob.copy()
            prob[np.arange(len(prob)), force_week] = 1.0
        first = len(truth)
        r, a, m = _weekly_log(rng, prob, spend, first)
        ids.append(r)
        ats.append(a)
        amounts.append(m)
        for k in range(len(prob)):
            truth[first + k] = stage

    start = rng.integers(0, 20, size=(n, 1))  # relationship began in the first 20 weeks
    alive = week[None, :] >= start
    ones = np.ones((n, WEEKS))

    # New: first purchase in the last six weeks, maybe one more after it.
    new_start = rng.integers(WEEKS - 6, WEEKS, size=n)
    prob = np.where(week[None, :] > new_start[:, None], 0.2, 0.0)
    add(prob, 40 * ones, LifecycleStage.EXPLORATION, force_week=new_start)

    # Growing: joined 40-60 weeks before the end, buying ever more often and more.
    g_start = rng.integers(WEEKS - 60, WEEKS - 40, size=(n, 1))
    ramp = np.clip((week[None, :] - g_start) / (WEEKS - g_start), 0, 1)
    prob = np.where(week[None, :] >= g_start, 0.1 + 0.8 * ramp, 0.0)
    add(prob, 30 + 40 * ramp, LifecycleStage.FORMATION,
        force_week=g_start[:, 0].astype(np.int64))

    # Steady: the same pace and spend for up to two years.
    add(np.where(alive, 0.5, 0.0), 50 * ones, LifecycleStage.STABILITY,
        force_week=start[:, 0].astype(np.int64))

    # Declining: steady until 30 weeks before the end, then buying less often and less;
    # still buying in the last four weeks.
    fade = np.clip((week[None, :] - (WEEKS - 30)) / 30, 0, 1)
    prob = np.where(alive, 0.6 - 0.5 * fade, 0.0)
    add(prob, 60 - 40 * fade, LifecycleStage.DECLINE,
        force_week=rng.integers(WEEKS - 4, WEEKS, size=n))

    # Ended: steady buyers who stopped 30-60 weeks before the end.
    stop = rng.integers(WEEKS - 60, WEEKS - 30, size=(n, 1))
    prob = np.where(alive & (week[None, :] < stop), 0.5, 0.0)
    add(prob, 50 * ones, LifecycleStage.TERMINATED, force_week=start[:, 0].astype(np.int64))

    frame = pd.DataFrame({
        "customer_id": np.concatenate(ids),
        "at": np.concatenate(ats),
        "amount": np.concatenate(amounts),
    })
    return frame, truth


@pytest.fixture(scope="session")
def synthetic_frame() -> tuple[pd.DataFrame, dict[int, Any], str]:
    """The synthetic log, the true stage per customer, and the log's last day."""
    frame, truth = synthetic_log()
    end = START + np.timedelta64(WEEKS * 7 - 1, "D")
    return frame, truth, str(end)


@pytest.fixture(scope="session")
def synthetic(synthetic_frame: tuple[pd.DataFrame, dict[int, Any], str]
              ) -> tuple[CustomerBase, dict[int, Any]]:
    """The synthetic log as a weekly base observed to its last day, with the true stages."""
    frame, truth, end = synthetic_frame
    base = CustomerBase.from_transactions(frame, monetary_value="amount", freq="W",
                                          observation_end=end)
    return base, truth


class FakeValueModel:
    """A stand-in value model: P(alive) from a fixed formula of (frequency, recency, T)."""

    def __init__(self, answer: Any = None) -> None:
        self.answer = answer
        self.calls = 0

    def p_alive(self, frequency: Any, recency: Any, T: Any) -> Any:
        self.calls += 1
        if self.answer is not None:
            return self.answer
        f = np.asarray(frequency, dtype=float)
        gap = np.asarray(T, dtype=float) - np.asarray(recency, dtype=float)
        return np.where(f > 0, np.exp(-gap / (1.0 + np.asarray(T, dtype=float))), 1.0)


@pytest.fixture
def fake_value_model() -> FakeValueModel:
    """A fresh stand-in value model."""
    return FakeValueModel()


# -- the full CDNOW master file (shipped inside lifetimes) ------------------------------------


def load_cdnow_master() -> CustomerBase:
    """The full CDNOW master file (it ships inside lifetimes; skips the test without it)."""
    pytest.importorskip("lifetimes")
    return crmcore.datasets.load_cdnow_master()


@pytest.fixture(scope="session")
def cdnow_master() -> CustomerBase:
    """The full CDNOW master file as a base (see :func:`load_cdnow_master`)."""
    return load_cdnow_master()
