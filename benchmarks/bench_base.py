"""Summarising a transaction log: crmcore's CustomerBase against lifetimes, same data, same process.

    python benchmarks/bench_base.py            # 200,000 customers, about 1.4 million purchases
    python benchmarks/bench_base.py --quick    # 20,000 customers

Prints wall-clock seconds for each and the ratio lifetimes / crmcore, after checking that the
two summaries agree.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from lifetimes.utils import summary_data_from_transaction_data

import crmcore


def simulate_log(n_customers: int, seed: int = 1) -> pd.DataFrame:
    """A purchase log: each customer buys a Poisson number of times on random days of 2020-21."""
    rng = np.random.default_rng(seed)
    purchases = rng.poisson(6.0, n_customers) + 1
    ids = np.repeat(np.arange(n_customers), purchases)
    first = rng.integers(0, 365, n_customers)
    offsets = rng.integers(0, 365, len(ids))
    days = np.repeat(first, purchases) + np.where(
        np.r_[True, ids[1:] != ids[:-1]], 0, offsets)
    dates = np.datetime64("2020-01-01") + days.astype("timedelta64[D]")
    amounts = np.round(rng.gamma(2.0, 20.0, len(ids)), 2)
    return pd.DataFrame({"customer_id": ids, "date": dates.astype("datetime64[us]"),
                         "amount": amounts})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a small log, for CI and nox")
    parser.add_argument("--customers", type=int, default=None)
    args = parser.parse_args()
    n = args.customers or (20_000 if args.quick else 200_000)
    log = simulate_log(n)

    start = time.perf_counter()
    base = crmcore.CustomerBase.from_transactions(log, monetary_value="amount", datetime="date",
                                                  freq="D", time_unit="W")
    ours = time.perf_counter() - start

    start = time.perf_counter()
    theirs_summary = summary_data_from_transaction_data(
        log, "customer_id", "date", monetary_value_col="amount", freq="D", freq_multiplier=7)
    theirs = time.perf_counter() - start

    for column in ("frequency", "recency", "T", "monetary_value"):
        np.testing.assert_allclose(getattr(base, column), theirs_summary[column].to_numpy(),
                                   atol=1e-9, err_msg=column)
    print(f"summary of {n:,} customers, {len(log):,} purchases (daily periods in weeks)")
    print(f"  crmcore   {ours:8.3f} s")
    print(f"  lifetimes {theirs:8.3f} s")
    print(f"  ratio     {theirs / ours:8.1f}x faster")


if __name__ == "__main__":
    main()
