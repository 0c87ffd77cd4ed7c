"""Notebook display: short plain reprs and escaped HTML for the result objects."""

from __future__ import annotations

import datetime as dt
import html.parser
from typing import Any

import numpy as np
import pytest

import crmcore
from crmcore.datasets import CDNOW_CALIBRATION_END, load_cdnow
from crmcore.lifecycle import classify
from crmcore.satisfaction import IndicatorTree, Node, ahp
from crmcore.value import BGNBD, GammaGamma, importance, pyramid

EVIL = "<script>alert('x')</script>"


class _Tags(html.parser.HTMLParser):
    """Collects tag names and text, to check that the HTML parses and what it says."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(markup: str) -> _Tags:
    parser = _Tags()
    parser.feed(markup)
    parser.close()
    return parser


def _short(text: str) -> None:
    assert "\n" not in text
    assert len(text) < 250


@pytest.fixture(scope="module")
def cdnow() -> tuple[Any, Any, BGNBD]:
    base = load_cdnow()
    split = base.calibration_holdout(CDNOW_CALIBRATION_END)
    return base, split, BGNBD().fit(split.calibration)


def test_fitted_model_shows_estimates_errors_and_convergence(cdnow: Any) -> None:
    _, _, model = cdnow
    _short(repr(model))
    parsed = _parse(model._repr_html_())
    text = " ".join(parsed.text)
    summary = model.summary()
    for name, estimate, se in zip(summary.names, summary.estimates, summary.standard_errors,
                                  strict=True):
        assert name in parsed.text
        assert f"{estimate:,.4f}" in text
        assert f"{se:,.4f}" in text
    assert f"{summary.log_likelihood:,.4f}" in text  # -9,582.4291
    assert "converged" in text
    assert "-9,582.4" in text  # Fader, Hardie & Lee (2005)
    assert "not fitted" in GammaGamma()._repr_html_()


def test_scores_show_summary_and_first_rows(cdnow: Any) -> None:
    _, split, _ = cdnow
    scores = crmcore.score(split.calibration, margin=0.3, discount_rate=0.002, time_unit="W",
                           horizon=52)
    _short(repr(scores))
    assert "2,357 customers" in repr(scores)
    parsed = _parse(scores._repr_html_())
    text = " ".join(parsed.text)
    assert "… 2,352 more customers" in text
    assert f"{scores.summary().total_current_value:,.4f}" in text
    assert parsed.tags.count("tr") < 40  # the summary and five rows, not the whole base


def test_scores_escape_customer_ids() -> None:
    log = [crmcore.Transaction(customer_id=cid, at=dt.datetime(2024, m, 1), amount=10.0)
           for cid in (EVIL, "b&c", "d", "e") for m in (1, 3, 5)]
    base = crmcore.CustomerBase.from_transactions(log, freq="D", time_unit="W")
    scores = crmcore.score(base, margin=0.3, discount_rate=0.0, time_unit="W", horizon=4,
                           value_model=BGNBD.from_params(r=0.5, alpha=5.0, a=0.8, b=2.0),
                           spend_model=12.0)
    markup = scores._repr_html_()
    assert EVIL not in markup
    assert html_escaped(EVIL) in markup
    assert "b&amp;c" in markup
    assert "script" not in _parse(markup).tags


def html_escaped(text: str) -> str:
    import html

    return html.escape(text, quote=True)


def test_segmentation_shows_counts_and_shares() -> None:
    rng = np.random.default_rng(1)
    segmentation = pyramid(rng.gamma(2.0, 50.0, 200), rng.gamma(1.5, 30.0, 200))
    _short(repr(segmentation))
    text = " ".join(_parse(segmentation._repr_html_()).text)
    for row in segmentation.summary():
        assert row.segment.value in text
        assert row.segment.term in text
        assert f"{row.count:,}" in text
    tiers = importance(rng.gamma(2.0, 50.0, 200))
    assert repr(tiers).startswith("<Segmentation importance: 200 customers; vip 10")


def test_stage_result_shows_counts(cdnow: Any) -> None:
    base, _, _ = cdnow
    result = classify(base)
    _short(repr(result))
    text = " ".join(_parse(result._repr_html_()).text)
    for stage, count in result.counts().items():
        assert f"{stage.value} {count:,}" in repr(result)
        assert stage.value in text
    assert "1998-06-30" in text


def test_ahp_result_escapes_labels() -> None:
    result = ahp(np.array([[1, 3, 5], [1 / 3, 1, 2], [1 / 5, 1 / 2, 1]]),
                 labels=[EVIL, "speed", "care"])
    _short(repr(result))
    markup = result._repr_html_()
    assert EVIL not in markup
    assert html_escaped(EVIL) in markup
    text = " ".join(_parse(markup).text)
    assert f"{result.consistency_ratio:.4f}" in text
    assert f"{result.weights[0]:.4f}" in text


def test_indicator_tree_shows_weights_and_escapes_labels() -> None:
    tree = IndicatorTree(Node("goal", label="overall", children=[
        Node("A", label=EVIL, children=[Node("a1"), Node("a2")]), Node("B")]))
    assert "unweighted" in repr(tree)
    assert EVIL not in tree._repr_html_()  # unweighted trees display too
    weighted = tree.with_weights(None, [0.6, 0.4]).with_weights("A", [0.5, 0.5])
    _short(repr(weighted))
    assert repr(weighted) == "<IndicatorTree goal: depth 2, 3 indicators, weighted>"
    markup = weighted._repr_html_()
    assert html_escaped(EVIL) in markup
    text = " ".join(_parse(markup).text)
    assert "0.3000" in text  # a1's global weight 0.6 x 0.5
