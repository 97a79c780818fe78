"""Diagnostics: identifiability, transitivity, agreement and goodness of fit.

Each diagnostic is a function that returns a small result object with
DataFrames inside and a ``summary()``.
"""

from __future__ import annotations

from .agreement import (
    Agreement,
    KendallU,
    agreement,
    cohen_kappa,
    fleiss_kappa,
    kendall_u,
    krippendorff_alpha,
)
from .connectivity import Connectivity, connectivity
from .transitivity import Transitivity, transitivity

__all__ = [
    "Agreement",
    "Connectivity",
    "KendallU",
    "Transitivity",
    "agreement",
    "cohen_kappa",
    "connectivity",
    "fleiss_kappa",
    "kendall_u",
    "krippendorff_alpha",
    "transitivity",
]
