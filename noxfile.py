"""nox sessions: tests, tests_min, lint, typecheck, docs, bench, demo (``python3 dev.py <job>``
runs them)."""

from __future__ import annotations

from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests", "lint", "typecheck", "docs"]

ROOT = Path(__file__).parent


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite (hypothesis "ci" profile unless HYPOTHESIS_PROFILE says otherwise)."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", *session.posargs,
                env={"HYPOTHESIS_PROFILE": session.env.get("HYPOTHESIS_PROFILE", "ci")})


# Binary wheels only for the compiled libraries: an old version without a wheel for this Python
# must fail at once rather than start a long build from source.
_WHEELS_ONLY = "numpy,scipy,pandas,pyarrow,polars,scikit-learn,matplotlib,contourpy,kiwisolver"


@nox.session(python="3.11")
def tests_min(session: nox.Session) -> None:
    """The whole test suite against the lowest versions pyproject.toml allows.

    Installs crmcore[test] under ``constraints/minimum.txt`` (each dependency at its lower
    bound; ``tests/test_constraints.py`` keeps the file and pyproject.toml in step) on Python
    3.11, the lowest Python crmcore supports.
    """
    session.install("--only-binary", _WHEELS_ONLY, "-c", str(ROOT / "constraints" / "minimum.txt"),
                    "-e", ".[test]")
    session.run("python", "-m", "pip", "list", "--disable-pip-version-check")
    session.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", *session.posargs,
                env={"HYPOTHESIS_PROFILE": session.env.get("HYPOTHESIS_PROFILE", "ci")})


@nox.session
def lint(session: nox.Session) -> None:
    """ruff over everything that is Python."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", "src", "tests", "benchmarks", "docs", "noxfile.py", "dev.py")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the library, its tests and benchmarks."""
    session.install("-e", ".[typecheck]")
    session.run("mypy", "--strict", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """Build the HTML documentation; every Sphinx warning is an error."""
    session.install("-e", ".[docs]")
    session.run("sphinx-build", "-W", "--keep-going", "-q", "-b", "html", "docs",
                str(ROOT / "docs" / "_build" / "html"))


@nox.session
def bench(session: nox.Session) -> None:
    """Every benchmark in benchmarks/, quick sizes unless given other arguments."""
    session.install("-e", ".[test]")
    for script in sorted((ROOT / "benchmarks").glob("bench_*.py")):
        session.run("python", str(script), *(session.posargs or ["--quick"]))


@nox.session
def demo(session: nox.Session) -> None:
    """The demo on the bundled CDNOW data."""
    session.install("-e", ".")
    session.run("crmcore", "demo", *session.posargs)
