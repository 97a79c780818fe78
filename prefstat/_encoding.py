"""Labels to integer codes: the one place where this happens.

Everything downstream of this module works on ``numpy`` integer codes; labels
come back only at the public edge through the ``pandas.Index`` kept here.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._factorize import factorize_each
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
            f"{where}: argument df expects a pandas DataFrame, got {type(df).__name__}. "
            "Wrap arrays with pandas.DataFrame({...}) first."
        )
    dup = df.columns[df.columns.duplicated()].unique()
    if len(dup):
        raise DataValidationError(
            f"{where}: the table has duplicate column names {format_examples(dup)}; "
            "rename them so that every column is named once."
        )
    for arg, col in required.items():
        if col is not None and not isinstance(col, Hashable):
            raise DataValidationError(
                f"{where}: argument {arg}= expects one column name, got "
                f"{type(col).__name__} {col!r}. Pass a single name, e.g. {arg}='{arg}'."
            )
        if col is not None and col not in df.columns:
            raise MissingColumnError(
                f"{where}: column {col!r} (argument {arg}=) is not in the table; "
                f"available columns are {format_examples(df.columns, 10)}. "
                f"Pass {arg}='<your column>' to name it."
            )
    roles: dict[Any, list[str]] = {}
    for arg, col in required.items():
        if col is not None:
            roles.setdefault(col, []).append(f"{arg}=")
    shared = {col: args for col, args in roles.items() if len(args) > 1}
    if shared:
        detail = "; ".join(f"{col!r} for {' and '.join(args)}" for col, args in shared.items())
        raise DataValidationError(
            f"{where}: the same column is named for two roles ({detail}). Each of "
            f"{', '.join(f'{a}=' for a in required)} needs its own column."
        )
    if len(df) == 0:
        raise EmptyDataError(
            f"{where}: the table has no rows (columns {format_examples(df.columns, 10)}). "
            "Pass a table with at least one comparison; check any filtering done before."
        )


def _label_kind(value: Any) -> str:
    return _type_kind(type(value))


def _type_kind(kind: type) -> str:
    if issubclass(kind, (bool, np.bool_)):
        return "bool"
    if issubclass(kind, (str, np.str_)):
        return "str"
    if issubclass(kind, (int, float, np.integer, np.floating)):
        return "number"
    return kind.__name__


# infer_dtype results for object columns whose values all have one kind.
_INFERRED_KIND = {"string": "str", "integer": "number", "floating": "number",
                  "mixed-integer-float": "number", "boolean": "bool"}


def value_kinds(col: pd.Series) -> str | np.ndarray:
    """Kind of the values of a column without missing values: str, number, bool, ...

    One string when every value has the same kind (read from the dtype, or
    from ``infer_dtype`` for object columns), else one kind per row. Kinds are
    needed because ``True == 1`` and ``True`` hashes like ``1``: without them a
    boolean would pass as the number 1.
    """
    dtype = col.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        categories = pd.Series(np.asarray(dtype.categories, dtype=object))
        kinds = value_kinds(categories)
        return kinds if isinstance(kinds, str) else kinds[col.cat.codes.to_numpy()]
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_numeric_dtype(dtype):
        return "complex" if dtype.kind == "c" else "number"
    if not pd.api.types.is_object_dtype(dtype):
        return "str" if pd.api.types.is_string_dtype(dtype) else str(dtype)
    values = col.to_numpy()
    inferred = _INFERRED_KIND.get(pd.api.types.infer_dtype(values, skipna=False))
    if inferred is not None:
        return inferred
    # Mixed object column: a vectorised type() per row, then a loop over the few types.
    types = np.frompyfunc(type, 1, 1)(values)
    codes, uniques = pd.factorize(types)
    return np.array([_type_kind(t) for t in uniques], dtype=object)[codes]


def _kinds_with_examples(values: np.ndarray, kinds: str | np.ndarray) -> dict[str, np.ndarray]:
    if isinstance(kinds, str):
        return {kinds: values}
    return {kind: values[kinds == kind] for kind in pd.unique(kinds)}


def factorize_labels(
    columns: Sequence[pd.Series], what: str, categories: Sequence[Any] | None = None,
    argument: str = "items",
) -> tuple[list[np.ndarray], pd.Index]:
    """Encode one or more label columns with a shared vocabulary.

    Returns one ``intp`` code array per column and the label index. Labels are
    sorted unless ``categories`` (the value of argument ``argument=``) fixes the
    vocabulary and its order. Missing labels and labels of mixed kinds (the
    string ``"1"`` and the number 1, or ``True`` and 1) raise
    :class:`InvalidItemError`. Integer and float labels are one kind and compare
    by value (``1 == 1.0``).
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
    local = factorize_each(columns)
    if local is not None:
        # Check and encode each column's distinct values, then map its row codes through.
        value_codes, vocab = _factorize_values([v for _, v in local], what, categories, argument)
        return [codes[c] for (c, _), codes in zip(local, value_codes)], vocab
    return _factorize_values(columns, what, categories, argument)


def _factorize_values(
    columns: Sequence[pd.Series], what: str, categories: Sequence[Any] | None, argument: str,
) -> tuple[list[np.ndarray], pd.Index]:
    same_dtype = len({str(c.dtype) for c in columns}) == 1
    parts = [c.to_numpy() if same_dtype else c.to_numpy(dtype=object) for c in columns]
    sources = [(f"column {c.name!r}", part, value_kinds(c)) for c, part in zip(columns, parts)]
    vocab = None
    if categories is not None:
        vocab = _check_vocabulary(categories, what, argument)
        vocab_values = np.asarray(vocab, dtype=object)
        sources.append((f"{argument}=", vocab_values, value_kinds(pd.Series(vocab_values))))
    _check_one_kind(sources, what)
    stacked = parts[0] if len(parts) == 1 else np.concatenate(parts)
    if vocab is not None:
        codes = _integer_indexer(vocab, stacked)
        if codes is None:
            codes = vocab.get_indexer(stacked)
        unknown = pd.unique(stacked[codes < 0])
        if len(unknown):
            raise InvalidItemError(
                f"{len(unknown)} {what} label(s) in the table are not in the list given as "
                f"{argument}=: {format_examples(unknown)}. Add them to {argument}= or remove "
                "those rows."
            )
    else:
        codes, vocab = pd.factorize(stacked, sort=True)
    codes = np.asarray(codes, dtype=np.intp)
    return np.split(codes, np.cumsum([len(c) for c in columns[:-1]])), pd.Index(vocab)


def _integer_indexer(vocab: pd.Index, values: np.ndarray) -> np.ndarray | None:
    """``vocab.get_indexer(values)`` by a lookup table, for integers in a narrow range.

    ``None`` unless both are numpy integers and the vocabulary spans at most a
    few times its size (item codes 0..n-1 and the like).
    """
    if not (vocab.dtype.kind in "iu" and isinstance(values, np.ndarray)
            and values.dtype.kind in "iu" and values.dtype != np.uint64 and vocab.size):
        return None
    lo, hi = int(vocab.min()), int(vocab.max())
    if hi - lo > 4 * vocab.size + 1024 or not values.size:
        return None
    if int(values.min()) < lo or int(values.max()) > hi:
        return None  # labels outside the vocabulary: the general path reports them
    table = np.full(hi - lo + 1, -1, dtype=np.intp)
    table[np.asarray(vocab, dtype=np.int64) - lo] = np.arange(vocab.size)
    return table[values.astype(np.int64, copy=False) - lo] if lo else table[values]


def _check_vocabulary(categories: Any, what: str, argument: str) -> pd.Index:
    if isinstance(categories, (str, bytes)) or not pd.api.types.is_list_like(categories):
        raise DataValidationError(
            f"argument {argument}= expects a list of {what} labels, got "
            f"{type(categories).__name__} {categories!r}. Pass e.g. {argument}=['x', 'y', 'z']."
        )
    vocab = pd.Index(list(categories))
    missing = vocab.isna()
    if missing.any():
        raise InvalidItemError(
            f"argument {argument}= has {int(missing.sum())} missing label(s) at position(s) "
            f"{format_examples(np.flatnonzero(missing))}; every {what} needs a label. "
            "Remove them from the list."
        )
    if vocab.has_duplicates:
        raise InvalidItemError(
            f"argument {argument}= lists {what} label(s) more than once: "
            f"{format_examples(vocab[vocab.duplicated()].unique())}. Pass each {what} once "
            "(e.g. list(dict.fromkeys(labels)))."
        )
    return vocab


def _check_one_kind(sources: list[tuple[str, np.ndarray, str | np.ndarray]], what: str) -> None:
    found: dict[str, dict[str, np.ndarray]] = {}
    for name, values, kinds in sources:
        for kind, examples in _kinds_with_examples(values, kinds).items():
            found.setdefault(kind, {}).setdefault(name, examples)
    if len(found) > 1:
        detail = "; ".join(
            f"{kind} in {' and '.join(by_source)}: "
            f"{format_examples(pd.unique(np.concatenate(list(by_source.values()))), 3)}"
            for kind, by_source in found.items()
        )
        raise InvalidItemError(
            f"{what} labels mix kinds ({detail}). The string '1', the number 1 and True would "
            "be different labels; convert the column(s) to one type first, e.g. .astype(str)."
        )


def encode_nominal_outcome(col: pd.Series, name: str) -> np.ndarray:
    """Map an outcome column to codes A_WINS, B_WINS, TIE, TIE_BOTHBAD, strictly."""
    missing = col.isna().to_numpy()
    if missing.any():
        rows = col.index[missing]
        raise InvalidOutcomeError(
            f"outcome column {name!r} is missing in {len(rows)} row(s): {format_examples(rows)}. "
            "Every judgement needs an outcome: 'a', 'b', 'tie' (or 1, 0, 0.5); drop or fill "
            "those rows first."
        )
    fast = _numeric_outcome_codes(col)
    if fast is not None:
        return fast
    values = col
    kinds = value_kinds(col)
    if not isinstance(kinds, str):
        # True == 1 and hashes like 1: hide booleans from factorize behind a sentinel.
        values = col.to_numpy(dtype=object, copy=True)
        values[kinds == "bool"] = _NOT_AN_OUTCOME
    codes, uniques = pd.factorize(values)
    table = np.array([_outcome_code(value) for value in uniques], dtype=np.int8)
    row_code = table[codes]
    bad = row_code < 0
    if bad.any():
        found = pd.unique(col.to_numpy(dtype=object)[bad])
        raise InvalidOutcomeError(
            f"outcome column {name!r} has {len(found)} unknown value(s): "
            f"{format_examples(found)} (in rows {format_examples(col.index[bad])}). Allowed: "
            "'a' / 1 (item_a preferred), 'b' / 0 (item_b preferred), 'tie' / 0.5, "
            "'tie_bothbad'; booleans are not outcomes. Recode them explicitly (a graded scale "
            "goes through prefstat.convert.from_graded)."
        )
    return row_code


_NOT_AN_OUTCOME = object()

# Nominal code of the numeric outcomes by twice their value: 0 -> b, 0.5 -> tie, 1 -> a.
_BY_TWICE = np.array([_NUMERIC_OUTCOMES[k / 2] for k in range(3)], dtype=np.int8)


def _numeric_outcome_codes(col: pd.Series) -> np.ndarray | None:
    """Codes of a plain numpy int or float column of 0, 0.5 and 1, without hashing.

    ``None`` for any other column, or when a value is not one of the three (the
    general path then says which), so the result is the general path's.
    """
    dtype = col.dtype
    if not isinstance(dtype, np.dtype) or dtype.kind not in "iuf":
        return None
    twice = col.to_numpy() * 2
    with np.errstate(invalid="ignore"):
        # Values outside int8 wrap or truncate; only exact 0, 1, 2 survive the round trip.
        index = twice.astype(np.int8)
    if not (np.equal(index, twice).all() and ((index >= 0) & (index <= 2)).all()):
        return None
    return _BY_TWICE[index]


def _outcome_code(value: Any) -> int:
    kind = _label_kind(value)
    if kind == "str":
        return _STRING_OUTCOMES.get(str(value), -1)
    if kind == "number":
        return _NUMERIC_OUTCOMES.get(float(value), -1)
    return -1


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
            f"graded outcome {name!r} has {k} categor{'y' if k == 1 else 'ies'} "
            f"({format_examples(levels)}); a preference scale needs at least two. Pass the "
            "full scale as the categories of the ordered Categorical, or use a nominal outcome."
        )
    codes = col.cat.codes.to_numpy()
    if (codes < 0).any():
        rows = col.index[codes < 0]
        raise InvalidOutcomeError(
            f"graded outcome {name!r} is missing in {len(rows)} row(s): "
            f"{format_examples(rows)}; every judgement needs a level of the scale "
            f"({format_examples(levels)}). Drop those rows or set their level first."
        )
    half = k // 2
    position = np.arange(k)
    if k % 2:
        grade_of_level = half - position
    else:
        grade_of_level = np.where(position < half, half - position, half - position - 1)
    grade = grade_of_level[codes].astype(np.min_scalar_type(-k))
    nominal = np.where(grade > 0, A_WINS, np.where(grade < 0, B_WINS, TIE)).astype(np.int8)
    return grade, nominal, levels


def encode_weights(col: pd.Series, name: str) -> np.ndarray:
    """Weights must be finite, non-negative real numbers; nothing is coerced."""
    dtype = col.dtype
    if (not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
            or dtype.kind == "c"):
        raise InvalidWeightError(
            f"weight column {name!r} has dtype {dtype} (values such as "
            f"{format_examples(col.drop_duplicates(), 3)}); weights must be real numbers, "
            "not booleans, strings or objects. Convert it with pandas.to_numeric after checking "
            "the bad values."
        )
    w = col.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        rows = col.index[bad]
        raise InvalidWeightError(
            f"weight column {name!r} has {int(bad.sum())} missing, infinite or negative value(s) "
            f"in rows {format_examples(rows)} (values {format_examples(w[bad])}). "
            "Weights must be finite and >= 0; drop or correct those rows."
        )
    return w
