"""Types of loyalty (客户忠诚的类型) and a classifier from the evidence for each.

The course texts name six types by what drives them: monopoly (no alternative), kinship (family and
social ties), interest (discounts and mutual benefit), inertia (habit and convenience), trust,
and latent loyalty (not there yet, but possible). The classifier checks each type's evidence
for every customer at once and labels a customer with the first type, in a stated order of
precedence, whose evidence holds; the reasons name every driver found, so secondary drivers
stay visible.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any, Final, TypeAlias

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from crmcore._errors import IndicatorScaleError, InvalidValueError, describe_rows

__all__ = ["DEFAULT_PRECEDENCE", "LoyaltyType", "LoyaltyTypeAssignment", "classify_loyalty_type"]


class LoyaltyType(enum.Enum):
    """What a customer's loyalty rests on.

    Attributes
    ----------
    MONOPOLY
        垄断忠诚: forced loyalty where the customer has no alternative, as with city water or
        electricity.
    KINSHIP
        亲缘忠诚: loyalty from family or social ties (buying from one's own firm or relatives).
    INTEREST
        利益忠诚: loyalty from mutual benefit, such as discounts for established customers.
    INERTIA
        惰性忠诚: loyalty from habit and convenience, such as everyday goods bought nearby.
    TRUST
        信赖忠诚: loyalty from trust in the firm or its brand.
    LATENT
        潜在忠诚: loyalty not there yet but possible: prospects with a positive attitude whom the
        firm could win (for example foreign users of a domestic firm).
    """

    MONOPOLY = "monopoly"
    KINSHIP = "kinship"
    INTEREST = "interest"
    INERTIA = "inertia"
    TRUST = "trust"
    LATENT = "latent"

    @property
    def chinese(self) -> str:
        """The course texts' term."""
        return _TYPE_TERMS[self.value]


_TYPE_TERMS: Final[dict[str, str]] = {
    "monopoly": "垄断忠诚", "kinship": "亲缘忠诚", "interest": "利益忠诚", "inertia": "惰性忠诚",
    "trust": "信赖忠诚", "latent": "潜在忠诚",
}


DEFAULT_PRECEDENCE: Final[tuple[LoyaltyType, ...]] = tuple(LoyaltyType)
"""The course texts' own order (monopoly, kinship, interest, inertia, trust, latent), used to pick
one type when a customer shows the evidence of several: a customer who cannot leave is held by the
monopoly whatever else holds; a trusting customer who buys mostly on incentive is counted as
held by the incentive."""

_ORDER: Final = tuple(LoyaltyType)

Evidence: TypeAlias = ArrayLike | Sequence[float | bool | None] | None
"""One value per customer (or a scalar for all); ``None`` or NaN marks unknown evidence."""


def _evidence_input(
    values: Evidence, name: str, *, boolean: bool
) -> NDArray[np.float64] | None:
    if values is None:
        return None
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidValueError(f"{name} must be numeric or boolean: {exc}", field=name) from exc
    if array.ndim > 1:
        raise InvalidValueError(f"{name} must be one value per customer, got shape "
                                f"{array.shape}", field=name)
    flat = array.reshape(-1)
    if boolean:
        bad = np.flatnonzero(~np.isnan(flat) & (flat != 0) & (flat != 1))
        if len(bad):
            raise InvalidValueError(
                f"{name} must be True, False or missing (None/NaN) at every row; not at "
                f"{describe_rows(bad)} (first: {float(flat[bad[0]])!r})", field=name,
                rows=bad.tolist(),
            )
    else:
        bad = np.flatnonzero(np.isinf(flat) | (flat < 0) | (flat > 1))
        if len(bad):
            raise IndicatorScaleError(
                f"{name} is outside its scale [0, 1] at {describe_rows(bad)} (first: "
                f"{float(flat[bad[0]])!r})", indicator=name, scale=(0.0, 1.0), rows=bad.tolist(),
            )
    return array


@attrs.frozen(eq=False)
class LoyaltyTypeAssignment:
    """Each customer's loyalty type, with the evidence behind it.

    Attributes
    ----------
    types:
        Object array of :class:`LoyaltyType`, or ``None`` where no type's evidence holds.
    evidence:
        Boolean array ``(n, 6)``: whether each type's evidence holds, columns in
        :class:`LoyaltyType` order.
    inputs:
        The driver evidence as given (float arrays; NaN = unknown), by argument name.
    thresholds:
        The thresholds used for the graded inputs.
    precedence:
        The order in which types were tried.
    """

    types: NDArray[Any]
    evidence: NDArray[np.bool_]
    inputs: dict[str, NDArray[np.float64]]
    thresholds: dict[str, float]
    precedence: tuple[LoyaltyType, ...]

    def __len__(self) -> int:
        return len(self.types)

    def holds(self, loyalty_type: LoyaltyType) -> NDArray[np.bool_]:
        """Whether the evidence for ``loyalty_type`` holds, per customer."""
        column: NDArray[np.bool_] = self.evidence[:, _ORDER.index(loyalty_type)]
        return column

    def counts(self) -> dict[LoyaltyType | None, int]:
        """How many customers have each type (``None``: no evidence for any)."""
        result: dict[LoyaltyType | None, int] = dict.fromkeys(_ORDER, 0)
        result[None] = 0
        for value in self.types:  # small: one pass over an object array
            result[value] += 1
        return result

    def reasons(self, row: int) -> tuple[str, ...]:
        """Why customer ``row`` has its type: the chosen type's evidence first, then every other
        driver found; or why no type applies."""
        found = [t for t in self.precedence if self.evidence[row, _ORDER.index(t)]]
        if not found:
            customer = self.inputs["is_customer"][row]
            if customer == 0:
                return ("prospect without a known positive attitude: no loyalty type applies",)
            return ("no driver evidence for any loyalty type",)
        return tuple(f"{t.name}: {self._reason(t, row)}" for t in found)

    def _reason(self, loyalty_type: LoyaltyType, row: int) -> str:
        inputs, cuts = self.inputs, self.thresholds
        if loyalty_type is LoyaltyType.MONOPOLY:
            return "no alternative supplier"
        if loyalty_type is LoyaltyType.KINSHIP:
            return "family or social ties to the firm"
        if loyalty_type is LoyaltyType.INTEREST:
            return (f"{inputs['incentive_share'][row]:.0%} of purchases on incentive "
                    f"(threshold {cuts['incentive_threshold']:.0%})")
        if loyalty_type is LoyaltyType.INERTIA:
            return "habitual, regular buying"
        if loyalty_type is LoyaltyType.TRUST:
            return (f"trust score {inputs['trust'][row]:.2f} "
                    f"(threshold {cuts['trust_threshold']:.2f})")
        return (f"prospect with attitude {inputs['attitude'][row]:.2f} "
                f"(threshold {cuts['attitude_threshold']:.2f})")


def classify_loyalty_type(
    *,
    no_alternative: Evidence = None,
    social_ties: Evidence = None,
    incentive_share: Evidence = None,
    habitual: Evidence = None,
    trust: Evidence = None,
    attitude: Evidence = None,
    is_customer: Evidence = None,
    incentive_threshold: float = 0.5,
    trust_threshold: float = 0.5,
    attitude_threshold: float = 0.5,
    precedence: Sequence[LoyaltyType] = DEFAULT_PRECEDENCE,
) -> LoyaltyTypeAssignment:
    """Classify each customer's loyalty type from the evidence for its drivers.

    Every argument is one value per customer (scalars broadcast); a missing value (``None`` in
    an array, or NaN) is evidence of nothing. The evidence for each type:

    ============  =====================================================================
    MONOPOLY      a customer with ``no_alternative`` true
    KINSHIP       a customer with ``social_ties`` true
    INTEREST      a customer with ``incentive_share >= incentive_threshold``
    INERTIA       a customer with ``habitual`` true (habitual, regular buying)
    TRUST         a customer with ``trust >= trust_threshold``
    LATENT        a prospect (``is_customer`` false) with ``attitude >= attitude_threshold``
    ============  =====================================================================

    Parameters
    ----------
    no_alternative, social_ties, habitual:
        Booleans (or 0/1), missing allowed.
    incentive_share:
        Share of the customer's purchases made on a discount or incentive, on ``[0, 1]``
        (:func:`crmcore.loyalty.promotion_share` reads it from transactions).
    trust, attitude:
        Scores on ``[0, 1]``.
    is_customer:
        ``False`` for prospects who have not bought yet; default: everyone is a customer.
    incentive_threshold, trust_threshold, attitude_threshold:
        Where the graded evidence starts to count, each in ``(0, 1]``.
    precedence:
        Order in which the types are tried; default :data:`DEFAULT_PRECEDENCE`.

    Returns
    -------
    LoyaltyTypeAssignment
        ``types`` (``None`` where nothing holds), the evidence matrix, and ``reasons(row)``.

    Raises
    ------
    InvalidValueError
        No evidence given; lengths differ; a boolean input holds something other than
        true/false/missing; ``is_customer`` is missing for a row; a threshold is outside
        ``(0, 1]``; ``precedence`` does not list every type once.
    IndicatorScaleError
        A graded input lies outside ``[0, 1]``.
    """
    order = tuple(precedence)
    if sorted(t.value for t in order) != sorted(t.value for t in _ORDER) or len(order) != 6:
        raise InvalidValueError(
            f"precedence must list each LoyaltyType once, got {[t.name for t in order]}",
            field="precedence",
        )
    thresholds = {"incentive_threshold": incentive_threshold,
                  "trust_threshold": trust_threshold, "attitude_threshold": attitude_threshold}
    for name, value in thresholds.items():
        if not 0.0 < value <= 1.0:
            raise InvalidValueError(f"{name}={value!r} must lie in (0, 1]", field=name)

    given = {
        "no_alternative": _evidence_input(no_alternative, "no_alternative", boolean=True),
        "social_ties": _evidence_input(social_ties, "social_ties", boolean=True),
        "incentive_share": _evidence_input(incentive_share, "incentive_share", boolean=False),
        "habitual": _evidence_input(habitual, "habitual", boolean=True),
        "trust": _evidence_input(trust, "trust", boolean=False),
        "attitude": _evidence_input(attitude, "attitude", boolean=False),
    }
    present = {name: array for name, array in given.items() if array is not None}
    if not present:
        raise InvalidValueError("classify_loyalty_type needs evidence for at least one driver",
                                field="evidence")
    customer = _evidence_input(True if is_customer is None else is_customer, "is_customer",
                               boolean=True)
    assert customer is not None
    try:
        shapes = np.broadcast_shapes(*(a.shape for a in present.values()), customer.shape)
    except ValueError as exc:
        lengths = {name: a.shape for name, a in {**present, "is_customer": customer}.items()}
        raise InvalidValueError(f"evidence arrays differ in length: {lengths}",
                                field="evidence") from exc
    n = int(shapes[0]) if shapes else 1
    inputs = {name: np.broadcast_to(a, (n,)).astype(np.float64)
              for name, a in {**given, "is_customer": customer}.items() if a is not None}
    unknown = np.flatnonzero(np.isnan(inputs["is_customer"]))
    if len(unknown):
        raise InvalidValueError(f"is_customer is missing at {describe_rows(unknown)}; say "
                                "whether each row is a customer or a prospect",
                                field="is_customer", rows=unknown.tolist())
    for name in given:
        inputs.setdefault(name, np.full(n, np.nan))

    is_cust = inputs["is_customer"] == 1
    with np.errstate(invalid="ignore"):
        evidence = np.column_stack([
            is_cust & (inputs["no_alternative"] == 1),
            is_cust & (inputs["social_ties"] == 1),
            is_cust & (inputs["incentive_share"] >= incentive_threshold),
            is_cust & (inputs["habitual"] == 1),
            is_cust & (inputs["trust"] >= trust_threshold),
            ~is_cust & (inputs["attitude"] >= attitude_threshold),
        ])
    # Walk the precedence from last to first so the first type that holds is written last.
    types = np.full(n, None, dtype=object)
    for loyalty_type in reversed(order):
        types[evidence[:, _ORDER.index(loyalty_type)]] = loyalty_type
    return LoyaltyTypeAssignment(types=types, evidence=evidence, inputs=inputs,
                                 thresholds=thresholds, precedence=order)
