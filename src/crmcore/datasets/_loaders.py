"""Loaders for the bundled data sets."""

from __future__ import annotations

import datetime as dt
import importlib.util
from importlib import resources
from pathlib import Path
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from crmcore._base import CalibrationHoldout, CustomerBase
from crmcore._errors import MissingDependencyError
from crmcore._frames import FrameBackend, TransactionColumns, _frame
from crmcore._time import check_unit

__all__ = [
    "CDNOW_CALIBRATION_END",
    "DiscreteSummary",
    "load_cdnow",
    "load_cdnow_calibration",
    "load_cdnow_master",
    "load_cdnow_summary",
    "load_cdnow_transactions",
    "load_donations",
]

CDNOW_CALIBRATION_END = dt.date(1997, 9, 30)
"""End of the 39-week calibration period used by Fader, Hardie & Lee (2005)."""

CDNOW_END = dt.date(1998, 6, 30)
"""End of the CDNOW observation period (the master file's last day)."""


def _data_file(name: str) -> Any:
    return resources.files("crmcore.datasets").joinpath("data", name)


def _cdnow_columns() -> dict[str, NDArray[Any]]:
    with _data_file("CDNOW_sample.txt").open("rb") as handle:
        raw = np.loadtxt(handle, dtype=np.float64)
    days = raw[:, 2].astype(np.int64)
    dates = np.array(
        [f"{d // 10000:04d}-{d // 100 % 100:02d}-{d % 100:02d}" for d in days.tolist()],
        dtype="datetime64[D]",
    )
    return {
        "customer_id": raw[:, 1].astype(np.int64),
        "date": dates.astype("datetime64[us]"),
        "quantity": raw[:, 3].astype(np.int64),
        "amount": raw[:, 4],
    }


def load_cdnow_transactions(backend: FrameBackend = "pandas") -> Any:
    """The CDNOW 1/10 sample purchase log: 6,919 rows of ``customer_id`` (1-2357), ``date``,
    ``quantity`` (CDs) and ``amount`` (dollars), January 1997 to June 1998."""
    return _frame(_cdnow_columns(), backend)


def load_cdnow(*, freq: str = "D", time_unit: str | None = "W") -> CustomerBase:
    """The whole CDNOW sample (to 30 June 1998) as a base; by default daily periods in weeks.

    Needs no data-frame library: the bundled file is read straight into columns.
    """
    check_unit(freq, argument="freq")
    columns = _cdnow_columns()
    checked = TransactionColumns(customer_id=columns["customer_id"], at=columns["date"],
                                 amount=columns["amount"], time_zone=None)
    return CustomerBase._from_columns(checked, freq=freq,
                                      time_unit=freq if time_unit is None else time_unit,
                                      observation_end=None, datetime="date")


def load_cdnow_master(*, freq: str = "D", time_unit: str | None = "W") -> CustomerBase:
    """The full CDNOW master file: 69,659 purchases by the 23,570 customers of the first
    quarter 1997 cohort, to 30 June 1998 (the 1/10 sample of :func:`load_cdnow` is drawn from
    it); by default daily periods in weeks.

    The file is not bundled with crmcore: it ships inside the lifetimes package (the
    ``lifetimes`` extra), and is read from there without importing lifetimes.

    Raises
    ------
    MissingDependencyError
        lifetimes is not installed.
    """
    check_unit(freq, argument="freq")
    spec = importlib.util.find_spec("lifetimes")
    locations = [] if spec is None else list(spec.submodule_search_locations or [])
    path = next((Path(p) / "datasets" / "CDNOW_master.txt" for p in locations
                 if (Path(p) / "datasets" / "CDNOW_master.txt").is_file()), None)
    if path is None:
        raise MissingDependencyError(
            "the CDNOW master file ships inside lifetimes: pip install 'crmcore[lifetimes]'",
            extra="lifetimes")
    raw = np.loadtxt(path, skiprows=1, dtype=np.float64)
    days = raw[:, 1].astype(np.int64)
    dates = np.array(
        [f"{d // 10000:04d}-{d // 100 % 100:02d}-{d % 100:02d}" for d in days.tolist()],
        dtype="datetime64[D]").astype("datetime64[us]")
    checked = TransactionColumns(customer_id=raw[:, 0].astype(np.int64), at=dates,
                                 amount=raw[:, 3], time_zone=None)
    return CustomerBase._from_columns(checked, freq=freq,
                                      time_unit=freq if time_unit is None else time_unit,
                                      observation_end=CDNOW_END, datetime="date")


def load_cdnow_calibration(*, freq: str = "D", time_unit: str | None = "W") -> CalibrationHoldout:
    """CDNOW split into the 39-week calibration (to 30 September 1997) and a 39-week holdout,
    as in Fader, Hardie & Lee (2005)."""
    return load_cdnow(freq=freq, time_unit=time_unit).calibration_holdout(CDNOW_CALIBRATION_END)


def load_cdnow_summary() -> CustomerBase:
    """The published 39-week calibration summary (x, t_x, T in weeks, rounded to two decimals;
    zbar as monetary value) as a base, exactly as Fader and Hardie distribute it."""
    with _data_file("cdnow_summary_39w.csv").open("rb") as handle:
        raw = np.loadtxt(handle, delimiter=",", skiprows=1, dtype=np.float64)
    return CustomerBase.from_summary(
        raw[:, 0].astype(np.int64), raw[:, 1], raw[:, 2], raw[:, 3], raw[:, 4], time_unit="W"
    )


@attrs.frozen(eq=False)
class DiscreteSummary:
    """Discrete-time purchase patterns (BG/BB): each row is a pattern with ``weights`` customers.

    ``frequency`` is the number of the ``n_periods`` repeat opportunities with a transaction and
    ``recency`` the opportunity of the last one (0 when there is none).
    """

    frequency: NDArray[np.int64]
    recency: NDArray[np.int64]
    n_periods: NDArray[np.int64]
    weights: NDArray[np.float64]


def load_donations() -> DiscreteSummary:
    """The donations data of Fader, Hardie & Shang (2010): 11,104 donors of the 1995 cohort
    and their repeat donations over six annual opportunities (1996-2001), as 22 patterns."""
    with _data_file("donations.csv").open("rb") as handle:
        raw = np.loadtxt(handle, delimiter=",", skiprows=1, dtype=np.int64)
    return DiscreteSummary(
        frequency=raw[:, 0], recency=raw[:, 1], n_periods=raw[:, 2],
        weights=raw[:, 3].astype(np.float64),
    )
