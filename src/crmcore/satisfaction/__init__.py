"""crmcore.satisfaction: turning survey answers into weighted, explainable satisfaction scores.

Satisfaction is perceived experience compared with expectation. This package
weights indicator systems (AHP with consistency checks, entropy, given and combined weights),
holds them as :class:`IndicatorTree` objects of any depth (with templates from the course texts),
and scores answers through them: a weighted 0-100 index, fuzzy comprehensive evaluation,
expectation-disconfirmation and SERVQUAL gaps, importance-performance analysis, the ACSI form (with
its weights estimated by PLS path modelling), NPS, CSAT and CES.
"""

from crmcore.satisfaction._ahp import (
    RANDOM_INDEX_TABLES,
    AHPMethod,
    AHPResult,
    ahp,
    group_judgements,
    pairwise_matrix,
    random_index,
)
from crmcore.satisfaction._answers import Answers
from crmcore.satisfaction._fuzzy import (
    FUZZY_OPERATORS,
    FuzzyEvaluation,
    FuzzyOperator,
    fuzzy_evaluate,
    fuzzy_evaluate_tree,
    membership_from_answers,
)
from crmcore.satisfaction._indices import (
    ACSIIndex,
    CSATResult,
    Disconfirmation,
    EffortResult,
    IPAQuadrant,
    IPAResult,
    NPSResult,
    ServqualGap,
    acsi_index,
    ces,
    csat,
    disconfirmation,
    importance_performance,
    nps,
    servqual_gap,
)
from crmcore.satisfaction._models import (
    ACSIModel,
    FuzzySatisfactionIndex,
    SatisfactionModel,
    WeightedSatisfactionIndex,
)
from crmcore.satisfaction._pls import (
    ACSI_CONSTRUCTS,
    ACSI_PATHS,
    ACSIResult,
    PLSPathResult,
    PLSScheme,
    acsi_model,
    pls_path_model,
)
from crmcore.satisfaction._satisfaction_index import (
    SatisfactionIndex,
    ScaleSpec,
    normalise_answers,
    satisfaction_index,
)
from crmcore.satisfaction._templates import (
    logistics_customer_value_tree,
    logistics_satisfaction_tree,
    logistics_service_quality_tree,
    satisfaction_factors_tree,
)
from crmcore.satisfaction._tree import (
    Direction,
    HierarchyConsistency,
    IndicatorTree,
    LevelConsistency,
    LocalConsistency,
    Node,
    Scale,
)
from crmcore.satisfaction._weights import (
    EntropyResult,
    combine_weights,
    entropy_weights,
    normalise_weights,
)

__all__ = [
    "ACSI_CONSTRUCTS",
    "ACSI_PATHS",
    "FUZZY_OPERATORS",
    "RANDOM_INDEX_TABLES",
    "ACSIIndex",
    "ACSIModel",
    "ACSIResult",
    "AHPMethod",
    "AHPResult",
    "Answers",
    "CSATResult",
    "Direction",
    "Disconfirmation",
    "EffortResult",
    "EntropyResult",
    "FuzzyEvaluation",
    "FuzzyOperator",
    "FuzzySatisfactionIndex",
    "HierarchyConsistency",
    "IPAQuadrant",
    "IPAResult",
    "IndicatorTree",
    "LevelConsistency",
    "LocalConsistency",
    "NPSResult",
    "Node",
    "PLSPathResult",
    "PLSScheme",
    "SatisfactionIndex",
    "SatisfactionModel",
    "Scale",
    "ScaleSpec",
    "ServqualGap",
    "WeightedSatisfactionIndex",
    "acsi_index",
    "acsi_model",
    "ahp",
    "ces",
    "combine_weights",
    "csat",
    "disconfirmation",
    "entropy_weights",
    "fuzzy_evaluate",
    "fuzzy_evaluate_tree",
    "group_judgements",
    "importance_performance",
    "logistics_customer_value_tree",
    "logistics_satisfaction_tree",
    "logistics_service_quality_tree",
    "membership_from_answers",
    "normalise_answers",
    "normalise_weights",
    "nps",
    "pairwise_matrix",
    "pls_path_model",
    "random_index",
    "satisfaction_factors_tree",
    "satisfaction_index",
    "servqual_gap",
]
