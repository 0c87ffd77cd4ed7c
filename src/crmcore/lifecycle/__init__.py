"""crmcore.lifecycle: where each customer relationship stands, how it moves, and what to do.

Stages of the customer relationship lifecycle, the rule that assigns them
from each customer's purchase history, stage migration over time, churn risk and reasons,
retention and win-back decisions, and the Markov-chain lifetime value of Pfeifer & Carraway
(2000).
"""

from typing import TYPE_CHECKING, Any

from crmcore._deprecation import moved_name
from crmcore.lifecycle._backtest import (
    OutcomeTable,
    StageBacktest,
    backtest,
    lift,
    roc_auc,
)
from crmcore.lifecycle._churn import (
    ChurnReason,
    ChurnRecord,
    ChurnRisk,
    ChurnSummary,
    RetentionOffer,
    RetentionPlan,
    WinBackList,
    churn_risk,
    plan_retention,
    summarise_churn,
    winback_candidates,
)
from crmcore.lifecycle._classify import LifecycleClassifier, classify, classify_relationship
from crmcore.lifecycle._complaints import (
    ComplaintSummary,
    ComplaintTable,
    FaultChurnEvidence,
    complaint_summary,
    fault_churn_evidence,
)
from crmcore.lifecycle._lapse import lapse_limits
from crmcore.lifecycle._markov import MarkovCLV
from crmcore.lifecycle._migration import (
    MIGRATION_STATES,
    StageMigration,
    recency_state,
    recency_transitions,
    stage_migration,
    transition_probabilities,
)
from crmcore.lifecycle._protocols import NoPurchaseModel, PAliveModel, StageClassifier
from crmcore.lifecycle._retention import RetentionRates, inactive_customers, retention_rates
from crmcore.lifecycle._rules import RULES
from crmcore.lifecycle._stage_result import StageExplanation, StageResult
from crmcore.lifecycle._stages import LifecycleStage
from crmcore.lifecycle._winback import DEFAULT_WINBACK_WEIGHTS

__all__ = [
    "DEFAULT_WINBACK_WEIGHTS",
    "MIGRATION_STATES",
    "RULES",
    "ChurnReason",
    "ChurnRecord",
    "ChurnRisk",
    "ChurnSummary",
    "ComplaintSummary",
    "ComplaintTable",
    "FaultChurnEvidence",
    "LifecycleClassifier",
    "LifecycleStage",
    "MarkovCLV",
    "NoPurchaseModel",
    "OutcomeTable",
    "PAliveModel",
    "RetentionOffer",
    "RetentionPlan",
    "RetentionRates",
    "StageBacktest",
    "StageClassifier",
    "StageExplanation",
    "StageMigration",
    "StageResult",
    "WinBackList",
    "backtest",
    "churn_risk",
    "classify",
    "classify_relationship",
    "complaint_summary",
    "fault_churn_evidence",
    "inactive_customers",
    "lapse_limits",
    "lift",
    "plan_retention",
    "recency_state",
    "recency_transitions",
    "retention_rates",
    "roc_auc",
    "stage_migration",
    "summarise_churn",
    "transition_probabilities",
    "winback_candidates",
]

_MOVED = {"LoyaltyDeterminant": "crmcore.LoyaltyDeterminant"}

if not TYPE_CHECKING:  # type checkers flag the old paths; at run time they warn

    def __getattr__(name: str) -> Any:
        # LoyaltyDeterminant has one home, the core; the old paths work for one release.
        return moved_name(__name__, name, _MOVED)
