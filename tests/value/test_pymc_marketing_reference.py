"""The Pareto/NBD with static covariates against PyMC-Marketing, the established Python
implementation, on the same data.

``tests/data/pymc_marketing_apparel.json`` was written by ``benchmarks/bench_pymc_marketing.py
--record``: ``pymc_marketing.clv.ParetoNBDModel`` (its versions are in the file) fitted in MAP
mode with flat priors - a maximum likelihood fit - on CLVTools' apparel data (weeks, split
2006-12-31, Gender and Channel on both processes), with its log-likelihood at the optimum and
its P(alive) and 10-week expected purchases for every customer. PyMC is not needed here; the
benchmark reruns the comparison where it is installed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from crmcore import CustomerBase
from crmcore.value import ParetoNBD

DATA = Path(__file__).resolve().parents[1] / "data"
COLUMNS = ["Gender", "Channel"]


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        (DATA / "pymc_marketing_apparel.json").read_text(encoding="utf-8"))
    return loaded


def _in_reference_order(values: np.ndarray, base: CustomerBase,
                        reference: dict[str, Any]) -> np.ndarray:
    row = pd.Series(np.arange(len(base)), index=np.asarray(base.customer_id))
    return np.asarray(values[row[reference["customer_id"]].to_numpy()], dtype=np.float64)


def test_same_likelihood_at_pymc_marketings_estimates(
        apparel: CustomerBase, static_cov: pd.DataFrame, reference: dict[str, Any]) -> None:
    """crmcore's likelihood evaluated at PyMC-Marketing's MAP is PyMC-Marketing's own value:
    the two implement the same model (the optimisers play no part)."""
    base, cov = apparel, static_cov
    model = ParetoNBD.from_params(**reference["params"], customer_id="Id")
    design = model.covariates_
    assert design is not None
    life, trans = model._matrices(design, cov, np.asarray(base.customer_id))
    data = (np.asarray(base.frequency, dtype=float), np.asarray(base.recency),
            np.asarray(base.T), *life.T, *trans.T)
    ll, _ = model._row_terms(np.log(model._state().params), data, gradient=False)
    assert float(ll.sum()) == pytest.approx(reference["log_likelihood"], abs=1e-6)


def test_same_maximum_as_pymc_marketing(
        apparel: CustomerBase, static_cov: pd.DataFrame, reference: dict[str, Any]) -> None:
    base, cov = apparel, static_cov
    model = ParetoNBD().fit(base, covariates=cov, customer_id="Id", life=COLUMNS,
                            trans=COLUMNS)
    # both stop at the same maximum; crmcore's is at least as high
    assert model.log_likelihood_ >= reference["log_likelihood"] - 1e-4
    assert model.log_likelihood_ == pytest.approx(reference["log_likelihood"], abs=1e-3)
    errors = model.standard_errors_
    for name, theirs in reference["params"].items():
        # the likelihood is flat along beta; a thousandth of a standard error apart
        assert abs(model.params_[name] - theirs) < 0.01 * errors[name], name


def test_same_predictions_as_pymc_marketing(
        apparel: CustomerBase, static_cov: pd.DataFrame, reference: dict[str, Any]) -> None:
    """At PyMC-Marketing's estimates, P(alive) and the 10-week expected purchases of every
    customer agree with PyMC-Marketing's to a few parts in a million (per-customer alpha_i,
    beta_i from the covariates, aligned by id)."""
    base, cov = apparel, static_cov
    model = ParetoNBD.from_params(**reference["params"], customer_id="Id")
    p_alive = _in_reference_order(model.p_alive(base, covariates=cov, customer_id="Id"),
                                  base, reference)
    purchases = _in_reference_order(
        model.expected_purchases(reference["horizon_weeks"], base, covariates=cov,
                                 customer_id="Id"), base, reference)
    np.testing.assert_allclose(p_alive, reference["p_alive"], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(purchases, reference["expected_purchases_10w"], rtol=1e-6,
                               atol=1e-9)
