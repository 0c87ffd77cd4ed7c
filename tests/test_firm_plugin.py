"""The example plugin distribution (examples/firm_plugin) installed and used through crmcore."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import crmcore
from crmcore._registry import DISABLE_ENV_VAR
from crmcore.datasets import load_cdnow
from crmcore.testing import check_model_plugin, installed_project

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "firm_plugin"


@pytest.fixture
def firm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.delenv(DISABLE_ENV_VAR, raising=False)
    with installed_project(EXAMPLE, tmp_path) as name:
        yield name


def test_the_example_is_found_through_its_entry_point(firm: str) -> None:
    assert firm == "firm-crm"
    manager = crmcore.get_plugin_manager()
    assert manager.has_plugin("firm")
    assert crmcore.model_offers("value", plugin_manager=manager)[
        "poisson-exponential"].plugin == "firm"
    assert crmcore.default_model_name("loyalty", plugin_manager=manager) == "rfm-rank"
    assert crmcore.default_model_name("value", plugin_manager=manager) == "bgnbd"


def test_check_model_plugin_passes_on_the_installed_distribution(firm: str) -> None:
    report = check_model_plugin(firm, base=load_cdnow(), on_error="raise")
    assert report.ok
    assert report.plugin == "firm-crm"
    assert report.names() == ["poisson-exponential", "rfm-rank"]
    assert {m.plugin for m in report.models} == {"firm"}


def test_score_runs_with_the_firms_models(firm: str) -> None:
    base = load_cdnow()
    scores = crmcore.score(base, margin=0.3, discount_rate=0.002, time_unit="W", horizon=52,
                           value_model="poisson-exponential")
    assert scores.model.startswith("PoissonExponential")
    assert scores.loyalty is not None  # the firm's rfm-rank, its default
    assert np.all((scores.loyalty >= 0) & (scores.loyalty <= 100))
    # The firm's P(alive) ranks customers: the recently active above the long silent.
    silence = base.T - base.recency
    assert scores.p_alive[silence < 4].mean() > scores.p_alive[silence > 40].mean()
    lifetime = crmcore.score(base, margin=0.3, discount_rate=0.002, time_unit="W",
                             horizon=None, value_model="poisson-exponential",
                             loyalty_model=False)
    assert np.all(lifetime.clv >= scores.clv - 1e-9)  # a lifetime holds more than a year


def test_the_examples_own_tests_pass() -> None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"),
                                                      str(EXAMPLE / "src")]))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE / "tests")],
        cwd=EXAMPLE, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
