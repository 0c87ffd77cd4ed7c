"""Fitting the Pareto/NBD with time-varying covariates: apparel data and simulated customers.

    python benchmarks/bench_dynamic_covariates.py            # 100,000 simulated customers
    python benchmarks/bench_dynamic_covariates.py --quick    # 20,000

Steps:

1. CLVTools' apparel data (600 customers, 104 weeks of calibration, weekly covariates
   ``apparelDynCov``): the static covariates as a constant time series (the fit equals the
   static model's, CLVTools' published LL -5821.0627), and High.Season on the purchase process
   with Gender, Channel on both. CLVTools (R) is not run here.
2. Simulated customers (80 weeks, a seasonal covariate and a static 0/1 one on both processes,
   known coefficients): fit time, largest coefficient error, P(alive), a 13-week forecast,
   DERT, P(no purchase) and ``crmcore.score`` with the covariate frame.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import crmcore
from crmcore import CustomerBase
from crmcore.value import ParetoNBDDynamic, simulate_pareto_nbd_dynamic

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
TRUTH = {"life.season": 0.7, "life.gender": -0.4, "trans.season": 0.9, "trans.gender": 0.3}


def _timed(step: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = step()
    return time.perf_counter() - start, result


def apparel() -> None:
    log = pd.read_csv(DATA / "apparelTrans.csv")
    dyn = pd.read_csv(DATA / "apparelDynCov.csv.gz")
    static = pd.read_csv(DATA / "apparelStaticCov.csv")
    base = CustomerBase.from_transactions(log, customer_id="Id", datetime="Date", freq="D",
                                          time_unit="W").calibration_holdout(
                                              "2006-12-31").calibration
    constant = dyn[["Id", "Cov.Date"]].merge(static, on="Id")
    print(f"apparel: {len(base)} customers, {len(dyn)} customer-weeks of covariates")
    for label, step in (
        ("constant (= static) covariates", lambda: ParetoNBDDynamic().fit(
            base, covariates=constant, customer_id="Id", datetime="Cov.Date")),
        ("High.Season on purchases", lambda: ParetoNBDDynamic().fit(
            base, covariates=dyn, customer_id="Id", datetime="Cov.Date",
            life=["Gender", "Channel"])),
    ):
        seconds, model = _timed(step)
        print(f"  {label:<32} {seconds:7.3f} s  LL {model.log_likelihood_:.4f}")


def simulated(n: int) -> None:
    weeks, ahead = 80, 13
    rng = np.random.default_rng(3)
    season = ((np.arange(weeks + ahead) % 26) < 8).astype(float)
    gender = rng.integers(0, 2, n).astype(float)
    cov = np.stack([np.broadcast_to(season[:weeks], (n, weeks)),
                    np.broadcast_to(gender[:, None], (n, weeks))], axis=2)
    seconds, (cust, when) = _timed(lambda: simulate_pareto_nbd_dynamic(
        r=0.9, alpha=8.0, s=0.8, beta=12.0, gamma_life=[0.7, -0.4], gamma_trans=[0.9, 0.3],
        covariates=cov, acquired=rng.uniform(0, 20, n), seed=4))
    day0 = np.datetime64("2020-01-05")
    log = pd.DataFrame({"id": cust, "at": day0 + np.floor(when * 7).astype("timedelta64[D]")})
    base = CustomerBase.from_transactions(
        log, customer_id="id", datetime="at", freq="D", time_unit="W",
        observation_end=str(day0 + np.timedelta64(weeks * 7 - 1, "D")))
    frame = pd.DataFrame({
        "id": np.repeat(np.arange(n), weeks + ahead),
        "week": np.tile(day0 + np.arange(weeks + ahead) * np.timedelta64(7, "D"), n),
        "season": np.tile(season, n), "gender": np.repeat(gender, weeks + ahead)})
    print(f"simulated: {n} customers, {len(log)} purchases (simulated in {seconds:.1f} s)")
    seconds, model = _timed(lambda: ParetoNBDDynamic().fit(
        base, covariates=frame, customer_id="id", datetime="week"))
    error = max(abs(model.params_[k] - v) for k, v in TRUTH.items())
    print(f"  fit                              {seconds:7.3f} s  largest coefficient error "
          f"{error:.3f}")
    seconds, _ = _timed(lambda: model.p_alive(base, covariates=frame))
    print(f"  P(alive)                         {seconds:7.3f} s")
    seconds, _ = _timed(lambda: model.expected_purchases(float(ahead), base, covariates=frame))
    print(f"  E[Y(13 weeks)]                   {seconds:7.3f} s")
    seconds, _ = _timed(lambda: model.dert(0.002, base, covariates=frame))
    print(f"  DERT (last row held)             {seconds:7.3f} s")
    seconds, _ = _timed(lambda: model.probability_of_no_purchase(float(ahead), base,
                                                                 covariates=frame))
    print(f"  P(no purchase in 13 weeks)       {seconds:7.3f} s")
    seconds, scores = _timed(lambda: crmcore.score(
        base, margin=0.3, discount_rate=0.002, time_unit="W", horizon=float(ahead),
        value_model=model, spend_model=20.0, covariates=frame, customer_id="id",
        datetime="week", loyalty_model=False))
    print(f"  crmcore.score, 13 weeks          {seconds:7.3f} s  "
          f"{len(scores.notes)} note(s), stages {scores.summary().stage_counts}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 simulated customers")
    args = parser.parse_args()
    apparel()
    simulated(20_000 if args.quick else 100_000)


if __name__ == "__main__":
    main()
