"""A one-line progress display on standard error, shown only when it is a terminal.

crmcore's long steps (reading a log, fitting a model, scoring a base) are a handful of
vectorised calls, not loops with a known number of iterations, so what can be shown honestly is
which step runs, how long it has taken and, while reading, how many rows have been read. That
needs no progress-bar library (see docs/architecture.md).
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """Step-by-step status on ``stream``; silent unless enabled and ``stream`` is a terminal."""

    def __init__(self, *, quiet: bool, stream: TextIO | None = None) -> None:
        self._stream = sys.stderr if stream is None else stream
        isatty = getattr(self._stream, "isatty", None)
        self.enabled = not quiet and callable(isatty) and bool(isatty())
        self._label = ""
        self._started = 0.0

    def _show(self, text: str, *, final: bool = False) -> None:
        if not self.enabled:
            return
        self._stream.write("\r\x1b[2K" + text + ("\n" if final else ""))
        self._stream.flush()

    @contextlib.contextmanager
    def step(self, label: str) -> Iterator[None]:
        """Show ``label ...`` while the block runs, then ``label: done in 1.2 s``."""
        self._label, self._started = label, time.perf_counter()
        self._show(f"{label} ...")
        try:
            yield
        except BaseException:
            self._show(f"{label}: stopped", final=True)
            raise
        self._show(f"{label}: done in {time.perf_counter() - self._started:.1f} s",
                   final=True)

    def rows(self, count: int) -> None:
        """Update the current step with a count of rows read so far."""
        elapsed = time.perf_counter() - self._started
        self._show(f"{self._label} ... {count:,} rows ({elapsed:.1f} s)")
