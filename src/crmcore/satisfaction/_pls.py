"""PLS path modelling (Wold 1982; Lohmöller 1989) and the ACSI model estimated with it.

The algorithm is the one set out by Tenenhaus, Esposito Vinzi, Chatelin & Lauro (2004):
latent variables are estimated alternately as weighted sums of their own
indicators (outer estimation, mode A or B) and of their neighbours in the path diagram (inner
estimation, centroid, factorial or path weighting scheme) until the outer weights stop
changing; path coefficients are then ordinary least squares regressions between the latent
variable scores.

References
----------
Wold, H. (1982). Soft modeling: the basic design and some extensions. In K. G. Jöreskog &
H. Wold (eds.), *Systems under indirect observation*, part II, 1-54. North-Holland.
Lohmöller, J.-B. (1989). *Latent variable path modeling with partial least squares*.
Physica-Verlag.
Tenenhaus, M., Esposito Vinzi, V., Chatelin, Y.-M. & Lauro, C. (2004). PLS path modeling.
*Computational Statistics & Data Analysis* 48(1), 159-205.
Fornell, C., Johnson, M. D., Anderson, E. W., Cha, J. & Bryant, B. E. (1996). The American
Customer Satisfaction Index: nature, purpose, and findings. *Journal of Marketing* 60(4), 7-18.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeAlias

import attrs
import numpy as np
import numpy.typing as npt

from crmcore._errors import (
    ConvergenceError,
    DataError,
    InvalidValueError,
    SerializationError,
    UnknownIndicatorError,
    describe_rows,
)
from crmcore._serialization import dump_document, load_document
from crmcore.satisfaction._indices import acsi_index

__all__ = [
    "ACSI_CONSTRUCTS",
    "ACSI_PATHS",
    "ACSIResult",
    "PLSPathResult",
    "PLSScheme",
    "acsi_model",
    "pls_path_model",
]

FloatArray: TypeAlias = npt.NDArray[np.float64]
PLSScheme: TypeAlias = Literal["centroid", "factorial", "path"]
Mode: TypeAlias = Literal["A", "B"]
Paths: TypeAlias = Any
"""A square 0/1 matrix (row = explained latent variable, column = explanatory one, lower
triangular in block order), a mapping explained -> its explanatory latent variables, or a
sequence of ``(from, to)`` pairs."""

_SCHEMES: tuple[str, ...] = ("centroid", "factorial", "path")


# -- the result ------------------------------------------------------------------------------------


@attrs.frozen(eq=False)
class PLSPathResult:
    """A fitted PLS path model (Tenenhaus et al. 2004).

    Attributes
    ----------
    latent:
        The latent variables, in block order.
    indicators:
        The manifest variables (indicators), block after block.
    blocks:
        Latent variable -> its indicators.
    modes:
        Latent variable -> ``"A"`` (reflective) or ``"B"`` (formative).
    scheme:
        The inner weighting scheme.
    scaled:
        Whether the indicators were standardised (else only centred).
    paths:
        ``(m, m)`` 0/1 matrix, ``paths[i, j] = 1`` when latent variable ``j`` explains ``i``.
    weights:
        Outer weights, one per indicator: latent variable score
        :math:`Y_j = \\sum_h w_{jh} \\tilde x_{jh}` on the treated (centred and, if ``scaled``,
        standardised) indicators :math:`\\tilde x`, normalised so that every score has unit
        variance.
    loadings:
        Correlation of each indicator with its own latent variable.
    cross_loadings:
        ``(p, m)`` correlation of each indicator with every latent variable.
    scores:
        ``(n, m)`` latent variable scores (mean 0, variance 1 with divisor n).
    path_coefficients:
        ``(m, m)`` standardised regression coefficients, same layout as ``paths``.
    r_squared:
        Endogenous latent variable -> R² of its regression on its explanatory variables.
    means, scales:
        Indicator means and the divisors used to standardise them (population standard
        deviation if ``scaled``, else 1).
    iterations:
        Iterations run.
    converged:
        Whether the outer weights changed by less than ``tol`` in the last iteration
        (always true for a returned result: non-convergence raises).
    criterion:
        The largest absolute change of an outer weight in the last iteration.
    """

    latent: tuple[str, ...]
    indicators: tuple[str, ...]
    blocks: dict[str, tuple[str, ...]]
    modes: dict[str, str]
    scheme: str
    scaled: bool
    paths: npt.NDArray[np.int64]
    weights: FloatArray
    loadings: FloatArray
    cross_loadings: FloatArray
    scores: FloatArray
    path_coefficients: FloatArray
    r_squared: dict[str, float]
    means: FloatArray
    scales: FloatArray
    iterations: int
    converged: bool
    criterion: float

    def _slice(self, block: str) -> slice:
        if block not in self.blocks:
            raise UnknownIndicatorError(block, self.latent, field="block",
                                        noun="latent variable")
        start = 0
        for name in self.latent:
            size = len(self.blocks[name])
            if name == block:
                return slice(start, start + size)
            start += size
        raise AssertionError("unreachable")  # pragma: no cover

    def outer_weights(self, block: str) -> dict[str, float]:
        """Indicator -> outer weight for one latent variable (see ``weights``)."""
        part = self._slice(block)
        return dict(zip(self.indicators[part], self.weights[part].tolist(), strict=True))

    def block_loadings(self, block: str) -> dict[str, float]:
        """Indicator -> loading for one latent variable."""
        part = self._slice(block)
        return dict(zip(self.indicators[part], self.loadings[part].tolist(), strict=True))

    def unstandardised_weights(self, block: str) -> dict[str, float]:
        """Indicator -> weight on the indicator's own (answer) scale.

        The score is :math:`Y_j = \\sum_h w_{jh} (x_{jh} - \\bar x_{jh}) / s_{jh}`, so the weight
        of the raw answer :math:`x_{jh}` is :math:`w_{jh} / s_{jh}` (Tenenhaus et al. 2004;
        Fornell et al. 1996).
        """
        part = self._slice(block)
        raw = self.weights[part] / self.scales[part]
        return dict(zip(self.indicators[part], raw.tolist(), strict=True))

    def score(self, block: str) -> FloatArray:
        """The standardised scores of one latent variable."""
        self._slice(block)
        return np.asarray(self.scores[:, self.latent.index(block)], dtype=np.float64)

    @property
    def communality(self) -> FloatArray:
        """Squared loadings: the share of each indicator's variance its latent variable
        explains."""
        return np.asarray(self.loadings**2, dtype=np.float64)

    @property
    def goodness_of_fit(self) -> float:
        """The global criterion of goodness of fit:
        :math:`GoF = \\sqrt{\\overline{\\text{communality}} \\times \\overline{R^2}}`, the mean
        communality over the indicators of blocks with more than one indicator and the mean R²
        over the endogenous latent variables.

        Raises
        ------
        InvalidValueError
            When every block has a single indicator or no latent variable is endogenous.
        """
        multi = np.concatenate([np.full(len(self.blocks[lv]), len(self.blocks[lv]) > 1)
                                for lv in self.latent])
        if not multi.any() or not self.r_squared:
            raise InvalidValueError("goodness of fit needs a block with several indicators "
                                    "and an endogenous latent variable", field="blocks")
        return math.sqrt(float(self.communality[multi].mean())
                         * float(np.mean(list(self.r_squared.values()))))

    def transform(self, data: Any, *, columns: Sequence[str] | None = None) -> FloatArray:
        """Latent variable scores of (new) respondents with the fitted weights.

        The answers are centred and scaled with the *fitted* means and standard deviations, so
        a new wave of the survey lands on the scale of the one the model was fitted on; for
        the fitting data this gives ``scores`` back.

        Raises
        ------
        UnknownIndicatorError
            An indicator of the model missing from ``data``.
        InvalidValueError
            Missing (NaN) or infinite answers.
        """
        table = _Columns(data, columns)
        x = table.take([_column(table.names, item, "data") for item in self.indicators])
        bad = ~np.isfinite(x)
        if bad.any():
            col = int(np.flatnonzero(bad.any(axis=0))[0])
            rows = np.flatnonzero(bad[:, col]).tolist()
            raise InvalidValueError(
                f"data: indicator {self.indicators[col]!r} is missing (NaN) or infinite in "
                f"{describe_rows(rows)}", field=f"data[{self.indicators[col]!r}]", rows=rows)
        member = np.concatenate([np.full(len(self.blocks[lv]), j)
                                 for j, lv in enumerate(self.latent)])
        return _scores((x - self.means) / self.scales, self.weights, member, len(self.latent))

    def to_json(self) -> str:
        """The fitted model as JSON (schema version 1); :meth:`from_json` reads it back."""
        return dump_document("PLSPathResult", 1, {
            "latent": list(self.latent),
            "blocks": {lv: list(items) for lv, items in self.blocks.items()},
            "modes": dict(self.modes),
            "scheme": self.scheme,
            "scaled": self.scaled,
            "paths": self.paths.tolist(),
            "weights": self.weights.tolist(),
            "loadings": self.loadings.tolist(),
            "cross_loadings": self.cross_loadings.tolist(),
            "scores": self.scores.tolist(),
            "path_coefficients": self.path_coefficients.tolist(),
            "r_squared": dict(self.r_squared),
            "means": self.means.tolist(),
            "scales": self.scales.tolist(),
            "iterations": self.iterations,
            "converged": self.converged,
            "criterion": self.criterion,
        })

    @classmethod
    def from_json(cls, text: str | bytes) -> PLSPathResult:
        """Read a model written by :meth:`to_json`.

        Raises
        ------
        SerializationError
            Not a saved PLS path model, another schema version, or fields missing, extra or
            of the wrong shape.
        """
        payload = load_document(text, "PLSPathResult", (1,))
        expected = {"latent", "blocks", "modes", "scheme", "scaled", "paths", "weights",
                    "loadings", "cross_loadings", "scores", "path_coefficients", "r_squared",
                    "means", "scales", "iterations", "converged", "criterion"}
        if set(payload) != expected:
            raise SerializationError(
                f"saved PLSPathResult: expected fields {sorted(expected)}, missing "
                f"{sorted(expected - set(payload))}, unexpected {sorted(set(payload) - expected)}")
        try:
            latent = tuple(str(lv) for lv in payload["latent"])
            blocks = {str(lv): tuple(str(i) for i in payload["blocks"][lv]) for lv in latent}
            indicators = tuple(i for lv in latent for i in blocks[lv])
            m, p = len(latent), len(indicators)
            result = cls(
                latent=latent,
                indicators=indicators,
                blocks=blocks,
                modes={lv: str(payload["modes"][lv]) for lv in latent},
                scheme=str(payload["scheme"]),
                scaled=bool(payload["scaled"]),
                paths=np.asarray(payload["paths"], dtype=np.int64).reshape(m, m),
                weights=np.asarray(payload["weights"], dtype=np.float64).reshape(p),
                loadings=np.asarray(payload["loadings"], dtype=np.float64).reshape(p),
                cross_loadings=np.asarray(payload["cross_loadings"],
                                          dtype=np.float64).reshape(p, m),
                scores=np.asarray(payload["scores"], dtype=np.float64).reshape(-1, m),
                path_coefficients=np.asarray(payload["path_coefficients"],
                                             dtype=np.float64).reshape(m, m),
                r_squared={str(k): float(v) for k, v in payload["r_squared"].items()},
                means=np.asarray(payload["means"], dtype=np.float64).reshape(p),
                scales=np.asarray(payload["scales"], dtype=np.float64).reshape(p),
                iterations=int(payload["iterations"]),
                converged=bool(payload["converged"]),
                criterion=float(payload["criterion"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SerializationError(f"saved PLSPathResult is malformed: {exc!r}") from exc
        return result

    def index(self, data: Any, block: str, scale: tuple[float, float] = (1, 10), *,
              columns: Sequence[str] | None = None) -> FloatArray:
        """The ACSI-form 0-100 index of one latent variable per respondent.

        The answers are weighted with the normalised unstandardised weights
        (:meth:`unstandardised_weights`) and rescaled from the answer scale, as in the ACSI
        (Fornell et al. 1996):
        :math:`100 \\sum_h \\hat w_h (x_h - low) / (high - low)` with
        :math:`\\hat w_h = (w_h/s_h) / \\sum_k (w_k/s_k)`; see
        :func:`crmcore.satisfaction.acsi_index`.

        Raises
        ------
        InvalidValueError
            A block with a negative unstandardised weight (the index is then not a weighted
            mean of the answers), or answers outside ``scale``.
        UnknownIndicatorError
            The block's indicators are not in ``data`` (named as in the fit; ``columns`` names
            the columns of an array).
        """
        raw = self.unstandardised_weights(block)
        negative = [name for name, w in raw.items() if w < 0]
        if negative:
            raise InvalidValueError(
                f"block {block!r}: negative outer weights for {', '.join(negative)}; the "
                "index needs indicators that all measure the construct in the same direction",
                field="block")
        table = _Columns(data, columns)
        picked = [_column(table.names, item, "data") for item in raw]
        return acsi_index(table.take(picked), list(raw.values()), scale=scale).per_respondent


# -- reading and checking the input ----------------------------------------------------------------


class _Columns:
    """Column names of the input, and its columns as floats on demand (so that other columns,
    such as respondent ids, may hold anything)."""

    def __init__(self, data: Any, columns: Sequence[str] | None) -> None:
        self._frame: Any = None
        self._mapping: Mapping[Any, Any] | None = None
        self._array: FloatArray | None = None
        if isinstance(data, Mapping):
            self._mapping = data
            self._keys = list(data)
            names = tuple(str(k) for k in data)
        elif hasattr(data, "columns") and not isinstance(data, np.ndarray):
            import narwhals.stable.v2 as nw

            try:
                self._frame = nw.from_native(data, eager_only=True)
            except TypeError:
                raise DataError(f"data: cannot read a {type(data).__name__}",
                                field="data") from None
            names = tuple(str(c) for c in self._frame.columns)
            self._keys = list(self._frame.columns)
        else:
            try:
                x = np.array(data, dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise InvalidValueError(f"data: values must be numbers: {exc}",
                                        field="data") from exc
            if x.ndim != 2:
                raise InvalidValueError(f"data: expected a respondents x indicators matrix, "
                                        f"got shape {x.shape}", field="data")
            self._array = x
            if columns is None:
                names = tuple(str(i) for i in range(x.shape[1]))
            else:
                names = tuple(str(c) for c in columns)
                if len(names) != x.shape[1]:
                    raise InvalidValueError(f"columns: {len(names)} names for {x.shape[1]} "
                                            "columns of data", field="columns")
        self.names = names

    def take(self, positions: Sequence[int]) -> FloatArray:
        """The columns at ``positions`` as an ``(n, k)`` float matrix."""
        if self._array is not None:
            return np.asarray(self._array[:, list(positions)], dtype=np.float64)
        cols: list[FloatArray] = []
        for pos in positions:
            key = self._keys[pos]
            try:
                values = (self._frame[key].to_numpy() if self._frame is not None
                          else self._mapping[key])  # type: ignore[index]
                cols.append(np.asarray(values, dtype=np.float64).reshape(-1))
            except (TypeError, ValueError) as exc:
                raise InvalidValueError(f"data[{self.names[pos]!r}]: values must be numbers: "
                                        f"{exc}", field=f"data[{self.names[pos]!r}]") from exc
        lengths = sorted({c.size for c in cols})
        if len(lengths) > 1:
            raise InvalidValueError(f"data: columns have different lengths {lengths}",
                                    field="data")
        return np.column_stack(cols)


def _column(names: tuple[str, ...], item: object, field: str) -> int:
    if isinstance(item, (int, np.integer)) and not isinstance(item, bool):
        if 0 <= int(item) < len(names) and names[int(item)] == str(int(item)):
            return int(item)
    elif str(item) in names:
        return names.index(str(item))
    raise UnknownIndicatorError(item, names, field=field)


def _path_matrix(paths: Paths, latent: tuple[str, ...]) -> npt.NDArray[np.int64]:
    m = len(latent)
    if isinstance(paths, Mapping) or (
        isinstance(paths, Sequence) and paths and all(
            isinstance(p, tuple) and len(p) == 2 and all(isinstance(q, str) for q in p)
            for p in paths)
    ):
        pairs: list[tuple[object, object]] = (
            [(src, dst) for dst, srcs in paths.items()
             for src in ([srcs] if isinstance(srcs, str) else srcs)]
            if isinstance(paths, Mapping) else list(paths)
        )
        p = np.zeros((m, m), dtype=np.int64)
        for src, dst in pairs:
            for name in (src, dst):
                if name not in latent:
                    raise UnknownIndicatorError(name, latent, field="paths",
                                                noun="latent variable")
            if src == dst:
                raise InvalidValueError(f"paths: {src!r} cannot explain itself", field="paths")
            p[latent.index(str(dst)), latent.index(str(src))] = 1
        cycle = _find_cycle(p, latent)
        if cycle:
            raise InvalidValueError(f"paths: the model must be recursive (acyclic); it has "
                                    f"the cycle {' -> '.join(cycle)}", field="paths")
        return p
    try:
        raw = np.array(paths, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidValueError(f"paths: not a 0/1 matrix: {exc}", field="paths") from exc
    if raw.shape != (m, m):
        raise InvalidValueError(f"paths: expected a {m} x {m} matrix (one row and column per "
                                f"block: {', '.join(latent)}), got shape {raw.shape}",
                                field="paths")
    if not np.isin(raw, (0.0, 1.0)).all():
        raise InvalidValueError("paths: entries must be 0 or 1", field="paths")
    upper = np.argwhere(np.triu(raw) != 0)
    if len(upper):
        i, j = (int(v) for v in upper[0])
        raise InvalidValueError(
            f"paths: the matrix must be lower triangular in block order (row = explained, "
            f"column = explanatory); entry [{latent[i]!r}, {latent[j]!r}] is on or above the "
            "diagonal", field="paths")
    return raw.astype(np.int64)


def _find_cycle(p: npt.NDArray[np.int64], latent: tuple[str, ...]) -> list[str]:
    """A cycle in the graph source -> target, or an empty list (depth-first search)."""
    m = len(latent)
    state = [0] * m  # 0 new, 1 on the stack, 2 done
    stack: list[int] = []

    def visit(v: int) -> list[str]:
        state[v] = 1
        stack.append(v)
        for w in np.flatnonzero(p[:, v]).tolist():
            if state[w] == 1:
                loop = [*stack[stack.index(w):], w]
                return [latent[k] for k in loop]
            if state[w] == 0:
                found = visit(w)
                if found:
                    return found
        stack.pop()
        state[v] = 2
        return []

    for v in range(m):
        if state[v] == 0:
            found = visit(v)
            if found:
                return found
    return []


def _modes(modes: Mode | Mapping[str, Mode] | Sequence[Mode] | None,
           latent: tuple[str, ...]) -> dict[str, str]:
    if modes is None:
        out = dict.fromkeys(latent, "A")
    elif isinstance(modes, str):
        out = dict.fromkeys(latent, modes)
    elif isinstance(modes, Mapping):
        for name in modes:
            if name not in latent:
                raise UnknownIndicatorError(name, latent, field="modes", noun="latent variable")
        out = {lv: str(modes.get(lv, "A")) for lv in latent}
    else:
        seq = list(modes)
        if len(seq) != len(latent):
            raise InvalidValueError(f"modes: {len(seq)} modes for {len(latent)} blocks",
                                    field="modes")
        out = dict(zip(latent, (str(s) for s in seq), strict=True))
    for lv, mode in out.items():
        if mode not in ("A", "B"):
            raise InvalidValueError(f"modes: block {lv!r} has mode {mode!r}; use 'A' "
                                    "(reflective) or 'B' (formative)", field="modes")
    return out


# -- the algorithm ---------------------------------------------------------------------------------


def _inner_weights(y: FloatArray, p: npt.NDArray[np.int64], scheme: str) -> FloatArray:
    """``E`` with ``Z = Y E`` (Tenenhaus et al. 2004; Lohmöller 1989)."""
    n = y.shape[0]
    cor = (y.T @ y) / n
    adjacent = (p + p.T) != 0
    if scheme == "centroid":
        return np.where(adjacent, np.sign(cor), 0.0)
    if scheme == "factorial":
        return np.where(adjacent, cor, 0.0)
    # path weighting: followers (latent variables j explains) weigh in with their
    # correlation, predecessors with their multiple-regression coefficient on Y_j
    e = np.where(p != 0, cor, 0.0)  # e[k, j] = cor for k explained by j
    for j in np.flatnonzero(p.any(axis=1)).tolist():
        pred = np.flatnonzero(p[j])
        coef, *_ = np.linalg.lstsq(y[:, pred], y[:, j], rcond=None)
        e[pred, j] = coef
    return np.asarray(e, dtype=np.float64)


def _outer_weights(x: FloatArray, z: FloatArray, membership: npt.NDArray[np.int64],
                   modes: Sequence[str], latent: tuple[str, ...]) -> FloatArray:
    n = x.shape[0]
    # mode A: covariance of each indicator with its block's inner estimate
    w = np.einsum("ih,ih->h", x, z[:, membership]) / n
    for j, mode in enumerate(modes):
        if mode == "B":
            cols = np.flatnonzero(membership == j)
            coef, _, rank, _ = np.linalg.lstsq(x[:, cols], z[:, j], rcond=None)
            if rank < cols.size:
                raise InvalidValueError(
                    f"block {latent[j]!r}: mode B needs indicators that are not collinear "
                    f"(rank {rank} of {cols.size})", field="modes")
            w[cols] = coef
    return np.asarray(w, dtype=np.float64)


def _normalise(x: FloatArray, w: FloatArray, membership: npt.NDArray[np.int64],
               m: int, latent: tuple[str, ...], iteration: int) -> FloatArray:
    """Outer weights scaled so that every latent variable score has unit variance."""
    y = _scores(x, w, membership, m)
    sd = np.sqrt((y**2).mean(axis=0))
    if not np.all(np.isfinite(sd) & (sd > 1e-12)):
        bad = [latent[j] for j in np.flatnonzero(~(np.isfinite(sd) & (sd > 1e-12)))]
        raise ConvergenceError(
            f"PLS path model: the outer estimate of {', '.join(bad)} collapsed to a constant "
            f"in iteration {iteration} (its inner estimate is zero)",
            diagnostics={"iterations": iteration, "blocks": bad},
        )
    return np.asarray(w / sd[membership], dtype=np.float64)


def _scores(x: FloatArray, w: FloatArray, membership: npt.NDArray[np.int64], m: int) -> FloatArray:
    """Latent variable scores ``X_j w_j`` side by side, through the 0/1 block design."""
    weights = np.zeros((membership.size, m))
    weights[np.arange(membership.size), membership] = w
    return np.asarray(x @ weights, dtype=np.float64)


def pls_path_model(
    data: Any,
    paths: Paths,
    blocks: Mapping[str, Sequence[str | int]],
    *,
    modes: Mode | Mapping[str, Mode] | Sequence[Mode] | None = None,
    scheme: PLSScheme = "centroid",
    scaled: bool = True,
    tol: float = 1e-6,
    max_iter: int = 300,
    columns: Sequence[str] | None = None,
) -> PLSPathResult:
    """Fit a PLS path model (Wold 1982; Lohmöller 1989; Tenenhaus et al. 2004).

    With treated indicators :math:`\\tilde X` (centred; standardised if ``scaled``) and block
    :math:`j` holding indicators :math:`X_j`, start from unit weights and repeat

    1. outer estimate :math:`Y_j \\propto X_j w_j`, scaled to unit variance;
    2. inner estimate :math:`Z_j = \\sum_{i \\leftrightarrow j} e_{ij} Y_i` over the latent
       variables connected to :math:`j`, with :math:`e_{ij}` = ``centroid``:
       :math:`\\operatorname{sign} \\operatorname{cor}(Y_i, Y_j)`; ``factorial``:
       :math:`\\operatorname{cor}(Y_i, Y_j)`; ``path``: the correlation for a latent variable
       that :math:`j` explains, the multiple-regression coefficient of :math:`Y_i` in the
       regression of :math:`Y_j` on its explanatory latent variables otherwise;
    3. new outer weights: mode A :math:`w_j = X_j^\\top Z_j / n`, mode B
       :math:`w_j = (X_j^\\top X_j)^{-1} X_j^\\top Z_j`;

    until no normalised outer weight changes by ``tol`` or more (Tenenhaus et al. 2004).
    The sign of each latent variable is chosen so that most of its indicators
    correlate positively with it. Path coefficients are the least squares regressions of each
    endogenous score on its explanatory scores.

    Parameters
    ----------
    data:
        Respondents x indicators: a numpy array (columns named by ``columns``, else by their
        position), a mapping name -> column, or a data frame narwhals reads.
    paths:
        The inner (structural) model: a square 0/1 matrix in block order with
        ``paths[i, j] = 1`` when block ``j`` explains block ``i`` (lower triangular), a mapping
        explained -> explanatory latent variables, or ``(from, to)`` pairs. The model must be
        recursive and every latent variable connected to another.
    blocks:
        Latent variable -> its indicators (names, or column positions for an unnamed array).
    modes:
        ``"A"`` (reflective, default) or ``"B"`` (formative), for all blocks or per block.
    scheme:
        Inner weighting scheme: ``"centroid"`` (default), ``"factorial"`` or ``"path"``.
    scaled:
        Standardise the indicators (default); ``False`` only centres them, so indicators with
        larger variance weigh more.
    tol:
        Convergence tolerance on the outer weights.
    max_iter:
        Most iterations before :class:`ConvergenceError`.
    columns:
        Names of the columns of an array ``data``.

    Returns
    -------
    PLSPathResult

    Raises
    ------
    UnknownIndicatorError
        An indicator not in the data, or a latent variable in ``paths`` or ``modes`` that is
        not a block.
    InvalidValueError
        Missing (NaN) or infinite answers, a constant indicator, an indicator in two blocks,
        an empty block, a path matrix that is not 0/1 and lower triangular, a cyclic model, a
        latent variable without paths, too few respondents, collinear mode B indicators, an
        unknown mode or scheme.
    ConvergenceError
        The outer weights did not settle within ``max_iter`` iterations (diagnostics hold
        the iterations, the last change, the indicator that changed most and the tolerance).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> f = rng.normal(size=(200, 1))
    >>> g = 0.6 * f + 0.8 * rng.normal(size=(200, 1))
    >>> x = np.hstack([f + 0.5 * rng.normal(size=(200, 2)), g + 0.5 * rng.normal(size=(200, 2))])
    >>> fit = pls_path_model(x, {"g": ["f"]}, {"f": [0, 1], "g": [2, 3]})
    >>> round(fit.path_coefficients[1, 0], 2), fit.converged
    (0.5, True)
    """
    if scheme not in _SCHEMES:
        raise InvalidValueError(f"scheme: unknown inner weighting scheme {scheme!r}; use "
                                f"{', '.join(map(repr, _SCHEMES))}", field="scheme")
    if not (isinstance(tol, (int, float)) and math.isfinite(tol) and tol > 0):
        raise InvalidValueError(f"tol must be a positive number, got {tol!r}", field="tol")
    if not (isinstance(max_iter, (int, np.integer)) and max_iter >= 1):
        raise InvalidValueError(f"max_iter must be a positive integer, got {max_iter!r}",
                                field="max_iter")
    if not isinstance(blocks, Mapping) or not blocks:
        raise InvalidValueError("blocks: expected a mapping latent variable -> indicators",
                                field="blocks")
    table = _Columns(data, columns)
    names = table.names
    latent = tuple(str(lv) for lv in blocks)
    col_index: list[int] = []
    membership: list[int] = []
    seen: dict[int, str] = {}
    for j, lv in enumerate(latent):
        items = blocks[lv]
        if isinstance(items, str) or not len(items):
            raise InvalidValueError(f"blocks[{lv!r}]: expected a non-empty sequence of "
                                    "indicators", field=f"blocks[{lv!r}]")
        for item in items:
            c = _column(names, item, f"blocks[{lv!r}]")
            if c in seen:
                raise InvalidValueError(f"blocks: indicator {names[c]!r} is in both "
                                        f"{seen[c]!r} and {lv!r}", field=f"blocks[{lv!r}]")
            seen[c] = lv
            col_index.append(c)
            membership.append(j)
    m = len(latent)
    if m < 2:
        raise InvalidValueError("blocks: a path model needs at least two latent variables",
                                field="blocks")
    indicators = tuple(names[c] for c in col_index)
    member = np.asarray(membership, dtype=np.int64)
    p = _path_matrix(paths, latent)
    isolated = [latent[j] for j in range(m) if not (p[j].any() or p[:, j].any())]
    if isolated:
        raise InvalidValueError(f"paths: {', '.join(map(repr, isolated))} is connected to no "
                                "other latent variable", field="paths")
    mode_of = _modes(modes, latent)
    x = table.take(col_index)
    n = x.shape[0]
    if n < 3:
        raise InvalidValueError(f"data: need at least 3 respondents, got {n}", field="data")
    bad = ~np.isfinite(x)
    if bad.any():
        col = int(np.flatnonzero(bad.any(axis=0))[0])
        rows = np.flatnonzero(bad[:, col]).tolist()
        raise InvalidValueError(
            f"data: indicator {indicators[col]!r} is missing (NaN) or infinite in "
            f"{describe_rows(rows)}; PLS path modelling needs complete answers",
            field=f"data[{indicators[col]!r}]", rows=rows)
    means = x.mean(axis=0)
    centred = x - means
    sd = np.sqrt((centred**2).mean(axis=0))
    constant = np.flatnonzero(sd <= 1e-12 * np.maximum(1.0, np.abs(means)))
    if len(constant):
        raise InvalidValueError(
            f"data: indicator {indicators[int(constant[0])]!r} is constant; it cannot measure "
            "a latent variable", field=f"data[{indicators[int(constant[0])]!r}]")
    scales = sd if scaled else np.ones_like(sd)
    xt = np.ascontiguousarray(centred / scales)
    modes_seq = [mode_of[lv] for lv in latent]

    w = _normalise(xt, np.ones(x.shape[1]), member, m, latent, 0)
    change = math.inf
    iteration = 0
    while iteration < max_iter:
        iteration += 1
        y = _scores(xt, w, member, m)
        z = y @ _inner_weights(y, p, scheme)
        w_new = _normalise(xt, _outer_weights(xt, z, member, modes_seq, latent), member, m,
                           latent, iteration)
        delta = np.abs(w_new - w)
        change = float(delta.max())
        w = w_new
        if change < tol:
            break
    if not change < tol:
        worst = int(np.argmax(delta))
        raise ConvergenceError(
            f"PLS path model did not converge in {max_iter} iterations: outer weights still "
            f"change by {change:.3g} (tolerance {tol:g}), most for {indicators[worst]!r}",
            diagnostics={"iterations": iteration, "criterion": change, "tol": tol,
                         "indicator": indicators[worst], "scheme": scheme,
                         "weights": dict(zip(indicators, w.tolist(), strict=True))},
        )

    y = _scores(xt, w, member, m)
    cross = (xt / np.sqrt((xt**2).mean(axis=0))).T @ y / n
    own = cross[np.arange(len(indicators)), member]
    # sign indeterminacy: orient each latent variable with the majority of its indicators
    votes = np.zeros(m)
    np.add.at(votes, member, np.sign(own))
    flip = np.where(votes < 0, -1.0, 1.0)
    w = w * flip[member]
    y = y * flip
    cross = cross * flip
    own = own * flip[member]

    coefficients = np.zeros((m, m))
    r_squared: dict[str, float] = {}
    for j in np.flatnonzero(p.any(axis=1)).tolist():
        pred = np.flatnonzero(p[j])
        coef, *_ = np.linalg.lstsq(y[:, pred], y[:, j], rcond=None)
        coefficients[j, pred] = coef
        resid = y[:, j] - y[:, pred] @ coef
        r_squared[latent[j]] = float(np.clip(1.0 - (resid @ resid) / (y[:, j] @ y[:, j]),
                                             0.0, 1.0))
    return PLSPathResult(
        latent=latent,
        indicators=indicators,
        blocks={lv: tuple(indicators[k] for k in np.flatnonzero(member == j))
                for j, lv in enumerate(latent)},
        modes=mode_of,
        scheme=scheme,
        scaled=scaled,
        paths=p,
        weights=np.asarray(w, dtype=np.float64),
        loadings=np.asarray(own, dtype=np.float64),
        cross_loadings=np.asarray(cross, dtype=np.float64),
        scores=np.asarray(y, dtype=np.float64),
        path_coefficients=coefficients,
        r_squared=r_squared,
        means=np.asarray(means, dtype=np.float64),
        scales=np.asarray(scales, dtype=np.float64),
        iterations=iteration,
        converged=True,
        criterion=change,
    )


# -- the ACSI model --------------------------------------------------------------------------------

ACSI_CONSTRUCTS: tuple[str, ...] = (
    "expectations", "quality", "value", "satisfaction", "complaints", "loyalty",
)
"""The latent variables of the ACSI model (Fornell et al. 1996, figure 1): customer
expectations, perceived quality, perceived value, customer satisfaction (the ACSI), customer
complaints and customer loyalty."""

ACSI_PATHS: dict[str, tuple[str, ...]] = {
    "quality": ("expectations",),
    "value": ("expectations", "quality"),
    "satisfaction": ("expectations", "quality", "value"),
    "complaints": ("satisfaction",),
    "loyalty": ("satisfaction", "complaints"),
}
"""The ACSI structure (Fornell et al. 1996, figure 1), explained -> explanatory constructs:
quality <- expectations; value <- expectations, quality; satisfaction <- expectations,
quality, value; complaints <- satisfaction; loyalty <- satisfaction, complaints."""


@attrs.frozen(eq=False)
class ACSIResult:
    """The ACSI model fitted by PLS path modelling, with its 0-100 indices.

    Attributes
    ----------
    model:
        The fitted :class:`PLSPathResult`.
    satisfaction:
        The satisfaction index (0-100) per respondent.
    index:
        The ACSI: the satisfaction index of the mean answers (equal to the mean of
        ``satisfaction``).
    indices:
        Construct -> its 0-100 index (mean over respondents), for every construct whose
        unstandardised weights are all positive and whose answers lie on its scale.
    skipped:
        Construct -> why it has no index (the error message: a negative weight, or answers
        outside the construct's scale, such as 0/1 complaints without ``scales``).
    """

    model: PLSPathResult
    satisfaction: FloatArray
    index: float
    indices: dict[str, float]
    skipped: dict[str, str]


def acsi_model(
    data: Any,
    blocks: Mapping[str, Sequence[str | int]],
    *,
    scale: tuple[float, float] = (1, 10),
    scales: Mapping[str, tuple[float, float]] | None = None,
    scheme: PLSScheme = "centroid",
    tol: float = 1e-6,
    max_iter: int = 300,
    columns: Sequence[str] | None = None,
) -> ACSIResult:
    """Fit the ACSI model (Fornell et al. 1996) by PLS path modelling and compute its indices.

    The constructs and paths are :data:`ACSI_CONSTRUCTS` and :data:`ACSI_PATHS` (customer
    expectations, perceived quality and perceived value drive satisfaction, which drives
    complaints and loyalty); every block is reflective (mode A) on standardised indicators.
    Blocks may be left out as long as ``"satisfaction"`` stays connected; the paths among the
    remaining constructs are kept. The index of a construct is the weighted mean answer,
    rescaled to 0-100,

    .. math:: I = 100 \\, \\frac{\\sum_h \\hat w_h \\bar x_h - low}{high - low},
              \\qquad \\hat w_h = \\frac{w_h / s_h}{\\sum_k w_k / s_k},

    with the outer weights :math:`w_h` of the standardised indicators turned into weights of
    the raw answers by dividing by their standard deviations :math:`s_h` (Fornell et al.
    1996; Tenenhaus et al. 2004).

    Parameters
    ----------
    data:
        Respondents x answers (array, mapping or data frame).
    blocks:
        Construct (from :data:`ACSI_CONSTRUCTS`) -> its survey items; ``"satisfaction"`` is
        required (in the ACSI: overall satisfaction, confirmation of expectations, distance
        from the ideal).
    scale:
        The answer scale (1-10 in the ACSI).
    scales:
        Per-construct scales that differ from ``scale`` (e.g. complaints answered 0/1).
    scheme, tol, max_iter, columns:
        As for :func:`pls_path_model`.

    Raises
    ------
    UnknownIndicatorError
        A construct that is not an ACSI construct, or items not in the data.
    InvalidValueError
        No satisfaction block, satisfaction answers outside the scale, or negative
        satisfaction weights; the input errors of :func:`pls_path_model`.
    ConvergenceError
        As for :func:`pls_path_model`.
    """
    if not isinstance(blocks, Mapping):
        raise InvalidValueError("blocks: expected a mapping construct -> items", field="blocks")
    for name in blocks:
        if name not in ACSI_CONSTRUCTS:
            raise UnknownIndicatorError(name, ACSI_CONSTRUCTS, field="blocks",
                                        noun="ACSI construct")
    if "satisfaction" not in blocks:
        raise InvalidValueError("blocks: the ACSI model needs a 'satisfaction' block",
                                field="blocks")
    for name in scales or {}:
        if name not in blocks:
            raise UnknownIndicatorError(name, tuple(blocks), field="scales",
                                        noun="construct")
    ordered = {c: blocks[c] for c in ACSI_CONSTRUCTS if c in blocks}
    paths = {dst: tuple(s for s in srcs if s in ordered)
             for dst, srcs in ACSI_PATHS.items() if dst in ordered}
    paths = {dst: srcs for dst, srcs in paths.items() if srcs}
    fit = pls_path_model(data, paths, ordered, modes="A", scheme=scheme, scaled=True, tol=tol,
                         max_iter=max_iter, columns=columns)
    scale_of = {c: tuple((scales or {}).get(c, scale)) for c in ordered}
    satisfaction = fit.index(data, "satisfaction",
                             (float(scale_of["satisfaction"][0]),
                              float(scale_of["satisfaction"][1])), columns=columns)
    indices: dict[str, float] = {}
    skipped: dict[str, str] = {}
    for construct in ordered:
        low, high = (float(v) for v in scale_of[construct])
        try:
            indices[construct] = float(fit.index(data, construct, (low, high),
                                                 columns=columns).mean())
        except InvalidValueError as exc:
            skipped[construct] = str(exc)
    return ACSIResult(model=fit, satisfaction=satisfaction, index=float(satisfaction.mean()),
                      indices=indices, skipped=skipped)

