"""The ``crmcore`` command line: score, fit, predict, models and demo.

Results go to the output file; the run's summary (every setting, defaults included, then what
was read, fitted and written) goes to standard output; progress goes to standard error, only
when it is a terminal. Errors are one line on standard error naming the file, the column or the
value; the exit status is 2 for usage and data errors and 1 for a model that could not be
fitted or a failure of crmcore itself. ``--debug`` adds the traceback. The library never
prints; only this edge does.
"""

from __future__ import annotations

import argparse
import signal
import sys
import traceback
from collections.abc import Sequence
from types import FrameType
from typing import Any, NoReturn, TextIO

from crmcore.cli._commands import (
    FAILURE,
    CommandError,
    run_fit,
    run_models,
    run_predict,
    run_score,
)
from crmcore.cli._demo import demo

__all__ = ["build_parser", "main"]

_SCORE_EXAMPLE = """\
example:
  crmcore score orders.csv -o scores.parquet --customer-id customer --datetime ordered_at \\
      --monetary-value amount --calibration-end 2024-06-30 --margin 0.25 \\
      --discount-rate 0.002 --horizon 52

  # the CDNOW master file: whitespace-separated, dates like 19970101
  crmcore score CDNOW_master.txt -o cdnow.csv --separator whitespace \\
      --customer-id customer_id --datetime date --datetime-format %Y%m%d \\
      --monetary-value dollar_value --observation-end 1998-06-30
"""

_FIT_EXAMPLE = """\
example:
  crmcore fit orders.csv --model bgnbd -o bgnbd.json --customer-id customer \\
      --datetime ordered_at --calibration-end 2024-06-30
"""

_PREDICT_EXAMPLE = """\
example:
  crmcore predict bgnbd.json orders.csv -o predictions.jsonl --customer-id customer \\
      --datetime ordered_at --horizon 13
"""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Each option's default after its help (where it has one), examples kept as written."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if ("(default" not in text and action.default not in (None, False)
                and action.default is not argparse.SUPPRESS and action.option_strings):
            text += " (default: %(default)s)"
        return text


def _common(debug_only: bool = False) -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("output control")
    if not debug_only:
        group.add_argument("-q", "--quiet", action="store_true",
                           help="no progress display and no run summary (errors still shown)")
    group.add_argument("--debug", action="store_true",
                       help="show the traceback of an error")
    return parent


def _reading(parent: argparse.ArgumentParser, *, required_columns: bool) -> None:
    group = parent.add_argument_group("reading the transaction log")
    group.add_argument("--customer-id", required=required_columns,
                       default=None if required_columns else "customer_id", metavar="COL",
                       help="column of customer ids")
    group.add_argument("--datetime", required=required_columns,
                       default=None if required_columns else "date", metavar="COL",
                       help="column of purchase dates or date-times")
    group.add_argument("--monetary-value", metavar="COL", default=None,
                       help="column of purchase amounts (without it spend is unknown)")
    group.add_argument("--datetime-format", metavar="FMT", default=None,
                       help="strptime format of the dates, e.g. %%Y%%m%%d (default: ISO 8601)")
    group.add_argument("--separator", default=",", metavar="SEP",
                       help="CSV field separator: one character, or 'whitespace' for runs of "
                            "spaces and tabs")
    group.add_argument("--freq", default="D", choices=["D", "W", "M", "Q", "Y"],
                       help="period purchases are bucketed into")
    group.add_argument("--time-unit", default=None, choices=["D", "W", "M", "Q", "Y"],
                       help="unit of recency, T, horizon and discount rate (default: W for "
                            "daily or weekly periods, else --freq; for predict: the model's)")
    group.add_argument("--observation-end", metavar="DATE", default=None,
                       help="end of the observation window; later transactions are left out "
                            "and counted (default: the last purchase)")
    group.add_argument("--calibration-end", metavar="DATE", default=None,
                       help="fit and score on the purchases up to DATE and report the "
                            "holdout after it")


def _covariate_options(parent: argparse.ArgumentParser) -> None:
    group = parent.add_argument_group("covariates")
    group.add_argument("--covariates", metavar="FILE", default=None,
                       help="CSV or Parquet file of customer covariates: one row per customer, "
                            "or with --covariate-time one row per customer and period start; "
                            "numeric columns (0/1 dummies for categories), every column but "
                            "the id and time used on both processes (and on spend)")
    group.add_argument("--covariate-id", metavar="COL", default=None,
                       help="customer id column of --covariates (default: --customer-id)")
    group.add_argument("--covariate-time", metavar="COL", default=None,
                       help="period-start column of time-varying covariates (a row holds "
                            "until the customer's next one); needs a time-varying model, "
                            "--model pareto-nbd-dynamic")


def build_parser() -> argparse.ArgumentParser:
    """The ``crmcore`` argument parser (every command, its options and examples)."""
    parser = argparse.ArgumentParser(
        prog="crmcore", formatter_class=_Formatter,
        description="Customer value, lifecycle and segments from a transaction log.",
        epilog="Run 'crmcore COMMAND --help' for a command's options and a worked example.")
    from crmcore import __version__

    parser.add_argument("--version", action="version", version=f"crmcore {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    score = commands.add_parser(
        "score", parents=[_common()], formatter_class=_Formatter, epilog=_SCORE_EXAMPLE,
        help="score every customer of a transaction log into a table",
        description="One row per customer: frequency, recency, T, monetary value, P(alive), "
                    "expected purchases, lifetime value and its parts, lifecycle stage and "
                    "segments. Output format by extension: .csv, .parquet, .jsonl.")
    score.add_argument("input", metavar="INPUT", help="CSV or Parquet file; '-' reads CSV "
                                                      "from standard input")
    score.add_argument("-o", "--output", required=True, metavar="OUTPUT",
                       help="output file (.csv, .parquet or .jsonl), written atomically")
    _reading(score, required_columns=True)
    models = score.add_argument_group("models and money")
    models.add_argument("--model", default=None, metavar="NAME",
                        help="value (purchase) model from 'crmcore models' (default: the "
                             "registry's, bgnbd)")
    models.add_argument("--spend-model", default=None, metavar="NAME",
                        help="spend model (default: the registry's, gamma-gamma), or a "
                             "number: the spend per purchase for everyone")
    models.add_argument("--margin", type=float, default=0.3,
                        help="contribution margin rate (0.3 = 30%%)")
    models.add_argument("--discount-rate", type=float, default=0.0, metavar="R",
                        help="discount rate per --time-unit (0.002 = 0.2%%)")
    models.add_argument("--horizon", default="52", metavar="N",
                        help="value horizon in --time-unit, or 'lifetime' (needs a discount "
                             "rate > 0)")
    _covariate_options(score)

    fit = commands.add_parser(
        "fit", parents=[_common()], formatter_class=_Formatter, epilog=_FIT_EXAMPLE,
        help="fit one model to a transaction log and save it as JSON",
        description="Fit a value or spend model and save it (parameters, standard errors, "
                    "log-likelihood) as a JSON document for 'crmcore predict'.")
    fit.add_argument("input", metavar="INPUT", help="CSV or Parquet file, or '-'")
    fit.add_argument("--model", required=True, metavar="NAME",
                     help="model name from 'crmcore models'")
    fit.add_argument("--kind", choices=["value", "spend"], default=None,
                     help="model kind (default: value if a value model has that name, "
                          "else spend)")
    fit.add_argument("-o", "--output", required=True, metavar="MODEL.json",
                     help="where to save the model (written atomically)")
    _reading(fit, required_columns=True)
    _covariate_options(fit)

    predict = commands.add_parser(
        "predict", parents=[_common()], formatter_class=_Formatter, epilog=_PREDICT_EXAMPLE,
        help="predict from a saved model for every customer of a log",
        description="Read a model saved by 'crmcore fit' and write, per customer, P(alive) "
                    "and expected purchases (value models) or expected spend (spend models).")
    predict.add_argument("model_file", metavar="MODEL.json", help="a model saved by fit")
    predict.add_argument("input", metavar="INPUT", help="CSV or Parquet file, or '-'")
    predict.add_argument("-o", "--output", required=True, metavar="OUTPUT",
                         help="output file (.csv, .parquet or .jsonl), written atomically")
    _reading(predict, required_columns=True)
    predict.add_argument("--horizon", type=float, default=52.0, metavar="N",
                         help="horizon of the expected purchases, in --time-unit")
    _covariate_options(predict)

    commands.add_parser(
        "models", parents=[_common(debug_only=True)], formatter_class=_Formatter,
        help="list every registered model and the plugin offering it",
        description="Every model of every kind that the installed plugins offer, with the "
                    "plugin and the distribution it comes from; * marks each kind's default.",
        epilog="example:\n  crmcore models\n")
    commands.add_parser(
        "demo", parents=[_common(debug_only=True)], formatter_class=_Formatter,
        help="score the bundled CDNOW customers and print the results",
        description="Fit, check and score the bundled CDNOW sample and print the results.",
        epilog="example:\n  crmcore demo\n")
    return parser


def _terminate(signum: int, frame: FrameType | None) -> NoReturn:
    raise KeyboardInterrupt  # unwinds through the atomic writer, which removes its temp file


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``crmcore`` command; returns the exit status."""
    if argv is None and hasattr(signal, "SIGTERM"):
        # Only as the real command: a library caller's signal handlers are its own.
        signal.signal(signal.SIGTERM, _terminate)
    parser = build_parser()
    arguments = parser.parse_args(argv)
    out: TextIO = sys.stdout
    handlers: dict[str, Any] = {"score": run_score, "fit": run_fit, "predict": run_predict,
                                "models": run_models}
    try:
        if arguments.command == "demo":
            return demo(out)
        return int(handlers[arguments.command](arguments, out))
    except CommandError as exc:
        return _report(arguments, exc.message, exc.status, exc)
    except KeyboardInterrupt:
        return _report(arguments, "interrupted; no output was written", FAILURE, None)
    except Exception as exc:  # a failure of crmcore itself: still one line unless --debug
        return _report(arguments, f"internal error: {type(exc).__name__}: {exc} (rerun with "
                       "--debug for the traceback)", FAILURE, exc)


def _report(arguments: argparse.Namespace, message: str, status: int,
            exc: BaseException | None) -> int:
    if getattr(arguments, "debug", False) and exc is not None:
        traceback.print_exception(exc.__cause__ or exc, file=sys.stderr)
    first_line = " ".join(message.split())
    sys.stderr.write(f"crmcore {arguments.command}: error: {first_line}\n")
    return status

