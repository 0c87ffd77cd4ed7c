"""Data sets bundled with crmcore: CDNOW purchases and the donations data of the BG/BB paper.

See ``data/README.md`` beside this module for their sources. Loaders return data frames of the
backend you ask for (``"pandas"``, ``"polars"`` or ``"pyarrow"``) or ready
:class:`crmcore.CustomerBase` objects.
"""

from crmcore.datasets._loaders import (
    CDNOW_CALIBRATION_END,
    DiscreteSummary,
    load_cdnow,
    load_cdnow_calibration,
    load_cdnow_master,
    load_cdnow_summary,
    load_cdnow_transactions,
    load_donations,
)

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
