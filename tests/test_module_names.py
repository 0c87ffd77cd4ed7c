"""One vocabulary (issue 14): names that say what they hold, and one home per public name.

``LoyaltyDeterminant`` lives in the core (``crmcore.LoyaltyDeterminant``); the lifecycle and
loyalty packages exported it too and keep doing so for one release, with a
:class:`DeprecationWarning` naming the new home.
"""

from __future__ import annotations

import importlib
import importlib.util
import pathlib
import warnings
from collections import Counter
from types import ModuleType

import pytest

import crmcore
import crmcore.lifecycle
import crmcore.loyalty

OLD_HOMES = [crmcore.lifecycle, crmcore.loyalty]
SRC = pathlib.Path(crmcore.__file__).parent


@pytest.mark.parametrize("package", OLD_HOMES, ids=lambda m: m.__name__)
def test_old_paths_of_loyalty_determinant_warn_and_give_the_core_enum(
        package: ModuleType) -> None:
    with pytest.warns(DeprecationWarning, match=r"use crmcore\.LoyaltyDeterminant") as caught:
        determinant = getattr(package, "LoyaltyDeterminant")  # noqa: B009 (the deprecated path)
    assert determinant is crmcore.LoyaltyDeterminant
    # The warning points at the code that asked for the old name, not at crmcore.
    assert caught[0].filename == __file__


@pytest.mark.parametrize("package", OLD_HOMES, ids=lambda m: m.__name__)
def test_old_homes_no_longer_list_it_and_stay_quiet_otherwise(package: ModuleType) -> None:
    assert "LoyaltyDeterminant" not in package.__all__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exported = {name: getattr(package, name) for name in package.__all__}
        assert not hasattr(package, "NoSuchName")
    assert crmcore.LoyaltyDeterminant not in exported.values()
    with pytest.raises(AttributeError, match="NoSuchName"):
        getattr(package, "NoSuchName")  # noqa: B009 (an attribute that does not exist)


def test_loyalty_determinant_is_exported_from_one_place() -> None:
    assert "LoyaltyDeterminant" in crmcore.__all__
    assert crmcore.LoyaltyDeterminant.__module__ == "crmcore._determinants"


@pytest.mark.parametrize(("old", "new"), [
    ("crmcore._plugins", "crmcore._registry"),
    ("crmcore._types", "crmcore._domain"),
    ("crmcore.satisfaction._scoring", "crmcore.satisfaction._satisfaction_index"),
    ("crmcore.loyalty._loyalty_types", "crmcore.loyalty._typology"),
    ("crmcore.loyalty._determinants", "crmcore.loyalty._determinant_index"),
])
def test_renamed_private_modules(old: str, new: str) -> None:
    assert importlib.util.find_spec(old) is None
    assert importlib.import_module(new).__all__


def test_frames_are_read_and_written_in_one_module() -> None:
    frames = importlib.import_module("crmcore._frames")
    base = importlib.import_module("crmcore._base")
    assert frames._frame.__module__ == "crmcore._frames"
    assert frames.read_transactions.__module__ == "crmcore._frames"
    assert base._frame is frames._frame  # _base uses the writer; it does not define one
    assert base.FrameBackend is frames.FrameBackend


def test_one_module_of_each_name_except_the_per_package_plugins() -> None:
    names = Counter(p.name for p in SRC.rglob("*.py"))
    repeated = {name for name, count in names.items() if count > 1}
    # Every package has its __init__ and registers its built-in models in its _plugin module.
    assert repeated <= {"__init__.py", "_plugin.py"}


def test_every_public_name_of_the_value_package_imports() -> None:
    # The segmentation module was split in three (classes, results, schemes); crmcore.value
    # exports the same names as before.
    value = importlib.import_module("crmcore.value")
    assert [name for name in value.__all__ if not hasattr(value, name)] == []
    assert len(set(value.__all__)) == len(value.__all__)
    segmentation = {"BANK_SEED_SHARES", "BANK_WEALTH_THRESHOLDS", "FAMILY_CARD_THRESHOLDS",
                    "PERSONAL_CARD_THRESHOLDS", "BankClass", "CardTier", "ImportanceTier",
                    "InvestmentQuadrant", "LoyaltyLadder", "PortfolioQuadrant", "PyramidTier",
                    "RFMScores", "RFMSegment", "Segment", "SegmentRow", "Segmentation", "Split",
                    "bank_classes", "bank_classes_by_wealth", "card_tier", "importance",
                    "investment_quadrant", "loyalty_ladder", "portfolio", "pyramid",
                    "rfm_scores", "rfm_segments", "threshold_tiers"}
    assert segmentation <= set(value.__all__)
    homes = {getattr(getattr(value, name), "__module__", None) for name in segmentation}
    assert homes - {None} == {"crmcore.value._segments", "crmcore.value._segment_results",
                              "crmcore.value._segmentation"}
