"""Small firms' data: random small logs (30-200 customers) from a BG/NBD process, through the
whole path (log -> CustomerBase -> BG/NBD or Pareto/NBD + gamma-gamma -> crmcore.score).

Prints, per value model, the share of logs with finite scores, the share that end in a named
crmcore error (by class), the share fitted on the boundary of the parameter space, and the
time per case (median and max). Issue 11's target: at least 90% finite scores, the rest a
named error, each within seconds.

    PYTHONPATH=src python benchmarks/bench_small_firms.py [n_cases] [--model bgnbd|pareto-nbd]
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np
import pandas as pd

import crmcore
from crmcore.value._simulate import simulate_bgnbd_log


def one_case(seed: int, value_model: str = "bgnbd") -> tuple[str, float, bool]:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(30, 201))
    log = pd.DataFrame(simulate_bgnbd_log(
        n, r=float(rng.uniform(0.2, 2.0)), alpha=float(rng.uniform(5.0, 200.0)),
        a=float(rng.uniform(0.2, 3.0)), b=float(rng.uniform(0.5, 6.0)),
        days=int(rng.integers(60, 366)), seed=rng))
    start = time.perf_counter()
    try:
        base = crmcore.CustomerBase.from_transactions(
            log, monetary_value="amount", freq="D", time_unit="W",
            observation_end="2021-01-01")
        repeat = base.frequency > 0
        spend: float | None = 30.0
        if repeat.sum() >= 2 and np.ptp(base.monetary_value[repeat]) > 0:
            spend = None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", crmcore.ConvergenceWarning)
            scores = crmcore.score(base, margin=0.3, discount_rate=0.002, time_unit="W",
                                   horizon=52.0, value_model=value_model, spend_model=spend)
    except crmcore.CRMError as exc:
        return type(exc).__name__, time.perf_counter() - start, False
    elapsed = time.perf_counter() - start
    finite = (np.all(np.isfinite(scores.clv)) and np.all(np.isfinite(scores.p_alive))
              and bool(np.all((scores.p_alive >= 0) & (scores.p_alive <= 1))))
    boundary = any("boundary" in note for note in scores.notes)
    return ("finite" if finite else "NOT FINITE"), elapsed, boundary


def main(n_cases: int = 200, value_model: str = "bgnbd") -> None:
    outcomes: dict[str, int] = {}
    times = []
    on_boundary = 0
    for seed in range(n_cases):
        outcome, elapsed, boundary = one_case(seed, value_model)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        times.append(elapsed)
        on_boundary += boundary
    finite = outcomes.get("finite", 0)
    named = sum(v for k, v in outcomes.items() if k not in ("finite", "NOT FINITE"))
    print(f"{n_cases} small random logs (30-200 customers, BG/NBD process), value model "
          f"{value_model}")
    print(f"finite scores: {finite / n_cases:.1%} (fitted on the boundary: "
          f"{on_boundary / n_cases:.1%}); named errors: {named / n_cases:.1%}; "
          f"outcomes: {outcomes}")
    print(f"time per case: median {np.median(times):.3f} s, max {np.max(times):.3f} s")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    model = sys.argv[sys.argv.index("--model") + 1] if "--model" in sys.argv else "bgnbd"
    args = [a for a in args if a != model]
    main(int(args[0]) if args else 200, model)
