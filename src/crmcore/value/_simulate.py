"""Vectorised simulators of the value models' data-generating stories.

Every ``simulate_*`` function returns the same kind of result: the data the matching model's
``fit`` takes, under the names of its parameters. The buy-till-you-die simulators return
:class:`SimulatedCustomers` ``(frequency, recency, T)`` for ``n`` customers, drawn exactly as
the papers tell the story (no time grid), optionally rounded down to a time grid
(``precision``, e.g. ``1 / 7`` for purchases recorded by day with times in weeks);
:func:`simulate_sbg` returns a :class:`SimulatedCohort` (``alive``). Used to test that fitting
recovers known parameters, and by the benchmarks.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

import attrs
import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin
from numpy.typing import ArrayLike, NDArray

from crmcore._base import CustomerBase
from crmcore._errors import InvalidValueError

__all__ = ["SimulatedCohort", "SimulatedCustomers", "simulate_bgbb", "simulate_bgnbd",
           "simulate_mbgnbd", "simulate_pareto_nbd", "simulate_sbg"]


class SimulatedCustomers(NamedTuple):
    """Simulated customers of a buy-till-you-die model: what its ``fit`` takes, in order
    (``Model().fit(*simulated)``); unpacks as ``frequency, recency, T = simulated`` as the
    plain tuple it used to be."""

    frequency: NDArray[np.int64]
    """Repeat purchases (transactions after the first, or over the opportunities)."""
    recency: NDArray[np.float64]
    """Time of the last purchase (0 without a repeat purchase)."""
    T: NDArray[np.float64]
    """Length of observation (opportunities for the BG/BB)."""

    def to_base(self, *, time_unit: str, customer_id: ArrayLike | None = None
                ) -> CustomerBase:
        """These customers as a :class:`crmcore.CustomerBase` (ids ``0 .. n-1`` unless
        given), their times in ``time_unit``."""
        ids = np.arange(len(self.frequency)) if customer_id is None else customer_id
        return CustomerBase.from_summary(ids, self.frequency, self.recency, self.T,
                                         time_unit=time_unit)


@attrs.frozen(eq=False)
class SimulatedCohort(NDArrayOperatorsMixin):
    """A simulated contractual cohort: ``alive``, the customers active at the start of each
    period (cohort size first), which ``ShiftedBetaGeometric().fit`` takes
    (``fit(simulated.alive)``, or ``fit(simulated)``). It still reads as the array of counts
    it used to be (``numpy.asarray``, indexing, iteration, ``len``, arithmetic and numpy
    functions on the counts)."""

    alive: NDArray[np.int64]
    """Customers active at the start of periods ``1, ..., n_periods + 1``."""

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> NDArray[np.int64]:
        return self.alive if dtype is None else np.asarray(self.alive.astype(dtype))

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        plain = tuple(x.alive if isinstance(x, SimulatedCohort) else x for x in inputs)
        return getattr(ufunc, method)(*plain, **kwargs)

    def __getitem__(self, index: Any) -> Any:
        return self.alive[index]

    def __len__(self) -> int:
        return len(self.alive)

    def __iter__(self) -> Iterator[np.int64]:
        return iter(self.alive)


def _setup(n: int, T: ArrayLike, seed: int | np.random.Generator | None,
           params: dict[str, float]) -> tuple[NDArray[np.float64], np.random.Generator]:
    if int(n) != n or n < 1:
        raise InvalidValueError(f"n must be a whole number >= 1, got {n!r}", field="n")
    for name, value in params.items():
        if not np.isfinite(value) or value <= 0:
            raise InvalidValueError(f"{name} must be finite and > 0, got {value!r}", field=name)
    t_obs = np.broadcast_to(np.asarray(T, dtype=np.float64), (int(n),)).copy()
    if not np.all(np.isfinite(t_obs)) or np.any(t_obs < 0):
        raise InvalidValueError("T must be finite and >= 0", field="T")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return t_obs, rng


def _finish(x: NDArray[np.int64], end: NDArray[np.float64], t_obs: NDArray[np.float64],
            n_events: NDArray[np.int64], rng: np.random.Generator,
            precision: float | None) -> SimulatedCustomers:
    """Time of the x-th of ``n_events`` uniform points on (0, end]: end * Beta(x, n - x + 1)."""
    recency = np.zeros(len(x))
    some = x > 0
    recency[some] = end[some] * rng.beta(x[some], n_events[some] - x[some] + 1)
    if precision is not None:
        if not np.isfinite(precision) or precision <= 0:
            raise InvalidValueError(f"precision must be > 0, got {precision!r}",
                                    field="precision")
        recency = np.floor(recency / precision) * precision
        t_obs = np.floor(t_obs / precision + 1e-9) * precision
        recency = np.minimum(recency, t_obs)
    return SimulatedCustomers(x.astype(np.int64), recency, t_obs)


def _bg_family(n: int, r: float, alpha: float, a: float, b: float, T: ArrayLike,
               seed: int | np.random.Generator | None, precision: float | None,
               modified: bool) -> SimulatedCustomers:
    t_obs, rng = _setup(n, T, seed, {"r": r, "alpha": alpha, "a": a, "b": b})
    lam = rng.gamma(r, 1.0 / alpha, size=len(t_obs))
    p = rng.beta(a, b, size=len(t_obs))
    n_events = rng.poisson(lam * t_obs).astype(np.int64)
    # repeat purchases before dropping out, if time were unlimited: the dropout coin comes
    # up after each repeat purchase (MBG/NBD: also at time 0, right after the first purchase)
    limit = rng.geometric(np.maximum(p, 1e-300)).astype(np.int64) - (1 if modified else 0)
    x = np.minimum(n_events, limit)
    return _finish(x, t_obs, t_obs, n_events, rng, precision)


def simulate_bgnbd(
    n: int, *, r: float, alpha: float, a: float, b: float, T: ArrayLike,
    seed: int | np.random.Generator | None = None, precision: float | None = None,
) -> SimulatedCustomers:
    """Simulate BG/NBD customers (the story of Fader, Hardie & Lee 2005).

    ``lambda ~ Gamma(r, alpha)``, ``p ~ Beta(a, b)``; purchases at Poisson rate ``lambda``;
    after each repeat purchase the customer drops out with probability ``p``. ``T`` is a
    scalar or one value per customer.
    """
    return _bg_family(n, r, alpha, a, b, T, seed, precision, modified=False)


def simulate_mbgnbd(
    n: int, *, r: float, alpha: float, a: float, b: float, T: ArrayLike,
    seed: int | np.random.Generator | None = None, precision: float | None = None,
) -> SimulatedCustomers:
    """Simulate MBG/NBD customers (Batislam, Denizel & Filiztekin 2007): as
    :func:`simulate_bgnbd`, but the customer may also drop out right after the first
    purchase."""
    return _bg_family(n, r, alpha, a, b, T, seed, precision, modified=True)


def simulate_pareto_nbd(
    n: int, *, r: float, alpha: float, s: float, beta: float, T: ArrayLike,
    seed: int | np.random.Generator | None = None, precision: float | None = None,
) -> SimulatedCustomers:
    """Simulate Pareto/NBD customers (Schmittlein, Morrison & Colombo 1987).

    ``lambda ~ Gamma(r, alpha)``, ``mu ~ Gamma(s, beta)``; purchases at Poisson rate
    ``lambda`` during an exponential lifetime of rate ``mu``.
    """
    t_obs, rng = _setup(n, T, seed, {"r": r, "alpha": alpha, "s": s, "beta": beta})
    lam = rng.gamma(r, 1.0 / alpha, size=len(t_obs))
    mu = rng.gamma(s, 1.0 / beta, size=len(t_obs))
    with np.errstate(divide="ignore"):
        lifetime = rng.standard_exponential(len(t_obs)) / mu
    end = np.minimum(lifetime, t_obs)
    x = rng.poisson(lam * end).astype(np.int64)
    return _finish(x, end, t_obs, x, rng, precision)


def simulate_bgbb(
    n: int, *, alpha: float, beta: float, gamma: float, delta: float, n_periods: int,
    seed: int | np.random.Generator | None = None,
) -> SimulatedCustomers:
    """Simulate BG/BB customers (Fader, Hardie & Shang 2010, section 2): ``(frequency,
    recency, n_periods)`` after ``n_periods`` opportunities.

    ``p ~ Beta(alpha, beta)``, ``theta ~ Beta(gamma, delta)``; a customer alive at an
    opportunity transacts with probability ``p``, and is still alive at opportunity ``t`` with
    probability ``(1 - theta)^t``. Memory grows with ``n * n_periods``.
    """
    t_obs, rng = _setup(n, n_periods, seed, {"alpha": alpha, "beta": beta, "gamma": gamma,
                                            "delta": delta})
    if int(n_periods) != n_periods:
        raise InvalidValueError(f"n_periods must be a whole number, got {n_periods!r}",
                                field="n_periods")
    periods = int(n_periods)
    p = rng.beta(alpha, beta, size=len(t_obs))
    theta = rng.beta(gamma, delta, size=len(t_obs))
    alive_for = rng.geometric(np.maximum(theta, 1e-300)) - 1  # opportunities survived
    opportunity = np.arange(1, periods + 1)[None, :]
    bought = (rng.random((len(t_obs), periods)) < p[:, None]) & (
        opportunity <= alive_for[:, None])
    x = bought.sum(axis=1).astype(np.int64)
    recency = np.where(x > 0, periods - np.argmax(bought[:, ::-1], axis=1), 0)
    return SimulatedCustomers(x, recency.astype(np.float64), t_obs)


def simulate_sbg(
    n: int, *, alpha: float, beta: float, n_periods: int,
    seed: int | np.random.Generator | None = None,
) -> SimulatedCohort:
    """Simulate a cohort of ``n`` contract customers under the shifted-beta-geometric model
    (Fader & Hardie 2007): ``theta ~ Beta(alpha, beta)``, each renewal decision cancels with
    probability ``theta``. Returns a :class:`SimulatedCohort`: the customers active at the
    start of periods ``1, ..., n_periods + 1`` (``alive``, cohort size first), as
    ``ShiftedBetaGeometric.fit`` takes them."""
    _, rng = _setup(n, 0.0, seed, {"alpha": alpha, "beta": beta})
    if int(n_periods) != n_periods or n_periods < 1:
        raise InvalidValueError(f"n_periods must be a whole number >= 1, got {n_periods!r}",
                                field="n_periods")
    theta = rng.beta(alpha, beta, size=int(n))
    last_period = rng.geometric(np.maximum(theta, 1e-300))
    t = np.arange(int(n_periods) + 1)
    alive: NDArray[np.int64] = (last_period[None, :] > t[:, None]).sum(axis=1).astype(np.int64)
    return SimulatedCohort(alive)


def simulate_bgnbd_log(
    n: int, *, r: float, alpha: float, a: float, b: float, days: int, spend_shape: float = 6.0,
    spend_q: float = 3.0, spend_v: float = 15.0, seed: int | np.random.Generator | None = None,
) -> dict[str, NDArray[np.generic]]:
    """A transaction log of ``n`` BG/NBD customers (rates per day) observed for ``days``
    days from 2020-01-01, each acquired on a uniform day of the first half: columns
    ``customer_id``, ``at`` (``datetime64[s]``) and ``amount`` (gamma-gamma spend, ``p =
    spend_shape``, ``nu ~ Gamma(spend_q, spend_v)``), for tests and benchmarks of the whole
    path from a log to scores."""
    _, rng = _setup(n, 0.0, seed, {"r": r, "alpha": alpha, "a": a, "b": b})
    lam = rng.gamma(r, 1.0 / alpha, size=int(n))
    p = rng.beta(a, b, size=int(n))
    nu = rng.gamma(spend_q, 1.0 / spend_v, size=int(n))
    first = rng.integers(0, max(days // 2, 1), size=int(n)).astype(np.float64)
    ids: list[int] = []
    times: list[float] = []
    for i in range(int(n)):
        t = first[i]
        ids.append(i)
        times.append(t)
        while True:
            t += rng.exponential(1.0 / lam[i])
            if t >= days:
                break
            ids.append(i)
            times.append(t)
            if rng.random() < p[i]:
                break
    id_array = np.asarray(ids, dtype=np.int64)
    seconds = np.round(np.asarray(times) * 86_400.0).astype("timedelta64[s]")
    at = np.datetime64("2020-01-01T00:00:00", "s") + seconds
    amount = np.round(rng.gamma(spend_shape, 1.0 / nu[id_array]), 2) + 0.01
    return {"customer_id": id_array, "at": at, "amount": amount}
