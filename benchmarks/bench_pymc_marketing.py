"""crmcore and PyMC-Marketing side by side: the Pareto/NBD with static covariates.

    pip install pymc-marketing      # not a crmcore dependency; about 1 GB with PyMC/PyTensor
    python benchmarks/bench_pymc_marketing.py            # compare and print
    python benchmarks/bench_pymc_marketing.py --record   # also rewrite the reference file

PyMC-Marketing (``pymc_marketing.clv.ParetoNBDModel``) is the established Python
implementation of the Pareto/NBD with covariates. Its parameterisation is CLVTools' and
crmcore's: ``alpha_i = alpha exp(-gamma_purchase . x_i)``, ``beta_i = beta exp(-gamma_dropout .
x_i)``. Fitted in MAP mode with flat priors (``HalfFlat`` on r, alpha, s, beta; ``Flat`` on the
coefficients; PyMC's ``find_MAP`` leaves the log-transform's Jacobian out) it is a maximum
likelihood fit, so both libraries should land on the same point.

Both run in this process on CLVTools' apparel data (600 customers, weekly, estimation split
2006-12-31, Gender and Channel on both processes). Printed: the estimates side by side, the
log-likelihoods, the largest gap in P(alive) and in expected purchases over the next 10 weeks
over all customers, and the fit times with their ratio.

``--record`` writes PyMC-Marketing's numbers to ``tests/data/pymc_marketing_apparel.json``,
which ``tests/value/test_pymc_marketing_reference.py`` checks crmcore against (so the suite needs
no PyMC). The file records the versions that produced it.
"""

from __future__ import annotations

import argparse
import importlib
import json
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crmcore import CustomerBase
from crmcore.value import ParetoNBD

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
REFERENCE = DATA / "pymc_marketing_apparel.json"
HORIZON = 10.0  # weeks
COLUMNS = ("Gender", "Channel")


def apparel() -> tuple[CustomerBase, pd.DataFrame]:
    """The calibration base (weeks, split 2006-12-31) and the static covariates."""
    log = pd.read_csv(DATA / "apparelTrans.csv")
    base = CustomerBase.from_transactions(
        log, customer_id="Id", datetime="Date", monetary_value="Price", freq="D",
        time_unit="W").calibration_holdout("2006-12-31").calibration
    return base, pd.read_csv(DATA / "apparelStaticCov.csv")


def _pymc_marketing(base: CustomerBase, cov: pd.DataFrame) -> tuple[float, dict[str, Any]]:
    """PyMC-Marketing's MAP fit with flat priors, its estimates and its predictions."""
    clv: Any = importlib.import_module("pymc_marketing.clv")
    prior: Any = importlib.import_module("pymc_extras.prior").Prior
    frame = pd.DataFrame({
        "customer_id": np.asarray(base.customer_id),
        "frequency": np.asarray(base.frequency, dtype=float),
        "recency": np.asarray(base.recency, dtype=float),
        "T": np.asarray(base.T, dtype=float),
    }).merge(cov.rename(columns={"Id": "customer_id"}), on="customer_id", how="left")
    config = {
        "r": prior("HalfFlat"), "alpha": prior("HalfFlat"),
        "s": prior("HalfFlat"), "beta": prior("HalfFlat"),
        "purchase_coefficient": prior("Flat", dims="purchase_covariate"),
        "dropout_coefficient": prior("Flat", dims="dropout_covariate"),
        "purchase_covariate_cols": list(COLUMNS), "dropout_covariate_cols": list(COLUMNS),
    }
    model = clv.ParetoNBDModel(frame, model_config=config)
    start = time.perf_counter()
    with warnings.catch_warnings():  # PyMC's own chatter; the caller's filters are untouched
        warnings.simplefilter("ignore")
        model.fit(method="map", progressbar=False)
    seconds = time.perf_counter() - start
    post = model.idata.posterior

    def scalar(name: str) -> float:
        return float(np.asarray(post[name]).ravel()[0])

    def vector(name: str) -> list[float]:
        return [float(v) for v in np.asarray(post[name]).ravel()]

    params = {"r": scalar("r"), "alpha": scalar("alpha_scale"), "s": scalar("s"),
              "beta": scalar("beta_scale")}
    for column, value in zip(COLUMNS, vector("purchase_coefficient"), strict=True):
        params[f"trans.{column}"] = value
    for column, value in zip(COLUMNS, vector("dropout_coefficient"), strict=True):
        params[f"life.{column}"] = value
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p_alive = np.asarray(model.expected_probability_alive(data=frame)).ravel()
        purchases = np.asarray(model.expected_purchases(data=frame, future_t=HORIZON)).ravel()
        # flat priors add nothing to the log density, so at the MAP it is the log-likelihood
        point = {"r_log__": np.log(params["r"]), "alpha_scale_log__": np.log(params["alpha"]),
                 "s_log__": np.log(params["s"]), "beta_scale_log__": np.log(params["beta"]),
                 "purchase_coefficient": np.asarray(vector("purchase_coefficient")),
                 "dropout_coefficient": np.asarray(vector("dropout_coefficient"))}
        log_likelihood = float(model.model.compile_logp(jacobian=False)(point))
    return seconds, {
        "params": params,
        "log_likelihood": log_likelihood,
        "customer_id": [int(i) for i in frame["customer_id"]],
        "p_alive": [float(v) for v in p_alive],
        "expected_purchases_10w": [float(v) for v in purchases],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--record", action="store_true",
                        help=f"rewrite {REFERENCE.relative_to(DATA.parents[1])}")
    args = parser.parse_args()
    base, cov = apparel()

    start = time.perf_counter()
    ours = ParetoNBD().fit(base, covariates=cov, customer_id="Id", life=list(COLUMNS),
                           trans=list(COLUMNS))
    ours_seconds = time.perf_counter() - start
    pm_seconds, theirs = _pymc_marketing(base, cov)

    print(f"apparel: {len(base)} customers, Pareto/NBD with {', '.join(COLUMNS)} on both "
          "processes")
    print(f"{'parameter':<16}{'crmcore':>12}{'PyMC-Marketing':>16}")
    for name, value in ours.params_.items():
        print(f"{name:<16}{value:>12.4f}{theirs['params'][name]:>16.4f}")
    print(f"{'log-likelihood':<16}{ours.log_likelihood_:>12.4f}"
          f"{theirs['log_likelihood']:>16.4f}")
    ids = pd.DataFrame({"Id": theirs["customer_id"]})
    order = pd.Series(np.arange(len(base)), index=np.asarray(base.customer_id))[ids["Id"]]
    p_alive = ours.p_alive(base, covariates=cov, customer_id="Id")[order.to_numpy()]
    purchases = ours.expected_purchases(HORIZON, base, covariates=cov,
                                        customer_id="Id")[order.to_numpy()]
    print(f"largest |P(alive) gap|: "
          f"{np.max(np.abs(p_alive - np.asarray(theirs['p_alive']))):.2e}")
    print(f"largest |E[purchases, {HORIZON:g} weeks] gap|: "
          f"{np.max(np.abs(purchases - np.asarray(theirs['expected_purchases_10w']))):.2e}")
    print(f"fit: crmcore {ours_seconds:.3f} s, PyMC-Marketing (MAP) {pm_seconds:.1f} s, "
          f"ratio {pm_seconds / ours_seconds:.0f}x")
    if args.record:
        versions = {name: importlib.import_module(name).__version__
                    for name in ("pymc_marketing", "pymc", "pytensor")}
        REFERENCE.write_text(json.dumps({
            "source": "benchmarks/bench_pymc_marketing.py --record: "
                      "pymc_marketing.clv.ParetoNBDModel fitted with method='map' and flat "
                      "priors on CLVTools' apparel data (weeks, split 2006-12-31, Gender and "
                      "Channel on both processes)",
            "versions": versions, "horizon_weeks": HORIZON, **theirs,
        }, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {REFERENCE}")


if __name__ == "__main__":
    main()
