"""Diagnostics: identifiability, transitivity, agreement and goodness of fit.

Each diagnostic is a function that returns a small result object with
DataFrames inside and a ``summary()``.
"""

from __future__ import annotations

from .connectivity import Connectivity, connectivity
from .transitivity import Transitivity, transitivity

__all__ = ["Connectivity", "Transitivity", "connectivity", "transitivity"]
