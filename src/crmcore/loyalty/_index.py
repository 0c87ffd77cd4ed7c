"""The loyalty index: the eight indicators of the course texts weighted into one 0-100 score.

For customer :math:`i`, indicator :math:`k` with value :math:`x_{ik}` on the scale
:math:`[a_k, b_k]` is min-max normalised (Nardo et al. 2008, *Handbook on Constructing
Composite Indicators*, OECD/JRC, section 5.2) and reversed when it counts against loyalty
(price sensitivity and choice time):

.. math::

    s_{ik} = \\frac{x_{ik} - a_k}{b_k - a_k} \\quad\\text{or}\\quad
    s_{ik} = \\frac{b_k - x_{ik}}{b_k - a_k},

and the index is the weighted mean over the indicators present for that customer (linear
aggregation, ibid. section 6.1; simple additive weighting, Hwang & Yoon 1981):

.. math::

    L_i = 100\\,\\frac{\\sum_k w_k m_{ik} s_{ik}}{\\sum_k w_k m_{ik}}, \\qquad
    \\text{coverage}_i = \\frac{\\sum_k w_k m_{ik}}{\\sum_k w_k},

where :math:`m_{ik}` is 1 when the indicator is known for the customer. The index lies in
``[0, 100]``, rises with every indicator that favours loyalty, falls with the two that count
against it, and depends on the weights only through their ratios.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from crmcore._errors import DataError, UnknownIndicatorError
from crmcore.loyalty._indicators import INDICATOR_NAMES, INDICATORS, resolve_scales
from crmcore.loyalty._weighted import aggregate, orient, read_table, read_weights

__all__ = ["LoyaltyBreakdown", "loyalty_breakdown", "loyalty_index"]

_FAVOURS = {spec.name: spec.favours_loyalty for spec in INDICATORS}
_EIGHT = INDICATOR_NAMES[:8]


@attrs.frozen(eq=False)
class LoyaltyBreakdown:
    """A loyalty index with everything behind it, one row per customer.

    Attributes
    ----------
    index:
        The loyalty index, 0-100, shape ``(n,)``; NaN only for customers with coverage 0
        when that was asked for (``uncovered="nan"``).
    names:
        The indicators given, in the order of the columns below.
    contributions:
        Each indicator's part of the index, shape ``(n, k)``; a row sums to ``index``. An
        indicator missing for a customer contributes 0.
    scores:
        Each indicator normalised onto ``[0, 1]`` and oriented so that 1 is the most loyal
        end, shape ``(n, k)``; NaN where the indicator is missing for the customer.
    weights:
        The whole weighting scheme, normalised to sum to 1 (indicators the scheme weights
        but the input lacks included).
    coverage:
        Share of the scheme's weight present for each customer, shape ``(n,)``: 1 when every
        weighted indicator is known, 0.5 when the index rests on half the weight.
    scales:
        The scale each given indicator was read on.
    """

    index: NDArray[np.float64]
    names: tuple[str, ...]
    contributions: NDArray[np.float64]
    scores: NDArray[np.float64]
    weights: Mapping[str, float]
    coverage: NDArray[np.float64]
    scales: Mapping[str, tuple[float, float]]

    def __len__(self) -> int:
        return len(self.index)

    def contribution(self, name: str) -> NDArray[np.float64]:
        """One indicator's contribution to each customer's index (0 where it is missing).

        Raises
        ------
        UnknownIndicatorError
            ``name`` is not among :attr:`names`.
        """
        if name not in self.names:
            raise UnknownIndicatorError(name, self.names, field="contribution")
        result: NDArray[np.float64] = self.contributions[:, self.names.index(name)]
        return result

    def to_frame(self, backend: Literal["pandas", "polars", "pyarrow"] = "pandas") -> Any:
        """Index, coverage and one ``contribution_<name>`` column per indicator as a data frame
        of ``backend`` (``"pandas"``, ``"polars"`` or ``"pyarrow"``)."""
        import narwhals.stable.v2 as nw

        data: dict[str, NDArray[np.float64]] = {"loyalty_index": self.index,
                                                 "coverage": self.coverage}
        for k, name in enumerate(self.names):
            data[f"contribution_{name}"] = self.contributions[:, k]
        try:
            return nw.from_dict(data, backend=backend).to_native()
        except ModuleNotFoundError as exc:
            raise DataError(f"to_frame(backend={backend!r}) needs {exc.name}, which is not "
                            "installed", field="backend") from exc


def loyalty_breakdown(
    indicators: object,
    weights: object = None,
    *,
    scales: Mapping[str, tuple[float, float]] | None = None,
    uncovered: Literal["raise", "nan"] = "raise",
) -> LoyaltyBreakdown:
    """The loyalty index with each indicator's contribution and the weight coverage.

    Parameters
    ----------
    indicators:
        Indicator name -> values (one per customer, aligned across indicators), as a mapping
        or a data frame whose columns are indicator names. Names are those of
        :data:`crmcore.loyalty.INDICATOR_NAMES`; any subset may be given. NaN (or ``None``)
        marks an indicator unknown for that customer.
    weights:
        ``None`` for equal weights over the eight indicators of the course texts (and referrals when
        they are given); a mapping indicator name ->
        weight; an array aligned with the order of ``indicators``; or an object with a
        ``weights`` attribute holding one of those (an AHP or entropy result from
        :mod:`crmcore.satisfaction`; an AHP result whose ``labels`` are indicator names is
        read by label, otherwise its weights follow the order of ``indicators``). Only
        ratios matter. Indicators the scheme weights but the
        input lacks lower the coverage; the rest are re-weighted to fill the gap.
    scales:
        Indicator name -> ``(low, high)``, overriding the default ``(0, 1)``; e.g.
        ``{"repeat_purchases": (0, 24)}`` to pass counts capped at 24.
    uncovered:
        What to do with a customer for whom no weighted indicator is known: ``"raise"``
        (default) refuses the input, naming the rows; ``"nan"`` gives them a NaN index and
        coverage 0 (batch scoring of a base whose newest customers have nothing to judge yet).

    Returns
    -------
    LoyaltyBreakdown

    Raises
    ------
    UnknownIndicatorError
        ``indicators``, ``weights`` or ``scales`` names an unknown indicator.
    IndicatorScaleError
        A value lies outside its indicator's scale (named, with rows).
    InvalidValueError
        Lengths differ; a value is infinite; a weight is negative, not finite, or missing for
        a given indicator; all weights are zero; or (``uncovered="raise"``) a customer has no
        weighted indicator.
    """
    names, matrix = read_table(indicators, known=INDICATOR_NAMES, field="indicators")
    all_scales = resolve_scales(scales)
    used_scales = {name: all_scales[name] for name in names}
    if weights is None:
        # Equal weights over the course texts' eight, plus referrals when they are given: coverage
        # keeps meaning "share of the course texts' indicators known".
        weights = dict.fromkeys(_EIGHT + tuple(n for n in names if n not in _EIGHT),
                                1.0)
    w, scheme = read_weights(weights, names, known=INDICATOR_NAMES, field="weights")
    scores = orient(matrix, names, used_scales, _FAVOURS, field="indicators")
    index, contributions, coverage = aggregate(scores, w, field="indicators",
                                               uncovered=uncovered)
    return LoyaltyBreakdown(
        index=index, names=names, contributions=contributions, scores=scores, weights=scheme,
        coverage=coverage, scales=used_scales,
    )


def loyalty_index(
    indicators: object,
    weights: object = None,
    *,
    scales: Mapping[str, tuple[float, float]] | None = None,
) -> NDArray[np.float64]:
    """The loyalty index, 0-100 per customer, from the eight indicators of the course texts.

    Arguments and errors are those of :func:`loyalty_breakdown`, which also returns each
    indicator's contribution and how much of the weight each customer's index rests on.

    Examples
    --------
    >>> from crmcore.loyalty import loyalty_index
    >>> loyalty_index({"repeat_purchases": [0.5, 1.0], "price_sensitivity": [0.5, 0.0]},
    ...               weights={"repeat_purchases": 3, "price_sensitivity": 1}).tolist()
    [50.0, 100.0]
    """
    return loyalty_breakdown(indicators, weights, scales=scales).index
