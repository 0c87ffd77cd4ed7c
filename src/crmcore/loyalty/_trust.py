"""Trust from repeated satisfaction (客户的信任), an index computed from satisfaction history.

As the course texts put it, a series of satisfactions produces trust, and lasting trust
produces loyalty (一系列客户满意会产生客户信任,长期的客户信任会产生客户忠诚). They give the chain,
not a formula. crmcore's reading turns it into an index on ``[0, 1]``:

$$\\text{trust}_i = \\frac{\\sum_j w_j s_{ij}}{m + \\sum_j w_j},$$

where $s_{ij} \\in [0, 1]$ is the customer's $j$-th satisfaction (a survey answer rescaled
from its scale), $w_j$ its weight (1, or $2^{-\\text{age}/h}$ with a half-life $h$ so that
old experiences fade) and $m > 0$ the weight of a prior of no trust. It is the mean of a Beta
posterior whose prior has mean 0 and strength $m$: one satisfied experience gives
$1/(1+m)$, a run of $n$ gives $n/(n+m)$, rising towards 1 only as satisfactions repeat; an
unsatisfying experience adds weight without adding trust, so it pulls the index down.
Customers with no satisfaction on record get NaN (unknown), not zero.

The index feeds :func:`crmcore.loyalty.classify_loyalty_type` (``trust``) and
:func:`crmcore.loyalty.determinant_index` (the trust determinant).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from crmcore._base import CustomerBase
from crmcore._domain import SurveyResponse
from crmcore._errors import IndicatorScaleError, InvalidValueError
from crmcore.loyalty._derive import _naive_utc, _rows_of, _universe
from crmcore.loyalty._indicators import check_scale

__all__ = ["trust_index"]


def trust_index(
    responses: Iterable[SurveyResponse],
    item: str | Sequence[str],
    *,
    customer_ids: ArrayLike | CustomerBase,
    scale: tuple[float, float] = (1.0, 5.0),
    prior: float = 1.0,
    half_life: float | None = None,
    as_of: dt.datetime | None = None,
) -> NDArray[np.float64]:
    """Each customer's trust from their history of satisfaction answers (crmcore's reading of
    the course texts' satisfaction -> trust chain; see the module text for the formula).

    Parameters
    ----------
    responses:
        Survey answers over time.
    item:
        The survey item(s) measuring overall satisfaction; with several, a response's
        satisfaction is the mean of those it answers.
    customer_ids:
        The customers to report on, or a :class:`crmcore.CustomerBase`.
    scale:
        The answer scale (default 1-5).
    prior:
        Weight ``m`` of the prior of no trust (> 0): how many satisfied experiences it takes
        to reach trust 0.5.
    half_life:
        Days after which an experience counts half (``None``: every experience counts fully).
    as_of:
        Date the ages are measured to (default: the latest response).

    Raises
    ------
    InvalidValueError
        ``prior`` or ``half_life`` not > 0, or no item named.
    IndicatorScaleError
        An answer outside ``scale``.
    DataError
        A response from a customer not in ``customer_ids``.

    Examples
    --------
    Three fully satisfied visits, against one satisfied and one dissatisfied:

    >>> import datetime as dt, crmcore
    >>> from crmcore.loyalty import trust_index
    >>> day = lambda d: dt.datetime(2024, 1, d)
    >>> answers = [crmcore.SurveyResponse("a", day(d), {"csat": 5}) for d in (1, 2, 3)]
    >>> answers += [crmcore.SurveyResponse("b", day(1), {"csat": 5}),
    ...             crmcore.SurveyResponse("b", day(2), {"csat": 1})]
    >>> trust_index(answers, "csat", customer_ids=["a", "b", "c"]).round(4).tolist()
    [0.75, 0.3333, nan]
    """
    items = (item,) if isinstance(item, str) else tuple(item)
    if not items:
        raise InvalidValueError("trust_index needs the satisfaction item(s)", field="item")
    low, high = check_scale("satisfaction", scale, field="scale")
    if isinstance(prior, bool) or not isinstance(prior, int | float) or not prior > 0:
        raise InvalidValueError(f"prior must be a number > 0, got {prior!r}", field="prior")
    if half_life is not None and (isinstance(half_life, bool) or not isinstance(
            half_life, int | float) or not half_life > 0):
        raise InvalidValueError(f"half_life must be a number of days > 0, got {half_life!r}",
                                field="half_life")
    universe = _universe(customer_ids)
    who: list[object] = []
    when: list[np.datetime64] = []
    score: list[float] = []
    for response in responses:
        answered = [float(response.answers[k]) for k in items if k in response.answers]
        if not answered:
            continue
        outside = [a for a in answered if not low <= a <= high]
        if outside:
            raise IndicatorScaleError(
                f"satisfaction answer {outside[0]!r} of customer {response.customer_id!r} lies "
                f"outside the scale [{low:g}, {high:g}]", indicator="satisfaction",
                scale=(low, high), rows=[response.customer_id])
        who.append(response.customer_id)
        when.append(_naive_utc(response.at))
        score.append((float(np.mean(answered)) - low) / (high - low))
    n = len(universe)
    if not who:
        return np.full(n, np.nan)
    rows = _rows_of(np.array(who, dtype=object), universe, what="survey responses")
    s = np.asarray(score, dtype=np.float64)
    weight = np.ones(len(s))
    if half_life is not None:
        times = np.array(when, dtype="datetime64[us]")
        end = _naive_utc(as_of) if as_of is not None else times.max()
        age = (end - times).astype("timedelta64[us]").astype(np.float64) / 86_400e6
        weight = np.power(0.5, np.maximum(age, 0.0) / float(half_life))
    total = np.bincount(rows, weights=weight * s, minlength=n)
    mass = np.bincount(rows, weights=weight, minlength=n)
    seen = np.bincount(rows, minlength=n) > 0
    result: NDArray[np.float64] = np.where(seen, total / (float(prior) + mass), np.nan)
    return result
