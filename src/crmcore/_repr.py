"""Notebook display: a short plain ``__repr__`` and an HTML ``_repr_html_`` for result objects.

The classes (fitted models, :class:`crmcore.Scores`, segmentations, stage results, AHP results,
indicator trees) call these functions from two one-line methods, so the layout lives in one
place. Every piece of text that can come from data (ids, labels, names, column values) goes
through :func:`html.escape`; numbers are formatted here. Objects are read duck-typed, so this
core module imports no domain package.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "ahp_html",
    "ahp_text",
    "model_html",
    "scores_html",
    "scores_text",
    "segmentation_html",
    "segmentation_text",
    "stages_html",
    "stages_text",
    "tree_html",
    "tree_text",
]

_ROWS_SHOWN = 5
_STYLE = ("<style>.crmcore-repr table{border-collapse:collapse;margin:0.3em 0}"
          ".crmcore-repr th,.crmcore-repr td{padding:0.15em 0.6em;text-align:right}"
          ".crmcore-repr th:first-child,.crmcore-repr td:first-child{text-align:left}"
          ".crmcore-repr caption{text-align:left;font-weight:bold}</style>")


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _number(value: object, digits: int = 4) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        number = float(value)
        if math.isnan(number):
            return "–"
        if number != 0 and (abs(number) >= 1e7 or abs(number) < 1e-3):
            return f"{number:.{digits}g}"
        return f"{number:,.{digits}f}"
    if isinstance(value, np.datetime64):
        return str(np.datetime_as_string(value, unit="D"))
    return str(getattr(value, "value", value))


def _cell(value: object) -> str:
    return _e(_number(value))


def _table(headers: Sequence[str], rows: Iterable[Sequence[object]],
           caption: str | None = None) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>"
                   for row in rows)
    cap = f"<caption>{_e(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _facts(pairs: Iterable[tuple[str, object]]) -> str:
    return ("<table><tbody>" + "".join(f"<tr><th>{_e(k)}</th><td>{_cell(v)}</td></tr>"
                                       for k, v in pairs) + "</tbody></table>")


def _block(title: str, *parts: str) -> str:
    return (f"<div class='crmcore-repr'>{_STYLE}<div><strong>{_e(title)}</strong></div>"
            + "".join(parts) + "</div>")


# -- fitted models ----------------------------------------------------------------------------


def model_html(model: Any) -> str:
    """A likelihood model: hyperparameters, or its parameters with standard errors, the
    log-likelihood and whether it converged."""
    name = type(model).__name__
    hyper = model.get_params()
    if getattr(model, "_fit_state", None) is None:
        return _block(f"{name} (not fitted)", _facts(hyper.items()))
    summary = model.summary()
    pct = f"{100 * summary.level:g}%"
    rows = zip(summary.names, summary.estimates, summary.standard_errors, summary.lower,
               summary.upper, strict=True)
    facts = [("log-likelihood", summary.log_likelihood), ("AIC", summary.aic),
             ("BIC", summary.bic), ("customers", summary.n_obs),
             ("converged", summary.converged), ("time unit", model.time_unit_),
             *hyper.items()]
    return _block(f"{name} (fitted)",
                  _table(["parameter", "estimate", "std. error", f"lower {pct}",
                          f"upper {pct}"], rows), _facts(facts))


# -- scores -----------------------------------------------------------------------------------


def scores_text(scores: Any) -> str:
    """One line: customers, models, horizon, total current value."""
    horizon = "lifetime" if scores.horizon is None else f"{scores.horizon:g} {scores.time_unit}"
    total = float(np.sum(scores.current_value))
    return (f"<Scores: {len(scores):,} customers, {scores.model}, horizon {horizon}, "
            f"total current value {total:,.2f}>")


def scores_html(scores: Any) -> str:
    """The summary, then the first rows of every column."""
    summary = scores.summary()
    facts = [(field, getattr(summary, field)) for field in (
        "n_customers", "model", "time_unit", "horizon", "total_historical_value",
        "total_current_value", "total_potential_value", "n_potential_estimated",
        "mean_p_alive", "total_expected_purchases", "top_fifth_current_share",
        "mean_loyalty")]
    if summary.stage_counts:
        facts.append(("stages", ", ".join(f"{k} {v:,}" for k, v in
                                          sorted(summary.stage_counts.items()))))
    columns = scores.columns()
    shown = min(len(scores), _ROWS_SHOWN)
    rows = [[columns[c][i] for c in columns] for i in range(shown)]
    more = (f"<div>… {len(scores) - shown:,} more customers</div>"
            if len(scores) > shown else "")
    notes = "".join(f"<div>note: {_e(n)}</div>" for n in scores.notes)
    return _block(f"Scores: {len(scores):,} customers", _facts(facts),
                  _table(list(columns), rows, caption=f"first {shown} customers"), more, notes)


# -- segmentations ----------------------------------------------------------------------------


def _label(segment: Any) -> str:
    return str(getattr(segment, "value", segment))


def segmentation_text(segmentation: Any) -> str:
    """One line: scheme, customers, count per class."""
    counts = ", ".join(f"{_label(c)} {n:,}" for c, n in segmentation.counts().items())
    return f"<Segmentation {segmentation.scheme}: {len(segmentation):,} customers; {counts}>"


def segmentation_html(segmentation: Any) -> str:
    """One row per class: its term, count, shares of customers and of value; the cut-offs."""
    rows = []
    for row in segmentation.summary():
        segment = row.segment
        rows.append([_label(segment), getattr(segment, "term", ""), row.count,
                     row.customer_share, row.value, row.value_share])
    return _block(f"Segmentation {segmentation.scheme}: {len(segmentation):,} customers",
                  _table(["class", "term", "customers", "share of customers", "value",
                          "share of value"], rows),
                  _facts((f"cut-off: {k}", v) for k, v in segmentation.cut_offs.items()))


# -- lifecycle stages -------------------------------------------------------------------------


def stages_text(result: Any) -> str:
    """One line: customers, cut-off, count per stage."""
    counts = ", ".join(f"{stage.value} {n:,}" for stage, n in result.counts().items())
    as_of = np.datetime_as_string(result.as_of, unit="D")
    return f"<StageResult: {len(result):,} customers as of {as_of}; {counts}>"


def stages_html(result: Any) -> str:
    """Counts and shares per stage, and what the classification was based on."""
    counts, shares = result.counts(), result.shares()
    rows = [[stage.value, counts[stage], shares[stage]] for stage in counts]
    not_yet = int(np.sum(result.code < 0))
    facts: list[tuple[str, object]] = [
        ("as of", result.as_of), ("time unit", result.time_unit),
        ("trend and level measure", result.measure),
        ("P(alive) used", result.p_alive is not None),
        ("classifier", type(result.classifier).__name__)]
    if not_yet:
        facts.append(("not yet customers", not_yet))
    return _block(f"Lifecycle stages: {len(result):,} customers",
                  _table(["stage", "customers", "share"], rows), _facts(facts))


# -- AHP and indicator trees ------------------------------------------------------------------


def ahp_text(result: Any) -> str:
    """One line: the weights and the consistency ratio."""
    weights = ", ".join(f"{label} {w:.3f}" for label, w in
                        zip(result.labels[:6], result.weights[:6], strict=False))
    if result.n > 6:
        weights += ", …"
    verdict = "consistent" if result.is_consistent else "NOT consistent (CR > 0.1)"
    return (f"<AHPResult: {result.n} items, CR {result.consistency_ratio:.4f} "
            f"({verdict}); {weights}>")


def ahp_html(result: Any) -> str:
    """The weights, the pairwise matrix, and the consistency figures."""
    labels = list(result.labels)
    weights = _table(["item", "weight"], zip(labels, result.weights, strict=True))
    matrix = _table(["", *labels], ([label, *row] for label, row in
                                    zip(labels, result.matrix.tolist(), strict=True)),
                    caption="pairwise comparisons")
    facts = _facts([("λ max", result.lambda_max), ("CI", result.consistency_index),
                    ("RI", result.random_index), ("CR", result.consistency_ratio),
                    ("consistent (CR ≤ 0.1)", result.is_consistent),
                    ("method", result.method), ("RI table", result.ri)])
    return _block(f"AHP: {result.n} items", weights, facts, matrix)


def _global_weights(tree: Any) -> Mapping[str, float] | None:
    try:
        weights: Mapping[str, float] = tree.global_weights()
    except Exception:  # a tree not yet fully weighted has no global weights
        return None
    return weights


def tree_text(tree: Any) -> str:
    """One line: goal, depth, number of indicators, whether it is weighted."""
    weighted = "weighted" if not tree.unweighted() else (
        f"unweighted under {', '.join(tree.unweighted())}")
    return (f"<IndicatorTree {tree.root.name}: depth {tree.depth()}, "
            f"{len(tree.leaves)} indicators, {weighted}>")


def tree_html(tree: Any) -> str:
    """Every node, indented by depth, with its label, local and global weight."""
    global_weights = _global_weights(tree) or {}
    rows = []
    for depth, node in tree.root.walk():
        indent = "\u2003" * depth
        rows.append([indent + node.name, node.label or "", node.weight,
                     global_weights.get(node.name), node.weighting or ""])
    return _block(f"IndicatorTree {tree.root.name}: {len(tree.leaves)} indicators",
                  _table(["node", "label", "local weight", "global weight",
                          "children weighted by"], rows))
