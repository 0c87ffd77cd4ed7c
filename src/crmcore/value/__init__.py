"""crmcore.value: customer value, lifetime value, value parts and segmentation."""

from crmcore.value._bgbb import BGBB
from crmcore.value._bgnbd import BGNBD, MBGNBD
from crmcore.value._btyd import ContinuousBTYDModel
from crmcore.value._clv import LifetimeValue, dert_rate, lifetime_value, retention_clv, sbg_clv
from crmcore.value._cnbd import (
    BGCNBD,
    MBGCNBD,
    log_intertransaction_times,
    simulate_bgcnbd,
    simulate_mbgcnbd,
    wheat_morrison,
)
from crmcore.value._covariates import CovariateDesign
from crmcore.value._dynamic_clv import time_varying_lifetime_value
from crmcore.value._gamma_gamma import GammaGamma
from crmcore.value._ggompertz import GGompertzNBD, simulate_ggompertz_nbd
from crmcore.value._likelihood import LikelihoodModel, ParameterSummary, PredictionInterval
from crmcore.value._pareto import ParetoNBD
from crmcore.value._pareto_dyncov import ParetoNBDDynamic, simulate_pareto_nbd_dynamic
from crmcore.value._parts import (
    CLVDrivers,
    PotentialInputs,
    PotentialValue,
    PotentialValueModel,
    WalletReferralPotential,
    clv_drivers,
    historical_value,
    margin_rates,
)
from crmcore.value._sbg import ShiftedBetaGeometric
from crmcore.value._segment_backtest import (
    SEGMENT_CLAIMS,
    Claim,
    ClaimCheck,
    SegmentBacktest,
    backtest_segments,
)
from crmcore.value._segment_results import RFMScores, Segmentation, SegmentRow, Split
from crmcore.value._segmentation import (
    BANK_SEED_SHARES,
    BANK_WEALTH_THRESHOLDS,
    FAMILY_CARD_THRESHOLDS,
    PERSONAL_CARD_THRESHOLDS,
    bank_classes,
    bank_classes_by_wealth,
    card_tier,
    importance,
    investment_quadrant,
    loyalty_ladder,
    portfolio,
    pyramid,
    rfm_scores,
    rfm_segments,
    threshold_tiers,
)
from crmcore.value._segments import (
    BankClass,
    CardTier,
    ImportanceTier,
    InvestmentQuadrant,
    LoyaltyLadder,
    PortfolioQuadrant,
    PyramidTier,
    RFMSegment,
    Segment,
)
from crmcore.value._simulate import (
    SimulatedCohort,
    SimulatedCustomers,
    simulate_bgbb,
    simulate_bgnbd,
    simulate_mbgnbd,
    simulate_pareto_nbd,
    simulate_sbg,
)
from crmcore.value._tracking import TransactionTracking, transaction_tracking

__all__ = [
    "BANK_SEED_SHARES",
    "BANK_WEALTH_THRESHOLDS",
    "BGBB",
    "BGCNBD",
    "BGNBD",
    "FAMILY_CARD_THRESHOLDS",
    "MBGCNBD",
    "MBGNBD",
    "PERSONAL_CARD_THRESHOLDS",
    "SEGMENT_CLAIMS",
    "BankClass",
    "CLVDrivers",
    "CardTier",
    "Claim",
    "ClaimCheck",
    "ContinuousBTYDModel",
    "CovariateDesign",
    "GGompertzNBD",
    "GammaGamma",
    "ImportanceTier",
    "InvestmentQuadrant",
    "LifetimeValue",
    "LikelihoodModel",
    "LoyaltyLadder",
    "ParameterSummary",
    "ParetoNBD",
    "ParetoNBDDynamic",
    "PortfolioQuadrant",
    "PotentialInputs",
    "PotentialValue",
    "PotentialValueModel",
    "PredictionInterval",
    "PyramidTier",
    "RFMScores",
    "RFMSegment",
    "Segment",
    "SegmentBacktest",
    "SegmentRow",
    "Segmentation",
    "ShiftedBetaGeometric",
    "SimulatedCohort",
    "SimulatedCustomers",
    "Split",
    "TransactionTracking",
    "WalletReferralPotential",
    "backtest_segments",
    "bank_classes",
    "bank_classes_by_wealth",
    "card_tier",
    "clv_drivers",
    "dert_rate",
    "historical_value",
    "importance",
    "investment_quadrant",
    "lifetime_value",
    "log_intertransaction_times",
    "loyalty_ladder",
    "margin_rates",
    "portfolio",
    "pyramid",
    "retention_clv",
    "rfm_scores",
    "rfm_segments",
    "sbg_clv",
    "simulate_bgbb",
    "simulate_bgcnbd",
    "simulate_bgnbd",
    "simulate_ggompertz_nbd",
    "simulate_mbgcnbd",
    "simulate_mbgnbd",
    "simulate_pareto_nbd",
    "simulate_pareto_nbd_dynamic",
    "simulate_sbg",
    "threshold_tiers",
    "time_varying_lifetime_value",
    "transaction_tracking",
    "wheat_morrison",
]
