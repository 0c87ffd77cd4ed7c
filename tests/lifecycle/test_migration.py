"""Stage migration over cut-off dates, and a stage chain for MarkovCLV."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from crmcore import CustomerBase, EmptyDataError, InvalidValueError
from crmcore.lifecycle import (
    MIGRATION_STATES,
    LifecycleClassifier,
    LifecycleStage,
    MarkovCLV,
    classify,
    stage_migration,
    transition_probabilities,
)

CUTOFFS = ["2024-09-29", "2025-03-30", "2025-09-28", "2025-12-28"]


def test_migration_follows_each_customer(synthetic: tuple[CustomerBase, dict[int, Any]]
                                         ) -> None:
    base, _ = synthetic
    migration = stage_migration(base, CUTOFFS)
    assert migration.code.shape == (len(base), len(CUTOFFS))
    assert migration.n_steps == 3
    for column, cutoff in enumerate(CUTOFFS):
        expected = classify(base, as_of=cutoff).code
        np.testing.assert_array_equal(migration.code[:, column], expected)
    for step in range(migration.n_steps):
        counts = migration.counts(step)
        assert counts.shape == (len(MIGRATION_STATES), len(MIGRATION_STATES))
        assert counts.sum() == len(base)
        # Row sums are the stage counts at the earlier cut-off, column sums at the later.
        before = np.bincount(migration.code[:, step] + 1, minlength=6)
        after = np.bincount(migration.code[:, step + 1] + 1, minlength=6)
        np.testing.assert_array_equal(counts.sum(axis=1), before)
        np.testing.assert_array_equal(counts.sum(axis=0), after)
        # Nobody becomes "not yet a customer" again.
        assert counts[1:, 0].sum() == 0
    np.testing.assert_array_equal(migration.counts(),
                                  sum(migration.counts(s) for s in range(3)))
    matrix = migration.transition_matrix()
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0)
    frame = migration.to_frame()
    assert int(frame["count"].sum()) == 3 * len(base)
    assert set(frame["from_stage"]) <= set(MIGRATION_STATES)


def test_the_built_ended_customers_migrate_to_terminated(
    synthetic: tuple[CustomerBase, dict[int, Any]],
) -> None:
    base, truth = synthetic
    migration = stage_migration(base, CUTOFFS)
    ended = np.array([truth[int(c)] is LifecycleStage.TERMINATED for c in base.customer_id])
    # They stopped 30-60 weeks before the end: most were active at the first cut-off.
    first, last = migration.code[ended, 0], migration.code[ended, -1]
    assert np.mean(first != LifecycleStage.TERMINATED.order) > 0.5
    assert np.mean(last == LifecycleStage.TERMINATED.order) > 0.9


def test_a_stage_chain_feeds_markov_clv(synthetic: tuple[CustomerBase, dict[int, Any]]
                                        ) -> None:
    base, _ = synthetic
    migration = stage_migration(base, CUTOFFS)
    rewards = [20.0, 60.0, 100.0, 30.0, 0.0]
    chain = MarkovCLV.from_migration(migration, rewards, discount_rate=0.05)
    assert chain.states_ == tuple(s.value for s in LifecycleStage)
    values = chain.values()
    np.testing.assert_allclose(values, rewards + chain.transition_matrix_ @ values / 1.05)
    assert values[LifecycleStage.STABILITY.order] > values[LifecycleStage.DECLINE.order]


def test_migration_takes_a_classifier_and_thresholds(
    synthetic: tuple[CustomerBase, dict[int, Any]],
) -> None:
    base, _ = synthetic
    # ending a relationship takes both a long silence in usual gaps and a silence beyond the
    # base's lapse limit (at least the window); making both shorter ends more relationships
    strict = stage_migration(base, CUTOFFS[-2:], decline_gap=1.0, terminated_gap=2.0,
                             lapse_quantile=0.25, window=4)
    own = stage_migration(base, CUTOFFS[-2:],
                          model=LifecycleClassifier(decline_gap=1.0, terminated_gap=2.0,
                                                    lapse_quantile=0.25, window=4))
    np.testing.assert_array_equal(strict.code, own.code)
    default = stage_migration(base, CUTOFFS[-2:])
    assert (strict.code == 4).sum() > (default.code == 4).sum()
    with pytest.raises(InvalidValueError, match="hyperparameters apply"):
        stage_migration(base, CUTOFFS, model=LifecycleClassifier(), decline_gap=1.0)


def test_bad_cutoffs_are_named(synthetic: tuple[CustomerBase, dict[int, Any]]) -> None:
    base, _ = synthetic
    with pytest.raises(InvalidValueError, match="at least two dates"):
        stage_migration(base, ["2025-01-01"])
    with pytest.raises(InvalidValueError, match="at least two dates"):
        stage_migration(base, "2025-01-01")
    with pytest.raises(InvalidValueError, match="strictly increasing; cut-off 2"):
        stage_migration(base, ["2024-06-01", "2025-01-01", "2024-12-01"])
    with pytest.raises(InvalidValueError, match="not a date"):
        stage_migration(base, ["2024-06-01", "later"])
    with pytest.raises(InvalidValueError, match="after the observation end"):
        stage_migration(base, ["2024-06-01", "2031-01-01"])
    with pytest.raises(EmptyDataError, match="no customer had bought"):
        stage_migration(base, ["2020-06-01", "2025-01-01"])
    migration = stage_migration(base, CUTOFFS[:2])
    with pytest.raises(InvalidValueError, match="step must be a whole number in 0..0"):
        migration.counts(1)


def test_transition_probabilities_normalise_rows() -> None:
    counts = np.array([[2, 2], [0, 0]])
    np.testing.assert_allclose(transition_probabilities(counts), [[0.5, 0.5], [0.0, 1.0]])
    with pytest.raises(InvalidValueError, match="square matrix"):
        transition_probabilities(np.ones((2, 3)))
    with pytest.raises(InvalidValueError, match="finite and >= 0"):
        transition_probabilities(np.array([[1, -1], [0, 1]]))
