"""crmcore.plotting: the evaluation plots of purchase models and the course texts' concepts.

Every function has the form ``plot_x(data, *, ax=None, **style) -> Axes``: it draws on ``ax``
(default: a new figure), passes ``style`` to the main matplotlib call, labels its axes with
their units and returns the Axes. Nothing is shown or saved, and no global setting is
changed, so the functions work headless. The numbers drawn are crmcore's own results. Names
follow lifetimes where lifetimes has the plot. Needs matplotlib (``pip install
'crmcore[plot]'``).
"""

from crmcore.plotting._concepts import (
    plot_ahp_weights,
    plot_importance_performance,
    plot_lifecycle_stages,
    plot_portfolio,
    plot_pyramid,
)
from crmcore.plotting._value import (
    plot_calibration_purchases_vs_holdout_purchases,
    plot_cumulative_transactions,
    plot_frequency_recency_matrix,
    plot_incremental_transactions,
    plot_period_transactions,
    plot_probability_alive_matrix,
)

__all__ = [
    "plot_ahp_weights",
    "plot_calibration_purchases_vs_holdout_purchases",
    "plot_cumulative_transactions",
    "plot_frequency_recency_matrix",
    "plot_importance_performance",
    "plot_incremental_transactions",
    "plot_lifecycle_stages",
    "plot_period_transactions",
    "plot_portfolio",
    "plot_probability_alive_matrix",
    "plot_pyramid",
]
