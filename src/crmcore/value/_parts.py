"""The three parts of a customer's value (客户价值的构成) and the drivers of CLV.

* **Historical value** (历史价值): the margin already realised, each period's margin
  compounded to the observation end at the discount rate, as Kumar & Reinartz's *past
  customer value* (Kumar & Reinartz 2006, *Customer Relationship Management: A Databased
  Approach*, ch. 5: ``PCV = sum_t GC_t (1 + r)^(T - t)``).
* **Current value** (当前价值): what the customer brings if today's behaviour continues; the
  residual lifetime value from the chosen value model (:func:`crmcore.score` fills it in).
* **Potential value** (潜在价值): what cross-buying, up-selling and referrals could add. It is
  estimated by a pluggable :class:`crmcore.protocols.PotentialValueModel`; the default,
  :class:`WalletReferralPotential`, uses only what the data has and answers NaN, with the
  reason, where it cannot estimate.

The five drivers of lifetime value the course texts list (影响客户终生价值的因素) are laid out per
customer by :func:`clv_drivers`, so a reader can see why a customer is worth what the score says.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from crmcore._base import CustomerBase
from crmcore._checks import discount_rate as check_discount_rate
from crmcore._deprecation import warn_deprecated
from crmcore._errors import DataError, InvalidValueError, describe_rows
from crmcore._time import check_unit, period_index, unit_factor, unit_name
from crmcore.protocols import PotentialValueModel

__all__ = [
    "CLVDrivers",
    "PotentialInputs",
    "PotentialValue",
    "PotentialValueModel",
    "WalletReferralPotential",
    "clv_drivers",
    "historical_value",
    "margin_rates",
]

_FloatArray = NDArray[np.float64]


def _readonly(array: NDArray[Any]) -> NDArray[Any]:
    array.flags.writeable = False
    return array


def margin_rates(margin: float | ArrayLike, n: int) -> _FloatArray:
    """The contribution margin rate per customer (revenue minus variable cost, over revenue).

    A single number applies to everyone; an array gives one rate per customer, aligned with the
    base's rows. Rates must be finite and lie in [-1, 1]: a margin cannot exceed the revenue it
    is a share of (``30`` for 30% is refused, pass ``0.3``), and a loss-making rate is allowed
    down to -1, a loss as large as the revenue (``-30`` for -30% is refused the same way, pass
    ``-0.3``). Deeper losses are recorded in money per transaction
    (``CustomerBase.from_transactions(..., margin=column)``), which has no such bound.
    """
    try:
        rates = np.asarray(margin, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidValueError(f"margin must be numeric: {exc}", field="margin") from exc
    if rates.ndim == 0:
        rates = np.full(n, float(rates))
    if rates.shape != (n,):
        raise InvalidValueError(
            f"margin has shape {rates.shape}; give one rate, or one per customer ({n})",
            field="margin")
    bad = np.flatnonzero(~np.isfinite(rates))
    if len(bad):
        raise InvalidValueError(f"margin is NaN or infinite at {describe_rows(bad)}",
                                field="margin", rows=bad.tolist())
    above = np.flatnonzero(rates > 1.0)
    if len(above):
        raise InvalidValueError(
            f"margin is a share of spend (revenue minus variable cost, over revenue) and cannot "
            f"exceed 1; it is {float(rates[above[0]])!r} at {describe_rows(above)} "
            f"(for 30% pass 0.3)",
            field="margin", rows=above.tolist())
    below = np.flatnonzero(rates < -1.0)
    if len(below):
        raise InvalidValueError(
            f"margin is a share of spend and may be negative down to -1 (a loss as large as the "
            f"revenue); it is {float(rates[below[0]])!r} at {describe_rows(below)} (for a "
            f"30% loss pass -0.3; record deeper losses per transaction with "
            f"from_transactions(margin=...))",
            field="margin", rows=below.tolist())
    return rates


def _history_of(base: CustomerBase, what: str) -> tuple[Any, str, np.datetime64]:
    if base.history is None or base.freq is None or base.observation_end is None:
        raise DataError(
            f"{what} needs each customer's purchase history; build the base with "
            "CustomerBase.from_transactions (a base from a summary has no history)",
            field="history")
    return base.history, base.freq, base.observation_end


def historical_value(
    base: CustomerBase,
    *,
    margin: float | ArrayLike | None = None,
    discount_rate: float,
    time_unit: str | None = None,
) -> _FloatArray:
    """Historical value (历史价值): realised margin compounded to the observation end.

    .. math::

        HV_i = \\sum_p m_i \\, a_{ip} \\, (1 + d)^{(P - p)\\,u}

    over the periods ``p`` with a purchase (amount ``a``), ``P`` the observation end's period,
    ``u`` the length of a period in ``time_unit`` and ``d`` the discount rate per
    ``time_unit`` (Kumar & Reinartz 2006, past customer value).

    Parameters
    ----------
    base:
        A base built from transactions (the purchase history is needed).
    margin:
        Contribution margin rate, one for all or one per customer, applied to the revenue of
        each period; or ``None`` to use the margins recorded per transaction
        (``CustomerBase.from_transactions(..., margin=...)``, kept in ``history.margin``).
    discount_rate:
        Rate per ``time_unit`` at which past margin is compounded (>= 0; 0 sums the margin).
    time_unit:
        Unit of ``discount_rate`` (default: the base's ``time_unit``).

    Returns
    -------
    numpy.ndarray
        One value per customer, aligned with ``base.customer_id``.

    Raises
    ------
    DataError
        The base has no purchase history.
    InvalidValueError
        A bad margin or discount rate (named).
    """
    history, freq, end = _history_of(base, "historical_value")
    unit = check_unit(base.time_unit if time_unit is None else time_unit, argument="time_unit")
    rate = check_discount_rate(discount_rate, per=unit_name(unit))
    end_period = int(period_index(np.asarray([end]), freq)[0])
    periods = history.period
    low = int(periods.min()) if len(periods) else 0
    high = int(periods.max()) if len(periods) else 0
    if len(periods) > 4096 and high - low < len(periods) // 4:
        # a log spans few periods compared with its entries: one power per period, looked up
        steps = np.arange(low, high + 1, dtype=np.int64)
        growth = np.power(1.0 + rate, (end_period - steps) * unit_factor(freq, unit))
        growth = growth[periods - low]
    else:
        growth = np.power(1.0 + rate, (end_period - periods) * unit_factor(freq, unit))
    owner = history.customer_of_entry()
    if margin is None:
        if history.margin is None:
            raise DataError(
                "historical_value(margin=None) uses the margins recorded per transaction, but "
                "this base has none: build it with from_transactions(..., margin=<column>) or "
                "give a margin rate",
                field="margin",
            )
        realised = history.margin
    else:
        realised = history.amount * margin_rates(margin, len(base))[owner]
    with np.errstate(over="ignore", invalid="ignore"):
        compounded = realised * growth
        result = np.bincount(owner, weights=compounded, minlength=len(base))
    # a rate that compounds known margins beyond the largest float is refused, not passed on
    known = np.bincount(owner, weights=~np.isfinite(realised), minlength=len(base)) == 0
    overflow = np.flatnonzero(known & ~np.isfinite(result))
    if len(overflow):
        longest = float((end_period - low) * unit_factor(freq, unit)) if len(periods) else 0.0
        raise InvalidValueError(
            f"discount_rate={rate!r} per {unit_name(unit)} compounds past margin beyond the "
            f"largest float over up to {longest:g} {unit_name(unit)}s, for "
            f"{describe_rows(overflow, noun='customer row')}; is the rate really per "
            f"{unit_name(unit)}?",
            field="discount_rate", rows=overflow.tolist())
    return _readonly(result.astype(np.float64))


# -- potential value --------------------------------------------------------------------------


def _optional_array(values: ArrayLike | None, *, field: str, n: int, two_d: bool = False
                    ) -> _FloatArray | None:
    if values is None:
        return None
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidValueError(f"{field} must be numeric: {exc}", field=field) from exc
    if array.ndim == 0:
        array = np.full(n, float(array))
    shapes_ok = array.shape == (n,) or (two_d and array.ndim == 2 and array.shape[0] == n)
    if not shapes_ok:
        raise InvalidValueError(
            f"{field} has shape {array.shape}; expected one value per customer ({n},)"
            + (f" or one per customer and category ({n}, k)" if two_d else ""), field=field)
    bad = np.flatnonzero(np.isinf(array).reshape(n, -1).any(axis=1)
                         | (array < 0).reshape(n, -1).any(axis=1))
    if len(bad):
        raise InvalidValueError(f"{field} is negative or infinite at {describe_rows(bad)} "
                                "(NaN marks an unknown value)", field=field, rows=bad.tolist())
    return array


@attrs.frozen(eq=False)
class PotentialInputs:
    """What the data tells about a customer's untapped value, aligned with the base's rows.

    Every field is optional; NaN marks a value unknown for that customer.

    Parameters
    ----------
    wallet:
        The customer's whole spend on what the firm sells, with every supplier (share-of-wallet
        data, e.g. from a survey), over the window the potential value is wanted for. One value
        per customer, or one per customer and category (cross-buying).
    spend:
        What the customer spends with the firm over the same window, in the same shape. Default
        for a one-dimensional ``wallet``: the base's ``total_spend``.
    referrals:
        Number of new customers the customer is expected to refer (or has referred, as an
        indication).
    referral_value:
        Value to the firm of one referred customer (one for all or one per customer).
    """

    wallet: ArrayLike | None = None
    spend: ArrayLike | None = None
    referrals: ArrayLike | None = None
    referral_value: ArrayLike | None = None


@attrs.frozen(eq=False)
class PotentialValue:
    """Estimated potential value per customer, with its parts and what held it back.

    Attributes
    ----------
    value:
        Potential value; NaN where it could not be estimated.
    cross_buying:
        The share-of-wallet headroom part (cross-buying and up-selling); NaN where unknown.
    referral:
        The referral part; NaN where unknown.
    reason:
        Why ``value`` is NaN, per customer (empty where it was estimated).
    model:
        Name of the model that estimated it.
    """

    value: _FloatArray
    cross_buying: _FloatArray
    referral: _FloatArray
    reason: NDArray[Any]
    model: str

    @property
    def estimated(self) -> NDArray[np.bool_]:
        """Which customers have an estimate."""
        return np.asarray(~np.isnan(self.value))


@attrs.frozen
class WalletReferralPotential:
    """The default potential-value model: share-of-wallet headroom plus referral value.

    .. math::

        PV_i = c \\, m_i \\sum_k \\max(W_{ik} - S_{ik}, 0) + R_i \\, v_i

    with ``W`` the customer's wallet and ``S`` the firm's share of it per category ``k`` (the
    headroom that cross-buying and up-selling could win, at margin rate ``m``), ``c`` the share
    of that headroom the firm expects it could capture, ``R`` expected referrals and ``v`` the
    value of one referred customer. Share of wallet as the measure of untapped value follows
    Du, Kamakura & Mela (2007), "Size and share of customer wallet", *Journal of Marketing*
    71(2), 94-113; referral value follows Kumar, Petersen & Leone (2007), "How valuable is word
    of mouth?", *Harvard Business Review* 85(10), 139-146.

    Only the parts the caller gave data for count. A customer gets NaN (with the reason) when
    no part was given at all, or when a part that was given is unknown (NaN) for that
    customer: a sum missing one of its parts would understate the potential silently.

    Parameters
    ----------
    capture:
        Share of the wallet headroom the firm could realistically win, in [0, 1] (default 1:
        the whole headroom, an upper bound).
    """

    capture: float = attrs.field(default=1.0)
    name: str = "wallet-referral"

    @capture.validator
    def _check_capture(self, attribute: attrs.Attribute[float], value: float) -> None:
        if not 0.0 <= value <= 1.0:
            raise InvalidValueError(f"capture must lie in [0, 1], got {value!r}",
                                    field="capture")

    def estimate(self, base: CustomerBase, *, margin: _FloatArray,
                 inputs: PotentialInputs) -> PotentialValue:
        """Deprecated name of :meth:`score`; removed in the next release."""
        warn_deprecated("WalletReferralPotential.estimate() is deprecated; call score()")
        return self.score(base, margin=margin, inputs=inputs)

    def score(self, base: CustomerBase, *, margin: _FloatArray,
              inputs: PotentialInputs) -> PotentialValue:
        """Potential value of every customer of ``base``
        (:class:`crmcore.protocols.PotentialValueModel`)."""
        n = len(base)
        wallet = _optional_array(inputs.wallet, field="wallet", n=n, two_d=True)
        spend = _optional_array(inputs.spend, field="spend", n=n, two_d=True)
        referrals = _optional_array(inputs.referrals, field="referrals", n=n)
        referral_value = _optional_array(inputs.referral_value, field="referral_value", n=n)

        reason = np.full(n, "", dtype=object)
        nan = np.full(n, np.nan)
        cross = nan.copy()
        if wallet is not None:
            if spend is None:
                if wallet.ndim == 2:
                    raise InvalidValueError(
                        "spend per category is needed with a wallet per category", field="spend")
                if base.total_spend is None:
                    raise DataError("give spend with wallet: the base holds no total_spend",
                                    field="spend")
                spend = np.asarray(base.total_spend, dtype=np.float64)
            if spend.shape != wallet.shape:
                raise InvalidValueError(
                    f"spend has shape {spend.shape} but wallet has {wallet.shape}",
                    field="spend")
            headroom = np.maximum(wallet - spend, 0.0).reshape(n, -1).sum(axis=1)
            cross = self.capture * margin * headroom
            reason[np.isnan(cross)] = "wallet or spend unknown"
        referral = nan.copy()
        if (referrals is None) != (referral_value is None):
            raise InvalidValueError("give referrals and referral_value together",
                                    field="referrals" if referrals is None else "referral_value")
        if referrals is not None and referral_value is not None:
            referral = referrals * referral_value
            unknown = np.isnan(referral)
            reason[unknown] = np.where(reason[unknown] == "", "referrals unknown",
                                       reason[unknown] + "; referrals unknown")
        if wallet is None and referrals is None:
            value = nan.copy()
            reason = np.full(n, "no share-of-wallet or referral data given")
        else:
            value = np.where(np.isnan(cross), 0.0, cross) + np.where(
                np.isnan(referral), 0.0, referral)
            if wallet is not None:
                value[np.isnan(cross)] = np.nan
            if referrals is not None:
                value[np.isnan(referral)] = np.nan
        return PotentialValue(
            value=_readonly(value), cross_buying=_readonly(cross), referral=_readonly(referral),
            reason=_readonly(reason.astype(str, copy=False)), model=self.name,
        )


# -- drivers ----------------------------------------------------------------------------------


@attrs.frozen(eq=False)
class CLVDrivers:
    """The five drivers of lifetime value (影响客户终生价值的因素), per customer.

    Attributes
    ----------
    initial_margin:
        (1) Revenue of the first purchase period minus its variable cost (margin rate x
        revenue); NaN for a base without purchase history.
    purchase_rate:
        (2) Purchase frequency: repeat purchases per ``time_unit`` over the time observed since
        the first purchase (0 for a customer observed for no time).
    tenure:
        (3) Length of the buying life so far, in ``time_unit`` (``T``).
    cross_buying:
        (4) Value of buying other products: the share-of-wallet headroom part of potential
        value (NaN where unknown).
    referral:
        (5) Value of referring others (NaN where unknown).
    time_unit:
        Unit of ``purchase_rate`` and ``tenure``.
    """

    initial_margin: _FloatArray
    purchase_rate: _FloatArray
    tenure: _FloatArray
    cross_buying: _FloatArray
    referral: _FloatArray
    time_unit: str


def clv_drivers(
    base: CustomerBase,
    *,
    margin: float | ArrayLike,
    potential: PotentialValue | None = None,
) -> CLVDrivers:
    """The drivers of lifetime value (影响客户终生价值的因素) for every customer of ``base``.

    Parameters
    ----------
    base:
        The customers.
    margin:
        Contribution margin rate, one for all or one per customer.
    potential:
        A potential-value estimate, whose cross-buying and referral parts become drivers 4
        and 5 (NaN without one).
    """
    n = len(base)
    rates = margin_rates(margin, n)
    if base.history is not None:
        first_amount = base.history.amount[base.history.indptr[:-1]]
        initial = rates * first_amount
    else:
        initial = np.full(n, np.nan)
    t = np.asarray(base.T, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(t > 0, base.frequency / np.where(t > 0, t, 1.0), 0.0)
    if potential is not None and len(potential.value) != n:
        raise InvalidValueError(
            f"potential has {len(potential.value)} customers, the base {n}", field="potential")
    cross = np.full(n, np.nan) if potential is None else potential.cross_buying
    referral = np.full(n, np.nan) if potential is None else potential.referral
    return CLVDrivers(
        initial_margin=_readonly(initial.astype(np.float64)),
        purchase_rate=_readonly(rate.astype(np.float64)),
        tenure=_readonly(t.copy()), cross_buying=cross, referral=referral,
        time_unit=base.time_unit,
    )
