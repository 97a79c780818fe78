"""Stigler's (1994) citation counts among four statistics journals."""

from __future__ import annotations

from importlib import resources
from typing import Literal

import numpy as np
import pandas as pd

from ..exceptions import InvalidParameterError

__all__ = ["load_citations"]

_KINDS = ("comparisons", "matrix")


def _published_table() -> pd.DataFrame:
    """The 4 × 4 table as printed (rows cited, columns citing, self-citations kept)."""
    source = resources.files("prefstat.datasets").joinpath("data", "citations.csv")
    with source.open("r", encoding="utf-8") as handle:
        table = pd.read_csv(handle, comment="#", index_col="cited")
    table.columns.name = "citing"
    return table


def load_citations(kind: Literal["comparisons", "matrix"] = "comparisons") -> pd.DataFrame:
    """Citation counts among Biometrika, Comm Statist, JASA and JRSS-B.

    Each citation is read as a paired comparison won by the journal that is
    cited, against the journal that cites it (Stigler's "export" view of
    journal influence). Self-citations are not comparisons and are left out.
    The six pairs hold 3727 citations in all.

    Parameters
    ----------
    kind : {"comparisons", "matrix"}, default "comparisons"
        ``"comparisons"`` returns the canonical comparison table: one row per
        (pair, outcome), with the number of citations in ``weight``. Each pair
        appears once, with ``item_a`` before ``item_b`` alphabetically;
        outcome ``"a"`` counts citations of ``item_a`` by ``item_b`` and ``"b"``
        citations of ``item_b`` by ``item_a``. ``"matrix"`` returns the square
        table of wins: rows (``cited``) beat columns (``citing``), so cell
        ``(i, j)`` is the number of times journal ``i`` was cited by journal
        ``j``; the diagonal is 0.

    Returns
    -------
    pandas.DataFrame
        For ``"comparisons"``, 12 rows with columns ``item_a, item_b,
        outcome, weight``; for ``"matrix"``, a 4 × 4 integer table.

    Raises
    ------
    InvalidParameterError
        If ``kind`` is not one of the two names.

    Notes
    -----
    Source: S. M. Stigler (1994), "Citation patterns in the journals of
    statistics and probability", *Statistical Science* 9(1), 94–108; the
    4 × 4 extract as printed in A. Agresti (2002), *Categorical Data Analysis*,
    2nd ed., Wiley, p. 448, where it is fitted with the Bradley–Terry model.
    The same table is the ``citations`` data set of the R package
    BradleyTerry2. prefstat's copy (``prefstat/datasets/data/citations.csv``)
    was typed in from the published table, self-citations included on its
    diagonal (Biometrika 714, Comm Statist 425, JASA 1072, JRSS-B 188).

    Examples
    --------
    >>> from prefstat.datasets import load_citations
    >>> load_citations("matrix")
    citing        Biometrika  Comm Statist  JASA  JRSS-B
    cited
    Biometrika             0           730   498     221
    Comm Statist          33             0    68      17
    JASA                 320           813     0     142
    JRSS-B               284           276   325       0
    >>> df = load_citations()
    >>> df.head(2)
           item_a        item_b outcome  weight
    0  Biometrika  Comm Statist       a     730
    1  Biometrika  Comm Statist       b      33
    >>> int(df["weight"].sum())
    3727
    """
    if kind not in _KINDS:
        raise InvalidParameterError(
            f"load_citations: kind must be 'comparisons' or 'matrix', got {kind!r}. "
            "Use kind='comparisons' for the canonical table or kind='matrix' for the "
            "square table of wins."
        )
    table = _published_table()
    wins = table.to_numpy(copy=True)
    np.fill_diagonal(wins, 0)
    if kind == "matrix":
        return pd.DataFrame(wins, index=table.index, columns=table.columns)
    journals = table.index.to_numpy()
    first, second = np.triu_indices(len(journals), k=1)
    rows = len(first)
    return pd.DataFrame({
        "item_a": np.repeat(journals[first], 2),
        "item_b": np.repeat(journals[second], 2),
        "outcome": np.tile(["a", "b"], rows),
        "weight": np.column_stack([wins[first, second], wins[second, first]]).ravel(),
    })
