"""Beyond one process: Dask (a LocalCluster of 2 workers) and DuckDB against the in-memory path.

    python benchmarks/bench_scale.py --purchases 2000000
    python benchmarks/bench_scale.py --quick            # 200,000 purchases

1. Dask: the log (``simlog.py``) written as Parquet (8 files) and read with
   ``dask.dataframe.read_parquet``; ``crmcore.dask.score(...)`` computed on a
   ``distributed.LocalCluster`` with 2 worker processes of 1 thread, against one process doing
   ``CustomerBase.from_transactions`` + ``crmcore.score`` + ``to_frame`` on the pandas log read
   from the same files. Wall clock, both in this process's session.
2. DuckDB: ``CustomerBase.from_transactions`` on the Parquet directory (summarised inside
   DuckDB) against the same call on the pandas frame read from it; peak resident set size of
   each in a fresh child process (``VmHWM``, Linux), reading included.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from simlog import observation_end, simulate_log

import crmcore

SCORE: dict[str, Any] = {"margin": 0.3, "discount_rate": 0.002, "time_unit": "W",
                         "horizon": 52}


def write_parquet(n_purchases: int, folder: Path) -> int:
    log = simulate_log(round(n_purchases / 7.5), seed=11)
    for part, rows in enumerate(np.array_split(np.arange(len(log)), 8)):
        log.iloc[rows].to_parquet(folder / f"part-{part}.parquet")
    return len(log)


def one_process(folder: Path) -> float:
    import pandas as pd

    start = time.perf_counter()
    log = pd.read_parquet(folder)
    base = crmcore.CustomerBase.from_transactions(
        log, datetime="date", monetary_value="amount", freq="D", time_unit="W",
        observation_end=observation_end())
    crmcore.score(base, **SCORE).to_frame()
    return time.perf_counter() - start


def with_dask(folder: Path) -> float:
    import dask.dataframe as dd
    import distributed

    from crmcore import dask as crm_dask

    with distributed.LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster, distributed.Client(cluster):  # type: ignore[no-untyped-call]
        start = time.perf_counter()
        log = dd.read_parquet(str(folder))
        frame = crm_dask.score(log, datetime="date", monetary_value="amount", freq="D",
                               base_time_unit="W", observation_end=observation_end(),
                               **SCORE).compute()
        seconds = time.perf_counter() - start
    assert len(frame) > 0
    return seconds


def _peak(target: str, folder: str, queue: Any) -> None:
    import pandas as pd

    data: Any = folder if target == "duckdb" else pd.read_parquet(folder)
    crmcore.CustomerBase.from_transactions(data, datetime="date", monetary_value="amount",
                                           freq="D", time_unit="W",
                                           observation_end=observation_end())
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            queue.put(int(line.split()[1]) / 1024)


def peak(target: str, folder: Path) -> float:
    context = mp.get_context("spawn")  # a fresh interpreter: nothing inherited
    queue = context.Queue()
    child = context.Process(target=_peak, args=(target, str(folder), queue))
    child.start()
    result: float = queue.get()
    child.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--purchases", type=int, default=2_000_000)
    args = parser.parse_args()
    n = 200_000 if args.quick else args.purchases
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows = write_parquet(n, folder)
        print(f"{rows:,} purchases in 8 Parquet files")
        single = one_process(folder)
        distributed_seconds = with_dask(folder)
        print(f"  one process (pandas + crmcore.score)   {single:7.2f} s")
        print(f"  Dask, LocalCluster of 2 workers         {distributed_seconds:7.2f} s "
              f"({single / distributed_seconds:.2f}x)")
        print(f"  peak RSS, from_transactions on pandas   {peak('pandas', folder):7.0f} MB")
        print(f"  peak RSS, from_transactions in DuckDB   {peak('duckdb', folder):7.0f} MB")


if __name__ == "__main__":
    main()
