"""Properties every continuous-time BTYD model (BG/NBD, MBG/NBD, Pareto/NBD) must have.

For any parameters and any history (up to 3,000 repeat purchases over up to 10,000 periods, last
purchase at the start, the middle, just before or at the end): P(alive) in [0, 1], finite and
non-decreasing expected purchases, a finite log-likelihood. And a fit to data simulated from the
model's own story recovers the parameters within five standard errors.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.value import (
    BGNBD,
    MBGNBD,
    ParetoNBD,
    simulate_bgnbd,
    simulate_mbgnbd,
    simulate_pareto_nbd,
)

# two-sided 5-sigma coverage: a recovery test that fails by chance once in ~2 million fits
FIVE_SIGMA = 1 - 5.733e-7
Model = BGNBD | MBGNBD | ParetoNBD

BETA_GEOMETRIC = st.fixed_dictionaries({
    "r": st.floats(0.05, 10.0), "alpha": st.floats(0.1, 100.0),
    "a": st.floats(0.05, 10.0), "b": st.floats(0.05, 10.0),
})
PARETO = st.fixed_dictionaries({
    "r": st.floats(0.05, 10.0), "alpha": st.floats(0.1, 100.0),
    "s": st.floats(0.05, 10.0), "beta": st.floats(0.1, 100.0),
})
# model, its parameter space, and the slack its expectations may show at the edges (the
# beta-geometric forms subtract nearly equal terms; the Pareto/NBD's are exact there)
MODELS: list[tuple[type[Model], Any, float]] = [
    (BGNBD, BETA_GEOMETRIC, 1e-9), (MBGNBD, BETA_GEOMETRIC, 1e-9), (ParetoNBD, PARETO, 0.0),
]


@st.composite
def histories(draw: st.DrawFn) -> tuple[int, float, float]:
    T = draw(st.floats(0.0, 10000.0))
    x = draw(st.integers(0, 3000))
    tx = 0.0 if x == 0 else draw(st.sampled_from([0.0, T, T / 2, T * 0.999]))
    return x, tx, T


@pytest.mark.parametrize(("model_class", "space", "slack"), MODELS,
                         ids=[m.__name__ for m, _, _ in MODELS])
@given(data=st.data(), history=histories(), t=st.floats(0.0, 500.0))
def test_predictions_are_valid_for_any_history(
    model_class: type[Model], space: Any, slack: float, data: st.DataObject,
    history: tuple[int, float, float], t: float,
) -> None:
    model = model_class.from_params(**data.draw(space))
    x, tx, T = history
    alive = model.p_alive(x, tx, T)[0]
    assert 0.0 <= alive <= 1.0
    now, later = model.expected_purchases(np.array([t, t + 10.0]), x, tx, T)
    assert math.isfinite(now)
    assert math.isfinite(later)
    assert now >= -slack * 1e-3
    assert later >= now - slack * max(1.0, abs(now))
    ll, _ = model._log_likelihood_terms(model._param_array(),
                                        (np.array([x], float), np.array([tx]), np.array([T])),
                                        gradient=False)
    assert np.isfinite(ll).all()


Simulator = Callable[..., tuple[Any, Any, Any]]
RECOVERY: list[tuple[type[Model], Simulator, dict[str, tuple[float, float]], int]] = [
    (BGNBD, simulate_bgnbd,
     {"r": (0.3, 2.0), "alpha": (1.0, 10.0), "a": (0.5, 2.0), "b": (1.0, 5.0)}, 10_000),
    (MBGNBD, simulate_mbgnbd,
     {"r": (0.3, 2.0), "alpha": (1.0, 10.0), "a": (0.5, 2.0), "b": (1.0, 5.0)}, 10_000),
    (ParetoNBD, simulate_pareto_nbd,
     {"r": (0.3, 2.0), "alpha": (1.0, 10.0), "s": (0.5, 2.0), "beta": (5.0, 20.0)}, 6_000),
]


@pytest.mark.parametrize(("model_class", "simulate", "ranges", "n"), RECOVERY,
                         ids=[m.__name__ for m, _, _, _ in RECOVERY])
@settings(max_examples=5)
@given(data=st.data(), seed=st.integers(0, 10_000))
def test_fit_recovers_simulated_parameters(
    model_class: type[Model], simulate: Simulator,
    ranges: dict[str, tuple[float, float]], n: int, data: st.DataObject, seed: int,
) -> None:
    truth = {name: data.draw(st.floats(low, high), label=name)
             for name, (low, high) in ranges.items()}
    T = np.random.default_rng(seed).uniform(20, 60, size=n)
    model = model_class().fit(*simulate(n, T=T, seed=seed, **truth))
    intervals = model.confidence_intervals(FIVE_SIGMA)
    for name, value in truth.items():
        assert intervals[name][0] < value < intervals[name][1], (name, model.params_)
