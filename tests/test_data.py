"""ComparisonData.from_frame: the bad-input catalogue and the happy paths.

Each bad input asserts the prefstat error class, the builtin it also is, and a
fragment of the message that tells the user what to change. The same catalogue
is documented in docs/user_guide/bad_input.rst. Happy paths compare the encoding
with the labels of the input table, not with stored outputs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from prefstat import (
    OUTCOMES,
    ComparisonData,
    DataValidationError,
    EmptyDataError,
    InvalidItemError,
    InvalidOutcomeError,
    InvalidWeightError,
    MissingColumnError,
    PrefstatError,
)

pa = pytest.importorskip("pyarrow")


def table(**columns) -> pd.DataFrame:
    """A small valid table; keyword arguments replace or add columns."""
    base = {"item_a": ["x", "y", "z"], "item_b": ["y", "z", "x"], "outcome": ["a", "b", "tie"]}
    base.update(columns)
    return pd.DataFrame(base)


def obj(values) -> pd.Series:
    """An object column holding exactly these Python values."""
    return pd.Series(values, dtype=object)


# (id, frame, from_frame keyword arguments, error class, builtin, message fragments)
BAD_INPUTS = [
    ("not a DataFrame", {"item_a": ["x"], "item_b": ["y"], "outcome": ["a"]}, {},
     DataValidationError, ValueError, ["argument df", "pandas DataFrame", "got dict"]),
    ("missing column", table(), {"outcome": "winner"},
     MissingColumnError, KeyError, ["'winner'", "outcome=", "available columns"]),
    ("duplicate column names",
     pd.DataFrame([["x", "y", "a", "z"]], columns=["item_a", "item_b", "outcome", "item_a"]), {},
     DataValidationError, ValueError, ["duplicate column names", "'item_a'"]),
    ("same column for two roles", table(judge=["p", "q", "r"]), {"rater": "item_b"},
     DataValidationError, ValueError, ["two roles", "item_b= and rater="]),
    ("column argument not a name", table(), {"item_a": ["item_a"]},
     DataValidationError, ValueError, ["item_a=", "one column name", "got list"]),
    ("empty table", table().iloc[:0], {},
     EmptyDataError, ValueError, ["no rows", "at least one comparison"]),
    ("a single item", table(item_a=["x"] * 3, item_b=["x"] * 3), {},
     EmptyDataError, ValueError, ["only one item", "'x'", "at least two"]),
    ("NaN item", table(item_b=["y", None, "x"]), {},
     InvalidItemError, ValueError, ["'item_b'", "missing in 1 row", "Drop or fill"]),
    ("NaN outcome", table(outcome=["a", np.nan, "b"]), {},
     InvalidOutcomeError, ValueError, ["'outcome'", "missing in 1 row", "1"]),
    ("self-comparison", table(item_b=["y", "y", "x"]), {},
     InvalidItemError, ValueError, ["with itself", "rows 1", "'y'", "remove those rows"]),
    ("unknown outcome 'draw'", table(outcome=["a", "draw", "b"]), {},
     InvalidOutcomeError, ValueError, ["unknown value", "'draw'", "rows 1", "Allowed"]),
    ("unknown outcome 'A'", table(outcome=["A", "a", "b"]), {},
     InvalidOutcomeError, ValueError, ["'A'", "rows 0"]),
    ("unknown outcome 2", table(outcome=[1, 2, 0]), {},
     InvalidOutcomeError, ValueError, ["2", "rows 1"]),
    ("unknown outcome '1' (string)", table(outcome=["1", "a", "b"]), {},
     InvalidOutcomeError, ValueError, ["'1'", "rows 0"]),
    ("bool outcomes", table(outcome=[True, False, True]), {},
     InvalidOutcomeError, ValueError, ["True", "False", "booleans are not outcomes"]),
    ("bool among 1 (object)", table(outcome=obj([1, True, 0])), {},
     InvalidOutcomeError, ValueError, ["1 unknown value", "True", "rows 1"]),
    ("bool before 1 (object)", table(outcome=obj([True, 1, 0])), {},
     InvalidOutcomeError, ValueError, ["1 unknown value", "True", "rows 0)"]),
    ("False among 0 (object)", table(outcome=obj(["a", 0, False])), {},
     InvalidOutcomeError, ValueError, ["False", "rows 2"]),
    ("labels '1' and 1 in one column", table(item_a=obj(["1", 1, "z"])), {},
     InvalidItemError, ValueError, ["mix kinds", "str in column 'item_a'", "number", ".astype"]),
    ("labels '1' and 1 across item_a, item_b",
     table(item_a=["1", "2", "3"], item_b=[2, 3, 1]), {},
     InvalidItemError, ValueError, ["mix kinds", "column 'item_a'", "column 'item_b'"]),
    ("labels True and 1 across columns", table(item_a=[1, 2, 3], item_b=[2, True, 1]), {},
     InvalidItemError, ValueError, ["mix kinds", "bool in column 'item_b'", "True"]),
    ("negative weight", table(w=[1.0, -2.0, 1.0]), {"weight": "w"},
     InvalidWeightError, ValueError, ["'w'", "rows 1", "-2.0", ">= 0"]),
    ("NaN weight", table(w=[1.0, np.nan, 1.0]), {"weight": "w"},
     InvalidWeightError, ValueError, ["'w'", "rows 1", "nan"]),
    ("inf weight", table(w=[np.inf, 1.0, 1.0]), {"weight": "w"},
     InvalidWeightError, ValueError, ["rows 0", "inf", "finite"]),
    ("non-numeric weight", table(w=["1", "2", "3"]), {"weight": "w"},
     InvalidWeightError, ValueError, ["'w'", "dtype", "real numbers", "to_numeric"]),
    ("bool weight", table(w=[True, False, True]), {"weight": "w"},
     InvalidWeightError, ValueError, ["dtype bool", "not booleans"]),
    ("complex weight", table(w=[1 + 0j, 1 + 0j, 2 + 0j]), {"weight": "w"},
     InvalidWeightError, ValueError, ["complex128"]),
    ("NaN rater", table(r=["p", None, "q"]), {"rater": "r"},
     InvalidItemError, ValueError, ["rater column 'r'", "missing in 1 row"]),
    ("mixed-type raters", table(r=obj(["p", 7, "q"])), {"rater": "r"},
     InvalidItemError, ValueError, ["rater labels mix kinds", "7", "'p'"]),
    ("graded scale with one category",
     table(outcome=pd.Categorical(["same"] * 3, ordered=True)), {},
     InvalidOutcomeError, ValueError, ["1 category", "'same'", "at least two"]),
    ("graded NaN",
     table(outcome=pd.Categorical(["A>B", None, "A<B"], categories=["A>B", "A<B"],
                                  ordered=True)), {},
     InvalidOutcomeError, ValueError, ["graded outcome 'outcome'", "missing in 1 row", "1"]),
    ("items= missing a label", table(), {"items": ["x", "y"]},
     InvalidItemError, ValueError, ["not in the list given as items=", "'z'"]),
    ("items= with duplicates", table(), {"items": ["x", "y", "z", "y"]},
     InvalidItemError, ValueError, ["items=", "more than once", "'y'"]),
    ("items= with a missing label", table(), {"items": ["x", "y", "z", None]},
     InvalidItemError, ValueError, ["items=", "missing label", "position(s) 3"]),
    ("items= a string", table(), {"items": "xyz"},
     DataValidationError, ValueError, ["items=", "list of item labels", "got str"]),
    ("items= of another kind", table(item_a=[1, 2, 3], item_b=[2, 3, 1]),
     {"items": ["1", "2", "3"]},
     InvalidItemError, ValueError, ["mix kinds", "str in items="]),
]


@pytest.mark.parametrize(
    ("frame", "kwargs", "error", "builtin", "fragments"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_INPUTS],
)
def test_bad_input(frame, kwargs, error, builtin, fragments):
    with pytest.raises(error) as info:
        ComparisonData.from_frame(frame, **kwargs)
    assert isinstance(info.value, builtin)
    assert isinstance(info.value, PrefstatError)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_missing_column_message_is_readable():
    # KeyError's str() would be the repr of the message, with quotes and escapes.
    with pytest.raises(MissingColumnError) as info:
        ComparisonData.from_frame(table(), item_a="left")
    assert not str(info.value).startswith(('"', "'"))


def test_offending_rows_are_capped():
    n_bad = 12
    frame = pd.DataFrame({"item_a": ["x"] * n_bad, "item_b": ["y"] * n_bad,
                          "outcome": [f"draw{i}" for i in range(n_bad)]})
    with pytest.raises(InvalidOutcomeError, match=r"and 7 more"):
        ComparisonData.from_frame(frame)


# ------------------------------------------------------------------ happy paths
def expected_outcome(values) -> list[int]:
    """Independent reading of the documented codes."""
    names = {"a": "a", 1: "a", "b": "b", 0: "b", "tie": "tie", 0.5: "tie",
             "tie_bothbad": "tie_bothbad"}
    return [OUTCOMES.index(names[v]) for v in values]


def test_numeric_outcomes():
    values = [1, 0, 0.5]
    data = ComparisonData.from_frame(table(outcome=values))
    assert data.outcome.tolist() == expected_outcome(values)


def test_string_outcomes_and_labels():
    values = ["a", "b", "tie"]
    frame = table(outcome=values)
    data = ComparisonData.from_frame(frame)
    assert data.outcome.tolist() == expected_outcome(values)
    assert list(data.items) == sorted(set(frame.item_a) | set(frame.item_b))
    assert list(data.items[data.a]) == list(frame.item_a)
    assert list(data.items[data.b]) == list(frame.item_b)
    assert not data.weighted
    np.testing.assert_array_equal(data.weight, np.ones(len(frame)))


def test_mixed_string_and_number_outcome_codes():
    values = ["a", 0, 0.5]
    data = ComparisonData.from_frame(table(outcome=obj(values)))
    assert data.outcome.tolist() == expected_outcome(values)


def test_tie_bothbad():
    data = ComparisonData.from_frame(table(outcome=["tie_bothbad", "a", "tie_bothbad"]))
    assert data.outcome_counts()["tie_bothbad"] == 2


STRING_DTYPES = {
    "str": "str",
    "object": object,
    "arrow": pd.ArrowDtype(pa.string()),
    "category": "category",
}


@pytest.mark.parametrize("dtype_a", STRING_DTYPES.values(), ids=STRING_DTYPES.keys())
@pytest.mark.parametrize("dtype_b", STRING_DTYPES.values(), ids=STRING_DTYPES.keys())
def test_string_label_dtypes(dtype_a, dtype_b):
    frame = table(item_a=pd.Series(["x", "y", "z"], dtype=dtype_a),
                  item_b=pd.Series(["y", "z", "x"], dtype=dtype_b),
                  outcome=pd.Series(["a", "b", "tie"], dtype=dtype_a))
    data = ComparisonData.from_frame(frame)
    assert list(data.items) == ["x", "y", "z"]
    assert list(data.items[data.a]) == ["x", "y", "z"]
    assert list(data.items[data.b]) == ["y", "z", "x"]
    assert data.outcome.tolist() == expected_outcome(["a", "b", "tie"])


def test_categorical_labels_use_observed_values_only():
    categories = ["w", "x", "y", "z"]
    frame = table(item_a=pd.Categorical(["x", "y", "z"], categories=categories),
                  item_b=pd.Categorical(["y", "z", "x"], categories=categories[::-1]))
    data = ComparisonData.from_frame(frame)
    assert list(data.items) == ["x", "y", "z"]
    assert list(data.items[data.b]) == ["y", "z", "x"]


def test_integer_labels():
    frame = table(item_a=[10, 2, 33], item_b=[2, 33, 10])
    data = ComparisonData.from_frame(frame)
    assert list(data.items) == [2, 10, 33]
    assert list(data.items[data.a]) == [10, 2, 33]
    assert list(data.items[data.b]) == [2, 33, 10]


def test_integer_and_float_labels_compare_by_value():
    frame = table(item_a=[1, 2, 3], item_b=[2.0, 3.0, 1.0])
    data = ComparisonData.from_frame(frame)
    assert data.n_items == 3
    assert [float(v) for v in data.items[data.b]] == [2.0, 3.0, 1.0]


def test_weights():
    w = [0.5, 0.0, 3.0]
    data = ComparisonData.from_frame(table(w=w), weight="w")
    assert data.weighted
    np.testing.assert_array_equal(data.weight, w)
    totals = pd.Series(w).groupby(pd.Series(expected_outcome(["a", "b", "tie"]))).sum()
    counts = data.outcome_counts()
    for code, total in totals.items():
        assert counts.iloc[code] == total


def test_nullable_and_arrow_weights():
    for dtype in ("Int64", "Float64", pd.ArrowDtype(pa.float64())):
        w = pd.Series([1, 2, 3], dtype=dtype)
        data = ComparisonData.from_frame(table(w=w), weight="w")
        np.testing.assert_array_equal(data.weight, [1.0, 2.0, 3.0])


def test_items_with_an_extra_isolated_item():
    order = ["z", "x", "isolated", "y"]
    frame = table()
    data = ComparisonData.from_frame(frame, items=order)
    assert list(data.items) == order
    assert list(data.items[data.a]) == list(frame.item_a)
    assert list(data.items[data.b]) == list(frame.item_b)
    isolated = order.index("isolated")
    assert isolated not in set(data.a) | set(data.b)


def test_contest_columns_and_rows_kept():
    frame = table(r=["p", "q", "p"], venue=["lab", "web", "web"], score=[0.1, 0.2, 0.3])
    frame.index = pd.Index([101, 7, 55], name="judgement")
    data = ComparisonData.from_frame(frame, rater="r")
    assert data.rows.equals(frame.index)
    pd.testing.assert_frame_equal(data.contest, frame[["venue", "score"]])
    assert list(data.raters[data.rater]) == list(frame.r)


def test_no_contest_columns():
    assert ComparisonData.from_frame(table()).contest is None


# ---------------------------------------------------------------------- graded
def graded_frame(levels: list[str], picks: list[int]) -> pd.DataFrame:
    n = len(picks)
    items = ["x", "y", "z", "w"]
    return pd.DataFrame({
        "item_a": [items[i % 4] for i in range(n)],
        "item_b": [items[(i + 1) % 4] for i in range(n)],
        "outcome": pd.Categorical([levels[p] for p in picks], categories=levels, ordered=True),
    })


@pytest.mark.parametrize(
    ("levels", "grades"),
    [
        # Grades written out from the documented convention: the first category is the
        # strongest preference for item_a (largest positive grade); an odd scale's middle
        # category is the tie (grade 0); an even scale has no tie.
        (["A>>B", "A>B", "A=B", "A<B", "A<<B"], [2, 1, 0, -1, -2]),
        (["A>>B", "A>B", "A<B", "A<<B"], [2, 1, -1, -2]),
        (["A", "B"], [1, -1]),
    ],
    ids=["5-point", "4-point", "2-point"],
)
def test_graded_scale_sign_convention(levels, grades):
    picks = [0, 1, 2, 3, 4, 0, 4, 1][: 2 * len(levels)] + list(range(len(levels)))
    picks = [p % len(levels) for p in picks]
    frame = graded_frame(levels, picks)
    data = ComparisonData.from_frame(frame)
    assert data.is_graded
    assert list(data.grade_levels) == levels
    expected_grade = [grades[p] for p in picks]
    assert data.grade.tolist() == expected_grade
    nominal = ["a" if g > 0 else "b" if g < 0 else "tie" for g in expected_grade]
    assert data.outcome.tolist() == expected_outcome(nominal)


@pytest.mark.parametrize("n_levels", [4, 5])
def test_graded_pair_counts(n_levels):
    levels = [f"L{k}" for k in range(n_levels)]
    rng = np.random.default_rng(n_levels)
    picks = rng.integers(0, n_levels, 60).tolist()
    frame = graded_frame(levels, picks)
    data = ComparisonData.from_frame(frame)

    ordered = data.pair_counts(graded=True).to_frame()
    assert list(ordered.columns) == ["item_a", "item_b", *levels]
    expected = pd.crosstab([frame.item_a, frame.item_b], frame.outcome).astype(float)
    got = ordered.set_index(["item_a", "item_b"])[levels]
    got.columns.name = "outcome"
    pd.testing.assert_frame_equal(got, expected.reindex(columns=levels), check_names=False,
                                  check_index_type=False, check_column_type=False)

    # Unordered: a row shown as (j, i) with i < j counts at the mirrored level.
    lo = np.minimum(data.a, data.b)
    hi = np.maximum(data.a, data.b)
    position = np.asarray(frame.outcome.cat.codes)
    mirrored = np.where(data.a > data.b, n_levels - 1 - position, position)
    expected = pd.crosstab([data.items[lo], data.items[hi]],
                           pd.Categorical(np.asarray(levels)[mirrored], categories=levels))
    unordered = data.pair_counts(ordered=False, graded=True).to_frame()
    got = unordered.set_index(["item_a", "item_b"])[levels].to_numpy()
    np.testing.assert_array_equal(got, expected.reindex(columns=levels).to_numpy())


def test_graded_counts_need_graded_data():
    with pytest.raises(DataValidationError, match="graded outcome"):
        ComparisonData.from_frame(table()).pair_counts(graded=True)


def test_by_rater_needs_rater():
    with pytest.raises(DataValidationError, match="rater"):
        ComparisonData.from_frame(table()).pair_counts(by_rater=True)
