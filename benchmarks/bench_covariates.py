"""Fitting BTYD models with static covariates: the apparel data and simulated customers.

    python benchmarks/bench_covariates.py            # 100,000 simulated customers
    python benchmarks/bench_covariates.py --quick    # 20,000, well under a minute

Steps:

1. CLVTools' apparel data (600 customers, 104 weeks, Gender and Channel on both processes):
   Pareto/NBD with covariates, the same with Gender constrained, and BG/NBD with purchase
   covariates; beside them the covariate-free Pareto/NBD fit by crmcore and by lifetimes
   (which has no covariates) in the same process, ratio lifetimes / crmcore. CLVTools (R) is
   not run here; its published log-likelihoods are printed for comparison.
2. Simulated customers (two 0/1 covariates and one standard-normal one on both processes,
   known coefficients, T = 52 weeks, daily precision): Pareto/NBD and BG/NBD fits with
   covariates, the largest absolute error of the coefficients, and P(alive) plus 52-week
   expected purchases for every customer with the 0/1 covariates only (predictions are
   evaluated per distinct covariate row).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from lifetimes import ParetoNBDFitter

from crmcore import CustomerBase
from crmcore.value import BGNBD, ParetoNBD

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"


def _timed(step: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = step()
        best = min(best, time.perf_counter() - start)
    return best, result


def apparel() -> None:
    log = pd.read_csv(DATA / "apparelTrans.csv")
    cov = pd.read_csv(DATA / "apparelStaticCov.csv")
    base = CustomerBase.from_transactions(
        log, customer_id="Id", datetime="Date", monetary_value="Price", freq="D",
        time_unit="W").calibration_holdout("2006-12-31").calibration
    print(f"apparel: {len(base)} customers")
    for label, step, published in (
        ("Pareto/NBD + Gender, Channel", lambda: ParetoNBD().fit(
            base, covariates=cov, customer_id="Id"), -5821.0627),
        ("Pareto/NBD, Gender constrained", lambda: ParetoNBD().fit(
            base, covariates=cov, customer_id="Id", constrain=["Gender"]), -5826.5342),
        ("BG/NBD + purchase covariates", lambda: BGNBD().fit(
            base, covariates=cov, customer_id="Id", life=[]), None),
    ):
        seconds, model = _timed(step, repeat=3)
        ref = "" if published is None else f" (CLVTools published {published:.4f})"
        print(f"  {label:<32} {seconds:7.3f} s  LL {model.log_likelihood_:.4f}{ref}")
    x, tx, t_obs = (np.asarray(a, dtype=float) for a in (base.frequency, base.recency, base.T))
    ours, _ = _timed(lambda: ParetoNBD().fit(base), repeat=3)
    theirs, _ = _timed(lambda: ParetoNBDFitter().fit(x, tx, t_obs), repeat=1)
    print(f"  Pareto/NBD without covariates: crmcore {ours:.3f} s, lifetimes {theirs:.3f} s, "
          f"ratio {theirs / ours:.1f}")


def simulated(n: int) -> None:
    rng = np.random.default_rng(2021)
    x1 = rng.integers(0, 2, n).astype(float)
    x2 = rng.integers(0, 2, n).astype(float)
    x3 = rng.normal(size=n)
    life = np.array([0.5, -0.4, 0.2])
    trans = np.array([-0.3, 0.6, 0.25])
    design = np.column_stack([x1, x2, x3])
    t_obs = np.full(n, 52.0)
    lam = rng.gamma(0.9, 1.0 / (6.0 * np.exp(-design @ trans)))
    mu = rng.gamma(0.8, 1.0 / (15.0 * np.exp(-design @ life)))
    end = np.minimum(rng.standard_exponential(n) / mu, t_obs)
    x = rng.poisson(lam * end)
    tx = np.where(x > 0, np.floor(end * rng.beta(np.maximum(x, 1), 1.0) * 7) / 7, 0.0)
    base = CustomerBase.from_summary(np.arange(n), x, tx, t_obs, time_unit="W")
    cov = pd.DataFrame({"id": np.arange(n), "a": x1, "b": x2, "c": x3})
    print(f"simulated: {n:,} customers, 3 covariates on both processes")
    seconds, model = _timed(lambda: ParetoNBD().fit(base, covariates=cov, customer_id="id"))
    est = model.params_
    err = max(abs(est[f"{p}.{c}"] - v) for p, values in (("life", life), ("trans", trans))
              for c, v in zip("abc", values, strict=True))
    print(f"  Pareto/NBD fit       {seconds:7.2f} s  max |coefficient error| {err:.3f}")
    seconds, bg = _timed(lambda: BGNBD().fit(base, covariates=cov, customer_id="id"))
    print(f"  BG/NBD fit           {seconds:7.2f} s  LL {bg.log_likelihood_:.1f} "
          f"(Pareto/NBD {model.log_likelihood_:.1f})")
    binary = cov[["id", "a", "b"]]
    seconds, _ = _timed(lambda: ParetoNBD().fit(base, covariates=binary, customer_id="id"))
    print(f"  Pareto/NBD fit, 0/1 covariates only {seconds:7.2f} s")
    fitted = ParetoNBD().fit(base, covariates=binary, customer_id="id")
    seconds, _ = _timed(lambda: (fitted.p_alive(base, covariates=binary),
                                 fitted.expected_purchases(52.0, base, covariates=binary)))
    print(f"  P(alive) + E[purchases] for all {seconds:7.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="20,000 simulated customers")
    args = parser.parse_args()
    apparel()
    simulated(20_000 if args.quick else 100_000)


if __name__ == "__main__":
    main()
