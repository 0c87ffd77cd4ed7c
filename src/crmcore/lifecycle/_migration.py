"""How customers move between states over time: lifecycle stages and recency states.

Two kinds of state are counted here, both as inputs to the migration model of Pfeifer &
Carraway (2000, J. Interactive Marketing 14(2), 43-55; :class:`crmcore.lifecycle.MarkovCLV`):

* lifecycle stages, classified at several cut-off dates (:func:`stage_migration`);
* recency states, "periods since the last purchase" capped at ``n_states`` (the states of
  Pfeifer & Carraway's direct-marketing example), counted for every customer and every period
  from the gaps between purchases (:func:`recency_transitions`), never period by period.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Final

import attrs
import numpy as np
import pluggy
from numpy.typing import NDArray

from crmcore._base import CustomerBase, PurchaseHistory
from crmcore._errors import DataError, InvalidValueError
from crmcore._frames import FrameBackend, _frame
from crmcore._time import check_unit, period_index, period_start, to_datetime64
from crmcore.lifecycle._classify import classify
from crmcore.lifecycle._protocols import PAliveModel
from crmcore.lifecycle._stages import STAGES
from crmcore.protocols import LifecycleModel

__all__ = [
    "MIGRATION_STATES",
    "StageMigration",
    "recency_state",
    "recency_transitions",
    "stage_migration",
    "transition_probabilities",
]

_IntArray = NDArray[np.int64]
_FloatArray = NDArray[np.float64]

MIGRATION_STATES: Final[tuple[str, ...]] = ("not-acquired", *(s.value for s in STAGES))
"""Rows and columns of :meth:`StageMigration.counts`: not yet a customer, then the stages."""


@attrs.frozen(eq=False)
class StageMigration:
    """Each customer's stage at successive cut-off dates.

    Attributes
    ----------
    customer_id:
        The customers, as in the base.
    cutoffs:
        The cut-off dates, ascending.
    code:
        Stage codes, one row per customer and one column per cut-off (-1: not yet a
        customer; else ``LifecycleStage.order``).
    """

    customer_id: NDArray[Any]
    cutoffs: NDArray[np.datetime64]
    code: NDArray[np.int8]

    @property
    def n_steps(self) -> int:
        """Number of moves between consecutive cut-offs."""
        return len(self.cutoffs) - 1

    def counts(self, step: int | None = None) -> _IntArray:
        """Migration counts: entry ``[i, j]`` counts customers in state ``i`` at one cut-off
        and ``j`` at the next, states in :data:`MIGRATION_STATES` order.

        Parameters
        ----------
        step:
            Which move: ``0`` from the first cut-off to the second, and so on; ``None`` adds
            up every move.

        Raises
        ------
        InvalidValueError
            ``step`` is not one of the moves.
        """
        steps = range(self.n_steps) if step is None else [self._step(step)]
        k = len(MIGRATION_STATES)
        total = np.zeros((k, k), dtype=np.int64)
        for s in steps:  # one pass per cut-off pair, vectorised over customers
            origin = self.code[:, s].astype(np.int64) + 1
            target = self.code[:, s + 1].astype(np.int64) + 1
            total += np.bincount(origin * k + target, minlength=k * k).reshape(k, k)
        return total

    def _step(self, step: int) -> int:
        if isinstance(step, bool) or not isinstance(step, int) or not (
                0 <= step < self.n_steps):
            raise InvalidValueError(
                f"step must be a whole number in 0..{self.n_steps - 1}, got {step!r}",
                field="step",
            )
        return step

    def transition_matrix(self, step: int | None = None) -> _FloatArray:
        """Row-normalised migration among the five stages (not-acquired left out): entry
        ``[i, j]`` estimates P(stage ``j`` next | stage ``i`` now), the maximum-likelihood
        estimate of a Markov chain's transition matrix (Anderson & Goodman 1957). A stage
        nobody was in is kept as absorbing (probability 1 of staying) and reported by
        :meth:`counts`."""
        return transition_probabilities(self.counts(step)[1:, 1:])

    def to_frame(self, backend: FrameBackend = "pandas") -> Any:
        """Counts in long form: one row per (step, from, to) with a non-zero count."""
        names = np.array(MIGRATION_STATES, dtype=object)
        steps, froms, tos, counts = [], [], [], []
        for s in range(self.n_steps):
            table = self.counts(s)
            i, j = np.nonzero(table)
            steps.append(np.full(len(i), s))
            froms.append(names[i])
            tos.append(names[j])
            counts.append(table[i, j])
        return _frame({
            "step": np.concatenate(steps) if steps else np.zeros(0, dtype=np.int64),
            "from_stage": np.concatenate(froms) if froms else np.zeros(0, dtype=object),
            "to_stage": np.concatenate(tos) if tos else np.zeros(0, dtype=object),
            "count": np.concatenate(counts) if counts else np.zeros(0, dtype=np.int64),
        }, backend)


def transition_probabilities(counts: NDArray[Any]) -> _FloatArray:
    """Row-normalise a matrix of transition counts into transition probabilities.

    Rows with no observation become absorbing (1 on the diagonal), so the result is always a
    stochastic matrix.

    Raises
    ------
    InvalidValueError
        ``counts`` is not square, or holds negative or non-finite entries.
    """
    table = np.asarray(counts, dtype=np.float64)
    if table.ndim != 2 or table.shape[0] != table.shape[1]:
        raise InvalidValueError(f"counts must be a square matrix, got shape {table.shape}",
                                field="counts")
    if not np.all(np.isfinite(table)) or np.any(table < 0):
        raise InvalidValueError("counts must be finite and >= 0", field="counts")
    totals = table.sum(axis=1)
    result = np.eye(len(table))
    seen = totals > 0
    result[seen] = table[seen] / totals[seen, None]
    return result


def stage_migration(
    base: CustomerBase,
    cutoffs: Sequence[dt.datetime | dt.date | str | np.datetime64],
    *,
    model: str | LifecycleModel | None = None,
    value_model: PAliveModel | None = None,
    plugin_manager: pluggy.PluginManager | None = None,
    **hyperparameters: Any,
) -> StageMigration:
    """Classify ``base`` at each cut-off date (on the history up to it) and follow each customer.

    Parameters
    ----------
    base:
        A base built from transactions.
    cutoffs:
        At least two dates, strictly increasing, none after the observation end.
    model, value_model, plugin_manager, **hyperparameters:
        As for :func:`crmcore.lifecycle.classify`. A value model fitted on the whole base sees
        the future of earlier cut-offs; for an honest back-test fit one per cut-off.

    Raises
    ------
    InvalidValueError
        Fewer than two cut-offs, cut-offs not increasing, or one after the observation end.
    EmptyDataError
        Nobody had bought by the first cut-off.
    """
    dates = _cutoff_dates(cutoffs)
    codes = np.empty((len(base), len(dates)), dtype=np.int8)
    classifier: LifecycleModel | None = model if model is not None and not isinstance(
        model, str) else None
    if classifier is None:
        from crmcore._registry import get_model

        classifier = get_model("lifecycle", model if isinstance(model, str) else None,
                               plugin_manager=plugin_manager, **hyperparameters)
    elif hyperparameters:
        raise InvalidValueError("hyperparameters apply to a model named by string",
                                field="hyperparameters")
    for column, date in enumerate(dates):  # one batch classification per cut-off date
        result = classify(base, model=classifier, value_model=value_model, as_of=date)
        codes[:, column] = result.code
    return StageMigration(customer_id=base.customer_id, cutoffs=dates, code=codes)


def _cutoff_dates(cutoffs: Sequence[Any]) -> NDArray[np.datetime64]:
    if isinstance(cutoffs, str | bytes) or len(cutoffs) < 2:
        raise InvalidValueError("cutoffs must be a sequence of at least two dates",
                                field="cutoffs")
    try:
        dates = np.array([to_datetime64(c) for c in cutoffs], dtype="datetime64[us]")
    except (TypeError, ValueError) as exc:
        raise InvalidValueError(f"cutoffs hold a value that is not a date: {exc}",
                                field="cutoffs") from exc
    bad = np.flatnonzero(np.diff(dates) <= np.timedelta64(0, "us"))
    if len(bad):
        raise InvalidValueError(
            f"cutoffs must be strictly increasing; cut-off {int(bad[0]) + 1} "
            f"({np.datetime_as_string(dates[bad[0] + 1], unit='D')}) is not after the one "
            "before it",
            field="cutoffs", rows=(bad + 1).tolist(),
        )
    return dates


# -- recency states ---------------------------------------------------------------------------


def _history_in(base: CustomerBase, freq: str | None) -> tuple[PurchaseHistory, int]:
    if base.history is None or base.freq is None or base.observation_end is None:
        raise DataError(
            "recency states need each customer's purchase history: build the base with "
            "CustomerBase.from_transactions",
            field="history",
        )
    history = base.history
    target = base.freq if freq is None else check_unit(freq, argument="freq")
    end = int(period_index(np.asarray([base.observation_end]), target)[0])
    if target == history.freq:
        return history, end
    periods = period_index(period_start(history.period, history.freq), target)
    owner = history.customer_of_entry()
    new = np.ones(len(periods), dtype=bool)
    new[1:] = (owner[1:] != owner[:-1]) | (periods[1:] != periods[:-1])
    starts = np.flatnonzero(new)
    kept_owner = owner[starts]
    indptr = np.searchsorted(kept_owner, np.arange(history.n_customers + 1)).astype(np.int64)
    rebucketed = PurchaseHistory(
        indptr=indptr, period=periods[starts].astype(np.int64),
        count=np.add.reduceat(history.count, starts) if len(starts) else history.count[:0],
        amount=np.add.reduceat(history.amount, starts) if len(starts) else history.amount[:0],
        freq=target,
    )
    return rebucketed, end


def _check_states(n_states: int) -> int:
    if isinstance(n_states, bool) or not isinstance(n_states, int | np.integer) or n_states < 2:
        raise InvalidValueError(f"n_states must be a whole number >= 2, got {n_states!r}",
                                field="n_states")
    return int(n_states)


def recency_state(base: CustomerBase, n_states: int, *, freq: str | None = None) -> _IntArray:
    """Each customer's recency state at the observation end: 1 if they bought in the last
    period, 2 if the period before, ..., ``n_states`` for that long ago or longer (Pfeifer &
    Carraway 2000).

    Parameters
    ----------
    freq:
        Period of the states (default: the base's ``freq``), e.g. ``"M"`` for monthly
        recency on a daily base.
    """
    k = _check_states(n_states)
    history, end = _history_in(base, freq)
    last = history.period[history.indptr[1:] - 1]
    return np.minimum(end - last + 1, k).astype(np.int64)


def recency_transitions(base: CustomerBase, n_states: int, *, freq: str | None = None
                        ) -> _IntArray:
    """Counts of moves between recency states over every customer-period of the history.

    Entry ``[i, j]`` counts the periods in which a customer went from state ``i + 1`` to
    state ``j + 1`` (states as in :func:`recency_state`), from each customer's first purchase
    to the observation end. A gap of ``G`` periods between two purchases walks the states
    ``1, 2, ..., min(G, K)`` (staying in ``K`` once there) and returns to 1; the silence after
    the last purchase walks them without returning. Counts come from the gaps, in one pass.
    """
    k = _check_states(n_states)
    history, end = _history_in(base, freq)
    owner = history.customer_of_entry()
    period = history.period
    same = owner[1:] == owner[:-1]
    gaps = (period[1:] - period[:-1])[same]
    silence = end - period[history.indptr[1:] - 1]
    silence = silence[np.diff(history.indptr) > 0]

    counts = np.zeros((k, k), dtype=np.int64)
    # j -> j+1 for j = 1..K-1: gaps of at least j + 1 periods, silences of at least j.
    gap_tally = np.bincount(np.minimum(gaps, k + 1), minlength=k + 2)
    gaps_at_least = np.cumsum(gap_tally[::-1])[::-1]
    silence_tally = np.bincount(np.minimum(silence, k + 1), minlength=k + 2)
    silence_at_least = np.cumsum(silence_tally[::-1])[::-1]
    for j in range(1, k):  # K - 1 entries, not customers
        counts[j - 1, j] = gaps_at_least[j + 1] + silence_at_least[j]
    counts[k - 1, k - 1] = int(np.maximum(gaps - k, 0).sum() + np.maximum(silence - k + 1,
                                                                          0).sum())
    returns = np.bincount(np.minimum(gaps, k) - 1, minlength=k)
    counts[:, 0] += returns
    return counts
