"""Pair counts of part of a table, and merging them: the core of out-of-core aggregation.

A :class:`PartialCounts` holds the counts of one slice of the rows (a Parquet
batch, a Dask partition) with its own label vocabulary. Slices are encoded by
:meth:`prefstat.ComparisonData.from_frame` (so they get exactly its checks) and
counted by :meth:`~prefstat.ComparisonData.pair_counts`. Merging takes the
sorted union of the vocabularies (through ``_encoding.factorize_labels``, the one
place labels become codes), moves every slice's codes into it and sums the
counts of equal cells with ``_aggregate.aggregate``.

Vocabularies are always sorted, so whether label ``x`` sorts before ``y`` never
changes when labels are added. Unordered counts (``first < second``) can
therefore be folded in every slice: the fold stays valid in the merged codes.
The merged vocabulary is the one ``from_frame`` builds from all rows at once,
so the result equals ``from_frame(all_rows).pair_counts(...)``.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import _encoding as enc
from ._aggregate import aggregate
from .data import OUTCOMES, ComparisonData, PairCounts
from .exceptions import (
    EmptyDataError,
    InvalidItemError,
    InvalidOutcomeError,
    PrefstatError,
    format_examples,
)

# Merge pending slices once their cells outnumber the merged ones (and at least this many):
# each cell is merged O(log(n_slices)) times and at most about 2x the merged cells wait.
MERGE_MIN_CELLS = 1 << 20


@dataclass(frozen=True)
class PartialCounts:
    """Outcome counts of some rows, in codes of their own sorted vocabularies."""

    items: pd.Index
    raters: pd.Index | None
    first: np.ndarray
    second: np.ndarray
    rater: np.ndarray | None
    counts: np.ndarray
    ordered: bool
    source: str

    @property
    def n_cells(self) -> int:
        return int(self.first.size)

    def to_pair_counts(self) -> PairCounts:
        return PairCounts(
            first=self.first, second=self.second, rater=self.rater, counts=self.counts,
            columns=OUTCOMES, items=self.items, ordered=self.ordered, raters=self.raters,
        )


def count_slice(
    df: pd.DataFrame,
    columns: dict[str, Hashable | None],
    ordered: bool,
    items: Sequence[Any] | None,
    where: str,
) -> PartialCounts | None:
    """Validate, encode and count one slice of rows; None for a slice without rows.

    ``columns`` holds the ``item_a, item_b, outcome, rater, weight`` arguments
    of ``from_frame``. Errors are re-raised with ``where`` (which slice) in
    front; the rows they name are labels of ``df.index``.
    """
    if len(df) == 0:
        return None
    try:
        data = ComparisonData.from_frame(df, items=items, **columns)
    except EmptyDataError as err:
        # One label in a non-empty slice: every row compares that item with itself.
        raise InvalidItemError(
            f"{where}: every row compares an item with itself (rows "
            f"{format_examples(df.index)}, items "
            f"{format_examples(pd.unique(df[columns['item_a']]))}). A self-comparison carries "
            "no information; remove those rows."
        ) from err
    except PrefstatError as err:
        raise type(err)(f"{where}: {err}") from err
    if data.is_graded:
        raise InvalidOutcomeError(
            f"{where}: outcome column {columns['outcome']!r} is an ordered categorical (a graded "
            "scale); out-of-core aggregation counts nominal outcomes only. Collapse the scale "
            "first (prefstat.convert.collapse_graded) or store the outcome unordered."
        )
    pc = data.pair_counts(ordered=ordered, by_rater=columns["rater"] is not None)
    return PartialCounts(items=pc.items, raters=pc.raters, first=pc.first, second=pc.second,
                         rater=pc.rater, counts=pc.counts, ordered=ordered, source=where)


def merge(parts: Sequence[PartialCounts | None]) -> PartialCounts | None:
    """Sum the counts of several slices in the union of their vocabularies."""
    parts = [p for p in parts if p is not None]
    if len(parts) <= 1:
        return parts[0] if parts else None
    item_codes, items = _union([p.items for p in parts], [p.source for p in parts], "item")
    first = np.concatenate([codes[p.first] for p, codes in zip(parts, item_codes)])
    second = np.concatenate([codes[p.second] for p, codes in zip(parts, item_codes)])
    raters = rater = None
    if parts[0].raters is not None:
        rater_codes, raters = _union([p.raters for p in parts], [p.source for p in parts],
                                     "rater")
        rater = np.concatenate([codes[p.rater] for p, codes in zip(parts, rater_codes)])
    counts = np.concatenate([p.counts for p in parts])
    # Cells are already folded if unordered (see the module docstring): group them as they are.
    first, second, grp, _, cell = aggregate(
        first, second, np.zeros(first.size, dtype=np.int8), items.size, 1, group=rater,
        n_groups=1 if raters is None else raters.size, return_inverse=True,
    )
    merged = np.column_stack([np.bincount(cell, weights=counts[:, k], minlength=first.size)
                              for k in range(counts.shape[1])])
    return PartialCounts(
        items=items, raters=raters, first=first, second=second,
        rater=None if raters is None else grp, counts=merged, ordered=parts[0].ordered,
        source=f"{parts[0].source} to {parts[-1].source}",
    )


def _union(
    vocabularies: Sequence[pd.Index], sources: Sequence[str], what: str,
) -> tuple[list[np.ndarray], pd.Index]:
    """Codes of each vocabulary in their sorted union (one kind of label throughout)."""
    if all(v.equals(vocabularies[0]) for v in vocabularies[1:]):
        identity = np.arange(vocabularies[0].size)
        return [identity] * len(vocabularies), vocabularies[0]
    named = [pd.Series(v, name=s) for v, s in zip(vocabularies, sources)]
    try:
        return enc.factorize_labels(named, what)
    except InvalidItemError as err:
        raise InvalidItemError(
            f"the {what} labels of different parts of the data cannot be merged: {err}"
        ) from err


class Accumulator:
    """Fold slices into one result, merging in rounds so each cell is merged few times."""

    def __init__(self) -> None:
        self.merged: PartialCounts | None = None
        self.pending: list[PartialCounts] = []
        self.pending_cells = 0

    def add(self, part: PartialCounts | None) -> None:
        if part is None:
            return
        self.pending.append(part)
        self.pending_cells += part.n_cells
        merged_cells = 0 if self.merged is None else self.merged.n_cells
        if self.pending_cells >= max(merged_cells, MERGE_MIN_CELLS):
            self.merged = merge([self.merged, *self.pending])
            self.pending, self.pending_cells = [], 0

    def result(self) -> PartialCounts | None:
        return merge([self.merged, *self.pending])
