"""Static (time-invariant) covariates for the likelihood models.

A model that takes covariates lets some of its population parameters vary by customer
through an exponential link on a linear predictor, following CLVTools (Bachmann, Meierer &
Naef 2021; the ``pnbd``/``bgnbd`` documentation of the R package CLVTools):

* Pareto/NBD: ``alpha_i = alpha exp(-gamma_trans . x_i)``, ``beta_i = beta exp(-gamma_life . x_i)``
  (Fader & Hardie 2007, note 019, "Incorporating Time-Invariant Covariates into the Pareto/NBD
  and BG/NBD Models"), so a positive coefficient raises the purchase or the dropout rate;
* BG/NBD: ``alpha_i = alpha exp(-gamma_trans . x_i)``, ``a_i = a exp(gamma_life . x_i)`` and
  ``b_i = b exp(gamma_life . x_i)`` (as CLVTools' ``bgnbd_staticcov_*_i``);
* Gamma-Gamma: ``v_i = v exp(gamma_spend . x_i)``, the rate scale of the spend rate (the
  ``spend`` process; CLVTools' spend model has no covariates, the link is the one above), so
  a positive coefficient raises spend.

The model parameters stay positive and are optimised over their logarithms, the
coefficients over the real line. :class:`StaticCovariates` is a mixin placed before the model
class: it adds the covariate keywords to ``fit``, keeps the covariate design, overrides what the
fitted-state accessors report (coefficients on their own scale, not exponentiated) and
evaluates predictions with the covariate-free model at each customer's parameters (the
models' predictions depend on a customer's covariates only through them): in one pass with
per-customer parameter arrays for the methods a model lists in ``_vectorised``, else once per
distinct covariate row.

Internally the base class's optimiser sees the coefficients as log-parameters: the stored
"natural" vector holds ``exp(gamma)``, so the base's machinery (starts, warm start, Newton
polish, observed information and its checks) applies unchanged, and the covariance it
computes in log space is the coefficients' covariance directly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Self

import attrs
import narwhals.stable.v1 as nw
import numpy as np
from numpy.typing import ArrayLike, NDArray

from crmcore._base import CustomerBase
from crmcore._errors import (
    DataError,
    DuplicateCustomerError,
    InvalidValueError,
    NotFittedError,
    UnknownColumnError,
    describe_rows,
)
from crmcore._frames import _read_ids
from crmcore.value._btyd import ContinuousBTYDModel, customer_arrays
from crmcore.value._fit_state import _Fit
from crmcore.value._likelihood import (
    LikelihoodModel,
    ParameterSummary,
    _z,
)

FloatArray = NDArray[np.float64]

__all__ = ["BTYDStaticCovariates", "CovariateDesign", "StaticCovariates", "read_covariates"]

_PROCESSES = ("life", "trans", "spend")


@attrs.frozen
class CovariateDesign:
    """Which covariate columns act on which process (``life``: dropout, ``trans``: purchase,
    ``spend``: the spend-rate scale of the Gamma-Gamma model).

    ``constrain`` lists columns that act on both ``life`` and ``trans`` with one shared
    coefficient (CLVTools' ``names.cov.constr``, reported as ``constr.<column>``);
    ``reg_lambdas`` are the L2 penalty weights of ``life`` and ``trans`` (CLVTools'
    ``reg.lambdas``) and ``spend_lambda`` that of ``spend``: the objective is the mean
    log-likelihood minus ``lambda_process |gamma_process|^2`` summed over the processes
    (unconstrained coefficients only).
    """

    customer_id: str
    life: tuple[str, ...]
    trans: tuple[str, ...]
    constrain: tuple[str, ...] = ()
    reg_lambdas: tuple[float, float] = (0.0, 0.0)  # (life, trans)
    spend: tuple[str, ...] = ()
    spend_lambda: float = 0.0

    def columns_of(self, process: str) -> tuple[str, ...]:
        """The covariate columns of ``process`` (``"life"``, ``"trans"`` or ``"spend"``)."""
        return {"life": self.life, "trans": self.trans, "spend": self.spend}[process]

    @property
    def coefficient_names(self) -> tuple[str, ...]:
        """Free coefficients in their optimisation order."""
        return (tuple(f"life.{c}" for c in self.life if c not in self.constrain)
                + tuple(f"trans.{c}" for c in self.trans if c not in self.constrain)
                + tuple(f"constr.{c}" for c in self.constrain)
                + tuple(f"spend.{c}" for c in self.spend))

    def map_for(self, process: str) -> FloatArray:
        """Matrix taking the free coefficients to ``gamma_process``."""
        names = self.coefficient_names
        index = {n: i for i, n in enumerate(names)}
        columns = self.columns_of(process)
        m = np.zeros((len(columns), len(names)))
        for j, column in enumerate(columns):
            key = (f"constr.{column}" if process != "spend" and column in self.constrain
                   else f"{process}.{column}")
            m[j, index[key]] = 1.0
        return m

    def maps(self) -> tuple[FloatArray, FloatArray]:
        """Matrices taking the free coefficients to ``gamma_life`` and ``gamma_trans``."""
        return self.map_for("life"), self.map_for("trans")

    def penalty_weights(self) -> FloatArray:
        """L2 weight of each free coefficient (constrained ones are not penalised)."""
        lam = {"life": self.reg_lambdas[0], "trans": self.reg_lambdas[1],
               "spend": self.spend_lambda}
        return np.array([lam.get(n.split(".", 1)[0], 0.0) for n in self.coefficient_names])

    def to_dict(self) -> dict[str, Any]:
        lambdas = {"life": self.reg_lambdas[0], "trans": self.reg_lambdas[1]}
        out: dict[str, Any] = {"customer_id": self.customer_id, "life": list(self.life),
                               "trans": list(self.trans), "constrain": list(self.constrain),
                               "reg_lambdas": lambdas}
        if self.spend:  # a purchase model's document stays as it was before spend covariates
            out["spend"] = list(self.spend)
            lambdas["spend"] = self.spend_lambda
        return out

    @classmethod
    def from_dict(cls, payload: Mapping[str, Any]) -> CovariateDesign:
        lambdas = payload.get("reg_lambdas") or {}
        return cls(customer_id=str(payload["customer_id"]),
                   life=tuple(map(str, payload["life"])),
                   trans=tuple(map(str, payload["trans"])),
                   constrain=tuple(map(str, payload.get("constrain", ()))),
                   reg_lambdas=(float(lambdas.get("life", 0.0)),
                                float(lambdas.get("trans", 0.0))),
                   spend=tuple(map(str, payload.get("spend", ()))),
                   spend_lambda=float(lambdas.get("spend", 0.0)))


def _check_lambdas(reg_lambdas: Mapping[str, float] | None) -> tuple[float, float]:
    """The penalty weights ``(life, trans)`` from ``reg_lambdas``."""
    life, trans = _lambdas_of(reg_lambdas, ("life", "trans"))
    return life, trans


def _lambdas_of(reg_lambdas: Mapping[str, float] | None, processes: Sequence[str],
                ) -> tuple[float, ...]:
    """The penalty weights of ``processes`` (in that order) from ``reg_lambdas``."""
    if reg_lambdas is None:
        return tuple(0.0 for _ in processes)
    example = ", ".join(f"{p!r}: 0.1" for p in processes)
    if not isinstance(reg_lambdas, Mapping):
        raise InvalidValueError(f"reg_lambdas must be a mapping like {{{example}}}",
                                field="reg_lambdas")
    unknown = [k for k in reg_lambdas if k not in processes]
    if unknown:
        raise InvalidValueError(f"reg_lambdas has unknown keys {unknown}; use "
                                + " and ".join(repr(p) for p in processes),
                                field="reg_lambdas")
    values = []
    for process in processes:
        try:
            value = float(reg_lambdas.get(process, 0.0))
        except (TypeError, ValueError) as exc:
            raise InvalidValueError(f"reg_lambdas[{process!r}] must be a number",
                                    field="reg_lambdas") from exc
        if not math.isfinite(value) or value < 0:
            raise InvalidValueError(f"reg_lambdas[{process!r}] must be finite and >= 0, got "
                                    f"{value!r}", field="reg_lambdas")
        values.append(value)
    return tuple(values)


def _native_frame(frame: object) -> Any:
    try:
        data: Any = nw.from_native(frame)
    except TypeError as exc:
        raise InvalidValueError(
            f"covariates must be a data frame (pandas, polars, pyarrow, Dask, ...), got "
            f"{type(frame).__name__}", field="covariates") from exc
    if isinstance(data, nw.LazyFrame):
        data = data.collect()
    return data


def read_covariates(
    frame: object, customer_id: str, columns: Sequence[str], ids: NDArray[Any],
) -> FloatArray:
    """The covariate ``columns`` of ``frame`` for the customers ``ids``, one row per id in
    that order (float matrix).

    Raises
    ------
    UnknownColumnError
        ``customer_id`` or a covariate column is not in the frame.
    DuplicateCustomerError
        A customer has two rows.
    DataError
        A customer of ``ids`` has no row (the ids are named).
    InvalidValueError
        A covariate is not numeric or is missing/NaN/infinite (rows named).
    """
    data = _native_frame(frame)
    available = list(data.columns)
    if customer_id not in available:
        raise UnknownColumnError(customer_id, available, role="customer_id")
    for column in columns:
        if column not in available:
            raise UnknownColumnError(column, available, role="covariate")
    cov_ids = _read_ids(data[customer_id], customer_id)
    order = np.argsort(cov_ids, kind="stable")
    sorted_ids = cov_ids[order]
    if len(sorted_ids) > 1:
        dup = np.flatnonzero(sorted_ids[1:] == sorted_ids[:-1])
        if len(dup):
            twice = sorted(set(sorted_ids[dup + 1].tolist()))
            # most customers with several rows: rows per period, not a data-entry slip
            many = 2 * len(twice) > len(sorted_ids) - len(dup)
            raise DuplicateCustomerError(
                f"covariates have more than one row for {describe_rows(twice, noun='id')}"
                + ("; static covariates are one row per customer, and covariates that change "
                   "over time (one row per customer and period) need a time-varying model: "
                   "ParetoNBDDynamic, value_model='pareto-nbd-dynamic', with datetime= naming "
                   "the period-start column" if many else ""),
                field=customer_id, rows=twice)
    wanted = np.asarray(ids)
    try:
        pos = np.searchsorted(sorted_ids, wanted)
    except TypeError as exc:
        raise DataError(f"covariate ids in {customer_id!r} are not of the base's id type "
                        "(integers vs strings)", field=customer_id) from exc
    pos = np.clip(pos, 0, max(len(sorted_ids) - 1, 0))
    missing = (np.ones(len(wanted), dtype=bool) if len(sorted_ids) == 0
               else sorted_ids[pos] != wanted)
    if np.any(missing):
        absent = wanted[missing].tolist()
        raise DataError(f"customers without covariates in {customer_id!r}: "
                        + describe_rows(absent, noun="id"), field=customer_id, rows=absent)
    rows = order[pos]
    out = np.empty((len(wanted), len(columns)))
    for j, column in enumerate(columns):
        series = data[column]
        dtype = series.dtype
        if not (dtype.is_numeric() or dtype == nw.Boolean):
            raise InvalidValueError(
                f"covariate {column!r} is not numeric ({dtype}); code categories as 0/1 "
                "dummy columns", field=column)
        nulls = np.flatnonzero(np.asarray(series.is_null().to_numpy(), dtype=bool))
        values = np.asarray(series.cast(nw.Float64).to_numpy(), dtype=np.float64)
        bad = np.union1d(nulls, np.flatnonzero(~np.isfinite(values)))
        used = np.intersect1d(bad, rows)
        if len(used):
            raise InvalidValueError(
                f"covariate {column!r} is missing or not finite at {describe_rows(used)}",
                field=column, rows=used.tolist())
        out[:, j] = values[rows]
    return out


def _unique_rows(matrix: FloatArray) -> tuple[FloatArray, NDArray[np.intp]]:
    unique, inverse = np.unique(matrix, axis=0, return_inverse=True)
    return unique, np.asarray(inverse, dtype=np.intp).reshape(-1)


class StaticCovariates(LikelihoodModel):
    """Mixin adding static covariates to a likelihood model (see the module docstring).

    A model class lists its covariate-dependent parameters in ``_covariate_targets``
    (parameter name -> (process, sign): ``p_i = p exp(sign * gamma_process . x_i)``), gives
    the number of leading pattern columns its likelihood reads (``_n_core``) and implements
    ``_row_log_likelihood_terms(rows, data, gradient=...)``, its likelihood with one parameter
    vector per row (``rows`` of shape ``(n, k)``), returning the gradient in those per-row
    parameters.
    """

    _covariate_targets: ClassVar[Mapping[str, tuple[str, float]]] = {}
    _n_core: ClassVar[int] = 3
    # The prediction methods whose covariate-free code takes per-customer parameters (each
    # parameter an (n,) array, one value per customer, broadcast against (x, t_x, T)):
    # with covariates they run once over all customers. ``"lifetime_value"`` says that
    # :func:`crmcore.value.lifetime_value` may be given such a model (it then needs
    # ``p_alive``, ``dert`` and ``_expected_given_alive`` per customer). Any other method runs
    # once per distinct covariate row.
    _vectorised: ClassVar[frozenset[str]] = frozenset()
    _design: CovariateDesign | None = None
    _start: FloatArray | None = None
    _row_params: FloatArray | None = None  # (n, k): one parameter vector per customer

    # -- to be provided by the model -------------------------------------------------------

    def _row_log_likelihood_terms(
        self, rows: FloatArray, data: tuple[FloatArray, ...], *, gradient: bool
    ) -> tuple[FloatArray, FloatArray | None]:
        raise NotImplementedError  # pragma: no cover - every covariate model overrides it

    # -- design ----------------------------------------------------------------------------

    @property
    def covariates_(self) -> CovariateDesign | None:
        """The covariate design the model was fitted with (``None``: no covariates)."""
        return self._design

    def _model_names(self) -> tuple[str, ...]:
        return type(self).param_names

    def _set_design(self, design: CovariateDesign | None) -> None:
        self._design = design
        if design is None:
            self.__dict__.pop("param_names", None)
        else:
            self.__dict__["param_names"] = self._model_names() + design.coefficient_names

    def _design_for_fit(
        self, covariates: object, customer_id: str | None,
        given: Mapping[str, Sequence[str] | None], constrain: Sequence[str],
        reg_lambdas: Mapping[str, float] | None,
    ) -> CovariateDesign:
        """The design from the fit's keywords: ``given`` maps each process the model's
        ``fit`` offers (``life`` and ``trans``, or ``spend``) to its columns (``None``: every
        column but the id)."""
        if not isinstance(customer_id, str):
            raise InvalidValueError("customer_id= (the id column of the covariate frame) is "
                                    "required with covariates", field="customer_id")
        columns = [c for c in _native_frame(covariates).columns if c != customer_id]
        for name, cols_given in (*given.items(), ("constrain", constrain)):
            if isinstance(cols_given, str):
                raise InvalidValueError(f"{name} must be a list of column names, not a string",
                                        field=name)
        chosen = {name: tuple(columns if given.get(name, ()) is None else
                              given.get(name, ()) or ())
                  for name in _PROCESSES}
        for name in given:
            cols = chosen[name]
            if len(set(cols)) != len(cols):
                raise InvalidValueError(f"{name} must be a list of distinct column names",
                                        field=name)
        constr = tuple(constrain)
        for column in constr:
            if column not in chosen["life"] or column not in chosen["trans"]:
                raise InvalidValueError(
                    f"constrained covariate {column!r} must be among both life and trans "
                    "covariates", field="constrain")
        if not self._covariate_targets:
            raise InvalidValueError(f"{type(self).__name__} takes no covariates",
                                    field="covariates")
        processes = {p for p, _ in self._covariate_targets.values()}
        for name in given:
            if chosen[name] and name not in processes:
                raise InvalidValueError(
                    f"{type(self).__name__} has no {name} process; pass {name}=[]", field=name)
        offered = tuple(p for p in _PROCESSES if p in given)
        lambdas = dict(zip(offered, _lambdas_of(reg_lambdas, offered), strict=True))
        return CovariateDesign(customer_id=customer_id, life=chosen["life"],
                               trans=chosen["trans"], constrain=constr,
                               reg_lambdas=(lambdas.get("life", 0.0), lambdas.get("trans", 0.0)),
                               spend=chosen["spend"], spend_lambda=lambdas.get("spend", 0.0))

    def _process_matrices(self, design: CovariateDesign, covariates: object, ids: NDArray[Any],
                          ) -> dict[str, FloatArray]:
        """Each process's covariate matrix ``(n, columns of the process)`` for ``ids``."""
        columns = list(dict.fromkeys(design.life + design.trans + design.spend))
        values = read_covariates(covariates, design.customer_id, columns, ids)
        index = {c: j for j, c in enumerate(columns)}
        return {process: values[:, [index[c] for c in design.columns_of(process)]].reshape(
                    len(ids), len(design.columns_of(process))) for process in _PROCESSES}

    def _matrices(self, design: CovariateDesign, covariates: object, ids: NDArray[Any],
                  ) -> tuple[FloatArray, FloatArray]:
        """The ``life`` and ``trans`` covariate matrices for ``ids``."""
        matrices = self._process_matrices(design, covariates, ids)
        return matrices["life"], matrices["trans"]

    def _fit_with_covariates(
        self, core: tuple[FloatArray, ...], ids: NDArray[Any], weights: ArrayLike | None,
        time_unit: str | None, covariates: object, customer_id: str | None,
        given: Mapping[str, Sequence[str] | None], constrain: Sequence[str],
        reg_lambdas: Mapping[str, float] | None,
    ) -> Self:
        """Fit with the covariates of ``covariates`` for the customers ``ids`` (aligned with
        the pattern columns ``core``); ``given`` as for :meth:`_design_for_fit`."""
        design = self._design_for_fit(covariates, customer_id, given, constrain, reg_lambdas)
        matrices = self._process_matrices(design, covariates, ids)
        for name in _PROCESSES:
            matrix = matrices[name]
            for j, column in enumerate(design.columns_of(name)):
                if len(matrix) and np.ptp(matrix[:, j]) == 0:
                    raise InvalidValueError(
                        f"covariate {column!r} ({name}) is constant over the customers fitted "
                        "on; its coefficient is not identified (the scale parameter absorbs "
                        "it)", field=column)
        # start at the covariate-free fit (coefficients 0), as CLVTools does by default
        plain = type(self)(**self.get_params())
        try:
            plain._fit_patterns(core, weights, time_unit=time_unit)
            self._start = plain._param_array()
        except Exception:  # any failure just means the default start
            self._start = None
        self._set_design(design)
        columns = (*core, *(column for name in _PROCESSES for column in matrices[name].T))
        try:
            self._fit_patterns(columns, weights, time_unit=time_unit)
        except BaseException:
            self._set_design(None)
            self._fit_state = None
            raise
        finally:
            self._start = None
        # the base derived the log-likelihood from the objective assuming its own ridge
        # penalty; recompute the plain one at the optimum
        state = self._state()
        ll, _ = self._row_terms(np.log(state.params), tuple(np.asarray(c, dtype=np.float64)
                                                            for c in columns), gradient=False)
        w = np.ones(len(ll)) if weights is None else np.asarray(weights, dtype=np.float64)
        diagnostics = dict(state.diagnostics)
        diagnostics["params"] = self._natural(state.params).tolist()
        self._fit_state = attrs.evolve(state, log_likelihood=float(w @ ll),
                                       diagnostics=diagnostics)
        return self

    # -- the objective ---------------------------------------------------------------------

    def _initial_params(self, data: tuple[FloatArray, ...], weights: FloatArray) -> FloatArray:
        if self._design is None:
            return super()._initial_params(data, weights)
        k0 = len(self._model_names())
        core = self._start if self._start is not None else np.ones(k0)
        return np.concatenate([core, np.ones(len(self._design.coefficient_names))])

    def _prepare_data(self, data: tuple[FloatArray, ...]) -> tuple[FloatArray, ...]:
        if self._design is None:
            return super()._prepare_data(data)
        return data

    def _rows(self, theta: FloatArray, data: tuple[FloatArray, ...],
              ) -> tuple[FloatArray, dict[str, FloatArray], FloatArray, FloatArray]:
        """Per-row natural parameters, each process's covariate matrix and the coefficient
        maps of ``life`` and ``trans`` (``design.map_for`` gives any process's)."""
        design = self._design
        assert design is not None
        k0 = len(self._model_names())
        core_params = np.exp(theta[:k0])
        coef = theta[k0:]
        n = len(data[0])
        x: dict[str, FloatArray] = {}
        start = self._n_core
        for process in _PROCESSES:
            width = len(design.columns_of(process))
            x[process] = (np.column_stack(data[start:start + width]) if width
                          else np.zeros((n, 0)))
            start += width
        rows = np.tile(core_params, (n, 1))
        names = self._model_names()
        for name, (process, sign) in self._covariate_targets.items():
            gamma = design.map_for(process) @ coef
            rows[:, names.index(name)] *= np.exp(sign * (x[process] @ gamma))
        map_life, map_trans = design.maps()
        return rows, x, map_life, map_trans

    def _coefficient_links(self) -> dict[str, tuple[tuple[str, float], ...]]:
        design = self._design
        if design is None:
            return {}
        links: dict[str, list[tuple[str, float]]] = {n: [] for n in design.coefficient_names}
        for target, (process, sign) in self._covariate_targets.items():
            acts = np.any(design.map_for(process) != 0.0, axis=0)
            for name in np.asarray(design.coefficient_names)[acts]:
                links[str(name)].append((target, sign))
        return {n: tuple(t) for n, t in links.items()}

    def _limit_groups(self, theta: FloatArray, data: tuple[FloatArray, ...], w: FloatArray,
                      coefficients: Sequence[str]) -> list[dict[str, Any]]:
        """Where the customers' own parameters stand at ``theta`` when the covariate
        ``coefficients`` ran off: the customers grouped by the values of those coefficients'
        covariates (up to eight groups), or, for a covariate with more values, by where their
        parameters stand (with each covariate's range in the group). For each group and each
        parameter the coefficients scale: ``"infinity"`` or ``"0"`` (beyond ``e^(+/-12)`` for
        every customer of the group: at that limit), ``"finite"`` or ``"mixed"``, with the
        parameters' range, and the group's weight (number of customers). Covariate values are
        numbers, or ``[low, high]`` ranges."""
        from crmcore.value._fit_state import _DRIFT_LOG

        design = self._design
        links = self._coefficient_links()
        chosen = [n for n in coefficients if n in links]
        if design is None or not chosen or not len(w):
            return []
        rows, x, _, _ = self._rows(theta, data)
        # the covariate columns of the chosen coefficients, each read from a process using it
        columns: dict[str, FloatArray] = {}
        for name in chosen:
            process, column = name.split(".", 1)
            source = ("life" if column in design.life else "trans") if process == "constr" \
                else process
            columns.setdefault(column, x[source][:, design.columns_of(source).index(column)])
        names = self._model_names()
        targets = list(dict.fromkeys(t for n in chosen for t, _ in links[n]))
        log_p = np.log(rows[:, [names.index(t) for t in targets]])
        keys = np.column_stack(list(columns.values()))
        unique, inverse = _unique_rows(keys)
        by_values = len(unique) <= 8
        if not by_values:  # a covariate with many values: group by where the customers stand
            states = np.where(log_p > _DRIFT_LOG, 1.0, np.where(log_p < -_DRIFT_LOG, -1.0, 0.0))
            unique, inverse = _unique_rows(states)
        groups: list[dict[str, Any]] = []
        for g in range(len(unique)):
            idx = np.flatnonzero(inverse == g)
            where: dict[str, Any] = {}
            for j, target in enumerate(targets):
                lp = log_p[idx, j]
                state = ("infinity" if lp.min() > _DRIFT_LOG else
                         "0" if lp.max() < -_DRIFT_LOG else
                         "finite" if np.abs(lp).max() <= _DRIFT_LOG else "mixed")
                where[target] = {"to": state, "low": float(np.exp(lp.min())),
                                 "high": float(np.exp(lp.max()))}
            values: dict[str, Any] = {
                c: float(v[idx[0]]) if by_values else [float(v[idx].min()), float(v[idx].max())]
                for c, v in columns.items()}
            groups.append({"covariates": values, "customers": float(w[idx].sum()),
                           "parameters": where})
        return groups

    def _n_covariate_columns(self) -> int:
        design = self._design
        assert design is not None
        return sum(len(design.columns_of(p)) for p in _PROCESSES)

    def _row_terms(self, theta: FloatArray, data: tuple[FloatArray, ...], *, gradient: bool,
                   ) -> tuple[FloatArray, FloatArray | None]:
        """Log-likelihood per row and its gradient in ``theta`` (log model parameters, then
        coefficients). Columns after the covariates (helpers a model's ``_prepare_data``
        appends) are passed on to its likelihood after the pattern columns."""
        design = self._design
        assert design is not None
        rows, x, _, _ = self._rows(theta, data)
        extra = data[self._n_core + self._n_covariate_columns():]
        ll, grad_rows = self._row_log_likelihood_terms(rows, (*data[:self._n_core], *extra),
                                                       gradient=gradient)
        if not gradient:
            return ll, None
        assert grad_rows is not None
        scaled = grad_rows * rows  # d ll / d log(row parameter)
        names = self._model_names()
        g_coef = np.zeros((len(ll), len(design.coefficient_names)))
        for name, (process, sign) in self._covariate_targets.items():
            if x[process].shape[1]:
                g_coef += sign * scaled[:, [names.index(name)]] * (
                    x[process] @ design.map_for(process))
        return ll, np.column_stack([scaled, g_coef])

    def _objective(
        self, theta: FloatArray, data: tuple[FloatArray, ...], w: FloatArray, penalizer: float,
        n_obs: float,
    ) -> tuple[float, FloatArray]:
        design = self._design
        if design is None:
            return super()._objective(theta, data, w, penalizer, n_obs)
        k0 = len(self._model_names())
        with np.errstate(all="ignore"):
            ll, grad = self._row_terms(theta, data, gradient=True)
            assert grad is not None
            core = np.exp(theta[:k0])
            coef = theta[k0:]
            lam = design.penalty_weights()
            total = float(np.einsum("i,i->", w, ll))
            value = -(total / n_obs - penalizer * float(core @ core) - float(lam @ coef**2))
            g = -np.einsum("i,ij->j", w, grad) / n_obs
            g[:k0] += 2.0 * penalizer * core * core
            g[k0:] += 2.0 * lam * coef
        if not math.isfinite(value) or not np.all(np.isfinite(g)):
            return math.inf, np.zeros_like(theta)
        return value, g

    # -- fitted state ----------------------------------------------------------------------

    def _natural(self, internal: FloatArray) -> FloatArray:
        """The stored vector (``exp`` of everything) with coefficients on their own scale."""
        k0 = len(self._model_names())
        out = np.array(internal, dtype=np.float64)
        out[k0:] = np.log(out[k0:])
        return out

    @property
    def params_(self) -> dict[str, float]:
        """Fitted parameters: the model's (paper's names) then the covariate coefficients
        ``life.<column>``, ``trans.<column>`` and ``constr.<column>``."""
        if self._design is None:
            return super().params_
        values = self._natural(self._state().params)
        return dict(zip(self.param_names, map(float, values), strict=True))

    @property
    def covariance_(self) -> dict[str, dict[str, float]]:
        """Covariance of the estimates (delta method for the model parameters; the
        coefficients' own)."""
        if self._design is None:
            return super().covariance_
        d = self._jacobian()
        cov = self._log_covariance() * np.outer(d, d)
        return {a: {b: float(cov[i, j]) for j, b in enumerate(self.param_names)}
                for i, a in enumerate(self.param_names)}

    def _jacobian(self) -> FloatArray:
        k0 = len(self._model_names())
        d = np.array(self._state().params, dtype=np.float64)
        d[k0:] = 1.0
        return d

    @property
    def standard_errors_(self) -> dict[str, float]:
        """Standard errors of the estimates."""
        if self._design is None:
            return super().standard_errors_
        se = np.sqrt(np.diag(self._log_covariance())) * self._jacobian()
        se[self._pinned_mask()] = np.nan  # held on the boundary: not estimated
        return dict(zip(self.param_names, map(float, se), strict=True))

    def confidence_intervals(self, level: float = 0.95) -> dict[str, tuple[float, float]]:
        """Wald intervals: on the log scale for the model parameters, on their own scale for
        the covariate coefficients."""
        if self._design is None:
            return super().confidence_intervals(level)
        z = _z(level)
        k0 = len(self._model_names())
        values = self._natural(self._state().params)
        se = np.sqrt(np.diag(self._log_covariance()))
        se[self._pinned_mask()] = np.nan
        lower = np.concatenate([values[:k0] * np.exp(-z * se[:k0]), values[k0:] - z * se[k0:]])
        upper = np.concatenate([values[:k0] * np.exp(z * se[:k0]), values[k0:] + z * se[k0:]])
        return {n: (float(lo), float(hi))
                for n, lo, hi in zip(self.param_names, lower, upper, strict=True)}

    def summary(self, level: float = 0.95) -> ParameterSummary:
        """Estimates, standard errors and limits (coefficients included), LL, AIC, BIC."""
        return super().summary(level)

    @classmethod
    def from_params(cls, **params: Any) -> Self:
        """A model with given parameters, ready to predict. With covariate coefficients
        (``life.<column>``, ``trans.<column>``, ``constr.<column>``) also pass
        ``customer_id="..."`` naming the id column of the covariate frames it will get."""
        coefs = {k: v for k, v in params.items() if k.split(".", 1)[0] in (
            *_PROCESSES, "constr") and "." in k}
        if not coefs:
            return super().from_params(**params)
        processes = {p for p, _ in cls._covariate_targets.values()}
        for name in coefs:
            process = name.split(".", 1)[0]
            if process not in processes and not (
                    process == "constr" and {"life", "trans"} <= processes):
                raise InvalidValueError(f"{cls.__name__} has no {process} process; coefficient "
                                        f"{name} does not apply", field=name)
        customer_id = params.pop("customer_id", None)
        model_params = {k: v for k, v in params.items() if k not in coefs}
        base = super().from_params(**model_params)
        design = _design_from_names(list(coefs), customer_id)
        values = []
        for name in design.coefficient_names:
            value = float(coefs[name])
            if not math.isfinite(value):
                raise InvalidValueError(f"coefficient {name} must be finite", field=name)
            values.append(math.exp(value))
        base._set_design(design)
        base._fit_state = attrs.evolve(base._state(), params=np.concatenate(
            [base._state().params, values]))
        return base

    def _with_params(self, params: FloatArray) -> Self:
        model = super()._with_params(params)
        model._set_design(self._design)
        return model

    # -- predictions -----------------------------------------------------------------------

    def _customer_rows(self, covariates: object, ids: NDArray[Any]) -> FloatArray:
        """Per-customer model parameters ``(n, k)`` for the customers ``ids``."""
        design = self._design
        assert design is not None
        matrices = self._process_matrices(design, covariates, ids)
        theta = np.log(self._state().params)
        rows, *_ = self._rows(theta, (*([np.zeros(len(ids))] * self._n_core),
                                      *(c for p in _PROCESSES for c in matrices[p].T)))
        return rows

    def _plain(self, params: FloatArray) -> Self:
        """The covariate-free model at ``params`` (one customer's, say)."""
        return LikelihoodModel._with_params(self, params)

    def _plain_rows(self, rows: FloatArray) -> Self:
        """The covariate-free model with one parameter vector per customer (``rows``, shape
        ``(n, k)``): its ``_param_array`` gives each parameter as an ``(n,)`` array, so the
        methods in ``_vectorised`` evaluate every customer at her own parameters in one pass
        (for customers given in the order of ``rows``, without pattern compression)."""
        model = self._plain(rows[0])
        model._row_params = np.asarray(rows, dtype=np.float64)
        return model

    def _param_array(self) -> FloatArray:
        if self._row_params is not None:
            return self._row_params.T
        return super()._param_array()

    def _check_covariate_call(self, covariates: object, customer_id: str | None) -> None:
        if self._design is None:
            if covariates is not None:
                raise InvalidValueError(f"{type(self).__name__} was fitted without covariates; "
                                        "do not pass covariates=", field="covariates")
            return
        if covariates is None:
            raise InvalidValueError(
                f"{type(self).__name__} was fitted with covariates "
                f"({', '.join(self._design.coefficient_names)}); pass covariates= (and "
                "customer_id=) for the customers to predict", field="covariates")
        if customer_id is not None and customer_id != self._design.customer_id:
            self._design = attrs.evolve(self._design, customer_id=customer_id)

    def _by_covariates(
        self, method: str, lead: tuple[Any, ...], base: object, covariates: object,
        customer_id: str | None, **kwargs: Any,
    ) -> FloatArray:
        """``method`` evaluated per customer of ``base`` at the customer's own parameters:
        in one pass over all customers when the model lists ``method`` in ``_vectorised``,
        else grouped by distinct covariate rows."""
        self._check_covariate_call(covariates, customer_id)
        if not isinstance(base, CustomerBase):
            raise InvalidValueError("predictions with covariates need a CustomerBase (its "
                                    "customer ids align the covariates)", field="covariates")
        rows = self._customer_rows(covariates, np.asarray(base.customer_id))
        x = np.asarray(base.frequency, dtype=np.float64)
        tx, t_obs = np.asarray(base.recency), np.asarray(base.T)
        n = len(x)
        if method in self._vectorised and n:
            return np.asarray(getattr(self._plain_rows(rows), method)(
                *lead, x, tx, t_obs, **kwargs), dtype=np.float64)
        unique, inverse = _unique_rows(rows)
        out: FloatArray | None = None
        for g, params in enumerate(unique):
            idx = np.flatnonzero(inverse == g)
            args = tuple(a[idx] if isinstance(a, np.ndarray) and a.shape[:1] == (n,) else a
                         for a in lead)
            value = np.asarray(getattr(self._plain(params), method)(
                *args, x[idx], tx[idx], t_obs[idx], **kwargs), dtype=np.float64)
            if out is None:
                out = np.empty((n, *value.shape[1:]))
            out[idx] = value
        return out if out is not None else np.zeros(0)

    def expected_purchases_new_customer(
        self, t: ArrayLike, covariates: object = None,
    ) -> FloatArray:
        """Expected purchases in ``(0, t]`` of a customer acquired now.

        Without covariates, the model's unconditional expectation ``E[X(t)]``. With
        covariates (a frame with one row per prospective customer and the fitted covariate
        columns; no id column needed), one value per row at that row's parameters.
        """
        self._state()
        if self._design is None:
            if covariates is not None:
                raise InvalidValueError(f"{type(self).__name__} was fitted without covariates",
                                        field="covariates")
            return np.asarray(self.expected_purchases_unconditional(t),  # type: ignore[attr-defined]
                              dtype=np.float64)
        if covariates is None:
            raise InvalidValueError("the model was fitted with covariates; pass covariates= "
                                    "(one row per new customer)", field="covariates")
        design = self._design
        data = _native_frame(covariates)
        ids = np.arange(len(data))
        frame = data.with_columns(nw.new_series("__row__", ids, nw.Int64,
                                                backend=nw.get_native_namespace(data)))
        rows = attrs.evolve(design, customer_id="__row__")
        saved, self._design = self._design, rows
        try:
            params = self._customer_rows(frame, ids)
        finally:
            self._design = saved
        return np.stack([np.asarray(self._plain(p).expected_purchases_unconditional(t),  # type: ignore[attr-defined]
                                    dtype=np.float64) for p in params])

    # -- saving ----------------------------------------------------------------------------

    def _json_payload(self) -> dict[str, Any]:
        """The base document, with the covariate design beside the parameters."""
        payload = super()._json_payload()
        if self._design is None:
            return payload
        order = ("hyperparameters", "params")
        return {**{k: payload[k] for k in order}, "covariates": self._design.to_dict(),
                **{k: v for k, v in payload.items() if k not in order}}

    def _saved_params(self, payload: Mapping[str, Any]) -> FloatArray:
        """The core parameters and ``exp`` of the coefficients; a saved design is set on the
        model first, so that its names (and a saved covariance's size) include them."""
        if "covariates" not in payload:
            return super()._saved_params(payload)
        design = CovariateDesign.from_dict(payload["covariates"])
        core = self._param_vector({n: payload["params"][n] for n in type(self).param_names},
                                  "from_json")
        coefs = np.array([float(payload["params"][n]) for n in design.coefficient_names])
        if not np.all(np.isfinite(coefs)):
            raise InvalidValueError("a coefficient is not finite", field="params")
        self._set_design(design)
        return np.concatenate([core, np.exp(coefs)])

    def _state_or_none(self) -> _Fit | None:
        try:
            return self._state()
        except NotFittedError:
            return None


def _design_from_names(names: Sequence[str], customer_id: object) -> CovariateDesign:
    life: list[str] = []
    trans: list[str] = []
    constr: list[str] = []
    spend: list[str] = []
    for name in names:
        process, column = name.split(".", 1)
        {"life": life, "trans": trans, "constr": constr, "spend": spend}[process].append(column)
    if not isinstance(customer_id, str):
        raise InvalidValueError("from_params with covariate coefficients needs customer_id= "
                                "(the id column of the covariate frames)", field="customer_id")
    return CovariateDesign(customer_id=customer_id, life=tuple(life + constr),
                           trans=tuple(trans + constr), constrain=tuple(constr),
                           spend=tuple(spend))


class BTYDStaticCovariates(StaticCovariates, ContinuousBTYDModel):
    """A continuous-time BTYD model (BG/NBD, Pareto/NBD) that also takes static covariates."""

    def fit(
        self,
        base_or_frequency: CustomerBase | ArrayLike,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
        weights: ArrayLike | None = None,
        *,
        covariates: object = None,
        customer_id: str | None = None,
        life: Sequence[str] | None = None,
        trans: Sequence[str] | None = None,
        constrain: Sequence[str] = (),
        reg_lambdas: Mapping[str, float] | None = None,
    ) -> Self:
        """Fit by maximum likelihood, with static covariates if given.

        Parameters
        ----------
        base_or_frequency, recency, T, weights:
            As for the model without covariates: a :class:`crmcore.CustomerBase` (required
            with covariates, whose customer ids align them), or the arrays ``x, t_x, T``.
        covariates:
            A data frame (any narwhals-readable frame) with one row per customer: the id
            column ``customer_id`` and numeric covariate columns (0/1 dummies for
            categories).
        customer_id:
            Name of the id column of ``covariates``.
        life, trans:
            Covariate columns of the dropout (``life``) and purchase (``trans``) processes;
            ``None`` (default) uses every column but the id; ``[]`` none.
        constrain:
            Columns (in both ``life`` and ``trans``) whose coefficient is the same for both
            processes, reported as ``constr.<column>``.
        reg_lambdas:
            L2 penalty weights ``{"life": ..., "trans": ...}`` on the (unconstrained)
            coefficients, as CLVTools' ``reg.lambdas``: the objective is the mean
            log-likelihood minus ``lambda * sum(gamma**2)`` per process.

        Raises
        ------
        InvalidValueError
            Bad input; a covariate that is not numeric, missing, NaN or constant (named).
        UnknownColumnError, DuplicateCustomerError, DataError
            A column not in the frame; a customer with two rows; customers of the base
            without covariates (ids named).
        ConvergenceError
            No maximum found (``diagnostics`` says what was tried).
        """
        if covariates is None:
            given = [n for n, v in (("customer_id", customer_id), ("life", life),
                                    ("trans", trans), ("reg_lambdas", reg_lambdas))
                     if v is not None] + (["constrain"] if len(constrain) else [])
            if given:
                raise InvalidValueError(f"{', '.join(given)} given without covariates=",
                                        field=given[0])
            self._set_design(None)
            return super().fit(base_or_frequency, recency, T, weights)
        if not isinstance(base_or_frequency, CustomerBase) or recency is not None or (
                T is not None):
            raise InvalidValueError("fitting with covariates needs a CustomerBase (its customer "
                                    "ids align the covariates)", field="covariates")
        base = base_or_frequency
        core = customer_arrays(base, None, None)
        return self._fit_with_covariates(core, np.asarray(base.customer_id), weights,
                                         base.time_unit, covariates, customer_id,
                                         {"life": life, "trans": trans}, constrain,
                                         reg_lambdas)


def covariate_spend(spend_model: Any, base: CustomerBase, covariates: object,
                    customer_id: str | None) -> Any:
    """Each customer's expected spend per transaction (an array aligned with ``base``) when
    ``spend_model`` was fitted with covariates (``covariates_``), else ``spend_model``
    itself (a number or a covariate-free model)."""
    if getattr(spend_model, "covariates_", None) is None:
        return spend_model
    return np.asarray(spend_model.expected_spend(base, covariates=covariates,
                                                 customer_id=customer_id), dtype=np.float64)


def covariate_lifetime_value(
    purchase_model: Any,
    spend_model: Any,
    base: CustomerBase,
    *,
    covariates: object,
    customer_id: str | None,
    margin: float | ArrayLike,
    discount_rate: float,
    time_unit: str,
    horizon: float | None,
    step: float = 1.0,
) -> Any:
    """:func:`crmcore.value.lifetime_value` for a purchase model or a spend model (or both)
    fitted with covariates.

    A spend model fitted with covariates gives each customer's expected spend at her own
    parameters, passed on as an array. Customers are grouped by their own purchase-model
    parameters: a model that can (``"lifetime_value"`` in its ``_vectorised``: BG/NBD,
    MBG/NBD, Pareto/NBD) goes through :func:`~crmcore.value.lifetime_value` once with each
    customer's own parameters; otherwise one group per distinct covariate row goes through
    :func:`~crmcore.value.lifetime_value` with the covariate-free model at that group's
    parameters, and the results are put back in the base's order.

    Raises
    ------
    InvalidValueError
        Neither model was fitted with covariates, or the covariates are bad (see
        :func:`read_covariates`).
    """
    from crmcore.value._clv import LifetimeValue, lifetime_value
    from crmcore.value._parts import margin_rates

    purchase_cov = (isinstance(purchase_model, StaticCovariates)
                    and purchase_model.covariates_ is not None)
    spend_cov = getattr(spend_model, "covariates_", None) is not None
    if not purchase_cov and not spend_cov:
        raise InvalidValueError(f"{type(purchase_model).__name__} was not fitted with "
                                "covariates; leave covariates= out", field="covariates")
    spend = covariate_spend(spend_model, base, covariates, customer_id)
    spend_name = (f"{type(spend_model).__name__} with covariates" if spend_cov
                  else f"{float(spend_model):g} per transaction"
                  if isinstance(spend_model, int | float) else type(spend_model).__name__)
    purchase_name = type(purchase_model).__name__ + (" with covariates" if purchase_cov
                                                     else "")
    if not purchase_cov:
        whole = lifetime_value(purchase_model, spend, base, margin=margin,
                               discount_rate=discount_rate, time_unit=time_unit,
                               horizon=horizon, step=step)
        return attrs.evolve(whole, model=f"{purchase_name} + {spend_name}")
    purchase_model._check_covariate_call(covariates, customer_id)
    n = len(base)
    margins = margin_rates(margin, n)
    rows = purchase_model._customer_rows(covariates, np.asarray(base.customer_id))
    if "lifetime_value" in purchase_model._vectorised and n:
        # one pass: the covariate-free model with each customer's own parameters
        whole = lifetime_value(purchase_model._plain_rows(rows), spend, base, margin=margins,
                               discount_rate=discount_rate, time_unit=time_unit,
                               horizon=horizon, step=step)
        return attrs.evolve(whole, model=f"{purchase_name} + {spend_name}")
    unique, inverse = _unique_rows(rows)
    columns = {name: np.full(n, np.nan) for name in
               ("clv", "p_alive", "expected_spend", "discounted_purchases",
                "expected_purchases")}
    has_expected = True
    for g, params in enumerate(unique):
        idx = np.flatnonzero(inverse == g)
        plain: Any = purchase_model._plain(params)  # the covariate-free model at these values
        part = lifetime_value(plain, spend[idx] if isinstance(spend, np.ndarray) else spend,
                              base.take(idx), margin=margins[idx],
                              discount_rate=discount_rate, time_unit=time_unit,
                              horizon=horizon, step=step)
        for name in columns:
            value = getattr(part, name)
            if value is None:
                has_expected = False
            else:
                columns[name][idx] = value
    return LifetimeValue(
        customer_id=base.customer_id, clv=columns["clv"], p_alive=columns["p_alive"],
        expected_spend=columns["expected_spend"],
        discounted_purchases=columns["discounted_purchases"],
        expected_purchases=columns["expected_purchases"] if has_expected else None,
        time_unit=time_unit, horizon=None if horizon is None else float(horizon),
        step=float(step), discount_rate=float(discount_rate),
        model=f"{purchase_name} + {spend_name}")
