"""The demo command: runs on the bundled data and prints the published CDNOW figures."""

from __future__ import annotations

import subprocess
import sys

import pytest

from crmcore.cli import main


def test_demo_prints_the_cdnow_results(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "2,357" in out
    assert "2,457" in out  # repeat purchases in the calibration period
    assert "log-likelihood -9582.4" in out  # Fader, Hardie & Lee (2005)
    assert "Top ten customers by current value" in out
    assert "贵宾型客户" in out


def test_unknown_command_is_refused() -> None:
    result = subprocess.run([sys.executable, "-m", "crmcore", "frobnicate"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert "invalid choice: 'frobnicate'" in result.stderr


def test_demo_needs_no_data_frame_library() -> None:
    # `python3 dev.py demo` installs crmcore alone: the demo must not need pandas or polars.
    probe = ("import sys\n"
             "for name in ('pandas', 'polars', 'pyarrow', 'dask', 'lifetimes'):\n"
             "    sys.modules[name] = None  # importing it now raises ImportError\n"
             "from crmcore.cli import main\n"
             "sys.exit(main(['demo']))\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert "Top ten customers by current value" in result.stdout
