"""MarkovCLV (Pfeifer & Carraway 2000): closed forms, identities, estimation, bad input."""

from __future__ import annotations

import numpy as np
import pluggy
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray

import crmcore
from crmcore import InvalidValueError, NotFittedError, SerializationError
from crmcore.datasets import load_cdnow
from crmcore.lifecycle import MarkovCLV, recency_state, recency_transitions

# -- closed forms ---------------------------------------------------------------------------


@pytest.mark.parametrize(("m", "r", "d"), [(100.0, 0.8, 0.1), (40.0, 0.5, 0.2),
                                           (1.0, 0.0, 0.05), (7.5, 0.99, 0.01)])
def test_pure_retention_chain_matches_the_closed_form(m: float, r: float, d: float) -> None:
    # A customer retained each period with probability r, lost for good otherwise, worth m
    # per period while a customer: V = m (1 + d) / (1 + d - r) (Pfeifer & Carraway 2000,
    # the retention special case; Berger & Nasr 1998, case 1 with an initial margin).
    chain = MarkovCLV([[r, 1 - r], [0.0, 1.0]], [m, 0.0], d)
    values = chain.values()
    assert values[0] == pytest.approx(m * (1 + d) / (1 + d - r), rel=1e-12)
    assert values[1] == 0.0
    q = r / (1 + d)
    for horizon in (0, 1, 5, 30):
        expected = m * (1 - q ** (horizon + 1)) / (1 - q)
        assert chain.values(horizon)[0] == pytest.approx(expected, rel=1e-12)


def test_undiscounted_retention_chain_is_the_expected_lifetime() -> None:
    # With d = 0 the value is m times the expected number of periods as a customer,
    # 1 / (1 - r) (geometric lifetime).
    chain = MarkovCLV([[0.75, 0.25], [0.0, 1.0]], [10.0, 0.0], 0.0)
    assert chain.values()[0] == pytest.approx(10.0 / 0.25)


def test_undiscounted_value_that_never_ends_is_refused() -> None:
    chain = MarkovCLV([[0.5, 0.5], [0.5, 0.5]], [1.0, 0.0], 0.0)
    with pytest.raises(InvalidValueError, match="infinite-horizon value diverges"):
        chain.values()
    assert chain.values(3)[0] == pytest.approx(1 + 0.5 + 0.5 + 0.5)


def _recency_chain_by_substitution(p: list[float], nc: float, cost: float, d: float) -> float:
    """Value of a customer who just bought, in the paper's recency chain, by hand.

    States 1..K; from state s < K a purchase (probability p[s-1]) leads to state 1, otherwise
    to s + 1; state K is absorbing and costs nothing. Writing V_s = a_s + b_s V_1 and working
    back from V_K = 0 gives V_1 = a_1 / (1 - b_1).
    """
    k = len(p) + 1
    delta = 1.0 / (1.0 + d)
    a, b = 0.0, 0.0  # V_K
    for s in range(k - 1, 0, -1):
        reward = (nc - cost) if s == 1 else -cost
        a, b = reward + delta * (1 - p[s - 1]) * a, delta * (p[s - 1] + (1 - p[s - 1]) * b)
    return a / (1 - b)


def test_recency_chain_of_the_paper_matches_back_substitution() -> None:
    # A chain of the form of Pfeifer & Carraway's (2000) direct-marketing example (the
    # numbers are ours; the paper's table could not be consulted): the purchase probability
    # depends on recency only, a purchase brings net contribution NC, every mailing costs M,
    # and customers in the last recency state are no longer mailed.
    p, nc, cost, d = [0.30, 0.20, 0.15, 0.05], 40.0, 4.0, 0.2
    k = len(p) + 1
    matrix = np.zeros((k, k))
    for s in range(k - 1):
        matrix[s, 0] = p[s]
        matrix[s, s + 1] = 1 - p[s]
    matrix[k - 1, k - 1] = 1.0
    rewards = [nc - cost] + [-cost] * (k - 2) + [0.0]
    chain = MarkovCLV(matrix, rewards, d)
    assert chain.values()[0] == pytest.approx(_recency_chain_by_substitution(p, nc, cost, d),
                                              rel=1e-12)
    # A customer who just bought is worth more than one who has been silent.
    assert np.all(np.diff(chain.values()[:-1]) < 0)


# -- identities -----------------------------------------------------------------------------


@st.composite
def _chains(draw: st.DrawFn) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
    n = draw(st.integers(1, 6))
    raw = np.array(draw(st.lists(st.floats(0.0, 1.0), min_size=n * n, max_size=n * n)))
    raw = raw.reshape(n, n) + 1e-3
    matrix = raw / raw.sum(axis=1, keepdims=True)
    rewards = np.array(draw(st.lists(st.floats(-50, 200), min_size=n, max_size=n)))
    d = draw(st.floats(0.02, 0.5))
    return matrix, rewards, d


@given(_chains())
def test_values_satisfy_the_bellman_identities(
    chain: tuple[NDArray[np.float64], NDArray[np.float64], float],
) -> None:
    matrix, rewards, d = chain
    model = MarkovCLV(matrix, rewards, d)
    infinite = model.values()
    # V = R + (1 + d)^-1 P V  and  V^T = R + (1 + d)^-1 P V^(T-1).
    np.testing.assert_allclose(infinite, rewards + matrix @ infinite / (1 + d), atol=1e-7,
                               rtol=1e-9)
    previous = model.values(0)
    np.testing.assert_allclose(previous, rewards)
    for horizon in range(1, 8):
        current = model.values(horizon)
        np.testing.assert_allclose(current, rewards + matrix @ previous / (1 + d),
                                   atol=1e-9, rtol=1e-9)
        previous = model.values(horizon)
    # The finite horizon converges to the infinite one.
    np.testing.assert_allclose(model.values(3000), infinite, atol=1e-6, rtol=1e-8)
    # Values are linear in the rewards.
    doubled = MarkovCLV(matrix, 2 * rewards, d).values()
    np.testing.assert_allclose(doubled, 2 * infinite, atol=1e-7, rtol=1e-9)


@given(_chains())
def test_state_distribution_is_a_probability_vector(
    chain: tuple[NDArray[np.float64], NDArray[np.float64], float],
) -> None:
    matrix, rewards, d = chain
    model = MarkovCLV(matrix, rewards, d)
    for periods in (0, 1, 4):
        dist = model.state_distribution(0, periods)
        assert dist.sum() == pytest.approx(1.0)
        assert np.all(dist >= -1e-15)
    np.testing.assert_allclose(model.state_distribution(0, 2), (matrix @ matrix)[0])


# -- estimation from a customer base --------------------------------------------------------


def _brute_force_recency_counts(periods: list[list[int]], end: int, k: int
                                ) -> NDArray[np.int64]:
    counts = np.zeros((k, k), dtype=np.int64)
    for own in periods:
        bought = set(own)
        state = 1
        for t in range(own[0] + 1, end + 1):
            new = 1 if t in bought else min(state + 1, k)
            counts[state - 1, new - 1] += 1
            state = new
    return counts


@pytest.mark.parametrize(("freq", "k"), [("M", 5), ("W", 8), ("Q", 2)])
def test_recency_transitions_match_a_period_by_period_count(freq: str, k: int) -> None:
    base = load_cdnow()
    counts = recency_transitions(base, k, freq=freq)
    history = base.history
    assert history is not None
    assert base.observation_end is not None
    dates = crmcore._time.period_start(history.period, history.freq)
    periods = crmcore._time.period_index(dates, freq)
    end = int(crmcore._time.period_index(np.asarray([base.observation_end]), freq)[0])
    own = [sorted(set(periods[history.indptr[i]:history.indptr[i + 1]].tolist()))
           for i in range(len(base))]
    np.testing.assert_array_equal(counts, _brute_force_recency_counts(own, end, k))
    state = recency_state(base, k, freq=freq)
    assert np.all((state >= 1) & (state <= k))
    np.testing.assert_array_equal(state, [min(end - o[-1] + 1, k) for o in own])


def test_fit_estimates_a_recency_chain_from_cdnow() -> None:
    base = load_cdnow()
    model = MarkovCLV(discount_rate=0.01, n_states=5, freq="M", margin=0.3,
                      cost_per_period=0.5).fit(base)
    matrix = model.transition_matrix_
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0)
    assert model.states_ == ("recency-1", "recency-2", "recency-3", "recency-4", "recency-5")
    # Buying again is likelier the more recent the last purchase (the paper's premise).
    assert np.all(np.diff(matrix[:, 0]) < 0)
    assert model.rewards_[0] == pytest.approx(0.3 * float(np.mean(
        load_cdnow(freq="M", time_unit="M").history.amount)) - 0.5)  # type: ignore[union-attr]
    assert model.rewards_[-1] == 0.0
    values = model.customer_values(base)
    assert values.shape == (len(base),)
    state = recency_state(base, 5, freq="M")
    np.testing.assert_allclose(values, model.values()[state - 1])
    assert isinstance(crmcore.get_model("value", "markov", n_states=3), MarkovCLV)
    # Expected purchase months over the next year: the first column of P + P^2 + ... + P^12.
    expected = model.expected_purchases(base, 12)
    powers = sum(np.linalg.matrix_power(matrix, t) for t in range(1, 13))
    np.testing.assert_allclose(expected, np.asarray(powers)[state - 1, 0])
    assert np.all(expected[state == 1] >= expected[state == 5].max())
    np.testing.assert_array_equal(model.expected_purchases(base, 0), 0.0)
    with pytest.raises(InvalidValueError, match="periods must be a whole number"):
        model.expected_purchases(base, -1)


def test_markov_is_a_value_model(plugin_manager: pluggy.PluginManager) -> None:
    assert "markov" in crmcore.available_models("value", plugin_manager=plugin_manager)
    model = crmcore.get_model("value", "markov", plugin_manager=plugin_manager,
                              discount_rate=0.05)
    assert isinstance(model, MarkovCLV)
    assert model.discount_rate == 0.05


def test_from_counts_and_json_round_trip() -> None:
    counts = np.array([[30, 70, 0], [20, 0, 80], [5, 0, 95]])
    model = MarkovCLV.from_counts(counts, [10.0, -1.0, 0.0], 0.1, states=["a", "b", "c"])
    np.testing.assert_allclose(model.transition_matrix_[0], [0.3, 0.7, 0.0])
    again = MarkovCLV.from_json(model.to_json())
    np.testing.assert_array_equal(again.transition_matrix_, model.transition_matrix_)
    np.testing.assert_array_equal(again.values(), model.values())
    assert again.states_ == ("a", "b", "c")
    np.testing.assert_allclose(model.state_distribution("b", 1), [0.2, 0.0, 0.8])
    with pytest.raises(SerializationError, match="expected a saved MarkovCLV"):
        MarkovCLV.from_json('{"crmcore": "BGNBD", "schema_version": 1}')
    with pytest.raises(SerializationError, match="lacks the key 'rewards'"):
        MarkovCLV.from_json('{"crmcore": "MarkovCLV", "schema_version": 1, "states": ["a"],'
                            ' "transition_matrix": [[1.0]], "discount_rate": 0.1}')


# -- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("matrix", "rewards", "d", "match"),
    [
        ([[0.5, 0.5, 0.0]], [1, 2, 3], 0.1, "non-empty square matrix"),
        ([[0.5, 0.4], [0.0, 1.0]], [1, 0], 0.1, "rows must sum to 1; row 0"),
        ([[1.5, -0.5], [0.0, 1.0]], [1, 0], 0.1, "outside \\[0, 1\\] in row 0"),
        ([[np.nan, 1.0], [0.0, 1.0]], [1, 0], 0.1, "NaN or infinite"),
        ([[1.0, 0.0], [0.0, 1.0]], [1, 0, 0], 0.1, "rewards has 3 entries, expected 2"),
        ([[1.0, 0.0], [0.0, 1.0]], [1, np.inf], 0.1, "rewards is NaN or infinite at row 1"),
        ([[1.0, 0.0], [0.0, 1.0]], [1, 0], -0.1, "discount_rate must be a finite number"),
        ([[1.0, 0.0], [0.0, 1.0]], None, 0.1, "rewards are needed"),
    ],
)
def test_bad_chains_are_named(matrix: object, rewards: object, d: float, match: str) -> None:
    with pytest.raises(InvalidValueError, match=match):
        MarkovCLV(matrix, rewards, d)  # type: ignore[arg-type]


def test_other_misuse_is_named() -> None:
    with pytest.raises(InvalidValueError, match="rewards were given without"):
        MarkovCLV(rewards=[1.0])
    with pytest.raises(NotFittedError, match="no chain yet"):
        MarkovCLV().values()
    chain = MarkovCLV([[1.0]], [1.0], 0.1)
    with pytest.raises(InvalidValueError, match="horizon must be None or a whole number"):
        chain.values(-1)
    with pytest.raises(NotFittedError, match="recency chain from fit"):
        chain.customer_values(load_cdnow())
    with pytest.raises(NotFittedError, match="recency chain from fit"):
        chain.expected_purchases(load_cdnow(), 3)
    with pytest.raises(InvalidValueError, match="unknown state 'x'"):
        chain.state_distribution("x", 1)
    with pytest.raises(InvalidValueError, match="states must be 1 distinct names"):
        MarkovCLV([[1.0]], [1.0], 0.1, states=["a", "b"])
    with pytest.raises(InvalidValueError, match="n_states must be a whole number >= 2"):
        MarkovCLV(n_states=1).fit(load_cdnow())
    with pytest.raises(InvalidValueError, match="margin must be a finite number >= 0"):
        MarkovCLV(margin=-1.0).fit(load_cdnow())
    summary = crmcore.CustomerBase.from_summary([1], [0], [0.0], [3.0])
    with pytest.raises(crmcore.DataError, match="recency states need"):
        MarkovCLV().fit(summary)


@pytest.mark.parametrize(("m", "r", "d"), [(100.0, 0.8, 0.1), (25.0, 0.6, 0.15)])
def test_retention_chain_agrees_with_crmcore_value(m: float, r: float, d: float) -> None:
    # crmcore.value's retention CLV is written separately from the closed form; the Markov
    # chain's linear solve must land on the same number.
    from crmcore.value import retention_clv

    chain = MarkovCLV([[r, 1 - r], [0.0, 1.0]], [m, 0.0], d)
    assert chain.values()[0] == pytest.approx(
        float(np.asarray(retention_clv(m, retention_rate=r, discount_rate=d))[0]), rel=1e-12)


@given(st.lists(st.lists(st.integers(0, 40), min_size=1, max_size=12), min_size=1,
                max_size=15), st.integers(2, 6))
def test_recency_transitions_on_any_log(days: list[list[int]], k: int) -> None:
    import pandas as pd

    start = np.datetime64("2024-01-01")
    frame = pd.DataFrame(
        [(c, start + np.timedelta64(d, "D")) for c, own in enumerate(days) for d in own],
        columns=["customer_id", "at"])
    base = crmcore.CustomerBase.from_transactions(frame, freq="D", observation_end="2024-02-20")
    counts = recency_transitions(base, k)
    end = 50
    own = [sorted(set(d)) for d in days]
    np.testing.assert_array_equal(counts, _brute_force_recency_counts(own, end, k))
    # One move per customer-period after the first purchase.
    assert counts.sum() == sum(end - o[0] for o in own)
