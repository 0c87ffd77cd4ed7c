"""The eight loyalty indicators of the course texts (判断客户忠诚度的八个指标), and referrals
(口碑), with their scales.

Each indicator is declared once here: its name in crmcore, the course texts' Chinese term, whether
it is behavioural (read from purchases) or attitudinal (read from survey answers), whether a higher
value means *more* loyalty or less, and the closed interval its values are expected on. The
course texts count price sensitivity and choice time against loyalty and the six others for it.

Every indicator is expected on ``[0, 1]`` unless the caller declares another scale
(``scales={"repeat_purchases": (0, 24)}`` to pass raw counts, for instance). The helpers that
derive indicators (:func:`crmcore.loyalty.behavioural_indicators`,
:func:`crmcore.loyalty.attitudinal_indicators`) return them on ``[0, 1]``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final, Literal

import attrs

from crmcore._errors import InvalidValueError, UnknownIndicatorError

__all__ = ["INDICATORS", "INDICATOR_NAMES", "IndicatorSpec", "indicator", "resolve_scales"]

Scale = tuple[float, float]


@attrs.frozen
class IndicatorSpec:
    """One loyalty indicator: what it measures, on which scale, and which way it points.

    Parameters
    ----------
    name:
        The indicator's name in crmcore (the key callers use).
    seed_term:
        The course texts' Chinese wording.
    kind:
        ``"behavioural"`` (read from purchases) or ``"attitudinal"`` (read from survey answers).
    favours_loyalty:
        ``True`` when a higher value means more loyalty, ``False`` for the two indicators the
        course texts count against it (price sensitivity and choice time).
    scale:
        The default closed interval ``(low, high)`` values are expected on.
    low, high:
        What the two ends of the scale mean.
    """

    name: str
    seed_term: str
    kind: Literal["behavioural", "attitudinal"]
    favours_loyalty: bool
    low: str
    high: str
    scale: Scale = (0.0, 1.0)


INDICATORS: Final[tuple[IndicatorSpec, ...]] = (
    IndicatorSpec(
        "repeat_purchases", "客户重复购买次数", "behavioural", True,
        low="never bought again after the first period",
        high="bought again in every period after the first (repeat-purchase rate 1)",
    ),
    IndicatorSpec(
        "category_share", "客户购买量占其对该产品总需求的比例", "behavioural", True,
        low="buys none of its category need from the firm",
        high="buys all of its category need from the firm",
    ),
    IndicatorSpec(
        "brand_attention", "客户对企业产品或品牌的关心程度", "attitudinal", True,
        low="pays no attention to the firm's products or brand",
        high="follows the firm's products and brand closely",
    ),
    IndicatorSpec(
        "choice_time", "客户购买时的挑选时间", "attitudinal", False,
        low="buys without comparing or deliberating",
        high="takes the longest time to choose",
    ),
    IndicatorSpec(
        "price_sensitivity", "客户对产品价格的敏感程度", "behavioural", False,
        low="indifferent to price (no purchase made on promotion)",
        high="fully price driven (every purchase made on promotion)",
    ),
    IndicatorSpec(
        "competitor_attitude", "客户对竞争产品的态度", "attitudinal", True,
        low="drawn to competing products",
        high="indifferent to or rejecting competing products",
    ),
    IndicatorSpec(
        "incident_tolerance", "客户对产品质量事故的承受能力", "attitudinal", True,
        low="would leave after one quality incident",
        high="forgives quality incidents",
    ),
    IndicatorSpec(
        "product_identification", "客户对产品的认同度", "attitudinal", True,
        low="does not identify with the product",
        high="identifies fully with the product",
    ),
    IndicatorSpec(
        "referrals", "口碑 (老客户介绍新客户)", "behavioural", True,
        low="has referred nobody",
        high="has referred new customers (at least the cap of referral_rate)",
    ),
)
"""The eight indicators of the course texts, in the course texts' order, then referrals (口碑): the
course texts' case answer counts new customers brought by existing ones, word of mouth, as a form
and a measure of loyalty (口碑相传...是客户忠诚的一种表现形式,也是衡量客户忠诚的标准)."""

INDICATOR_NAMES: Final[tuple[str, ...]] = tuple(spec.name for spec in INDICATORS)
"""Their names, in the course texts' order."""

_BY_NAME: Final[dict[str, IndicatorSpec]] = {spec.name: spec for spec in INDICATORS}


def indicator(name: str) -> IndicatorSpec:
    """The specification of one indicator by name.

    Raises
    ------
    UnknownIndicatorError
        ``name`` is not one of :data:`INDICATOR_NAMES`.
    """
    try:
        return _BY_NAME[name]
    except (KeyError, TypeError):
        raise UnknownIndicatorError(name, INDICATOR_NAMES, field="indicator") from None


def check_scale(name: str, scale: object, *, field: str) -> Scale:
    """Return ``scale`` as a float pair ``(low, high)`` with ``low < high``, both finite."""
    try:
        low, high = (float(v) for v in scale)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        raise InvalidValueError(
            f"{field}[{name!r}] must be a pair (low, high) of numbers, got {scale!r}",
            field=field,
        ) from None
    if not (math.isfinite(low) and math.isfinite(high)) or not low < high:
        raise InvalidValueError(
            f"{field}[{name!r}] must be finite with low < high, got ({low!r}, {high!r})",
            field=field,
        )
    return low, high


def resolve_scales(
    scales: Mapping[Any, object] | None,
    *,
    known: tuple[str, ...] = INDICATOR_NAMES,
    defaults: Mapping[str, Scale] | None = None,
    field: str = "scales",
    noun: str = "indicator",
) -> dict[str, Scale]:
    """Each known name's scale: the caller's where given, else the default (``(0, 1)``).

    Raises
    ------
    UnknownIndicatorError
        ``scales`` names something not in ``known``.
    InvalidValueError
        A scale is not a finite pair with ``low < high``.
    """
    resolved = {
        name: (defaults or {}).get(name, _BY_NAME[name].scale if name in _BY_NAME else (0.0, 1.0))
        for name in known
    }
    for name, scale in (scales or {}).items():
        if name not in resolved:
            raise UnknownIndicatorError(name, known, field=field, noun=noun)
        resolved[name] = check_scale(name, scale, field=field)
    return resolved
