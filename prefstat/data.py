"""The canonical comparison table, its validation, encoding and aggregation.

The canonical table has one row per judgement (or per aggregated cell, with a
``weight``):

``item_a``
    The item shown first (order effects stay estimable). Labels may be strings
    or numbers, but not a mix of the two (integers and floats are both numbers
    and compare by value; booleans are a kind of their own, never the number 1).
``item_b``
    The item shown second.
``outcome``
    Either a *nominal* outcome: ``"a"`` or ``1`` (item_a preferred), ``"b"``
    or ``0`` (item_b preferred), ``"tie"`` or ``0.5``, and ``"tie_bothbad"``
    (a tie in which both were judged bad, as in LLM arenas). Or a *graded*
    outcome: a pandas ordered ``Categorical`` whose categories run from the
    strongest preference for item_a to the strongest preference for item_b
    (an odd scale's middle category is the tie); build it with
    :func:`prefstat.convert.from_graded`. Nothing else is accepted (booleans
    included).
``rater`` (optional)
    Who judged.
``weight`` (optional)
    A finite, non-negative number of judgements the row stands for.

Any other column is kept as a contest-level column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import _encoding as enc
from ._aggregate import aggregate
from .exceptions import EmptyDataError, InvalidItemError, format_examples

__all__ = ["OUTCOMES", "ComparisonData", "PairCounts"]

#: Names of the nominal outcome codes, in the order of :attr:`PairCounts.counts` columns.
OUTCOMES: tuple[str, ...] = enc.OUTCOME_NAMES

# How each nominal outcome reads when the two sides are swapped.
_SWAP_NOMINAL = np.array([enc.B_WINS, enc.A_WINS, enc.TIE, enc.TIE_BOTHBAD], dtype=np.int8)


@dataclass(frozen=True)
class PairCounts:
    """Sufficient statistics: outcome counts per observed pair (and rater).

    Attributes
    ----------
    first, second : numpy.ndarray
        Integer item codes of each cell. With ``ordered=False`` every pair is
        stored once, ``first < second``.
    rater : numpy.ndarray or None
        Rater code of each cell, when aggregated by rater.
    counts : numpy.ndarray
        ``(n_cells, n_columns)`` sums of weights, one column per outcome
        (``columns``).
    columns : tuple of str
        Outcome names of the count columns: ``a, b, tie, tie_bothbad`` for
        nominal outcomes, the scale's levels for graded ones.
    items : pandas.Index
        Item labels; code ``k`` is ``items[k]``.
    ordered : bool
        Whether (i, j) and (j, i) are kept apart.
    row_cell : numpy.ndarray or None
        For every row of the source table, the index of its cell.
    """

    first: np.ndarray
    second: np.ndarray
    rater: np.ndarray | None
    counts: np.ndarray
    columns: tuple[str, ...]
    items: pd.Index
    ordered: bool
    raters: pd.Index | None = None
    row_cell: np.ndarray | None = field(default=None, repr=False)

    @property
    def n_cells(self) -> int:
        """Number of observed (pair[, rater]) cells."""
        return int(self.first.size)

    @property
    def total(self) -> np.ndarray:
        """Total weight per cell."""
        return self.counts.sum(axis=1)

    def to_frame(self) -> pd.DataFrame:
        """Return the counts as a labelled DataFrame.

        Returns
        -------
        pandas.DataFrame
            Columns ``item_a, item_b`` (and ``rater``), then one count column
            per outcome.

        Examples
        --------
        >>> import pandas as pd
        >>> from prefstat import ComparisonData
        >>> df = pd.DataFrame({"item_a": ["x", "y", "x"], "item_b": ["y", "x", "y"],
        ...                    "outcome": ["a", "a", "tie"]})
        >>> ComparisonData.from_frame(df).pair_counts(ordered=False).to_frame()
          item_a item_b    a    b  tie  tie_bothbad
        0      x      y  1.0  1.0  1.0          0.0
        """
        out = {"item_a": self.items[self.first], "item_b": self.items[self.second]}
        if self.rater is not None and self.raters is not None:
            out["rater"] = self.raters[self.rater]
        frame = pd.DataFrame({k: np.asarray(v) for k, v in out.items()})
        counts = pd.DataFrame(self.counts, columns=list(self.columns))
        return pd.concat([frame, counts], axis=1)


@dataclass(frozen=True)
class ComparisonData:
    """A validated, integer-encoded comparison table.

    Build it with :meth:`from_frame`; every model and diagnostic reads this
    object, so the checks and the encoding happen once.

    Attributes
    ----------
    items : pandas.Index
        Item labels (sorted, unless given explicitly); code ``k`` is ``items[k]``.
    a, b : numpy.ndarray
        Item codes of the first- and second-shown item of every row.
    outcome : numpy.ndarray
        Nominal outcome codes, indices into :data:`OUTCOMES`. For graded data
        this is the side the grade favours (or a tie).
    grade : numpy.ndarray or None
        Signed grade for graded data (positive = item_a preferred).
    grade_levels : pandas.Index or None
        The scale's levels, from strongest preference for item_a to item_b.
    weight : numpy.ndarray
        Row weights (ones when none were given).
    rater : numpy.ndarray or None
        Rater codes; labels in ``raters``.
    rows : pandas.Index
        The index of the source table, so results can point back to rows.
    contest : pandas.DataFrame
        The source table's other columns (contest-level data), aligned to rows.
    """

    items: pd.Index
    a: np.ndarray
    b: np.ndarray
    outcome: np.ndarray
    weight: np.ndarray
    rows: pd.Index
    weighted: bool = False
    grade: np.ndarray | None = None
    grade_levels: pd.Index | None = None
    rater: np.ndarray | None = None
    raters: pd.Index | None = None
    contest: pd.DataFrame | None = field(default=None, repr=False)
    columns: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def from_frame(
        cls,
        df: pd.DataFrame,
        *,
        item_a: str = "item_a",
        item_b: str = "item_b",
        outcome: str = "outcome",
        rater: str | None = None,
        weight: str | None = None,
        items: Sequence[Any] | None = None,
    ) -> ComparisonData:
        """Validate and encode a canonical comparison table.

        Parameters
        ----------
        df : pandas.DataFrame
            One row per judgement (see the module documentation for the codes).
        item_a, item_b, outcome : str
            Column names of the first-shown item, the second-shown item and the
            outcome.
        rater : str, optional
            Column holding the rater (annotator, judge) of each row.
        weight : str, optional
            Column of non-negative row weights.
        items : sequence, optional
            The full item set, in the order to use. Items listed here but
            never compared are kept (and reported as isolated by the
            identifiability analysis).

        Returns
        -------
        ComparisonData

        Raises
        ------
        MissingColumnError, EmptyDataError, InvalidItemError,
        InvalidOutcomeError, InvalidWeightError, DataValidationError
            Each names the offending rows or values and how to fix them.

        Examples
        --------
        >>> import pandas as pd
        >>> from prefstat import ComparisonData
        >>> df = pd.DataFrame({"item_a": ["x", "y", "z"], "item_b": ["y", "z", "x"],
        ...                    "outcome": ["a", "tie", 0]})
        >>> data = ComparisonData.from_frame(df)
        >>> list(data.items), data.a.tolist(), data.outcome.tolist()
        (['x', 'y', 'z'], [0, 1, 2], [0, 2, 1])
        """
        where = "ComparisonData.from_frame"
        enc.check_columns(
            df, {"item_a": item_a, "item_b": item_b, "outcome": outcome,
                 "rater": rater, "weight": weight}, where,
        )
        used = [c for c in (item_a, item_b, outcome, rater, weight) if c is not None]
        (a, b), labels = enc.factorize_labels([df[item_a], df[item_b]], "item", items)
        if labels.size < 2:
            raise EmptyDataError(
                f"{where}: only one item ({format_examples(labels)}) appears; "
                "comparisons need at least two distinct items. Check the item_a= and item_b= "
                "columns, or pass the full item set as items=."
            )
        same = a == b
        if same.any():
            rows = df.index[same]
            selves = pd.unique(labels[a[same]])
            raise InvalidItemError(
                f"{where}: {int(same.sum())} row(s) compare an item with itself "
                f"(rows {format_examples(rows)}, items {format_examples(selves)}). "
                "A self-comparison carries no information; remove those rows."
            )
        col = df[outcome]
        grade = levels = None
        if isinstance(col.dtype, pd.CategoricalDtype) and col.cat.ordered:
            grade, code, levels = enc.encode_graded_outcome(col, outcome)
        else:
            code = enc.encode_nominal_outcome(col, outcome)
        if weight is not None:
            w = enc.encode_weights(df[weight], weight)
        else:
            w = np.ones(len(df))
        r_codes = r_labels = None
        if rater is not None:
            (r_codes,), r_labels = enc.factorize_labels([df[rater]], "rater")
        other = [c for c in df.columns if c not in used]
        return cls(
            items=labels, a=a, b=b, outcome=code, weight=w, rows=df.index,
            weighted=weight is not None, grade=grade, grade_levels=levels,
            rater=r_codes, raters=r_labels, contest=df[other] if other else None,
            columns={"item_a": item_a, "item_b": item_b, "outcome": outcome,
                     "rater": rater, "weight": weight},
        )

    # ------------------------------------------------------------------ sizes
    @property
    def n_items(self) -> int:
        """Number of items."""
        return int(self.items.size)

    @property
    def n_rows(self) -> int:
        """Number of rows (judgements or aggregated cells) in the source table."""
        return int(self.a.size)

    @property
    def n_raters(self) -> int:
        """Number of raters (0 without a rater column)."""
        return 0 if self.raters is None else int(self.raters.size)

    @property
    def is_graded(self) -> bool:
        """Whether the outcome is a graded scale."""
        return self.grade is not None

    def outcome_counts(self) -> pd.Series:
        """Total weight per nominal outcome.

        Returns
        -------
        pandas.Series
            Indexed by ``a, b, tie, tie_bothbad``.

        Examples
        --------
        >>> import pandas as pd
        >>> from prefstat import ComparisonData
        >>> df = pd.DataFrame({"item_a": ["x", "y"], "item_b": ["y", "x"], "outcome": [1, 0.5]})
        >>> ComparisonData.from_frame(df).outcome_counts().tolist()
        [1.0, 0.0, 1.0, 0.0]
        """
        totals = np.bincount(self.outcome, weights=self.weight, minlength=len(OUTCOMES))
        return pd.Series(totals, index=list(OUTCOMES), name="weight")

    # ------------------------------------------------------------ aggregation
    def pair_counts(
        self, ordered: bool = True, by_rater: bool = False, graded: bool = False,
        return_rows: bool = False,
    ) -> PairCounts:
        """Aggregate to outcome counts per pair (the sufficient statistics).

        Parameters
        ----------
        ordered : bool, default True
            Keep (i shown first, j second) apart from (j, i). With ``False``,
            each pair appears once (``first < second``) with the outcomes of
            swapped rows mirrored.
        by_rater : bool, default False
            Keep a separate cell per rater.
        graded : bool, default False
            Count the levels of a graded scale instead of nominal outcomes.
        return_rows : bool, default False
            Record, for every row, the index of its cell (``row_cell``).

        Returns
        -------
        PairCounts

        Examples
        --------
        >>> import pandas as pd
        >>> from prefstat import ComparisonData
        >>> df = pd.DataFrame({"item_a": ["x", "y", "x"], "item_b": ["y", "x", "y"],
        ...                    "outcome": ["a", "a", "b"]})
        >>> pc = ComparisonData.from_frame(df).pair_counts()
        >>> pc.counts[:, :2].tolist()
        [[1.0, 1.0], [1.0, 0.0]]
        """
        if by_rater and self.rater is None:
            raise enc.DataValidationError(
                "pair_counts(by_rater=True) needs a rater column; pass rater='<column>' to "
                "ComparisonData.from_frame."
            )
        if graded:
            if self.grade is None or self.grade_levels is None:
                raise enc.DataValidationError(
                    "pair_counts(graded=True) needs a graded outcome (an ordered categorical)."
                )
            k = self.grade_levels.size
            # level position 0 = strongest for a; swapping sides mirrors the scale.
            outcome = _grade_position(self.grade, k)
            swap = np.arange(k)[::-1]
            columns = tuple(str(x) for x in self.grade_levels)
        else:
            outcome, swap, columns = self.outcome, _SWAP_NOMINAL, OUTCOMES
        first, second, grp, counts, inverse = aggregate(
            self.a, self.b, outcome, self.n_items, len(columns),
            weight=self.weight if self.weighted else None,
            group=self.rater if by_rater else None, n_groups=max(self.n_raters, 1),
            ordered=ordered, swap_outcome=swap, return_inverse=return_rows,
        )
        return PairCounts(
            first=first, second=second, rater=grp if by_rater else None, counts=counts,
            columns=columns, items=self.items, ordered=ordered,
            raters=self.raters if by_rater else None, row_cell=inverse,
        )


def _grade_position(grade: np.ndarray, k: int) -> np.ndarray:
    """Inverse of the level → grade map of :func:`_encoding.encode_graded_outcome`."""
    half = k // 2
    g = grade.astype(np.intp)
    if k % 2:
        return half - g
    return np.where(g > 0, half - g, half - g - 1)
