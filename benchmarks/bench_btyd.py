"""Fitting and scoring BTYD models: crmcore against lifetimes, same simulated data, same process.

    python benchmarks/bench_btyd.py            # full sizes (see README.md; takes a while)
    python benchmarks/bench_btyd.py --quick    # small sizes, about a minute

Data: customers simulated from each model's own story with daily precision and varying T
(first purchases spread over two years, times in weeks, recency and T rounded down to whole
days), so identical rows occur only as often as they would in a real log. Each step prints
wall-clock seconds for crmcore and lifetimes (after a small warm-up fit with each; BG/NBD fits
and scoring are the best of three runs, the slow Pareto/NBD fits a single run), the ratio
lifetimes / crmcore, and the largest relative difference between the two fits' parameters.

Steps (full size / --quick):

1. BG/NBD fit, 1,000,000 / 100,000 customers; then the MBG/NBD (same data story, the modified
   dropout) and the gamma-gamma spend model (1 to about 15 repeat purchases per customer,
   CDNOW's published parameters) at the same sizes.
2. Pareto/NBD fit, 50,000 / 5,000 customers.
3. Pareto/NBD fit, 1,000,000 / 100,000 customers, crmcore only; lifetimes is tried in a child
   process with a time limit (``--lifetimes-limit`` seconds, default 1200; 0 skips it).
4. Scoring: P(alive) and expected purchases in the next 52 weeks for 1,000,000 / 100,000
   customers with the BG/NBD and the Pareto/NBD.
5. BG/BB fit (discrete opportunities), 1,000,000 / 100,000 customers with 6 opportunities (the
   donations setting) and 100,000 / 20,000 customers with 40 and 52 (a year of weeks), the same
   raw rows handed to both libraries; then 3,000 / 300 customers with as many opportunities
   each, crmcore only; then P(alive) and expected transactions in the next 10 opportunities for
   1,000,000 / 100,000 customers with 6 and with 52 opportunities. The log-likelihood of both
   fits is evaluated by crmcore's likelihood (checked term by term against the paper's sum in
   the tests).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
from lifetimes import (
    BetaGeoBetaBinomFitter,
    BetaGeoFitter,
    GammaGammaFitter,
    ModifiedBetaGeoFitter,
    ParetoNBDFitter,
)

from crmcore.value import (
    BGBB,
    BGNBD,
    MBGNBD,
    GammaGamma,
    ParetoNBD,
    simulate_bgbb,
    simulate_bgnbd,
    simulate_mbgnbd,
    simulate_pareto_nbd,
)

BG_PARAMS = {"r": 0.25, "alpha": 4.4, "a": 0.8, "b": 2.4}
GG_PARAMS = {"p": 6.25, "q": 3.74, "v": 15.44}  # Fader, Hardie & Lee (2005), CDNOW
BGBB_PARAMS = {"alpha": 1.20, "beta": 0.75, "gamma": 0.66, "delta": 2.78}  # donations-like
PARETO_PARAMS = {"r": 0.55, "alpha": 10.6, "s": 0.6, "beta": 11.7}
Data = tuple[Any, Any, Any]


def simulated(kind: str, n: int, seed: int) -> Data:
    """``n`` customers with first purchases spread over 104 weeks, daily precision."""
    rng = np.random.default_rng(seed)
    T = rng.integers(7, 729, size=n) / 7.0
    if kind == "bgnbd":
        return simulate_bgnbd(n, T=T, seed=seed + 1, precision=1 / 7, **BG_PARAMS)
    return simulate_pareto_nbd(n, T=T, seed=seed + 1, precision=1 / 7, **PARETO_PARAMS)


def timed(step: Callable[[], Any], repeat: int = 1) -> tuple[Any, float]:
    """The step's result and its best wall-clock time over ``repeat`` runs."""
    best = float("inf")
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = step()
        best = min(best, time.perf_counter() - start)
    return result, best


def warm_up() -> None:
    """One small fit with each library first, so that neither pays import and first-call
    costs inside a timing."""
    x, tx, T = simulated("bgnbd", 2_000, seed=99)
    BGNBD().fit(x, tx, T)
    BetaGeoFitter().fit(x, tx, T)
    ParetoNBD().fit(x, tx, T)


def largest_difference(ours: dict[str, float], theirs: Any) -> float:
    return max(abs(ours[name] / float(theirs[name]) - 1) for name in ours)


def log_likelihood_at(model: BGNBD | ParetoNBD | BGBB, params: Any, data: Data) -> float:
    """Total log-likelihood of ``data`` at ``params``, by crmcore's implementation."""
    vector = np.array([float(params[name]) for name in model.param_names])
    x, tx, T = (np.asarray(c, dtype=np.float64) for c in data)
    ll, _ = model._log_likelihood_terms(vector, (x, tx, T), gradient=False)
    return float(ll.sum())


def report(label: str, ours: float, theirs: float | None, note: str = "") -> None:
    if theirs is None:
        print(f"{label}: crmcore {ours:8.2f} s | lifetimes {note}")
    else:
        print(f"{label}: crmcore {ours:8.2f} s | lifetimes {theirs:8.2f} s | "
              f"ratio {theirs / ours:6.1f}x {note}")


def bench_bgnbd_fit(n: int) -> None:
    x, tx, T = simulated("bgnbd", n, seed=1)
    ours, t_ours = timed(lambda: BGNBD().fit(x, tx, T), repeat=3)
    theirs, t_theirs = timed(lambda: BetaGeoFitter().fit(x, tx, T), repeat=3)
    diff = largest_difference(ours.params_, theirs.params_)
    report(f"BG/NBD fit, {n:,} customers ({ours.optimizer_result_['nit']} iterations on "
           f"{ours._fitted().n_patterns:,} patterns)", t_ours, t_theirs,
           f"| parameters differ by at most {100 * diff:.3f}%")
    truth = max(abs(ours.params_[k] / v - 1) for k, v in BG_PARAMS.items())
    print(f"    crmcore {fmt(ours.params_)}; truth {fmt(BG_PARAMS)} (max rel. error "
          f"{100 * truth:.2f}%)")


def bench_mbgnbd_fit(n: int) -> None:
    rng = np.random.default_rng(7)
    T = rng.integers(7, 729, size=n) / 7.0
    x, tx, T = simulate_mbgnbd(n, T=T, seed=8, precision=1 / 7, **BG_PARAMS)
    ours, t_ours = timed(lambda: MBGNBD().fit(x, tx, T), repeat=3)
    theirs, t_theirs = timed(lambda: ModifiedBetaGeoFitter().fit(x, tx, T), repeat=3)
    diff = largest_difference(ours.params_, theirs.params_)
    report(f"MBG/NBD fit, {n:,} customers ({ours._fitted().n_patterns:,} patterns)", t_ours,
           t_theirs, f"| parameters differ by at most {100 * diff:.3f}%")


def bench_spend_fit(n: int) -> None:
    """Gamma-gamma on customers with 1 to ~15 repeat purchases and their mean spend, drawn
    from the model's story (each purchase ~ Gamma(p, nu), nu ~ Gamma(q, v))."""
    rng = np.random.default_rng(9)
    nu = rng.gamma(GG_PARAMS["q"], 1.0 / GG_PARAMS["v"], size=n)
    x = rng.poisson(3.0, size=n) + 1
    mean = rng.gamma(GG_PARAMS["p"] * x, 1.0 / (nu * x))
    ours, t_ours = timed(lambda: GammaGamma().fit(x, mean), repeat=3)
    theirs, t_theirs = timed(lambda: GammaGammaFitter().fit(x, mean), repeat=3)
    diff = largest_difference(ours.params_, theirs.params_)
    report(f"Gamma-gamma fit, {n:,} customers", t_ours, t_theirs,
           f"| parameters differ by at most {100 * diff:.3f}%")


def bench_pareto_fit(n: int) -> None:
    x, tx, T = simulated("pareto", n, seed=2)
    ours, t_ours = timed(lambda: ParetoNBD().fit(x, tx, T))
    theirs, t_theirs = timed(lambda: ParetoNBDFitter().fit(x, tx, T))
    diff = largest_difference(ours.params_, theirs.params_)
    report(f"Pareto/NBD fit, {n:,} customers ({ours._fitted().n_patterns:,} patterns)",
           t_ours, t_theirs, f"| parameters differ by at most {100 * diff:.3f}%")
    print(f"    crmcore {fmt(ours.params_)}, log-likelihood {ours.log_likelihood_:.2f}; "
          f"lifetimes {fmt({k: float(v) for k, v in theirs.params_.items()})}, "
          f"log-likelihood {log_likelihood_at(ours, theirs.params_, (x, tx, T)):.2f}")


def _lifetimes_pareto(data: Data, out: Any) -> None:
    start = time.perf_counter()
    fitted = ParetoNBDFitter().fit(*data)
    out.put((time.perf_counter() - start, {k: float(v) for k, v in fitted.params_.items()}))


def bench_pareto_big(n: int, limit: float) -> None:
    data = simulated("pareto", n, seed=3)
    ours, t_ours = timed(lambda: ParetoNBD().fit(*data))
    truth = max(abs(ours.params_[k] / v - 1) for k, v in PARETO_PARAMS.items())
    label = (f"Pareto/NBD fit, {n:,} customers ({ours._fitted().n_patterns:,} patterns, "
             f"max rel. error vs truth {100 * truth:.2f}%)")
    if limit <= 0:
        report(label, t_ours, None, "not run (--lifetimes-limit 0)")
        return
    queue: Any = mp.get_context("fork").Queue()
    child = mp.get_context("fork").Process(target=_lifetimes_pareto, args=(data, queue))
    child.start()
    child.join(limit)
    if child.is_alive():
        child.terminate()
        child.join()
        report(label, t_ours, None, f"did not finish within {limit:.0f} s (stopped)")
        return
    t_theirs, params = queue.get()
    diff = largest_difference(ours.params_, params)
    report(label, t_ours, t_theirs, f"| parameters differ by at most {100 * diff:.3f}%")


def bench_scoring(n: int) -> None:
    x, tx, T = simulated("bgnbd", n, seed=4)
    import pandas as pd

    bg_ref = BetaGeoFitter()
    bg_ref.params_ = pd.Series(BG_PARAMS)
    pa_ref = ParetoNBDFitter()
    pa_ref.params_ = pd.Series(PARETO_PARAMS)
    models: list[tuple[str, BGNBD | ParetoNBD, Any]] = [
        ("BG/NBD", BGNBD.from_params(**BG_PARAMS), bg_ref),
        ("Pareto/NBD", ParetoNBD.from_params(**PARETO_PARAMS), pa_ref),
    ]
    for label, ours_model, ref in models:
        p_ours, t1 = timed(partial(ours_model.p_alive, x, tx, T), repeat=3)
        p_theirs, t2 = timed(partial(ref.conditional_probability_alive, x, tx, T), repeat=3)
        e_ours, t3 = timed(partial(ours_model.expected_purchases, 52.0, x, tx, T), repeat=3)
        e_theirs, t4 = timed(partial(ref.conditional_expected_number_of_purchases_up_to_time,
                                     52.0, x, tx, T), repeat=3)
        p_theirs, e_theirs = np.asarray(p_theirs, float), np.asarray(e_theirs, float)
        finite = np.isfinite(p_theirs) & np.isfinite(e_theirs)
        diff = max(float(np.max(np.abs(p_ours[finite] - p_theirs[finite]))),
                   float(np.max(np.abs(e_ours[finite] - e_theirs[finite])
                                / np.maximum(np.abs(e_theirs[finite]), 1e-12))))
        report(f"{label} scoring {n:,} customers: P(alive)", t1, t2)
        report(f"{label} scoring {n:,} customers: E[purchases next 52 weeks]", t3, t4,
               f"| max difference {diff:.1e}; lifetimes non-finite for "
               f"{int(np.sum(~finite))} customers")


def bench_bgbb_fit(n: int, n_periods: int, *, with_lifetimes: bool = True) -> None:
    data = simulate_bgbb(n, n_periods=n_periods, seed=5, **BGBB_PARAMS)
    ours, t_ours = timed(lambda: BGBB().fit(*data), repeat=3)
    label = (f"BG/BB fit, {n:,} customers, {n_periods} opportunities "
             f"({ours._fitted().n_patterns:,} patterns)")
    if not with_lifetimes:
        report(label, t_ours, None, "not run (fails from about 50 opportunities)")
        print(f"    crmcore {fmt(ours.params_)}, log-likelihood {ours.log_likelihood_:.2f}")
        return
    try:
        theirs, t_theirs = timed(lambda: BetaGeoBetaBinomFitter().fit(*data))
    except Exception as error:  # lifetimes raises its own ConvergenceError on long histories
        report(label, t_ours, None, f"failed: {type(error).__name__}")
        print(f"    crmcore {fmt(ours.params_)}, log-likelihood {ours.log_likelihood_:.2f}")
        return
    diff = largest_difference(ours.params_, theirs.params_)
    report(label, t_ours, t_theirs, f"| parameters differ by at most {100 * diff:.3f}%")
    print(f"    crmcore {fmt(ours.params_)}, log-likelihood {ours.log_likelihood_:.2f}; "
          f"lifetimes {fmt({k: float(v) for k, v in theirs.params_.items()})}, "
          f"log-likelihood {log_likelihood_at(ours, theirs.params_, data):.2f}")
    # lifetimes' documentation suggests condensing identical rows into weights first
    rows, counts = np.unique(np.column_stack(data), axis=0, return_counts=True)
    _, t_condensed = timed(lambda: BetaGeoBetaBinomFitter().fit(*rows.T, weights=counts))
    print(f"    lifetimes on the {len(rows):,} condensed rows with weights: {t_condensed:.2f} s "
          f"(ratio {t_condensed / t_ours:.1f}x; condensing not timed)")


def bench_bgbb_scoring(n: int, n_periods: int) -> None:
    x, tx, n_obs = simulate_bgbb(n, n_periods=n_periods, seed=6, **BGBB_PARAMS)
    import pandas as pd

    ours_model = BGBB.from_params(**BGBB_PARAMS)
    ref = BetaGeoBetaBinomFitter()
    ref.params_ = pd.Series(BGBB_PARAMS)
    p_ours, t1 = timed(partial(ours_model.p_alive, x, tx, n_obs, periods_ahead=1), repeat=3)
    p_theirs, t2 = timed(partial(ref.conditional_probability_alive, 1, x, tx, n_obs), repeat=3)
    e_ours, t3 = timed(partial(ours_model.expected_purchases, 10, x, tx, n_obs), repeat=3)
    e_theirs, t4 = timed(partial(ref.conditional_expected_number_of_purchases_up_to_time,
                                 10, x, tx, n_obs), repeat=3)
    p_theirs, e_theirs = np.asarray(p_theirs, float), np.asarray(e_theirs, float)
    p_diff = np.abs(p_ours - p_theirs)
    e_diff = np.abs(e_ours - e_theirs) / np.maximum(np.abs(e_theirs), 1e-12)
    apart = np.flatnonzero(~(e_diff <= 1e-6))
    label = f"BG/BB scoring {n:,} customers, {n_periods} opportunities"
    report(f"{label}: P(alive at n+1)", t1, t2, f"| max difference {np.nanmax(p_diff):.1e}")
    report(f"{label}: E[purchases, next 10]", t3, t4,
           f"| expectations apart by more than 1e-6 (relative) for {len(apart):,} customers")
    if len(apart):
        worst = apart[np.argmax(p_diff[apart])]
        print(f"    e.g. x={x[worst]}, t_x={tx[worst]:.0f}, n={n_obs[worst]:.0f}: P(alive at n+1) "
              f"crmcore {p_ours[worst]:.4f}, lifetimes {p_theirs[worst]:.4f}")


def bench_bgbb(quick: bool) -> None:
    for size, periods in ((100_000 if quick else 1_000_000, 6),
                          (20_000 if quick else 100_000, 40),
                          (20_000 if quick else 100_000, 52),
                          (300 if quick else 3_000, 300 if quick else 3_000)):
        bench_bgbb_fit(size, periods, with_lifetimes=periods < 100)
    for size, periods in ((100_000 if quick else 1_000_000, 6),
                          (100_000 if quick else 1_000_000, 52)):
        bench_bgbb_scoring(size, periods)


def fmt(params: dict[str, float]) -> str:
    return ", ".join(f"{k}={v:.4g}" for k, v in params.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, about a minute")
    parser.add_argument("--lifetimes-limit", type=float, default=1200.0,
                        help="seconds lifetimes may take on the large Pareto/NBD fit (0 skips)")
    parser.add_argument("--only", choices=["bgnbd", "mbgnbd", "spend", "pareto", "pareto-big",
                                           "scoring", "bgbb"],
                        default=None, help="run one step only")
    args = parser.parse_args()
    quick = args.quick
    steps: dict[str, Callable[[], None]] = {
        "bgnbd": lambda: bench_bgnbd_fit(100_000 if quick else 1_000_000),
        "mbgnbd": lambda: bench_mbgnbd_fit(100_000 if quick else 1_000_000),
        "spend": lambda: bench_spend_fit(100_000 if quick else 1_000_000),
        "pareto": lambda: bench_pareto_fit(5_000 if quick else 50_000),
        "pareto-big": lambda: bench_pareto_big(100_000 if quick else 1_000_000,
                                               0.0 if quick else args.lifetimes_limit),
        "scoring": lambda: bench_scoring(100_000 if quick else 1_000_000),
        "bgbb": partial(bench_bgbb, quick),
    }
    warm_up()
    for name, step in steps.items():
        if args.only in (None, name):
            step()


if __name__ == "__main__":
    main()
