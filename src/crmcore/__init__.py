"""crmcore: customer value, lifecycle, satisfaction and loyalty for relationship management.

The public surface is re-exported here; code lives in private modules and in the domain
packages :mod:`crmcore.value`, :mod:`crmcore.lifecycle`, :mod:`crmcore.satisfaction` and
:mod:`crmcore.loyalty`.
"""

from crmcore._base import CalibrationHoldout, CustomerBase, PurchaseHistory, compress_rows
from crmcore._determinants import LoyaltyDeterminant
from crmcore._domain import (
    Channel,
    Complaint,
    Customer,
    CustomerId,
    Interaction,
    Relationship,
    SurveyResponse,
    Transaction,
    ValueScore,
)
from crmcore._errors import (
    ConsistencyError,
    ConvergenceError,
    ConvergenceWarning,
    CRMError,
    CRMWarning,
    DataError,
    DateError,
    DuplicateCustomerError,
    EmptyDataError,
    IndicatorScaleError,
    InvalidValueError,
    LateTransactionError,
    MissingDependencyError,
    ModelCapabilityError,
    NotFittedError,
    PluginContractError,
    PluginError,
    SerializationError,
    TimeUnitError,
    TimeZoneError,
    UnknownColumnError,
    UnknownIndicatorError,
    UnknownModelError,
)
from crmcore._incremental import update_base
from crmcore._registry import (
    available_models,
    default_model_name,
    get_model,
    get_plugin_manager,
    model_offers,
)
from crmcore._scoring import Scores, ScoresSummary, score
from crmcore._serialization import from_json, to_json
from crmcore._strategies import STRATEGIES, STRATEGY_GROUPS, Strategy, StrategyGroup, strategies_for
from crmcore.hookspecs import hookimpl

__version__ = "0.1.0.dev0"

__all__ = [
    "STRATEGIES",
    "STRATEGY_GROUPS",
    "CRMError",
    "CRMWarning",
    "CalibrationHoldout",
    "Channel",
    "Complaint",
    "ConsistencyError",
    "ConvergenceError",
    "ConvergenceWarning",
    "Customer",
    "CustomerBase",
    "CustomerId",
    "DataError",
    "DateError",
    "DuplicateCustomerError",
    "EmptyDataError",
    "IndicatorScaleError",
    "Interaction",
    "InvalidValueError",
    "LateTransactionError",
    "LoyaltyDeterminant",
    "MissingDependencyError",
    "ModelCapabilityError",
    "NotFittedError",
    "PluginContractError",
    "PluginError",
    "PurchaseHistory",
    "Relationship",
    "Scores",
    "ScoresSummary",
    "SerializationError",
    "Strategy",
    "StrategyGroup",
    "SurveyResponse",
    "TimeUnitError",
    "TimeZoneError",
    "Transaction",
    "UnknownColumnError",
    "UnknownIndicatorError",
    "UnknownModelError",
    "ValueScore",
    "__version__",
    "available_models",
    "compress_rows",
    "default_model_name",
    "from_json",
    "get_model",
    "get_plugin_manager",
    "hookimpl",
    "model_offers",
    "score",
    "strategies_for",
    "to_json",
    "update_base",
]
