"""Time the segmentation schemes on a synthetic base of many customers.

Usage: ``python benchmarks/bench_segmentation.py [--quick] [--customers N]``. Prints the best of
three timings per scheme (each includes computing the counts, shares and the Pareto share).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from crmcore.value import (
    Segmentation,
    Split,
    bank_classes,
    card_tier,
    importance,
    loyalty_ladder,
    portfolio,
    pyramid,
    rfm_scores,
    rfm_segments,
)


def _best_of(repeats: int, job: Callable[[], Segmentation[Any]]) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        seg = job()
        seg.summary()
        seg.pareto_share()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100,000 customers")
    parser.add_argument("--customers", type=int, default=None)
    args = parser.parse_args()
    n = args.customers or (100_000 if args.quick else 1_000_000)
    rng = np.random.default_rng(2001)
    historical = rng.gamma(0.5, 200.0, n)
    potential = rng.gamma(0.8, 100.0, n)
    tenure = rng.uniform(0.0, 78.0, n)
    purchases = rng.poisson(3.0, n).astype(np.float64)
    assets = rng.lognormal(11.0, 1.5, n)
    loyalty = rng.uniform(0.0, 100.0, n)
    since_last = rng.uniform(0.0, 78.0, n)

    jobs: dict[str, Callable[[], Segmentation[Any]]] = {
        "portfolio (median)": lambda: portfolio(historical, potential),
        "pyramid (quantile 0.8)": lambda: pyramid(historical, potential,
                                                  split=Split.quantile(0.8)),
        "importance": lambda: importance(historical),
        "loyalty ladder": lambda: loyalty_ladder(tenure, purchases, established_after=52.0,
                                                 loyal_purchases=5),
        "bank seven classes": lambda: bank_classes(assets, loyalty,
                                                   inactive=since_last > 70.0),
        "card tiers": lambda: card_tier(assets),
        "rfm scores + segments": lambda: rfm_segments(
            rfm_scores(since_last, purchases, historical), value=historical),
    }
    print(f"segmentation of {n:,} customers (best of 3)")
    for name, job in jobs.items():
        print(f"  {name:<24} {_best_of(3, job) * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
