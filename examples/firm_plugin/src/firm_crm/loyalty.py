"""A loyalty model of the firm's own: how each customer ranks on recency, frequency and spend.

RFM scoring (Hughes 1994, *Strategic Database Marketing*) ranks customers on how recently they
bought, how often and how much, traditionally in quintiles. This model keeps the ranks
continuous: each customer's percentile rank among the base on

* **recency**: time since the last purchase, ``T - recency`` (shorter ranks higher);
* **frequency**: repeat purchases per unit of time, ``frequency / T`` (a rate, so a customer
  who joined last month is not ranked below one who joined years ago for that reason alone);
* **monetary value**: mean spend per purchase period (left out when the base has no amounts);

and the loyalty index is ``100`` times their weighted mean, in ``[0, 100]``. Ties share their
mean rank; a base of one customer gets 50. The model follows
``crmcore.protocols.LoyaltyModel`` (``score(base, *, transactions)``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.stats import rankdata

import crmcore

__all__ = ["RFMLoyalty"]

_FloatArray = NDArray[np.float64]


def percentile_rank(values: _FloatArray) -> _FloatArray:
    """Each value's rank among ``values`` on ``[0, 1]`` (0 the lowest, 1 the highest; ties get
    their mean rank; a single value gets 0.5)."""
    if len(values) == 1:
        return np.array([0.5])
    return np.asarray((rankdata(values, method="average") - 1.0) / (len(values) - 1.0),
                      dtype=np.float64)


class RFMLoyalty:
    """Loyalty as the customer's RFM percentile rank (loyalty model ``"rfm-rank"``).

    Parameters
    ----------
    recency, frequency, monetary:
        Weights of the three ranks (default equal). Zero leaves a rank out.
    """

    name = "rfm-rank"

    def __init__(self, *, recency: float = 1.0, frequency: float = 1.0,
                 monetary: float = 1.0) -> None:
        weights = {"recency": recency, "frequency": frequency, "monetary": monetary}
        for key, value in weights.items():
            if not np.isfinite(value) or value < 0:
                raise crmcore.InvalidValueError(f"{key} weight must be finite and >= 0, got "
                                                f"{value!r}", field=key)
        if sum(weights.values()) == 0:
            raise crmcore.InvalidValueError("at least one weight must be positive",
                                            field="recency")
        self.weights = weights

    def ranks(self, base: crmcore.CustomerBase) -> dict[str, _FloatArray]:
        """The percentile ranks the index averages, by name (``monetary`` only when the base
        records spend)."""
        if len(base) == 0:
            raise crmcore.EmptyDataError("the base has no customers", field="base")
        t = np.asarray(base.T, dtype=np.float64)
        silence = t - np.asarray(base.recency, dtype=np.float64)
        rate = np.divide(np.asarray(base.frequency, dtype=np.float64), t,
                         out=np.zeros(len(base)), where=t > 0)
        result = {"recency": percentile_rank(-silence), "frequency": percentile_rank(rate)}
        money = np.asarray(base.monetary_value, dtype=np.float64)
        if not np.isnan(money).all():
            result["monetary"] = percentile_rank(np.nan_to_num(money, nan=0.0))
        return result

    def score(self, base: crmcore.CustomerBase, *, transactions: Any = None) -> _FloatArray:
        """The loyalty index, 0-100, per customer of ``base`` in its order (``transactions``
        is not needed: everything comes from the base)."""
        ranks = self.ranks(base)
        used = {k: w for k, w in self.weights.items() if k in ranks and w > 0}
        if not used:
            raise crmcore.InvalidValueError("only the monetary rank has weight, but the base "
                                            "records no spend", field="monetary")
        total = sum(used.values())
        return np.asarray(100.0 * sum(w * ranks[k] for k, w in used.items()) / total,
                          dtype=np.float64)
