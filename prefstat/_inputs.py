"""Accept either a canonical DataFrame or an already encoded ComparisonData."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .data import ComparisonData


def as_comparison_data(data: pd.DataFrame | ComparisonData, **columns: Any) -> ComparisonData:
    """Encode ``data`` unless it is already a :class:`ComparisonData`."""
    if isinstance(data, ComparisonData):
        return data
    return ComparisonData.from_frame(data, **{k: v for k, v in columns.items()})
