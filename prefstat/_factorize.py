"""Label columns that can list their distinct values without hashing every row in Python.

:func:`prefstat._encoding.factorize_labels` checks and encodes labels. Its
general path turns every row into a Python object and hashes it. Two kinds of
column already know their distinct values, or can find them in C++:

categorical
    The codes are a factorisation; only the (few) categories need checking.
string (pandas ``str``/``string`` dtypes, Arrow ``string``/``large_string``)
    pandas factorises them with Arrow's hash kernel, without building Python
    strings.

For such columns :func:`factorize_each` returns, per column, codes into the
column's own distinct values (in order of appearance) and those values;
``factorize_labels`` then runs its usual checks and encoding on the distinct
values only and maps the row codes through. The result is the same as the
general path's, errors included: the checks see the same distinct values, in
the same order of first appearance.

Object and numpy columns keep the general path. An object column may hold
``True`` and ``1``, which hash alike, so its kinds must be read row by row;
numpy numbers already factorise fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd


def factorize_each(columns: Sequence[pd.Series]) -> list[tuple[np.ndarray, pd.Series]] | None:
    """Per-column codes and distinct values, or None where the general path must run.

    Applies when every column is categorical or a string dtype and their values
    share one dtype (a categorical's values are its categories). With different
    value dtypes the general path would compare the rows as objects or as a
    common numpy type; leaving those cases to it keeps the results identical.
    """
    value_dtypes = [_value_dtype(c.dtype) for c in columns]
    if any(d is None for d in value_dtypes) or len({str(d) for d in value_dtypes}) > 1:
        return None
    out = []
    for col in columns:
        codes, uniques = col.factorize()
        if isinstance(uniques, pd.CategoricalIndex):
            uniques = uniques.categories[uniques.codes]
        out.append((np.asarray(codes, dtype=np.intp), pd.Series(uniques, name=col.name)))
    return out


def _value_dtype(dtype: Any) -> Any:
    """The dtype of a column's values if it has a cheap factorisation, else None."""
    if isinstance(dtype, pd.CategoricalDtype):
        return dtype.categories.dtype
    if isinstance(dtype, pd.StringDtype):
        return dtype
    if isinstance(dtype, pd.ArrowDtype):
        import pyarrow as pa  # installed: pandas made this dtype with it

        arrow = dtype.pyarrow_dtype
        if pa.types.is_string(arrow) or pa.types.is_large_string(arrow):
            return dtype
    return None
