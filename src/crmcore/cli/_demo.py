"""``crmcore demo``: the main job on the bundled CDNOW data, printed as plain text tables.

Output goes to standard output, so it reads well in a terminal and in CI logs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

__all__ = ["demo"]


def _table(rows: Sequence[tuple[str, str]], out: TextIO, title: str) -> None:
    width = max(len(label) for label, _ in rows)
    out.write(f"\n{title}\n{'-' * len(title)}\n")
    for label, value in rows:
        out.write(f"  {label:<{width}}  {value}\n")


def _money(value: float) -> str:
    return f"${value:,.0f}"


def demo(out: TextIO) -> int:
    """Load CDNOW, fit the default value and spend models on the 39-week calibration period,
    check them on the holdout, score every customer and segment the base."""
    import numpy as np

    import crmcore
    from crmcore._time import unit_name
    from crmcore.datasets import CDNOW_CALIBRATION_END, load_cdnow
    from crmcore.value import importance, rfm_scores, rfm_segments

    base = load_cdnow()
    split = base.calibration_holdout(CDNOW_CALIBRATION_END)
    calibration = split.calibration
    unit = calibration.time_unit
    out.write("crmcore demo: the CDNOW 1/10 sample (Fader, Hardie & Lee 2005)\n")
    repeaters = calibration.frequency > 0
    _table(
        [
            ("customers", f"{len(calibration):,}"),
            ("calibration", f"first purchases in Q1 1997 to {CDNOW_CALIBRATION_END}; holdout "
                            f"{split.duration_holdout:.0f} weeks more"),
            ("repeat buyers (calibration)", f"{int(repeaters.sum()):,} "
                                            f"({repeaters.mean():.1%})"),
            ("repeat purchases (calibration)", f"{int(calibration.frequency.sum()):,}"),
            ("mean repeat spend of repeaters",
             f"${calibration.monetary_value[repeaters].mean():.2f}"),
        ],
        out,
        "Customer base",
    )

    # The settings of this run, stated rather than defaulted: a 30% contribution margin,
    # 0.2% discount per week (about 11% a year), value over the next 52 weeks.
    margin, weekly_rate, horizon = 0.3, 0.002, 52.0
    manager = crmcore.get_plugin_manager()
    purchases = crmcore.get_model("value", plugin_manager=manager).fit(calibration)
    scores = crmcore.score(calibration, margin=margin, discount_rate=weekly_rate,
                           time_unit="W", horizon=horizon, value_model=purchases,
                           plugin_manager=manager)
    out.write(f"\nPurchase model (published: r 0.243, alpha 4.414, a 0.793, b 2.426, "
              f"LL -9582.4)\n{purchases.summary()}\n")
    predicted = purchases.expected_purchases(split.duration_holdout, calibration)
    _table(
        [
            ("predicted", f"{predicted.sum():,.0f}"),
            ("actual", f"{int(split.frequency_holdout.sum()):,}"),
        ],
        out,
        f"Repeat purchases in the {split.duration_holdout:.0f}-week holdout",
    )

    summary = scores.summary()
    _table(
        [
            ("models", summary.model),
            ("settings", f"margin {margin:.0%}, discount {weekly_rate:.1%} per week, "
                         f"horizon {horizon:.0f} weeks"),
            ("historical value (realised, compounded)",
             _money(summary.total_historical_value or float("nan"))),
            ("current value (next 52 weeks)", _money(summary.total_current_value)),
            ("potential value", _money(summary.total_potential_value)
             if summary.total_potential_value is not None else "not estimated ("
             + "; ".join(n for n in scores.notes if "potential" in n) + ")"),
            ("mean P(alive)", f"{summary.mean_p_alive:.3f}"),
            ("current value held by the top fifth",
             f"{summary.top_fifth_current_share:.1%}" if summary.top_fifth_current_share
             is not None else "n/a"),
            ("lifecycle stages", ", ".join(f"{k.lower()} {v:,}" for k, v in
                                           sorted((summary.stage_counts or {}).items()))),
            ("mean loyalty index (0-100)", f"{summary.mean_loyalty:.1f}"
             if summary.mean_loyalty is not None else "n/a"),
        ],
        out,
        f"Scores ({len(scores):,} customers)",
    )

    top = np.argsort(-scores.clv, kind="stable")[:10]
    out.write("\nTop ten customers by current value\n" + "-" * 34 + "\n")
    out.write(f"  {'id':>6} {'repeats':>8} {'P(alive)':>9} {'E[purchases]':>13} "
              f"{'current':>9} {'historical':>11} {'stage':>12} {'loyalty':>8}\n")
    expected = scores.expected_purchases
    for i in top:
        stage = "" if scores.stage is None else str(scores.stage[i] or "")
        loyalty = float("nan") if scores.loyalty is None else float(scores.loyalty[i])
        out.write(
            f"  {calibration.customer_id[i]:>6} {calibration.frequency[i]:>8} "
            f"{scores.p_alive[i]:>9.3f} "
            f"{(float('nan') if expected is None else expected[i]):>13.2f} "
            f"{_money(scores.clv[i]):>9} {_money(scores.historical_value[i]):>11} "
            f"{stage:>12} {loyalty:>8.1f}\n"
        )

    tiers = importance(scores.current_value)
    tier_shares = tiers.value_shares() or {}
    rows = [(f"{tier.name.lower()} ({tier.term})",
             f"{count:,} customers, {tier_shares.get(tier, 0.0):.1%} of current value")
            for tier, count in tiers.counts().items()]
    _table(rows, out, "Importance tiers")

    recency_gap = calibration.T - calibration.recency
    rfm = rfm_segments(rfm_scores(recency_gap, calibration.frequency,
                                  calibration.total_spend if calibration.total_spend is not None
                                  else calibration.monetary_value),
                       value=calibration.total_spend)
    shares = rfm.value_shares() or {}
    rows = [(f"{segment.name.lower()}",
             f"{count:,} customers, {shares.get(segment, 0.0):.1%} of spend")
            for segment, count in rfm.counts().items() if count]
    _table(rows, out, "RFM segments")
    out.write(f"\nTimes are in {unit_name(unit)}s, money in dollars; docs/ explains each model.\n")
    return 0
