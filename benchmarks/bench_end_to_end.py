"""End to end, from a raw purchase log to a table of scores: crmcore against lifetimes.

    python benchmarks/bench_end_to_end.py                 # 1M, 5M and 10M purchases
    python benchmarks/bench_end_to_end.py --quick         # 100k, 300k, 1M purchases
    python benchmarks/bench_end_to_end.py --sizes 5000000 --no-growth

The log (``simlog.py``): customers simulated from the BG/NBD story over two years of days,
first purchases spread over the first year, about 7.5 purchases per customer, a gamma amount per
purchase. Both pipelines get the same pandas frame in the same process:

* lifetimes: ``summary_data_from_transaction_data`` (daily precision in weeks), ``BetaGeoFitter``,
  ``GammaGammaFitter`` on the repeat buyers, ``customer_lifetime_value`` (12 "months" of
  4.345 weeks at 1% a month) -- one CLV column;
* crmcore: ``CustomerBase.from_transactions`` (the same summary), ``crmcore.score`` (BG/NBD and
  Gamma-Gamma fitted inside, 52 weekly cash-flow steps, value parts, drivers, P(alive),
  expected purchases, lifecycle stage, loyalty index), ``Scores.to_frame()``.

crmcore does more work (52 steps, stage and loyalty); the times are those a user pays. Time is
wall clock, both pipelines in this process (the ratio lifetimes / crmcore is printed), and
each pipeline's total CPU time (user + system) with the load average around the two runs: on
a shared machine the CPU times are the steadier comparison. Peak
memory is each pipeline's peak resident set size (``VmHWM`` of ``/proc/self/status``, Linux),
measured in a forked child that starts from this process (log already in memory) after its
high-water mark is reset; printed as the peak and as the increase over the resident size at
the start. The script checks that the two summaries agree (1e-9) and that the two BG/NBD fits
agree (1e-3 relative).

The growth tables (crmcore only) time each step at 3 numbers of customers (same purchases per
customer) and 3 purchases per customer (same customers).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))

from simlog import observation_end, simulate_log

import crmcore

PURCHASES_PER_CUSTOMER = 7.5  # about, with simlog's defaults


def lifetimes_pipeline(log: pd.DataFrame) -> dict[str, Any]:
    """Summary, BG/NBD, Gamma-Gamma and a year of CLV with lifetimes."""
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.utils import summary_data_from_transaction_data

    times: dict[str, float] = {}
    start = time.perf_counter()
    summary = summary_data_from_transaction_data(
        log, "customer_id", "date", monetary_value_col="amount",
        observation_period_end=pd.Timestamp(observation_end()), freq="D", freq_multiplier=7)
    times["summary"] = time.perf_counter() - start
    mark = time.perf_counter()
    bgf = BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
    times["fit BG/NBD"] = time.perf_counter() - mark
    mark = time.perf_counter()
    repeat = summary[summary["frequency"] > 0]
    ggf = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    times["fit Gamma-Gamma"] = time.perf_counter() - mark
    mark = time.perf_counter()
    clv = ggf.customer_lifetime_value(bgf, summary["frequency"], summary["recency"],
                                      summary["T"], summary["monetary_value"], time=12,
                                      discount_rate=0.01, freq="W")
    frame = pd.DataFrame({"clv": clv})
    times["score"] = time.perf_counter() - mark
    times["total"] = time.perf_counter() - start
    return {"times": times, "summary": summary, "params": dict(bgf.params_),
            "rows": len(frame)}


def crmcore_pipeline(log: pd.DataFrame) -> dict[str, Any]:
    """Summary, score (fits inside) and a frame of every score with crmcore."""
    from crmcore.value import BGNBD, GammaGamma

    times: dict[str, float] = {}
    start = time.perf_counter()
    base = crmcore.CustomerBase.from_transactions(
        log, customer_id="customer_id", datetime="date", monetary_value="amount", freq="D",
        time_unit="W", observation_end=observation_end())
    times["summary"] = time.perf_counter() - start
    mark = time.perf_counter()
    purchases = BGNBD().fit(base)
    times["fit BG/NBD"] = time.perf_counter() - mark
    mark = time.perf_counter()
    spend = GammaGamma().fit(base)
    times["fit Gamma-Gamma"] = time.perf_counter() - mark
    mark = time.perf_counter()
    scores = crmcore.score(base, value_model=purchases, spend_model=spend, margin=0.3,
                           discount_rate=(1.01 ** (12 / 52) - 1), time_unit="W", horizon=52)
    times["score"] = time.perf_counter() - mark
    mark = time.perf_counter()
    frame = scores.to_frame()
    times["frame"] = time.perf_counter() - mark
    times["total"] = time.perf_counter() - start
    return {"times": times, "base": base, "params": purchases.params_, "rows": len(frame)}


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _peak_child(pipeline: Callable[[pd.DataFrame], Any], log: pd.DataFrame,
                queue: Any) -> None:
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak resident size
    before = _status_kb("VmRSS")
    pipeline(log)
    queue.put((_status_kb("VmHWM") / 1024, (_status_kb("VmHWM") - before) / 1024))


def peak_memory(pipeline: Callable[[pd.DataFrame], Any], log: pd.DataFrame
                ) -> tuple[float, float]:
    """``(peak MB, increase over the start in MB)`` of ``pipeline(log)`` in a forked child."""
    context = mp.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_peak_child, args=(pipeline, log, queue))
    child.start()
    result: tuple[float, float] = queue.get()
    child.join()
    return result


def compare(n_purchases: int, *, memory: bool) -> None:
    n_customers = round(n_purchases / PURCHASES_PER_CUSTOMER)
    log = simulate_log(n_customers, seed=3)
    print(f"\n{len(log):,} purchases by {n_customers:,} customers")
    if memory:  # first, so the forked children start from the log alone
        ours_peak, ours_more = peak_memory(crmcore_pipeline, log)
        theirs_peak, theirs_more = peak_memory(lifetimes_pipeline, log)
    load_before = os.getloadavg()[0]
    cpu = time.process_time()
    ours = crmcore_pipeline(log)
    ours_cpu = time.process_time() - cpu
    cpu = time.process_time()
    theirs = lifetimes_pipeline(log)
    theirs_cpu = time.process_time() - cpu
    base, summary = ours["base"], theirs["summary"]
    for column in ("frequency", "recency", "T", "monetary_value"):
        np.testing.assert_allclose(getattr(base, column), summary[column].to_numpy(),
                                   atol=1e-9, err_msg=column)
    ratio_params = max(abs(ours["params"][k] / theirs["params"][k] - 1) for k in ours["params"])
    assert ratio_params < 1e-3, (ours["params"], theirs["params"])
    print(f"  {'step':<16} {'crmcore s':>10} {'lifetimes s':>12} {'ratio':>7}")
    for step in ("summary", "fit BG/NBD", "fit Gamma-Gamma", "score", "frame", "total"):
        a, b = ours["times"].get(step), theirs["times"].get(step)
        text_b = f"{b:12.2f}" if b is not None else f"{'':>12}"
        text_r = f"{b / a:6.1f}x" if b is not None and a else ""
        print(f"  {step:<16} {a:10.2f} {text_b} {text_r}")
    print(f"  {'total CPU':<16} {ours_cpu:10.2f} {theirs_cpu:12.2f} {theirs_cpu / ours_cpu:6.1f}x"
          "   (user + system seconds of this process: what the machine's other jobs do "
          "not inflate)")
    print(f"  load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after")
    print(f"  BG/NBD parameters agree to {ratio_params:.1e} relative")
    if memory:
        print(f"  peak RSS MB      crmcore {ours_peak:8.0f} (+{ours_more:.0f})   "
              f"lifetimes {theirs_peak:8.0f} (+{theirs_more:.0f})")


def growth(sizes: list[int], per_customer: list[float], customers: int) -> None:
    """crmcore's steps at several numbers of customers and of purchases per customer."""
    print("\ngrowth with customers (about 7.5 purchases each); seconds, 'rest' = fits, score "
          "and frame, 'cpu' = CPU seconds of the whole pipeline")
    print(f"  {'customers':>10} {'purchases':>11} {'summary':>8} {'rest':>7} {'total':>7} "
          f"{'cpu':>7} {'load':>5}")
    for n in sizes:
        log = simulate_log(n, seed=4)
        cpu = time.process_time()
        times = crmcore_pipeline(log)["times"]
        cpu = time.process_time() - cpu
        rest = times["total"] - times["summary"]
        print(f"  {n:>10,} {len(log):>11,} {times['summary']:8.3f} {rest:7.3f} "
              f"{times['total']:7.3f} {cpu:7.3f} {os.getloadavg()[0]:5.1f}")
    print(f"\ngrowth with purchases per customer ({customers:,} customers)")
    print(f"  {'per customer':>12} {'purchases':>11} {'summary':>8} {'rest':>7} {'total':>7} "
          f"{'cpu':>7} {'load':>5}")
    for level in per_customer:
        # the purchase rate scales with alpha (Gamma rate); dropout held fixed
        log = simulate_log(customers, seed=5, alpha=30.0 * PURCHASES_PER_CUSTOMER / level,
                           b=6.0 * level / PURCHASES_PER_CUSTOMER)
        cpu = time.process_time()
        times = crmcore_pipeline(log)["times"]
        cpu = time.process_time() - cpu
        rest = times["total"] - times["summary"]
        print(f"  {len(log) / customers:12.1f} {len(log):>11,} {times['summary']:8.3f} "
              f"{rest:7.3f} {times['total']:7.3f} {cpu:7.3f} {os.getloadavg()[0]:5.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small logs, for CI and nox")
    parser.add_argument("--sizes", type=int, nargs="*", help="numbers of purchases")
    parser.add_argument("--no-memory", action="store_true", help="skip peak memory")
    parser.add_argument("--no-growth", action="store_true", help="skip the growth tables")
    parser.add_argument("--growth-only", action="store_true",
                        help="only the growth tables (crmcore alone)")
    args = parser.parse_args()
    sizes = args.sizes or ([100_000, 300_000, 1_000_000] if args.quick
                           else [1_000_000, 5_000_000, 10_000_000])
    # warm-up: imports and first touches, so neither side pays them in the timings
    warm = simulate_log(2_000, seed=9)
    crmcore_pipeline(warm)
    lifetimes_pipeline(warm)
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, pandas {pd.__version__}, "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    for size in [] if args.growth_only else sizes:
        compare(size, memory=not args.no_memory)
    if not args.no_growth:
        scale = 10 if args.quick else 1
        growth([100_000 // scale, 300_000 // scale, 1_000_000 // scale], [2.5, 7.5, 25.0],
               200_000 // scale)


if __name__ == "__main__":
    main()
