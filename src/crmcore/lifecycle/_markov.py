"""Customer lifetime value from a Markov chain of customer states (Pfeifer & Carraway 2000).

Pfeifer, P. E. and Carraway, R. L. (2000), "Modeling customer relationships as Markov chains",
*Journal of Interactive Marketing* 14(2), 43-55. A customer moves each period between states
with transition matrix $P$ and brings reward $R_s$ in state $s$ (net contribution minus the cost
of marketing to them). With per-period discount rate $d$, the expected present value of a
customer in each state is

$$V^{T} = \\sum_{t=0}^{T} \\left[(1+d)^{-1} P\\right]^{t} R \\quad\\text{(finite horizon)},
\\qquad V = \\left[I - (1+d)^{-1} P\\right]^{-1} R \\quad\\text{(infinite horizon)}.$$

The states can be lifecycle stages classified at successive dates
(:func:`crmcore.lifecycle.stage_migration`) or recency states, "periods since the last
purchase" (:func:`crmcore.lifecycle.recency_transitions`), the paper's direct-marketing
example, which :meth:`MarkovCLV.fit` estimates from a customer base.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from crmcore._base import CustomerBase
from crmcore._checks import discount_rate as check_discount_rate
from crmcore._errors import (
    InvalidValueError,
    NotFittedError,
    SerializationError,
    describe_rows,
)
from crmcore._serialization import dump_document, load_document
from crmcore.lifecycle._migration import (
    StageMigration,
    _history_in,
    recency_state,
    recency_transitions,
    transition_probabilities,
)

__all__ = ["MarkovCLV"]

_FloatArray = NDArray[np.float64]
_SCHEMA_VERSION = 1
_STOCHASTIC_TOLERANCE = 1e-8


def _transition_matrix(value: ArrayLike) -> _FloatArray:
    try:
        matrix = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidValueError(f"transition_matrix must be numeric: {exc}",
                                field="transition_matrix") from exc
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.shape[0] == 0:
        raise InvalidValueError(
            f"transition_matrix must be a non-empty square matrix, got shape {matrix.shape}",
            field="transition_matrix",
        )
    if not np.all(np.isfinite(matrix)):
        raise InvalidValueError("transition_matrix holds NaN or infinite entries",
                                field="transition_matrix")
    rows = np.flatnonzero(np.any(matrix < 0, axis=1) | np.any(matrix > 1, axis=1))
    if len(rows):
        raise InvalidValueError(
            f"transition_matrix holds probabilities outside [0, 1] in {describe_rows(rows)}",
            field="transition_matrix", rows=rows.tolist(),
        )
    sums = matrix.sum(axis=1)
    rows = np.flatnonzero(np.abs(sums - 1) > _STOCHASTIC_TOLERANCE)
    if len(rows):
        raise InvalidValueError(
            f"transition_matrix rows must sum to 1; {describe_rows(rows)} do not (first sums "
            f"to {sums[rows[0]]!r})",
            field="transition_matrix", rows=rows.tolist(),
        )
    matrix.flags.writeable = False
    return matrix


def _rewards(value: ArrayLike, n: int) -> _FloatArray:
    try:
        rewards = np.array(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise InvalidValueError(f"rewards must be numeric: {exc}", field="rewards") from exc
    if len(rewards) != n:
        raise InvalidValueError(
            f"rewards has {len(rewards)} entries, expected {n} (one per state)",
            field="rewards",
        )
    bad = np.flatnonzero(~np.isfinite(rewards))
    if len(bad):
        raise InvalidValueError(f"rewards is NaN or infinite at {describe_rows(bad)}",
                                field="rewards", rows=bad.tolist())
    rewards.flags.writeable = False
    return rewards


class MarkovCLV:
    """Lifetime value of customers who migrate between states (Pfeifer & Carraway 2000).

    Build it from a known chain (``transition_matrix`` and ``rewards``), from observed
    migration counts (:meth:`from_counts`, :meth:`from_migration`), or estimate a recency
    chain from a customer base with :meth:`fit` (value model ``"markov"``).

    Parameters
    ----------
    transition_matrix:
        $P$, ``S x S``: entry ``[i, j]`` is the probability of moving from state ``i`` to
        state ``j`` in one period (rows sum to 1).
    rewards:
        $R$, one per state: the net contribution of a customer in that state in one period
        (received at the start of the period, so undiscounted at ``t = 0``).
    discount_rate:
        $d$, per period (default 0.1). 0 is allowed for finite horizons, and for infinite ones
        only where every customer eventually stops bringing rewards.
    states:
        Names of the states (default ``"state-1"``...; recency chains ``"recency-1"``...).
    n_states:
        For :meth:`fit`: number of recency states (default 5: bought 1, 2, 3, 4, and 5 or
        more periods ago, as in the paper's example).
    freq:
        For :meth:`fit`: length of a period (``"D"``, ``"W"``, ``"M"``, ``"Q"``, ``"Y"``;
        default: the base's own periods).
    margin:
        For :meth:`fit`: share of a purchase's amount that is net contribution (default 1).
    cost_per_period:
        For :meth:`fit`: marketing cost per customer and period in every state but the last,
        whose customers the firm stops addressing, as in the paper (default 0).

    Raises
    ------
    InvalidValueError
        The matrix is not square, not stochastic, or the rewards do not match it; the message
        names the rows.
    """

    def __init__(
        self,
        transition_matrix: ArrayLike | None = None,
        rewards: ArrayLike | None = None,
        discount_rate: float = 0.1,
        *,
        states: Sequence[str] | None = None,
        n_states: int = 5,
        freq: str | None = None,
        margin: float = 1.0,
        cost_per_period: float = 0.0,
    ) -> None:
        self.transition_matrix = transition_matrix
        self.rewards = rewards
        self.discount_rate = discount_rate
        self.states = states
        self.n_states = n_states
        self.freq = freq
        self.margin = margin
        self.cost_per_period = cost_per_period
        check_discount_rate(discount_rate, per="period")
        if transition_matrix is not None:
            self.transition_matrix_ = _transition_matrix(transition_matrix)
            n = len(self.transition_matrix_)
            if rewards is None:
                raise InvalidValueError("rewards are needed with a transition_matrix",
                                        field="rewards")
            self.rewards_ = _rewards(rewards, n)
            self.states_ = self._names(states, n, "state")
        elif rewards is not None:
            raise InvalidValueError("rewards were given without a transition_matrix; give "
                                    "both, or neither and call fit(base)",
                                    field="transition_matrix")

    # -- construction ---------------------------------------------------------------------

    @staticmethod
    def _names(states: Sequence[str] | None, n: int, prefix: str) -> tuple[str, ...]:
        if states is None:
            return tuple(f"{prefix}-{i}" for i in range(1, n + 1))
        names = tuple(states)
        if len(names) != n or len(set(names)) != n:
            raise InvalidValueError(f"states must be {n} distinct names, got {names!r}",
                                    field="states")
        return names

    @classmethod
    def from_counts(
        cls, counts: ArrayLike, rewards: ArrayLike, discount_rate: float = 0.1, *,
        states: Sequence[str] | None = None,
    ) -> MarkovCLV:
        """A chain whose transition matrix is estimated from observed transition counts
        (row-normalised, the maximum-likelihood estimate; unobserved states absorb)."""
        return cls(transition_probabilities(np.asarray(counts)), rewards, discount_rate,
                   states=states)

    @classmethod
    def from_migration(
        cls, migration: StageMigration, rewards: ArrayLike, discount_rate: float = 0.1,
    ) -> MarkovCLV:
        """A chain over the five lifecycle stages, estimated from stages classified at
        successive cut-off dates (:func:`crmcore.lifecycle.stage_migration`). One period is
        the time between cut-offs, so space them evenly."""
        from crmcore.lifecycle._stages import STAGES

        return cls(migration.transition_matrix(), rewards, discount_rate,
                   states=[s.value for s in STAGES])

    def fit(self, base: CustomerBase) -> MarkovCLV:
        """Estimate a recency chain from ``base``'s purchase history and return ``self``.

        States are periods since the last purchase, 1 to ``n_states`` (the last meaning that
        long or longer); transitions are counted over every customer-period
        (:func:`crmcore.lifecycle.recency_transitions`). Rewards, unless given: state 1 earns
        ``margin`` times the mean amount of a purchase period, minus ``cost_per_period``;
        states 2 to ``n_states - 1`` cost ``cost_per_period``; the last state earns 0.

        Raises
        ------
        DataError
            The base has no purchase history.
        InvalidValueError
            Bad ``n_states``, ``margin`` or ``cost_per_period``, or ``rewards`` of the wrong
            length.
        """
        for name in ("margin", "cost_per_period"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not (
                    math.isfinite(value)) or value < 0:
                raise InvalidValueError(f"{name} must be a finite number >= 0, got {value!r}",
                                        field=name)
        counts = recency_transitions(base, self.n_states, freq=self.freq)
        k = len(counts)
        matrix = transition_probabilities(counts)
        if self.rewards is not None:
            rewards = _rewards(self.rewards, k)
        else:
            amount = _history_in(base, self.freq)[0].amount  # per period of the chain
            mean_amount = float(amount.mean()) if len(amount) else 0.0
            rewards = np.full(k, 0.0 - float(self.cost_per_period))
            rewards[0] += self.margin * mean_amount
            rewards[-1] = 0.0
        self.transition_matrix_ = _transition_matrix(matrix)
        self.rewards_ = _rewards(rewards, k)
        self.states_ = self._names(self.states, k, "recency")
        self.counts_ = counts
        self.freq_ = self.freq if self.freq is not None else base.freq
        return self

    # -- values ---------------------------------------------------------------------------

    def _fitted(self) -> tuple[_FloatArray, _FloatArray]:
        matrix = getattr(self, "transition_matrix_", None)
        rewards = getattr(self, "rewards_", None)
        if matrix is None or rewards is None:
            raise NotFittedError("MarkovCLV has no chain yet: pass transition_matrix and "
                                 "rewards, or call fit(base)")
        return matrix, rewards

    def values(self, horizon: int | None = None) -> _FloatArray:
        """Expected present value of a customer starting in each state.

        Parameters
        ----------
        horizon:
            ``None`` for the infinite horizon, $[I - (1+d)^{-1}P]^{-1}R$ (a linear solve);
            a whole number $T \\ge 0$ for $\\sum_{t=0}^{T} [(1+d)^{-1}P]^t R$, the rewards of
            the current period and the next $T$ (Pfeifer & Carraway 2000, eqs. for $V^T$ and
            $V$).

        Raises
        ------
        NotFittedError
            No chain yet.
        InvalidValueError
            A bad horizon, or an infinite horizon with ``discount_rate=0`` on a chain in which
            some customers bring rewards forever (the value diverges).
        """
        matrix, rewards = self._fitted()
        d = check_discount_rate(self.discount_rate, per="period")
        step = matrix / (1.0 + d)
        if horizon is None:
            if d == 0:
                return self._undiscounted(matrix, rewards)
            solved = np.linalg.solve(np.eye(len(matrix)) - step, rewards)
            return np.asarray(solved, dtype=np.float64)
        if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer) or (
                horizon < 0):
            raise InvalidValueError(f"horizon must be None or a whole number >= 0, got "
                                    f"{horizon!r}", field="horizon")
        total = rewards.copy()
        term = rewards.copy()
        for _ in range(int(horizon)):  # T matrix-vector products, independent of customers
            term = step @ term
            total += term
        return total

    @staticmethod
    def _undiscounted(matrix: _FloatArray, rewards: _FloatArray) -> _FloatArray:
        # I - P is singular whenever a state absorbs, so sum the series instead, doubling the
        # number of terms each round: S <- S + P^n S, P^n <- P^2n. It converges exactly when
        # the rewards die out along every path (e.g. customers end in a reward-free state).
        total = rewards.copy()
        power = matrix.copy()
        scale = max(1.0, float(np.abs(rewards).max()))
        for _ in range(64):
            tail = power @ total
            total = total + tail
            if float(np.abs(tail).max()) <= 1e-13 * scale * max(1.0, float(
                    np.abs(total).max()) / scale):
                return total
            power = power @ power
        raise InvalidValueError(
            "the infinite-horizon value diverges: with discount_rate=0 some customers keep "
            "bringing rewards forever; use a discount rate > 0 or a finite horizon",
            field="discount_rate",
        )

    def state_distribution(self, start: int | str, periods: int) -> _FloatArray:
        """Probability of being in each state after ``periods`` periods, from state ``start``
        (a position or a state name): row ``start`` of $P^{t}$."""
        matrix, _ = self._fitted()
        row = self._state_index(start)
        if isinstance(periods, bool) or not isinstance(periods, int) or periods < 0:
            raise InvalidValueError(f"periods must be a whole number >= 0, got {periods!r}",
                                    field="periods")
        vector = np.zeros(len(matrix))
        vector[row] = 1.0
        for _ in range(periods):
            vector = vector @ matrix
        return vector

    def _state_index(self, state: int | str) -> int:
        names = self.states_
        if isinstance(state, str):
            if state not in names:
                raise InvalidValueError(f"unknown state {state!r}; states: {', '.join(names)}",
                                        field="state")
            return names.index(state)
        if isinstance(state, bool) or not isinstance(state, int | np.integer) or not (
                0 <= state < len(names)):
            raise InvalidValueError(f"state must be a name or a position in 0..{len(names) - 1}"
                                    f", got {state!r}", field="state")
        return int(state)

    def customer_values(self, base: CustomerBase, horizon: int | None = None) -> _FloatArray:
        """Each customer's value from their current recency state (chains from :meth:`fit`).

        Raises
        ------
        NotFittedError
            The chain was not estimated by :meth:`fit` (its states are not recency states).
        """
        if getattr(self, "counts_", None) is None:
            raise NotFittedError("customer_values needs a recency chain from fit(base)")
        state = recency_state(base, len(self.states_), freq=self.freq_)
        return self.values(horizon)[state - 1]

    def expected_purchases(self, base: CustomerBase, periods: int) -> _FloatArray:
        """Expected number of periods with a purchase in the next ``periods`` periods, per
        customer, from their current recency state (chains from :meth:`fit`):
        $\\sum_{\\tau=1}^{t} (P^{\\tau})_{s,1}$.

        A recency chain says nothing of whether a customer is still "alive" (a silent customer
        may always come back), so unlike BG/NBD this model offers no P(alive).

        Raises
        ------
        NotFittedError
            The chain was not estimated by :meth:`fit`.
        InvalidValueError
            ``periods`` is not a whole number >= 0.
        """
        if getattr(self, "counts_", None) is None:
            raise NotFittedError("expected_purchases needs a recency chain from fit(base)")
        if isinstance(periods, bool) or not isinstance(periods, int) or periods < 0:
            raise InvalidValueError(f"periods must be a whole number >= 0, got {periods!r}",
                                    field="periods")
        matrix, _ = self._fitted()
        column = np.zeros(len(matrix))
        column[0] = 1.0
        total = np.zeros(len(matrix))
        for _ in range(periods):  # t matrix-vector products, independent of customers
            column = matrix @ column
            total += column
        state = recency_state(base, len(self.states_), freq=self.freq_)
        result: _FloatArray = total[state - 1]
        return result

    # -- persistence ----------------------------------------------------------------------

    def to_json(self) -> str:
        """The chain (states, transition matrix, rewards, discount rate) as a JSON document."""
        matrix, rewards = self._fitted()
        return dump_document("MarkovCLV", _SCHEMA_VERSION, {
            "states": list(self.states_),
            "transition_matrix": matrix.tolist(),
            "rewards": rewards.tolist(),
            "discount_rate": float(self.discount_rate),
        })

    @classmethod
    def from_json(cls, text: str | bytes) -> MarkovCLV:
        """A chain saved by :meth:`to_json`.

        Raises
        ------
        SerializationError
            Not a MarkovCLV document of a known schema version.
        InvalidValueError
            The saved chain is not valid.
        """
        payload = load_document(text, "MarkovCLV", (_SCHEMA_VERSION,))
        try:
            return cls(payload["transition_matrix"], payload["rewards"],
                       payload["discount_rate"], states=payload["states"])
        except KeyError as exc:
            raise SerializationError(f"saved MarkovCLV lacks the key {exc}") from exc

    def __repr__(self) -> str:
        n = len(getattr(self, "states_", ()))
        return f"<MarkovCLV: {n} states, discount_rate={self.discount_rate!r}>"
