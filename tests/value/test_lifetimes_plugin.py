"""lifetimes as a plugin: offered by name, lazy, and side by side with crmcore's own models."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pluggy
import pytest

import crmcore
from crmcore import NotFittedError
from crmcore.datasets import load_cdnow_summary, load_donations
from crmcore.value import _lifetimes_plugin

LIFETIMES_VALUE = ["lifetimes-bgbb", "lifetimes-bgnbd", "lifetimes-mbgnbd",
                   "lifetimes-pareto-nbd"]


def test_models_are_offered(plugin_manager: pluggy.PluginManager) -> None:
    value = crmcore.available_models("value", plugin_manager=plugin_manager)
    assert set(LIFETIMES_VALUE) <= set(value)
    spend = crmcore.available_models("spend", plugin_manager=plugin_manager)
    assert "lifetimes-gamma-gamma" in spend
    offers = crmcore.model_offers("value", plugin_manager=plugin_manager)
    assert offers["lifetimes-bgnbd"].plugin == "crmcore.value._lifetimes_plugin"


def test_offers_nothing_without_lifetimes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_lifetimes_plugin, "lifetimes_available", lambda: False)
    assert _lifetimes_plugin.crmcore_value_models() == {}
    assert _lifetimes_plugin.crmcore_spend_models() == {}
    manager = crmcore.get_plugin_manager(load_entry_points=False, disabled=[])
    assert not any(name.startswith("lifetimes-")
                   for name in crmcore.available_models("value", plugin_manager=manager))


def test_import_crmcore_imports_neither_lifetimes_nor_pandas() -> None:
    code = ("import sys, crmcore; m = crmcore.get_plugin_manager(); "
            "crmcore.available_models('value', plugin_manager=m); "
            "print('lifetimes' in sys.modules, 'pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["False", "False"]


def test_bgbb_side_by_side(plugin_manager: pluggy.PluginManager) -> None:
    data = load_donations()
    ours = crmcore.get_model("value", "bgbb", plugin_manager=plugin_manager).fit(data)
    theirs = crmcore.get_model("value", "lifetimes-bgbb", plugin_manager=plugin_manager).fit(data)
    assert theirs.params_ == pytest.approx(ours.params_, rel=1e-4)
    assert theirs.log_likelihood_ == pytest.approx(ours.log_likelihood_, rel=1e-8)
    args = (data.frequency, data.recency, data.n_periods)
    np.testing.assert_allclose(theirs.p_alive(*args), ours.p_alive(*args), rtol=1e-4)
    np.testing.assert_allclose(theirs.expected_purchases(5, *args),
                               ours.expected_purchases(5, *args), rtol=1e-4)


def test_bgbb_warns_where_lifetimes_floor_distorts(plugin_manager: pluggy.PluginManager) -> None:
    # Fitted on the donations (6 opportunities: no warning, CRMWarnings are errors here), then
    # asked about a customer with 26 transactions in 52 opportunities, the last at 52:
    # lifetimes' P(alive at n+1) is far from the exact (delta+n)/(gamma+delta+n).
    theirs = crmcore.get_model("value", "lifetimes-bgbb", plugin_manager=plugin_manager)
    theirs.fit(load_donations())
    params = theirs.params_
    long = ([26, 1], [52, 1], [52, 52])
    with pytest.warns(crmcore.ConvergenceWarning, match="below 1e-12 for 1 of 2 customers"):
        alive = theirs.p_alive(*long, periods_ahead=1)
    exact = (params["delta"] + 52) / (params["gamma"] + params["delta"] + 52)
    assert abs(alive[0] - exact) > 0.5
    with pytest.warns(crmcore.ConvergenceWarning, match="up to 52 opportunities"):
        theirs.expected_purchases(10, *long)
    ours = crmcore.get_model("value", "bgbb", plugin_manager=plugin_manager).fit(load_donations())
    assert ours.p_alive(*long, periods_ahead=1)[0] == pytest.approx(exact, rel=1e-3)
    # a fit on condensed rows counts customers by their weights
    x, tx, n = crmcore.value.simulate_bgbb(5_000, alpha=1.2, beta=0.75, gamma=0.66, delta=2.78,
                                           n_periods=40, seed=2)
    rows, weights = np.unique(np.column_stack([x, tx, n]), axis=0, return_counts=True)
    with pytest.warns(crmcore.ConvergenceWarning, match=r"below 1e-12 for [\d,]+ of 5,000 "):
        crmcore.get_model("value", "lifetimes-bgbb", plugin_manager=plugin_manager).fit(
            *rows.T, weights=weights)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # lifetimes' overflows on the way
def test_lifetimes_failures_become_crmcore_errors(plugin_manager: pluggy.PluginManager) -> None:
    # lifetimes' BG/BB does not converge on long histories; its own exception class would
    # escape a caller that catches crmcore.CRMError
    model = crmcore.get_model("value", "lifetimes-bgbb", plugin_manager=plugin_manager)
    with pytest.raises(crmcore.ConvergenceError,
                       match="BetaGeoBetaBinomFitter .plugin crmcore.value._lifetimes_plugin. "
                             "did not converge") as info:
        model.fit([26, 1, 0], [52, 1, 0], [52, 52, 6], weights=[40, 5, 5])
    assert info.value.diagnostics["plugin"] == "crmcore.value._lifetimes_plugin"


def test_gamma_gamma_side_by_side(plugin_manager: pluggy.PluginManager) -> None:
    base = load_cdnow_summary()
    ours = crmcore.get_model("spend", "gamma-gamma", plugin_manager=plugin_manager).fit(base)
    theirs = crmcore.get_model("spend", "lifetimes-gamma-gamma",
                               plugin_manager=plugin_manager).fit(base)
    assert theirs.params_ == pytest.approx(ours.params_, rel=1e-4)
    assert theirs.n_excluded_ == ours.n_excluded_ == 1411
    assert theirs.log_likelihood_ == pytest.approx(ours.log_likelihood_, rel=1e-8)
    np.testing.assert_allclose(theirs.expected_spend(base), ours.expected_spend(base),
                               rtol=1e-4)


@pytest.mark.parametrize(("ours_name", "theirs_name"),
                         [("bgnbd", "lifetimes-bgnbd"), ("mbgnbd", "lifetimes-mbgnbd")])
def test_continuous_models_side_by_side(plugin_manager: pluggy.PluginManager, ours_name: str,
                                        theirs_name: str) -> None:
    base = load_cdnow_summary()
    theirs = crmcore.get_model("value", theirs_name, plugin_manager=plugin_manager).fit(base)
    assert set(theirs.params_) == {"r", "alpha", "a", "b"}
    assert theirs.time_unit_ == "W"
    alive = theirs.p_alive(base)
    assert np.all((alive >= 0) & (alive <= 1))
    if ours_name not in crmcore.available_models("value", plugin_manager=plugin_manager):
        pytest.skip(f"crmcore's {ours_name} is not registered yet")
    ours = crmcore.get_model("value", ours_name, plugin_manager=plugin_manager).fit(base)
    assert theirs.params_ == pytest.approx(ours.params_, rel=1e-3)
    np.testing.assert_allclose(theirs.expected_purchases(10, base),
                               ours.expected_purchases(10, base), rtol=1e-3)
    np.testing.assert_allclose(theirs.p_alive(base), ours.p_alive(base), rtol=1e-3, atol=1e-6)


def test_pareto_nbd_side_by_side(plugin_manager: pluggy.PluginManager) -> None:
    # lifetimes fits the Pareto/NBD with Nelder-Mead; a 600-customer slice keeps this quick.
    base = load_cdnow_summary().take(np.arange(600))
    theirs = crmcore.get_model("value", "lifetimes-pareto-nbd",
                               plugin_manager=plugin_manager).fit(base)
    assert set(theirs.params_) == {"r", "alpha", "s", "beta"}
    expected = theirs.expected_purchases(39, base)
    assert np.all(expected >= 0)
    if "pareto-nbd" not in crmcore.available_models("value", plugin_manager=plugin_manager):
        pytest.skip("crmcore's pareto-nbd is not registered yet")
    ours = crmcore.get_model("value", "pareto-nbd", plugin_manager=plugin_manager).fit(base)
    # Nelder-Mead stops at lifetimes' tolerance: compare log-likelihoods and predictions.
    assert ours.log_likelihood_ >= theirs.log_likelihood_ - 1e-3
    np.testing.assert_allclose(theirs.expected_purchases(39, base),
                               ours.expected_purchases(39, base), rtol=2e-2, atol=1e-3)


def test_unfitted_wrapper() -> None:
    with pytest.raises(NotFittedError, match="LifetimesBGNBD is not fitted"):
        _lifetimes_plugin.LifetimesBGNBD().params_


def test_can_be_blocked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(crmcore._registry.DISABLE_ENV_VAR, "crmcore.value._lifetimes_plugin")
    manager = crmcore.get_plugin_manager(load_entry_points=False)
    assert "lifetimes-bgnbd" not in crmcore.available_models("value", plugin_manager=manager)
    assert "bgbb" in crmcore.available_models("value", plugin_manager=manager)
