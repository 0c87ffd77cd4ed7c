"""constraints/minimum.txt pins exactly the lower bounds pyproject.toml declares.

``nox -s tests_min`` installs crmcore under that file, so the suite runs against the lowest
versions crmcore claims to support; this test keeps the claim and the file from drifting apart.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
CONSTRAINTS = ROOT / "constraints" / "minimum.txt"
# What tests_min installs: crmcore[test]; the frame and plot extras name the same packages.
EXTRAS = ("pandas", "polars", "arrow", "dask", "plot", "lifetimes", "test")
RUNTIME_AND_FRAMES = ("attrs", "cattrs", "numpy", "scipy", "pluggy", "narwhals", "pandas",
                      "polars", "pyarrow", "dask")


def _declared() -> dict[str, Version]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    texts = list(project["dependencies"])
    for extra in EXTRAS:
        texts += project["optional-dependencies"][extra]
    bounds: dict[str, Version] = {}
    for text in texts:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        lower = [Version(s.version) for s in requirement.specifier if s.operator == ">="]
        assert len(lower) == 1, f"{text!r} in pyproject.toml needs exactly one '>=' bound"
        assert bounds.get(name, lower[0]) == lower[0], (
            f"{name} is declared with two lower bounds: {bounds[name]} and {lower[0]}")
        bounds[name] = lower[0]
    return bounds


def _pinned() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        requirement = Requirement(text)
        specs = list(requirement.specifier)
        assert len(specs) == 1, f"{text!r}: pin one version"
        assert specs[0].operator == "==", f"{text!r}: pin with '=='"
        name = canonicalize_name(requirement.name)
        assert name not in pins, f"{name} is pinned twice"
        pins[name] = Version(specs[0].version)
    return pins


def test_every_bound_is_pinned_at_its_lowest_version() -> None:
    declared, pinned = _declared(), _pinned()
    assert sorted(pinned) == sorted(declared)
    for name, bound in declared.items():
        assert pinned[name] == bound, f"{name}: pyproject says >={bound}, constraints pin "\
                                      f"{pinned[name]}"


@pytest.mark.parametrize("name", RUNTIME_AND_FRAMES)
def test_runtime_and_frame_libraries_are_among_the_pins(name: str) -> None:
    assert name in _pinned()
