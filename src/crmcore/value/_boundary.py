"""Fits whose likelihood has no maximum inside the parameter space.

Small bases often put the maximum on the boundary: in BG/NBD ``a, b -> infinity`` with
``a / (a + b)`` fixed is one dropout probability for everyone, in gamma-gamma ``p -> infinity,
v -> 0`` with ``p v`` fixed is no spread of spend within a customer. This module diagnoses which
parameters run off, and whither, from the shape of the likelihood near the optimiser's end point
(:func:`running_off`), fits the limit model on that boundary (:func:`fit_boundary`, the most
likely of the candidate faces: :func:`best_boundary`), and otherwise raises one
:class:`crmcore.ConvergenceError` naming them (:func:`settle_runaway`). The optimisation itself
is :class:`crmcore.value.LikelihoodModel`'s; these functions read its likelihood, gradient and
Hessian.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from scipy import optimize

from crmcore._errors import ConvergenceError, ConvergenceWarning
from crmcore.value._fit_state import (
    _AS_LIKELY,
    _DRIFT_LOG,
    _LOG_BOUND,
    _MAX_LOG_STANDARD_ERROR,
    _PIN_LOG,
    _WEAK_LOADING,
    _Fit,
    _inverse_information,
)

if TYPE_CHECKING:
    from crmcore.value._likelihood import LikelihoodModel

__all__ = ["best_boundary", "fit_boundary", "information_at", "running_off", "settle_runaway"]

FloatArray = NDArray[np.float64]


def information_at(
    model: LikelihoodModel, theta: FloatArray, data: tuple[FloatArray, ...], w: FloatArray,
                    penalizer: float, n_obs: float) -> FloatArray:
    grad = model._objective(theta, data, w, penalizer, n_obs)[1]
    return -model._hessian(theta, grad, data, w, penalizer, n_obs) * n_obs

def running_off(
    model: LikelihoodModel, theta: FloatArray, information: FloatArray | None
                 ) -> dict[str, str]:
    """Which parameters run off, and whither (``"0"`` or ``"infinity"``), at the end point
    ``theta`` (log-parameters) of a fit without a strict maximum.

    A parameter runs off if its end point is beyond ``e^(+/-_DRIFT_LOG)``, or if it loads
    on a direction in which the likelihood is flat or still rising (an eigenvector of the
    observed information whose eigenvalue is not positive, or so small that the standard
    error along it exceeds ``_MAX_LOG_STANDARD_ERROR``). Both criteria look at the shape of
    the likelihood near the end point, not at which test fired first, so the answer does not
    depend on where exactly the optimiser stopped along the runaway direction.
    """
    names = model.param_names
    off: dict[str, str] = {}
    for name, t in zip(names, theta, strict=True):
        if abs(t) > _DRIFT_LOG:
            off[name] = "infinity" if t > 0 else "0"
    if information is not None and np.all(np.isfinite(information)):
        values, vectors = np.linalg.eigh(0.5 * (information + information.T))
        scale = max(1.0, float(np.max(np.abs(values))))
        weak = values <= max(1e-10 * scale, _MAX_LOG_STANDARD_ERROR ** -2)
        for j in np.flatnonzero(weak):
            for i in np.flatnonzero(np.abs(vectors[:, j]) >= _WEAK_LOADING):
                off.setdefault(names[i], "infinity" if theta[i] > 0 else "0")
    if not off:  # cannot happen for a true runaway; name the farthest parameter anyway
        far = int(np.argmax(np.abs(theta)))
        off[names[far]] = "infinity" if theta[far] > 0 else "0"
    return {name: off[name] for name in names if name in off}

def settle_runaway(
    model: LikelihoodModel, theta: FloatArray, information: FloatArray | None,
    data: tuple[FloatArray, ...],
    w: FloatArray, penalizer: float, n_obs: float, time_unit: str | None,
    diagnostics: dict[str, Any],
) -> _Fit:
    """The likelihood has no strict maximum inside the parameter space. Models whose
    likelihood has a well-defined limit there (``_mixing_pairs``) are fitted on that
    boundary, with a :class:`crmcore.ConvergenceWarning`; others raise one
    :class:`crmcore.ConvergenceError` naming the parameters that run off."""
    if information is None:
        information = information_at(model, theta, data, w, penalizer, n_obs)
    runaway = running_off(model, theta, information)
    params = np.exp(theta)
    end_point = dict(zip(model.param_names, map(float, params), strict=True))
    diagnostics = {**diagnostics, "runaway": runaway, "end_point": end_point,
                   "params": params.tolist()}
    finite = bool(np.all(np.isfinite(information)))
    if finite:
        diagnostics["information_eigenvalues"] = np.linalg.eigvalsh(information).tolist()
    where = ", ".join(f"{n} -> {d}" for n, d in runaway.items())
    end = ", ".join(f"{n}={v:.4g}" for n, v in end_point.items())
    if model._mixing_pairs and penalizer == 0:
        # The faces are held to the end point's likelihood: a limit less likely than where
        # the optimiser stood is not the limit it was heading for (a face fit that failed, a
        # face that misplaces a group of customers, or, in the GGompertz/NBD, a parameter
        # pinned alone that changes the meaning of another). best_boundary relaxes this for
        # a face that brings a parameter back from beyond the pins (where the likelihood may
        # rise without bound: identical spends, a degenerate density), unless the model asks
        # for the plain comparison (_boundary_at_least_end_point).
        end_log_likelihood = -model._objective(theta, data, w, 0.0, n_obs)[0] * n_obs
        fit = best_boundary(model, runaway, theta, data, w, n_obs, time_unit, diagnostics,
                            at_least=end_log_likelihood,
                            from_beyond_pins=not model._boundary_at_least_end_point)
        if fit is not None:
            warnings.warn(ConvergenceWarning(fit.diagnostics["boundary"]["message"]),
                          stacklevel=5)
            return fit
        faces = diagnostics.get("faces", [])
        if any(f.get("below_end_point") for f in faces):
            best = max(f["log_likelihood"] for f in faces if f.get("below_end_point"))
            raise ConvergenceError(
                f"{type(model).__name__}: the likelihood has no strict maximum inside the "
                f"parameter space (it keeps rising, or stays flat, as {where}; the optimiser "
                f"stopped at {end}), and no limit model on its boundary is as likely as that "
                f"point (log-likelihood {end_log_likelihood:.6g}; best limit fitted: "
                f"{best:.6g}), so neither is an answer: the data do not identify "
                f"{', '.join(runaway)}{_remedy(model, runaway)}",
                diagnostics={**diagnostics, "end_log_likelihood": end_log_likelihood})
    raise ConvergenceError(
        f"{type(model).__name__}: the likelihood has no maximum inside the parameter space: "
        f"it keeps rising, or stays flat, as {where} (the optimiser stopped at {end}), so "
        f"the data do not identify {', '.join(runaway)}{_remedy(model, runaway)}",
        diagnostics=diagnostics,
    )


def _remedy(model: LikelihoodModel, runaway: Mapping[str, str]) -> str:
    """What a user can do when covariate coefficients run off (empty otherwise)."""
    coefficients = [n for n in runaway if n in model._coefficient_links()]
    if not coefficients:
        return ""
    columns = ", ".join(coefficients)
    return (f". Covariate coefficients run off ({columns}): leave those covariates off that "
            "process, constrain them, or pass reg_lambdas= (an L2 penalty on the "
            "coefficients, which keeps them finite)")


def best_boundary(
    model: LikelihoodModel, runaway: dict[str, str], theta: FloatArray,
    data: tuple[FloatArray, ...],
    w: FloatArray, n_obs: float, time_unit: str | None, diagnostics: dict[str, Any],
    *, at_least: float, from_beyond_pins: bool = True,
) -> _Fit | None:
    """The most likely boundary fit among the faces the runaway may head for.

    The diagnosis from the end point's curvature can name a parameter too many (one that
    merely loads on a flat direction there, e.g. gamma-gamma's ``q`` beside ``p -> inf,
    v -> 0``), and which it names depends on where the optimiser stopped. So every
    combination of the named parameters is fitted as a boundary and the one with the
    highest likelihood is kept, provided it is at least ``at_least`` (the end point's
    log-likelihood, within ``_AS_LIKELY`` per observation: a limit less likely than where the
    optimiser stood is no answer). With ``from_beyond_pins``, a face that brings a parameter
    back from beyond the pins ``e^(+/-25)`` is compared with its own starting point instead
    (the end point brought back along its runaway), since there the likelihood may rise
    without bound. Returns
    ``None`` (with ``diagnostics["faces"]``) when no face qualifies.
    No warning is issued here; the caller warns with ``diagnostics["boundary"]["message"]``.
    """
    names = list(runaway)
    tried: list[dict[str, Any]] = []
    accepted: list[_Fit] = []
    tolerance = _AS_LIKELY * max(1.0, n_obs)
    for size in range(len(names), 0, -1):
        for subset in itertools.combinations(names, size):
            face = {n: runaway[n] for n in subset}
            fit = fit_boundary(model, face, theta, data, w, n_obs, time_unit, diagnostics,
                               warn=False)
            entry: dict[str, Any] = {"runaway": face, "log_likelihood":
                                     None if fit is None else fit.log_likelihood}
            tried.append(entry)
            if fit is None or not math.isfinite(fit.log_likelihood):
                continue
            reference = at_least
            start = fit.diagnostics["boundary"]["start"]
            if from_beyond_pins and start["inward"]:
                # the face brings a parameter back from beyond the pins: compare with the end
                # point brought back along its runaway, the face's own starting point
                reference = min(reference, start["log_likelihood"])
            if fit.log_likelihood >= reference - tolerance:
                accepted.append(fit)
            else:
                entry["below_end_point"] = True
    if not accepted:
        diagnostics["faces"] = tried
        return None
    # Faces as likely as the best are alike to the data; prefer one on which no free
    # parameter drifts far out (that is the runaway going on inside the face, mislabelled)
    top = max(fit.log_likelihood for fit in accepted)
    near = [fit for fit in accepted if fit.log_likelihood >= top - tolerance]
    settled = [fit for fit in near if not fit.diagnostics["boundary"]["drifting"]]
    best = max(settled or near, key=lambda fit: fit.log_likelihood)
    best.diagnostics["boundary"]["faces"] = tried
    return best


def boundary_face(
    model: LikelihoodModel, runaway: Mapping[str, str], theta: FloatArray
                   ) -> tuple[FloatArray, FloatArray, FloatArray, dict[str, Any]]:
    """The boundary the runaway heads for, as a linear map of log-parameters
    ``theta = A @ phi + c`` from the free coordinates ``phi``; returns ``A``, ``c``, the
    start ``phi0`` and a description (which parameters are pinned, what the limit is)."""
    index = {n: i for i, n in enumerate(model.param_names)}
    k = len(model.param_names)
    columns: list[FloatArray] = []
    c = np.zeros(k)
    phi0: list[float] = []
    pinned: list[str] = []
    limits: list[dict[str, Any]] = []
    handled: set[str] = set()
    for u, v, kind, quantity, none_means, all_means in model._mixing_pairs:
        if u in handled or v in handled:
            continue  # shares a parameter with a pair met before (GGompertz/NBD's beta)
        iu, iv = index[u], index[v]
        du, dv = runaway.get(u), runaway.get(v)
        if du is None and dv is None:
            continue
        if kind == "ratio":
            # both run off the same way with their ratio fixed. One alone is read as both:
            # the other, free on that face, can follow it, so pinning it alone would reach
            # the same fit under another name. A direction without a meaning is no limit
            # (pinned alone below).
            ways = {d for d in (du, dv) if d is not None}
            way = ways.pop() if len(ways) == 1 else None
            if not (none_means if way == "0" else all_means if way == "infinity" else ""):
                continue
            du = dv = way
        handled |= {u, v}
        if kind == "product" and du is not None and dv is not None and du != dv:
            # u -> infinity, v -> 0 with u v fixed (or the reverse): pin u at the edge,
            # keep psi = log(u v) free
            edge = _PIN_LOG if du == "infinity" else -_PIN_LOG
            c[iu], c[iv] = edge, -edge
            col = np.zeros(k)
            col[iv] = 1.0
            columns.append(col)
            phi0.append(float(np.clip(theta[iu] + theta[iv], -_LOG_BOUND, _LOG_BOUND)))
            pinned.append(u)
            limits.append({"parameters": [u, v], "to": du, "kind": kind,
                           "meaning": all_means})
            continue
        both = du is not None and dv is not None and du == dv
        if both:
            # u, v -> infinity (or 0) with their ratio fixed: pin u at the edge, keep the
            # ratio psi = log(u / v) free
            edge = _PIN_LOG if du == "infinity" else -_PIN_LOG
            c[iu], c[iv] = edge, edge
            col = np.zeros(k)
            col[iv] = -1.0
            columns.append(col)
            psi = float(np.clip(theta[iu] - theta[iv], -_LOG_BOUND, _LOG_BOUND))
            phi0.append(psi)
            pinned.append(u)
            label = f"{u}/({u}+{v})" if kind == "beta" else f"{u}/{v}"
            if kind == "ratio":
                meaning = none_means if du == "0" else all_means
            elif du == "infinity":
                meaning = f"every customer has the same {quantity} ({label} = {{mean:.4g}})"
            else:
                top = "1" if kind == "beta" else "infinite"
                meaning = (f"the {quantity} is either 0 or {top} for each customer "
                           f"({label} = {{mean:.4g}})")
            limits.append({"parameters": [u, v], "to": du, "ratio": label,
                           "ratio_index": len(phi0) - 1, "kind": kind, "meaning": meaning})
            continue
        # one of them runs off alone: the mixing distribution's mean goes to 0 or to its
        # top; the other parameter no longer matters and is pinned where it stood
        low = du == "0" or (du is None and dv == "infinity")
        if low:
            c[iu] = -_PIN_LOG
            c[iv] = float(np.clip(theta[iv], -_DRIFT_LOG, _DRIFT_LOG))
            meaning = none_means
            limits.append({"parameters": [u, v], "to": "0", "kind": kind,
                           "meaning": meaning})
        else:
            c[iv] = -_PIN_LOG
            c[iu] = float(np.clip(theta[iu], -_DRIFT_LOG, _DRIFT_LOG))
            limits.append({"parameters": [u, v], "to": "top", "kind": kind,
                           "meaning": all_means})
        pinned += [u, v]
    links = model._coefficient_links()
    absorbing: list[str] = []
    # model parameters first: a coefficient's start depends on where its targets start
    for name in sorted(model.param_names, key=lambda n: n in links):
        if name in handled:
            continue
        i = index[name]
        start = None
        if name in runaway and name in links:
            start = _absorbing_start(theta, _face_start(columns, c, phi0), index,
                                     links[name], runaway, name)
        if name in runaway and start is None:
            c[i] = _PIN_LOG if runaway[name] == "infinity" else -_PIN_LOG
            pinned.append(name)
            limits.append({"parameters": [name], "to": runaway[name], "kind": "single",
                           "meaning": f"{name} -> {runaway[name]}"})
            continue
        col = np.zeros(k)
        col[i] = 1.0
        columns.append(col)
        phi0.append(float(theta[i]) if start is None else start)
        if start is not None:
            absorbing.append(name)
    A = np.column_stack(columns) if columns else np.zeros((k, 0))
    return A, c, np.asarray(phi0, dtype=np.float64), {"pinned": pinned, "limits": limits,
                                                      "absorbing": absorbing}


def _face_start(columns: list[FloatArray], c: FloatArray, phi0: list[float]) -> FloatArray:
    """The log-parameters at the face's start as far as the face is built."""
    if not columns:
        return c.copy()
    return np.asarray(np.column_stack(columns) @ np.asarray(phi0) + c, dtype=np.float64)


def _absorbing_start(theta: FloatArray, start: FloatArray, index: Mapping[str, int],
                     targets: tuple[tuple[str, float], ...], runaway: Mapping[str, str],
                     name: str) -> float | None:
    """Where a covariate coefficient that runs off starts on the face, or ``None`` if it is
    to be held at the boundary itself.

    A coefficient ``gamma`` running off opposite to a model parameter ``p`` it scales
    (``p -> infinity``, ``sign * gamma -> -infinity``, or the reverse) keeps ``p_i = p
    exp(sign * gamma * x_i)`` finite for the customers with ``x_i = 1`` while those with
    ``x_i = 0`` reach ``p``'s limit. On the face ``p`` is held at ``e^(+/-25)`` and the
    coefficient stays free, absorbing the product: it starts where those customers' ``p_i``
    are as at the end point (``gamma - (change of log p) / sign``, averaged over its
    targets; unchanged where ``p`` is held already, as in a later round). A coefficient
    running off alone, or with its targets, is held at the boundary instead (its customers
    reach the limit)."""
    direction = 1.0 if runaway[name] == "infinity" else -1.0
    offsets = []
    for target, sign in targets:
        t = index[target]
        delta = float(start[t] - theta[t])
        toward = runaway.get(target)
        if toward is None and delta == 0.0:
            continue  # the face leaves this target where it was
        target_direction = (math.copysign(1.0, delta) if toward is None
                            else 1.0 if toward == "infinity" else -1.0)
        if sign * direction == -target_direction:
            offsets.append(delta / sign)
    if not offsets:
        return None
    value = float(theta[index[name]]) - float(np.mean(offsets))
    return float(np.clip(value, -_LOG_BOUND, _LOG_BOUND))

def fit_boundary(
    model: LikelihoodModel, runaway: dict[str, str], theta: FloatArray,
    data: tuple[FloatArray, ...],
    w: FloatArray, n_obs: float, time_unit: str | None, diagnostics: dict[str, Any],
    *, warn: bool = True,
) -> _Fit | None:
    """Maximise the likelihood on the boundary the runaway heads for (the parameters that
    run off pinned at ``e^(+/-_PIN_LOG)``, where the model equals its limit to about
    ``1e-10``; the ratio of a pair running off together stays free). Returns ``None`` if
    that boundary has no strict maximum either (after up to three rounds of pinning the
    parameters that then run off)."""
    runaway = dict(runaway)
    rounds: list[dict[str, Any]] = []
    end = theta
    start: dict[str, Any] | None = None
    for _ in range(3):
        A, c, phi0, face = boundary_face(model, runaway, theta)
        if A.shape[1] == 0:
            return None
        if start is None:
            # the end point as the face first represents it, and whether that brings a
            # pinned parameter back from beyond the pins (best_boundary's reference)
            theta_start = A @ phi0 + c
            held = [i for i in map(model.param_names.index, face["pinned"])
                    if abs(theta_start[i]) == _PIN_LOG]
            start = {"log_likelihood": -model._objective(theta_start, data, w, 0.0,
                                                         n_obs)[0] * n_obs,
                     "inward": bool(np.any(np.abs(theta_start[held])
                                           < np.abs(end[held]) - 1e-9))}

        def reduced(phi: FloatArray, A: FloatArray = A, c: FloatArray = c
                    ) -> tuple[float, FloatArray]:
            value, grad = model._objective(A @ phi + c, data, w, 0.0, n_obs)
            return value, A.T @ grad

        result = optimize.minimize(
            reduced, phi0, jac=True, method="L-BFGS-B",
            bounds=[(-_LOG_BOUND, _LOG_BOUND)] * len(phi0),
            options={"maxiter": 2000, "ftol": 1e-14, "gtol": 1e-9, "maxcor": 20})
        phi = np.asarray(result.x, dtype=np.float64)
        value, grad_red = reduced(phi)
        for _ in range(8):  # Newton polish on the face
            if not math.isfinite(value) or float(np.max(np.abs(grad_red))) < 1e-12:
                break
            # Hessian of the mean log-likelihood in the free coordinates
            hess_red = -A.T @ information_at(model, A @ phi + c, data, w, 0.0, n_obs) @ A
            try:
                step = np.linalg.solve(hess_red / n_obs, grad_red)
            except np.linalg.LinAlgError:
                break
            candidate = np.clip(phi + step, -_LOG_BOUND, _LOG_BOUND)
            new_value, new_grad = reduced(candidate)
            if not new_value <= value:
                break
            phi, value, grad_red = candidate, new_value, new_grad
            if float(np.max(np.abs(step))) < 1e-10:
                break
        theta_face = A @ phi + c
        rounds.append({"pinned": list(face["pinned"]), "end": np.exp(theta_face).tolist(),
                       "fun": float(value), "message": str(result.message)})
        if not math.isfinite(value):
            return None
        information = A.T @ information_at(model, theta_face, data, w, 0.0, n_obs) @ A
        red_cov = _inverse_information(information)
        free_off = [j for j in range(len(phi)) if abs(phi[j]) > _LOG_BOUND - 1e-3]
        if red_cov is None or free_off:
            # a free coordinate runs off too: name its parameter(s) and pin them as well
            full_info = information_at(model, theta_face, data, w, 0.0, n_obs)
            more = running_off(model, theta_face, full_info)
            new = {n: d for n, d in more.items() if n not in runaway}
            if not new:
                return None
            runaway.update(new)
            theta = theta_face
            continue
        params = np.exp(theta_face)
        log_likelihood = -value * n_obs
        log_cov = A @ red_cov @ A.T
        names = model.param_names
        drifting = [names[int(np.flatnonzero(A[:, j])[-1])] for j in range(len(phi))
                    if abs(phi[j]) > _DRIFT_LOG
                    and names[int(np.flatnonzero(A[:, j])[-1])] not in face["absorbing"]]
        links = model._coefficient_links()
        coefficients = [n for n in runaway if n in links]
        groups = (model._limit_groups(theta_face, data, w, coefficients) if coefficients
                  else [])
        limits = [limit_text(lim, phi) for lim in face["limits"]]
        if groups:
            # the limit is reached by some customers only: say for whom
            at_limit = {p for g in groups for p, where in g["parameters"].items()
                        if where["to"] != "finite"}
            limits = [
                f"for the customers whose {', '.join(f'{p}_i' for p in lim['parameters'])} "
                f"run off: {text}" if at_limit & set(lim["parameters"]) else text
                for lim, text in zip(face["limits"], limits, strict=True)]
            limits.append(groups_text(groups, model._mixing_pairs))
        limits += [
            f"{n} = {float(theta_face[names.index(n)]):.4g} is no effect size: with "
            f"{', '.join(sorted({t for t, _ in links[n]}))} held at the boundary it sets the "
            "finite parameters of the customers it applies to" for n in face["absorbing"]]
        boundary = {
            "runaway": runaway, "pinned": face["pinned"], "limits": limits,
            "rounds": rounds, "start": start, "drifting": drifting,
        }
        if coefficients:
            boundary["groups"] = groups
            boundary["absorbing"] = list(face["absorbing"])
        text = "; ".join(limits)
        message = (
            f"{type(model).__name__}: the likelihood is highest on the boundary of the "
            f"parameter space, as {', '.join(f'{n} -> {d}' for n, d in runaway.items())}: "
            f"{text}. Fitted that limit ({', '.join(face['pinned'])} held at the boundary, "
            "no standard error); the other parameters are estimated and "
            f"predictions are the limit model's{_remedy(model, runaway)}")
        if warn:
            warnings.warn(ConvergenceWarning(message), stacklevel=5)
        boundary["message"] = message
        return _Fit(params=params, log_likelihood=log_likelihood, log_covariance=log_cov,
                    n_obs=n_obs, n_patterns=len(w), time_unit=time_unit,
                    diagnostics={**diagnostics, "boundary": boundary,
                                 "params": params.tolist(),
                                 "max_abs_gradient": float(np.max(np.abs(grad_red)))},
                    converged=True, pinned=tuple(face["pinned"]))
    return None

def limit_text(limit: dict[str, Any], phi: FloatArray) -> str:
    if "ratio_index" in limit:
        ratio = math.exp(float(phi[limit["ratio_index"]]))
        mean = ratio / (1.0 + ratio) if limit["kind"] == "beta" else ratio
        return str(limit["meaning"]).format(mean=mean)
    return str(limit["meaning"])


def _pair_meaning(pair: tuple[str, str, str, str, str, str], du: str | None,
                  dv: str | None) -> str | None:
    """What a mixing pair's limit means for a group whose own ``u_i, v_i`` run off as
    ``du, dv`` (``None``: finite), as in :func:`boundary_face`."""
    _, _, kind, quantity, none_means, all_means = pair
    if du is None and dv is None:
        return None
    if du is not None and dv is not None:
        if du != dv:
            return all_means if kind == "product" else None
        if du == "infinity":
            return f"one {quantity} for all of them"
        top = "1" if kind == "beta" else "infinite"
        return f"the {quantity} is either 0 or {top} for each of them"
    return none_means if du == "0" or dv == "infinity" else all_means


def groups_text(groups: list[dict[str, Any]],
                pairs: tuple[tuple[str, str, str, str, str, str], ...] = ()) -> str:
    """The customer groups of :meth:`LikelihoodModel._limit_groups` in words: which
    customers (by covariate values) have their own parameters at which limit, and what that
    limit means for them (``pairs``: the model's ``_mixing_pairs``)."""
    parts = []
    for group in groups:
        running = {p: where["to"] for p, where in group["parameters"].items()
                   if where["to"] in ("0", "infinity")}
        meanings = [m for pair in pairs if pair[0] in group["parameters"]
                    or pair[1] in group["parameters"]
                    if (m := _pair_meaning(pair, running.get(pair[0]),
                                           running.get(pair[1]))) is not None]
        who = ", ".join(f"{c} = {v:g}" if isinstance(v, float) else
                        f"{c} = {v[0]:g}" if v[0] == v[1] else
                        f"{c} from {v[0]:g} to {v[1]:g}"
                        for c, v in group["covariates"].items())
        states: dict[str, list[str]] = {}
        for name, where in group["parameters"].items():
            states.setdefault(where["to"], []).append(name)
        said = []
        for to, params in states.items():
            label = ", ".join(f"{p}_i" for p in params)
            if to in ("infinity", "0"):
                said.append(f"{label} -> {to}")
            elif to == "finite":
                ranges = ", ".join(
                    f"{p}_i = {group['parameters'][p]['low']:.4g}"
                    + (f" to {group['parameters'][p]['high']:.4g}"
                       if group["parameters"][p]["high"] > group["parameters"][p]["low"]
                       * (1 + 1e-9) else "") for p in params)
                said.append(f"finite ({ranges})")
            else:
                said.append(f"{label} at the limit for some of them only")
        meaning = f", i.e. {'; '.join(meanings)}" if meanings else ""
        noun = "customer" if group["customers"] == 1 else "customers"
        parts.append(f"the {group['customers']:g} {noun} with {who}: {', '.join(said)}"
                     f"{meaning}")
    return "by covariates, " + "; ".join(parts)
