"""Fitting BG/CNBD-k and MBG/CNBD-k: BTYDplus' grocery data and simulated customers.

    python benchmarks/bench_regularity.py            # 100,000 simulated customers
    python benchmarks/bench_regularity.py --quick    # 20,000

Steps:

1. ``groceryElog`` (1,525 customers, calibration to 2006-12-31, weeks): BG/CNBD-k and
   MBG/CNBD-k with k chosen by profile likelihood, and MBG/CNBD-k with k = 2 given; beside them
   crmcore's BG/NBD and MBG/NBD, and lifetimes' BG/NBD and MBG/NBD (no regularity) in the same
   process. Then P(alive), 52-week expected purchases and DERT for every customer. BTYDplus (R)
   is not run here.
2. CLVTools' ``apparelTrans`` (600 customers, weeks, calibration to 2006-12-31): the same fits
   with k chosen, beside BG/NBD by crmcore and by lifetimes, and crmcore's Wheat-Morrison
   regularity estimate.
3. Simulated MBG/CNBD-3 customers (BTYDplus' test parameters, T between 36 and 96 weeks):
   the fit with k given and with the profile over k, the largest relative error of the
   parameters, and the predictions for every customer.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from lifetimes import BetaGeoFitter, ModifiedBetaGeoFitter

from crmcore import CustomerBase
from crmcore.value import BGCNBD, BGNBD, MBGCNBD, MBGNBD, simulate_mbgcnbd, wheat_morrison

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
TRUTH = {"r": 0.85, "alpha": 1.45, "a": 0.79, "b": 2.42}


def _timed(step: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = step()
    return time.perf_counter() - start, result


def grocery() -> None:
    log = pd.read_csv(DATA / "groceryElog.csv")
    split = CustomerBase.from_transactions(log, customer_id="cust", datetime="date", freq="D",
                                           time_unit="W").calibration_holdout("2006-12-31")
    base = split.calibration
    print(f"grocery: {len(base)} customers")
    x, tx, t_obs = base.frequency, base.recency, base.T
    for label, step in (
        ("BG/CNBD-k, k chosen", lambda: BGCNBD().fit(base)),
        ("MBG/CNBD-k, k chosen", lambda: MBGCNBD().fit(base)),
        ("MBG/CNBD-k, k = 2", lambda: MBGCNBD(k=2).fit(base)),
        ("BG/NBD (crmcore)", lambda: BGNBD().fit(base)),
        ("MBG/NBD (crmcore)", lambda: MBGNBD().fit(base)),
    ):
        seconds, model = _timed(step)
        k = f"k={model.k_} " if hasattr(model, "k_") else ""
        print(f"  {label:<24} {seconds:7.3f} s  {k}LL {model.log_likelihood_:.2f}")
    for label, fitter in (("BG/NBD (lifetimes)", BetaGeoFitter),
                          ("MBG/NBD (lifetimes)", ModifiedBetaGeoFitter)):
        start = time.perf_counter()
        fitter().fit(x, tx, t_obs)
        print(f"  {label:<24} {time.perf_counter() - start:7.3f} s")
    fitted = MBGCNBD(k=2).fit(base)
    predictions: tuple[tuple[str, Callable[[], Any]], ...] = (
        ("P(alive)", lambda: fitted.p_alive(base)),
        ("E[Y(52)]", lambda: fitted.expected_purchases(52.0, base)),
        ("DERT (10% a year)", lambda: fitted.dert(np.log(1.1) / 52, base)),
    )
    for label, predict in predictions:
        seconds, _ = _timed(predict)
        print(f"  {label:<24} {seconds:7.3f} s")


def apparel() -> None:
    log = pd.read_csv(DATA / "apparelTrans.csv")
    full = CustomerBase.from_transactions(log, customer_id="Id", datetime="Date",
                                          monetary_value="Price", freq="D", time_unit="W")
    base = full.calibration_holdout("2006-12-31").calibration
    print(f"apparel: {len(base)} customers; Wheat-Morrison regularity "
          f"{wheat_morrison(full):.2f}")
    for label, step in (
        ("BG/CNBD-k, k chosen", lambda: BGCNBD().fit(base)),
        ("MBG/CNBD-k, k chosen", lambda: MBGCNBD().fit(base)),
        ("BG/NBD (crmcore)", lambda: BGNBD().fit(base)),
    ):
        seconds, model = _timed(step)
        k = f"k={model.k_} " if hasattr(model, "k_") else ""
        print(f"  {label:<24} {seconds:7.3f} s  {k}LL {model.log_likelihood_:.2f}")
    seconds, _ = _timed(lambda: BetaGeoFitter().fit(base.frequency, base.recency, base.T))
    print(f"  {'BG/NBD (lifetimes)':<24} {seconds:7.3f} s")


def simulated(n: int) -> None:
    rng = np.random.default_rng(7)
    t_obs = np.round(rng.uniform(36, 96, n) / 12) * 12
    x, tx, t_obs, litt = simulate_mbgcnbd(n, **TRUTH, k=3, T=t_obs, seed=8)
    print(f"simulated MBG/CNBD-3: {n} customers")
    for label, step in (("k = 3 given", lambda: MBGCNBD(k=3).fit(x, tx, t_obs, litt=litt)),
                        ("k chosen", lambda: MBGCNBD().fit(x, tx, t_obs, litt=litt))):
        seconds, model = _timed(step)
        error = max(abs(model.params_[p] / v - 1) for p, v in TRUTH.items())
        print(f"  {label:<24} {seconds:7.3f} s  k={model.k_}  max rel. error {error:.3f}")
    for label, predict in (
        ("P(alive)", lambda: model.p_alive(x, tx, t_obs)),
        ("E[Y(52)]", lambda: model.expected_purchases(52.0, x, tx, t_obs)),
        ("DERT", lambda: model.dert(0.002, x, tx, t_obs)),
    ):
        seconds, _ = _timed(predict)
        print(f"  {label:<24} {seconds:7.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 simulated customers")
    args = parser.parse_args()
    grocery()
    apparel()
    simulated(20_000 if args.quick else 100_000)


if __name__ == "__main__":
    main()
