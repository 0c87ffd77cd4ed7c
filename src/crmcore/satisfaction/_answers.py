"""Survey answers in any of the accepted shapes, as one respondents x items float matrix."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from crmcore._domain import CustomerId, SurveyResponse
from crmcore._errors import InvalidValueError, describe_rows

__all__ = ["Answers", "answers_matrix", "check_in_scale"]

FloatArray: TypeAlias = npt.NDArray[np.float64]

Answers: TypeAlias = Any
"""Survey answers: a ``(respondents, items)`` array (or one respondent's ``(items,)`` vector) in
item order; a mapping item name -> column of answers; a data frame with one column per item;
or a sequence of :class:`crmcore.SurveyResponse`. Missing answers are NaN (or absent keys)."""


def answers_matrix(
    answers: Answers, items: Sequence[str], *, field: str = "answers"
) -> tuple[FloatArray, tuple[CustomerId, ...] | None]:
    """``(x, respondents)``: answers as a float matrix with one column per item (NaN where
    missing), and the respondents' ids when the answers came as survey responses.

    Raises
    ------
    InvalidValueError
        A matrix with the wrong number of columns, columns of unequal length, values that are
        not numbers, or answers that mention none of the items.
    """
    m = len(items)
    if isinstance(answers, Sequence) and answers and all(
        isinstance(r, SurveyResponse) for r in answers
    ):
        x = np.full((len(answers), m), np.nan)
        for col, item in enumerate(items):
            x[:, col] = [r.answers.get(item, np.nan) for r in answers]
        if np.isnan(x).all():
            raise InvalidValueError(
                f"{field}: the survey responses answer none of the items "
                f"{', '.join(items[:8])}{', ...' if m > 8 else ''}",
                field=field,
            )
        return x, tuple(r.customer_id for r in answers)
    if isinstance(answers, Mapping) or hasattr(answers, "columns"):
        names = [str(c) for c in (answers.keys() if isinstance(answers, Mapping)
                                  else answers.columns)]
        present = [item for item in items if item in names]
        if not present:
            raise InvalidValueError(
                f"{field}: no column is named after an item; items are "
                f"{', '.join(items[:8])}{', ...' if m > 8 else ''}; columns are "
                f"{', '.join(names[:8])}",
                field=field,
            )
        columns: dict[str, FloatArray] = {}
        for item in present:
            try:
                columns[item] = np.asarray(answers[item], dtype=np.float64).reshape(-1)
            except (TypeError, ValueError) as exc:
                raise InvalidValueError(f"{field}[{item!r}]: answers must be numbers: {exc}",
                                        field=f"{field}[{item!r}]") from exc
        lengths = {len(c) for c in columns.values()}
        if len(lengths) != 1:
            raise InvalidValueError(f"{field}: item columns have different lengths "
                                    f"{sorted(lengths)}", field=field)
        n = lengths.pop()
        x = np.full((n, m), np.nan)
        for col, item in enumerate(items):
            if item in columns:
                x[:, col] = columns[item]
        return x, None
    try:
        x = np.array(answers, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidValueError(f"{field}: answers must be numbers: {exc}", field=field) from exc
    if x.ndim == 1:
        x = x[np.newaxis, :]
    if x.ndim != 2 or x.shape[1] != m:
        raise InvalidValueError(
            f"{field}: expected one column per item ({m}: {', '.join(items[:8])}"
            f"{', ...' if m > 8 else ''}), got shape {x.shape}",
            field=field,
        )
    if np.isinf(x).any():
        rows = np.flatnonzero(np.isinf(x).any(axis=1))
        raise InvalidValueError(f"{field}: infinite answers in {describe_rows(rows.tolist())}",
                                field=field, rows=rows.tolist())
    return x, None


def check_in_scale(x: FloatArray, items: Sequence[str], low: FloatArray, high: FloatArray,
                   *, field: str = "answers") -> None:
    """Raise :class:`InvalidValueError` naming the first item (and its rows) with answers
    outside ``[low, high]``; NaN (missing) is allowed."""
    with np.errstate(invalid="ignore"):
        outside = (x < low) | (x > high)
    if outside.any():
        col = int(np.flatnonzero(outside.any(axis=0))[0])
        rows = np.flatnonzero(outside[:, col]).tolist()
        raise InvalidValueError(
            f"{field}: item {items[col]!r} has answers outside its scale "
            f"[{low[col]:g}, {high[col]:g}] in {describe_rows(rows)}: "
            f"{x[rows[:5], col].tolist()}",
            field=f"{field}[{items[col]!r}]", rows=rows,
        )
