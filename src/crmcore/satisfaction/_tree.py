"""Indicator trees: goal -> criteria -> ... -> indicators, weighted level by level.

Each node holds its *local* weight among its siblings; weights are set per parent by any method
(AHP, entropy, given, equal) and composed down the tree into *global* weights,
:math:`W_{leaf} = \\prod_{\\text{ancestors}} w`, Saaty's (1980) hierarchic composition. When a
parent's children were weighted by AHP, the parent keeps that matrix's consistency, and the tree
reports the consistency of the whole hierarchy.

References
----------
Saaty, T. L. (1980). *The Analytic Hierarchy Process*. McGraw-Hill, New York (hierarchic
composition; consistency of a hierarchy).
Jiang Qiyuan 姜启源, Xie Jinxing & Ye Jun (2003). 数学模型 (Mathematical Models), 3rd ed.,
Higher Education Press, section 8.1 (the level-by-level total consistency ratio).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeAlias

import attrs
import cattrs
import numpy as np
import numpy.typing as npt
from cattrs.preconf.json import make_converter

from crmcore._errors import CRMError, InvalidValueError, SerializationError
from crmcore._serialization import dump_document, load_document
from crmcore.satisfaction._ahp import AHPMethod, ahp, pairwise_matrix
from crmcore.satisfaction._weights import entropy_weights, normalise_weights

__all__ = [
    "Direction",
    "HierarchyConsistency",
    "IndicatorTree",
    "LevelConsistency",
    "LocalConsistency",
    "Node",
    "Scale",
]

FloatArray: TypeAlias = npt.NDArray[np.float64]

_KIND = "indicator-tree"
_VERSION = 1


class Direction(enum.Enum):
    """Whether more of an indicator is better (benefit) or worse (cost)."""

    BENEFIT = "benefit"
    COST = "cost"


def _finite(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidValueError(f"{type(instance).__name__}.{attribute.name} must be a finite "
                                f"number, got {value!r}", field=attribute.name)


@attrs.frozen
class Scale:
    """The range answers (or measurements) of an indicator take, ``low`` < ``high``."""

    low: float = attrs.field(converter=float, validator=_finite)
    high: float = attrs.field(converter=float, validator=_finite)

    def __attrs_post_init__(self) -> None:
        if not self.low < self.high:
            raise InvalidValueError(f"Scale: low ({self.low:g}) must be below high "
                                    f"({self.high:g})", field="scale")


def _to_scale(value: Scale | Sequence[float] | None) -> Scale | None:
    if value is None or isinstance(value, Scale):
        return value
    low, high = value
    return Scale(low, high)


def _weight(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    _finite(instance, attribute, value)
    if value < 0:
        raise InvalidValueError(f"Node.weight must be >= 0, got {value!r}", field="weight")


def _name(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidValueError(f"Node.name must be a non-empty string, got {value!r}",
                                field="name")


def _children(value: Iterable[Node]) -> tuple[Node, ...]:
    return tuple(value)


@attrs.frozen
class LocalConsistency:
    """Consistency of the AHP matrix that weighted a node's children."""

    method: str
    ri: str
    n: int
    lambda_max: float
    consistency_index: float
    consistency_ratio: float
    random_index: float


@attrs.frozen
class Node:
    """One node of an indicator tree.

    Parameters
    ----------
    name:
        Identifier, unique in the tree (e.g. ``"Z21"``); survey answers are matched to leaves
        by it.
    label:
        Human-readable description.
    direction:
        :attr:`Direction.BENEFIT` (more is better) or :attr:`Direction.COST`.
    scale:
        The range of the indicator's answers, e.g. ``Scale(1, 5)`` for a five-point rating.
    weight:
        Local weight among its siblings (``None`` until the parent's children are weighted).
    weighting:
        How this node's children were weighted (``"ahp-eigenvector"``, ``"entropy"``,
        ``"given"``, ``"equal"``, ...).
    consistency:
        For AHP-weighted children, the consistency of their matrix.
    children:
        Sub-criteria or indicators; a node without children is a leaf (an indicator).
    """

    name: str = attrs.field(validator=_name)
    label: str | None = None
    direction: Direction = Direction.BENEFIT
    scale: Scale | None = attrs.field(default=None, converter=_to_scale)
    weight: float | None = attrs.field(default=None, validator=_weight)
    weighting: str | None = None
    consistency: LocalConsistency | None = None
    children: tuple[Node, ...] = attrs.field(default=(), converter=_children)

    @property
    def is_leaf(self) -> bool:
        """Whether the node is an indicator (has no children)."""
        return not self.children

    def walk(self, depth: int = 0) -> Iterator[tuple[int, Node]]:
        """Depth-first (pre-order) walk yielding ``(depth, node)``."""
        yield depth, self
        for child in self.children:
            yield from child.walk(depth + 1)


@attrs.frozen
class LevelConsistency:
    """Consistency of the matrices weighting one level of a hierarchy.

    ``weighted_ci`` = :math:`\\sum_j a_j CI_j` and ``weighted_ri`` = :math:`\\sum_j a_j RI_j`
    over the AHP-weighted parents ``j`` at ``depth``, with :math:`a_j` their global weights;
    ``ratio`` = weighted_ci / weighted_ri (0 when weighted_ri is 0).
    """

    depth: int
    weighted_ci: float
    weighted_ri: float
    ratio: float


@attrs.frozen
class HierarchyConsistency:
    """Consistency of a whole AHP hierarchy.

    Attributes
    ----------
    levels:
        One entry per depth that has AHP-weighted parents.
    cumulative_ratio:
        :math:`CR = \\sum_{levels} \\sum_j a_j CI_j / \\sum_j a_j RI_j`, the level-by-level
        total consistency ratio of Chinese AHP textbooks (Jiang et al. 2003, section 8.1);
        accept the hierarchy when it is below 0.1.
    hierarchy_ratio:
        :math:`\\sum_{levels}\\sum_j a_j CI_j / \\sum_{levels}\\sum_j a_j RI_j`, Saaty's (1980)
        consistency ratio of the hierarchy.
    """

    levels: tuple[LevelConsistency, ...]
    cumulative_ratio: float
    hierarchy_ratio: float


def _check_unique(root: Node) -> None:
    seen: set[str] = set()
    for _, node in root.walk():
        if node.name in seen:
            raise InvalidValueError(f"IndicatorTree: node name {node.name!r} is used more than "
                                    "once; names must be unique", field="name")
        seen.add(node.name)
        weights = [child.weight for child in node.children]
        given = [w for w in weights if w is not None]
        if given and len(given) != len(weights):
            raise InvalidValueError(
                f"IndicatorTree: children of {node.name!r} are only partly weighted; weight "
                "all siblings or none",
                field="weight",
            )
        if given and not math.isclose(math.fsum(given), 1.0, abs_tol=1e-6):
            raise InvalidValueError(
                f"IndicatorTree: weights of the children of {node.name!r} sum to "
                f"{math.fsum(given):.6g}, not 1",
                field="weight",
            )


_converter = make_converter(forbid_extra_keys=True)


@attrs.frozen
class IndicatorTree:
    """A hierarchy of indicators of any depth, with weights set level by level.

    Build one from :class:`Node` objects (or start from a template such as
    :func:`crmcore.satisfaction.logistics_satisfaction_tree`), weight each parent's children
    with :meth:`with_ahp`, :meth:`with_entropy`, :meth:`with_weights` or
    :meth:`with_equal_weights` (each returns a new tree), then read :meth:`global_weights`,
    :meth:`leaf_weights` and :meth:`consistency`. Trees are saved as JSON
    (:meth:`to_json`, :meth:`save`) and read back losslessly.
    """

    root: Node

    def __attrs_post_init__(self) -> None:
        _check_unique(self.root)

    def __repr__(self) -> str:
        from crmcore._repr import tree_text

        return tree_text(self)

    def _repr_html_(self) -> str:
        from crmcore._repr import tree_html

        return tree_html(self)

    # -- structure ----------------------------------------------------------------------------

    def nodes(self) -> list[Node]:
        """All nodes, depth-first."""
        return [node for _, node in self.root.walk()]

    @property
    def leaves(self) -> tuple[str, ...]:
        """Names of the indicators (leaves), depth-first: the column order of answers."""
        return tuple(node.name for _, node in self.root.walk() if node.is_leaf)

    def leaf_nodes(self) -> tuple[Node, ...]:
        """The indicator nodes, depth-first."""
        return tuple(node for _, node in self.root.walk() if node.is_leaf)

    def node(self, name: str) -> Node:
        """The node called ``name``.

        Raises
        ------
        InvalidValueError
            No node has that name.
        """
        for _, node in self.root.walk():
            if node.name == name:
                return node
        raise InvalidValueError(f"IndicatorTree has no node {name!r}; nodes: "
                                f"{', '.join(n.name for n in self.nodes())}", field="name")

    def depth(self) -> int:
        """Number of levels below the goal (0 for a lone goal)."""
        return max(d for d, _ in self.root.walk())

    def levels(self) -> list[list[str]]:
        """Node names by depth (index 0 is the goal)."""
        result: list[list[str]] = [[] for _ in range(self.depth() + 1)]
        for d, node in self.root.walk():
            result[d].append(node.name)
        return result

    def _replace(self, name: str, update: Any) -> IndicatorTree:
        found = False

        def rebuild(node: Node) -> Node:
            nonlocal found
            if node.name == name:
                found = True
                return update(node)  # type: ignore[no-any-return]
            if not node.children:
                return node
            return attrs.evolve(node, children=tuple(rebuild(c) for c in node.children))

        new_root = rebuild(self.root)
        if not found:
            self.node(name)  # raises, naming the nodes
        return IndicatorTree(new_root)

    def _parent(self, parent: str | None) -> Node:
        node = self.root if parent is None else self.node(parent)
        if node.is_leaf:
            raise InvalidValueError(f"node {node.name!r} is a leaf and has no children to "
                                    "weight", field="parent")
        return node

    # -- weighting ----------------------------------------------------------------------------

    def _set_weights(self, parent: Node, weights: FloatArray, weighting: str,
                     consistency: LocalConsistency | None) -> IndicatorTree:
        def update(node: Node) -> Node:
            children = tuple(attrs.evolve(child, weight=float(w))
                             for child, w in zip(node.children, weights, strict=True))
            return attrs.evolve(node, children=children, weighting=weighting,
                                consistency=consistency)

        return self._replace(parent.name, update)

    def _ordered(self, parent: Node, weights: Mapping[str, float] | Sequence[float] |
                 npt.ArrayLike) -> FloatArray:
        names = [child.name for child in parent.children]
        if isinstance(weights, Mapping):
            unknown = sorted(set(weights) - set(names))
            missing = [n for n in names if n not in weights]
            if unknown or missing:
                raise InvalidValueError(
                    f"weights for the children of {parent.name!r} must name exactly "
                    f"{names!r}" + (f"; unknown: {unknown!r}" if unknown else "")
                    + (f"; missing: {missing!r}" if missing else ""),
                    field="weights",
                )
            values: Any = [weights[n] for n in names]
        else:
            values = weights
        w = normalise_weights(values, name=f"weights of {parent.name!r}")
        if w.size != len(names):
            raise InvalidValueError(
                f"{w.size} weights given for the {len(names)} children of {parent.name!r} "
                f"({', '.join(names)})",
                field="weights",
            )
        return w

    def with_weights(
        self,
        parent: str | None,
        weights: Mapping[str, float] | Sequence[float] | npt.ArrayLike,
        *,
        weighting: str = "given",
    ) -> IndicatorTree:
        """Give the children of ``parent`` (``None``: the goal) weights, scaled to sum to 1.

        ``weights`` is a mapping child name -> weight or a sequence in child order.
        ``weighting`` records how they were obtained (e.g. ``"combined"``).
        """
        node = self._parent(parent)
        return self._set_weights(node, self._ordered(node, weights), weighting, None)

    def with_equal_weights(self, parent: str | None = None, *, overwrite: bool = False
                           ) -> IndicatorTree:
        """Equal weights for the children of every node under ``parent`` (``None``: the whole
        tree) whose children have no weights yet; ``overwrite=True`` replaces existing ones."""
        tree = self
        start = self.root if parent is None else self._parent(parent)
        targets = [node.name for _, node in start.walk()
                   if node.children and (overwrite or node.children[0].weight is None)]
        for name in targets:
            current = tree.node(name)
            k = len(current.children)
            tree = tree._set_weights(current, np.full(k, 1.0 / k), "equal", None)
        return tree

    def with_ahp(
        self,
        parent: str | None,
        matrix: npt.ArrayLike | Mapping[tuple[str, str], float],
        method: AHPMethod = "eigenvector",
        ri: str = "saaty1980",
        max_cr: float | None = 0.1,
    ) -> IndicatorTree:
        """Weight the children of ``parent`` by AHP (:func:`crmcore.satisfaction.ahp`).

        ``matrix`` is a pairwise matrix in child order, or judgements
        ``{(child_a, child_b): a_ab}`` by child name. The matrix's consistency is kept on the
        parent. Raises :class:`crmcore.ConsistencyError` (naming the parent) when CR exceeds
        ``max_cr``.
        """
        node = self._parent(parent)
        names = [child.name for child in node.children]
        if isinstance(matrix, Mapping):
            a, _ = pairwise_matrix(matrix, labels=names)
        else:
            a = np.asarray(matrix, dtype=np.float64)
        result = ahp(a, method=method, ri=ri, max_cr=max_cr, labels=names,
                     name=f"pairwise matrix of {node.name!r}")
        consistency = LocalConsistency(
            method=method, ri=ri, n=result.n, lambda_max=result.lambda_max,
            consistency_index=result.consistency_index,
            consistency_ratio=result.consistency_ratio, random_index=result.random_index,
        )
        return self._set_weights(node, result.weights, f"ahp-{method}", consistency)

    def with_entropy(self, parent: str | None, data: npt.ArrayLike) -> IndicatorTree:
        """Weight the children of ``parent`` by the entropy method
        (:func:`crmcore.satisfaction.entropy_weights`) on ``data``: rows are respondents or
        objects, columns the children in order; cost columns follow each child's direction."""
        node = self._parent(parent)
        cost = np.array([child.direction is Direction.COST for child in node.children])
        x = np.asarray(data, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != len(node.children):
            raise InvalidValueError(
                f"data for the children of {node.name!r} must have one column per child "
                f"({len(node.children)}), got shape {x.shape}",
                field="data",
            )
        result = entropy_weights(x, cost=cost)
        return self._set_weights(node, result.weights, "entropy", None)

    # -- reading weights ----------------------------------------------------------------------

    def unweighted(self) -> list[str]:
        """Names of the parents whose children have no weights yet."""
        return [node.name for _, node in self.root.walk()
                if node.children and node.children[0].weight is None]

    def _require_weights(self) -> None:
        missing = self.unweighted()
        if missing:
            raise InvalidValueError(
                "IndicatorTree: the children of "
                + ", ".join(repr(m) for m in missing[:5])
                + (f" (and {len(missing) - 5} more)" if len(missing) > 5 else "")
                + " have no weights; set them with with_ahp, with_entropy, with_weights or "
                "with_equal_weights",
                field="weights",
            )

    def global_weights(self) -> dict[str, float]:
        """Global weight of every node (the goal has 1): the product of local weights on the
        path from the goal (Saaty 1980, hierarchic composition).

        Raises
        ------
        InvalidValueError
            Some parent's children have no weights (the parents are named).
        """
        self._require_weights()
        out: dict[str, float] = {}

        def visit(node: Node, w: float) -> None:
            out[node.name] = w
            for child in node.children:
                visit(child, w * (child.weight if child.weight is not None else 0.0))

        visit(self.root, 1.0)
        return out

    def leaf_weights(self) -> FloatArray:
        """Global weights of the leaves, in :attr:`leaves` order (they sum to 1)."""
        g = self.global_weights()
        return np.array([g[name] for name in self.leaves], dtype=np.float64)

    def consistency(self) -> HierarchyConsistency:
        """Consistency of the whole hierarchy from the AHP-weighted parents.

        Parents weighted by other methods carry no consistency and are left out.
        """
        g = self.global_weights()
        by_depth: dict[int, list[tuple[float, LocalConsistency]]] = {}
        for d, node in self.root.walk():
            if node.consistency is not None:
                by_depth.setdefault(d, []).append((g[node.name], node.consistency))
        levels: list[LevelConsistency] = []
        for d in sorted(by_depth):
            ci = math.fsum(a * c.consistency_index for a, c in by_depth[d])
            ri = math.fsum(a * c.random_index for a, c in by_depth[d])
            levels.append(LevelConsistency(depth=d, weighted_ci=ci, weighted_ri=ri,
                                           ratio=ci / ri if ri > 0 else 0.0))
        total_ci = math.fsum(level.weighted_ci for level in levels)
        total_ri = math.fsum(level.weighted_ri for level in levels)
        return HierarchyConsistency(
            levels=tuple(levels),
            cumulative_ratio=math.fsum(level.ratio for level in levels),
            hierarchy_ratio=total_ci / total_ri if total_ri > 0 else 0.0,
        )

    # -- JSON ---------------------------------------------------------------------------------

    def to_json(self) -> str:
        """The tree as a JSON document (kind ``"indicator-tree"``, schema version 1)."""
        return dump_document(_KIND, _VERSION, {"root": _converter.unstructure(self.root)})

    @classmethod
    def from_json(cls, text: str | bytes) -> IndicatorTree:
        """Read a tree written by :meth:`to_json`.

        Raises
        ------
        SerializationError
            Not JSON, not an indicator tree, an unknown schema version, or fields that are
            missing, unknown or invalid (named in the message).
        """
        payload = load_document(text, _KIND, (_VERSION,))
        if set(payload) != {"root"}:
            raise SerializationError(f"saved indicator-tree must hold exactly 'root', found "
                                     f"{sorted(payload)!r}")
        try:
            root = _converter.structure(payload["root"], Node)
        except (cattrs.BaseValidationError, cattrs.ForbiddenExtraKeysError) as exc:
            details = "; ".join(cattrs.transform_error(exc, path="root"))
            raise SerializationError(f"JSON does not describe an indicator tree: {details}"
                                     ) from exc
        except (CRMError, TypeError, ValueError) as exc:
            raise SerializationError(f"JSON does not describe an indicator tree: {exc}"
                                     ) from exc
        try:
            return cls(root)
        except CRMError as exc:
            raise SerializationError(f"JSON does not describe a valid indicator tree: {exc}"
                                     ) from exc

    def save(self, path: str | Path) -> None:
        """Write :meth:`to_json` to ``path`` (UTF-8)."""
        Path(path).write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> IndicatorTree:
        """Read a tree saved by :meth:`save`."""
        return cls.from_json(Path(path).read_bytes())  # decoded (or refused) by from_json
