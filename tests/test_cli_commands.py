"""The installed ``crmcore`` command, driven as a subprocess on real files (and docs/cli.md's
commands, run as written).

The large log is the full CDNOW master file that ships inside lifetimes (a test dependency):
69,659 transactions of 23,570 customers, whitespace separated, dates as 19970101.
"""

from __future__ import annotations

import csv
import importlib.resources
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import crmcore
from crmcore.datasets import load_cdnow_calibration
from crmcore.value import BGNBD

CDNOW_OPTIONS = ["--separator", "whitespace", "--customer-id", "customer_id",
                 "--datetime", "date", "--datetime-format", "%Y%m%d"]
MONEY = ["--monetary-value", "dollar_value"]


def _command() -> Path:
    folder = Path(sys.executable).parent
    for name in ("crmcore", "crmcore.exe"):
        if (folder / name).exists():
            return folder / name
    raise AssertionError(f"the crmcore command is not installed next to {sys.executable}; "
                         "install the package (pip install -e '.[test]')")


# A relative PYTHONPATH (PYTHONPATH=src while developing) must survive the change of
# directory, so the command runs the crmcore under test: resolved once, at import.
_PYTHONPATH = os.pathsep.join(str(Path(p).resolve()) for p in
                              os.environ.get("PYTHONPATH", "").split(os.pathsep) if p)


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    if _PYTHONPATH:
        env["PYTHONPATH"] = _PYTHONPATH
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(_command()), *args], cwd=cwd, env=_environment(),
                          input=stdin, capture_output=True, text=True, check=False,
                          timeout=300)


@pytest.fixture(scope="module")
def cdnow_master() -> Iterator[Path]:
    resource = importlib.resources.files("lifetimes") / "datasets" / "CDNOW_master.txt"
    with importlib.resources.as_file(resource) as path:
        yield path


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith(f"crmcore {result.args[1]}: error: ")
    return lines[0]


# -- the large log ----------------------------------------------------------------------------


@pytest.mark.slow
def test_score_full_cdnow_master(cdnow_master: Path, tmp_path: Path) -> None:
    """The whole master file through the default models, checked against lifetimes' summary.

    Needs crmcore.score to accept the file's $0 purchases with the default Gamma-Gamma spend
    model."""
    import pandas as pd
    from lifetimes.utils import summary_data_from_transaction_data

    result = run("score", str(cdnow_master), "-o", "scores.csv", *CDNOW_OPTIONS, *MONEY,
                 "--calibration-end", "1997-09-30", "--discount-rate", "0.002", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no progress display: stderr is not a terminal
    rows = _read_csv(tmp_path / "scores.csv")
    assert len(rows) == 23_570
    for column in ("customer_id", "frequency", "recency", "T", "monetary_value", "p_alive",
                   "expected_purchases", "clv", "historical_value", "current_value",
                   "potential_value", "lifecycle_stage", "importance_tier", "rfm_segment",
                   "pyramid_tier", "portfolio_quadrant", "frequency_holdout"):
        assert column in rows[0], column
    # The summary's header states every setting, defaults marked, so the run can be repeated.
    assert "margin           0.3  *" in result.stdout
    assert "--time-unit W" in result.stdout
    assert "--model bgnbd" in result.stdout
    assert "23,570" in result.stdout

    # Independent reference: lifetimes' summary of the calibration period, in weeks.
    log = pd.read_csv(cdnow_master, sep=r"\s+", dtype={"customer_id": str})
    log["date"] = pd.to_datetime(log["date"].astype(str), format="%Y%m%d")
    reference = summary_data_from_transaction_data(
        log[log["date"] <= "1997-09-30"], "customer_id", "date", freq="D",
        observation_period_end="1997-09-30", freq_multiplier=7, monetary_value_col="dollar_value")
    reference.index = reference.index.astype(int)
    ids = np.array([int(r["customer_id"]) for r in rows])
    frame = reference.loc[ids]
    np.testing.assert_array_equal([int(r["frequency"]) for r in rows], frame["frequency"])
    np.testing.assert_allclose([float(r["recency"]) for r in rows], frame["recency"])
    np.testing.assert_allclose([float(r["T"]) for r in rows], frame["T"])
    p_alive = np.array([float(r["p_alive"]) for r in rows])
    assert ((p_alive >= 0) & (p_alive <= 1)).all()
    stages = {r["lifecycle_stage"] for r in rows}
    assert stages <= {"exploration", "formation", "stability", "decline", "terminated"}
    assert {r["importance_tier"] for r in rows} == {"vip", "key", "ordinary"}


@pytest.mark.slow
def test_late_transactions_are_left_out_and_counted(cdnow_master: Path, tmp_path: Path
                                                    ) -> None:
    import pandas as pd

    result = run("score", str(cdnow_master), "-o", "scores.parquet", *CDNOW_OPTIONS, *MONEY,
                 "--observation-end", "1998-01-31", "--spend-model", "15", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    log = pd.read_csv(cdnow_master, sep=r"\s+")
    late = int((log["date"] > 19980131).sum())
    assert late > 0
    assert f"after --observation-end, left out {late:,}" in " ".join(result.stdout.split())
    table = pd.read_parquet(tmp_path / "scores.parquet")
    assert len(table) == 23_570  # everyone bought in Q1 1997
    assert (table["expected_spend"] == 15.0).all()
    assert set(table["importance_tier"]) == {"vip", "key", "ordinary"}


@pytest.mark.slow
def test_fit_then_predict_on_the_full_file(cdnow_master: Path, tmp_path: Path) -> None:
    fitted = run("fit", str(cdnow_master), "--model", "bgnbd", "-o", "bgnbd.json",
                 *CDNOW_OPTIONS, "--calibration-end", "1997-09-30", cwd=tmp_path)
    assert fitted.returncode == 0, fitted.stderr
    model = BGNBD.load(tmp_path / "bgnbd.json")
    assert model.time_unit_ == "W"
    assert "log-likelihood" in fitted.stdout

    predicted = run("predict", "bgnbd.json", str(cdnow_master), "-o", "p.jsonl",
                    *CDNOW_OPTIONS, "--calibration-end", "1997-09-30", "--horizon", "39",
                    cwd=tmp_path)
    assert predicted.returncode == 0, predicted.stderr
    lines = (tmp_path / "p.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 23_570
    x = np.array([r["frequency"] for r in records], dtype=float)
    tx = np.array([r["recency"] for r in records])
    t_obs = np.array([r["T"] for r in records])
    np.testing.assert_allclose([r["p_alive"] for r in records], model.p_alive(x, tx, t_obs),
                               rtol=1e-12)
    np.testing.assert_allclose([r["expected_purchases"] for r in records],
                               model.expected_purchases(39.0, x, tx, t_obs), rtol=1e-12)


# -- small files ------------------------------------------------------------------------------

SMALL = """customer,day,amount
a,2024-01-01,10.5
a,2024-01-20,12
b,2024-01-03,5
b,2024-02-10,7
b,2024-03-01,9
c,2024-02-01,20
d,2024-01-15,4
d,2024-03-20,6
e,2024-03-02,8
"""
SMALL_OPTIONS = ["--customer-id", "customer", "--datetime", "day", "--monetary-value",
                 "amount"]
SAMPLE_OPTIONS = ["--customer-id", "customer_id", "--datetime", "date", "--monetary-value",
                  "amount", "--calibration-end", "1997-09-30"]


@pytest.fixture(scope="module")
def sample_csv() -> str:
    """The bundled CDNOW 1/10 sample (6,919 rows, 2,357 customers) as CSV text."""
    from crmcore.datasets import load_cdnow_transactions

    table = load_cdnow_transactions("pyarrow")
    ids = table["customer_id"].to_pylist()
    dates = [d.date().isoformat() for d in table["date"].to_pylist()]
    amounts = table["amount"].to_pylist()
    return "customer_id,date,amount\n" + "".join(
        f"{i},{d},{a!r}\n" for i, d, a in zip(ids, dates, amounts, strict=True))


def test_stdin_csv_to_jsonl(tmp_path: Path, sample_csv: str) -> None:
    result = run("score", "-", "-o", "out.jsonl", *SAMPLE_OPTIONS, cwd=tmp_path,
                 stdin=sample_csv)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in
               (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(records) == 2357
    assert sum(r["frequency"] for r in records) == 2457  # Fader, Hardie & Lee (2005)
    split = load_cdnow_calibration()
    assert sum(r["frequency_holdout"] for r in records) == split.frequency_holdout.sum()
    assert records[0]["pyramid_tier"] is None  # no potential value, so no pyramid tier
    # The run's own forecast of the holdout is in the summary.
    assert "holdout repeat purchases" in result.stdout


def test_quiet_prints_nothing(tmp_path: Path, sample_csv: str) -> None:
    (tmp_path / "log.csv").write_text(sample_csv, encoding="utf-8")
    result = run("score", "log.csv", "-o", "out.csv", *SAMPLE_OPTIONS, "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr == ""
    assert len(_read_csv(tmp_path / "out.csv")) == 2357


BAD_INPUTS: list[tuple[str, list[str], list[str]]] = [
    (SMALL, ["--datetime", "when"], ["'when'", "'day'", "log.csv"]),
    (SMALL.replace("2024-02-10", "2024-02-31"), [], ["'2024-02-31'", "line 5", "'day'"]),
    (SMALL.replace("12\n", "twelve\n"), [], ["'twelve'", "line 3", "'amount'"]),
    (SMALL.replace(",5\n", ",-5\n"), [], ["'-5'", "line 4", "negative"]),
    (SMALL, ["--model", "no-such-model"], ["'no-such-model'", "bgnbd"]),
    (SMALL, ["--freq", "M", "--time-unit", "W"], ["--freq"]),
    (SMALL, ["--horizon", "soon"], ["'soon'"]),
    ("customer,day,amount\n", [], ["no data rows", "log.csv"]),
]


@pytest.fixture(scope="module")
def bad_runs(tmp_path_factory: pytest.TempPathFactory
             ) -> list[tuple[Path, subprocess.CompletedProcess[str]]]:
    """Every bad input of BAD_INPUTS, run side by side (each command starts a Python)."""
    from concurrent.futures import ThreadPoolExecutor

    def one(case: tuple[str, list[str], list[str]]
            ) -> tuple[Path, subprocess.CompletedProcess[str]]:
        content, options, _ = case
        folder = tmp_path_factory.mktemp("bad")
        (folder / "log.csv").write_text(content, encoding="utf-8")
        return folder, run("score", "log.csv", "-o", "out.csv", *SMALL_OPTIONS, *options,
                           cwd=folder)

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(one, BAD_INPUTS))


@pytest.mark.parametrize("case", range(len(BAD_INPUTS)))
def test_bad_input_is_one_line_with_exit_2(
        bad_runs: list[tuple[Path, subprocess.CompletedProcess[str]]], case: int) -> None:
    folder, result = bad_runs[case]
    assert result.returncode == 2, result.stderr
    line = _one_error_line(result)
    for text in BAD_INPUTS[case][2]:
        assert text in line
    assert sorted(p.name for p in folder.iterdir()) == ["log.csv"]  # no output, no temp file


def test_debug_adds_the_traceback(tmp_path: Path) -> None:
    (tmp_path / "log.csv").write_text(SMALL, encoding="utf-8")
    result = run("score", "log.csv", "-o", "out.csv", *SMALL_OPTIONS, "--datetime", "when",
                 "--debug", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" in result.stderr
    assert "UnknownColumnError" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("crmcore score: error: ")


def test_missing_file_and_bad_extension(tmp_path: Path) -> None:
    missing = run("score", "nowhere.csv", "-o", "out.csv", *SMALL_OPTIONS, cwd=tmp_path)
    assert missing.returncode == 2
    assert "nowhere.csv" in _one_error_line(missing)
    (tmp_path / "log.csv").write_text(SMALL, encoding="utf-8")
    extension = run("score", "log.csv", "-o", "out.xlsx", *SMALL_OPTIONS, cwd=tmp_path)
    assert extension.returncode == 2
    assert ".jsonl" in _one_error_line(extension)


def test_usage_error_exits_2(tmp_path: Path) -> None:
    result = run("score", "log.csv", "-o", "out.csv", cwd=tmp_path)
    assert result.returncode == 2
    assert "--customer-id" in result.stderr


def test_model_that_cannot_be_fitted_exits_1(tmp_path: Path) -> None:
    # Nobody bought twice: BG/NBD's parameters are not identified.
    (tmp_path / "log.csv").write_text("customer,day,amount\na,2024-01-01,1\nb,2024-01-02,2\n"
                                      "c,2024-01-05,3\n", encoding="utf-8")
    result = run("score", "log.csv", "-o", "out.csv", "--customer-id", "customer",
                 "--datetime", "day", "--monetary-value", "amount", cwd=tmp_path)
    assert result.returncode == 1
    assert "BGNBD" in _one_error_line(result)
    assert not (tmp_path / "out.csv").exists()


def test_csv_needs_no_frame_library(tmp_path: Path, sample_csv: str) -> None:
    """`pip install crmcore` alone scores a CSV file; Parquet asks for the cli extra first."""
    (tmp_path / "log.csv").write_text(sample_csv, encoding="utf-8")
    probe = ("import sys\n"
             "for name in ('pandas', 'polars', 'pyarrow', 'dask', 'lifetimes', 'matplotlib'):\n"
             "    sys.modules[name] = None  # importing it now raises ImportError\n"
             "from crmcore.cli import main\n"
             "sys.exit(main(sys.argv[1:]))\n")
    base = [sys.executable, "-c", probe, "score", "log.csv", "--customer-id", "customer_id",
            "--datetime", "date", "--monetary-value", "amount", "-q"]
    csv_run = subprocess.run([*base, "-o", "out.csv"], cwd=tmp_path, env=_environment(),
                             capture_output=True, text=True, check=False, timeout=300)
    assert csv_run.returncode == 0, csv_run.stderr
    assert len(_read_csv(tmp_path / "out.csv")) == 2357
    parquet_run = subprocess.run([*base, "-o", "out.parquet"], cwd=tmp_path,
                                 env=_environment(), capture_output=True, text=True,
                                 check=False, timeout=300)
    assert parquet_run.returncode == 2
    assert parquet_run.stderr.startswith("crmcore score: error: --output: writing Parquet needs")
    assert "crmcore[cli]" in parquet_run.stderr


# -- atomic output ----------------------------------------------------------------------------


SENTINEL = "an earlier run's output\n"


def test_failed_run_keeps_the_existing_output(tmp_path: Path) -> None:
    (tmp_path / "log.csv").write_text(SMALL.replace("12\n", "x\n"), encoding="utf-8")
    (tmp_path / "out.csv").write_text(SENTINEL, encoding="utf-8")
    result = run("score", "log.csv", "-o", "out.csv", *SMALL_OPTIONS, cwd=tmp_path)
    assert result.returncode == 2
    assert (tmp_path / "out.csv").read_text(encoding="utf-8") == SENTINEL
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.csv", "out.csv"]


@pytest.mark.skipif(sys.platform == "win32", reason="file size limits are POSIX")
def test_write_that_fails_midway(tmp_path: Path, sample_csv: str) -> None:
    """The kernel refuses to let the output grow past 64 KiB (RLIMIT_FSIZE): the write fails
    partway; the earlier output stays as it was and the partial temporary file is removed."""
    import resource

    (tmp_path / "log.csv").write_text(sample_csv, encoding="utf-8")
    (tmp_path / "out.csv").write_text(SENTINEL, encoding="utf-8")
    limit = 64 * 1024

    def limit_file_size() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    result = subprocess.run(
        [str(_command()), "score", "log.csv", "-o", "out.csv", *SAMPLE_OPTIONS],
        cwd=tmp_path, env=_environment(), capture_output=True, text=True, check=False,
        preexec_fn=limit_file_size, timeout=300)
    assert result.returncode == 1
    assert "out.csv: cannot write" in _one_error_line(result)
    assert (tmp_path / "out.csv").read_text(encoding="utf-8") == SENTINEL
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.csv", "out.csv"]


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_run_killed_while_writing(tmp_path: Path, cdnow_master: Path) -> None:
    """SIGKILL as soon as the temporary output appears (the 7 MB output of the full CDNOW
    file takes a while to write): the output is the earlier file, never a partial one."""
    (tmp_path / "out.csv").write_text(SENTINEL, encoding="utf-8")
    process = subprocess.Popen(
        [str(_command()), "score", str(cdnow_master), "-o", "out.csv", *CDNOW_OPTIONS, *MONEY,
         "--spend-model", "15", "-q"], cwd=tmp_path, env=_environment(),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while process.poll() is None and time.monotonic() < deadline:
        if any(p.name.endswith(".part") for p in tmp_path.iterdir()):
            process.kill()
            break
        time.sleep(0.001)
    process.wait(timeout=60)
    output = (tmp_path / "out.csv").read_text(encoding="utf-8")
    if process.returncode == -signal.SIGKILL:
        assert output == SENTINEL
        partial = [p for p in tmp_path.iterdir() if p.name != "out.csv"]
        assert all(p.name.startswith(".out.csv.") for p in partial)  # hidden, never the output
    else:  # the write won the race: then the output is whole
        assert process.returncode == 0
        assert len(output.splitlines()) == 23_570 + 1


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is POSIX")
def test_terminated_run_leaves_nothing(tmp_path: Path) -> None:
    (tmp_path / "out.csv").write_text(SENTINEL, encoding="utf-8")
    process = subprocess.Popen(
        [str(_command()), "score", "-", "-o", "out.csv", *SMALL_OPTIONS], cwd=tmp_path,
        env=_environment(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    assert process.stdin is not None
    assert process.stdout is not None
    process.stdin.write(SMALL)  # the log is still arriving when the run is stopped
    process.stdin.flush()
    # The settings header is printed (and flushed) before reading starts: the run is under way.
    assert process.stdout.readline().startswith("crmcore ")
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1
    assert "interrupted" in stderr
    assert (tmp_path / "out.csv").read_text(encoding="utf-8") == SENTINEL
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


# -- progress ---------------------------------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_progress_shows_on_a_terminal_only(tmp_path: Path, sample_csv: str) -> None:
    import pty

    (tmp_path / "log.csv").write_text(sample_csv, encoding="utf-8")
    leader, follower = pty.openpty()
    try:
        result = subprocess.run(
            [str(_command()), "fit", "log.csv", "--model", "bgnbd", "-o", "m.json",
             "--customer-id", "customer_id", "--datetime", "date"], cwd=tmp_path,
            env=_environment(), stdout=subprocess.PIPE, stderr=follower, text=True,
            check=False, timeout=300)
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal is closed once everything is read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(leader)
    assert result.returncode == 0
    text = shown.decode("utf-8", "replace")
    assert "reading log.csv" in text
    assert "6,919 rows" in text or "done in" in text
    assert "fitting bgnbd" in text
    assert "reading" not in result.stdout  # progress never goes to standard output


def test_quiet_silences_progress_on_a_terminal() -> None:
    import io

    from crmcore.cli._progress import Progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    for quiet, expected in ((False, True), (True, False)):
        stream = Terminal()
        progress = Progress(quiet=quiet, stream=stream)
        with progress.step("reading"):
            progress.rows(10)
        assert progress.enabled is expected
        assert ("reading" in stream.getvalue()) is expected
    assert not Progress(quiet=False, stream=io.StringIO()).enabled  # not a terminal


# -- help, models, demo -----------------------------------------------------------------------


@pytest.mark.parametrize("command", ["score", "fit", "predict", "models", "demo"])
def test_help_has_an_example(tmp_path: Path, command: str) -> None:
    result = run(command, "--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "example:" in result.stdout
    assert f"crmcore {command}" in result.stdout


def test_help_shows_defaults(tmp_path: Path) -> None:
    text = " ".join(run("score", "--help", cwd=tmp_path).stdout.split())
    assert "(default: 0.3)" in text
    assert "(default: 52)" in text
    assert "(default: D)" in text


def test_models_lists_every_kind_with_its_plugin(tmp_path: Path) -> None:
    result = run("models", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    table = [line.split() for line in result.stdout.splitlines()]
    rows = {(r[0], r[1]): r for r in table if len(r) >= 3}
    assert rows[("value", "bgnbd")][2:4] == ["*", "crmcore.value._plugin"]
    assert ("spend", "gamma-gamma") in rows
    kinds = {r[0] for r in table[1:] if len(r) >= 3}
    assert {"value", "spend", "potential", "lifecycle", "satisfaction", "loyalty"} <= kinds
    for kind in ("value", "spend"):
        for name in crmcore.available_models(kind):
            assert (kind, name) in rows


# -- the documentation's commands --------------------------------------------------------

PAGE = Path(__file__).resolve().parents[1] / "docs" / "cli.md"
_PYTHON = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
_CONSOLE = re.compile(r"^```console\n(.*?)^```", re.MULTILINE | re.DOTALL)


@pytest.mark.slow
def test_cli_page_commands_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = PAGE.read_text(encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    for block in _PYTHON.findall(text):
        exec(compile(block, str(PAGE), "exec"), namespace)
    commands = [shlex.split(line) for block in _CONSOLE.findall(text)
                for line in block.splitlines() if line.startswith("crmcore ")]
    assert len(commands) >= 4
    for command in commands:
        result = run(*command[1:], cwd=tmp_path)
        assert result.returncode == 0, (command, result.stderr)
    assert (tmp_path / "scores.csv").exists()
    assert (tmp_path / "predictions.csv").exists()


def test_times_with_a_utc_offset_follow_the_librarys_rule(tmp_path: Path) -> None:
    # The same purchases, once as local times and once as the same instants with their
    # offset: one rule (local time in the data's zone) gives the same summary.
    naive = "customer_id,date\n1,2020-01-01T23:30\n1,2020-01-09T08:00\n2,2020-01-05T12:00\n"
    aware = ("customer_id,date\n1,2020-01-01T23:30+05:00\n1,2020-01-09T08:00+05:00\n"
             "2,2020-01-05T12:00+05:00\n")
    (tmp_path / "naive.csv").write_text(naive, encoding="utf-8")
    (tmp_path / "aware.csv").write_text(aware, encoding="utf-8")
    outputs = []
    for name in ("naive", "aware"):
        result = run("fit", f"{name}.csv", "--customer-id", "customer_id", "--datetime",
                     "date", "--model", "bgnbd", "-o", f"{name}.json", cwd=tmp_path)
        # two customers identify no model: what matters is that both read the same way
        outputs.append((result.returncode, result.stderr.split("stopped at")[0]))
    assert outputs[0] == outputs[1]
    mixed = "customer_id,date\n1,2020-01-01T23:30+05:00\n2,2020-01-05T12:00\n"
    (tmp_path / "mixed.csv").write_text(mixed, encoding="utf-8")
    result = run("fit", "mixed.csv", "--customer-id", "customer_id", "--datetime", "date",
                 "--model", "bgnbd", "-o", "mixed.json", cwd=tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "date" in result.stderr
