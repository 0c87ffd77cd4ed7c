"""Incremental update: merge new purchases into a base without re-reading its history.

A base built from transactions keeps, per customer and period, the purchase count, amount and
margin (:class:`crmcore.PurchaseHistory`) and the first purchase time. Those combine
associatively: the history of a log is the union of the histories of any two parts of it, with
the entries of a (customer, period) present in both added up, and the first purchase is the
earlier of the two. Frequency, recency, T and spend are then read off the merged history and the
new observation end exactly as :meth:`crmcore.CustomerBase.from_transactions` reads them, so an
updated base equals the base recomputed from the whole log (a property test checks this on random
splits).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from crmcore._base import CustomerBase, PurchaseHistory
from crmcore._errors import DataError, InvalidValueError, TimeZoneError
from crmcore._time import local_datetime64, period_index, unit_factor

__all__ = ["update_base"]


def update_base(
    base: CustomerBase,
    transactions: object = None,
    *,
    customer_id: str = "customer_id",
    datetime: str = "at",
    monetary_value: str | None = None,
    observation_end: dt.datetime | dt.date | str | np.datetime64 | None = None,
    datetime_format: str | None = None,
    margin: str | None = None,
) -> CustomerBase:
    """``base`` with the purchases of ``transactions`` added and observed until
    ``observation_end``.

    Parameters
    ----------
    base:
        A base built by :meth:`crmcore.CustomerBase.from_transactions` (it keeps the purchase
        history); its ``freq`` and ``time_unit`` are kept.
    transactions:
        The new purchases, in any form ``from_transactions`` reads (a frame, a lazy frame, a
        Parquet path, a list of :class:`crmcore.Transaction`), or ``None`` when only the
        observation end moves.
    customer_id, datetime, monetary_value, datetime_format, margin:
        As :meth:`crmcore.CustomerBase.from_transactions`. Give ``monetary_value`` (and
        ``margin``) exactly when the base has spend (and margins) recorded.
    observation_end:
        The new end of observation (default: the later of the base's end and the batch's last
        purchase). It may not be earlier than the base's end.

    Returns
    -------
    CustomerBase
        The same base as ``from_transactions`` on the old and the new purchases together.

    Raises
    ------
    DataError
        The base has no purchase history (built from a summary).
    InvalidValueError
        The new end is before the base's, or spend or margins are recorded in one part only.
    LateTransactionError, and every error of ``from_transactions`` for the new batch.
    """
    if base.history is None or base.freq is None or base.observation_end is None \
            or base.first_purchase is None:
        raise DataError("update_base needs a base built by CustomerBase.from_transactions "
                        "(with its purchase history)", field="base")
    old_end = base.observation_end
    end = old_end if observation_end is None else local_datetime64(
        observation_end, zone=base.time_zone, field="observation_end")
    batch: CustomerBase | None = None
    if transactions is not None:
        batch = CustomerBase.from_transactions(
            transactions, customer_id=customer_id, datetime=datetime,
            monetary_value=monetary_value, freq=base.freq, time_unit=base.time_unit,
            observation_end=None if observation_end is None else end,
            datetime_format=datetime_format, margin=margin)
        if observation_end is None:
            assert batch.observation_end is not None
            end = max(end, batch.observation_end)
    if end < old_end:
        raise InvalidValueError(
            f"observation_end ({np.datetime_as_string(end, unit='D')}) is before the base's "
            f"({np.datetime_as_string(old_end, unit='D')}); an update only moves it forward",
            field="observation_end")
    history, ids, first = base.history, base.customer_id, base.first_purchase
    if batch is not None:
        assert batch.history is not None
        assert batch.first_purchase is not None
        if (base.total_spend is None) != (batch.total_spend is None):
            raise InvalidValueError(
                "spend is recorded in " + ("the base" if base.total_spend is not None
                                           else "the new purchases")
                + " only; give monetary_value for both or neither", field="monetary_value")
        if batch.time_zone != base.time_zone:
            raise TimeZoneError(
                f"the new purchases are in time zone {batch.time_zone!r} but the base's are in "
                f"{base.time_zone!r}; give both in one zone", field="datetime")
        if (history.margin is None) != (batch.history.margin is None):
            raise InvalidValueError("margins are recorded in one part only; give margin for "
                                    "both or neither", field="margin")
        ids, history, first = _merge(base, batch)
    end_period = int(period_index(np.asarray([end]), base.freq)[0])
    return CustomerBase._from_history(
        ids, history, end_period=end_period, time_unit=base.time_unit,
        factor=unit_factor(base.freq, base.time_unit), first_purchase=first,
        observation_end=end, time_zone=base.time_zone)


def _merge(old: CustomerBase, new: CustomerBase) -> tuple[Any, PurchaseHistory, Any]:
    """The union of two bases' histories, entries of one (customer, period) added up."""
    assert old.history is not None
    assert new.history is not None
    assert old.first_purchase is not None
    assert new.first_purchase is not None
    a, b = old.history, new.history
    try:
        ids = np.concatenate([old.customer_id, new.customer_id])
        unique_ids, customer_row = np.unique(ids, return_inverse=True)
    except (TypeError, ValueError) as exc:
        raise DataError(f"the new customer ids cannot be compared with the base's: {exc}",
                        field="customer_id") from exc
    customer_row = customer_row.reshape(-1)
    n_old = len(old)
    entry_row = np.concatenate([customer_row[:n_old][a.customer_of_entry()],
                                customer_row[n_old:][b.customer_of_entry()]])
    period = np.concatenate([a.period, b.period])
    order = np.lexsort((period, entry_row))
    entry_row, period = entry_row[order], period[order]
    starts = np.flatnonzero(np.concatenate(
        [[True], (entry_row[1:] != entry_row[:-1]) | (period[1:] != period[:-1])]))

    def combined(x: Any, y: Any) -> Any:
        return np.add.reduceat(np.concatenate([x, y])[order], starts)

    history = PurchaseHistory(
        indptr=np.searchsorted(entry_row[starts], np.arange(len(unique_ids) + 1)).astype(
            np.int64),
        period=period[starts],
        count=combined(a.count, b.count).astype(np.int64),
        amount=combined(a.amount, b.amount),
        freq=a.freq,
        margin=None if a.margin is None or b.margin is None else combined(a.margin, b.margin),
    )
    first = np.full(len(unique_ids), np.datetime64("NaT"), dtype="datetime64[us]")
    first[customer_row[:n_old]] = old.first_purchase
    later = customer_row[n_old:]
    known = ~np.isnat(first[later])
    first[later] = np.where(known, np.minimum(first[later], new.first_purchase),
                            new.first_purchase)
    return unique_ids, history, first
