"""Converters from common preference formats to the canonical comparison table.

Every function here is pure: it reads a DataFrame and returns a new one in the
canonical form that :meth:`prefstat.ComparisonData.from_frame` reads (columns
``item_a``, ``item_b``, ``outcome``, optionally ``rater`` and ``weight``, plus
the source's other columns), or, for rankings, the canonical *long ranking
table* (columns ``ranking_id``, ``item``, ``rank``; rank 1 is best, equal ranks
are ties).

Nothing is dropped, coerced or remapped silently. An outcome code the converter
does not know is an :class:`~prefstat.InvalidOutcomeError`, never a tie; a
missing label is an error, never a dropped row. Where a format has cells that
mean "no judgement" (a blank rank, a missing annotation), an explicit argument
says so.

Columns that a converter reads to build ``item_a``, ``item_b``, ``outcome``,
``rater`` or ``weight`` are *consumed*: they are replaced by the canonical
columns. Every other column is kept unchanged unless ``keep`` lists the ones to
keep. Converters that map one source row to one output row keep the source's
index, so results point back to source rows; converters that expand or
aggregate rows return a fresh ``RangeIndex``.

Pairwise formats
    :func:`from_arena`, :func:`from_arena_onehot`, :func:`from_winner_loser`,
    :func:`from_rlhf`, :func:`from_codes`, :func:`from_multi_annotator`,
    :func:`from_graded` (with :func:`collapse_graded`), :func:`from_counts`,
    :func:`from_matrix`.
Rankings
    :func:`validate_rankings`, :func:`from_wide_rankings`,
    :func:`rankings_to_pairs`.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from . import _encoding as enc
from .exceptions import (
    DataValidationError,
    EmptyDataError,
    InvalidItemError,
    InvalidOutcomeError,
    InvalidRankingError,
    InvalidWeightError,
    MissingColumnError,
    format_examples,
)

__all__ = [
    "ARENA_WINNER_CODES",
    "collapse_graded",
    "from_arena",
    "from_arena_onehot",
    "from_codes",
    "from_counts",
    "from_graded",
    "from_matrix",
    "from_multi_annotator",
    "from_rlhf",
    "from_wide_rankings",
    "from_winner_loser",
    "rankings_to_pairs",
    "validate_rankings",
]

#: The arena ``winner`` values and the canonical outcome each one means.
ARENA_WINNER_CODES: Mapping[str, str] = {
    "model_a": "a",
    "model_b": "b",
    "tie": "tie",
    "tie (bothbad)": "tie_bothbad",
}

_PAIR_COLUMNS = ("item_a", "item_b", "outcome", "rater", "weight")
_RANKING_COLUMNS = ("ranking_id", "item", "rank")


# ---------------------------------------------------------------- helpers
def _start(df: pd.DataFrame, where: str, roles: dict[str, Hashable | None]) -> None:
    """Check the table and the named columns; no column may play two roles."""
    enc.check_columns(df, roles, where)
    used = [c for c in roles.values() if c is not None]
    if len(set(used)) != len(used):
        named = {arg: col for arg, col in roles.items() if col is not None}
        raise DataValidationError(
            f"{where}: the same column is named for two roles ({named}); each role needs "
            "its own column."
        )


def _kept(
    df: pd.DataFrame,
    keep: Sequence[Hashable] | None,
    consumed: Sequence[Hashable],
    reserved: Sequence[str],
    where: str,
) -> list[Hashable]:
    """Columns carried over unchanged: ``keep``, or every column not consumed."""
    if keep is None:
        cols = [c for c in df.columns if c not in consumed]
    else:
        if isinstance(keep, str):
            keep = [keep]
        cols = list(keep)
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise MissingColumnError(
                f"{where}: keep= names column(s) {format_examples(missing)} that are not in the "
                f"table; available columns are {format_examples(df.columns, 10)}."
            )
        used = [c for c in cols if c in consumed]
        if used:
            raise DataValidationError(
                f"{where}: keep= lists {format_examples(used)}, which the converter already "
                "reads to build the canonical columns; remove them from keep=."
            )
    clash = [c for c in cols if c in reserved]
    if clash:
        raise DataValidationError(
            f"{where}: column(s) {format_examples(clash)} would be kept under a name the "
            f"output uses for its own columns ({', '.join(reserved)}). Rename them first "
            "(DataFrame.rename) or leave them out with keep=[...]."
        )
    return cols


def _table(
    df: pd.DataFrame,
    columns: dict[str, Any],
    kept: Sequence[Hashable],
    rows: np.ndarray | None = None,
) -> pd.DataFrame:
    """Assemble the output: canonical columns, then kept columns (at ``rows``)."""
    data = dict(columns)
    for c in kept:
        data[c] = (df[c] if rows is None else df[c].iloc[rows]).array
    if rows is None:
        return pd.DataFrame(data, index=df.index)
    return pd.DataFrame(data, index=pd.RangeIndex(len(rows)))


def _column(df: pd.DataFrame, col: Hashable, rows: np.ndarray | None = None) -> Any:
    s = df[col]
    return (s if rows is None else s.iloc[rows]).array


def _check_pair_items(df: pd.DataFrame, a: Hashable, b: Hashable, where: str) -> None:
    """Item labels must be present and the two sides must differ."""
    for col in (a, b):
        missing = df[col].isna().to_numpy()
        if missing.any():
            rows = df.index[missing]
            raise InvalidItemError(
                f"{where}: column {col!r} is missing in {len(rows)} row(s): "
                f"{format_examples(rows)}. Drop or fill those rows first; prefstat does not "
                "drop them for you."
            )
    same = (df[a].to_numpy(dtype=object) == df[b].to_numpy(dtype=object)).astype(bool)
    if same.any():
        rows = df.index[same]
        raise InvalidItemError(
            f"{where}: {int(same.sum())} row(s) have the same item in {a!r} and {b!r} "
            f"(rows {format_examples(rows)}). A self-comparison carries no information; "
            "remove those rows."
        )


def _recode(
    col: pd.Series, codes: Mapping[Any, str], where: str, hint: str
) -> np.ndarray:
    """Map an outcome column through an explicit code table, strictly."""
    bad_targets = {k: v for k, v in codes.items() if v not in enc.OUTCOME_NAMES}
    if bad_targets:
        raise InvalidOutcomeError(
            f"{where}: codes= maps {format_examples(bad_targets.items())} to value(s) that are "
            f"not canonical outcomes; map every code to one of {', '.join(enc.OUTCOME_NAMES)}."
        )
    missing = col.isna().to_numpy()
    if missing.any():
        rows = col.index[missing]
        raise InvalidOutcomeError(
            f"{where}: column {col.name!r} is missing in {len(rows)} row(s): "
            f"{format_examples(rows)}. Every judgement needs an outcome; drop those rows "
            "explicitly if they are not judgements."
        )
    keys = pd.Index(list(codes), dtype=object)
    position = keys.get_indexer(col.to_numpy(dtype=object))
    unknown = position < 0
    if unknown.any():
        values = pd.unique(col.to_numpy(dtype=object)[unknown])
        raise InvalidOutcomeError(
            f"{where}: column {col.name!r} has {len(values)} value(s) with no code: "
            f"{format_examples(values)} (in rows {format_examples(col.index[unknown])}). "
            f"{hint} prefstat never maps an unknown value to a tie."
        )
    return np.asarray(list(codes.values()), dtype=object)[position]


def _counts(df: pd.DataFrame, col: Hashable, where: str) -> np.ndarray:
    """Read a column of finite, non-negative numbers (counts or weights)."""
    s = df[col]
    if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        raise InvalidWeightError(
            f"{where}: column {col!r} has dtype {s.dtype}; counts must be numbers. Convert it "
            "with pandas.to_numeric after checking the values that fail."
        )
    v = s.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(v) | (v < 0)
    if bad.any():
        raise InvalidWeightError(
            f"{where}: column {col!r} has {int(bad.sum())} missing, infinite or negative "
            f"value(s) in rows {format_examples(s.index[bad])} (values "
            f"{format_examples(v[bad])}). Counts must be finite and >= 0."
        )
    return v


def _rank_values(block: pd.DataFrame) -> pd.Series:
    """Flatten rank cells row by row; nullable numeric columns become floats."""
    plain = block.to_numpy()
    if plain.dtype.kind in "iuf":
        return pd.Series(plain.ravel())
    if all(pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t)
           for t in block.dtypes):
        return pd.Series(block.to_numpy(dtype=np.float64, na_value=np.nan).ravel())
    return pd.Series(block.to_numpy(dtype=object).ravel(), dtype=object)


def _no_rows(out: pd.DataFrame, where: str, what: str) -> pd.DataFrame:
    if len(out) == 0:
        raise EmptyDataError(
            f"{where}: {what} are all zero, so there is no comparison to return."
        )
    return out


def _is_nan(value: Any) -> bool:
    return bool(pd.api.types.is_scalar(value) and pd.isna(value))


def _blank_mask(block: pd.DataFrame, blank: Any) -> np.ndarray:
    if blank is None:
        return np.zeros(block.shape, dtype=bool)
    if _is_nan(blank):
        return block.isna().to_numpy()
    return block.eq(blank).to_numpy(dtype=bool)


# --------------------------------------------------------- pairwise formats
def from_codes(
    df: pd.DataFrame,
    column: Hashable,
    codes: Mapping[Any, str],
    item_a: Hashable = "item_a",
    item_b: Hashable = "item_b",
    rater: Hashable | None = None,
    keep: Sequence[Hashable] | None = None,
) -> pd.DataFrame:
    """Recode an outcome column through an explicit code table.

    The general converter for one judgement per row with its own outcome codes
    (crowdsourcing batches, survey exports). Every value in ``column`` must be a
    key of ``codes``.

    Parameters
    ----------
    df : pandas.DataFrame
        One judgement per row.
    column : hashable
        The outcome column to recode.
    codes : mapping
        Source value → canonical outcome (``"a"``, ``"b"``, ``"tie"`` or
        ``"tie_bothbad"``).
    item_a, item_b : hashable, default "item_a", "item_b"
        Columns of the first- and second-shown item.
    rater : hashable, optional
        Column of the rater; it becomes ``rater``.
    keep : sequence of hashable, optional
        Columns to carry over; by default every column not read above.

    Returns
    -------
    pandas.DataFrame
        The canonical table, indexed like ``df``.

    Raises
    ------
    InvalidOutcomeError
        A missing outcome, a value not in ``codes``, or a code mapped to a
        non-canonical outcome.
    InvalidItemError
        A missing item label or an item compared with itself.
    MissingColumnError, DataValidationError
        A named column is absent or used twice.

    Examples
    --------
    >>> import pandas as pd
    >>> from prefstat.convert import from_codes
    >>> raw = pd.DataFrame({"docA": ["x", "y"], "docB": ["y", "z"], "answer": ["a", "s"]})
    >>> from_codes(raw, "answer", {"a": "a", "b": "b", "s": "tie"},
    ...            item_a="docA", item_b="docB")
      item_a item_b outcome
    0      x      y       a
    1      y      z     tie
    """
    where = "from_codes"
    _start(df, where, {"column": column, "item_a": item_a, "item_b": item_b, "rater": rater})
    kept = _kept(df, keep, [column, item_a, item_b, rater], _PAIR_COLUMNS, where)
    outcome = _recode(
        df[column], codes, where, "Add them to codes= or fix or remove those rows."
    )
    _check_pair_items(df, item_a, item_b, where)
    cols = {"item_a": _column(df, item_a), "item_b": _column(df, item_b), "outcome": outcome}
    if rater is not None:
        cols["rater"] = _column(df, rater)
    return _table(df, cols, kept)


def from_arena(
    df: pd.DataFrame,
    model_a: Hashable = "model_a",
    model_b: Hashable = "model_b",
    winner: Hashable = "winner",
    judge: Hashable | None = None,
    keep: Sequence[Hashable] | None = None,
) -> pd.DataFrame:
    """Convert arena battles (``model_a, model_b, winner``).

    ``winner`` takes the values of :data:`ARENA_WINNER_CODES`: ``"model_a"``
    → ``"a"``, ``"model_b"`` → ``"b"``, ``"tie"`` → ``"tie"`` and
    ``"tie (bothbad)"`` → ``"tie_bothbad"``. Any other value (a typo, a
    missing winner) is an error: some tools map unknown winners to a tie,
    which hides data problems; prefstat does not.

    Parameters
    ----------
    df : pandas.DataFrame
        One battle per row.
    model_a, model_b : hashable, default "model_a", "model_b"
        Columns of the two models, in the order shown.
    winner : hashable, default "winner"
        The winner column.
    judge : hashable, optional
        Column of the judge (human or LLM); it becomes ``rater``.
    keep : sequence of hashable, optional
        Columns to carry over (e.g. ``["question_id"]``); by default every
        column not read above.

    Returns
    -------
    pandas.DataFrame
        The canonical table, indexed like ``df``.

    Raises
    ------
    InvalidOutcomeError
        A missing or unknown ``winner`` value; the message lists them.
    InvalidItemError
        A missing model name or a model battling itself.
    MissingColumnError, DataValidationError
        A named column is absent or used twice.

    See Also
    --------
    from_arena_onehot : the one-hot winner columns variant.

    Examples
    --------
    >>> import pandas as pd
    >>> from prefstat.convert import from_arena
    >>> battles = pd.DataFrame({"question_id": [1, 1, 2],
    ...                         "model_a": ["gpt", "gpt", "llama"],
    ...                         "model_b": ["llama", "claude", "claude"],
    ...                         "winner": ["model_a", "tie (bothbad)", "model_b"]})
    >>> from_arena(battles)
      item_a  item_b      outcome  question_id
    0    gpt   llama            a            1
    1    gpt  claude  tie_bothbad            1
    2  llama  claude            b            2
    """
    where = "from_arena"
    _start(df, where, {"model_a": model_a, "model_b": model_b, "winner": winner,
                       "judge": judge})
    kept = _kept(df, keep, [model_a, model_b, winner, judge], _PAIR_COLUMNS, where)
    allowed = ", ".join(repr(k) for k in ARENA_WINNER_CODES)
    outcome = _recode(
        df[winner], ARENA_WINNER_CODES, where,
        f"Arena winners must be one of {allowed}; fix or remove those rows, or recode them "
        "with prefstat.convert.from_codes.",
    )
    _check_pair_items(df, model_a, model_b, where)
    cols = {"item_a": _column(df, model_a), "item_b": _column(df, model_b), "outcome": outcome}
    if judge is not None:
        cols["rater"] = _column(df, judge)
    return _table(df, cols, kept)


def from_arena_onehot(
    df: pd.DataFrame,
    model_a: Hashable = "model_a",
    model_b: Hashable = "model_b",
    winner_a: Hashable = "winner_model_a",
    winner_b: Hashable = "winner_model_b",
    tie: Hashable | None = "winner_tie",
    judge: Hashable | None = None,
    keep: Sequence[Hashable] | None = None,
) -> pd.DataFrame:
    """Convert arena battles with one-hot winner columns.

    The format of e.g. the LMSYS "arena human preference" sets: columns
    ``winner_model_a``, ``winner_model_b`` and ``winner_tie`` hold 0/1 (or
    booleans), exactly one of them 1 per row.

    Parameters
    ----------
    df : pandas.DataFrame
        One battle per row.
    model_a, model_b : hashable, default "model_a", "model_b"
        Columns of the two models, in the order shown.
    winner_a, winner_b : hashable
        Indicator columns for "model_a won" and "model_b won".
    tie : hashable or None, default "winner_tie"
        Indicator column for a tie; ``None`` when the data have no ties.
    judge : hashable, optional
        Column of the judge; it becomes ``rater``.
    keep : sequence of hashable, optional
        Columns to carry over; by default every column not read above.

    Returns
    -------
    pandas.DataFrame
        The canonical table, indexed like ``df``.

    Raises
    ------
    InvalidOutcomeError
        An indicator that is missing, not numeric, not 0/1, or a row without
        exactly one indicator set.
    InvalidItemError, MissingColumnError, DataValidationError
        As for :func:`from_arena`.

    Examples
    --------
    >>> import pandas as pd
    >>> from prefstat.convert import from_arena_onehot
    >>> raw = pd.DataFrame({"model_a": ["gpt", "gpt"], "model_b": ["llama", "claude"],
    ...                     "winner_model_a": [0, 0], "winner_model_b": [1, 0],
    ...                     "winner_tie": [0, 1]})
    >>> from_arena_onehot(raw)
      item_a  item_b outcome
    0    gpt   llama       b
    1    gpt  claude     tie
    """
    where = "from_arena_onehot"
    _start(df, where, {"model_a": model_a, "model_b": model_b, "winner_a": winner_a,
                       "winner_b": winner_b, "tie": tie, "judge": judge})
    kept = _kept(df, keep, [model_a, model_b, winner_a, winner_b, tie, judge],
                 _PAIR_COLUMNS, where)
    flags = [c for c in (winner_a, winner_b, tie) if c is not None]
    names = np.array(["a", "b", "tie"][: len(flags)], dtype=object)
    for c in flags:
        s = df[c]
        if not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)):
            raise InvalidOutcomeError(
                f"{where}: indicator column {c!r} has dtype {s.dtype}; it must hold 0/1 or "
                "booleans."
            )
    block = df[flags].to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isin(block, (0.0, 1.0))
    if bad.any():
        rows = df.index[bad.any(axis=1)]
        raise InvalidOutcomeError(
            f"{where}: indicator columns {format_examples(flags)} hold values other than 0/1 "
            f"(missing ones included) in {len(rows)} row(s): {format_examples(rows)} (values "
            f"{format_examples(pd.unique(block[bad]))}). Fix or remove those rows."
        )
    hot = block.sum(axis=1)
    if (hot != 1).any():
        rows = df.index[hot != 1]
        raise InvalidOutcomeError(
            f"{where}: {len(rows)} row(s) do not have exactly one of "
            f"{format_examples(flags)} set: {format_examples(rows)} (number set: "
            f"{format_examples(pd.unique(hot[hot != 1].astype(int)))}). Each battle needs one "
            "winner (or a tie); fix or remove those rows."
        )
    outcome = names[block.argmax(axis=1)]
    _check_pair_items(df, model_a, model_b, where)
    cols = {"item_a": _column(df, model_a), "item_b": _column(df, model_b), "outcome": outcome}
    if judge is not None:
        cols["rater"] = _column(df, judge)
    return _table(df, cols, kept)


def from_winner_loser(
    df: pd.DataFrame,
    winner: Hashable = "winner",
    loser: Hashable = "loser",
    rater: Hashable | None = None,
    keep: Sequence[Hashable] | None = None,
) -> pd.DataFrame:
    """Convert ``winner, loser`` rows (every outcome is a win for item_a).

    The winner becomes ``item_a`` and the outcome is ``"a"`` on every row.
    The format carries no record of which item was shown first, so the output's
    ``item_a``/``item_b`` order is *not* a presentation order: do not fit an
    order (home, position) effect to it. The format cannot express ties.

    Parameters
    ----------
    df : pandas.DataFrame
        One judgement per row.
    winner, loser : hashable, default "winner", "loser"
        Columns of the preferred and the other item.
    rater : hashable, optional
        Column of the rater; it becomes ``rater``.
    keep : sequence of hashable, optional
        Columns to carry over; by default every column not read above.

    Returns
    -------
    pandas.DataFrame
        The canonical table, indexed like ``df``.

    Raises
    ------
    InvalidItemError
        A missing label or the same item as winner and loser.
    MissingColumnError, DataValidationError
        A named column is absent or used twice.

    Examples
    --------
    >>> import pandas as pd
    >>> from prefstat.convert import from_winner_loser
    >>> raw = pd.DataFrame({"assessor": [1, 1], "top_item": [5, 2], "bottom_item": [1, 9]})
    >>> from_winner_loser(raw, winner="top_item", loser="bottom_item", rater="assessor")
       item_a  item_b outcome  rater
    0       5       1       a      1
    1       2       9       a      1
    """
    where = "from_winner_loser"
    _start(df, where, {"winner": winner, "loser": loser, "rater": rater})
    kept = _kept(df, keep, [winner, loser, rater], _PAIR_COLUMNS, where)
    _check_pair_items(df, winner, loser, where)
    cols = {"item_a": _column(df, winner), "item_b": _column(df, loser),
            "outcome": np.full(len(df), "a", dtype=object)}
    if rater is not None:
        cols["rater"] = _column(df, rater)
    return _table(df, cols, kept)


def from_rlhf(
    df: pd.DataFrame,
    chosen: Hashable = "chosen",
    rejected: Hashable = "rejected",
    prompt: Hashable | None = "prompt",
    keep: Sequence[Hashable] | None = None,
) -> pd.DataFrame:
    """Convert RLHF preference pairs (``prompt, chosen, rejected``).

    The items are the response texts themselves: ``chosen`` becomes
    ``item_a`` and the outcome is ``"a"`` on every row. As with
    :func:`from_winner_loser`, the order is not a presentation order. The
    prompt is kept as a grouping column named ``prompt``.

    Parameters
    ----------
    df : pandas.DataFrame
        One preference pair per row.
    chosen, rejected : hashable, default "chosen", "rejected"
        Columns of the preferred and the rejected response.
    prompt : hashable or None, default "prompt"
        Column of the prompt; it becomes ``prompt``. Pass ``None`` when the
        data have no prompt column, as in Anthropic's HH-RLHF, whose
        ``chosen`` and ``rejected`` hold whole dialogues with the prompt
        embedded; the output then has no ``prompt`` column. (Splitting such
        dialogues at the last assistant turn is not done here: in HH-RLHF a
        few pairs differ before that turn.)
    keep : sequence of hashable, optional
        Columns to carry over; by default every column not read above.

    Returns
    -------
    pandas.DataFrame
        The canonical table, indexed like ``df``.

    Raises
    ------
    InvalidItemError
        A missing response, or identical chosen and rejected texts.
    MissingColumnError, DataValidationError
        A named column is absent or used twice, or (with ``prompt`` given) a
        kept column is also named ``prompt``.

    Examples
    --------
    >>> import pandas as pd
    >>> from prefstat.convert import from_rlhf
    >>> raw = pd.DataFrame({"prompt": ["2+2?"], "chosen": ["4"], "rejected": ["5"]})
    >>> from_rlhf(raw)
      item_a item_b outcome prompt
    0      4      5       a   2+2?
    """
    where = "from_rlhf"
    _start(df, where, {"chosen": chosen, "rejected": rejected, "prompt": prompt})
    reserved = _PAIR_COLUMNS if prompt is None else (*_PAIR_COLUMNS, "prompt")
    kept = _kept(df, keep, [chosen, rejected, prompt], reserved, where)
    _check_pair_items(df, chosen, rejected, where)
    cols = {"item_a": _column(df, chosen), "item_b": _column(df, rejected),
            "outcome": np.full(len(df), "a", dtype=object)}
    if prompt is not None:
        cols["prompt"] = _column(df, prompt)
    return _table(df, cols, kept)


def from_multi_annotator(
    df: pd.DataFrame,
    annotators: Sequence[Hashable],
    codes: Mapping[Any, str],
    item_a: Hashable = "item_a",
    item_b: Hashable = "item_b",
    missing: Literal["error", "drop"] = "error",
    keep: Sequence[Hashable] | None = None,
) -> pd.DataFrame:
    """Convert rows that carry several annotators' labels, one column each.

    Each source row becomes one output row per annotator column (row-major:
    all annotators of the first row, then the second row, ...). ``rater``
    holds the annotator's column name and ``unit`` the source row's index
    label, so agreement can be computed per unit. The rows of one unit share
    their items and are not independent judgements of different pairs.

    Parameters
    ----------
    df : pandas.DataFrame
        One compared pair per row.
    annotators : sequence of hashable
        The annotator columns.
    codes : mapping
        Label → canonical outcome, e.g. PandaLM's
        ``{0: "tie", 1: "a", 2: "b"}``. There is no default: the meaning of a
        code must be stated.
    item_a, item_b : hashable, default "item_a", "item_b"
        Columns of the first and second item (PandaLM's ``response1`` /
        ``response2`` models).
    missing : {"error", "drop"}, default "error"
        What an empty annotator cell (NaN) means. ``"error"`` raises;
        ``"drop"`` reads it as "this annotator did not judge this row" and
        produces no output row for it.
    keep : sequence of hashable, optional
        Columns to carry over (repeated on every annotator's row); by
        default every column not read above.

    Returns
    -------
    pandas.DataFrame
        ``item_a, item_b, outcome, rater, unit`` and the kept columns, with a
        fresh ``RangeIndex``.

    Raises
    ------
    InvalidOutcomeError
        A code not in ``codes`` (or missing, with ``missing="error"``).
    InvalidItemError, MissingColumnError, DataValidationError
        A bad item label, an absent or doubly used column.

    Examples
    --------
    >>> import pandas as pd
    >>> from prefstat.convert import from_multi_annotator
    >>> raw = pd.DataFrame({"m1": ["opt", "llama"], "m2": ["bloom", "opt"],
    ...                     "ann1": [1, 0], "ann2": [2, 0]})
    >>> from_multi_annotator(raw, ["ann1", "ann2"], {0: "tie", 1: "a", 2: "b"},
    ...                      item_a="m1", item_b="m2")
      item_a item_b outcome rater  unit
    0    opt  bloom       a  ann1     0
    1    opt  bloom       b  ann2     0
    2  llama    opt     tie  ann1     1
    3  llama    opt     tie  ann2     1
    """
    where = "from_multi_annotator"
    if isinstance(annotators, str) or len(annotators) == 0:
        raise DataValidationError(
            f"{where}: annotators= must be a non-empty list of column names, got "
            f"{annotators!r}."
        )
    if missing not in ("error", "drop"):
        raise DataValidationError(
            f"{where}: missing= must be 'error' or 'drop', got {missing!r}."
        )
    roles: dict[str, Hashable | None] = {"item_a": item_a, "item_b": item_b}
    roles.update({f"annotators[{k}]": c for k, c in enumerate(annotators)})
    _start(df, where, roles)
    kept = _kept(df, keep, [item_a, item_b, *annotators],
                 (*_PAIR_COLUMNS, "unit"), where)
    _check_pair_items(df, item_a, item_b, where)
    n, m = len(df), len(annotators)
    labels = pd.Series(
        df[list(annotators)].to_numpy(dtype=object).ravel(),
        index=pd.MultiIndex.from_product([df.index, list(annotators)],
                                         names=["row", "annotator"]),
        name="annotator cell",
    )
    present = np.ones(n * m, dtype=bool)
    if missing == "drop":
        present = ~labels.isna().to_numpy()
        labels = labels[present]
    outcome = _recode(
        labels, codes, where,
        "Add them to codes= or fix those cells (the rows are (row, annotator) pairs).",
    )
    cell = np.flatnonzero(present)
    rows = cell // m
    cols = {
        "item_a": _column(df, item_a, rows),
        "item_b": _column(df, item_b, rows),
        "outcome": outcome,
        "rater": np.asarray(annotators, dtype=object)[cell % m],
        "unit": df.index[rows].array,
    }
    return _table(df, cols, kept, rows)


def from_graded(
    df: pd.DataFrame,
    column: Hashable,
    levels: Sequence[Any],
    item_a: Hashable = "item_a",
    item_b: Hashable = "item_b",
    rater: Hashable | None = None,
    keep: Sequence[Hashable] | None = None,
) -> pd.DataFrame:
    """Convert a graded preference scale to the canonical graded outcome.

    The outcome becomes a pandas ordered ``Categorical`` whose categories are
    exactly ``levels``, in that order: from the strongest preference for
    item_a to the strongest preference for item_b. On an odd scale the middle
    level is the tie; an even scale has no tie. This is the form
    :meth:`prefstat.ComparisonData.from_frame` reads as graded; to reduce it to
    win/tie/loss use :func:`collapse_graded`.

    Parameters
    ----------
    df : pandas.DataFrame
        One judgement per row.
    column : hashable
        The graded outcome column.
    levels : sequence
        Every label of the scale, ordered from "item_a much better" to
        "item_b much better".
    item_a, item_b : hashable, default "item_a", "item_b"
        Columns of the first- and second-shown item.
    rater : hashable, optional
        Column of the rater; it becomes ``rater``.
    keep : sequence of hashable, optional
        Columns to carry over; by default every column not read above.

    Returns
    -------
    pandas.DataFrame
        The canonical table, indexed like ``df``.

    Raises
    ------
    InvalidOutcomeError
        A missing label, a label not in ``levels``, or a bad ``levels``
        (fewer than two, or repeated).
    InvalidItemError, MissingColumnError, DataValidationError
        A bad item label, an absent or doubly used column.

    Examples
    --------
    >>> import pandas as pd
    >>> from prefstat.convert import from_graded
    >>> raw = pd.DataFrame({"model_a": ["x", "x"], "model_b": ["y", "z"],
    ...                     "preference": ["a-is-slightly-better", "tie"]})
    >>> out = from_graded(raw, "preference",
    ...                   ["a-is-better", "a-is-slightly-better", "tie",
    ...                    "b-is-slightly-better", "b-is-better"],
    ...                   item_a="model_a", item_b="model_b")
    >>> out["outcome"].tolist()
    ['a-is-slightly-better', 'tie']
    >>> out["outcome"].cat.ordered, len(out["outcome"].cat.categories)
    (True, 5)
    """
    where = "from_graded"
    _start(df, where, {"column": column, "item_a": item_a, "item_b": item_b, "rater": rater})
    if isinstance(levels, str):
        raise InvalidOutcomeError(
            f"{where}: levels= must be a list of labels, not the string {levels!r}."
        )
    scale = pd.Index(list(levels))
    if scale.size < 2 or scale.has_duplicates or scale.hasnans:
        raise InvalidOutcomeError(
            f"{where}: levels= must list at least two distinct, non-missing labels, ordered "
            f"from strongest preference for item_a to item_b; got {format_examples(scale, 7)}."
        )
    kept = _kept(df, keep, [column, item_a, item_b, rater], _PAIR_COLUMNS, where)
    col = df[column]
    values = col.to_numpy(dtype=object)
    absent = col.isna().to_numpy()
    if absent.any():
        raise InvalidOutcomeError(
            f"{where}: column {column!r} is missing in {int(absent.sum())} row(s): "
            f"{format_examples(col.index[absent])}. Every judgement needs a level; drop those "
            "rows explicitly if they are not judgements."
        )
    unknown = scale.get_indexer(values) < 0
    if unknown.any():
        raise InvalidOutcomeError(
            f"{where}: column {column!r} has label(s) not in levels=: "
            f"{format_examples(pd.unique(values[unknown]))} (in rows "
            f"{format_examples(col.index[unknown])}). Add them to levels= in their place on "
            "the scale, or fix those rows."
        )
    _check_pair_items(df, item_a, item_b, where)
    outcome = pd.Categorical(values, categories=scale, ordered=True)
    cols = {"item_a": _column(df, item_a), "item_b": _column(df, item_b), "outcome": outcome}
    if rater is not None:
        cols["rater"] = _column(df, rater)
    return _table(df, cols, kept)


def collapse_graded(df: pd.DataFrame, outcome: Hashable = "outcome") -> pd.DataFrame:
    """Collapse a graded outcome to the nominal ``"a"``, ``"b"``, ``"tie"``.

    Levels before the middle of the scale become ``"a"``, levels after it
    ``"b"``, and the middle level of an odd scale ``"tie"``: so on a 5-point
    scale "slightly better" and "better" both become a win. This throws away
    the grade; it is the only way prefstat collapses a scale, so the choice is
    visible in your code.

    Parameters
    ----------
    df : pandas.DataFrame
        A canonical table with a graded outcome (see :func:`from_graded`).
    outcome : hashable, default "outcome"
        The graded outcome column.

    Returns
    -------
    pandas.DataFrame
        A copy of ``df`` with ``outcome`` replaced by nominal strings.

    Raises
    ------
    InvalidOutcomeError
        The column is not an ordered categorical, or has missing values.
    MissingColumnError
        The column is absent.

    Examples
    --------
    >>> import pandas as pd
    >>> from prefstat.convert import collapse_graded, from_graded
    >>> raw = pd.DataFrame({"item_a": ["x", "x", "y"], "item_b": ["y", "z", "z"],
    ...                     "grade": ["A>>B", "A=B", "A<B"]})
    >>> graded = from_graded(raw, "grade", ["A>>B", "A>B", "A=B", "A<B", "A<<B"])
    >>> collapse_graded(graded)["outcome"].tolist()
    ['a', 'tie', 'b']
    """
    where = "collapse_graded"
    _start(df, where, {"outcome": outcome})
    col = df[outcome]
    if not (isinstance(col.dtype, pd.CategoricalDtype) and col.cat.ordered):
        raise InvalidOutcomeError(
            f"{where}: column {outcome!r} has dtype {col.dtype}, not an ordered categorical; "
            "build a graded outcome with prefstat.convert.from_graded first."
        )
    codes = col.cat.codes.to_numpy()
    if (codes < 0).any():
        raise InvalidOutcomeError(
            f"{where}: column {outcome!r} is missing in {int((codes < 0).sum())} row(s): "
            f"{format_examples(col.index[codes < 0])}."
        )
    k = len(col.cat.categories)
    half = k // 2
    nominal = np.where(codes < half, "a", np.where(codes >= k - half, "b", "tie"))
    out = df.copy()
    out[outcome] = nominal.astype(object)
    return out


def from_counts(
    df: pd.DataFrame,
    item_a: Hashable = "item_a",
    item_b: Hashable = "item_b",
    wins_a: Hashable = "wins_a",
    wins_b: Hashable = "wins_b",
    ties: Hashable | None = None,
    keep: Sequence[Hashable] | None = None,
    ties_bothbad: Hashable | None = None,
    rater: Hashable | None = None,
) -> pd.DataFrame:
    """Expand aggregated win (and tie) counts to weighted canonical rows.

    Each source row gives up to four output rows, in the order ``"a"``,
    ``"b"``, ``"tie"``, ``"tie_bothbad"``, one per non-zero count, with the
    count in ``weight``.
    A pair whose counts are all zero produces no row (it holds no
    comparison); pass ``items=`` to :meth:`~prefstat.ComparisonData.from_frame`
    to keep such items in the item set.

    Parameters
    ----------
    df : pandas.DataFrame
        One pair per row.
    item_a, item_b : hashable, default "item_a", "item_b"
        The two items.
    wins_a, wins_b : hashable, default "wins_a", "wins_b"
        How often item_a, and item_b, was preferred.
    ties : hashable, optional
        How often the two tied.
    keep : sequence of hashable, optional
        Columns to carry over (repeated on each output row); by default
        every column not read above.
    ties_bothbad : hashable, optional
        How often the two tied with both judged bad (``"tie_bothbad"``).
    rater : hashable, optional
        Column of the rater, for counts kept per rater; it becomes ``rater``.

    Returns
    -------
    pandas.DataFrame
        ``item_a, item_b, outcome`` (and ``rater``), ``weight`` and the kept
        columns, with a fresh ``RangeIndex``.

    Raises
    ------
    InvalidWeightError
        A count that is not numeric, missing, infinite or negative.
    EmptyDataError
        Every count is zero.
    InvalidItemError, MissingColumnError, DataValidationError
        A bad item label, an absent or doubly used column.

    Examples
    --------
    >>> import pandas as pd
    >>> from prefstat.convert import from_counts
    >>> raw = pd.DataFrame({"i": [1, 1], "j": [2, 3], "w_ij": [19, 0], "w_ji": [22, 5],
    ...                     "t_ij": [16, 0]})
    >>> from_counts(raw, "i", "j", "w_ij", "w_ji", ties="t_ij")
       item_a  item_b outcome  weight
    0       1       2       a    19.0
    1       1       2       b    22.0
    2       1       2     tie    16.0
    3       1       3       b     5.0
    """
    where = "from_counts"
    _start(df, where, {"item_a": item_a, "item_b": item_b, "wins_a": wins_a,
                       "wins_b": wins_b, "ties": ties, "ties_bothbad": ties_bothbad,
                       "rater": rater})
    kept = _kept(df, keep, [item_a, item_b, wins_a, wins_b, ties, ties_bothbad, rater],
                 _PAIR_COLUMNS, where)
    named = [(c, name) for c, name in ((wins_a, "a"), (wins_b, "b"), (ties, "tie"),
                                       (ties_bothbad, "tie_bothbad")) if c is not None]
    count_cols = [c for c, _ in named]
    block = np.column_stack([_counts(df, c, where) for c in count_cols])
    _check_pair_items(df, item_a, item_b, where)
    rows, which = np.nonzero(block)
    cols = {
        "item_a": _column(df, item_a, rows),
        "item_b": _column(df, item_b, rows),
        "outcome": np.array([name for _, name in named], dtype=object)[which],
    }
    if rater is not None:
        cols["rater"] = _column(df, rater, rows)
    cols["weight"] = block[rows, which]
    return _no_rows(_table(df, cols, kept, rows), where, f"the counts in {count_cols}")


def from_matrix(matrix: pd.DataFrame) -> pd.DataFrame:
    """Expand a square matrix of win counts to weighted canonical rows.

    Cell ``(i, j)`` counts how often the row item ``i`` was preferred to the
    column item ``j``. Each non-zero off-diagonal cell becomes one row with
    ``item_a = i``, ``item_b = j``, outcome ``"a"`` and the count in
    ``weight``, in row-major order. As with :func:`from_winner_loser` the
    order is not a presentation order, and the format has no ties.

    Parameters
    ----------
    matrix : pandas.DataFrame
        Square, with the same unique labels on the index and the columns (in
        any order; cells are matched by label). Diagonal cells must be zero or
        missing; off-diagonal cells finite and non-negative.

    Returns
    -------
    pandas.DataFrame
        ``item_a, item_b, outcome, weight`` with a fresh ``RangeIndex``.

    Raises
    ------
    DataValidationError
        Not square, repeated labels, or index and columns disagree.
    InvalidWeightError
        A non-numeric, missing, infinite or negative off-diagonal cell, or a
        non-zero diagonal cell.
    EmptyDataError
        An empty matrix, or no non-zero off-diagonal cell.

    Examples
    --------
    >>> import pandas as pd
    >>> from prefstat.convert import from_matrix
    >>> wins = pd.DataFrame([[0, 3], [1, 0]], index=["x", "y"], columns=["x", "y"])
    >>> from_matrix(wins)
      item_a item_b outcome  weight
    0      x      y       a     3.0
    1      y      x       a     1.0
    """
    where = "from_matrix"
    enc.check_columns(matrix, {}, where)
    labels = matrix.index
    if labels.has_duplicates or matrix.columns.has_duplicates:
        dup = labels[labels.duplicated()].append(matrix.columns[matrix.columns.duplicated()])
        raise DataValidationError(
            f"{where}: labels {format_examples(dup.unique())} appear more than once; each "
            "item needs one row and one column."
        )
    if matrix.shape[0] != matrix.shape[1] or not labels.sort_values().equals(
        matrix.columns.sort_values()
    ):
        only_rows = labels.difference(matrix.columns)
        only_cols = matrix.columns.difference(labels)
        raise DataValidationError(
            f"{where}: the matrix must be square with the same labels on its index and "
            f"columns; got shape {matrix.shape}, labels only on the index: "
            f"{format_examples(only_rows) or 'none'}, only on the columns: "
            f"{format_examples(only_cols) or 'none'}. With pandas.read_csv, pass index_col=0."
        )
    square = matrix.loc[:, labels]
    not_numeric = [c for c in square.columns if not pd.api.types.is_numeric_dtype(square[c])
                   or pd.api.types.is_bool_dtype(square[c])]
    if not_numeric:
        raise InvalidWeightError(
            f"{where}: column(s) {format_examples(not_numeric)} are not numeric; cells must "
            "be win counts."
        )
    values = square.to_numpy(dtype=np.float64, na_value=np.nan)
    diagonal = np.diag(values)
    bad_diag = ~np.isnan(diagonal) & (diagonal != 0)
    if bad_diag.any():
        raise InvalidWeightError(
            f"{where}: the diagonal must be 0 or missing (an item is not compared with "
            f"itself), but is {format_examples(diagonal[bad_diag])} for item(s) "
            f"{format_examples(labels[bad_diag])}. Check the matrix's orientation and labels."
        )
    off = ~np.eye(len(labels), dtype=bool)
    bad = off & (~np.isfinite(values) | (values < 0))
    if bad.any():
        r, c = np.nonzero(bad)
        cells = pd.MultiIndex.from_arrays([labels[r], labels[c]])
        raise InvalidWeightError(
            f"{where}: {int(bad.sum())} off-diagonal cell(s) are missing, infinite or negative, "
            f"at (row, column) {format_examples(cells)} (values {format_examples(values[bad])})."
            " Fill pairs never compared with 0 explicitly."
        )
    r, c = np.nonzero(off & (values > 0))
    out = pd.DataFrame({
        "item_a": labels[r].array,
        "item_b": labels[c].array,
        "outcome": np.full(len(r), "a", dtype=object),
        "weight": values[r, c],
    })
    return _no_rows(out, where, "the off-diagonal cells")


# ------------------------------------------------------------------ rankings
def validate_rankings(
    df: pd.DataFrame,
    ranking: Hashable = "ranking_id",
    item: Hashable = "item",
    rank: Hashable = "rank",
    gaps: Literal["error", "rerank"] = "error",
) -> pd.DataFrame:
    """Check a long ranking table and return it in canonical form.

    The canonical long ranking table has one row per (ranking, item) with
    columns ``ranking_id``, ``item`` and ``rank`` (integers, 1 = best; equal
    ranks are ties), then the table's other columns unchanged.

    Within a ranking, ranks must follow dense ranking (``1, 1, 2``) or
    standard competition ranking (``1, 1, 3``); other gaps (``1, 2, 4``) are an
    error unless ``gaps="rerank"``.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per ranked item.
    ranking, item, rank : hashable
        Columns of the ranking identifier, the item and its rank.
    gaps : {"error", "rerank"}, default "error"
        ``"rerank"`` is for data whose rank values are ordinal scores in which
        only the order matters (WMT judges put five systems on ranks 1–5
        freely, so ``2, 3, 5`` occurs): ranks are replaced by dense ranks
        within each ranking, keeping their order and ties.

    Returns
    -------
    pandas.DataFrame
        The canonical long table, indexed like ``df``. Integer-valued float
        ranks (``2.0``) become integers.

    Raises
    ------
    InvalidRankingError
        A missing ranking id; a rank that is missing, not a number, not a
        whole number or not positive; an item repeated within a ranking; a
        ranking of a single item (it orders nothing); or gaps in the ranks.
    InvalidItemError
        A missing item label.
    EmptyDataError
        A table without rows.
    MissingColumnError, DataValidationError
        A named column is absent or used twice, or another column already
        carries a canonical name.

    Examples
    --------
    >>> import pandas as pd
    >>> from prefstat.convert import validate_rankings
    >>> races = pd.DataFrame({"race": [1, 1, 1, 2, 2],
    ...                       "driver": ["ann", "bob", "cy", "bob", "cy"],
    ...                       "position": [1, 2, 2, 1, 2]})
    >>> validate_rankings(races, ranking="race", item="driver", rank="position")
       ranking_id item  rank
    0           1  ann     1
    1           1  bob     2
    2           1   cy     2
    3           2  bob     1
    4           2   cy     2
    """
    where = "validate_rankings"
    if gaps not in ("error", "rerank"):
        raise DataValidationError(f"{where}: gaps= must be 'error' or 'rerank', got {gaps!r}.")
    _start(df, where, {"ranking": ranking, "item": item, "rank": rank})
    kept, rank_int = _checked_ranks(df, ranking, item, rank, gaps, where)
    cols = {"ranking_id": df[ranking].array, "item": df[item].array, "rank": rank_int}
    return _table(df, cols, kept)


def _checked_ranks(
    df: pd.DataFrame,
    ranking: Hashable,
    item: Hashable,
    rank: Hashable,
    gaps: Literal["error", "rerank"],
    where: str,
) -> tuple[list[Hashable], np.ndarray]:
    """Every check of :func:`validate_rankings` after the column check, without the table.

    Returns the kept columns and the ranks (``int64``; dense ranks with
    ``gaps="rerank"``). Rankings are grouped by integer codes and ranked
    within a ranking by one sort, not by pandas groupby: the checks cost
    microseconds on small tables, where a fit of a few hundred rankings
    would otherwise spend most of its time here.
    """
    kept = _kept(df, None, [ranking, item, rank], _RANKING_COLUMNS, where)
    ids, labels = df[ranking], df[item]
    missing = pd.isna(ids.array)
    if missing.any():
        rows = df.index[missing]
        raise InvalidRankingError(
            f"{where}: ranking id column {ranking!r} is missing in {len(rows)} row(s): "
            f"{format_examples(rows)}. Every row must say which ranking it belongs to."
        )
    missing = pd.isna(labels.array)
    if missing.any():
        rows = df.index[missing]
        raise InvalidItemError(
            f"{where}: item column {item!r} is missing in {len(rows)} row(s): "
            f"{format_examples(rows)}. Drop or fill those rows first; prefstat does not drop "
            "them for you."
        )
    r = df[rank]
    if not pd.api.types.is_numeric_dtype(r) or pd.api.types.is_bool_dtype(r):
        raise InvalidRankingError(
            f"{where}: rank column {rank!r} has dtype {r.dtype}; ranks must be whole numbers "
            "(1 = best). Convert it with pandas.to_numeric after checking the values that fail."
        )
    # na_value only matters for extension arrays (pd.NA); a numpy column converts
    # directly, without the copy and mask that na_value costs.
    values = (r.to_numpy(dtype=np.float64) if isinstance(r.dtype, np.dtype) else
              r.to_numpy(dtype=np.float64, na_value=np.nan))
    bad = ~np.isfinite(values) | (values < 1) | (values != np.floor(values))
    if bad.any():
        raise InvalidRankingError(
            f"{where}: rank column {rank!r} has {int(bad.sum())} missing, non-positive or "
            f"non-integer value(s) (values {format_examples(pd.unique(r.to_numpy()[bad]))}, rows "
            f"{format_examples(df.index[bad])}). Ranks are whole numbers from 1 (best); if a "
            "code such as -1 means 'not ranked', remove those rows (or pass blank= to "
            "from_wide_rankings)."
        )
    rank_int = values.astype(np.int64)
    # Codes in order of first appearance, with the equality of pandas' duplicated
    # and groupby (which factorise the same way).
    id_code, id_values = pd.factorize(ids.array)
    item_code, item_values = pd.factorize(labels.array)
    pair = pd.Index(id_code.astype(np.int64) * len(item_values) + item_code)
    if not pair.is_unique:
        dup = pair.duplicated(keep=False)
        pairs = pd.MultiIndex.from_arrays([ids[dup], labels[dup]]).unique()
        raise InvalidRankingError(
            f"{where}: {len(pairs)} (ranking, item) pair(s) occur more than once: "
            f"{format_examples(pairs)} (rows {format_examples(df.index[dup])}). An item has "
            "one rank per ranking; remove the duplicate rows."
        )
    size = np.bincount(id_code)
    if (size < 2).any():
        single = pd.unique(ids[size[id_code] < 2])
        raise InvalidRankingError(
            f"{where}: {len(single)} ranking(s) rank a single item: "
            f"{format_examples(single)}. A ranking of one item orders nothing; remove those "
            "rows (prefstat does not drop them for you)."
        )
    dense, lowest = _within_ranking_ranks(id_code, rank_int)
    if gaps == "rerank":
        return kept, dense
    broken_code = np.flatnonzero(np.bincount(id_code, rank_int != dense) *
                                 np.bincount(id_code, rank_int != lowest))
    if broken_code.size:
        broken = id_values[broken_code]
        shown = ids.isin(broken[:3]).to_numpy()
        sets = pd.Series(rank_int[shown]).groupby(ids.to_numpy()[shown], sort=False)
        detail = "; ".join(f"{i!r}: {sorted(v.tolist())}" for i, v in sets)
        raise InvalidRankingError(
            f"{where}: {len(broken)} ranking(s) have gaps in their ranks that ties do not "
            f"explain ({detail}" + (f"; and {len(broken) - 3} more" if len(broken) > 3
                                    else "")
            + "). Ranks must be dense (1, 1, 2) or competition ranks (1, 1, 3). If only "
            "the order of the values matters, pass gaps='rerank'."
        )
    return kept, rank_int


def _within_ranking_ranks(group: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dense and minimum ranks (1 = smallest value) of ``values`` within each group code.

    The ranks of pandas' ``groupby(group).rank(method="dense")`` and
    ``method="min"``, from one sort by (group, value).
    """
    span = int(values.max()) + 1
    if (int(group.max()) + 1) * span < 2**62:
        order = np.argsort(group.astype(np.int64) * span + values, kind="stable")
    else:
        order = np.lexsort((values, group))
    g, v = group[order], values[order]
    positions = np.arange(g.size)
    new_group = np.ones(g.size, dtype=bool)
    new_group[1:] = g[1:] != g[:-1]
    new_value = new_group.copy()
    new_value[1:] |= v[1:] != v[:-1]
    group_start = np.maximum.accumulate(np.where(new_group, positions, 0))
    value_start = np.maximum.accumulate(np.where(new_value, positions, 0))
    distinct = np.cumsum(new_value)
    dense = np.empty_like(values)
    lowest = np.empty_like(values)
    dense[order] = distinct - distinct[group_start] + 1
    lowest[order] = value_start - group_start + 1
    return dense, lowest


def from_wide_rankings(
    df: pd.DataFrame,
    items: Sequence[Hashable] | None = None,
    positions: Sequence[Hashable] | None = None,
    slots: Sequence[tuple[Hashable, Hashable]] | None = None,
    ranking_id: Hashable | None = None,
    blank: Any = None,
    gaps: Literal["error", "rerank"] = "error",
    keep: Sequence[Hashable] | None = None,
) -> pd.DataFrame:
    """Convert wide rankings (one row per ranking) to the canonical long table.

    Give exactly one of three layouts:

    ``items``
        One column per item holding its rank; the column name is the item
        label (e.g. the salad data, columns ``A``–``D``).
    ``positions``
        One column per rank position, best first, holding the label of the
        item at that position (ranks 1, 2, ...; no ties).
    ``slots``
        ``(item column, rank column)`` pairs, one per displayed slot, as in
        the WMT ranking tasks (``system1Id``, ``system1rank``, ...). The long
        table lists each ranking's items in slot order, so
        :func:`rankings_to_pairs` shows them in display order.

    Cells equal to ``blank`` mean "not ranked": the rank cell for ``items`` and
    ``slots``, the label cell for ``positions``. The item is left out of that
    ranking (the ranking becomes partial). Without ``blank``, such cells are
    errors like any other bad rank. A ranking left with fewer than two items
    is an error, not a silent drop.

    Parameters
    ----------
    df : pandas.DataFrame
        One ranking per row.
    items, positions, slots : sequence
        The layout (exactly one).
    ranking_id : hashable, optional
        Column identifying the ranking (unique per row); by default the
        row's index label.
    blank : scalar, optional
        The cell value meaning "not ranked", e.g. ``-1`` (WMT) or
        ``numpy.nan``.
    gaps : {"error", "rerank"}, default "error"
        Passed to :func:`validate_rankings`.
    keep : sequence of hashable, optional
        Ranking-level columns to repeat on every item row; by default every
        column not read above.

    Returns
    -------
    pandas.DataFrame
        The canonical long table (``ranking_id, item, rank`` and the kept
        columns), rankings in row order, with a fresh ``RangeIndex``.

    Raises
    ------
    InvalidRankingError
        A repeated ranking id, a ranking with fewer than two ranked items, or
        anything :func:`validate_rankings` rejects.
    DataValidationError, MissingColumnError
        Not exactly one layout, or an absent or doubly used column.

    Examples
    --------
    >>> import pandas as pd
    >>> from prefstat.convert import from_wide_rankings
    >>> salad = pd.DataFrame({"judge": [1, 2], "A": [1, 2], "B": [2, 1], "C": [3, -1]})
    >>> from_wide_rankings(salad, items=["A", "B", "C"], ranking_id="judge", blank=-1)
       ranking_id item  rank
    0           1    A     1
    1           1    B     2
    2           1    C     3
    3           2    A     2
    4           2    B     1
    """
    where = "from_wide_rankings"
    given = [name for name, v in (("items", items), ("positions", positions),
                                  ("slots", slots)) if v is not None]
    if len(given) != 1:
        raise DataValidationError(
            f"{where}: pass exactly one of items=, positions= or slots= (got "
            f"{', '.join(given) or 'none'})."
        )
    layout = given[0]
    spec = list({"items": items, "positions": positions, "slots": slots}[layout])
    if not spec:
        raise DataValidationError(f"{where}: {layout}= is empty.")
    if layout == "slots":
        if not all(isinstance(s, tuple) and len(s) == 2 for s in spec):
            raise DataValidationError(
                f"{where}: slots= must be a list of (item column, rank column) tuples, got "
                f"{format_examples(spec)}."
            )
        label_cols = [s[0] for s in spec]
        rank_cols = [s[1] for s in spec]
        read = [*label_cols, *rank_cols]
    else:
        read = spec
    roles: dict[str, Hashable | None] = {f"{layout}[{k}]": c for k, c in enumerate(read)}
    roles["ranking_id"] = ranking_id
    _start(df, where, roles)
    kept = _kept(df, keep, [*read, ranking_id], _RANKING_COLUMNS, where)
    ids = df.index if ranking_id is None else pd.Index(df[ranking_id])
    if ids.has_duplicates:
        source = "the index" if ranking_id is None else f"column {ranking_id!r}"
        raise InvalidRankingError(
            f"{where}: ranking ids in {source} repeat: "
            f"{format_examples(ids[ids.duplicated()].unique())}. Each row is one ranking and "
            "needs its own id (pass ranking_id=None to use the row index, after "
            "reset_index())."
        )
    n, k = len(df), len(spec)
    if layout == "items":
        block = df[spec]
        labels = np.tile(np.asarray(spec, dtype=object), n)
        ranks = _rank_values(block)
    elif layout == "positions":
        block = df[spec]
        labels = block.to_numpy(dtype=object).ravel()
        ranks = pd.Series(np.tile(np.arange(1, k + 1), n))
    else:
        block = df[rank_cols]
        labels = df[label_cols].to_numpy(dtype=object).ravel()
        ranks = _rank_values(block)
    ranked = ~_blank_mask(block, blank)
    short = ranked.sum(axis=1) < 2
    if short.any():
        cols = format_examples(block.columns, 10)
        raise InvalidRankingError(
            f"{where}: {int(short.sum())} ranking(s) have fewer than two ranked items"
            + (f" once blank={blank!r} cells are left out" if blank is not None else "")
            + f": ids {format_examples(ids[short])}. A ranking needs two items to order "
            f"something; remove those rows first, e.g. keep rows where at least two of "
            f"{cols} are not blank."
        )
    cell = np.flatnonzero(ranked.ravel())
    rows = cell // k
    # Index the long rows by (ranking id, wide column) so that errors point at cells.
    where_from = pd.MultiIndex.from_arrays(
        [ids[rows], block.columns[cell % k]], names=["ranking_id", "column"]
    )
    long = pd.DataFrame({
        "ranking_id": ids[rows].array,
        "item": labels[cell],
        "rank": ranks.iloc[cell].to_numpy(),
    }, index=where_from)
    for c in kept:
        long[c] = df[c].iloc[rows].array
    try:
        out = validate_rankings(long, gaps=gaps)
    except (InvalidRankingError, InvalidItemError) as err:
        raise type(err)(
            f"{where} (rows shown as (ranking id, wide column) cells): {err}"
        ) from err
    return out.reset_index(drop=True)


def rankings_to_pairs(
    df: pd.DataFrame,
    ranking: Hashable = "ranking_id",
    item: Hashable = "item",
    rank: Hashable = "rank",
    rater: Hashable | None = None,
    keep: Sequence[Hashable] | None = None,
) -> pd.DataFrame:
    """Break rankings into all their pairwise comparisons.

    A ranking of ``k`` items gives ``k (k - 1) / 2`` rows. Within a ranking,
    ``item_a`` is the item that comes first in the table's row order (for
    WMT slots: the on-screen order); the outcome is ``"a"`` when item_a is
    ranked better (lower rank), ``"b"`` when worse, ``"tie"`` when equal.

    The pairs of one ranking are *not* independent judgements: a ranking of
    ``k`` items is one judgement, and treating its pairs as independent
    overstates the information (standard errors come out too small). Use a
    ranking model (Plackett–Luce) or a cluster-robust variance grouped by
    ``ranking_id`` for inference.

    Parameters
    ----------
    df : pandas.DataFrame
        A long ranking table (checked with :func:`validate_rankings`).
    ranking, item, rank : hashable
        Columns of the ranking id, the item and its rank.
    rater : hashable, optional
        Column of the rater (one per ranking); it becomes ``rater``.
    keep : sequence of hashable, optional
        Ranking-level columns to carry over; by default every other column.
        Each must be constant within a ranking.

    Returns
    -------
    pandas.DataFrame
        ``item_a, item_b, outcome, ranking_id`` (and ``rater``) and the kept
        columns, with a fresh ``RangeIndex``.

    Raises
    ------
    InvalidRankingError
        Anything :func:`validate_rankings` rejects, or a rater or kept column
        that varies within a ranking.

    Examples
    --------
    >>> import pandas as pd
    >>> from prefstat.convert import rankings_to_pairs
    >>> long = pd.DataFrame({"ranking_id": [7, 7, 7], "item": ["x", "y", "z"],
    ...                      "rank": [2, 1, 2]})
    >>> rankings_to_pairs(long)
      item_a item_b outcome  ranking_id
    0      x      y       b           7
    1      x      z     tie           7
    2      y      z       a           7
    """
    where = "rankings_to_pairs"
    _start(df, where, {"ranking": ranking, "item": item, "rank": rank, "rater": rater})
    kept = _kept(df, keep, [ranking, item, rank, rater],
                 (*_PAIR_COLUMNS, "ranking_id"), where)
    long = validate_rankings(df, ranking, item, rank)
    ranking_level = ([rater] if rater is not None else []) + kept
    if ranking_level:
        varies = long.groupby("ranking_id", sort=False)[ranking_level].nunique(dropna=False)
        varies = varies.columns[(varies > 1).any()]
        if len(varies):
            raise InvalidRankingError(
                f"{where}: column(s) {format_examples(varies)} vary within a ranking, so they "
                "cannot be carried to its pairs. Pass keep=[...] with ranking-level columns "
                "only (and rater= only for a column with one rater per ranking)."
            )
    group, _ = pd.factorize(long["ranking_id"])
    order = np.argsort(group, kind="stable")
    sizes = np.bincount(group)
    starts = np.repeat(np.cumsum(sizes) - sizes, sizes)
    within = np.arange(len(order)) - starts
    n_later = np.repeat(sizes, sizes) - 1 - within
    first = np.repeat(np.arange(len(order)), n_later)
    run_start = np.repeat(np.cumsum(n_later) - n_later, n_later)
    second = first + np.arange(first.size) - run_start + 1
    a, b = order[first], order[second]
    r = long["rank"].to_numpy()
    outcome = np.where(r[a] < r[b], "a", np.where(r[a] > r[b], "b", "tie")).astype(object)
    cols = {
        "item_a": _column(long, "item", a),
        "item_b": _column(long, "item", b),
        "outcome": outcome,
        "ranking_id": _column(long, "ranking_id", a),
    }
    if rater is not None:
        cols["rater"] = _column(df, rater, a)
    return _table(long, cols, kept, a)
