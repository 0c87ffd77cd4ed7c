"""The satisfaction plugin: models offered, the default, scoring and saving."""

from __future__ import annotations

import numpy as np
import pluggy
import pytest

import crmcore
from crmcore import CRMError, InvalidValueError
from crmcore._registry import DEFAULT_PLUGINS
from crmcore.satisfaction import (
    ACSIModel,
    FuzzySatisfactionIndex,
    IndicatorTree,
    Node,
    SatisfactionModel,
    WeightedSatisfactionIndex,
    logistics_satisfaction_tree,
)

PLUGIN = "crmcore.satisfaction._plugin"


@pytest.fixture
def manager() -> pluggy.PluginManager:
    """A manager with the satisfaction plugin only, so this package's tests do not depend on
    the state of the other built-in plugins."""
    others = [name for name in DEFAULT_PLUGINS if name != PLUGIN]
    return crmcore.get_plugin_manager(load_entry_points=False, disabled=others)


def test_registered_by_default() -> None:
    assert PLUGIN in DEFAULT_PLUGINS


def test_offers_and_default(manager: pluggy.PluginManager) -> None:
    assert crmcore.available_models("satisfaction", plugin_manager=manager) == [
        "acsi", "fuzzy", "weighted-index"]
    assert crmcore.default_model_name("satisfaction", plugin_manager=manager) == \
        "weighted-index"
    model = crmcore.get_model("satisfaction", plugin_manager=manager)
    assert isinstance(model, WeightedSatisfactionIndex)
    assert isinstance(model, SatisfactionModel)


def test_every_model_builds_with_defaults_and_scores(manager: pluggy.PluginManager) -> None:
    offers = crmcore.model_offers("satisfaction", plugin_manager=manager)
    for name, offer in offers.items():
        assert offer.plugin == PLUGIN
        model = offer.factory()
        assert isinstance(model, SatisfactionModel), name


def test_default_model_is_seed_001_with_equal_weights(manager: pluggy.PluginManager) -> None:
    model = crmcore.get_model("satisfaction", plugin_manager=manager)
    assert model.tree.leaves[0] == "enterprise"
    # (4 + 3 + 3 + 2 + 4) / 5 = 3.2 on 1-5 -> 55.
    np.testing.assert_allclose(model.score([[5, 4, 4, 3, 5], [1, 1, 1, 1, 1]]), [80.0, 0.0])


def test_models_with_a_tree(manager: pluggy.PluginManager) -> None:
    tree = logistics_satisfaction_tree().with_weights("Z", [4, 3, 1, 1, 1]) \
        .with_equal_weights()
    answers = np.random.default_rng(7).integers(1, 6, size=(9, 20))
    weighted = crmcore.get_model("satisfaction", "weighted-index", tree=tree,
                                 plugin_manager=manager)
    fuzzy = crmcore.get_model("satisfaction", "fuzzy", tree=tree, plugin_manager=manager)
    np.testing.assert_allclose(fuzzy.score(answers), weighted.score(answers))
    dominant = FuzzySatisfactionIndex(tree, operator="min-max").score(answers)
    assert np.all((dominant >= 0) & (dominant <= 100))
    assert weighted.evaluate(answers).overall == pytest.approx(weighted.score(answers).mean())


def test_acsi_model(manager: pluggy.PluginManager) -> None:
    model = crmcore.get_model("satisfaction", "acsi", plugin_manager=manager,
                              weights={"overall": 0.3, "expectations": 0.3, "ideal": 0.4})
    scores = model.score({"overall": [8, 10], "expectations": [7, 10], "ideal": [9, 10]})
    np.testing.assert_allclose(scores, [100 * 7.1 / 9, 100])
    assert isinstance(ACSIModel().score([[10, 10, 10]]), np.ndarray)


def test_weighted_model_round_trips_through_json() -> None:
    tree = logistics_satisfaction_tree().with_equal_weights()
    model = WeightedSatisfactionIndex(tree, missing="reweight")
    again = WeightedSatisfactionIndex.from_json(model.to_json())
    assert again.tree == model.tree
    assert again.missing == "reweight"
    answers = np.full((2, 20), 3.0)
    answers[0, 0] = np.nan
    np.testing.assert_allclose(again.score(answers), model.score(answers))
    observed = WeightedSatisfactionIndex(tree, scale="observed")
    assert WeightedSatisfactionIndex.from_json(observed.to_json()).scale == "observed"
    fixed = WeightedSatisfactionIndex(tree, scale=(0, 10))
    assert WeightedSatisfactionIndex.from_json(fixed.to_json()).scale == (0.0, 10.0)


def test_model_errors(manager: pluggy.PluginManager) -> None:
    unweighted = IndicatorTree(Node("g", children=(Node("a"), Node("b"))))
    with pytest.raises(CRMError, match="have no weights"):
        crmcore.get_model("satisfaction", tree=unweighted, plugin_manager=manager)
    with pytest.raises(InvalidValueError, match="tree must be an IndicatorTree"):
        WeightedSatisfactionIndex(tree="Z")  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="unknown fuzzy operator"):
        FuzzySatisfactionIndex(operator="max")  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="at least two distinct"):
        FuzzySatisfactionIndex(grades=[1])
    with pytest.raises(InvalidValueError, match="item 'enterprise' is missing"):
        FuzzySatisfactionIndex().score([[np.nan, 1, 1, 1, 1]])
    with pytest.raises(InvalidValueError, match="outside its scale"):
        WeightedSatisfactionIndex().score([[6, 1, 1, 1, 1]])
