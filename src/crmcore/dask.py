"""Scoring a transaction log held in Dask, partition by partition (the ``crmcore[dask]`` extra).

``crmcore.score`` takes a :class:`crmcore.CustomerBase`, an in-memory summary. A log of hundreds
of millions of purchases in Dask is scored here instead, without bringing it to one machine:

1. the log is shuffled so that each customer's purchases sit in one partition;
2. each partition is summarised (:meth:`crmcore.CustomerBase.from_transactions` on its rows,
   with the one observation end of the whole log);
3. the value model is fitted on the compressed ``(frequency, recency, T)`` patterns (a distributed
   group-by; a few hundred thousand rows even for a huge base) and the spend model on the repeat
   buyers' ``(frequency, monetary_value)``; fitting needs no cluster;
4. each partition is scored with :func:`crmcore.score` and the fitted models, and the result is
   a Dask DataFrame with :meth:`crmcore.Scores.to_frame`'s columns, one row per customer.

The statistics of the whole base the built-in lifecycle rule needs (its default usual gap, the
median gap of the repeat customers, and its lapse limits, quantiles of the time customers took
from one purchase to the next, tabulated per partition and added up) are computed once over all
customers and handed to every partition, so the stages equal those of one :func:`crmcore.score`
over the whole base.

``crmcore.CustomerBase.from_transactions`` also accepts a Dask DataFrame: it runs the summary as a
distributed group-by and brings back one row per customer and period (an in-memory base).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

import crmcore
from crmcore._base import CustomerBase
from crmcore._checks import discount_rate as check_discount_rate
from crmcore._errors import DataError, EmptyDataError, InvalidValueError, MissingDependencyError
from crmcore._time import check_unit, local_datetime64, unit_factor, unit_name
from crmcore.protocols import ValueModel, value_protocol

__all__ = ["fit_models", "score", "summarise"]

_QUARTER = {"D": 91, "W": 13, "M": 3, "Q": 1, "Y": 1}  # the lifecycle rule's default window


def _require_dask(log: object) -> Any:
    try:
        import dask.dataframe as dd
    except ModuleNotFoundError as exc:  # pragma: no cover - the extra is missing
        raise MissingDependencyError(
            "crmcore.dask needs dask[dataframe] (pip install 'crmcore[dask]')", extra="dask"
        ) from exc
    if not isinstance(log, dd.DataFrame):
        raise DataError(f"crmcore.dask works on a Dask DataFrame, not a {type(log).__name__}",
                        field="log")
    return dd


def _end(log: Any, datetime: str,
         observation_end: dt.datetime | dt.date | str | np.datetime64 | None) -> np.datetime64:
    if observation_end is not None:
        return local_datetime64(observation_end, zone=None, field="observation_end")
    latest = log[datetime].max().compute()
    return np.datetime64(latest, "us")


def _partition_base(part: Any, options: dict[str, Any]) -> CustomerBase | None:
    if len(part) == 0:
        return None
    return CustomerBase.from_transactions(part, **options)


def _summary_frame(part: Any, options: dict[str, Any]) -> Any:
    import pandas as pd

    base = _partition_base(part, options)
    columns = ["customer_id", "frequency", "recency", "T", "monetary_value"]
    if base is None:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in columns[1:]})
    frame = base.to_frame()
    return frame[[c for c in columns if c in frame.columns]]


def summarise(
    log: Any,
    *,
    customer_id: str = "customer_id",
    datetime: str = "at",
    monetary_value: str | None = None,
    freq: str = "D",
    time_unit: str | None = None,
    observation_end: dt.datetime | dt.date | str | np.datetime64 | None = None,
) -> Any:
    """The per-customer summary of a Dask log as a Dask DataFrame (columns ``customer_id,
    frequency, recency, T, monetary_value``), computed partition by partition after a shuffle
    by customer. Arguments as :meth:`crmcore.CustomerBase.from_transactions`."""
    _require_dask(log)
    end = _end(log, datetime, observation_end)
    options = {"customer_id": customer_id, "datetime": datetime,
               "monetary_value": monetary_value, "freq": freq, "time_unit": time_unit,
               "observation_end": end}
    shuffled = log.shuffle(on=customer_id)
    meta = _summary_frame(_sample_log(log, customer_id, datetime, monetary_value, end),
                          options).iloc[:0]
    return shuffled.map_partitions(_summary_frame, options, meta=meta)


def fit_models(summary: Any, *, value_model: object = None, spend_model: object = None,
               freq: str = "D", time_unit: str | None = None) -> tuple[Any, Any, float]:
    """Fit the value model on the compressed ``(frequency, recency, T)`` patterns and the spend
    model on the repeat buyers of a summary from :func:`summarise`; also the lifecycle rule's
    default usual gap over all customers. Returns ``(value model, spend model, gap)``."""
    from crmcore._registry import get_model

    purchases: Any = get_model("value", value_model) if value_model is None or isinstance(
        value_model, str) else value_model
    if value_protocol(purchases) is not ValueModel:
        raise InvalidValueError(
            f"value_model {type(purchases).__name__} has time-varying covariates: it needs "
            "each customer's covariate periods, not the (frequency, recency, T) patterns this "
            "path fits on; score a CustomerBase with crmcore.score(..., covariates=, "
            "customer_id=, datetime=)", field="value_model")
    patterns = summary.groupby(["frequency", "recency", "T"]).size().compute()
    if len(patterns) == 0:
        raise EmptyDataError("the log has no customers", field="log")
    keys = patterns.index.to_frame(index=False)
    purchases.fit(keys["frequency"].to_numpy(np.float64), keys["recency"].to_numpy(np.float64),
                  keys["T"].to_numpy(np.float64), weights=patterns.to_numpy(np.float64))
    # as crmcore.score: the spend model is fitted on the repeat buyers with a positive mean
    # spend (Gamma-Gamma models positive spends; the others are predicted at the population
    # level by score itself)
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)][
        ["frequency", "monetary_value"]].compute()
    spend: Any = get_model("spend", spend_model) if spend_model is None or isinstance(
        spend_model, str) else spend_model
    spend.fit(repeat["frequency"].to_numpy(np.float64),
              repeat["monetary_value"].to_numpy(np.float64))
    # the lifecycle rule's default usual gap: the longer of its window and the median gap (in
    # periods of freq) of the repeat customers, over the whole base
    factor = unit_factor(freq, time_unit or freq)
    frequency = keys["frequency"].to_numpy(np.float64)
    repeat_rows = frequency > 0
    spans = np.round(keys["recency"].to_numpy(np.float64) / factor)  # whole periods
    gaps = spans[repeat_rows] / frequency[repeat_rows]
    counts = patterns.to_numpy()[repeat_rows]
    typical = _weighted_median(gaps, counts) if len(gaps) else 0.0
    return purchases, spend, max(float(_QUARTER[freq]), typical)


def _weighted_median(values: Any, counts: Any) -> float:
    """``np.median`` of ``values`` repeated ``counts`` times, without repeating them."""
    order = np.argsort(values, kind="stable")
    v, c = np.asarray(values, dtype=np.float64)[order], np.asarray(counts, dtype=np.int64)[order]
    total = int(c.sum())
    cumulative = np.cumsum(c)
    low = v[np.searchsorted(cumulative, (total - 1) // 2, side="right")]
    high = v[np.searchsorted(cumulative, total // 2, side="right")]
    return float((low + high) / 2)


def _gap_table(part: Any, options: dict[str, Any], min_purchases: int) -> Any:
    """How often each (purchase count, gap in periods) occurs among a partition's customers."""
    import pandas as pd

    from crmcore.lifecycle._lapse import gap_observations

    base = _partition_base(part, options)
    empty = pd.DataFrame({"k": pd.Series(dtype="int64"), "gap": pd.Series(dtype="float64"),
                          "n": pd.Series(dtype="int64")})
    if base is None or base.history is None:
        return empty
    count, gaps = gap_observations(base.history, min_purchases=min_purchases)
    if len(gaps) == 0:
        return empty
    frame = pd.DataFrame({"k": count, "gap": gaps})
    return frame.groupby(["k", "gap"], as_index=False).size().rename(columns={"size": "n"})


def _lapse_limits(shuffled: Any, options: dict[str, Any], freq: str, time_unit: str | None,
                  gap: float) -> dict[int, float]:
    """The built-in rule's lapse limits over the whole log, in ``time_unit``
    (:func:`crmcore.lifecycle.lapse_limits` of one base holding every customer)."""
    from crmcore.lifecycle import LifecycleClassifier
    from crmcore.lifecycle._lapse import limits_from_gaps

    rule = LifecycleClassifier()
    import pandas as pd

    meta = pd.DataFrame({"k": pd.Series(dtype="int64"), "gap": pd.Series(dtype="float64"),
                         "n": pd.Series(dtype="int64")})
    table = shuffled.map_partitions(_gap_table, options, rule.min_purchases, meta=meta)
    totals = table.groupby(["k", "gap"]).n.sum().compute().reset_index()
    limits = limits_from_gaps(
        totals["k"].to_numpy(np.int64), totals["gap"].to_numpy(np.float64),
        totals["n"].to_numpy(np.float64), min_purchases=rule.min_purchases,
        quantile=rule.lapse_quantile, window=_QUARTER[freq], fallback=rule.decline_gap * gap)
    factor = unit_factor(freq, time_unit or freq)
    return {k: float(limits[k]) * factor for k in range(1, rule.min_purchases + 1)}


def _score_frame(part: Any, options: dict[str, Any], score_options: dict[str, Any]) -> Any:
    base = _partition_base(part, options)
    if base is None:
        return score_options["meta"]
    options_without_meta = {k: v for k, v in score_options.items() if k != "meta"}
    return crmcore.score(base, **options_without_meta).to_frame()


def _sample_log(log: Any, customer_id: str, datetime: str, monetary_value: str | None,
                end: np.datetime64) -> Any:
    """Two customers' purchases with the log's column types (the layout of the results, so
    that Dask needs to compute nothing to know it)."""
    import pandas as pd

    meta = log._meta
    id_dtype = meta[customer_id].dtype
    ids = [0, 0, 0, 1] if np.issubdtype(np.dtype(id_dtype) if not isinstance(
        id_dtype, pd.api.extensions.ExtensionDtype) else np.dtype(object), np.integer) \
        else ["a", "a", "a", "b"]
    day = np.timedelta64(1, "D")
    times = pd.Series(np.array([end - 60 * day, end - 30 * day, end - day, end - 10 * day],
                               dtype="datetime64[us]"))
    data: dict[str, Any] = {customer_id: pd.Series(ids).astype(id_dtype), datetime: times}
    if monetary_value is not None:
        data[monetary_value] = pd.Series([10.0, 12.0, 9.0, 5.0]).astype(
            meta[monetary_value].dtype)
    return pd.DataFrame(data)


def score(
    log: Any,
    *,
    margin: float,
    discount_rate: float,
    time_unit: str,
    horizon: float | None,
    customer_id: str = "customer_id",
    datetime: str = "at",
    monetary_value: str | None = None,
    freq: str = "D",
    base_time_unit: str | None = None,
    observation_end: dt.datetime | dt.date | str | np.datetime64 | None = None,
    step: float = 1.0,
    value_model: object = None,
    spend_model: object = None,
    lifecycle_model: object = None,
    loyalty_model: object = None,
) -> Any:
    """Score every customer of a Dask transaction log, partition by partition.

    Parameters
    ----------
    log:
        A Dask DataFrame of transactions.
    margin, discount_rate, time_unit, horizon, step:
        As :func:`crmcore.score` (``margin`` one rate for everyone).
    customer_id, datetime, monetary_value, freq, observation_end:
        As :meth:`crmcore.CustomerBase.from_transactions`; ``base_time_unit`` is its
        ``time_unit`` (the unit of recency and T). The observation end defaults to the last
        purchase in the whole log (one for every partition).
    value_model, spend_model:
        Names or unfitted model objects (default: the registry's defaults); fitted once, on
        the compressed patterns of the whole log (:func:`fit_models`). Fitted objects are used
        as they are.
    lifecycle_model, loyalty_model:
        As :func:`crmcore.score`; ``None`` gives the built-in lifecycle rule with its default
        usual gap and lapse limits computed over the whole base, and the default loyalty index.

    Returns
    -------
    dask.dataframe.DataFrame
        One row per customer, the columns of :meth:`crmcore.Scores.to_frame`; nothing is
        computed until you ask (``.compute()``, ``.to_parquet(...)``).
    """
    _require_dask(log)
    # the rule of crmcore.score, applied before anything is fitted or shuffled
    unit = check_unit(time_unit, argument="time_unit")
    check_discount_rate(discount_rate, per=unit_name(unit), to_infinity=horizon is None)
    end = _end(log, datetime, observation_end)
    options = {"customer_id": customer_id, "datetime": datetime,
               "monetary_value": monetary_value, "freq": freq, "time_unit": base_time_unit,
               "observation_end": end}
    shuffled = log.shuffle(on=customer_id)
    summary = shuffled.map_partitions(
        _summary_frame, options,
        meta=_summary_frame(_sample_log(log, customer_id, datetime, monetary_value, end),
                            options).iloc[:0])
    unfitted_value = value_model is None or isinstance(value_model, str) or not hasattr(
        value_model, "params_")
    unfitted_spend = spend_model is None or isinstance(spend_model, str) or not hasattr(
        spend_model, "params_")
    fitted_value, fitted_spend, gap = fit_models(
        summary, value_model=value_model if unfitted_value else _Fitted(value_model),
        spend_model=spend_model if unfitted_spend else _Fitted(spend_model), freq=freq,
        time_unit=base_time_unit)
    if lifecycle_model is None:
        from crmcore.lifecycle import LifecycleClassifier

        lifecycle_model = LifecycleClassifier(
            default_gap=gap,
            lapse_limits=_lapse_limits(shuffled, options, freq, base_time_unit, gap))
    score_options: dict[str, Any] = {
        "margin": margin, "discount_rate": discount_rate, "time_unit": time_unit,
        "horizon": horizon, "step": step,
        "value_model": fitted_value.model if isinstance(fitted_value, _Fitted) else fitted_value,
        "spend_model": fitted_spend.model if isinstance(fitted_spend, _Fitted) else fitted_spend,
        "lifecycle_model": lifecycle_model, "loyalty_model": loyalty_model,
    }
    sample = _sample_log(log, customer_id, datetime, monetary_value, end)
    score_options["meta"] = _score_frame(sample, options, {**score_options, "meta": None}
                                         ).iloc[:0]
    return shuffled.map_partitions(_score_frame, options, score_options,
                                   meta=score_options["meta"])


class _Fitted:
    """A model given already fitted: :func:`fit_models` leaves it as it is."""

    def __init__(self, model: object) -> None:
        self.model = model

    def fit(self, *args: Any, **kwargs: Any) -> _Fitted:
        return self
