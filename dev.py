#!/usr/bin/env python3
"""crmcore's everyday jobs on a fresh machine, with nothing but Python 3.11+ installed.

    python3 dev.py demo       # the demo on the bundled CDNOW data
    python3 dev.py tests      # the whole test suite
    python3 dev.py tests-min  # the suite against the lowest dependency versions allowed
    python3 dev.py lint | typecheck | docs | bench | check

The first run makes a virtual environment in ``.venv`` with nox in it; nox then builds one
environment per job under ``.nox`` and installs crmcore with what that job needs from the
package registry. Extra arguments go to the job (``python3 dev.py tests -k plugins``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
JOBS = {
    "demo": ["demo"],
    "tests": ["tests"],
    "tests-min": ["tests_min"],
    "lint": ["lint"],
    "typecheck": ["typecheck"],
    "docs": ["docs"],
    "bench": ["bench"],
    "check": ["lint", "typecheck", "docs"],
}


def _python() -> Path:
    scripts = VENV / ("Scripts" if os.name == "nt" else "bin")
    return scripts / ("python.exe" if os.name == "nt" else "python")


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in JOBS:
        print(__doc__)
        return 0 if argv[:1] in ([], ["-h"], ["--help"]) else 2
    if sys.version_info < (3, 11):  # noqa: UP036 - this script must run on any Python to say so
        print("crmcore needs Python 3.11 or newer", file=sys.stderr)
        return 2
    python = _python()
    if not python.exists():
        venv.create(VENV, with_pip=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "nox>=2024.4"],
        check=True,
    )
    sessions = JOBS[argv[0]]
    command = [str(python), "-m", "nox", "-s", *sessions]
    if os.environ.get("CI", "").lower() not in ("1", "true"):
        # tests-min needs Python 3.11: a developer without it is told and goes on; CI is not
        command.insert(3, "--no-error-on-missing-interpreters")
    if len(argv) > 1:
        command += ["--", *argv[1:]]
    return subprocess.run(command, cwd=ROOT, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
