"""The plugin system: hook documentation, registry, entry points, blocking and failures."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pluggy
import pytest

import crmcore
from crmcore import hookspecs
from crmcore._registry import DISABLE_ENV_VAR
from crmcore.hookspecs import ModelFactory
from crmcore.testing import check_model_plugin, installed_distribution, plugin_manager_with


class _Model:
    """A minimal model for registry tests."""

    def __init__(self, penalizer: float = 0.0) -> None:
        self.penalizer = penalizer


class FirmPlugin:
    """A firm's plugin offering its own value model and making it the default."""

    @crmcore.hookimpl
    def crmcore_value_models(self) -> Mapping[str, ModelFactory]:
        return {"firm-clv": _Model}

    @crmcore.hookimpl
    def crmcore_default_model(self, kind: str) -> str | None:
        return "firm-clv" if kind == "value" else None


class RaisingPlugin:
    @crmcore.hookimpl
    def crmcore_lifecycle_models(self) -> Mapping[str, ModelFactory]:
        raise RuntimeError("database unreachable")


class BadReturnPlugin:
    @crmcore.hookimpl
    def crmcore_loyalty_models(self) -> Any:
        return ["not", "a", "mapping"]


class UnknownHookPlugin:
    @crmcore.hookimpl
    def crmcore_no_such_hook(self) -> None:
        return None


def test_every_hook_is_documented() -> None:
    specs = [
        getattr(hookspecs, name) for name in dir(hookspecs) if name.startswith("crmcore_")
    ]
    assert len(specs) >= 6
    for spec in specs:
        doc = inspect.getdoc(spec)
        assert doc, f"{spec.__name__} has no docstring"
        assert "Returns" in doc, f"{spec.__name__} does not say what its return means"
        hints = inspect.get_annotations(spec)
        assert "return" in hints, f"{spec.__name__} has no return annotation"


def test_hooks_named_in_the_issue_exist() -> None:
    for name in ("crmcore_value_models", "crmcore_lifecycle_models",
                 "crmcore_satisfaction_models", "crmcore_loyalty_models",
                 "crmcore_default_model"):
        assert hasattr(hookspecs, name)
    assert getattr(hookspecs.crmcore_default_model, "crmcore_spec")["firstresult"]  # noqa: B009 is True


def test_firm_plugin_model_is_listed_and_wins_the_default() -> None:
    manager = plugin_manager_with(FirmPlugin())
    assert "firm-clv" in crmcore.available_models("value", plugin_manager=manager)
    assert crmcore.default_model_name("value", plugin_manager=manager) == "firm-clv"
    model = crmcore.get_model("value", plugin_manager=manager, penalizer=0.5)
    assert isinstance(model, _Model)
    assert model.penalizer == 0.5


def test_unknown_model_names_the_alternatives() -> None:
    manager = plugin_manager_with(FirmPlugin())
    with pytest.raises(crmcore.UnknownModelError, match="no value model named 'nope'.*firm-clv"):
        crmcore.get_model("value", "nope", plugin_manager=manager)


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(crmcore.CRMError, match="unknown model kind 'price'"):
        crmcore.available_models("price", plugin_manager=plugin_manager_with())  # type: ignore[arg-type]


def test_name_clash_names_both_plugins() -> None:
    class Twin(FirmPlugin):
        pass

    first, second = FirmPlugin(), Twin()
    manager = plugin_manager_with(first, second)
    with pytest.raises(crmcore.PluginError, match="'firm-clv' is offered by both") as info:
        crmcore.available_models("value", plugin_manager=manager)
    assert str(manager.get_name(first)) in str(info.value)
    assert info.value.plugin == manager.get_name(second)


def test_raising_plugin_is_named() -> None:
    plugin = RaisingPlugin()
    manager = plugin_manager_with(plugin)
    with pytest.raises(crmcore.PluginError, match="database unreachable") as info:
        crmcore.available_models("lifecycle", plugin_manager=manager)
    assert info.value.plugin == manager.get_name(plugin)


def test_bad_return_is_named() -> None:
    plugin = BadReturnPlugin()
    manager = plugin_manager_with(plugin)
    with pytest.raises(crmcore.PluginError, match="returned list") as info:
        crmcore.available_models("loyalty", plugin_manager=manager)
    assert info.value.plugin == manager.get_name(plugin)


def test_unknown_hook_is_refused() -> None:
    with pytest.raises(crmcore.PluginError, match="unknown hook"):
        plugin_manager_with(UnknownHookPlugin())


def test_factory_failure_is_wrapped() -> None:
    manager = plugin_manager_with(FirmPlugin())
    with pytest.raises(crmcore.PluginError, match="failed to build value model 'firm-clv'"):
        crmcore.get_model("value", "firm-clv", plugin_manager=manager, no_such_option=1)


def test_check_model_plugin_helper() -> None:
    report = check_model_plugin(FirmPlugin(), "value")
    assert report.names() == ["firm-clv"]
    # _Model is a registry stub, not a value model: the check says what it lacks.
    assert not report.ok
    assert set(report.models[0].missing) == {"fit", "p_alive", "expected_purchases"}


_FAKE_PLUGIN = '''
import crmcore

class AcmeModel:
    def __init__(self, horizon: int = 12) -> None:
        self.horizon = horizon

@crmcore.hookimpl
def crmcore_value_models():
    return {"acme-clv": AcmeModel}
'''


def test_installed_distribution_entry_point_is_loaded(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DISABLE_ENV_VAR, raising=False)
    with installed_distribution(tmp_path, distribution="acme-crm", entry_point="acme",
                                module="acme_crm_plugin", source=_FAKE_PLUGIN):
        manager = crmcore.get_plugin_manager()
        assert manager.has_plugin("acme")
        assert "acme-clv" in crmcore.available_models("value", plugin_manager=manager)
        assert crmcore.model_offers("value", plugin_manager=manager)["acme-clv"].plugin == "acme"


def test_disable_env_var_blocks_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with installed_distribution(tmp_path, distribution="acme-crm", entry_point="acme",
                                module="acme_crm_plugin", source=_FAKE_PLUGIN):
        monkeypatch.setenv(DISABLE_ENV_VAR, "acme, something-else")
        manager = crmcore.get_plugin_manager()
        assert not manager.has_plugin("acme")
        assert "acme-clv" not in crmcore.available_models("value", plugin_manager=manager)


def test_broken_entry_point_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DISABLE_ENV_VAR, raising=False)
    with installed_distribution(tmp_path, distribution="broken-crm", entry_point="broken",
                                module="broken_crm_plugin", source="raise ImportError('boom')"):
        with pytest.raises(crmcore.PluginError, match="'broken'.*failed to load.*boom") as info:
            crmcore.get_plugin_manager()
        assert info.value.plugin == "broken"


def test_builtin_plugins_can_be_blocked() -> None:
    manager = crmcore.get_plugin_manager(load_entry_points=False,
                                         disabled=crmcore._registry.DEFAULT_PLUGINS)
    for kind in hookspecs.MODEL_KINDS:
        assert crmcore.available_models(kind, plugin_manager=manager) == []
    with pytest.raises(crmcore.UnknownModelError):
        crmcore.default_model_name("value", plugin_manager=manager)


def test_each_call_builds_a_fresh_manager() -> None:
    a = crmcore.get_plugin_manager(load_entry_points=False)
    b = crmcore.get_plugin_manager(load_entry_points=False)
    assert a is not b
    assert isinstance(a, pluggy.PluginManager)


def test_builtin_defaults_of_every_value_kind(plugin_manager: pluggy.PluginManager) -> None:
    defaults = {kind: crmcore.default_model_name(kind, plugin_manager=plugin_manager)
                for kind in ("value", "spend", "potential")}
    assert defaults == {"value": "bgnbd", "spend": "gamma-gamma", "potential": "wallet-referral"}
    model = crmcore.get_model("potential", plugin_manager=plugin_manager, capture=0.5)
    assert model.capture == 0.5
