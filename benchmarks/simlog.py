"""A simulated purchase log for the end-to-end benchmarks (BG/NBD's own story, daily dates).

Each customer makes a first purchase on a day spread uniformly over the first
``acquisition_days`` of the window; while alive she buys at Poisson rate ``lambda ~ Gamma(r,
alpha)`` per day and drops out after each repeat purchase with probability ``p ~ Beta(a, b)``.
Repeat purchase times are the first ``min(N, K)`` order statistics of ``N ~ Poisson(lambda T)``
uniform times on ``(0, T]`` (``K`` geometric: the purchase after which she drops out), generated
without materialising the ``N - min(N, K)`` purchases she never makes. Amounts are gamma
distributed per transaction with a customer-level mean.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

START = np.datetime64("2020-01-01", "D")


def simulate_log_arrays(
    n_customers: int,
    *,
    window_days: int = 730,
    acquisition_days: int = 365,
    r: float = 0.9,
    alpha: float = 30.0,
    a: float = 0.8,
    b: float = 6.0,
    seed: int = 1,
) -> dict[str, NDArray[Any]]:
    """``{"customer_id", "date", "amount"}`` columns of a simulated log (about 7.5 purchases
    per customer with the defaults)."""
    rng = np.random.default_rng(seed)
    first = rng.integers(0, acquisition_days, n_customers)
    horizon = (window_days - first).astype(np.float64)  # days from first purchase to the end
    lam = rng.gamma(r, 1.0 / alpha, n_customers)
    p = rng.beta(a, b, n_customers)
    possible = rng.poisson(lam * horizon)
    lifetime = rng.geometric(p)  # drops out right after her lifetime-th repeat purchase
    made = np.minimum(possible, lifetime)
    # first `made` of `possible` sorted uniforms: partial sums of exponentials over the sum of
    # possible + 1 of them (the rest summed as one gamma draw)
    total = int(made.sum())
    owner = np.repeat(np.arange(n_customers), made)
    gaps = rng.exponential(1.0, total)
    starts = np.concatenate([[0], np.cumsum(made)[:-1]])
    running = np.cumsum(gaps)
    partial = running - np.repeat(np.concatenate([[0.0], running])[starts], made)
    seg_total = np.zeros(n_customers)
    has = made > 0
    seg_total[has] = partial[starts[has] + made[has] - 1]
    rest = rng.gamma(np.maximum(possible - made + 1, 1).astype(np.float64), 1.0)
    scale = horizon / (seg_total + rest)
    repeat_day = first[owner] + np.floor(partial * scale[owner]).astype(np.int64)
    repeat_day = np.minimum(repeat_day, window_days)
    ids = np.concatenate([np.arange(n_customers), owner])
    days = np.concatenate([first, repeat_day])
    order = np.argsort(ids, kind="stable")
    ids, days = ids[order], days[order]
    mean_spend = rng.gamma(6.0, 6.0, n_customers)
    amounts = np.round(rng.gamma(4.0, mean_spend[ids] / 4.0), 2)
    dates = (START + days.astype("timedelta64[D]")).astype("datetime64[us]")
    return {"customer_id": ids.astype(np.int64), "date": dates, "amount": amounts}


def observation_end(window_days: int = 730) -> np.datetime64:
    """The last day of the simulated window."""
    return START + np.timedelta64(window_days, "D")


def simulate_log(n_customers: int, **kwargs: Any) -> Any:
    """:func:`simulate_log_arrays` as a pandas frame."""
    import pandas as pd

    return pd.DataFrame(simulate_log_arrays(n_customers, **kwargs))
