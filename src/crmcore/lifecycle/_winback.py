"""Win-back (客户挽回) by the recorded reason the customer left.

As the course texts teach: to win back a broken relationship, first find why it broke, then
act on that cause
(挽回破裂的客户关系,首先必须找到客户关系破裂的原因,并根据原因采取必要措施加以改进).
:func:`crmcore.lifecycle.winback_candidates` therefore reads each lost customer's recorded churn
reason (:class:`crmcore.lifecycle.ChurnRecord`), leaves out the reasons where win-back is not
advised, ranks the others by past value times a weight per reason, and says why.

The weights are crmcore's reading of the course texts, not the course texts' numbers: fault and
competitive churn are the firm's to recover (fix the failing; beat the competitor's offer) and keep
their full value; a customer whose need went away (natural churn) is worth a lighter touch until
the need returns (half weight); a customer who left for an unknown reason (OTHER, or no record) is
listed with the advice to find the cause first (weight 0.75); a malicious leaver is not to be
won back (excluded). A firm passes its own weights.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from crmcore._errors import InvalidValueError
from crmcore.lifecycle._churn import ChurnReason, ChurnRecord

__all__ = ["DEFAULT_WINBACK_WEIGHTS", "rank_by_reason"]

DEFAULT_WINBACK_WEIGHTS: Final[Mapping[ChurnReason, float]] = {
    ChurnReason.FAULT: 1.0,
    ChurnReason.COMPETITIVE: 1.0,
    ChurnReason.OTHER: 0.75,
    ChurnReason.NATURAL: 0.5,
    ChurnReason.MALICIOUS: 0.0,
}
"""Weight of each recorded reason in the win-back ranking (0 = do not try); crmcore's reading."""

UNKNOWN_WEIGHT: Final = 0.75

_ADVICE: Final[Mapping[ChurnReason, str]] = {
    ChurnReason.FAULT: "fault churn (过失流失): fix the failing that drove the customer away, "
                       "apologise, then approach",
    ChurnReason.COMPETITIVE: "competitive churn (竞争流失): compare the competitor's offer and "
                             "come back with better value",
    ChurnReason.NATURAL: "natural churn (自然流失): keep in touch and fit the offer to the "
                         "changed need; ranked down until the need returns",
    ChurnReason.OTHER: "reason unknown (其他流失): find why the relationship broke before "
                       "acting",
    ChurnReason.MALICIOUS: "malicious churn (恶意流失): not to be won back",
}
_NO_RECORD: Final = "no churn reason recorded: find why the relationship broke before acting"


def _weights(given: Mapping[Any, float] | None) -> dict[ChurnReason, float]:
    table = dict(DEFAULT_WINBACK_WEIGHTS)
    for key, value in (given or {}).items():
        reason = ChurnReason.parse(key)
        if isinstance(value, bool) or not isinstance(value, int | float) or not (
                0.0 <= value <= 1.0):
            raise InvalidValueError(f"reason_weights[{reason.value!r}] must lie in [0, 1], got "
                                    f"{value!r}", field="reason_weights")
        table[reason] = float(value)
    return table


def _reason_map(reasons: Iterable[ChurnRecord] | Mapping[Any, Any]) -> dict[Any, ChurnReason]:
    if isinstance(reasons, Mapping):
        return {cid: ChurnReason.parse(r) for cid, r in reasons.items()}
    result: dict[Any, ChurnReason] = {}
    for position, record in enumerate(reasons):
        if not isinstance(record, ChurnRecord):
            raise InvalidValueError(f"reasons[{position}] is a {type(record).__name__}, not a "
                                    "ChurnRecord", field="reasons", rows=[position])
        result[record.customer_id] = record.reason  # the latest record wins
    return result


def rank_by_reason(
    ids: NDArray[Any], values: NDArray[np.float64],
    reasons: Iterable[ChurnRecord] | Mapping[Any, Any],
    reason_weights: Mapping[Any, float] | None,
) -> tuple[NDArray[np.int64], NDArray[Any], NDArray[Any], NDArray[np.float64],
           NDArray[np.int64]]:
    """Order the candidates by ``value * weight(reason)`` and split off the excluded ones.

    Returns the positions kept (in rank order), every candidate's reason (``None`` if not
    recorded) and advice, the priority, and the positions excluded (weight 0).
    """
    weights = _weights(reason_weights)
    known = _reason_map(reasons)
    reason = np.array([known.get(cid.item() if isinstance(cid, np.generic) else cid)
                       for cid in ids], dtype=object)
    weight = np.array([UNKNOWN_WEIGHT if r is None else weights[r] for r in reason])
    advice = np.array([_NO_RECORD if r is None else _ADVICE[r] for r in reason], dtype=object)
    priority = values * weight
    kept = np.flatnonzero(weight > 0)
    order = kept[np.argsort(-priority[kept], kind="stable")]
    excluded = np.flatnonzero(weight == 0)
    return order, reason, advice, priority, excluded
