"""The catalogue of bad inputs: each must raise the named crmcore error it is listed with.

One row per mistake, found by probing (issue 11) or handled since the start; a regression to a
raw ``TypeError``, a silent NaN or a silently changed value fails here. The rows assert the
error class and its structured attributes (``field``, ``rows``, ``plugin``), never the wording.
A second table lists inputs that once went wrong silently and now give the right answer.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pytest

import crmcore
from crmcore import CustomerBase
from crmcore.hookspecs import ModelFactory
from crmcore.satisfaction import ahp, entropy_weights, fuzzy_evaluate
from crmcore.value import BGNBD

pd = pytest.importorskip("pandas")

UTC5 = dt.timezone(dt.timedelta(hours=5))


def _log(**columns: Any) -> Any:
    return pd.DataFrame(columns)


def _base(**kwargs: Any) -> CustomerBase:
    frame = _log(customer_id=[1, 1, 2, 3, 3],
                 at=["2020-01-01", "2020-02-03", "2020-01-05", "2020-01-10", "2020-03-01"],
                 amount=[10.0, 20.0, 5.0, 7.0, 8.0])
    return CustomerBase.from_transactions(frame, monetary_value="amount", **kwargs)


@functools.cache
def _fitted() -> BGNBD:
    return BGNBD.from_params(r=0.24, alpha=4.41, a=0.79, b=2.43)


def _score(base: CustomerBase | None = None, **kwargs: Any) -> crmcore.Scores:
    options: dict[str, Any] = {
        "margin": 0.3, "discount_rate": 0.01, "time_unit": "D", "horizon": 30.0,
        "value_model": _fitted(), "spend_model": 10.0, "lifecycle_model": False,
        "loyalty_model": False,
    }
    options.update(kwargs)
    return crmcore.score(_base() if base is None else base, **options)


class _WrongLength:
    """A value model whose answers have one value too many."""

    params_ = (1.0,)

    def expected_purchases(self, t: float, frequency: Any, recency: Any, T: Any) -> Any:
        return np.zeros(len(frequency) + 1)

    def p_alive(self, frequency: Any, recency: Any, T: Any) -> Any:
        return np.ones(len(frequency) + 1)


class _Strings(_WrongLength):
    """A value model that answers in words."""

    def expected_purchases(self, t: float, frequency: Any, recency: Any, T: Any) -> Any:
        return ["many"] * len(frequency)

    def p_alive(self, frequency: Any, recency: Any, T: Any) -> Any:
        return ["yes"] * len(frequency)


class _RaisingPlugin:
    @crmcore.hookimpl
    def crmcore_value_models(self) -> Mapping[str, ModelFactory]:
        raise RuntimeError("database unreachable")


class _BadReturnPlugin:
    @crmcore.hookimpl
    def crmcore_value_models(self) -> Mapping[str, ModelFactory]:
        return ["not", "a", "mapping"]  # type: ignore[return-value]


def _plugin_models(plugin: object) -> Any:
    manager = crmcore.get_plugin_manager(load_entry_points=False, disabled=[],
                                         plugins=[plugin])
    return crmcore.available_models("value", plugin_manager=manager)


def _saved_model(text: str | bytes) -> Any:
    return BGNBD.from_json(text)


def _deep() -> str:
    return "[" * 100_000 + "]" * 100_000


# (id, call, error class, attributes the error must carry)
Case = tuple[str, Callable[[], object], type[Exception], dict[str, Any]]
CASES: list[Case] = [
    # -- time zones: one rule (local time in the data's one zone) ---------------------------
    ("strings-offset-and-naive",
     lambda: CustomerBase.from_transactions(
         _log(customer_id=[1, 1], at=["2020-01-01T01:00+05:00", "2020-01-03T23:30"])),
     crmcore.TimeZoneError, {"field": "at", "rows": (1,)}),
    ("strings-two-offsets",
     lambda: CustomerBase.from_transactions(
         _log(customer_id=[1, 1], at=["2020-01-01T01:00+05:00", "2020-01-03T23:30+01:00"])),
     crmcore.TimeZoneError, {"field": "at"}),
    ("datetimes-aware-and-naive",
     lambda: CustomerBase.from_transactions(
         _log(customer_id=[1, 1], at=[dt.datetime(2020, 1, 1, tzinfo=UTC5),
                                      dt.datetime(2020, 1, 2)])),
     crmcore.TimeZoneError, {"field": "at"}),
    ("split-at-aware-on-naive-data",
     lambda: _base().calibration_holdout(dt.datetime(2020, 1, 20, tzinfo=dt.UTC)),
     crmcore.TimeZoneError, {"field": "split_at"}),
    ("split-at-offset-string-on-naive-data",
     lambda: _base().calibration_holdout("2020-01-20T00:00+05:00"),
     crmcore.TimeZoneError, {"field": "split_at"}),
    ("observation-end-aware-on-naive-data",
     lambda: _base(observation_end=dt.datetime(2020, 6, 1, tzinfo=dt.UTC)),
     crmcore.TimeZoneError, {"field": "observation_end"}),
    ("split-at-yesterday", lambda: _base().calibration_holdout("yesterday"),
     crmcore.DateError, {"field": "split_at"}),
    ("split-at-a-number", lambda: _base().calibration_holdout(20200120),  # type: ignore[arg-type]
     crmcore.DateError, {"field": "split_at"}),
    ("observation-end-yesterday", lambda: _base(observation_end="yesterday"),
     crmcore.DateError, {"field": "observation_end"}),
    ("split-at-after-the-end", lambda: _base().calibration_holdout("2020-12-01"),
     crmcore.InvalidValueError, {"field": "split_at"}),
    # -- transaction logs -------------------------------------------------------------------
    ("amounts-summing-past-the-largest-float",
     lambda: CustomerBase.from_transactions(
         _log(customer_id=[1, 1, 2], at=["2020-01-01", "2020-01-02", "2020-01-02"],
              amount=[1e308, 1e308, 1.0]), monetary_value="amount"),
     crmcore.InvalidValueError, {"field": "amount", "rows": (0, 1)}),
    ("negative-amount",
     lambda: CustomerBase.from_transactions(
         _log(customer_id=[1, 2], at=["2020-01-01", "2020-01-02"], amount=[5.0, -1.0]),
         monetary_value="amount"),
     crmcore.InvalidValueError, {"field": "amount", "rows": (1,)}),
    ("nan-amount",
     lambda: CustomerBase.from_transactions(
         _log(customer_id=[1, 2], at=["2020-01-01", "2020-01-02"], amount=[np.nan, 1.0]),
         monetary_value="amount"),
     crmcore.InvalidValueError, {"field": "amount", "rows": (0,)}),
    ("amount-of-words",
     lambda: CustomerBase.from_transactions(
         _log(customer_id=[1], at=["2020-01-01"], amount=["ten"]), monetary_value="amount"),
     crmcore.InvalidValueError, {"field": "amount"}),
    ("missing-id",
     lambda: CustomerBase.from_transactions(
         _log(customer_id=["a", None], at=["2020-01-01", "2020-01-02"])),
     crmcore.InvalidValueError, {"field": "customer_id", "rows": (1,)}),
    ("mixed-id-types-in-a-column",
     lambda: CustomerBase.from_transactions(
         _log(customer_id=pd.Series([1, "a"], dtype=object), at=["2020-01-01", "2020-01-02"])),
     crmcore.DataError, {"field": "customer_id", "rows": (1,)}),
    ("id-beyond-64-bits",
     lambda: CustomerBase.from_transactions(
         _log(customer_id=pd.Series([2**64, 1], dtype=object), at=["2020-01-01", "2020-01-02"])),
     crmcore.DataError, {"field": "customer_id", "rows": (0,)}),
    ("missing-date",
     lambda: CustomerBase.from_transactions(_log(customer_id=[1, 2], at=["2020-01-01", None])),
     crmcore.DateError, {"field": "at", "rows": (1,)}),
    ("unparseable-date",
     lambda: CustomerBase.from_transactions(_log(customer_id=[1, 2],
                                                 at=["2020-01-01", "soon"])),
     crmcore.DateError, {"field": "at", "rows": (1,)}),
    ("unknown-column",
     lambda: CustomerBase.from_transactions(_log(customer_id=[1], at=["2020-01-01"]),
                                            monetary_value="price"),
     crmcore.UnknownColumnError, {"field": "monetary_value", "column": "price"}),
    ("empty-log",
     lambda: CustomerBase.from_transactions(_log(customer_id=[], at=[])),
     crmcore.EmptyDataError, {"field": "data"}),
    ("late-purchase", lambda: _base(observation_end="2020-02-01"),
     crmcore.LateTransactionError, {"field": "at", "rows": (1, 4)}),
    ("unknown-period", lambda: _base(freq="fortnight"), crmcore.TimeUnitError, {}),
    ("days-in-months", lambda: _base(freq="D", time_unit="M"), crmcore.TimeUnitError, {}),
    ("not-a-frame", lambda: CustomerBase.from_transactions(42), crmcore.DataError,
     {"field": "data"}),
    # -- summaries --------------------------------------------------------------------------
    ("summary-frequency-1e20", lambda: CustomerBase.from_summary([1], [1e20], [1.0], [2.0]),
     crmcore.InvalidValueError, {"field": "frequency", "rows": (0,)}),
    ("summary-mixed-ids", lambda: CustomerBase.from_summary([1, "a"], [1, 1], [1, 1], [2, 2]),  # type: ignore[arg-type]
     crmcore.DataError, {"field": "customer_id", "rows": (1,)}),
    ("summary-nan-id",
     lambda: CustomerBase.from_summary([1.0, np.nan], [1, 1], [1, 1], [2, 2]),
     crmcore.InvalidValueError, {"field": "customer_id", "rows": (1,)}),
    ("summary-none-id", lambda: CustomerBase.from_summary([1, None], [1, 1], [1, 1], [2, 2]),  # type: ignore[arg-type]
     crmcore.InvalidValueError, {"field": "customer_id", "rows": (1,)}),
    ("summary-float-ids", lambda: CustomerBase.from_summary([1.5, 2.5], [1, 1], [1, 1], [2, 2]),
     crmcore.DataError, {"field": "customer_id"}),
    ("summary-duplicate-ids",
     lambda: CustomerBase.from_summary(["a", "a"], [1, 1], [1, 1], [2, 2]),
     crmcore.DuplicateCustomerError, {"field": "customer_id", "rows": ("a",)}),
    ("summary-recency-beyond-T",
     lambda: CustomerBase.from_summary([1, 2], [1, 2], [3.0, 1.0], [2.0, 4.0]),
     crmcore.InvalidValueError, {"field": "recency", "rows": (0,)}),
    ("summary-negative-frequency",
     lambda: CustomerBase.from_summary([1, 2], [1, -2], [1.0, 1.0], [2.0, 4.0]),
     crmcore.InvalidValueError, {"field": "frequency", "rows": (1,)}),
    ("summary-nan-recency",
     lambda: CustomerBase.from_summary([1, 2], [1, 2], [np.nan, 1.0], [2.0, 4.0]),
     crmcore.InvalidValueError, {"field": "recency", "rows": (0,)}),
    ("summary-frequency-not-whole",
     lambda: CustomerBase.from_summary([1, 2], [1.5, 2], [1.0, 1.0], [2.0, 4.0]),
     crmcore.InvalidValueError, {"field": "frequency", "rows": (0,)}),
    ("summary-no-customers", lambda: CustomerBase.from_summary([], [], [], []),
     crmcore.EmptyDataError, {"field": "customer_id"}),
    # -- reading a base ---------------------------------------------------------------------
    ("index-of-mixed-ids", lambda: _base().index_of([1, "a"]),  # type: ignore[arg-type]
     crmcore.DataError, {"field": "customer_id", "rows": ("a",)}),
    ("index-of-none", lambda: _base().index_of([None]),  # type: ignore[arg-type]
     crmcore.DataError, {"field": "customer_id", "rows": (None,)}),
    ("take-out-of-range", lambda: _base().take([7]),
     crmcore.InvalidValueError, {"field": "rows", "rows": (7,)}),
    ("take-fractions", lambda: _base().take([0.5]), crmcore.InvalidValueError,
     {"field": "rows"}),
    ("take-short-mask", lambda: _base().take([True]), crmcore.InvalidValueError,
     {"field": "rows"}),
    ("base-to-excel", lambda: _base().to_frame("excel"),  # type: ignore[arg-type]
     crmcore.InvalidValueError, {"field": "backend"}),
    ("scores-to-excel", lambda: _score().to_frame("excel"),  # type: ignore[arg-type]
     crmcore.InvalidValueError, {"field": "backend"}),
    ("scores-of-an-unknown-customer", lambda: _score().value_score("nobody"),
     crmcore.DataError, {"field": "customer_id"}),
    # -- score ------------------------------------------------------------------------------
    ("score-step-grid-too-fine", lambda: _score(horizon=52.0, time_unit="W", step=1e-4),
     crmcore.InvalidValueError, {"field": "step"}),
    ("score-discount-5-per-day",  # 6 ** 500 days is past the largest float
     lambda: _score(base=_base(observation_end="2021-06-01"), discount_rate=5.0),
     crmcore.InvalidValueError, {"field": "discount_rate"}),
    ("score-margin-30", lambda: _score(margin=30), crmcore.InvalidValueError,
     {"field": "margin", "rows": (0, 1, 2)}),
    ("score-margin-minus-30", lambda: _score(margin=-30), crmcore.InvalidValueError,
     {"field": "margin", "rows": (0, 1, 2)}),
    ("score-margin-nan", lambda: _score(margin=[0.3, np.nan, 0.3]), crmcore.InvalidValueError,
     {"field": "margin", "rows": (1,)}),
    ("score-margin-wrong-length", lambda: _score(margin=[0.3, 0.3]),
     crmcore.InvalidValueError, {"field": "margin"}),
    ("score-discount-rate-words", lambda: _score(discount_rate="low"),
     crmcore.InvalidValueError, {"field": "discount_rate"}),
    ("score-unknown-time-unit", lambda: _score(time_unit="fortnight"),
     crmcore.TimeUnitError, {}),
    ("score-markov-value-model", lambda: _score(value_model="markov"),
     crmcore.InvalidValueError, {"field": "value_model"}),
    ("score-sbg-value-model", lambda: _score(value_model="sbg"),
     crmcore.InvalidValueError, {"field": "value_model"}),
    ("score-unknown-value-model", lambda: _score(value_model="crystal-ball"),
     crmcore.UnknownModelError, {"kind": "value", "name": "crystal-ball"}),
    ("score-model-answers-wrong-length", lambda: _score(value_model=_WrongLength()),
     crmcore.PluginError, {"plugin": "_WrongLength"}),
    ("score-model-answers-in-words", lambda: _score(value_model=_Strings()),
     crmcore.PluginError, {"plugin": "_Strings"}),
    ("score-empty-base", lambda: _score(base=_base().take([])), crmcore.DataError,
     {"field": "base"}),
    # -- plugins ----------------------------------------------------------------------------
    ("plugin-raising-from-its-hook", lambda: _plugin_models(_RaisingPlugin()),
     crmcore.PluginError, {}),
    ("plugin-returning-a-list", lambda: _plugin_models(_BadReturnPlugin()),
     crmcore.PluginError, {}),
    # -- satisfaction -----------------------------------------------------------------------
    ("ahp-inconsistent",
     lambda: ahp([[1, 9, 1 / 9], [1 / 9, 1, 9], [9, 1 / 9, 1]]),
     crmcore.ConsistencyError, {"limit": 0.1}),
    ("ahp-not-reciprocal", lambda: ahp([[1, 3], [3, 1]]), crmcore.InvalidValueError,
     {"field": "matrix"}),
    ("ahp-negative-judgement", lambda: ahp([[1, -3], [-1 / 3, 1]]), crmcore.InvalidValueError,  # type: ignore[arg-type]
     {"field": "matrix"}),
    ("ahp-inconsistent-at-1e300",
     lambda: ahp([[1, 1e300, 1e-300], [1e-300, 1, 1e300], [1e300, 1e-300, 1]]),
     crmcore.ConsistencyError, {}),
    ("entropy-nan", lambda: entropy_weights([[1.0, 2.0], [np.nan, 3.0]]),
     crmcore.InvalidValueError, {"field": "matrix", "rows": (1,)}),
    ("entropy-nothing-varies", lambda: entropy_weights([[1.0, 2.0], [1.0, 2.0]]),
     crmcore.InvalidValueError, {"field": "matrix"}),
    ("fuzzy-membership-above-one", lambda: fuzzy_evaluate([1, 1], [[0.5, 1.5], [0.2, 0.8]]),
     crmcore.InvalidValueError, {"field": "membership"}),
    ("fuzzy-unknown-operator",
     lambda: fuzzy_evaluate([1], [[0.5, 0.5]], "max-min"),  # type: ignore[arg-type]
     crmcore.InvalidValueError, {"field": "operator"}),
    # -- saved documents --------------------------------------------------------------------
    ("json-not-utf8", lambda: _saved_model('{"crmcore": "BGNBD", "x": "café"}'.encode("latin-1")),
     crmcore.SerializationError, {}),
    ("json-deeply-nested", lambda: _saved_model(_deep()), crmcore.SerializationError, {}),
    ("json-deeply-nested-object",
     lambda: crmcore.from_json(_deep(), crmcore.Transaction), crmcore.SerializationError, {}),
    ("json-not-json", lambda: _saved_model("{not json"), crmcore.SerializationError, {}),
    ("json-another-kind", lambda: _saved_model('{"crmcore": "GammaGamma", "schema_version": 1}'),
     crmcore.SerializationError, {}),
]


@pytest.mark.parametrize(("call", "error", "attributes"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_input_raises_its_named_error(call: Callable[[], object], error: type[Exception],
                                          attributes: dict[str, Any]) -> None:
    with pytest.raises(error) as info:
        call()
    assert isinstance(info.value, crmcore.CRMError)
    for name, expected in attributes.items():
        assert getattr(info.value, name) == expected, name
    if isinstance(info.value, crmcore.PluginError):
        assert info.value.plugin


def test_load_of_a_non_utf8_file_is_a_serialization_error(tmp_path: Any) -> None:
    path = tmp_path / "model.json"
    path.write_bytes('{"crmcore": "BGNBD", "note": "café"}'.encode("latin-1"))
    with pytest.raises(crmcore.SerializationError):
        BGNBD.load(path)


# -- inputs that once went wrong silently and now give the right answer ----------------------


def test_offset_strings_and_aware_column_follow_one_rule() -> None:
    strings = ["2020-01-01T01:00+05:00", "2020-01-03T23:30+05:00"]
    from_strings = CustomerBase.from_transactions(_log(customer_id=[1, 1], at=strings))
    aware = CustomerBase.from_transactions(
        _log(customer_id=[1, 1], at=[dt.datetime(2020, 1, 1, 1, 0, tzinfo=UTC5),
                                     dt.datetime(2020, 1, 3, 23, 30, tzinfo=UTC5)]))
    # local wall-clock time in the data's zone, for both
    assert from_strings.first_purchase is not None
    assert aware.first_purchase is not None
    assert from_strings.first_purchase[0] == np.datetime64("2020-01-01T01:00")
    assert aware.first_purchase[0] == from_strings.first_purchase[0]
    assert from_strings.observation_end == aware.observation_end
    assert from_strings.time_zone == aware.time_zone == "UTC+05:00"


def test_aware_dates_given_to_aware_data_are_converted_into_its_zone() -> None:
    base = CustomerBase.from_transactions(
        _log(customer_id=[1, 1, 2], at=["2020-01-01T10:00+05:00", "2020-01-20T10:00+05:00",
                                        "2020-01-02T10:00+05:00"]))
    # 2020-01-09T22:00 UTC is 2020-01-10T03:00 at +05:00: the split falls on the 10th
    split = base.calibration_holdout(dt.datetime(2020, 1, 9, 22, 0, tzinfo=dt.UTC))
    assert split.calibration.observation_end == np.datetime64("2020-01-10T03:00")
    same = base.calibration_holdout("2020-01-09T22:00Z")
    assert same.calibration.observation_end == split.calibration.observation_end
    naive = base.calibration_holdout("2020-01-10T03:00")  # naive: local time of the data
    assert naive.calibration.observation_end == split.calibration.observation_end


def test_ids_keep_their_values_and_types() -> None:
    big = np.array([2**64 - 1, 5], dtype=np.uint64)
    base = CustomerBase.from_transactions(_log(customer_id=big, at=["2020-01-01", "2020-01-02"]))
    assert base.customer_id.tolist() == [5, 2**64 - 1]
    assert base.index_of([2**64 - 1]).tolist() == [1]
    categorical = pd.Categorical([3, 10, 3])
    base = CustomerBase.from_transactions(
        _log(customer_id=categorical, at=["2020-01-01", "2020-01-02", "2020-01-03"]))
    assert base.customer_id.tolist() == [3, 10]


def test_take_of_nothing_is_an_empty_base() -> None:
    empty = _base().take([])
    assert len(empty) == 0
    assert empty.history is not None
    assert empty.history.n_customers == 0


def test_entropy_weights_near_the_largest_float() -> None:
    x = np.array([[1.0, 2.0, 3.0], [4.0, 1.0, 5.0], [2.0, 8.0, 1.0]])
    np.testing.assert_allclose(entropy_weights(x * 1e307).weights, entropy_weights(x).weights)
    np.testing.assert_allclose(entropy_weights(x * 1e307, normalisation="sum").weights,
                               entropy_weights(x, normalisation="sum").weights)


def test_ahp_with_judgements_of_1e300() -> None:
    result = ahp([[1, 1e300, 1e300], [1e-300, 1, 1], [1e-300, 1, 1]])
    np.testing.assert_allclose(result.weights, [1.0, 1e-300, 1e-300], rtol=1e-9)
    assert result.consistency_ratio == pytest.approx(0.0, abs=1e-9)
    for method in ("eigenvector", "geometric-mean"):
        small = ahp([[1, 3, 5], [1 / 3, 1, 2], [1 / 5, 1 / 2, 1]], method=method)  # type: ignore[arg-type]
        assert small.weights.sum() == pytest.approx(1.0)


def test_negative_margin_down_to_minus_one_is_a_loss() -> None:
    loss = _score(margin=-0.3)
    gain = _score(margin=0.3)
    np.testing.assert_allclose(loss.current_value, -gain.current_value)
