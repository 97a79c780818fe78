"""The fast path of label encoding: categorical and string columns factorised per column.

``_encoding.factorize_labels`` hands categorical and string-dtype columns to
``_factorize.factorize_each`` and checks only their distinct values. The
reference is the general path, ``_encoding._factorize_values``, run on the same
rows: codes, vocabulary (values and dtype) and error messages must be
identical.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prefstat import ComparisonData, InvalidItemError
from prefstat import _encoding as enc
from prefstat._factorize import factorize_each

try:
    HAS_PYARROW = importlib.util.find_spec("pyarrow") is not None
except ModuleNotFoundError:  # a parent package is absent (or import is blocked)
    HAS_PYARROW = False
HYPOTHESIS = settings(max_examples=150, deadline=None)
LABELS = ["a", "b", "c", "ab", "B", "é", "z9", ""]
DTYPES = ["category", "category+unused", "str", "string[python]"] + (
    ["string[pyarrow]", "arrow string", "arrow large_string"] if HAS_PYARROW else [])


def as_dtype(values, dtype, name):
    values = pd.Series(values, dtype=object, name=name)
    if dtype == "category":
        return values.astype("category")
    if dtype == "category+unused":
        categories = sorted(set(values) | {"unused", "zzz"}, reverse=True)
        return values.astype(pd.CategoricalDtype(categories))
    if dtype.startswith("arrow"):
        import pyarrow as pa

        kind = pa.large_string() if dtype.endswith("large_string") else pa.string()
        return values.astype(pd.ArrowDtype(kind))
    return values.astype(dtype)


def general(columns, categories=None):
    return enc._factorize_values(columns, "item", categories, "items")


def assert_same(fast, slow):
    (fast_codes, fast_vocab), (slow_codes, slow_vocab) = fast, slow
    pd.testing.assert_index_equal(fast_vocab, slow_vocab, exact=True)
    for f, s in zip(fast_codes, slow_codes):
        assert f.dtype == np.intp
        np.testing.assert_array_equal(f, s)


@HYPOTHESIS
@given(data=st.data(), n=st.integers(1, 40))
def test_fast_path_equals_general_path(data, n):
    a = data.draw(st.lists(st.sampled_from(LABELS), min_size=n, max_size=n))
    b = data.draw(st.lists(st.sampled_from(LABELS), min_size=n, max_size=n))
    columns = [as_dtype(a, data.draw(st.sampled_from(DTYPES)), "item_a"),
               as_dtype(b, data.draw(st.sampled_from(DTYPES)), "item_b")]
    categories = data.draw(st.one_of(
        st.none(), st.permutations(sorted(set(a) | set(b) | {"extra"}))))
    assert_same(enc.factorize_labels(columns, "item", categories),
                general(columns, categories))


@pytest.mark.parametrize("dtype", DTYPES)
def test_fast_path_is_taken(dtype):
    column = as_dtype(["x", "y", "x"], dtype, "item_a")
    local = factorize_each([column, column.rename("item_b")])
    assert local is not None
    codes, values = local[0]
    assert codes.tolist() == [0, 1, 0] and values.tolist() == ["x", "y"]


@pytest.mark.parametrize("columns", [
    [pd.Series(["x", "y"], dtype=object), pd.Series(["y", "x"], dtype=object)],
    [pd.Series([1, 2]), pd.Series([2, 1])],
    # Categories of different dtypes: the general path compares them as one numpy type.
    [pd.Series(pd.Categorical([1, 2])), pd.Series(pd.Categorical([2.0, 1.5]))],
    [pd.Series(pd.Categorical(["x"])), pd.Series([1])],
], ids=["object", "int64", "int and float categories", "categorical and int"])
def test_other_columns_take_the_general_path(columns):
    assert factorize_each(columns) is None


def test_numeric_categories_of_different_dtypes_match_the_general_path():
    columns = [pd.Series(pd.Categorical([1, 2, 3]), name="item_a"),
               pd.Series(pd.Categorical([2.0, 3.0, 1.5]), name="item_b")]
    assert_same(enc.factorize_labels(columns, "item"), general(columns))


@pytest.mark.parametrize("dtype", DTYPES)
def test_errors_are_the_general_paths(dtype):
    a = as_dtype(["q", "x", "r", "x"], dtype, "item_a")
    b = as_dtype(["x", "y", "s", "q"], dtype, "item_b")
    with pytest.raises(InvalidItemError) as fast:
        enc.factorize_labels([a, b], "item", ["x", "y"])
    with pytest.raises(InvalidItemError) as slow:
        general([a, b], ["x", "y"])
    assert str(fast.value) == str(slow.value)
    assert "'q', 'r', 's'" in str(fast.value)


def test_mixed_kinds_in_categories_give_the_general_paths_error():
    a = pd.Series(pd.Categorical(["x", 1, "y"]), name="item_a")
    b = pd.Series(pd.Categorical(["y", "x", 1]), name="item_b")
    with pytest.raises(InvalidItemError) as fast:
        enc.factorize_labels([a, b], "item")
    with pytest.raises(InvalidItemError) as slow:
        general([a, b])
    assert str(fast.value) == str(slow.value)
    assert "mix kinds" in str(fast.value)


def test_missing_labels_in_a_categorical_name_the_rows():
    df = pd.DataFrame({"item_a": pd.Categorical(["x", None, "y"]),
                       "item_b": pd.Categorical(["y", "x", "x"]), "outcome": ["a", "b", "a"]})
    with pytest.raises(InvalidItemError, match=r"'item_a' is missing in 1 row\(s\): 1\."):
        ComparisonData.from_frame(df)


def test_unused_categories_are_not_items():
    df = pd.DataFrame({"item_a": pd.Categorical(["y", "x"], categories=["w", "x", "y", "z"]),
                       "item_b": pd.Categorical(["x", "y"], categories=["z", "y", "x"]),
                       "outcome": ["a", "b"]})
    data = ComparisonData.from_frame(df)
    assert list(data.items) == ["x", "y"]
    assert data.a.tolist() == [1, 0] and data.b.tolist() == [0, 1]
