"""Scoring a whole base: crmcore.score against lifetimes' CLV, same data, same process.

    python benchmarks/bench_scoring.py            # 1,000,000 customers
    python benchmarks/bench_scoring.py --quick    # 100,000 customers

Both sides use already fitted BG/NBD and Gamma-Gamma models with the same parameters and value
each customer over 12 steps of 4.345 weeks at 1% per step (lifetimes'
``customer_lifetime_value(time=12, freq="W", discount_rate=0.01)``, whose "month" of weekly
data is 4.345 weeks).
crmcore's score also computes P(alive), expected purchases, historical and potential value
parts and the CLV drivers. Prints seconds, the ratio and the largest CLV difference.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter

import crmcore
from crmcore.value import BGNBD, GammaGamma, simulate_bgnbd

PARAMS = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
SPEND = {"p": 6.25, "q": 3.74, "v": 15.44}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100,000 customers")
    args = parser.parse_args()
    n = 100_000 if args.quick else 1_000_000
    rng = np.random.default_rng(7)
    T = np.floor(rng.uniform(1, 78, n) * 7) / 7
    x, tx, t_obs = simulate_bgnbd(n, **PARAMS, T=T, seed=8, precision=1 / 7)
    money = np.where(x > 0, np.round(rng.gamma(6.0, 6.0, n), 2), 0.0)
    base = crmcore.CustomerBase.from_summary(np.arange(n), x, tx, t_obs, money, time_unit="W")

    purchases = BGNBD.from_params(**PARAMS)
    spend = GammaGamma.from_params(**SPEND)
    step = 4.345  # lifetimes' month of weekly data, stated
    start = time.perf_counter()
    weekly_rate = 1.01 ** (1 / step) - 1  # 1% per 4.345-week step, as a rate per week
    scores = crmcore.score(base, value_model=purchases, spend_model=spend, margin=1.0,
                           discount_rate=weekly_rate, time_unit="W", horizon=12 * step,
                           step=step,
                           lifecycle_model=False, loyalty_model=False)
    ours = time.perf_counter() - start

    bgf = BetaGeoFitter()
    bgf.params_ = pd.Series(PARAMS)
    bgf.predict = bgf.conditional_expected_number_of_purchases_up_to_time  # set by fit()
    ggf = GammaGammaFitter()
    ggf.params_ = pd.Series(SPEND)
    series = [pd.Series(a) for a in (x, tx, t_obs, money)]
    start = time.perf_counter()
    theirs_clv = ggf.customer_lifetime_value(bgf, *series, time=12, discount_rate=0.01,
                                             freq="W").to_numpy()
    theirs = time.perf_counter() - start

    difference = np.max(np.abs(scores.clv - theirs_clv) / np.maximum(np.abs(theirs_clv), 1e-9))
    print(f"scoring {n:,} customers, 12 steps of 4.345 weeks at 1% per step")
    print(f"  crmcore.score                      {ours:8.2f} s")
    print(f"  lifetimes customer_lifetime_value  {theirs:8.2f} s")
    print(f"  ratio                              {theirs / ours:8.1f}x")
    print(f"  largest relative CLV difference    {difference:8.1e}")


if __name__ == "__main__":
    main()
