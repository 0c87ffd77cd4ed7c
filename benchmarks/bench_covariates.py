"""Fitting BTYD models with static covariates: the apparel data and simulated customers.

    python benchmarks/bench_covariates.py            # 100,000 simulated customers
    python benchmarks/bench_covariates.py --quick    # 20,000, well under a minute

Steps:

1. CLVTools' apparel data (600 customers, 104 weeks, Gender and Channel on both processes):
   Pareto/NBD with covariates, the same with Gender constrained, BG/NBD with purchase
   covariates, and BG/NBD with covariates on both processes (no maximum inside: the limit in
   which the Channel = 0 customers share one dropout probability, fitted on the boundary with
   a ConvergenceWarning, silenced here); beside them the covariate-free Pareto/NBD fit by
   crmcore and by lifetimes (which has no covariates) in the same process, ratio lifetimes /
   crmcore. CLVTools (R) is not run here; its published log-likelihoods are printed for
   comparison.
2. Simulated customers (two 0/1 covariates and one standard-normal one on both processes,
   known coefficients, T = 52 weeks, daily precision): Pareto/NBD and BG/NBD fits with
   covariates, the largest absolute error of the coefficients, and P(alive) plus 52-week
   expected purchases for every customer with the 0/1 covariates only (predictions are
   evaluated per distinct covariate row).
3. Gamma-Gamma with covariates on the spend-rate scale (``v_i = v exp(gamma . x_i)``): on the
   apparel data (all 200 weeks, Gender and Channel; beside it the covariate-free fit by crmcore
   and by lifetimes' ``GammaGammaFitter``, ratio lifetimes / crmcore), and on simulated
   customers (1 + Poisson(3) repeat purchases each, two 0/1 covariates and one standard-normal
   one, known coefficients): the fit, the largest absolute error of the coefficients, and
   every customer's expected spend.
4. ``crmcore.score`` (52-week CLV with Gamma-Gamma spend, churn risk, segments) with one
   standard-normal covariate on both processes of a Pareto/NBD and a BG/NBD (simulated
   Pareto/NBD customers, T = 52 weeks): at 1,000 customers beside the former path that ran
   the covariate-free model once per distinct covariate row (here once per customer), and at
   100,000 customers beside the covariate-free score of the same base; ratios printed.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from lifetimes import GammaGammaFitter, ParetoNBDFitter

import crmcore
from crmcore import ConvergenceWarning, CustomerBase
from crmcore.value import BGNBD, GammaGamma, ParetoNBD, simulate_pareto_nbd

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"


def _timed(step: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = step()
        best = min(best, time.perf_counter() - start)
    return best, result


def _on_the_boundary(step: Callable[[], Any]) -> Callable[[], Any]:
    """``step`` with the boundary fit's ConvergenceWarning silenced (it is expected)."""
    def quiet() -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return step()
    return quiet


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
        ("BG/NBD + both (boundary limit)", _on_the_boundary(lambda: BGNBD().fit(
            base, covariates=cov, customer_id="Id")), None),
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


def spend_apparel() -> None:
    log = pd.read_csv(DATA / "apparelTrans.csv")
    cov = pd.read_csv(DATA / "apparelStaticCov.csv")
    base = CustomerBase.from_transactions(
        log, customer_id="Id", datetime="Date", monetary_value="Price", freq="D",
        time_unit="W")
    seconds, model = _timed(lambda: GammaGamma().fit(base, covariates=cov, customer_id="Id"),
                            repeat=5)
    est, se = model.params_, model.standard_errors_
    print(f"apparel spend: {int(model.n_obs_)} repeat buyers")
    print(f"  Gamma-Gamma + Gender, Channel  {seconds:7.3f} s  LL {model.log_likelihood_:.4f}  "
          + "  ".join(f"{n} {est[n]:.4f} ({se[n]:.4f})" for n in ("spend.Gender",
                                                                  "spend.Channel")))
    repeat = np.asarray(base.frequency) > 0
    x = pd.Series(np.asarray(base.frequency, dtype=float)[repeat])
    m = pd.Series(np.asarray(base.monetary_value)[repeat])
    ours, plain = _timed(lambda: GammaGamma().fit(base), repeat=5)
    theirs, _ = _timed(lambda: GammaGammaFitter().fit(x, m), repeat=3)
    print(f"  Gamma-Gamma without covariates: crmcore {ours:.4f} s (LL "
          f"{plain.log_likelihood_:.4f}), lifetimes {theirs:.4f} s, ratio {theirs / ours:.1f}")


def spend_simulated(n: int) -> None:
    rng = np.random.default_rng(2005)
    design = np.column_stack([rng.integers(0, 2, n), rng.integers(0, 2, n),
                              rng.normal(size=n)]).astype(float)
    truth = np.array([0.4, -0.3, 0.2])
    p, q, v = 2.5, 4.0, 60.0
    nu = rng.gamma(q, 1.0 / (v * np.exp(design @ truth)))
    x = 1 + rng.poisson(3.0, n)
    m = rng.gamma(p * x, 1.0 / nu) / x
    base = CustomerBase.from_summary(np.arange(n), x, np.full(n, 40.0), np.full(n, 52.0), m,
                                     time_unit="W")
    cov = pd.DataFrame({"id": np.arange(n), "a": design[:, 0], "b": design[:, 1],
                        "c": design[:, 2]})
    print(f"simulated spend: {n:,} customers, 3 covariates on the spend-rate scale")
    seconds, model = _timed(lambda: GammaGamma().fit(base, covariates=cov, customer_id="id"))
    est = model.params_
    err = max(abs(est[f"spend.{c}"] - t) for c, t in zip("abc", truth, strict=True))
    print(f"  Gamma-Gamma fit      {seconds:7.2f} s  max |coefficient error| {err:.3f}")
    plain_seconds, _ = _timed(lambda: GammaGamma().fit(base))
    print(f"  without covariates   {plain_seconds:7.2f} s")
    seconds, _ = _timed(lambda: model.expected_spend(base, covariates=cov), repeat=3)
    print(f"  expected spend for all {seconds:7.3f} s")


def _per_group(cls: type[Any], step: Callable[[], Any]) -> Callable[[], Any]:
    """``step`` with ``cls``'s covariate predictions on the former path: the covariate-free
    model once per distinct covariate row (no method in ``_vectorised``)."""
    def former() -> Any:
        own = cls.__dict__.get("_vectorised")
        cls._vectorised = frozenset()
        try:
            return step()
        finally:
            if own is None:
                del cls._vectorised  # inherited again
            else:
                cls._vectorised = own
    return former


def _score_models(base: CustomerBase, cov: pd.DataFrame, *, former: bool) -> None:
    for cls in (ParetoNBD, BGNBD):
        def fit(cls: type[Any] = cls, with_cov: bool = True) -> Any:
            if with_cov:
                return cls().fit(base, covariates=cov, customer_id="id")
            return cls().fit(base)

        model = _on_the_boundary(fit)()
        plain = _on_the_boundary(lambda: fit(with_cov=False))()

        def score(model: Any = model, with_cov: bool = True) -> Any:
            extra: dict[str, Any] = ({"covariates": cov, "customer_id": "id"}
                                     if with_cov else {})
            return crmcore.score(base, margin=0.3, discount_rate=0.002, time_unit="W",
                                 horizon=52.0, value_model=model, spend_model="gamma-gamma",
                                 loyalty_model=False, **extra)

        score()  # warm up (plug-in discovery, imports)
        seconds, _ = _timed(score, repeat=3 if former else 1)
        line = f"  {cls.__name__:<10} {seconds:7.2f} s"
        if former:
            before, _ = _timed(_per_group(cls, score))
            line += f"  former per-row path {before:7.2f} s, ratio {before / seconds:.0f}"
        else:
            free, _ = _timed(partial(score, plain, with_cov=False))
            line += f"  without covariates {free:6.2f} s, ratio {seconds / free:.1f}"
        print(line)


def score_continuous(sizes: tuple[int, ...], former_at: int) -> None:
    for n in sizes:
        rng = np.random.default_rng(1)
        sim = simulate_pareto_nbd(n, r=0.8, alpha=10.0, s=0.6, beta=30.0, T=np.full(n, 52.0),
                                  seed=3, precision=1 / 7)
        x = np.asarray(sim[0])
        money = np.where(x > 0, rng.gamma(5.0, 8.0, n), 0.0)
        base = CustomerBase.from_summary(np.arange(n), x, sim[1], sim[2], money,
                                         time_unit="W")
        cov = pd.DataFrame({"id": np.arange(n), "z": rng.normal(size=n)})
        print(f"score with a continuous covariate: {n:,} customers")
        _score_models(base, cov, former=n <= former_at)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="20,000 simulated customers")
    parser.add_argument("--spend-only", action="store_true",
                        help="only the Gamma-Gamma steps")
    parser.add_argument("--score-only", action="store_true",
                        help="only the score step (continuous covariate)")
    args = parser.parse_args()
    if not args.score_only:
        if not args.spend_only:
            apparel()
            simulated(20_000 if args.quick else 100_000)
        spend_apparel()
        spend_simulated(20_000 if args.quick else 100_000)
    if not args.spend_only:
        score_continuous((1_000, 20_000 if args.quick else 100_000), former_at=1_000)


if __name__ == "__main__":
    main()
