"""Shared test configuration: hypothesis profiles and a fresh plugin manager per test."""

from __future__ import annotations

import os

import pluggy
import pytest
from hypothesis import HealthCheck, settings

import crmcore

settings.register_profile(
    "ci", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow],
    derandomize=True, print_blob=True,
)
settings.register_profile("dev", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def plugin_manager(monkeypatch: pytest.MonkeyPatch) -> pluggy.PluginManager:
    """A fresh plugin manager with the built-in plugins only (no installed entry points)."""
    monkeypatch.delenv(crmcore._registry.DISABLE_ENV_VAR, raising=False)
    return crmcore.get_plugin_manager(load_entry_points=False)
