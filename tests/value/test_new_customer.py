"""New-customer prediction, ``expected_purchases_new_customer(t)``, for every crmcore purchase
model where it is defined: the expected purchases of a customer acquired now.

Checked two ways: against the model's own conditional expectation for a customer observed for
no time (``x = t_x = T = 0``, or ``n = 0`` opportunities for the BG/BB), a different code path,
and against the mean of a simulation of the model's story. The spend model (Gamma-Gamma) and
the contractual sBG make no purchase counts, so they have none.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from crmcore.value import (
    BGBB,
    BGCNBD,
    BGNBD,
    MBGCNBD,
    MBGNBD,
    GGompertzNBD,
    ParetoNBD,
    simulate_bgbb,
    simulate_bgcnbd,
    simulate_bgnbd,
    simulate_ggompertz_nbd,
    simulate_mbgcnbd,
    simulate_mbgnbd,
    simulate_pareto_nbd,
)

BG = {"r": 0.8, "alpha": 4.0, "a": 0.9, "b": 2.5}
CASES: list[tuple[Any, Any]] = [
    (BGNBD.from_params(**BG), lambda n, t: simulate_bgnbd(n, **BG, T=t, seed=1)),
    (MBGNBD.from_params(**BG), lambda n, t: simulate_mbgnbd(n, **BG, T=t, seed=2)),
    (ParetoNBD.from_params(r=0.8, alpha=4.0, s=0.7, beta=10.0),
     lambda n, t: simulate_pareto_nbd(n, r=0.8, alpha=4.0, s=0.7, beta=10.0, T=t, seed=3)),
    (BGCNBD.from_params(k=2, **BG), lambda n, t: simulate_bgcnbd(n, **BG, k=2, T=t, seed=4)),
    (MBGCNBD.from_params(k=3, **BG), lambda n, t: simulate_mbgcnbd(n, **BG, k=3, T=t, seed=5)),
    (GGompertzNBD.from_params(r=0.8, alpha=4.0, b=0.1, s=1.2, beta=5.0),
     lambda n, t: simulate_ggompertz_nbd(n, r=0.8, alpha=4.0, b=0.1, s=1.2, beta=5.0, T=t,
                                         seed=6)),
    (BGBB.from_params(alpha=1.2, beta=0.75, gamma=0.66, delta=2.78),
     lambda n, t: simulate_bgbb(n, alpha=1.2, beta=0.75, gamma=0.66, delta=2.78,
                                n_periods=int(t), seed=7)),
]
IDS = ["bgnbd", "mbgnbd", "pareto-nbd", "bgcnbd", "mbgcnbd", "ggompertz-nbd", "bgbb"]


@pytest.mark.parametrize(("model", "simulate"), CASES, ids=IDS)
def test_new_customer_is_a_customer_seen_for_no_time(model: Any, simulate: Any) -> None:
    horizons = np.array([1.0, 6.0, 20.0])
    new = np.asarray(model.expected_purchases_new_customer(horizons))
    zeros = np.zeros(len(horizons))
    seen = np.asarray(model.expected_purchases(horizons, zeros, zeros, zeros))
    np.testing.assert_allclose(new, seen, rtol=1e-8, atol=1e-12)
    assert np.all(np.diff(new) > 0)


@pytest.mark.parametrize(("model", "simulate"), CASES, ids=IDS)
def test_new_customer_matches_simulation(model: Any, simulate: Any) -> None:
    x = np.asarray(simulate(30_000, 12.0)[0], dtype=float)
    expected = float(np.asarray(model.expected_purchases_new_customer(12.0)).reshape(-1)[0])
    assert expected == pytest.approx(x.mean(), abs=4 * x.std() / np.sqrt(len(x)))
