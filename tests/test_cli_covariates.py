"""``--covariates`` on the command line: score, fit and predict with the customers' covariates
give what the library gives with the same frame, and bad covariate files are one-line errors
that name the file, the column and the line."""

from __future__ import annotations

import csv
import gzip
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import crmcore
from crmcore import CustomerBase
from crmcore.cli import main
from crmcore.value import ParetoNBD, ParetoNBDDynamic

DATA = Path(__file__).resolve().parent / "data"
LOG = ["--customer-id", "Id", "--datetime", "Date", "--monetary-value", "Price",
       "--calibration-end", "2006-12-31", "--quiet"]


@pytest.fixture
def files(tmp_path: Path) -> Path:
    for name in ("apparelTrans.csv", "apparelStaticCov.csv"):
        shutil.copy(DATA / name, tmp_path / name)
    return tmp_path


@pytest.fixture(scope="module")
def calibration() -> CustomerBase:
    log = pd.read_csv(DATA / "apparelTrans.csv")
    return CustomerBase.from_transactions(
        log, customer_id="Id", datetime="Date", monetary_value="Price", freq="D",
        time_unit="W").calibration_holdout("2006-12-31").calibration


def _rows(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["customer_id"]: row for row in csv.DictReader(handle)}


def test_score_with_covariates_matches_the_library(files: Path,
                                                   calibration: CustomerBase) -> None:
    out = files / "scores.csv"
    assert main(["score", str(files / "apparelTrans.csv"), "-o", str(out), *LOG,
                 "--model", "pareto-nbd", "--covariates",
                 str(files / "apparelStaticCov.csv")]) == 0
    cov = pd.read_csv(DATA / "apparelStaticCov.csv")
    expected = crmcore.score(calibration, margin=0.3, discount_rate=0.0, time_unit="W",
                             horizon=52.0, value_model="pareto-nbd", covariates=cov,
                             customer_id="Id")
    rows = _rows(out)
    ids = [str(i) for i in np.asarray(expected.customer_id)]
    for column in ("p_alive", "clv", "expected_spend", "churn_risk"):
        written = np.array([float(rows[i][column]) for i in ids])
        # two fits of the same data (the command's and the library's) agree to the
        # optimiser's tolerance, not bit for bit
        np.testing.assert_allclose(written, getattr(expected, column), rtol=1e-6,
                                   err_msg=column)
    # covariates move the prediction: two customers with the same history but other
    # covariates get other P(alive) in the library; the file carries the same numbers
    assert "ParetoNBD with covariates" in expected.model


def test_fit_and_predict_with_covariates(files: Path, calibration: CustomerBase) -> None:
    model_file = files / "model.json"
    assert main(["fit", str(files / "apparelTrans.csv"), "-o", str(model_file), *LOG,
                 "--model", "pareto-nbd", "--covariates",
                 str(files / "apparelStaticCov.csv")]) == 0
    saved = json.loads(model_file.read_text(encoding="utf-8"))
    assert {"life.Gender", "life.Channel", "trans.Gender", "trans.Channel"} <= set(
        saved["params"])
    out = files / "predictions.csv"
    assert main(["predict", str(model_file), str(files / "apparelTrans.csv"), "-o", str(out),
                 *LOG, "--horizon", "10", "--covariates",
                 str(files / "apparelStaticCov.csv")]) == 0
    cov = pd.read_csv(DATA / "apparelStaticCov.csv")
    model = ParetoNBD().fit(calibration, covariates=cov, customer_id="Id")
    rows = _rows(out)
    ids = [str(i) for i in np.asarray(calibration.customer_id)]
    np.testing.assert_allclose([float(rows[i]["p_alive"]) for i in ids],
                               model.p_alive(calibration, covariates=cov, customer_id="Id"),
                               rtol=1e-6)
    np.testing.assert_allclose(
        [float(rows[i]["expected_purchases"]) for i in ids],
        model.expected_purchases(10.0, calibration, covariates=cov, customer_id="Id"),
        rtol=1e-6)


def _error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_bad_covariate_use_is_a_one_line_usage_error(
        files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = str(files / "apparelTrans.csv")
    cov = str(files / "apparelStaticCov.csv")
    out = str(files / "s.csv")
    message = _error(capsys, ["score", log, "-o", out, *LOG, "--model", "bgbb",
                              "--covariates", cov])
    assert "BGBB takes no covariates" in message
    assert "pareto-nbd" in message
    message = _error(capsys, ["score", log, "-o", out, *LOG, "--covariate-id", "Id"])
    assert "--covariate-id given without --covariates" in message
    message = _error(capsys, ["score", log, "-o", out, *LOG, "--model", "pareto-nbd",
                              "--covariates", cov, "--covariate-id", "Customer"])
    assert "'Customer'" in message
    assert "'Id'" in message
    bad = files / "bad.csv"
    lines = (files / "apparelStaticCov.csv").read_text(encoding="utf-8").splitlines()
    lines[5] = lines[5].split(",")[0] + ",female,0.0"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    message = _error(capsys, ["score", log, "-o", out, *LOG, "--model", "pareto-nbd",
                              "--covariates", str(bad)])
    assert "'Gender'" in message
    assert "'female'" in message
    assert "line 6" in message
    message = _error(capsys, ["score", log, "-o", out, *LOG, "--model", "pareto-nbd",
                              "--covariates", str(files / "missing.csv")])
    assert "missing.csv" in message
    assert "no such file" in message
    assert not (files / "s.csv").exists()  # nothing written by a run that failed


def test_a_customer_without_covariates_is_named(files: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    short = files / "short.csv"
    lines = (files / "apparelStaticCov.csv").read_text(encoding="utf-8").splitlines()
    dropped = lines[10].split(",")[0]
    short.write_text("\n".join(lines[:10] + lines[11:]) + "\n", encoding="utf-8")
    message = _error(capsys, ["score", str(files / "apparelTrans.csv"), "-o",
                              str(files / "s.csv"), *LOG, "--model", "pareto-nbd",
                              "--covariates", str(short)])
    assert dropped in message


@pytest.fixture
def dynamic_file(files: Path) -> Path:
    path = files / "dyn.csv"
    path.write_bytes(gzip.decompress((DATA / "apparelDynCov.csv.gz").read_bytes()))
    return path


DYNAMIC = ["--model", "pareto-nbd-dynamic", "--covariate-time", "Cov.Date",
           "--life", "Gender,Channel", "--trans", "High.Season,Gender,Channel"]


def test_time_varying_covariates_fit_score_and_predict(
        files: Path, dynamic_file: Path, calibration: CustomerBase) -> None:
    """The weekly apparel covariates through the command line give the library's numbers;
    saved and read back, the model predicts the same."""
    out = files / "scores.csv"
    assert main(["score", str(files / "apparelTrans.csv"), "-o", str(out), *LOG, *DYNAMIC,
                 "--covariates", str(dynamic_file)]) == 0
    frame = pd.read_csv(dynamic_file, parse_dates=["Cov.Date"])
    model = ParetoNBDDynamic().fit(calibration, covariates=frame, customer_id="Id",
                                   datetime="Cov.Date", life=["Gender", "Channel"],
                                   trans=["High.Season", "Gender", "Channel"])
    keywords: dict[str, Any] = {"covariates": frame, "customer_id": "Id",
                                "datetime": "Cov.Date"}
    rows = _rows(out)
    ids = [str(i) for i in np.asarray(calibration.customer_id)]
    np.testing.assert_allclose([float(rows[i]["p_alive"]) for i in ids],
                               model.p_alive(calibration, **keywords), rtol=1e-6)
    model_file = files / "dynamic.json"
    assert main(["fit", str(files / "apparelTrans.csv"), "-o", str(model_file), *LOG,
                 *DYNAMIC, "--covariates", str(dynamic_file)]) == 0
    predictions = files / "predictions.csv"
    assert main(["predict", str(model_file), str(files / "apparelTrans.csv"), "-o",
                 str(predictions), *LOG, "--horizon", "10", "--covariates", str(dynamic_file),
                 "--covariate-time", "Cov.Date"]) == 0
    rows = _rows(predictions)
    np.testing.assert_allclose([float(rows[i]["expected_purchases"]) for i in ids],
                               model.expected_purchases(10.0, calibration, **keywords),
                               rtol=1e-6)


def test_time_varying_covariates_need_a_time_varying_model(
        files: Path, dynamic_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    message = _error(capsys, ["score", str(files / "apparelTrans.csv"), "-o",
                              str(files / "s.csv"), *LOG, "--model", "pareto-nbd",
                              "--covariates", str(dynamic_file), "--covariate-time",
                              "Cov.Date"])
    assert "no time-varying covariates" in message
    assert "pareto-nbd-dynamic" in message
