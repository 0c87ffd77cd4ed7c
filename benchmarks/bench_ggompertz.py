"""Fitting the Gamma-Gompertz/NBD: CDNOW and simulated customers.

    python benchmarks/bench_ggompertz.py            # 100,000 simulated customers
    python benchmarks/bench_ggompertz.py --quick    # 20,000

Steps:

1. The CDNOW 1/10 sample (2,357 customers, weeks): the fit, which follows the likelihood to
   the Pareto/NBD limit (b, beta -> 0, beta/b fixed) as CLVTools' published fit does and is
   fitted on that boundary (ConvergenceWarning, ``boundary_``); its time, log-likelihood and
   beta/b beside crmcore's and lifetimes' Pareto/NBD.
2. CLVTools' apparel data (600 customers, weeks, calibration to 2006-12-31): the same.
3. Simulated customers with ageing lifetimes (r=0.8, alpha=5, b=0.3, s=1.5, beta=20, T between
   20 and 80 weeks): fit time, largest relative parameter error, prediction times; one
   likelihood-and-gradient evaluation and one exact Hessian on all customers.

Times are wall-clock, with the process's CPU time beside them (the machine may be shared).
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from lifetimes import ParetoNBDFitter

from crmcore import ConvergenceError, ConvergenceWarning, CustomerBase
from crmcore.datasets import load_cdnow_summary
from crmcore.value import GGompertzNBD, ParetoNBD, simulate_ggompertz_nbd

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
TRUTH = {"r": 0.8, "alpha": 5.0, "b": 0.3, "s": 1.5, "beta": 20.0}


def _timed(step: Callable[[], Any]) -> tuple[str, Any]:
    """``"wall s (cpu s)"`` and the step's result."""
    start, cpu = time.perf_counter(), time.process_time()
    result = step()
    return (f"{time.perf_counter() - start:7.3f} s ({time.process_time() - cpu:6.3f} s cpu)",
            result)


def beside_pareto(label: str, base: CustomerBase) -> None:
    """The GGompertz/NBD fit on ``base`` beside crmcore's and lifetimes' Pareto/NBD."""
    print(f"{label}: {len(base)} customers")

    def fit() -> str:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            try:
                model = GGompertzNBD().fit(base)
            except ConvergenceError as exc:
                return f"ConvergenceError: {exc}"
        p = model.params_
        where = "on the boundary" if model.boundary_ is not None else "inside"
        return (f"{where}: LL {model.log_likelihood_:.6f}, r={p['r']:.6g}, "
                f"alpha={p['alpha']:.6g}, b={p['b']:.6g}, s={p['s']:.6g}, "
                f"beta={p['beta']:.6g}")

    seconds, outcome = _timed(fit)
    print(f"  GGompertz/NBD            {seconds}  {outcome}")
    seconds, model = _timed(lambda: ParetoNBD().fit(base))
    print(f"  Pareto/NBD (crmcore)     {seconds}  LL {model.log_likelihood_:.6f}, "
          f"beta={model.params_['beta']:.6g}")
    seconds, _ = _timed(lambda: ParetoNBDFitter().fit(base.frequency, base.recency, base.T))
    print(f"  Pareto/NBD (lifetimes)   {seconds}")


def apparel() -> CustomerBase:
    """CLVTools' apparel calibration base (weeks, split 2006-12-31)."""
    log = pd.read_csv(DATA / "apparelTrans.csv")
    return CustomerBase.from_transactions(
        log, customer_id="Id", datetime="Date", monetary_value="Price", freq="D",
        time_unit="W").calibration_holdout("2006-12-31").calibration


def simulated(n: int) -> None:
    x, tx, t_obs = simulate_ggompertz_nbd(n, **TRUTH, T=np.linspace(20, 80, n), seed=1)
    print(f"simulated GGompertz/NBD: {n} customers")
    seconds, model = _timed(lambda: GGompertzNBD().fit(x, tx, t_obs))
    error = max(abs(model.params_[p] / v - 1) for p, v in TRUTH.items())
    print(f"  fit                      {seconds}  max rel. error {error:.3f}")
    data = (x.astype(np.float64), tx, t_obs)
    theta = np.array(list(TRUTH.values()))
    seconds, _ = _timed(lambda: model._log_likelihood_terms(theta, data, gradient=True))
    print(f"  likelihood + gradient    {seconds}")
    seconds, _ = _timed(lambda: model._log_likelihood_hessian(theta, data, np.ones(len(x))))
    print(f"  exact Hessian            {seconds}")
    predictions: tuple[tuple[str, Callable[[], Any]], ...] = (
        ("P(alive)", lambda: model.p_alive(x, tx, t_obs)),
        ("E[Y(26)]", lambda: model.expected_purchases(26.0, x, tx, t_obs)),
        ("DERT", lambda: model.dert(0.002, x, tx, t_obs)),
    )
    for label, predict in predictions:
        seconds, _ = _timed(predict)
        print(f"  {label:<24} {seconds}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 simulated customers")
    args = parser.parse_args()
    beside_pareto("CDNOW", load_cdnow_summary())
    beside_pareto("apparel", apparel())
    simulated(20_000 if args.quick else 100_000)


if __name__ == "__main__":
    main()
