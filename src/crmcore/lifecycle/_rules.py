"""The lifecycle rule table: the rules of :class:`crmcore.lifecycle.LifecycleClassifier` in the
order they are tried, the stage codes, and the constants the rule, its evidence and its results
share."""

from __future__ import annotations

from typing import Final, Literal

import numpy as np
from numpy.typing import NDArray

from crmcore.lifecycle._stages import STAGES, LifecycleStage

__all__ = ["MIN_GAPS", "NOT_ACQUIRED", "RULES"]

Measure = Literal["auto", "amount", "count", "periods"]
_MEASURES: Final = ("auto", "amount", "count", "periods")

NOT_ACQUIRED: Final = -1
"""Stage code of a customer who had not bought yet at the cut-off."""

_QUARTER_IN_PERIODS: Final = {"D": 91, "W": 13, "M": 3, "Q": 1, "Y": 1}

MIN_GAPS: Final = 30
"""Fewest observed gaps a lapse limit is learnt from; with fewer at a purchase count the gaps
of all counts are pooled, and with fewer in the whole base the limit falls back to
``decline_gap`` default gaps (the base is too small to say how long customers take)."""

_E = LifecycleStage.EXPLORATION.order
_F = LifecycleStage.FORMATION.order
_S = LifecycleStage.STABILITY.order
_D = LifecycleStage.DECLINE.order
_T = LifecycleStage.TERMINATED.order

RULES: Final[tuple[tuple[str, int], ...]] = (
    ("no-purchase-yet", NOT_ACQUIRED),
    ("long-silence", _T),
    ("p-alive-very-low", _T),
    ("lapsed-exploration", _T),
    ("few-purchases", _E),
    ("short-history", _E),
    ("falling-trend", _D),
    ("low-level", _D),
    ("silence", _D),
    ("p-alive-low", _D),
    ("rising-trend", _F),
    ("steady", _S),
)
"""The rules of :class:`LifecycleClassifier` in the order they are tried, each as (name, stage
code). ``StageResult.rule`` holds each customer's position in this tuple."""

_FloatArray = NDArray[np.float64]
_IntArray = NDArray[np.int64]
_STAGE_OBJECTS: Final = np.array([*STAGES, None], dtype=object)  # code -1 picks None
