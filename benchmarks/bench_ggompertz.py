"""Fitting the Gamma-Gompertz/NBD: CDNOW and simulated customers.

    python benchmarks/bench_ggompertz.py            # 100,000 simulated customers
    python benchmarks/bench_ggompertz.py --quick    # 20,000

Steps:

1. The CDNOW 1/10 sample (2,357 customers, weeks): the fit, which follows the likelihood to
   the Pareto/NBD limit (b, beta -> 0) as CLVTools' published fit does and then raises
   ConvergenceError; its time and end point, beside crmcore's and lifetimes' Pareto/NBD.
2. Simulated customers with ageing lifetimes (r=0.8, alpha=5, b=0.3, s=1.5, beta=20, T between
   20 and 80 weeks): fit time, largest relative parameter error, prediction times.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from lifetimes import ParetoNBDFitter

from crmcore import ConvergenceError
from crmcore.datasets import load_cdnow_summary
from crmcore.value import GGompertzNBD, ParetoNBD, simulate_ggompertz_nbd

TRUTH = {"r": 0.8, "alpha": 5.0, "b": 0.3, "s": 1.5, "beta": 20.0}


def _timed(step: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = step()
    return time.perf_counter() - start, result


def cdnow() -> None:
    base = load_cdnow_summary()
    print(f"CDNOW: {len(base)} customers")
    start = time.perf_counter()
    try:
        GGompertzNBD().fit(base)
        outcome = "fitted"
    except ConvergenceError as exc:
        end = ", ".join(f"{n}={v:.4g}" for n, v in zip(GGompertzNBD.param_names,
                                                       exc.diagnostics["params"], strict=True))
        outcome = f"ConvergenceError at {end}"
    print(f"  GGompertz/NBD            {time.perf_counter() - start:7.3f} s  {outcome}")
    seconds, model = _timed(lambda: ParetoNBD().fit(base))
    print(f"  Pareto/NBD (crmcore)     {seconds:7.3f} s  LL {model.log_likelihood_:.4f}")
    seconds, _ = _timed(lambda: ParetoNBDFitter().fit(base.frequency, base.recency, base.T))
    print(f"  Pareto/NBD (lifetimes)   {seconds:7.3f} s")


def simulated(n: int) -> None:
    x, tx, t_obs = simulate_ggompertz_nbd(n, **TRUTH, T=np.linspace(20, 80, n), seed=1)
    print(f"simulated GGompertz/NBD: {n} customers")
    seconds, model = _timed(lambda: GGompertzNBD().fit(x, tx, t_obs))
    error = max(abs(model.params_[p] / v - 1) for p, v in TRUTH.items())
    print(f"  fit                      {seconds:7.3f} s  max rel. error {error:.3f}")
    predictions: tuple[tuple[str, Callable[[], Any]], ...] = (
        ("P(alive)", lambda: model.p_alive(x, tx, t_obs)),
        ("E[Y(26)]", lambda: model.expected_purchases(26.0, x, tx, t_obs)),
        ("DERT", lambda: model.dert(0.002, x, tx, t_obs)),
    )
    for label, predict in predictions:
        seconds, _ = _timed(predict)
        print(f"  {label:<24} {seconds:7.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 simulated customers")
    args = parser.parse_args()
    cdnow()
    simulated(20_000 if args.quick else 100_000)


if __name__ == "__main__":
    main()
