"""crmcore.protocols: the built-in models follow them, the plugin checker applies them, and
the deprecations of this release work (old names and call forms warn and still answer)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pluggy
import pytest

import crmcore
import crmcore.lifecycle._plugin
import crmcore.loyalty._plugin
import crmcore.satisfaction._plugin
import crmcore.value._plugin
from crmcore import protocols
from crmcore.datasets import load_cdnow
from crmcore.hookspecs import MODEL_KINDS, ModelFactory
from crmcore.lifecycle import LifecycleClassifier, MarkovCLV
from crmcore.testing import check_model_plugin
from crmcore.value import (
    BGNBD,
    GammaGamma,
    PotentialInputs,
    ShiftedBetaGeometric,
    WalletReferralPotential,
    lifetime_value,
    retention_clv,
)

SRC = Path(__file__).resolve().parents[1] / "src" / "crmcore"


@pytest.fixture(scope="module")
def weekly() -> crmcore.CustomerBase:
    # weekly periods in weeks: whole-number recency, so discrete models (BG/BB) run on it too
    return load_cdnow(freq="W", time_unit="W")


def test_every_kind_has_a_protocol_and_a_hook() -> None:
    assert set(protocols.KIND_PROTOCOLS) == set(MODEL_KINDS)
    for kind in MODEL_KINDS:
        assert hasattr(crmcore.hookspecs, f"crmcore_{kind}_models")


def test_old_homes_re_export_the_protocols() -> None:
    assert crmcore.lifecycle.PAliveModel is protocols.PAliveModel
    assert crmcore.lifecycle.StageClassifier is protocols.LifecycleModel
    assert crmcore.value.PotentialValueModel is protocols.PotentialValueModel
    assert crmcore.satisfaction.SatisfactionModel is protocols.SatisfactionModel


@pytest.mark.parametrize("plugin", [crmcore.value._plugin, crmcore.lifecycle._plugin,
                                    crmcore.loyalty._plugin, crmcore.satisfaction._plugin])
def test_builtin_models_pass_the_checker_on_real_data(plugin: object,
                                                      weekly: crmcore.CustomerBase) -> None:
    report = check_model_plugin(plugin, base=weekly)
    assert report.ok, str(report)


def test_builtin_objects_are_instances_of_their_protocols(weekly: crmcore.CustomerBase) -> None:
    assert isinstance(BGNBD(), protocols.ValueModel)
    assert isinstance(BGNBD(), protocols.SupportsDERT)
    assert isinstance(GammaGamma(), protocols.SpendModel)
    assert isinstance(WalletReferralPotential(), protocols.PotentialValueModel)
    assert isinstance(LifecycleClassifier(), protocols.LifecycleModel)
    assert isinstance(ShiftedBetaGeometric(), protocols.CohortModel)
    assert isinstance(MarkovCLV(), protocols.MigrationModel)
    assert isinstance(crmcore.get_model("loyalty"), protocols.LoyaltyModel)
    assert isinstance(crmcore.get_model("satisfaction"), protocols.SatisfactionModel)
    assert not isinstance(ShiftedBetaGeometric(), protocols.ValueModel)
    assert not isinstance(MarkovCLV(), protocols.ValueModel)


# -- the checker -------------------------------------------------------------------------------


class _HalfModel:
    """Has fit and p_alive, but expected_purchases takes too few arguments."""

    def fit(self, base: Any) -> _HalfModel:
        return self

    def p_alive(self, frequency: Any, recency: Any, T: Any) -> Any:
        return np.ones(len(frequency))

    def expected_purchases(self, t: Any) -> Any:
        return t


class _NoSpend:
    def fit(self, base: Any) -> _NoSpend:
        return self


class _Sloppy:
    @crmcore.hookimpl
    def crmcore_value_models(self) -> Mapping[str, ModelFactory]:
        return {"half": _HalfModel}

    @crmcore.hookimpl
    def crmcore_spend_models(self) -> Mapping[str, ModelFactory]:
        return {"No_Spend": _NoSpend}


def test_checker_says_what_is_missing_or_mismatched() -> None:
    report = check_model_plugin(_Sloppy())
    assert not report.ok
    by_name = {m.name: m for m in report.models}
    half = by_name["half"]
    assert half.protocol == "crmcore.protocols.ValueModel"
    assert half.missing == ()
    assert [m.split(":")[0] for m in half.mismatched] == ["expected_purchases"]
    assert set(half.optional_missing) == {"dert", "conditional_probability_of_purchases",
                                          "discrete", "time_unit_", "params_"}
    spend = by_name["No_Spend"]
    assert spend.missing == ("expected_spend",)
    assert any("lower-case" in p for p in spend.problems)
    assert len(report.failures()) == 2
    with pytest.raises(crmcore.PluginContractError) as info:
        check_model_plugin(_Sloppy(), "spend", on_error="raise")
    assert info.value.report.names() == ["No_Spend"]
    assert isinstance(info.value, crmcore.PluginError)


def test_checker_runs_models_on_a_base_and_checks_answers(
        weekly: crmcore.CustomerBase) -> None:
    class _OutOfRange:
        def fit(self, base: Any) -> Any:
            return self

        def p_alive(self, frequency: Any, recency: Any, T: Any) -> Any:
            return np.full(len(frequency), 1.5)

        def expected_purchases(self, t: Any, frequency: Any, recency: Any, T: Any) -> Any:
            return np.zeros(len(frequency) - 1)

    class _Plugin:
        @crmcore.hookimpl
        def crmcore_value_models(self) -> Mapping[str, ModelFactory]:
            return {"out-of-range": _OutOfRange}

    report = check_model_plugin(_Plugin(), "value", base=weekly)
    (model,) = report.models
    assert model.missing == ()
    assert model.mismatched == ()
    assert any(p.startswith("p_alive lies outside") for p in model.problems)
    assert any(p.startswith("expected_purchases has shape") for p in model.problems)


def test_checker_reports_a_missing_distribution() -> None:
    report = check_model_plugin("no-such-crm-distribution")
    assert not report.ok
    assert "not installed" in report.problems[0]


def test_checker_reports_a_plugin_that_fails_to_register() -> None:
    class _Unknown:
        @crmcore.hookimpl
        def crmcore_no_such_hook(self) -> None:
            return None

    report = check_model_plugin(_Unknown())
    assert not report.ok
    assert report.models == ()
    assert "unknown hook" in report.problems[0]


# -- kinds of their own for sbg and markov -------------------------------------------------------


def test_sbg_is_a_cohort_model_and_markov_a_migration_model(
        plugin_manager: pluggy.PluginManager) -> None:
    assert crmcore.default_model_name("cohort", plugin_manager=plugin_manager) == "sbg"
    assert crmcore.default_model_name("migration", plugin_manager=plugin_manager) == "markov"
    alive = [1000, 631, 468, 382, 326]  # Fader & Hardie (2007), "regular" customers
    model = crmcore.get_model("cohort", plugin_manager=plugin_manager).fit(alive)
    assert isinstance(model, ShiftedBetaGeometric)
    assert isinstance(crmcore.get_model("migration", plugin_manager=plugin_manager), MarkovCLV)


def test_old_value_names_warn_and_score_names_the_protocol(
        plugin_manager: pluggy.PluginManager) -> None:
    with pytest.warns(DeprecationWarning, match="moved to kind 'cohort'"):
        assert isinstance(crmcore.get_model("value", "sbg", plugin_manager=plugin_manager),
                          ShiftedBetaGeometric)
    with pytest.warns(DeprecationWarning, match="moved to kind 'migration'"):
        crmcore.get_model("value", "markov", plugin_manager=plugin_manager)
    base = load_cdnow()
    # a registered name that is not a value model is a bad argument (field value_model)
    with pytest.warns(DeprecationWarning, match="moved"), pytest.raises(
            crmcore.InvalidValueError,
            match=r"does not follow crmcore.protocols.ValueModel.*p_alive") as info:
        crmcore.score(base, margin=0.3, discount_rate=0.01, time_unit="W", horizon=52,
                      value_model="sbg", plugin_manager=plugin_manager)
    assert info.value.field == "value_model"


# -- the verb convention -------------------------------------------------------------------------


def test_old_verbs_warn_and_give_the_same_answers(weekly: crmcore.CustomerBase) -> None:
    classifier = LifecycleClassifier()
    with pytest.warns(DeprecationWarning, match=r"classify\(\) is deprecated"):
        old = classifier.classify(weekly)
    np.testing.assert_array_equal(old.code, classifier.score(weekly).code)
    potential = WalletReferralPotential()
    margin, inputs = np.full(len(weekly), 0.3), PotentialInputs(referrals=1.0, referral_value=5.0)
    with pytest.warns(DeprecationWarning, match=r"estimate\(\) is deprecated"):
        before = potential.estimate(weekly, margin=margin, inputs=inputs)
    np.testing.assert_array_equal(before.value,
                                  potential.score(weekly, margin=margin, inputs=inputs).value)


def test_a_potential_model_with_only_estimate_still_works(weekly: crmcore.CustomerBase) -> None:
    class _Old:
        name = "old"

        def estimate(self, base: Any, *, margin: Any, inputs: Any) -> Any:
            return WalletReferralPotential().score(base, margin=margin, inputs=inputs)

    with pytest.warns(DeprecationWarning, match="rename it score"):
        scores = crmcore.score(weekly, margin=0.3, discount_rate=0.01, time_unit="W",
                               horizon=52, potential_model=_Old(), lifecycle_model=False,  # type: ignore[arg-type]
                               loyalty_model=False)
    assert len(scores) == len(weekly)


# -- keyword-only options ------------------------------------------------------------------------


def test_positional_options_warn_and_still_work() -> None:
    from crmcore.satisfaction import ahp, combine_weights, csat

    # The deprecated call forms, through Any: type checkers (rightly) refuse them.
    old: Any = crmcore.satisfaction
    old_value: Any = crmcore.value
    old_classifier: Any = LifecycleClassifier
    matrix = [[1.0, 3.0, 5.0], [1 / 3, 1.0, 2.0], [1 / 5, 1 / 2, 1.0]]
    with pytest.warns(DeprecationWarning, match="method, ri, max_cr"):
        before = old.ahp(matrix, "geometric-mean", "saaty1980", None)
    after = ahp(matrix, method="geometric-mean", ri="saaty1980", max_cr=None)
    np.testing.assert_allclose(before.weights, after.weights)
    with pytest.warns(DeprecationWarning, match="scale, top"):
        assert old.csat([5, 4, 3], (1, 5), 1).top_box == csat([5, 4, 3], top=1).top_box
    with pytest.warns(DeprecationWarning, match="method"):
        linear = old.combine_weights([1, 2], [2, 1], "linear")
    np.testing.assert_allclose(linear, combine_weights([1, 2], [2, 1], method="linear"))
    with pytest.warns(DeprecationWarning, match="retention_rate, discount_rate"):
        assert old_value.retention_clv(100, 0.8, 0.1)[0] == pytest.approx(
            retention_clv(100, retention_rate=0.8, discount_rate=0.1)[0])
    with pytest.warns(DeprecationWarning, match="window, gap_multiple"):
        assert old_classifier(5, 3.0) == LifecycleClassifier(window=5, gap_multiple=3.0)
    with pytest.raises(TypeError, match="multiple values"):
        old_classifier(5, window=6)


# -- named errors --------------------------------------------------------------------------------


def test_public_functions_raise_named_errors(weekly: crmcore.CustomerBase) -> None:
    with pytest.raises(crmcore.InvalidValueError, match="at least one column"):
        crmcore.compress_rows()
    with pytest.raises(crmcore.InvalidValueError, match="unknown model kind"):
        crmcore.available_models("price")  # type: ignore[arg-type]

    class _NoDert:
        def p_alive(self, frequency: Any, recency: Any, T: Any) -> Any:
            return np.ones(len(frequency))

        def expected_purchases(self, t: Any, frequency: Any, recency: Any, T: Any) -> Any:
            return np.zeros(len(frequency))

    with pytest.raises(crmcore.ModelCapabilityError, match="DERT") as info:
        lifetime_value(_NoDert(), 10.0, weekly, margin=0.3, discount_rate=0.01,
                       time_unit="W", horizon=None)
    assert info.value.missing == ("dert",)


def test_no_bare_valueerror_or_crmerror_is_raised_in_src() -> None:
    bare = re.compile(r"raise (ValueError|CRMError)\(")
    offenders = [f"{path.relative_to(SRC)}:{n}" for path in SRC.rglob("*.py")
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if bare.search(line)]
    assert offenders == []
