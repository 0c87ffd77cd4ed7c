"""The built-in loyalty model: the weighted loyalty index as a pluggable, saveable object.

It is what the plugin registry hands out for kind ``"loyalty"`` (name ``"weighted-index"``),
and the batch entry point for scoring a whole :class:`crmcore.CustomerBase`: indicators derived
from the base, the transactions and the survey answers, in one call, aligned with the base.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from crmcore._base import CustomerBase
from crmcore._deprecation import renamed_parameters, warn_deprecated
from crmcore._domain import Relationship, SurveyResponse
from crmcore._errors import InvalidValueError, SerializationError
from crmcore._serialization import dump_document, load_document
from crmcore._time import check_unit
from crmcore.loyalty._derive import attitudinal_indicators, behavioural_indicators
from crmcore.loyalty._index import LoyaltyBreakdown, loyalty_breakdown
from crmcore.loyalty._indicators import INDICATOR_NAMES, resolve_scales
from crmcore.loyalty._weighted import read_weights, unwrap_weights

__all__ = ["WeightedLoyaltyIndex"]

_KIND = "WeightedLoyaltyIndex"
_VERSION = 2  # 2: repeat_period saved as repeat_freq (version 1 documents still load)


class WeightedLoyaltyIndex:
    """The loyalty index of the course texts' eight indicators with fixed weights and scales.

    Parameters
    ----------
    weights:
        As for :func:`crmcore.loyalty.loyalty_breakdown`: ``None`` (equal), a mapping indicator
        -> weight, or an object with a ``weights`` mapping. (An array is aligned with the
        indicators of each call, so prefer a mapping for a model that is reused and saved.)
    scales:
        Indicator -> ``(low, high)`` overriding the default ``(0, 1)``.
    survey_items:
        Indicator -> survey item name(s), for :meth:`score` to read attitudinal indicators from
        survey answers.
    survey_scale:
        The answer scale of the survey items (default 1-5), or item -> scale.
    promotion_by:
        ``"count"`` or ``"amount"``: how the share of purchases on promotion is measured.
    repeat_freq:
        The purchase period in which repeat buying is judged (default ``"M"``: the share of
        months since the first purchase with a purchase); a base bucketed more coarsely is
        judged by its own ``freq``. ``None`` judges by the base's ``freq``. Formerly
        ``repeat_period``, which still works until the next release with a
        :class:`DeprecationWarning`.

    Examples
    --------
    >>> import crmcore
    >>> model = crmcore.get_model("loyalty", weights={"repeat_purchases": 2, "category_share": 1})
    >>> model.index({"repeat_purchases": [1.0], "category_share": [0.4]}).round(6).tolist()
    [80.0]
    """

    name = "weighted-index"

    @renamed_parameters(repeat_period="repeat_freq")
    def __init__(
        self,
        *,
        weights: object = None,
        scales: Mapping[str, tuple[float, float]] | None = None,
        survey_items: Mapping[str, str | Sequence[str]] | None = None,
        survey_scale: tuple[float, float] | Mapping[str, tuple[float, float]] = (1.0, 5.0),
        promotion_by: Literal["count", "amount"] = "count",
        repeat_freq: str | None = "M",
    ) -> None:
        self.weights = weights
        self.scales = scales
        self.survey_items = survey_items
        self.survey_scale = survey_scale
        self.promotion_by = promotion_by
        self.repeat_freq = repeat_freq
        if repeat_freq is not None:
            check_unit(repeat_freq, argument="repeat_freq")
        resolve_scales(scales)  # fail early, naming the indicator
        if isinstance(weights, Mapping):
            read_weights(weights, tuple(weights), known=INDICATOR_NAMES, field="weights")

    @property
    def repeat_period(self) -> str | None:
        """Deprecated name of :attr:`repeat_freq` (until the next release)."""
        warn_deprecated("WeightedLoyaltyIndex.repeat_period is deprecated; use repeat_freq")
        return self.repeat_freq

    def _repeat_freq(self, base: CustomerBase) -> str | None:
        if self.repeat_freq is None or base.freq is None:
            return None
        order = "DWMQY"
        return max(self.repeat_freq, base.freq, key=order.index)

    def __repr__(self) -> str:
        return (f"WeightedLoyaltyIndex(weights={self.weights!r}, scales={self.scales!r}, "
                f"survey_items={self.survey_items!r})")

    def breakdown(
        self, indicators: object, *, uncovered: Literal["raise", "nan"] = "raise"
    ) -> LoyaltyBreakdown:
        """Index, contributions and coverage for indicator values (see
        :func:`crmcore.loyalty.loyalty_breakdown`)."""
        return loyalty_breakdown(indicators, self.weights, scales=self.scales,
                                 uncovered=uncovered)

    def index(self, indicators: object) -> NDArray[np.float64]:
        """The loyalty index, 0-100 per customer, for indicator values."""
        return self.breakdown(indicators).index

    def indicators(
        self,
        base: CustomerBase,
        *,
        transactions: object = None,
        responses: Iterable[SurveyResponse] | None = None,
        category_spend: ArrayLike | Mapping[Any, float] | None = None,
        monetary_value: str | None = None,
        customer_id: str = "customer_id",
        on_promotion: str = "on_promotion",
        referrals: Any = None,
    ) -> dict[str, NDArray[np.float64]]:
        """Every indicator the data allow, aligned with ``base.customer_id``.

        Behavioural indicators come from :func:`crmcore.loyalty.behavioural_indicators`;
        attitudinal ones from ``responses`` through ``survey_items``. Where both give the same
        indicator, the behavioural value is used where known and the survey answer fills the
        gaps. ``monetary_value``, ``customer_id`` and ``on_promotion`` name the columns of a
        transaction frame (they are ignored for :class:`crmcore.Transaction` objects).
        ``referrals`` (口碑) become the referral indicator
        (:func:`crmcore.loyalty.referral_rate`).
        """
        result = behavioural_indicators(base, transactions, category_spend=category_spend,
                                        promotion_by=self.promotion_by,
                                        monetary_value=monetary_value, customer_id=customer_id,
                                        on_promotion=on_promotion,
                                        repeat_freq=self._repeat_freq(base),
                                        referrals=referrals)
        if responses is not None and self.survey_items:
            answers = attitudinal_indicators(responses, self.survey_items, customer_ids=base,
                                             scale=self.survey_scale)
            for name, values in answers.items():
                known = result.get(name)
                result[name] = values if known is None else np.where(np.isnan(known), values,
                                                                     known)
        return result

    def score(
        self,
        base: CustomerBase,
        *,
        transactions: object = None,
        responses: Iterable[SurveyResponse] | None = None,
        category_spend: ArrayLike | Mapping[Any, float] | None = None,
        monetary_value: str | None = None,
        customer_id: str = "customer_id",
        on_promotion: str = "on_promotion",
        referrals: Any = None,
    ) -> LoyaltyBreakdown:
        """Score a whole base: derive the indicators (:meth:`indicators`) and break down the
        index, one row per customer of ``base`` in its order.

        The indicators the model's ``weights`` do not mention are left out (weights given as a
        mapping select the indicators; ``None`` uses all that can be derived). A customer for
        whom no indicator is known yet (one first seen in the last period, with no survey
        answer) gets a NaN index and coverage 0, rather than stopping the batch.
        """
        weights = unwrap_weights(self.weights, known=INDICATOR_NAMES)
        if weights is not None and not isinstance(weights, Mapping):
            raise InvalidValueError(
                "score derives its indicators from the data, so the model's weights must name "
                "them: give a mapping indicator -> weight (or an AHP result labelled with "
                "indicator names), not bare weights", field="weights",
            )
        found = self.indicators(base, transactions=transactions, responses=responses,
                                category_spend=category_spend, monetary_value=monetary_value,
                                customer_id=customer_id, on_promotion=on_promotion,
                                referrals=referrals)
        if isinstance(weights, Mapping):
            found = {name: values for name, values in found.items() if name in weights}
        return self.breakdown(found, uncovered="nan")

    def score_relationship(
        self,
        relationship: Relationship,
        *,
        freq: str = "D",
        observation_end: dt.datetime | None = None,
        category_spend: float | None = None,
    ) -> LoyaltyBreakdown:
        """Score one customer's :class:`crmcore.Relationship` through the batch path (n = 1):
        its transactions become a one-customer base, its survey responses the answers.

        Parameters
        ----------
        relationship:
            The customer's history.
        freq:
            Purchase period for the repeat-purchase rate.
        observation_end:
            End of the observation window (default: the last purchase).
        category_spend:
            The customer's whole spend on the category, if known.
        """
        base = relationship.to_base(freq=freq, observation_end=observation_end)
        return self.score(
            base, transactions=list(relationship.transactions),
            responses=relationship.survey_responses,
            category_spend=None if category_spend is None else [category_spend],
        )

    # -- saving ---------------------------------------------------------------------------

    def to_json(self) -> str:
        """The model as a JSON document (schema version 1); weights are saved as given."""
        weights: dict[str, float] | None = None
        if self.weights is not None:
            given = unwrap_weights(self.weights, known=INDICATOR_NAMES)
            if not isinstance(given, Mapping):
                raise SerializationError("only weights that name their indicators (a mapping, "
                                         "or an AHP result labelled with indicator names) can "
                                         "be saved")
            read_weights(given, tuple(given), known=INDICATOR_NAMES, field="weights")
            weights = {str(name): float(value) for name, value in given.items()}
        items = None if self.survey_items is None else {
            k: v if isinstance(v, str) else list(v) for k, v in self.survey_items.items()}
        scale: Any = (dict(self.survey_scale) if isinstance(self.survey_scale, Mapping)
                      else list(self.survey_scale))
        if isinstance(scale, dict):
            scale = {k: list(v) for k, v in scale.items()}
        return dump_document(_KIND, _VERSION, {
            "weights": weights,
            "scales": None if self.scales is None else {k: list(v)
                                                        for k, v in self.scales.items()},
            "survey_items": items,
            "survey_scale": scale,
            "promotion_by": self.promotion_by,
            "repeat_freq": self.repeat_freq,
        })

    @classmethod
    def from_json(cls, text: str | bytes) -> WeightedLoyaltyIndex:
        """Read a model saved by :meth:`to_json`.

        Raises
        ------
        SerializationError
            Not a saved ``WeightedLoyaltyIndex`` of a known schema version, or fields that do
            not describe one.
        """
        payload = load_document(text, _KIND, (1, _VERSION))
        if "repeat_period" in payload and "repeat_freq" not in payload:  # version 1
            payload["repeat_freq"] = payload.pop("repeat_period")
        expected = {"weights", "scales", "survey_items", "survey_scale", "promotion_by",
                    "repeat_freq"}
        if set(payload) != expected:
            raise SerializationError(f"saved {_KIND} has fields {sorted(payload)}; expected "
                                     f"{sorted(expected)}")
        try:
            scale = payload["survey_scale"]
            return cls(
                weights=payload["weights"],
                scales=None if payload["scales"] is None else {
                    k: (v[0], v[1]) for k, v in payload["scales"].items()},
                survey_items=payload["survey_items"],
                survey_scale={k: (v[0], v[1]) for k, v in scale.items()}
                if isinstance(scale, dict) else (scale[0], scale[1]),
                promotion_by=payload["promotion_by"],
                repeat_freq=payload["repeat_freq"],
            )
        except (TypeError, KeyError, IndexError, AttributeError, ValueError) as exc:
            raise SerializationError(f"saved {_KIND} is malformed: {exc}") from exc
