"""Labels to integer codes: the one place where this happens.

Everything downstream of this module works on ``numpy`` integer codes; labels
come back only at the public edge through the ``pandas.Index`` kept here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .exceptions import (
    DataValidationError,
    EmptyDataError,
    InvalidItemError,
    InvalidOutcomeError,
    InvalidWeightError,
    MissingColumnError,
    format_examples,
)

# Nominal outcome codes (the order of the columns of the aggregated counts).
A_WINS, B_WINS, TIE, TIE_BOTHBAD = 0, 1, 2, 3
OUTCOME_NAMES = ("a", "b", "tie", "tie_bothbad")
_STRING_OUTCOMES = {name: code for code, name in enumerate(OUTCOME_NAMES)}
_NUMERIC_OUTCOMES = {1.0: A_WINS, 0.0: B_WINS, 0.5: TIE}


def check_columns(df: pd.DataFrame, required: dict[str, str | None], where: str) -> None:
    """Check that ``df`` is a DataFrame with unique column names holding ``required``.

    ``required`` maps an argument name to the column it names (``None`` = not used).
    """
    if not isinstance(df, pd.DataFrame):
        raise DataValidationError(
            f"{where} expects a pandas DataFrame, got {type(df).__name__}. "
            "Wrap arrays with pandas.DataFrame({...}) first."
        )
    dup = df.columns[df.columns.duplicated()].unique()
    if len(dup):
        raise DataValidationError(
            f"{where}: the table has duplicate column names {format_examples(dup)}; "
            "rename them so that every column is named once."
        )
    for arg, col in required.items():
        if col is not None and col not in df.columns:
            raise MissingColumnError(
                f"{where}: column {col!r} (argument {arg}=) is not in the table; "
                f"available columns are {format_examples(df.columns, 10)}. "
                f"Pass {arg}='<your column>' to name it."
            )
    if len(df) == 0:
        raise EmptyDataError(f"{where}: the table has no rows.")


def _label_kind(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, (str, np.str_)):
        return "str"
    if isinstance(value, (int, np.integer)):
        return "int"
    if isinstance(value, (float, np.floating)):
        return "float"
    return type(value).__name__


def label_kinds(uniques: Sequence[Any] | pd.Index | np.ndarray) -> dict[str, list[Any]]:
    """Group unique labels by kind (str, int, float, ...), a few examples each."""
    kinds: dict[str, list[Any]] = {}
    for value in uniques:
        kinds.setdefault(_label_kind(value), []).append(value)
    return kinds


def factorize_labels(
    columns: Sequence[pd.Series], what: str, categories: Sequence[Any] | None = None
) -> tuple[list[np.ndarray], pd.Index]:
    """Encode one or more label columns with a shared vocabulary.

    Returns one ``intp`` code array per column and the label index. Labels are
    sorted unless ``categories`` fixes the vocabulary and its order. Missing
    labels and labels of mixed types (``"1"`` and ``1``) raise
    :class:`InvalidItemError`.
    """
    for col in columns:
        missing = col.isna().to_numpy()
        if missing.any():
            rows = col.index[missing]
            raise InvalidItemError(
                f"{what} column {col.name!r} is missing in {len(rows)} row(s): "
                f"{format_examples(rows)}. Drop or fill those rows first; prefstat does not "
                "drop them for you."
            )
    same_dtype = len({str(c.dtype) for c in columns}) == 1
    parts = [c.to_numpy() if same_dtype else c.to_numpy(dtype=object) for c in columns]
    stacked = parts[0] if len(parts) == 1 else np.concatenate(parts)
    if categories is not None:
        vocab = pd.Index(categories)
        if vocab.has_duplicates:
            raise DataValidationError(
                f"the {what} list has duplicates: {format_examples(vocab[vocab.duplicated()])}."
            )
        _check_one_kind(vocab, what)
        codes = vocab.get_indexer(stacked)
        unknown = pd.unique(stacked[codes < 0])
        if len(unknown):
            raise InvalidItemError(
                f"{len(unknown)} {what} label(s) in the table are not in the given list: "
                f"{format_examples(unknown)}. Add them to the list or remove those rows."
            )
    else:
        codes, vocab = pd.factorize(stacked, sort=False)
        _check_one_kind(vocab, what)
        order = np.argsort(np.asarray(vocab), kind="stable")
        vocab = vocab[order]
        remap = np.empty(len(order), dtype=np.intp)
        remap[order] = np.arange(len(order))
        codes = remap[codes]
    codes = np.asarray(codes, dtype=np.intp)
    bounds = np.cumsum([0] + [len(c) for c in columns])
    return [codes[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:])], pd.Index(vocab)


def _check_one_kind(vocab: pd.Index, what: str) -> None:
    if vocab.dtype != object:
        return
    kinds = label_kinds(vocab)
    if len(kinds) > 1:
        detail = "; ".join(f"{k}: {format_examples(v, 3)}" for k, v in kinds.items())
        raise InvalidItemError(
            f"{what} labels mix types ({detail}). The string '1' and the number 1 would be "
            "different labels; convert the column(s) to one type first, e.g. .astype(str)."
        )


def encode_nominal_outcome(col: pd.Series, name: str) -> np.ndarray:
    """Map an outcome column to codes A_WINS, B_WINS, TIE, TIE_BOTHBAD, strictly."""
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    if (codes < 0).any():
        rows = col.index[codes < 0]
        raise InvalidOutcomeError(
            f"outcome column {name!r} is missing in {len(rows)} row(s): {format_examples(rows)}. "
            "Every judgement needs an outcome: 'a', 'b', 'tie' (or 1, 0, 0.5)."
        )
    table = np.empty(len(uniques), dtype=np.int8)
    bad = []
    for k, value in enumerate(uniques):
        code = _outcome_code(value)
        if code is None:
            bad.append(value)
        else:
            table[k] = code
    if bad:
        rows = col.index[np.isin(codes, [list(uniques).index(b) for b in bad])]
        raise InvalidOutcomeError(
            f"outcome column {name!r} has {len(bad)} unknown value(s): {format_examples(bad)} "
            f"(in rows {format_examples(rows)}). Allowed: 'a' / 1 (item_a preferred), "
            "'b' / 0 (item_b preferred), 'tie' / 0.5, 'tie_bothbad'. Recode them explicitly "
            "(a graded scale goes through prefstat.convert.from_graded)."
        )
    return table[codes]


def _outcome_code(value: Any) -> int | None:
    kind = _label_kind(value)
    if kind == "str":
        return _STRING_OUTCOMES.get(str(value))
    if kind in ("int", "float"):
        return _NUMERIC_OUTCOMES.get(float(value))
    return None


def graded_levels(col: pd.Series) -> pd.Index:
    """Categories of a graded outcome, from strongest preference for a to strongest for b."""
    return pd.Index(col.cat.categories)


def encode_graded_outcome(col: pd.Series, name: str) -> tuple[np.ndarray, np.ndarray, pd.Index]:
    """Encode an ordered categorical scale to signed grades and nominal codes.

    The categories run from the strongest preference for item_a to the strongest
    preference for item_b; an odd scale's middle category is a tie. Grades are
    signed integers, positive when item_a is preferred.
    """
    levels = graded_levels(col)
    k = len(levels)
    if k < 2:
        raise InvalidOutcomeError(
            f"graded outcome {name!r} has {k} categories; a preference scale needs at least two."
        )
    codes = col.cat.codes.to_numpy()
    if (codes < 0).any():
        rows = col.index[codes < 0]
        raise InvalidOutcomeError(
            f"graded outcome {name!r} is missing in {len(rows)} row(s): "
            f"{format_examples(rows)}; every judgement needs a level of the scale."
        )
    half = k // 2
    position = np.arange(k)
    if k % 2:
        grade_of_level = half - position
    else:
        grade_of_level = np.where(position < half, half - position, half - position - 1)
    grade = grade_of_level[codes].astype(np.int8)
    nominal = np.where(grade > 0, A_WINS, np.where(grade < 0, B_WINS, TIE)).astype(np.int8)
    return grade, nominal, levels


def encode_weights(col: pd.Series, name: str) -> np.ndarray:
    """Weights must be finite, non-negative numbers; nothing is coerced."""
    if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        raise InvalidWeightError(
            f"weight column {name!r} has dtype {col.dtype}; weights must be numbers. "
            "Convert it with pandas.to_numeric after checking the bad values."
        )
    w = col.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        rows = col.index[bad]
        raise InvalidWeightError(
            f"weight column {name!r} has {int(bad.sum())} missing, infinite or negative value(s) "
            f"in rows {format_examples(rows)} (values {format_examples(w[bad])}). "
            "Weights must be finite and >= 0."
        )
    return w
