"""Forms of loyalty (客户忠诚的表现形式) as Dick & Basu's attitude x patronage grid.

Dick and Basu (1994, "Customer loyalty: toward an integrated conceptual framework", *Journal of
the Academy of Marketing Science* 22(2), 99-113, figure 1) cross relative attitude with repeat
patronage: high/high is loyalty, high attitude with low patronage is latent loyalty, low
attitude with high patronage is spurious loyalty, and low/low is no loyalty. The course texts name
the same cells sustainable (可持续忠诚), emotional (精神忠诚) and behavioural (行为忠诚) loyalty.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any, Final, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from crmcore._errors import IndicatorScaleError, InvalidValueError, describe_rows
from crmcore._strategies import Strategy, strategies_for
from crmcore.loyalty._indicators import check_scale

__all__ = ["LoyaltyForm", "loyalty_form"]


class LoyaltyForm(enum.Enum):
    """The form a customer's loyalty takes (Dick & Basu 1994).

    Attributes
    ----------
    SUSTAINABLE
        可持续忠诚, sustainable loyalty: high relative attitude and high repeat patronage,
        behaviour and feeling in harmony (the course texts' 极度忠诚; Dick & Basu's *loyalty*).
    EMOTIONAL
        精神忠诚, emotional loyalty: high attitude, low patronage (Dick & Basu's *latent
        loyalty*): the customer likes the firm but does not (yet) buy much.
    BEHAVIOURAL
        行为忠诚, behavioural loyalty: high patronage, low attitude (Dick & Basu's *spurious
        loyalty*): repeat buying from habit, convenience or lack of choice; the course texts call
        it the low form of loyalty.
    NONE
        No loyalty: low attitude and low patronage.
    """

    SUSTAINABLE = "sustainable"
    EMOTIONAL = "emotional"
    BEHAVIOURAL = "behavioural"
    NONE = "none"

    @property
    def chinese(self) -> str:
        """The course texts' term; ``NONE`` is crmcore's (the course texts name no such form)."""
        return _FORM_TERMS[self.value]

    @property
    def strategies(self) -> tuple[Strategy, ...]:
        """The course texts' strategies attached to this form (:func:`crmcore.strategies_for`): e.g.
        trust and emotional attachment to turn behavioural loyalty into sustainable loyalty,
        financial benefits to turn emotional loyalty into patronage. Which list serves which
        form is crmcore's reading."""
        return strategies_for(f"loyalty-form:{self.value}")


_FORM_TERMS: Final[dict[str, str]] = {
    "sustainable": "可持续忠诚", "emotional": "精神忠诚", "behavioural": "行为忠诚",
    "none": "不忠诚",
}


# Index = 2 * attitude_high + patronage_high.
_BY_CODE: Final = np.array(
    [LoyaltyForm.NONE, LoyaltyForm.BEHAVIOURAL, LoyaltyForm.EMOTIONAL, LoyaltyForm.SUSTAINABLE],
    dtype=object,
)


def _read(values: ArrayLike, name: str, scale: tuple[float, float]) -> NDArray[np.float64]:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidValueError(f"{name} must be numeric: {exc}", field=name) from exc
    bad = np.flatnonzero(~np.isfinite(array.reshape(-1)))
    if len(bad):
        raise InvalidValueError(f"{name} is missing or not finite at {describe_rows(bad)}; a "
                                "form needs both inputs", field=name, rows=bad.tolist())
    flat = array.reshape(-1)
    bad = np.flatnonzero((flat < scale[0]) | (flat > scale[1]))
    if len(bad):
        raise IndicatorScaleError(
            f"{name} is outside its scale [{scale[0]:g}, {scale[1]:g}] at {describe_rows(bad)} "
            f"(first: {float(flat[bad[0]])!r})", indicator=name, scale=scale, rows=bad.tolist(),
        )
    return array


def _threshold(value: float | None, scale: tuple[float, float], name: str) -> float:
    if value is None:
        return (scale[0] + scale[1]) / 2
    if not scale[0] < value <= scale[1]:
        raise InvalidValueError(
            f"{name}={value!r} must lie in ({scale[0]:g}, {scale[1]:g}], the scale it cuts",
            field=name,
        )
    return float(value)


@overload
def loyalty_form(
    relative_attitude: float,
    repeat_patronage: float,
    *,
    attitude_threshold: float | None = ...,
    patronage_threshold: float | None = ...,
    attitude_scale: tuple[float, float] = ...,
    patronage_scale: tuple[float, float] = ...,
) -> LoyaltyForm: ...


@overload
def loyalty_form(
    relative_attitude: Sequence[float] | NDArray[Any],
    repeat_patronage: ArrayLike,
    *,
    attitude_threshold: float | None = ...,
    patronage_threshold: float | None = ...,
    attitude_scale: tuple[float, float] = ...,
    patronage_scale: tuple[float, float] = ...,
) -> NDArray[np.object_]: ...


@overload
def loyalty_form(
    relative_attitude: ArrayLike,
    repeat_patronage: Sequence[float] | NDArray[Any],
    *,
    attitude_threshold: float | None = ...,
    patronage_threshold: float | None = ...,
    attitude_scale: tuple[float, float] = ...,
    patronage_scale: tuple[float, float] = ...,
) -> NDArray[np.object_]: ...


@overload
def loyalty_form(
    relative_attitude: ArrayLike,
    repeat_patronage: ArrayLike,
    *,
    attitude_threshold: float | None = ...,
    patronage_threshold: float | None = ...,
    attitude_scale: tuple[float, float] = ...,
    patronage_scale: tuple[float, float] = ...,
) -> LoyaltyForm | NDArray[np.object_]: ...


def loyalty_form(
    relative_attitude: ArrayLike,
    repeat_patronage: ArrayLike,
    *,
    attitude_threshold: float | None = None,
    patronage_threshold: float | None = None,
    attitude_scale: tuple[float, float] = (0.0, 1.0),
    patronage_scale: tuple[float, float] = (0.0, 1.0),
) -> LoyaltyForm | NDArray[np.object_]:
    """The form of each customer's loyalty from relative attitude and repeat patronage.

    A value at or above its threshold counts as high. Then (Dick & Basu 1994, figure 1): high/high
    -> ``SUSTAINABLE``, high attitude only -> ``EMOTIONAL``, high patronage only ->
    ``BEHAVIOURAL``, neither -> ``NONE``.

    Parameters
    ----------
    relative_attitude:
        Attitude towards the firm relative to its alternatives, per customer (for instance
        the attitudinal part of the loyalty index, or a survey score).
    repeat_patronage:
        Repeat buying per customer (for instance the repeat-purchase rate or share of category).
        Broadcast against ``relative_attitude``.
    attitude_threshold, patronage_threshold:
        Where "high" begins; default the middle of each scale.
    attitude_scale, patronage_scale:
        The closed intervals the inputs lie on (default ``(0, 1)``; ``(0, 100)`` for an index).

    Returns
    -------
    LoyaltyForm or numpy.ndarray
        One :class:`LoyaltyForm` when both inputs are scalars, else an object array of them,
        of the broadcast shape.

    Raises
    ------
    IndicatorScaleError
        An input is outside its scale.
    InvalidValueError
        An input is missing or not finite; a threshold lies outside its scale; the shapes do
        not broadcast.
    """
    a_scale = check_scale("relative_attitude", attitude_scale, field="attitude_scale")
    p_scale = check_scale("repeat_patronage", patronage_scale, field="patronage_scale")
    attitude = _read(relative_attitude, "relative_attitude", a_scale)
    patronage = _read(repeat_patronage, "repeat_patronage", p_scale)
    a_cut = _threshold(attitude_threshold, a_scale, "attitude_threshold")
    p_cut = _threshold(patronage_threshold, p_scale, "patronage_threshold")
    try:
        attitude, patronage = np.broadcast_arrays(attitude, patronage)
    except ValueError as exc:
        raise InvalidValueError(
            f"relative_attitude (shape {attitude.shape}) and repeat_patronage (shape "
            f"{patronage.shape}) do not broadcast: {exc}", field="repeat_patronage",
        ) from exc
    codes = 2 * (attitude >= a_cut).astype(np.int64) + (patronage >= p_cut).astype(np.int64)
    if codes.ndim == 0:
        form: LoyaltyForm = _BY_CODE[int(codes)]
        return form
    result: NDArray[np.object_] = _BY_CODE[codes]
    return result
