"""Lifecycle stages for a million customers: the rule classifier, churn risk and migration.

    python benchmarks/bench_lifecycle.py            # 1,000,000 customers, about 7 million purchases
    python benchmarks/bench_lifecycle.py --quick    # 50,000 customers

Builds the base from a simulated log (timed apart), then prints wall-clock seconds for
classifying every customer, for the lifecycle churn risk, for classifying at two cut-off dates
(stage migration) and for estimating a recency chain (MarkovCLV.fit).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import TypeVar

from bench_base import simulate_log  # the same simulated log as the summary benchmark

import crmcore
from crmcore.lifecycle import LifecycleClassifier, MarkovCLV, churn_risk, stage_migration

T = TypeVar("T")


def _timed(label: str, action: Callable[[], T]) -> T:
    start = time.perf_counter()
    result = action()
    print(f"{label:<44} {time.perf_counter() - start:8.2f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a small log, for CI and nox")
    parser.add_argument("--customers", type=int, default=None)
    args = parser.parse_args()
    n = args.customers or (50_000 if args.quick else 1_000_000)
    log = simulate_log(n)
    print(f"{n:,} customers, {len(log):,} purchases")
    base = _timed("build the base (not lifecycle)", lambda: crmcore.CustomerBase.from_transactions(
        log, monetary_value="amount", datetime="date", freq="D", time_unit="W"))
    classifier = LifecycleClassifier()
    result = _timed("classify every customer", lambda: classifier.classify(base))
    _timed("churn risk from lifecycle evidence", lambda: churn_risk(base, stages=result))
    _timed("stage migration, 2 cut-off dates", lambda: stage_migration(
        base, ["2021-06-30", "2021-12-15"], model=classifier))
    _timed("MarkovCLV.fit, monthly recency chain", lambda: MarkovCLV(freq="M").fit(base))
    counts = result.counts()
    print("stages:", ", ".join(f"{stage.value} {count:,}" for stage, count in counts.items()))


if __name__ == "__main__":
    main()
