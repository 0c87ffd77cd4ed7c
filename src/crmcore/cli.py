"""The ``crmcore`` command line: ``crmcore demo`` runs the main job on the bundled CDNOW data.

Output goes to standard output as plain text tables, so it reads well in a terminal and in CI
logs. The library itself never prints; only this edge does.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

__all__ = ["main"]


def _table(rows: Sequence[tuple[str, str]], out: TextIO, title: str) -> None:
    width = max(len(label) for label, _ in rows)
    out.write(f"\n{title}\n{'-' * len(title)}\n")
    for label, value in rows:
        out.write(f"  {label:<{width}}  {value}\n")


def demo(out: TextIO) -> int:
    """Load CDNOW, summarise the 39-week calibration period, and score the customers."""
    from crmcore.datasets import CDNOW_CALIBRATION_END, load_cdnow

    base = load_cdnow()
    split = base.calibration_holdout(CDNOW_CALIBRATION_END)
    calibration = split.calibration
    out.write("crmcore demo: the CDNOW 1/10 sample (Fader, Hardie & Lee 2005)\n")
    repeaters = calibration.frequency > 0
    _table(
        [
            ("customers", f"{len(calibration):,}"),
            ("observation", f"first purchases in Q1 1997, calibration to "
                            f"{CDNOW_CALIBRATION_END}, holdout "
                            f"{split.duration_holdout:.1f} {calibration.time_unit} more"),
            ("repeat buyers (calibration)", f"{int(repeaters.sum()):,} "
                                            f"({repeaters.mean():.1%})"),
            ("repeat purchases (calibration)", f"{int(calibration.frequency.sum()):,}"),
            ("repeat purchases (holdout)", f"{int(split.frequency_holdout.sum()):,}"),
            ("mean T (weeks)", f"{calibration.T.mean():.2f}"),
            ("mean repeat spend, repeaters ($)",
             f"{calibration.monetary_value[repeaters].mean():.2f}"),
        ],
        out,
        "Customer base",
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``crmcore`` command."""
    parser = argparse.ArgumentParser(prog="crmcore", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="score the bundled CDNOW customers and print the results")
    arguments = parser.parse_args(argv)
    if arguments.command == "demo":
        return demo(sys.stdout)
    return 2  # pragma: no cover - argparse rejects unknown commands first


if __name__ == "__main__":
    sys.exit(main())
