"""Files in and out of the command line: transaction logs read, result tables written atomically.

CSV (and standard input) is read with the standard library's ``csv`` module, so
``crmcore score log.csv`` works with crmcore's core dependencies alone; Parquet needs pyarrow
(the ``cli`` extra) or polars. Outputs are written to a temporary file in the output's own
directory and renamed into place (:func:`os.replace`, atomic on POSIX and Windows), so a run
that fails or is interrupted never leaves a half-written output and never replaces an
existing one with a partial file.
"""

from __future__ import annotations

import array
import contextlib
import csv
import datetime as dt
import enum
import io
import json
import math
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
from numpy.typing import NDArray

from crmcore._errors import (
    DataError,
    DateError,
    EmptyDataError,
    InvalidValueError,
    UnknownColumnError,
)
from crmcore._frames import TransactionColumns, parse_time_strings, read_transactions

__all__ = [
    "OUTPUT_FORMATS",
    "InputError",
    "LogColumns",
    "atomic_output",
    "note_line",
    "output_format",
    "read_covariates_file",
    "read_log",
    "write_table",
]

OUTPUT_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl",
                  ".ndjson": "jsonl"}
"""Output file extensions and the format each selects."""

_INTEGER = re.compile(r"\s*[+-]?\d+\s*\Z")
_PROGRESS_EVERY = 100_000


class InputError(DataError):
    """A file the command line cannot open or read (named in the message)."""


class LogColumns:
    """Which columns of a log hold what (``None``: not given)."""

    def __init__(self, *, customer_id: str, datetime: str, monetary_value: str | None) -> None:
        self.customer_id = customer_id
        self.datetime = datetime
        self.monetary_value = monetary_value

    def roles(self) -> list[tuple[str, str]]:
        """``(role, column)`` for every column given."""
        pairs = [("customer_id", self.customer_id), ("datetime", self.datetime)]
        if self.monetary_value is not None:
            pairs.append(("monetary_value", self.monetary_value))
        return pairs


# -- reading ----------------------------------------------------------------------------------


def read_log(
    source: str,
    columns: LogColumns,
    *,
    separator: str = ",",
    datetime_format: str | None = None,
    on_rows: Callable[[int], None] | None = None,
) -> tuple[TransactionColumns, Callable[[int], int | None]]:
    """Read a transaction log: CSV (a path, or ``"-"`` for standard input) or Parquet.

    Returns the checked columns and a function from a 0-based row position (as crmcore's
    messages give them) to the line of the file it came from (``None`` for Parquet).

    ``separator`` is one character, or ``"whitespace"`` for columns separated by runs of
    spaces and tabs (as in the CDNOW master file).
    """
    suffix = Path(source).suffix.lower()
    if source != "-" and suffix in (".parquet", ".pq"):
        return _read_parquet(source, columns, datetime_format), lambda row: None
    if source == "-":
        stream = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", newline="")
        return _read_csv(stream, columns, separator, datetime_format, on_rows)
    try:
        handle = open(source, encoding="utf-8-sig", newline="")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise InputError(f"cannot open: {exc.strerror or exc}", field="input") from None
    with handle:
        try:
            return _read_csv(handle, columns, separator, datetime_format, on_rows)
        except UnicodeDecodeError as exc:
            raise InputError(f"not UTF-8 text ({exc.reason} at byte {exc.start}); save the "
                             "file as UTF-8 CSV", field="input") from None


def _rows(stream: IO[str], separator: str) -> Iterator[list[str]]:
    if separator == "whitespace":
        return (line.split() for line in stream)
    if len(separator) != 1:
        raise InvalidValueError(f"--separator must be one character or 'whitespace', got "
                                f"{separator!r}", field="separator")
    return csv.reader(stream, delimiter=separator)


def _read_csv(
    stream: IO[str], columns: LogColumns, separator: str, datetime_format: str | None,
    on_rows: Callable[[int], None] | None,
) -> tuple[TransactionColumns, Callable[[int], int | None]]:
    rows = _rows(stream, separator)
    header = next(rows, None)
    if header is None:
        raise EmptyDataError("the file is empty (no header line)", field="input")
    header = [name.strip() for name in header]
    wanted = columns.roles()
    positions: list[int] = []
    for role, name in wanted:
        if name not in header:
            raise UnknownColumnError(name, header, role=role)
        positions.append(header.index(name))
    values: list[list[str]] = [[] for _ in wanted]
    width = max(positions) + 1
    lines = array.array("q")  # the file line of each data row, for messages
    for line, row in enumerate(rows, start=2):
        if not row or (len(row) == 1 and not row[0].strip()):
            continue  # blank line
        lines.append(line)
        if len(row) < width:
            raise DataError(f"line {line} has {len(row)} field(s); the header has "
                            f"{len(header)}", field="input", rows=(line,))
        for target, position in zip(values, positions, strict=True):
            target.append(row[position])
        if on_rows is not None and len(values[0]) % _PROGRESS_EVERY == 0:
            on_rows(len(values[0]))
    if on_rows is not None:
        on_rows(len(values[0]))
    if not values[0]:
        raise EmptyDataError("the file has a header but no data rows", field="input")

    def line_of(row: int) -> int | None:
        return lines[row] if 0 <= row < len(lines) else None

    try:
        ids = _ids(values[0], columns.customer_id)
        times, zone = _times(values[1], columns.datetime, datetime_format)
        amounts = None if columns.monetary_value is None else _amounts(values[2],
                                                                       columns.monetary_value)
    except DataError as exc:
        note_line(exc, line_of)
        raise
    log = TransactionColumns(customer_id=ids, at=times, amount=amounts, time_zone=zone)
    return log, line_of


def note_line(exc: DataError, line_of: Callable[[int], int | None]) -> None:
    """Add the file line of the error's first row to ``exc`` as a note (PEP 678)."""
    line = line_of(exc.rows[0]) if exc.rows and isinstance(exc.rows[0], int) else None
    if line is not None:
        exc.add_note(f"line {line} of the file")


def _first_blank(values: Sequence[str]) -> int | None:
    return next((i for i, v in enumerate(values) if not v.strip()), None)


def _ids(values: list[str], column: str) -> NDArray[Any]:
    blank = _first_blank(values)
    if blank is not None:
        raise InvalidValueError(f"column {column!r} (customer_id) is empty at row {blank}",
                                field=column, rows=(blank,))
    if all(_INTEGER.match(v) for v in values):
        try:
            return np.asarray([int(v) for v in values], dtype=np.int64)
        except OverflowError:
            pass  # ids too long for 64 bits stay text
    return np.asarray([v.strip() for v in values], dtype=object)


def _times(values: list[str], column: str, datetime_format: str | None
           ) -> tuple[NDArray[np.datetime64], str | None]:
    """Local purchase times and the data's time zone, by the library's one rule for text."""
    blank = _first_blank(values)
    if blank is not None:
        raise DateError(f"column {column!r} (datetime) is empty at row {blank}",
                        field=column, rows=(blank,))
    return parse_time_strings([v.strip() for v in values], column, datetime_format)


def _floats(values: list[str], column: str, what: str, hint: str = "") -> NDArray[np.float64]:
    """A column of numbers; the first cell that is not one is named with its row."""
    try:
        return np.asarray(values, dtype=np.float64)
    except ValueError:
        for i, v in enumerate(values):
            try:
                float(v)
            except ValueError:
                raise InvalidValueError(f"{what} is not a number at row {i}: {v!r}{hint}",
                                        field=column, rows=(i,)) from None
        raise  # pragma: no cover - numpy refused a list that float() accepts


def _amounts(values: list[str], column: str) -> NDArray[np.float64]:
    amounts = _floats(values, column, f"column {column!r} (monetary_value)")
    bad = np.flatnonzero(~np.isfinite(amounts))
    if len(bad):
        raise InvalidValueError(
            f"column {column!r} (monetary_value) is not finite at row {bad[0]}: "
            f"{values[bad[0]]!r}", field=column, rows=bad.tolist())
    negative = np.flatnonzero(amounts < 0)
    if len(negative):
        raise InvalidValueError(
            f"column {column!r} (monetary_value) is negative at row {negative[0]}: "
            f"{values[negative[0]]!r} ({len(negative)} negative in all); amounts must be >= 0 "
            "(record returns apart from purchases)", field=column, rows=negative.tolist())
    return amounts


def _read_parquet(source: str, columns: LogColumns, datetime_format: str | None
                  ) -> TransactionColumns:
    if not Path(source).is_file():
        raise InputError("cannot open: no such file", field="input")
    try:
        import pyarrow.parquet as pq

        table: Any = pq.read_table(source)
    except ModuleNotFoundError:
        try:
            import polars as pl
        except ModuleNotFoundError:
            raise InputError("reading Parquet needs pyarrow or polars: pip install "
                             "'crmcore[cli]'", field="input") from None
        table = pl.read_parquet(source)
    except Exception as exc:  # pyarrow's ArrowInvalid and kin: not a Parquet file
        raise InputError(f"cannot read as Parquet: {exc}", field="input") from None
    return read_transactions(table, customer_id=columns.customer_id, datetime=columns.datetime,
                             monetary_value=columns.monetary_value,
                             datetime_format=datetime_format)


def read_covariates_file(
    source: str, *, customer_id: str, datetime: str | None = None, separator: str = ",",
    datetime_format: str | None = None,
) -> Any:
    """A covariate file (``--covariates``) as a data frame for the models' covariate readers.

    CSV (read with the standard library, like the log: ids by the log's rule, ``datetime``
    by the library's one time rule, every other column a number) or Parquet. The frame is a
    pyarrow table, else pandas, else polars, whichever is installed; covariates need one of
    them (the ``cli`` extra brings pyarrow).
    """
    if not Path(source).is_file():
        raise InputError(f"--covariates {source}: cannot open: no such file",
                         field="covariates")
    if Path(source).suffix.lower() in (".parquet", ".pq"):
        try:
            import pyarrow.parquet as pq

            return pq.read_table(source)
        except ModuleNotFoundError:
            try:
                import polars as pl
            except ModuleNotFoundError:
                raise InputError("reading Parquet needs pyarrow or polars: pip install "
                                 "'crmcore[cli]'", field="covariates") from None
            return pl.read_parquet(source)
        except Exception as exc:  # pyarrow's ArrowInvalid and kin: not a Parquet file
            raise InputError(f"--covariates {source}: cannot read as Parquet: {exc}",
                             field="covariates") from None
    try:
        handle = open(source, encoding="utf-8-sig", newline="")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise InputError(f"--covariates {source}: cannot open: {exc.strerror or exc}",
                         field="covariates") from None
    with handle:
        try:
            rows = _rows(handle, separator)
            header = [name.strip() for name in next(rows, [])]
            data = [row for row in rows if row and not (len(row) == 1 and not row[0].strip())]
        except UnicodeDecodeError as exc:
            raise InputError(f"--covariates {source}: not UTF-8 text ({exc.reason} at byte "
                             f"{exc.start})", field="covariates") from None
    if not header:
        raise EmptyDataError(f"--covariates {source} is empty (no header line)",
                             field="covariates")
    if not data:
        raise EmptyDataError(f"--covariates {source} has a header but no data rows",
                             field="covariates")
    for role, name in (("customer_id", customer_id), ("datetime", datetime)):
        if name is not None and name not in header:
            raise UnknownColumnError(name, header, role=role)
    short = next((i for i, row in enumerate(data) if len(row) < len(header)), None)
    if short is not None:
        raise DataError(f"--covariates {source}: line {short + 2} has {len(data[short])} "
                        f"field(s); the header has {len(header)}", field="covariates",
                        rows=(short + 2,))
    columns: dict[str, Any] = {}
    for position, name in enumerate(header):
        values = [row[position] for row in data]
        try:
            if name == customer_id:
                columns[name] = _ids(values, name)
            elif name == datetime:
                columns[name] = _times(values, name, datetime_format)[0]
            else:
                columns[name] = _numbers(values, name)
        except DataError as exc:
            note_line(exc, lambda row: row + 2)
            raise
    return _frame(columns)


def _numbers(values: list[str], column: str) -> NDArray[np.float64]:
    """A covariate column (categories need 0/1 dummy columns)."""
    return _floats(values, column, f"covariate {column!r}",
                   " (give a category as 0/1 dummy columns)")


def _frame(columns: Mapping[str, NDArray[Any]]) -> Any:
    """``columns`` as a native data frame of the first installed of pyarrow, pandas, polars."""
    import importlib

    import narwhals.stable.v1 as nw

    for backend in ("pyarrow", "pandas", "polars"):
        try:
            importlib.import_module(backend)
        except ModuleNotFoundError:
            continue
        data = {name: (values.tolist() if values.dtype == object else values)
                for name, values in columns.items()}
        return nw.from_dict(data, backend=backend).to_native()
    raise InputError("--covariates needs pyarrow, pandas or polars to hold the covariates: "
                     "pip install 'crmcore[cli]'", field="covariates")


# -- writing ----------------------------------------------------------------------------------


def output_format(path: str) -> str:
    """The output format its extension selects (checked before any work is done), or
    :class:`InvalidValueError`; Parquet without pyarrow is an :class:`InputError`."""
    fmt = OUTPUT_FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise InvalidValueError(
            f"output {path!r}: unknown extension; use one of "
            + ", ".join(sorted(OUTPUT_FORMATS)), field="output")
    if fmt == "parquet":
        try:
            import pyarrow.parquet  # noqa: F401 - only checking that it is there
        except ModuleNotFoundError:
            raise InputError("writing Parquet needs pyarrow: pip install 'crmcore[cli]'",
                             field="output") from None
    return fmt


@contextlib.contextmanager
def atomic_output(path: str | Path, *, binary: bool = False) -> Iterator[IO[Any]]:
    """A temporary file next to ``path``, renamed onto ``path`` only when the block succeeds.

    On any exception (an interrupt included) the temporary file is removed and ``path`` is
    left as it was.
    """
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise InputError(f"output {str(target)!r}: directory {str(directory)!r} does not "
                         "exist", field="output")
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part",
                                     dir=directory)
    try:
        mode = "wb" if binary else "w"
        kwargs: dict[str, Any] = {} if binary else {"encoding": "utf-8", "newline": ""}
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(OSError):
            # mkstemp creates 0600; give the output the permissions a new file would get
            mask = os.umask(0)
            os.umask(mask)
            os.chmod(temporary, 0o666 & ~mask)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _cell(value: Any) -> Any:
    """A value as JSON/CSV sees it: NaN and None become None, enums their value, dates ISO."""
    if value is None:
        return None
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, int | str | bool):
        return value
    return str(value)


def _as_list(values: NDArray[Any]) -> list[Any]:
    if np.issubdtype(values.dtype, np.datetime64):
        return [None if np.isnat(v) else np.datetime_as_string(v, unit="s")
                for v in values]
    return [_cell(v) for v in values.tolist()]


def write_table(path: str, columns: Mapping[str, NDArray[Any]]) -> int:
    """Write aligned columns to ``path`` (format by extension), atomically; returns rows."""
    fmt = output_format(path)
    names = list(columns)
    lists = [_as_list(np.asarray(columns[name])) for name in names]
    n = len(lists[0]) if lists else 0
    if fmt == "parquet":
        _write_parquet(path, names, lists)
        return n
    with atomic_output(path) as handle:
        if fmt == "csv":
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(names)
            for row in zip(*lists, strict=True):
                writer.writerow(["" if v is None else (repr(v) if isinstance(v, float) else v)
                                 for v in row])
        else:
            for row in zip(*lists, strict=True):
                handle.write(json.dumps(dict(zip(names, row, strict=True)),
                                        ensure_ascii=False, allow_nan=False))
                handle.write("\n")
    return n


def _write_parquet(path: str, names: list[str], lists: list[list[Any]]) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ModuleNotFoundError:
        raise InputError("writing Parquet needs pyarrow: pip install 'crmcore[cli]'",
                         field="output") from None
    table = pa.table({name: pa.array(values) for name, values in zip(names, lists,
                                                                     strict=True)})
    with atomic_output(path, binary=True) as handle:
        pq.write_table(table, handle)
