"""Indicator trees: structure, weighting, global weights, hierarchy consistency, JSON, templates.

The composition and consistency are checked on Saaty's (1990, EJOR 48, 9-26) house example,
held as a two-level tree (goal -> eight criteria -> houses A, B, C under each): the houses'
global weights summed over the criteria give Saaty's overall priorities A 0.396, B 0.341,
C 0.263, and the hierarchy's consistency is composed from the published per-matrix values.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore import ConsistencyError, CRMError, InvalidValueError, SerializationError
from crmcore.satisfaction import (
    Direction,
    IndicatorTree,
    Node,
    Scale,
    ahp,
    logistics_customer_value_tree,
    logistics_satisfaction_tree,
    logistics_service_quality_tree,
    satisfaction_factors_tree,
)

from .test_ahp import HOUSE, HOUSE_ALTERNATIVES, HOUSE_CRITERIA


def house_tree() -> IndicatorTree:
    root = Node("house", children=tuple(
        Node(c, children=tuple(Node(f"{c}:{h}") for h in "ABC")) for c in HOUSE_CRITERIA
    ))
    tree = IndicatorTree(root).with_ahp(None, HOUSE, max_cr=None)
    for criterion, (matrix, _) in HOUSE_ALTERNATIVES.items():
        tree = tree.with_ahp(criterion, matrix, max_cr=None)
    return tree


def test_house_example_composed_through_the_tree() -> None:
    tree = house_tree()
    g = tree.global_weights()
    overall = [sum(g[f"{c}:{h}"] for c in HOUSE_CRITERIA) for h in "ABC"]
    np.testing.assert_allclose(overall, [0.396, 0.341, 0.263], atol=5e-4)
    assert tree.leaf_weights().sum() == pytest.approx(1.0)
    assert tree.node("house").weighting == "ahp-eigenvector"


def test_house_example_hierarchy_consistency() -> None:
    tree = house_tree()
    c = tree.consistency()
    assert [level.depth for level in c.levels] == [0, 1]
    assert c.levels[0].ratio == pytest.approx(0.169, abs=5e-4)
    # Level 1: sum_j w_j CI_j / sum_j w_j RI_j with the criteria weights and each houses
    # matrix's CI; every RI is 0.58 (n = 3), so the ratio is sum_j w_j CR_j.
    w = ahp(HOUSE, max_cr=None).weights
    cr = np.array([cr for _, cr in HOUSE_ALTERNATIVES.values()])
    assert c.levels[1].ratio == pytest.approx(float(w @ cr), abs=1e-3)
    assert c.cumulative_ratio == pytest.approx(c.levels[0].ratio + c.levels[1].ratio)
    ci0, ri0 = c.levels[0].weighted_ci, c.levels[0].weighted_ri
    assert ri0 == 1.41
    assert c.hierarchy_ratio == pytest.approx(
        (ci0 + c.levels[1].weighted_ci) / (ri0 + c.levels[1].weighted_ri))


def test_inconsistent_judgements_name_the_parent() -> None:
    tree = IndicatorTree(Node("house", children=tuple(Node(c) for c in HOUSE_CRITERIA)))
    with pytest.raises(ConsistencyError, match="pairwise matrix of 'house'.*0.169"):
        tree.with_ahp("house", HOUSE)


def small_tree() -> IndicatorTree:
    return IndicatorTree(Node("goal", children=(
        Node("a", children=(Node("a1", scale=(1, 5)), Node("a2", direction=Direction.COST,
                                                              scale=(1, 5)))),
        Node("b", scale=(0, 10)),
    )))


def test_structure() -> None:
    tree = small_tree()
    assert tree.leaves == ("a1", "a2", "b")
    assert tree.levels() == [["goal"], ["a", "b"], ["a1", "a2"]]
    assert tree.depth() == 2
    assert tree.node("a2").direction is Direction.COST
    assert tree.node("a1").scale == Scale(1, 5)
    assert tree.unweighted() == ["goal", "a"]


def test_weights_compose_down_the_tree() -> None:
    tree = (small_tree().with_weights(None, {"a": 3, "b": 1})
            .with_ahp("a", {("a1", "a2"): 3}))
    g = tree.global_weights()
    assert g == pytest.approx({"goal": 1, "a": 0.75, "b": 0.25, "a1": 0.5625, "a2": 0.1875})
    np.testing.assert_allclose(tree.leaf_weights(), [0.5625, 0.1875, 0.25])


def test_entropy_weights_follow_the_directions() -> None:
    data = np.array([[1, 10], [2, 10], [3, 40]])
    tree = small_tree().with_entropy("a", data).with_equal_weights()
    # a2 is a cost indicator: entropy of (1, 1, 0)/2 is ln 2 / ln 3 (see test_weights).
    e = np.log(2) / np.log(3)
    e1 = -(1 / 3 * np.log(1 / 3) + 2 / 3 * np.log(2 / 3)) / np.log(3)
    d = np.array([1 - e1, 1 - e])
    got = np.array([tree.node("a1").weight, tree.node("a2").weight], dtype=np.float64)
    np.testing.assert_allclose(got, d / d.sum())
    assert tree.node("a").weighting == "entropy"


def test_equal_weights_fill_only_what_is_missing() -> None:
    tree = small_tree().with_weights(None, [1, 3]).with_equal_weights()
    assert tree.node("a").weight == 0.25
    assert tree.node("a1").weight == 0.5
    overwritten = tree.with_equal_weights(overwrite=True)
    assert overwritten.node("a").weight == 0.5


def test_unweighted_tree_names_the_parents() -> None:
    with pytest.raises(CRMError, match="children of 'goal', 'a' have no weights"):
        small_tree().global_weights()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda t: t.with_weights(None, [1, 2, 3]), "3 weights given for the 2 children"),
        (lambda t: t.with_weights(None, {"a": 1}), r"missing: \['b'\]"),
        (lambda t: t.with_weights(None, {"a": 1, "b": 1, "c": 1}), r"unknown: \['c'\]"),
        (lambda t: t.with_weights(None, [1, -1]), "finite and >= 0"),
        (lambda t: t.with_weights("b", [1]), "'b' is a leaf"),
        (lambda t: t.with_weights("zz", [1]), "has no node 'zz'"),
        (lambda t: t.with_ahp("a", [[1, 2], [2, 1]]), "not reciprocal"),
        (lambda t: t.with_entropy("a", [[1, 2, 3]]), "one column per child"),
    ],
)
def test_weighting_errors(call: Any, message: str) -> None:
    with pytest.raises(InvalidValueError, match=message):
        call(small_tree())


def test_invalid_trees() -> None:
    with pytest.raises(InvalidValueError, match="'x' is used more than once"):
        IndicatorTree(Node("x", children=(Node("x"),)))
    with pytest.raises(InvalidValueError, match="only partly weighted"):
        IndicatorTree(Node("g", children=(Node("a", weight=1.0), Node("b"))))
    with pytest.raises(InvalidValueError, match="sum to 0.5, not 1"):
        IndicatorTree(Node("g", children=(Node("a", weight=0.25), Node("b", weight=0.25))))
    with pytest.raises(InvalidValueError, match="low .* must be below high"):
        Scale(5, 1)
    with pytest.raises(InvalidValueError, match="non-empty string"):
        Node("")


# -- JSON -----------------------------------------------------------------------------------------


def test_json_round_trip(tmp_path: Path) -> None:
    tree = house_tree()
    assert IndicatorTree.from_json(tree.to_json()) == tree
    path = tmp_path / "house.json"
    tree.save(path)
    assert IndicatorTree.load(path) == tree
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["crmcore"] == "indicator-tree"
    assert document["schema_version"] == 1


@st.composite
def trees(draw: Any) -> IndicatorTree:
    counter = iter(range(10_000))

    def node(depth: int) -> Node:
        name = f"n{next(counter)}"
        k = 0 if depth >= 3 else draw(st.integers(0, 3))
        children = tuple(node(depth + 1) for _ in range(k))
        scale = draw(st.none() | st.tuples(st.integers(-5, 5), st.integers(6, 10)))
        direction = draw(st.sampled_from(list(Direction)))
        return Node(name, label=draw(st.none() | st.text(max_size=5)), direction=direction,
                    scale=scale, children=children)

    tree = IndicatorTree(node(0))
    if draw(st.booleans()):
        tree = tree.with_equal_weights()
    return tree


@given(trees())
def test_any_tree_round_trips(tree: IndicatorTree) -> None:
    assert IndicatorTree.from_json(tree.to_json()) == tree


@given(trees())
def test_global_weights_of_leaves_sum_to_one(tree: IndicatorTree) -> None:
    weighted = tree.with_equal_weights()
    assert weighted.leaf_weights().sum() == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not valid JSON"),
        ('{"crmcore": "model", "schema_version": 1}', "expected a saved indicator-tree"),
        ('{"crmcore": "indicator-tree", "schema_version": 9, "root": {}}', "schema version 9"),
        ('{"crmcore": "indicator-tree", "schema_version": 1}', "exactly 'root'"),
        ('{"crmcore": "indicator-tree", "schema_version": 1, "root": {"name": "g", '
         '"colour": 1}}', "colour"),
        ('{"crmcore": "indicator-tree", "schema_version": 1, "root": {"name": "g", '
         '"direction": "sideways"}}', "direction"),
        ('{"crmcore": "indicator-tree", "schema_version": 1, "root": {"name": "g", '
         '"children": [{"name": "g"}]}}', "used more than once"),
    ],
)
def test_bad_json_is_named(text: str, message: str) -> None:
    with pytest.raises(SerializationError, match=message):
        IndicatorTree.from_json(text)


# -- templates from the seeds ---------------------------------------------------------------------


def test_seed_001_satisfaction_factors() -> None:
    tree = satisfaction_factors_tree()
    assert tree.leaves == ("enterprise", "product", "marketing-and-service", "communication",
                           "customer-care")
    assert all(leaf.scale == Scale(1, 5) for leaf in tree.leaf_nodes())


def test_seed_002_customer_value_x() -> None:
    tree = logistics_customer_value_tree()
    assert tree.levels()[1] == ["x1", "x2"]
    assert tree.leaves == ("X11", "X12", "X13", "X14", "X21", "X22")


def test_seed_002_service_quality_y() -> None:
    tree = logistics_service_quality_tree()
    assert tree.levels()[1] == ["Y1", "Y2", "Y3", "Y4", "Y5"]
    counts = [len(tree.node(f"Y{i}").children) for i in range(1, 6)]
    assert counts == [3, 2, 7, 9, 2]
    cost = {leaf.name for leaf in tree.leaf_nodes() if leaf.direction is Direction.COST}
    assert cost == {"Y21", "Y31", "Y45", "Y46", "Y48"}
    rated = logistics_service_quality_tree(rated=True, scale=(1, 5))
    assert all(leaf.direction is Direction.BENEFIT for leaf in rated.leaf_nodes())


def test_seed_002_satisfaction_z() -> None:
    tree = logistics_satisfaction_tree()
    assert tree.levels()[1] == ["Z1", "Z2", "Z3", "Z4", "Z5"]
    assert [len(tree.node(f"Z{i}").children) for i in range(1, 6)] == [5, 5, 0, 4, 5]
    assert len(tree.leaves) == 20
    assert tree.node("Z3").is_leaf
    assert all(leaf.direction is Direction.BENEFIT for leaf in tree.leaf_nodes())
    measured = logistics_satisfaction_tree(rated=False, scale=None)
    cost = {leaf.name for leaf in measured.leaf_nodes() if leaf.direction is Direction.COST}
    assert cost == {"Z11", "Z12", "Z54"}
