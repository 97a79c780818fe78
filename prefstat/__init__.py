"""prefstat: statistical preference modelling for pandas users.

Fit Bradley–Terry, Thurstone, ties and order-effect models to comparison
tables, with standard errors and intervals, and measure what a single scalar
score leaves out (intransitivity, rater disagreement, position bias).
"""

from __future__ import annotations

from . import convert, datasets, diagnostics, evaluation, features, io
from .audit import AuditReport, AuditSection, audit
from .data import OUTCOMES, ComparisonData, PairCounts
from .exceptions import (
    ConvergenceError,
    ConvergenceWarning,
    DataFetchError,
    DataValidationError,
    DataWarning,
    EmptyDataError,
    FeatureDimensionError,
    FeatureMismatchError,
    IdentifiabilityWarning,
    InvalidItemError,
    InvalidOutcomeError,
    InvalidParameterError,
    InvalidRankingError,
    InvalidWeightError,
    MissingColumnError,
    MissingDependencyError,
    MissingFeaturesError,
    NonFiniteFeaturesError,
    NotFittedError,
    NotIdentifiableError,
    PrefstatError,
    PrefstatWarning,
)
from .models import BradleyTerry, PlackettLuce, RaterBradleyTerry, Thurstone

__version__ = "0.1.0.dev0"

__all__ = [
    "OUTCOMES",
    "AuditReport",
    "AuditSection",
    "BradleyTerry",
    "ComparisonData",
    "ConvergenceError",
    "ConvergenceWarning",
    "DataFetchError",
    "DataValidationError",
    "DataWarning",
    "EmptyDataError",
    "FeatureDimensionError",
    "FeatureMismatchError",
    "IdentifiabilityWarning",
    "InvalidItemError",
    "InvalidOutcomeError",
    "InvalidParameterError",
    "InvalidRankingError",
    "InvalidWeightError",
    "MissingColumnError",
    "MissingDependencyError",
    "MissingFeaturesError",
    "NonFiniteFeaturesError",
    "NotFittedError",
    "NotIdentifiableError",
    "PairCounts",
    "PlackettLuce",
    "PrefstatError",
    "PrefstatWarning",
    "RaterBradleyTerry",
    "Thurstone",
    "__version__",
    "audit",
    "convert",
    "datasets",
    "diagnostics",
    "evaluation",
    "features",
    "io",
]
