"""What each command does: read, build the base, fit or score, write, summarise."""

from __future__ import annotations

import argparse
import functools
import inspect
import json
import math
import shlex
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO, TypeVar

import attrs
import numpy as np
from numpy.typing import NDArray

from crmcore._base import CalibrationHoldout, CustomerBase
from crmcore._errors import (
    ConvergenceError,
    CRMError,
    DataError,
    EmptyDataError,
    LateTransactionError,
    PluginError,
    UnknownModelError,
)
from crmcore._frames import TransactionColumns
from crmcore._time import check_unit, unit_factor, unit_name
from crmcore.cli._io import (
    LogColumns,
    atomic_output,
    note_line,
    output_format,
    read_covariates_file,
    read_log,
    write_table,
)
from crmcore.cli._progress import Progress
from crmcore.hookspecs import ModelKind

__all__ = ["FAILURE", "USAGE", "CommandError", "run_fit", "run_models", "run_predict",
           "run_score", "segment_columns"]

USAGE = 2
"""Exit status for usage and data errors."""
FAILURE = 1
"""Exit status for a model that could not be fitted, or a failure of crmcore itself."""

T = TypeVar("T")


class CommandError(Exception):
    """A failure to report in one line with an exit status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _fail_on(where: str, action: Callable[[], T]) -> T:
    """Run ``action``; turn crmcore's errors into :class:`CommandError` naming ``where``."""
    try:
        return action()
    except (ConvergenceError, PluginError) as exc:
        raise CommandError(f"{where}: {exc}", FAILURE) from exc
    except OSError as exc:  # the disk, not the data: a full disk, a size limit, permissions
        raise CommandError(f"{where}: cannot write: {exc.strerror or exc}", FAILURE) from exc
    except (CRMError, ValueError) as exc:
        notes = getattr(exc, "__notes__", ())
        message = f"{where}: {exc}" + (f" [{'; '.join(notes)}]" if notes else "")
        raise CommandError(message, USAGE) from exc


def _time_unit(arguments: argparse.Namespace, default: str | None = None) -> str:
    if arguments.time_unit is not None:
        return str(arguments.time_unit)
    if default is not None:
        return default
    return "W" if arguments.freq in ("D", "W") else str(arguments.freq)


# -- reading ----------------------------------------------------------------------------------


@attrs.frozen
class _Read:
    base: CustomerBase
    split: CalibrationHoldout | None
    rows: int
    late: int


def _label(source: str) -> str:
    return "<stdin>" if source == "-" else source


def _read_base(arguments: argparse.Namespace, progress: Progress, time_unit: str) -> _Read:
    source = _label(arguments.input)
    _fail_on("--freq/--time-unit", lambda: (check_unit(arguments.freq, argument="--freq"),
                                            unit_factor(arguments.freq, time_unit)))
    columns = LogColumns(customer_id=arguments.customer_id, datetime=arguments.datetime,
                         monetary_value=arguments.monetary_value)
    with progress.step(f"reading {source}"):
        log, line_of = _fail_on(source, lambda: read_log(
            arguments.input, columns, separator=arguments.separator,
            datetime_format=arguments.datetime_format, on_rows=progress.rows))
    n_rows = len(log.customer_id)

    def summarise() -> tuple[CustomerBase, int]:
        try:
            return _summarise(log, arguments, time_unit)
        except DataError as exc:
            note_line(exc, line_of)
            raise

    with progress.step("summarising customers"):
        base, late = _fail_on(source, summarise)
    split = None
    if arguments.calibration_end is not None:
        split = _fail_on(f"--calibration-end {arguments.calibration_end}",
                         lambda: base.calibration_holdout(arguments.calibration_end))
    return _Read(base=base, split=split, rows=n_rows, late=late)


def _summarise(log: TransactionColumns, arguments: argparse.Namespace, time_unit: str
               ) -> tuple[CustomerBase, int]:
    def build(columns: TransactionColumns) -> CustomerBase:
        return CustomerBase._from_columns(
            columns, freq=arguments.freq, time_unit=time_unit,
            observation_end=arguments.observation_end, datetime=arguments.datetime,
            customer_id=arguments.customer_id)

    try:
        return build(log), 0
    except LateTransactionError as exc:
        # The library refuses purchases after the observation end; the command line's stated
        # choice is to leave them out and report how many (in the run summary).
        keep = np.ones(len(log.customer_id), dtype=bool)
        keep[np.asarray(exc.rows, dtype=np.int64)] = False
        if not keep.any():
            raise EmptyDataError(f"every transaction is after --observation-end "
                                 f"{arguments.observation_end}", field="observation_end"
                                 ) from None
        kept = attrs.evolve(log, customer_id=log.customer_id[keep], at=log.at[keep],
                            amount=None if log.amount is None else log.amount[keep],
                            margin=None if log.margin is None else log.margin[keep])
        return build(kept), int((~keep).sum())


def _covariates(arguments: argparse.Namespace, progress: Progress) -> dict[str, Any]:
    """The covariate keywords of the fit and the predictions (``--covariates``), or none."""
    if arguments.covariates is None:
        given = [f"--{n.replace('_', '-')}" for n in ("covariate_id", "covariate_time")
                 if getattr(arguments, n) is not None]
        if given:
            raise CommandError(f"{' and '.join(given)} given without --covariates", USAGE)
        return {}
    id_column = arguments.covariate_id or arguments.customer_id
    with progress.step(f"reading {arguments.covariates}"):
        frame = _fail_on(f"--covariates {arguments.covariates}", lambda: read_covariates_file(
            arguments.covariates, customer_id=id_column, datetime=arguments.covariate_time,
            separator=arguments.separator, datetime_format=arguments.datetime_format))
    keywords: dict[str, Any] = {"covariates": frame, "customer_id": id_column}
    if arguments.covariate_time is not None:
        keywords["datetime"] = arguments.covariate_time
    return keywords


def _takes_covariates(model: Any, name: str | None, keywords: Mapping[str, Any]) -> None:
    """Refuse ``--covariates`` for a model whose fit takes none, naming the ones that do."""
    if not keywords:
        return
    fit = getattr(model, "fit", None)
    accepted = set(inspect.signature(fit).parameters) if callable(fit) else set()
    if {"covariates", "customer_id"} <= accepted and (
            "datetime" not in keywords or "datetime" in accepted):
        return
    import crmcore

    kind = "time-varying covariates (--covariate-time)" if "datetime" in keywords else (
        "covariates")
    takers = []
    for candidate, offer in crmcore.model_offers("value").items():
        fit = getattr(offer.factory, "fit", None)  # a model class; moved names are functions
        if not callable(fit):
            continue
        params = inspect.signature(fit).parameters
        if "covariates" in params and ("datetime" in params) == ("datetime" in keywords):
            takers.append(candidate)
    raise CommandError(f"--model {name or type(model).__name__}: {type(model).__name__} takes "
                       f"no {kind}; models that do: {', '.join(sorted(takers)) or 'none'}",
                       USAGE)


# -- the summary ------------------------------------------------------------------------------


def _settings_header(command: str, arguments: argparse.Namespace, parser_defaults: Mapping[
        str, Any], resolved: Mapping[str, Any], out: TextIO) -> None:
    from crmcore import __version__

    out.write(f"crmcore {__version__} {command}\n")
    out.write("settings (* = default):\n")
    skip = {"command", "quiet", "debug"}
    names = [k for k in vars(arguments) if k not in skip]
    width = max(len(n) for n in names) + 2
    explicit: list[str] = ["crmcore", command]
    positional = [k for k in ("model_file", "input") if k in vars(arguments)]
    for name in names:
        value = resolved.get(name, getattr(arguments, name))
        default = name in parser_defaults and getattr(arguments, name) == parser_defaults[name]
        shown = "-" if value is None else str(value)
        out.write(f"  {name.replace('_', '-'):<{width}}{shown}{'  *' if default else ''}\n")
        if name in positional:
            explicit.append(shlex.quote(str(value)))
        elif value is not None and value is not False:
            flag = "--" + name.replace("_", "-")
            explicit += [flag] if value is True else [flag, shlex.quote(str(value))]
    out.write("  as one command: " + " ".join(explicit) + "\n")
    out.flush()  # the settings reach the log even if the run then dies


def _row(out: TextIO, label: str, value: str) -> None:
    out.write(f"  {label:<34}{value}\n")


def _money(value: float | None) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:,.2f}"


def _read_report(read: _Read, arguments: argparse.Namespace, out: TextIO) -> None:
    base = read.base
    out.write("read:\n")
    _row(out, "transactions read", f"{read.rows:,} rows from {_label(arguments.input)}")
    if arguments.observation_end is not None:
        _row(out, "after --observation-end, left out", f"{read.late:,}")
    _row(out, "customers", f"{len(base):,}")
    if base.observation_end is not None:
        _row(out, "observation end", np.datetime_as_string(base.observation_end, unit="D"))
    if read.split is not None:
        _row(out, "calibration customers", f"{len(read.split.calibration):,} "
                                           f"({read.split.n_excluded:,} first bought later)")
        _row(out, "holdout length", f"{read.split.duration_holdout:g} "
                                    f"{unit_name(base.time_unit)}s")


# -- segments ---------------------------------------------------------------------------------


def segment_columns(base: CustomerBase, scores: Any) -> dict[str, NDArray[Any]]:
    """Segment labels per customer: importance tier, RFM segment, pyramid tier and portfolio
    quadrant (the last two only where potential value is known; empty elsewhere)."""
    from crmcore.value import importance, portfolio, pyramid, rfm_scores, rfm_segments

    n = len(base)
    out: dict[str, NDArray[Any]] = {
        "importance_tier": _values(importance(scores.current_value).labels()),
    }
    money = base.total_spend if base.total_spend is not None else None
    if money is not None and np.isfinite(money).all():
        rfm = rfm_segments(rfm_scores(base.T - base.recency, base.frequency, money),
                           value=money)
        out["rfm_segment"] = _values(rfm.labels())
    else:
        out["rfm_segment"] = np.full(n, None, dtype=object)
    known = np.isfinite(scores.potential_value)
    pyramid_tier = np.full(n, None, dtype=object)
    portfolio_quadrant = np.full(n, None, dtype=object)
    if known.any():
        pyramid_tier[known] = _values(pyramid(scores.current_value[known],
                                              scores.potential_value[known]).labels())
        with_history = known & np.isfinite(scores.historical_value)
        if with_history.any():
            portfolio_quadrant[with_history] = _values(portfolio(
                scores.historical_value[with_history],
                scores.potential_value[with_history]).labels())
    out["pyramid_tier"] = pyramid_tier
    out["portfolio_quadrant"] = portfolio_quadrant
    return out


def _values(labels: NDArray[Any]) -> NDArray[Any]:
    return np.asarray([label.value for label in labels], dtype=object)


def _score_columns(read: _Read, scores: Any) -> dict[str, NDArray[Any]]:
    base = read.split.calibration if read.split is not None else read.base
    columns: dict[str, NDArray[Any]] = dict(base._columns())
    if read.split is not None:
        columns["frequency_holdout"] = read.split.frequency_holdout
        columns["monetary_value_holdout"] = read.split.monetary_value_holdout
    for name, values in scores.columns().items():  # every column Scores has, new ones too
        if name == "customer_id":
            continue
        columns["lifecycle_stage" if name == "stage" else name] = values
    columns.update(segment_columns(base, scores))
    return columns


# -- score ------------------------------------------------------------------------------------


def _horizon(text: str) -> float | None:
    if text.strip().lower() == "lifetime":
        return None
    try:
        value = float(text)
    except ValueError:
        raise CommandError(f"--horizon: {text!r} is neither a number nor 'lifetime'",
                           USAGE) from None
    return value


def _spend_model(text: str | None) -> str | float | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return text


def _default_name(kind: str, given: str | None) -> str | None:
    if given is not None:
        return given
    import crmcore

    try:
        return crmcore.default_model_name(kind)  # type: ignore[arg-type]
    except CRMError:
        return None  # the scoring step reports it, naming the plugin


def _defaults(command: str) -> dict[str, Any]:
    from crmcore.cli import build_parser

    for action in build_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            sub: argparse.ArgumentParser = action.choices[command]
            return {a.dest: a.default for a in sub._actions}
    raise AssertionError(f"no command {command!r}")  # pragma: no cover


def run_score(arguments: argparse.Namespace, out: TextIO) -> int:
    """``crmcore score``."""
    import crmcore

    started = time.perf_counter()
    progress = Progress(quiet=arguments.quiet)
    _fail_on("--output", lambda: output_format(arguments.output))
    horizon = _horizon(arguments.horizon)
    time_unit = _time_unit(arguments)
    if not arguments.quiet:
        resolved = {"time_unit": time_unit, "model": _default_name("value", arguments.model),
                    "spend_model": _default_name("spend", arguments.spend_model)}
        _settings_header("score", arguments, _defaults("score"), resolved, out)
    read = _read_base(arguments, progress, time_unit)
    target = read.split.calibration if read.split is not None else read.base
    manager = crmcore.get_plugin_manager()
    value_model = _fail_on("--model", lambda: crmcore.get_model(
        "value", arguments.model, plugin_manager=manager))
    covariates = _covariates(arguments, progress)
    _takes_covariates(value_model, arguments.model, covariates)
    with progress.step(f"fitting {arguments.model or 'the default value model'}"):
        _fail_on(f"fitting value model {arguments.model or ''}".rstrip(),
                 lambda: value_model.fit(target, **covariates))
    with progress.step(f"scoring {len(target):,} customers"):
        scores = _fail_on("score", lambda: crmcore.score(
            target, margin=arguments.margin, discount_rate=arguments.discount_rate,
            time_unit=time_unit, horizon=horizon, value_model=value_model,
            spend_model=_spend_model(arguments.spend_model), plugin_manager=manager,
            **covariates))
        columns = _fail_on("segments", lambda: _score_columns(read, scores))
    with progress.step(f"writing {arguments.output}"):
        written = _fail_on(arguments.output, lambda: write_table(arguments.output, columns))
    if not arguments.quiet:
        _read_report(read, arguments, out)
        _score_report(read, scores, value_model, out, covariates)
        out.write(f"wrote {written:,} rows x {len(columns)} columns to {arguments.output} "
                  f"in {time.perf_counter() - started:.1f} s\n")
    return 0


def _score_report(read: _Read, scores: Any, value_model: Any, out: TextIO,
                  covariates: Mapping[str, Any]) -> None:
    summary = scores.summary()
    unit = unit_name(scores.time_unit)
    horizon = "lifetime" if scores.horizon is None else f"{scores.horizon:g} {unit}s"
    out.write("scores:\n")
    _row(out, "models", summary.model)
    _row(out, "horizon, discount rate", f"{horizon}, {scores.discount_rate:g} per {unit}")
    _row(out, "total historical value", _money(summary.total_historical_value))
    _row(out, "total current value", _money(summary.total_current_value))
    _row(out, "mean P(alive)", f"{summary.mean_p_alive:.3f}")
    if summary.total_expected_purchases is not None:
        _row(out, "expected repeat purchases", f"{summary.total_expected_purchases:,.1f}")
    if read.split is not None and scores.expected_purchases is not None:
        # The check a planner wants: the model's forecast of the holdout against what happened.
        predicted = float(np.sum(value_model.expected_purchases(
            read.split.duration_holdout, read.split.calibration, **covariates)))
        actual = int(read.split.frequency_holdout.sum())
        _row(out, "holdout repeat purchases", f"predicted {predicted:,.1f}, actual {actual:,}")
    if summary.stage_counts:
        _row(out, "lifecycle stages", ", ".join(
            f"{k} {v:,}" for k, v in sorted(summary.stage_counts.items())))
    for note in scores.notes:
        _row(out, "note", note)


# -- fit and predict --------------------------------------------------------------------------


def _find_model(name: str, kind: str | None) -> tuple[str, Any]:
    import crmcore

    manager = crmcore.get_plugin_manager()
    kinds: list[ModelKind] = ["spend"] if kind == "spend" else ["value"] if kind else [
        "value", "spend"]
    for candidate in kinds:
        offers = crmcore.model_offers(candidate, plugin_manager=manager)
        if name in offers:
            return candidate, _fail_on(f"--model {name}", functools.partial(
                crmcore.get_model, candidate, name, plugin_manager=manager))
    available = sorted({n for k in kinds for n in crmcore.available_models(
        k, plugin_manager=manager)})
    raise CommandError(f"--model: {UnknownModelError(' or '.join(kinds), name, available)}",
                       USAGE)


def run_fit(arguments: argparse.Namespace, out: TextIO) -> int:
    """``crmcore fit``."""
    progress = Progress(quiet=arguments.quiet)
    if Path(arguments.output).suffix.lower() != ".json":
        raise CommandError(f"--output {arguments.output!r}: a model is saved as .json", USAGE)
    time_unit = _time_unit(arguments)
    kind, model = _find_model(arguments.model, arguments.kind)
    if not callable(getattr(model, "to_json", None)):
        raise CommandError(f"--model {arguments.model}: {type(model).__name__} cannot be saved "
                           "as JSON; choose one of crmcore's own models", USAGE)
    if not arguments.quiet:
        _settings_header("fit", arguments, _defaults("fit"), {"time_unit": time_unit}, out)
    read = _read_base(arguments, progress, time_unit)
    target = read.split.calibration if read.split is not None else read.base
    covariates = _covariates(arguments, progress)
    _takes_covariates(model, arguments.model, covariates)
    with progress.step(f"fitting {arguments.model} to {len(target):,} customers"):
        _fail_on(f"fitting {arguments.model}", lambda: model.fit(target, **covariates))
    document = model.to_json()

    def save() -> None:
        with atomic_output(arguments.output) as handle:
            handle.write(document)

    _fail_on(arguments.output, save)
    if not arguments.quiet:
        _read_report(read, arguments, out)
        summary = getattr(model, "summary", None)
        out.write(f"{kind} model:\n{summary() if callable(summary) else model!r}\n")
        out.write(f"saved to {arguments.output}\n")
    return 0


def _saved_model(path: str) -> Any:
    import crmcore

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"{path}: cannot open: {exc.strerror or exc}", USAGE) from None
    try:
        kind = json.loads(text).get("crmcore")
    except (json.JSONDecodeError, AttributeError):
        raise CommandError(f"{path}: not a model saved by 'crmcore fit' (not a JSON object)",
                           USAGE) from None
    manager = crmcore.get_plugin_manager()
    for model_kind in ("value", "spend"):
        for offer in crmcore.model_offers(model_kind, plugin_manager=manager).values():
            model = offer.factory()
            cls = type(model)
            document_kind = getattr(cls, "_document_kind", None)
            if callable(document_kind) and document_kind() == kind:
                return _fail_on(path, functools.partial(cls.from_json, text))
    raise CommandError(f"{path}: not a model saved by 'crmcore fit' (kind {kind!r} is not "
                       "offered by any installed plugin)", USAGE)


def run_predict(arguments: argparse.Namespace, out: TextIO) -> int:
    """``crmcore predict``."""
    progress = Progress(quiet=arguments.quiet)
    _fail_on("--output", lambda: output_format(arguments.output))
    model = _saved_model(arguments.model_file)
    time_unit = _time_unit(arguments, getattr(model, "time_unit_", None))
    if not arguments.quiet:
        _settings_header("predict", arguments, _defaults("predict"), {"time_unit": time_unit},
                         out)
    read = _read_base(arguments, progress, time_unit)
    base = read.split.calibration if read.split is not None else read.base
    columns: dict[str, NDArray[Any]] = dict(base._columns())
    covariates = _covariates(arguments, progress)
    with progress.step(f"predicting for {len(base):,} customers"):
        for name, compute in _predictions(model, base, arguments.horizon, covariates):
            columns[name] = _fail_on(name, compute)
    with progress.step(f"writing {arguments.output}"):
        written = _fail_on(arguments.output, lambda: write_table(arguments.output, columns))
    if not arguments.quiet:
        _read_report(read, arguments, out)
        out.write(f"model: {model!r}\n")
        out.write(f"wrote {written:,} rows x {len(columns)} columns to {arguments.output}\n")
    return 0


def _predictions(model: Any, base: CustomerBase, horizon: float,
                 covariates: Mapping[str, Any],
                 ) -> Iterator[tuple[str, Callable[[], NDArray[Any]]]]:
    keywords = dict(covariates)
    if callable(getattr(model, "p_alive", None)):
        yield "p_alive", lambda: np.asarray(model.p_alive(base, **keywords))
    if callable(getattr(model, "expected_purchases", None)):
        yield "expected_purchases", lambda: np.asarray(model.expected_purchases(
            horizon, base, **keywords))
    if callable(getattr(model, "expected_spend", None)):
        yield "expected_spend", lambda: np.asarray(model.expected_spend(base, **keywords))


# -- models -----------------------------------------------------------------------------------


def run_models(arguments: argparse.Namespace, out: TextIO) -> int:
    """``crmcore models``."""
    import crmcore
    from crmcore.hookspecs import MODEL_KINDS

    manager = _fail_on("plugins", crmcore.get_plugin_manager)
    distributions: dict[str, str] = {}
    for plugin, info in manager.list_plugin_distinfo():
        name = manager.get_name(plugin)
        if name is not None:
            distributions[name] = f"{info.project_name} {info.version}"
    rows: list[tuple[str, str, str, str]] = []
    for kind in MODEL_KINDS:
        offers = _fail_on(f"{kind} models", lambda kind=kind: crmcore.model_offers(  # type: ignore[misc]
            kind, plugin_manager=manager))
        try:
            default = crmcore.default_model_name(kind, plugin_manager=manager)
        except (UnknownModelError, PluginError):
            default = None
        for name in sorted(offers):
            plugin = offers[name].plugin
            dist = distributions.get(plugin) or (
                f"crmcore {crmcore.__version__} (built in)" if plugin.startswith("crmcore.")
                else "registered in code")
            rows.append((kind, name + (" *" if name == default else ""), plugin, dist))
    header = ("kind", "model", "plugin", "distribution")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    for row in [header, *rows]:
        out.write("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))
                  .rstrip() + "\n")
    out.write("* the default model of its kind\n")
    del arguments  # the command has no options of its own
    return 0
