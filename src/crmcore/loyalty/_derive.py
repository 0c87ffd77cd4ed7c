"""Loyalty indicators read from what the firm records: purchases and survey answers.

Behavioural indicators come from a :class:`crmcore.CustomerBase` and the transaction log:

* ``repeat_purchases``: the repeat-purchase rate, the share of the periods after a customer's
  first purchase period in which they bought again, ``frequency / periods observed``;
* ``category_share``: the customer's spend with the firm over their whole spend on the category
  (share of category requirements, Cunningham 1956; the course texts' "share of the customer's total
  need for the product"), when that whole spend is known;
* ``price_sensitivity``: the share of the customer's purchases made on promotion, when the
  transactions record it (``Transaction.on_promotion``).

Attitudinal indicators come from survey answers (:class:`crmcore.SurveyResponse`): the caller
names the survey item(s) that measure each indicator and the scale they were asked on, and each
customer's latest answer is rescaled onto ``[0, 1]``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from crmcore._base import CustomerBase
from crmcore._deprecation import renamed_parameters
from crmcore._domain import Customer, SurveyResponse, Transaction
from crmcore._errors import (
    DataError,
    IndicatorScaleError,
    InvalidValueError,
    TimeUnitError,
    UnknownColumnError,
    UnknownIndicatorError,
    describe_rows,
)
from crmcore._time import check_unit, period_index, unit_factor
from crmcore.loyalty._indicators import INDICATOR_NAMES, check_scale

__all__ = [
    "attitudinal_indicators",
    "behavioural_indicators",
    "category_share",
    "interpurchase_cv",
    "promotion_share",
    "referral_rate",
    "repeat_purchase_rate",
]

FloatArray = NDArray[np.float64]


# -- aligning records with customers ------------------------------------------------------------


def _universe(customer_ids: ArrayLike | CustomerBase) -> NDArray[Any]:
    if isinstance(customer_ids, CustomerBase):
        return np.asarray(customer_ids.customer_id)
    ids = np.asarray(customer_ids)
    if ids.ndim != 1:
        raise InvalidValueError("customer_ids must be one-dimensional", field="customer_ids")
    return ids


def _rows_of(ids: NDArray[Any], universe: NDArray[Any], *, what: str) -> NDArray[np.int64]:
    """Position of each id in ``universe``; raises naming ids that are not there."""
    try:
        order = np.argsort(universe, kind="stable")
        ordered = universe[order]
        found = np.clip(np.searchsorted(ordered, ids), 0, max(len(universe) - 1, 0))
    except TypeError as exc:
        raise DataError(f"customer ids of {what} cannot be matched (mixed id types?): {exc}",
                        field="customer_id") from exc
    missing = np.ones(len(ids), dtype=bool) if len(universe) == 0 else ordered[found] != ids
    if np.any(missing):
        strays = np.unique(ids[missing]).tolist()
        raise DataError(
            f"{what} name customers not among the customers scored: {_describe_ids(strays)}",
            field="customer_id", rows=strays,
        )
    rows: NDArray[np.int64] = order[found].astype(np.int64)
    return rows


def _describe_ids(ids: Sequence[object], limit: int = 5) -> str:
    shown = ", ".join(map(repr, ids[:limit]))
    return shown if len(ids) <= limit else f"{shown}, ... ({len(ids)} in all)"


def _transaction_columns(
    transactions: object,
    *,
    customer_id: str,
    on_promotion: str | None,
    monetary_value: str | None,
    category: str | None,
) -> dict[str, NDArray[Any]]:
    """Ids, promotion flags (NaN unknown), amounts and categories from objects or a frame."""
    if isinstance(transactions, list | tuple) or (
        isinstance(transactions, Iterable) and not hasattr(transactions, "columns")
        and not hasattr(transactions, "column_names")
    ):
        records = list(transactions)
        for position, record in enumerate(records):
            if not isinstance(record, Transaction):
                raise DataError(f"transactions[{position}] is a {type(record).__name__}, not a "
                                "crmcore.Transaction", field="transactions", rows=(position,))
        return {
            "customer_id": np.array([t.customer_id for t in records], dtype=object),
            "on_promotion": np.array(
                [np.nan if t.on_promotion is None else float(t.on_promotion) for t in records],
                dtype=np.float64),
            "amount": np.array([t.amount for t in records], dtype=np.float64),
            "category": np.array([t.category for t in records], dtype=object),
        }
    import narwhals.stable.v2 as nw

    try:
        frame: Any = nw.from_native(transactions, eager_only=True)
    except TypeError:
        raise DataError(f"cannot read transactions from a {type(transactions).__name__}",
                        field="transactions") from None
    columns = list(frame.columns)
    wanted = {"customer_id": customer_id, "on_promotion": on_promotion,
              "monetary_value": monetary_value, "category": category}
    for role, name in wanted.items():
        if name is not None and name not in columns:
            raise UnknownColumnError(name, columns, role=role)
    result: dict[str, NDArray[Any]] = {"customer_id": frame[customer_id].to_numpy()}
    if on_promotion is not None:
        flags = frame[on_promotion].to_numpy()
        try:
            result["on_promotion"] = np.asarray(flags, dtype=np.float64)
        except (TypeError, ValueError):
            # Nullable booleans arrive as objects with a missing marker (None, pd.NA, NaN).
            try:
                result["on_promotion"] = np.array(
                    [np.nan if f is None or type(f).__name__ == "NAType" else float(f)
                     for f in flags.tolist()], dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise InvalidValueError(f"column {on_promotion!r} must hold booleans: {exc}",
                                        field=on_promotion) from exc
        bad = np.flatnonzero(~np.isnan(result["on_promotion"])
                             & ~np.isin(result["on_promotion"], (0.0, 1.0)))
        if len(bad):
            raise InvalidValueError(f"column {on_promotion!r} must hold booleans; not at "
                                    f"{describe_rows(bad)}", field=on_promotion,
                                    rows=bad.tolist())
    if monetary_value is not None:
        amounts = np.asarray(frame[monetary_value].to_numpy(), dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(amounts) | (amounts < 0))
        if len(bad):
            raise InvalidValueError(f"column {monetary_value!r} must be finite and >= 0; not "
                                    f"at {describe_rows(bad)}", field=monetary_value,
                                    rows=bad.tolist())
        result["amount"] = amounts
    if category is not None:
        result["category"] = np.asarray(frame[category].to_numpy(), dtype=object)
    return result


# -- behavioural indicators ---------------------------------------------------------------------


_PERIOD_ORDER: dict[str, int] = {"D": 0, "W": 1, "M": 2, "Q": 3, "Y": 4}


@renamed_parameters(period="freq")
def repeat_purchase_rate(base: CustomerBase, *, freq: str | None = None) -> FloatArray:
    """Share of the periods after each customer's first purchase period with a purchase.

    ``repeats / n`` where ``n`` is the number of periods from the first purchase period to the
    observation end and ``repeats`` the periods after the first with a purchase. Customers whose
    first purchase falls in the last period have had no chance to come back: their rate is NaN
    (unknown), which the loyalty index treats as a missing indicator.

    Parameters
    ----------
    base:
        The customers.
    freq:
        The purchase period in which "bought again" is judged: ``"D"``, ``"W"``, ``"M"``,
        ``"Q"`` or ``"Y"``, no finer than ``base.freq`` (default ``base.freq``). A daily base
        judged by month says "bought in 3 of the 12 months since the first purchase", which reads as
        loyalty; by day the same customer scores 1%. A coarser period re-buckets the stored
        purchase history (each stored period counts in the coarse period its first day falls
        in), so it needs a base built from transactions.

    Raises
    ------
    DataError
        The base does not know its purchase period (built with ``from_summary``), so the number
        of periods cannot be counted; pass counts as ``repeat_purchases`` with an explicit
        scale instead. Or a coarser ``freq`` was asked of a base without purchase history.
    TimeUnitError
        ``freq`` is unknown or finer than ``base.freq``.

    Notes
    -----
    ``freq`` was called ``period`` before; ``period=`` still works until the next release,
    with a :class:`DeprecationWarning`.
    """
    if base.freq is None:
        raise DataError(
            "repeat_purchase_rate needs the purchase period: build the base with "
            "CustomerBase.from_transactions, or pass repeat counts to loyalty_index with "
            "scales={'repeat_purchases': (0, cap)}", field="freq",
        )
    judged = base.freq if freq is None else check_unit(freq, argument="freq")
    if _PERIOD_ORDER[judged] < _PERIOD_ORDER[base.freq]:
        raise TimeUnitError(
            f"freq={judged!r} is finer than the base's purchase period freq={base.freq!r}; "
            "purchases cannot be split back into smaller periods"
        )
    if judged == base.freq:
        periods = np.round(base.T / unit_factor(base.freq, base.time_unit))
        repeats = base.frequency.astype(np.float64)
    else:
        if base.history is None or base.observation_end is None:
            raise DataError(
                f"repeat_purchase_rate(freq={judged!r}) re-buckets the purchase history: "
                "build the base with CustomerBase.from_transactions", field="history",
            )
        history = base.history
        coarse = period_index(history.period_dates(), judged)
        owner = history.customer_of_entry()
        new = np.ones(len(coarse), dtype=bool)
        new[1:] = (owner[1:] != owner[:-1]) | (coarse[1:] != coarse[:-1])
        repeats = np.bincount(owner[new], minlength=len(base)).astype(np.float64) - 1.0
        end = int(period_index(np.asarray([base.observation_end]), judged)[0])
        periods = (end - coarse[history.indptr[:-1]]).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(periods > 0, repeats / np.maximum(periods, 1), np.nan)
    result: FloatArray = np.minimum(rate, 1.0)
    return result


def interpurchase_cv(base: CustomerBase, *, min_intervals: int = 3,
                     lapse: bool = True) -> FloatArray:
    """Coefficient of variation of each customer's times between purchases, a measure of how
    regularly (habitually) they buy.

    The gaps are counted in ``base.freq`` periods between consecutive purchase periods; the CV
    is their sample standard deviation over their mean. Purchases at random, as a Poisson
    process, give exponential gaps with a CV of 1; Erlang-:math:`k` gaps (the regular buyers
    of Platzer & Reutterer 2016, "Ticking away the moments: timing regularity helps to better
    predict customer activity", *Marketing Science* 35(5)) have a CV of :math:`1/\\sqrt{k}`,
    so a CV of 0.5 or less means buying at least as regularly as Erlang-4. Feed
    ``interpurchase_cv(base) <= 0.5`` to :func:`crmcore.loyalty.classify_loyalty_type` as
    ``habitual`` evidence.

    A customer who bought like clockwork and then stopped is not a regular buyer. With
    ``lapse=True`` (the default) the silence since the last purchase period counts as one more
    gap when it is already longer than every gap the customer has closed: an open gap that
    long is at least that long, and it is the lapse. A silence within the customer's usual
    gaps says nothing yet and is left out. (crmcore's reading; Platzer & Reutterer use the
    closed gaps of active customers.)

    Parameters
    ----------
    base:
        A base built from transactions (it needs the purchase history).
    min_intervals:
        Fewest gaps a customer needs for a CV (at least 2); fewer give NaN (unknown).
    lapse:
        Count an over-long silence up to the observation end as a gap (see above).

    Raises
    ------
    DataError
        The base has no purchase history.
    InvalidValueError
        ``min_intervals`` is below 2.
    """
    if base.history is None:
        raise DataError("interpurchase_cv needs the purchase history: build the base with "
                        "CustomerBase.from_transactions", field="history")
    if min_intervals < 2:
        raise InvalidValueError(f"min_intervals={min_intervals!r} must be at least 2 (a "
                                "standard deviation needs two gaps)", field="min_intervals")
    history = base.history
    n = history.n_customers
    owner = history.customer_of_entry()
    same = owner[1:] == owner[:-1]
    gaps = np.diff(history.period).astype(np.float64)[same]
    who = owner[1:][same]
    count = np.bincount(who, minlength=n).astype(np.float64)
    total = np.bincount(who, weights=gaps, minlength=n)
    squares = np.bincount(who, weights=gaps * gaps, minlength=n)
    if lapse and base.observation_end is not None and len(history.period):
        end = int(period_index(np.asarray([base.observation_end]), history.freq)[0])
        bought = np.diff(history.indptr) > 0
        last = np.where(bought, history.period[np.maximum(history.indptr[1:] - 1, 0)], end)
        longest = np.zeros(n)
        np.maximum.at(longest, who, gaps)
        silence = (end - last).astype(np.float64)
        extra = bought & (count >= 1) & (silence > longest)
        count = count + extra
        total = total + np.where(extra, silence, 0.0)
        squares = squares + np.where(extra, silence * silence, 0.0)
    enough = count >= min_intervals
    safe = np.where(enough, count, 2.0)
    mean = total / safe
    variance = np.maximum(squares - safe * mean * mean, 0.0) / (safe - 1.0)
    cv: FloatArray = np.where(enough, np.sqrt(variance) / np.where(enough, mean, 1.0), np.nan)
    return cv


def promotion_share(
    transactions: object,
    customer_ids: ArrayLike | CustomerBase,
    *,
    by: Literal["count", "amount"] = "count",
    customer_id: str = "customer_id",
    on_promotion: str = "on_promotion",
    monetary_value: str | None = None,
) -> FloatArray:
    """Share of each customer's purchases made on promotion (at a discount or on an incentive).

    Only transactions whose promotion flag is recorded count; customers with none get NaN.

    Parameters
    ----------
    transactions:
        :class:`crmcore.Transaction` objects, or a data frame (pandas, polars, pyarrow) with
        columns ``customer_id``, ``on_promotion`` and, for ``by="amount"``,
        ``monetary_value``.
    customer_ids:
        The customers to report on, or a :class:`crmcore.CustomerBase` (its order is kept).
    by:
        ``"count"``: share of transactions; ``"amount"``: share of spend.

    Raises
    ------
    DataError
        A transaction names a customer not in ``customer_ids``.
    UnknownColumnError, InvalidValueError
        A named column is missing or holds something other than booleans or amounts.
    """
    if by not in ("count", "amount"):
        raise InvalidValueError(f"by={by!r} must be 'count' or 'amount'", field="by")
    if by == "amount" and monetary_value is None and not isinstance(transactions,
                                                                     list | tuple):
        raise InvalidValueError("by='amount' on a frame needs monetary_value=<column>",
                                field="monetary_value")
    universe = _universe(customer_ids)
    columns = _transaction_columns(transactions, customer_id=customer_id,
                                   on_promotion=on_promotion, monetary_value=monetary_value,
                                   category=None)
    flags = columns["on_promotion"]
    recorded = ~np.isnan(flags)
    rows = _rows_of(columns["customer_id"][recorded], universe, what="transactions")
    weight = np.ones(int(recorded.sum())) if by == "count" else columns["amount"][recorded]
    total = np.bincount(rows, weights=weight, minlength=len(universe))
    promoted = np.bincount(rows, weights=weight * flags[recorded], minlength=len(universe))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, promoted / np.where(total > 0, total, 1.0), np.nan)
    return np.clip(share, 0.0, 1.0)


def category_share(
    base: CustomerBase,
    category_spend: ArrayLike | Mapping[Any, float],
    *,
    transactions: object = None,
    category: str | None = None,
    customer_id: str = "customer_id",
    monetary_value: str | None = None,
    category_column: str = "category",
    tolerance: float = 1e-9,
) -> FloatArray:
    """Each customer's spend with the firm over their whole spend on the category.

    Parameters
    ----------
    base:
        The customers; their spend with the firm is ``base.total_spend`` unless ``category``
        is given.
    category_spend:
        Each customer's whole spend on the category, at every supplier, over the same window:
        an array aligned with ``base.customer_id`` (NaN unknown) or a mapping customer id ->
        spend (customers it omits are unknown).
    transactions, category:
        With ``category``, the firm's spend is summed from the transactions of that category
        only (:class:`crmcore.Transaction` objects or a frame with ``category_column``).
    tolerance:
        Relative slack before "firm spend exceeds category spend" is an error (rounding).

    Raises
    ------
    InvalidValueError
        ``category_spend`` is negative or of the wrong length, or the firm's spend exceeds it.
    DataError
        The base has no spend, or ``category`` is given without transactions.
    """
    ours = _firm_spend(base, transactions, category, customer_id=customer_id,
                       monetary_value=monetary_value, category_column=category_column)
    if isinstance(category_spend, Mapping):
        whole = np.full(len(base), np.nan)
        if category_spend:
            ids = np.array(list(category_spend.keys()), dtype=object)
            rows = _rows_of(ids, np.asarray(base.customer_id), what="category_spend")
            whole[rows] = np.array([float(v) for v in category_spend.values()])
    else:
        whole = np.asarray(category_spend, dtype=np.float64)
        if whole.shape != (len(base),):
            raise InvalidValueError(
                f"category_spend has shape {whole.shape}; expected one value per customer "
                f"({len(base)})", field="category_spend",
            )
    bad = np.flatnonzero(np.isinf(whole) | (whole < 0))
    if len(bad):
        raise InvalidValueError(f"category_spend must be finite and >= 0; not at "
                                f"{describe_rows(bad)}", field="category_spend",
                                rows=bad.tolist())
    over = np.flatnonzero(ours > whole * (1 + tolerance) + tolerance)
    if len(over):
        raise InvalidValueError(
            f"spend with the firm exceeds the whole category spend at {describe_rows(over)} "
            f"(first: {float(ours[over[0]])!r} > {float(whole[over[0]])!r}); category_spend "
            "must include what the customer bought from the firm", field="category_spend",
            rows=over.tolist(),
        )
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(whole > 0, ours / np.where(whole > 0, whole, 1.0), np.nan)
    return np.clip(share, 0.0, 1.0)


def _firm_spend(
    base: CustomerBase, transactions: object, category: str | None, *, customer_id: str,
    monetary_value: str | None, category_column: str,
) -> FloatArray:
    if category is None:
        if base.total_spend is None:
            raise DataError("the base holds no spend (built from a summary); build it from "
                            "transactions with monetary_value", field="total_spend")
        return np.asarray(base.total_spend, dtype=np.float64)
    if transactions is None:
        raise DataError(f"category={category!r} needs the transactions to sum that category",
                        field="transactions")
    columns = _transaction_columns(transactions, customer_id=customer_id, on_promotion=None,
                                   monetary_value=monetary_value, category=category_column)
    if "amount" not in columns:
        raise InvalidValueError("summing a category from a frame needs monetary_value=<column>",
                                field="monetary_value")
    mask = columns["category"] == category
    rows = _rows_of(columns["customer_id"][mask], np.asarray(base.customer_id),
                    what="transactions")
    spend = np.bincount(rows, weights=columns["amount"][mask], minlength=len(base))
    return np.asarray(spend, dtype=np.float64)


def referral_rate(
    referrals: ArrayLike | Mapping[Any, float] | Iterable[Customer],
    customer_ids: ArrayLike | CustomerBase,
    *,
    cap: float = 1.0,
    attribute: str = "referred_by",
) -> FloatArray:
    """Referrals (口碑, word of mouth) as a loyalty indicator on ``[0, 1]``.

    The course texts count new customers brought by existing ones as a form and a measure of
    loyalty, and the same referrals as potential value (潜在价值)
    (:class:`crmcore.value.PotentialInputs`). Here each customer's number of referrals ``k``
    becomes ``min(k, cap) / cap``: with the default ``cap=1``, whether the customer has referred
    anyone.

    Parameters
    ----------
    referrals:
        Referrals per customer: an array aligned with ``customer_ids`` (NaN unknown), a mapping
        customer id -> count (customers it omits referred nobody: a referral record covers
        every customer), or :class:`crmcore.Customer` records of the customers won, whose
        attribute ``attribute`` names the customer who referred them.
    customer_ids:
        The customers to report on, or a :class:`crmcore.CustomerBase`.
    cap:
        Number of referrals that counts as the most loyal end of the scale (> 0).
    attribute:
        The attribute of a won customer naming their referrer.

    Raises
    ------
    InvalidValueError
        Negative counts, a wrong length, or ``cap`` not > 0.
    DataError
        A referral names a customer not in ``customer_ids``.
    """
    if isinstance(cap, bool) or not isinstance(cap, int | float) or not cap > 0:
        raise InvalidValueError(f"cap must be a number > 0, got {cap!r}", field="cap")
    universe = _universe(customer_ids)
    if isinstance(referrals, Mapping):
        counts = np.zeros(len(universe))
        if referrals:
            rows = _rows_of(np.array(list(referrals.keys()), dtype=object), universe,
                            what="referrals")
            counts[rows] = np.array([float(v) for v in referrals.values()])
    elif isinstance(referrals, np.ndarray) or (
            isinstance(referrals, list | tuple) and not any(
                isinstance(r, Customer) for r in referrals)):
        counts = np.asarray(referrals, dtype=np.float64)
        if counts.shape != (len(universe),):
            raise InvalidValueError(f"referrals has shape {counts.shape}; expected one count "
                                    f"per customer ({len(universe)})", field="referrals")
    else:
        referrers = [c.attributes.get(attribute) for c in referrals  # type: ignore[union-attr]
                     if isinstance(c, Customer) and c.attributes.get(attribute) is not None]
        counts = np.zeros(len(universe))
        if referrers:
            rows = _rows_of(np.array(referrers, dtype=object), universe, what="referrals")
            counts = np.bincount(rows, minlength=len(universe)).astype(np.float64)
    bad = np.flatnonzero(np.isinf(counts) | (counts < 0))
    if len(bad):
        raise InvalidValueError(f"referrals must be finite counts >= 0; not at "
                                f"{describe_rows(bad)}", field="referrals", rows=bad.tolist())
    return np.minimum(counts, cap) / cap


@renamed_parameters(repeat_period="repeat_freq")
def behavioural_indicators(
    base: CustomerBase,
    transactions: object = None,
    *,
    category_spend: ArrayLike | Mapping[Any, float] | None = None,
    category: str | None = None,
    promotion_by: Literal["count", "amount"] = "count",
    customer_id: str = "customer_id",
    on_promotion: str = "on_promotion",
    monetary_value: str | None = None,
    repeat_freq: str | None = None,
    referrals: ArrayLike | Mapping[Any, float] | Iterable[Customer] | None = None,
    referral_cap: float = 1.0,
) -> dict[str, FloatArray]:
    """The behavioural loyalty indicators the data allow, aligned with ``base.customer_id``.

    Always ``repeat_purchases`` (:func:`repeat_purchase_rate`, judged per purchase period
    ``repeat_freq``, default ``base.freq``; formerly ``repeat_period``, which still works until
    the next release with a :class:`DeprecationWarning`); ``category_share`` when
    ``category_spend`` is given (:func:`category_share`); ``price_sensitivity`` when
    ``transactions`` are given and at least one records ``on_promotion``
    (:func:`promotion_share`); ``referrals`` when referrals are given (:func:`referral_rate`
    with ``cap=referral_cap``). All on ``[0, 1]``, NaN where unknown for a customer.
    """
    result = {"repeat_purchases": repeat_purchase_rate(base, freq=repeat_freq)}
    if referrals is not None:
        result["referrals"] = referral_rate(referrals, base, cap=referral_cap)
    if category_spend is not None:
        result["category_share"] = category_share(
            base, category_spend, transactions=transactions, category=category,
            customer_id=customer_id, monetary_value=monetary_value,
        )
    if transactions is not None:
        has_flag = _records_promotion(transactions, on_promotion)
        if has_flag:
            share = promotion_share(transactions, base, by=promotion_by, customer_id=customer_id,
                                    on_promotion=on_promotion, monetary_value=monetary_value)
            if not np.all(np.isnan(share)):
                result["price_sensitivity"] = share
    return result


def _records_promotion(transactions: object, column: str) -> bool:
    if isinstance(transactions, list | tuple):
        return True
    columns: Any = getattr(transactions, "columns", None)
    if columns is None:
        columns = getattr(transactions, "column_names", ())
    return column in list(columns)


# -- attitudinal indicators ---------------------------------------------------------------------


def attitudinal_indicators(
    responses: Iterable[SurveyResponse],
    items: Mapping[str, str | Sequence[str]],
    *,
    customer_ids: ArrayLike | CustomerBase,
    scale: tuple[float, float] | Mapping[str, tuple[float, float]] = (1.0, 5.0),
) -> dict[str, FloatArray]:
    """Loyalty indicators from survey answers, rescaled onto ``[0, 1]``.

    For each indicator the caller names the survey item (or items, averaged) that measure it,
    oriented as the indicator is (a high ``price_sensitivity`` answer means more sensitive; a
    high ``competitor_attitude`` answer means colder towards competitors). Each customer's
    latest answer to an item counts; an answer ``x`` on the item's scale ``[a, b]`` becomes
    ``(x - a) / (b - a)``.

    Parameters
    ----------
    responses:
        The survey answers.
    items:
        Indicator name -> survey item name, or a sequence of item names.
    customer_ids:
        The customers to report on (or a :class:`crmcore.CustomerBase`); results are aligned
        with them, NaN where a customer did not answer.
    scale:
        The answer scale of every item (default a 1-5 Likert scale), or item -> scale.

    Raises
    ------
    UnknownIndicatorError
        ``items`` names something that is not a loyalty indicator.
    IndicatorScaleError
        An answer lies outside its item's scale (the item and customers are named).
    DataError
        A response comes from a customer not in ``customer_ids``.
    """
    universe = _universe(customer_ids)
    wanted: dict[str, tuple[str, ...]] = {}
    for name, chosen in items.items():
        if name not in INDICATOR_NAMES:
            raise UnknownIndicatorError(name, INDICATOR_NAMES, field="items")
        names = (chosen,) if isinstance(chosen, str) else tuple(chosen)
        if not names:
            raise InvalidValueError(f"items[{name!r}] names no survey item", field="items")
        wanted[name] = names
    all_items = sorted({item for names in wanted.values() for item in names})
    if isinstance(scale, Mapping):
        missing = [item for item in all_items if item not in scale]
        if missing:
            raise InvalidValueError(f"scale gives no scale for survey item(s) "
                                    f"{', '.join(map(repr, missing))}", field="scale")
        scales = {item: check_scale(item, scale[item], field="scale") for item in all_items}
    else:
        common = check_scale("every item", scale, field="scale")
        scales = dict.fromkeys(all_items, common)
    item_code = {item: k for k, item in enumerate(all_items)}

    # Flatten the records once (object parsing at the edge), then work on arrays.
    who: list[Any] = []
    code: list[int] = []
    when: list[np.datetime64] = []
    value: list[float] = []
    for response in responses:
        for item, answer in response.answers.items():
            k = item_code.get(item)
            if k is not None:
                who.append(response.customer_id)
                code.append(k)
                when.append(_naive_utc(response.at))
                value.append(float(answer))
    n, m = len(universe), len(all_items)
    latest = np.full((n, m), np.nan)
    if who:
        rows = _rows_of(np.array(who, dtype=object), universe, what="survey responses")
        codes = np.array(code, dtype=np.int64)
        values = np.array(value, dtype=np.float64)
        low = np.array([scales[item][0] for item in all_items])[codes]
        high = np.array([scales[item][1] for item in all_items])[codes]
        bad = np.flatnonzero((values < low) | (values > high))
        if len(bad):
            item = all_items[codes[bad[0]]]
            raise IndicatorScaleError(
                f"survey item {item!r} is answered outside its scale [{scales[item][0]:g}, "
                f"{scales[item][1]:g}] by customers "
                f"{_describe_ids(universe[rows[bad]].tolist())} (first: "
                f"{float(values[bad[0]])!r})",
                indicator=item, scale=scales[item], rows=universe[rows[bad]].tolist(),
            )
        order = np.lexsort((np.array(when), codes, rows))
        last = np.ones(len(order), dtype=bool)
        key_r, key_c = rows[order], codes[order]
        last[:-1] = (key_r[1:] != key_r[:-1]) | (key_c[1:] != key_c[:-1])
        chosen_rows = order[last]
        latest[rows[chosen_rows], codes[chosen_rows]] = (
            (values - low) / (high - low))[chosen_rows]

    result: dict[str, FloatArray] = {}
    for name, names in wanted.items():
        block = latest[:, [item_code[item] for item in names]]
        answered = (~np.isnan(block)).sum(axis=1)
        total = np.where(np.isnan(block), 0.0, block).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            result[name] = np.where(answered > 0, total / np.maximum(answered, 1), np.nan)
    return result


def _naive_utc(at: dt.datetime) -> np.datetime64:
    """Aware times in UTC, naive ones as they are, so answers order by time."""
    if at.tzinfo is not None:
        at = at.astimezone(dt.UTC).replace(tzinfo=None)
    return np.datetime64(at, "us")
