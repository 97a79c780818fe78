"""Converters to the canonical tables: small hand-made inputs, every error path."""

from __future__ import annotations

from math import comb

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import prefstat
from prefstat import ComparisonData
from prefstat.convert import (
    collapse_graded,
    from_arena,
    from_arena_onehot,
    from_codes,
    from_counts,
    from_graded,
    from_matrix,
    from_multi_annotator,
    from_rlhf,
    from_wide_rankings,
    from_winner_loser,
    rankings_to_pairs,
    validate_rankings,
)
from prefstat.exceptions import (
    DataValidationError,
    EmptyDataError,
    InvalidItemError,
    InvalidOutcomeError,
    InvalidRankingError,
    InvalidWeightError,
    MissingColumnError,
)

TULU_LEVELS = ["a-is-better", "a-is-slightly-better", "tie", "b-is-slightly-better",
               "b-is-better"]


def battles() -> pd.DataFrame:
    return pd.DataFrame(
        {"question_id": [10, 11, 12, 13],
         "model_a": ["gpt", "gpt", "llama", "claude"],
         "model_b": ["llama", "claude", "claude", "gpt"],
         "winner": ["model_a", "model_b", "tie", "tie (bothbad)"],
         "judge": ["j1", "j2", "j1", "j2"]},
        index=[5, 6, 7, 8],
    )


# ------------------------------------------------------------------ shared rules
def test_converters_are_pure():
    raw = battles()
    before = raw.copy()
    from_arena(raw)
    pd.testing.assert_frame_equal(raw, before)


def test_not_a_dataframe():
    with pytest.raises(DataValidationError, match="expects a pandas DataFrame"):
        from_arena([{"model_a": "x"}])


def test_empty_table():
    with pytest.raises(EmptyDataError, match="no rows"):
        from_arena(battles().iloc[:0])


def test_missing_column_names_argument():
    with pytest.raises(MissingColumnError, match=r"'outcome_col' \(argument winner=\)"):
        from_arena(battles(), winner="outcome_col")


def test_one_column_two_roles():
    with pytest.raises(DataValidationError, match="two roles"):
        from_arena(battles(), model_b="model_a")


def test_kept_column_clashing_with_canonical_name():
    raw = battles().assign(outcome="something")
    with pytest.raises(DataValidationError, match=r"'outcome'.*Rename"):
        from_arena(raw)
    # Leaving it out explicitly works.
    assert "outcome" in from_arena(raw, keep=["question_id"]).columns


def test_keep_unknown_or_consumed_column():
    with pytest.raises(MissingColumnError, match="keep= names column"):
        from_arena(battles(), keep=["nope"])
    with pytest.raises(DataValidationError, match="already reads"):
        from_arena(battles(), keep=["winner"])


def test_missing_item_label_is_an_error():
    raw = battles()
    raw.loc[6, "model_b"] = None
    with pytest.raises(InvalidItemError, match=r"'model_b' is missing in 1 row\(s\): 6"):
        from_arena(raw)


def test_self_comparison_is_an_error():
    raw = battles()
    raw.loc[7, "model_b"] = "llama"
    with pytest.raises(InvalidItemError, match=r"same item.*rows 7"):
        from_arena(raw)


# ------------------------------------------------------------------------ arena
def test_from_arena_maps_every_winner():
    out = from_arena(battles(), judge="judge")
    assert out["outcome"].tolist() == ["a", "b", "tie", "tie_bothbad"]
    assert out.columns.tolist() == ["item_a", "item_b", "outcome", "rater", "question_id"]
    assert out.index.tolist() == [5, 6, 7, 8]
    assert out["rater"].tolist() == ["j1", "j2", "j1", "j2"]
    data = ComparisonData.from_frame(out, rater="rater")
    assert data.outcome_counts().tolist() == [1.0, 1.0, 1.0, 1.0]
    assert data.n_raters == 2


def test_from_arena_keep_subset():
    out = from_arena(battles(), keep=["question_id"])
    assert out.columns.tolist() == ["item_a", "item_b", "outcome", "question_id"]


def test_from_arena_unknown_winner_is_never_a_tie():
    raw = battles()
    raw.loc[[6, 8], "winner"] = ["model_c", "Tie"]
    with pytest.raises(InvalidOutcomeError, match=r"2 value\(s\) with no code: 'model_c', "
                       r"'Tie' \(in rows 6, 8\).*never maps an unknown value to a tie"):
        from_arena(raw)


def test_from_arena_missing_winner():
    raw = battles()
    raw.loc[5, "winner"] = np.nan
    with pytest.raises(InvalidOutcomeError, match=r"'winner' is missing in 1 row\(s\): 5"):
        from_arena(raw)


def onehot() -> pd.DataFrame:
    return pd.DataFrame({"id": [1, 2, 3], "model_a": ["x", "x", "y"],
                         "model_b": ["y", "z", "z"], "winner_model_a": [1, 0, 0],
                         "winner_model_b": [0, 1, 0], "winner_tie": [0, 0, 1]})


def test_from_arena_onehot():
    out = from_arena_onehot(onehot())
    assert out["outcome"].tolist() == ["a", "b", "tie"]
    assert out.columns.tolist() == ["item_a", "item_b", "outcome", "id"]
    ComparisonData.from_frame(out)


def test_from_arena_onehot_booleans_and_no_tie_column():
    raw = onehot().iloc[:2].drop(columns="winner_tie")
    raw[["winner_model_a", "winner_model_b"]] = raw[["winner_model_a",
                                                     "winner_model_b"]].astype(bool)
    assert from_arena_onehot(raw, tie=None)["outcome"].tolist() == ["a", "b"]


@pytest.mark.parametrize(
    ("row", "values", "fragment"),
    [
        (1, [1, 1, 0], r"do not have exactly one.*: 1 \(number set: 2\)"),
        (2, [0, 0, 0], r"do not have exactly one.*: 2 \(number set: 0\)"),
        (0, [2, 0, 0], r"values other than 0/1.*: 0 \(values 2.0\)"),
        (0, [np.nan, 0, 1], r"values other than 0/1.*: 0"),
    ],
)
def test_from_arena_onehot_errors(row, values, fragment):
    raw = onehot().astype({"winner_model_a": float})
    raw.loc[row, ["winner_model_a", "winner_model_b", "winner_tie"]] = values
    with pytest.raises(InvalidOutcomeError, match=fragment):
        from_arena_onehot(raw)


def test_from_arena_onehot_text_indicator():
    raw = onehot().astype({"winner_tie": str})
    with pytest.raises(InvalidOutcomeError, match="'winner_tie' has dtype"):
        from_arena_onehot(raw)


# -------------------------------------------------------------- generic codes
def test_from_codes():
    raw = pd.DataFrame({"A": ["x", "y", "x"], "B": ["y", "z", "z"], "ans": ["a", "s", "b"],
                        "worker": [1, 2, 3]})
    out = from_codes(raw, "ans", {"a": "a", "b": "b", "s": "tie"}, item_a="A", item_b="B",
                     rater="worker")
    assert out["outcome"].tolist() == ["a", "tie", "b"]
    assert out.columns.tolist() == ["item_a", "item_b", "outcome", "rater"]
    ComparisonData.from_frame(out, rater="rater")


def test_from_codes_errors():
    raw = pd.DataFrame({"item_a": ["x", "y"], "item_b": ["y", "z"], "ans": ["a", "d"]})
    with pytest.raises(InvalidOutcomeError, match=r"with no code: 'd' \(in rows 1\)"):
        from_codes(raw, "ans", {"a": "a", "b": "b"})
    with pytest.raises(InvalidOutcomeError, match=r"maps \('d', 'draw'\)"):
        from_codes(raw, "ans", {"a": "a", "d": "draw"})


# -------------------------------------------------------------- winner / loser
def test_from_winner_loser():
    raw = pd.DataFrame({"assessor": [1, 1, 2], "bottom_item": [5, 10, 5],
                        "top_item": [1, 12, 1]})
    out = from_winner_loser(raw, winner="top_item", loser="bottom_item", rater="assessor")
    assert out["item_a"].tolist() == [1, 12, 1]
    assert out["item_b"].tolist() == [5, 10, 5]
    assert set(out["outcome"]) == {"a"}
    data = ComparisonData.from_frame(out, rater="rater")
    assert data.outcome_counts()["a"] == 3


def test_from_winner_loser_same_item():
    raw = pd.DataFrame({"winner": ["x", "y"], "loser": ["y", "y"]})
    with pytest.raises(InvalidItemError, match=r"rows 1"):
        from_winner_loser(raw)


# ------------------------------------------------------------------------ RLHF
def test_from_rlhf_renames_prompt():
    raw = pd.DataFrame({"instruction": ["q1", "q1"], "good": ["r1", "r2"],
                        "bad": ["r3", "r4"], "source": ["s", "t"]})
    out = from_rlhf(raw, chosen="good", rejected="bad", prompt="instruction")
    assert out.columns.tolist() == ["item_a", "item_b", "outcome", "prompt", "source"]
    assert out["prompt"].tolist() == ["q1", "q1"]
    assert set(out["outcome"]) == {"a"}
    ComparisonData.from_frame(out)


def test_from_rlhf_without_prompt():
    raw = pd.DataFrame({"chosen": ["Human: hi Assistant: hello"],
                        "rejected": ["Human: hi Assistant: go away"]})
    out = from_rlhf(raw, prompt=None)
    assert out.columns.tolist() == ["item_a", "item_b", "outcome"]


def test_from_rlhf_prompt_column_clash_and_identical_texts():
    raw = pd.DataFrame({"q": ["p"], "prompt": ["p2"], "chosen": ["x"], "rejected": ["y"]})
    with pytest.raises(DataValidationError, match=r"'prompt'.*Rename"):
        from_rlhf(raw, prompt="q")
    same = pd.DataFrame({"prompt": ["p"], "chosen": ["x"], "rejected": ["x"]})
    with pytest.raises(InvalidItemError, match="same item"):
        from_rlhf(same)


# ------------------------------------------------------------- multi annotator
PANDALM_CODES = {0: "tie", 1: "a", 2: "b"}


def pandalm() -> pd.DataFrame:
    return pd.DataFrame({"m1": ["opt", "llama"], "m2": ["bloom", "opt"],
                         "annotator1": [1, 0], "annotator2": [2, 0], "annotator3": [1, 1],
                         "note": ["n0", "n1"]}, index=["u0", "u1"])


def test_from_multi_annotator():
    raw = pandalm()
    out = from_multi_annotator(raw, ["annotator1", "annotator2", "annotator3"],
                               PANDALM_CODES, item_a="m1", item_b="m2")
    assert len(out) == 6
    assert out.columns.tolist() == ["item_a", "item_b", "outcome", "rater", "unit", "note"]
    assert out["outcome"].tolist() == ["a", "b", "a", "tie", "tie", "a"]
    assert out["rater"].tolist() == ["annotator1", "annotator2", "annotator3"] * 2
    assert out["unit"].tolist() == ["u0"] * 3 + ["u1"] * 3
    assert out["note"].tolist() == ["n0"] * 3 + ["n1"] * 3
    assert ComparisonData.from_frame(out, rater="rater").n_raters == 3


def test_from_multi_annotator_unknown_code_names_cell():
    raw = pandalm()
    raw.loc["u1", "annotator2"] = 3
    with pytest.raises(InvalidOutcomeError, match=r"with no code: 3 \(in rows \('u1', "
                       r"'annotator2'\)\)"):
        from_multi_annotator(raw, ["annotator1", "annotator2"], PANDALM_CODES,
                             item_a="m1", item_b="m2")


def test_from_multi_annotator_missing_cells():
    raw = pandalm().astype({"annotator2": float})
    raw.loc["u0", "annotator2"] = np.nan
    cols = ["annotator1", "annotator2"]
    with pytest.raises(InvalidOutcomeError, match=r"missing in 1 row\(s\): \('u0', "):
        from_multi_annotator(raw, cols, PANDALM_CODES, item_a="m1", item_b="m2")
    out = from_multi_annotator(raw, cols, PANDALM_CODES, item_a="m1", item_b="m2",
                               missing="drop")
    assert out["rater"].tolist() == ["annotator1", "annotator1", "annotator2"]
    assert out["unit"].tolist() == ["u0", "u1", "u1"]


def test_from_multi_annotator_bad_arguments():
    with pytest.raises(DataValidationError, match="non-empty list"):
        from_multi_annotator(pandalm(), "annotator1", PANDALM_CODES, item_a="m1",
                             item_b="m2")
    with pytest.raises(DataValidationError, match="missing="):
        from_multi_annotator(pandalm(), ["annotator1"], PANDALM_CODES, item_a="m1",
                             item_b="m2", missing="skip")


@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(st.sampled_from([0, 1, 2]), min_size=3, max_size=3), min_size=1,
                max_size=20))
def test_from_multi_annotator_counts(labels):
    block = np.array(labels)
    raw = pd.DataFrame(block, columns=["r1", "r2", "r3"]).assign(item_a="x", item_b="y")
    out = from_multi_annotator(raw, ["r1", "r2", "r3"], PANDALM_CODES)
    assert len(out) == block.size
    expected = pd.Series(block.ravel()).map(PANDALM_CODES).value_counts()
    pd.testing.assert_series_equal(out["outcome"].value_counts(), expected,
                                   check_index_type=False, check_names=False)


# ----------------------------------------------------------------------- graded
def graded_raw() -> pd.DataFrame:
    return pd.DataFrame({"model_a": ["x", "x", "y", "z"], "model_b": ["y", "z", "z", "x"],
                         "preference": ["a-is-better", "tie", "b-is-slightly-better",
                                        "b-is-better"],
                         "evaluator": ["e1", "e2", "e1", "e2"]})


def test_from_graded_is_the_canonical_graded_outcome():
    out = from_graded(graded_raw(), "preference", TULU_LEVELS, item_a="model_a",
                      item_b="model_b", rater="evaluator")
    col = out["outcome"]
    assert isinstance(col.dtype, pd.CategoricalDtype) and col.cat.ordered
    assert col.cat.categories.tolist() == TULU_LEVELS
    data = ComparisonData.from_frame(out, rater="rater")
    assert data.is_graded
    assert data.grade.tolist() == [2, 0, -1, -2]
    assert list(data.grade_levels) == TULU_LEVELS


def test_from_graded_errors():
    raw = graded_raw()
    raw.loc[1, "preference"] = "a-is-much-better"
    with pytest.raises(InvalidOutcomeError, match=r"not in levels=: 'a-is-much-better' "
                       r"\(in rows 1\)"):
        from_graded(raw, "preference", TULU_LEVELS, item_a="model_a", item_b="model_b")
    raw.loc[1, "preference"] = np.nan
    with pytest.raises(InvalidOutcomeError, match=r"missing in 1 row\(s\): 1"):
        from_graded(raw, "preference", TULU_LEVELS, item_a="model_a", item_b="model_b")


@pytest.mark.parametrize("levels", [["a"], ["a", "b", "a"], "abc", ["a", None, "b"]])
def test_from_graded_bad_levels(levels):
    raw = pd.DataFrame({"item_a": ["x"], "item_b": ["y"], "g": ["a"]})
    with pytest.raises(InvalidOutcomeError, match="levels="):
        from_graded(raw, "g", levels)


def test_collapse_graded_odd_and_even_scales():
    out = from_graded(graded_raw(), "preference", TULU_LEVELS, item_a="model_a",
                      item_b="model_b")
    nominal = collapse_graded(out)
    assert nominal["outcome"].tolist() == ["a", "tie", "b", "b"]
    assert out["outcome"].dtype == "category"  # the input is not modified
    # Agrees with the nominal code ComparisonData derives from the grade.
    np.testing.assert_array_equal(ComparisonData.from_frame(nominal).outcome,
                                  ComparisonData.from_frame(out).outcome)
    four = pd.DataFrame({"item_a": ["x"] * 4, "item_b": ["y"] * 4,
                         "g": ["A>>B", "A>B", "A<B", "A<<B"]})
    even = collapse_graded(from_graded(four, "g", ["A>>B", "A>B", "A<B", "A<<B"]))
    assert even["outcome"].tolist() == ["a", "a", "b", "b"]


def test_collapse_graded_needs_graded_outcome():
    raw = pd.DataFrame({"item_a": ["x"], "item_b": ["y"], "outcome": ["a"]})
    with pytest.raises(InvalidOutcomeError, match="not an ordered categorical"):
        collapse_graded(raw)


# ----------------------------------------------------------------------- counts
def test_from_counts():
    raw = pd.DataFrame({"i": [1, 1, 2], "j": [2, 3, 3], "w_ij": [19, 0, 0],
                        "w_ji": [22, 5, 0], "t_ij": [16, 0, 0], "note": ["p", "q", "r"]})
    out = from_counts(raw, "i", "j", "w_ij", "w_ji", ties="t_ij")
    assert out["outcome"].tolist() == ["a", "b", "tie", "b"]
    assert out["weight"].tolist() == [19.0, 22.0, 16.0, 5.0]
    assert out["note"].tolist() == ["p", "p", "p", "q"]
    data = ComparisonData.from_frame(out, weight="weight")
    assert data.outcome_counts().tolist() == [19.0, 27.0, 16.0, 0.0]


@pytest.mark.parametrize(
    ("value", "fragment"),
    [(-1, r"'w_ji' has 1 missing, infinite or negative value\(s\) in rows 1"),
     (np.nan, r"'w_ji' has 1 missing"), (np.inf, r"'w_ji' has 1 missing")],
)
def test_from_counts_bad_counts(value, fragment):
    raw = pd.DataFrame({"item_a": ["x", "y"], "item_b": ["y", "z"], "wins_a": [1, 2],
                        "w_ji": [0.0, 0.0]})
    raw.loc[1, "w_ji"] = value
    with pytest.raises(InvalidWeightError, match=fragment):
        from_counts(raw, wins_b="w_ji")


def test_from_counts_all_zero():
    raw = pd.DataFrame({"item_a": ["x"], "item_b": ["y"], "wins_a": [0], "wins_b": [0]})
    with pytest.raises(EmptyDataError, match="all zero"):
        from_counts(raw)
    with pytest.raises(EmptyDataError, match="all zero"):
        from_matrix(pd.DataFrame([[0, 0], [0, 0]], index=["x", "y"], columns=["x", "y"]))


def test_from_wide_rankings_nullable_ranks():
    raw = pd.DataFrame({"A": [1, 2], "B": [2, pd.NA], "C": [3, 1]}).astype("Int64")
    out = from_wide_rankings(raw, items=list("ABC"), blank=np.nan)
    assert out["rank"].tolist() == [1, 2, 3, 2, 1]
    assert out["rank"].dtype == np.int64


def test_from_counts_text_counts():
    raw = pd.DataFrame({"item_a": ["x"], "item_b": ["y"], "wins_a": ["3"], "wins_b": [1]})
    with pytest.raises(InvalidWeightError, match="'wins_a' has dtype"):
        from_counts(raw)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5), st.integers(0, 5)),
                min_size=1, max_size=15))
def test_from_counts_preserves_totals(counts):
    block = np.array(counts)
    assume(block.any())  # all-zero counts are an EmptyDataError (tested above)
    raw = pd.DataFrame(block, columns=["wins_a", "wins_b", "ties"]).assign(
        item_a="x", item_b="y")
    out = from_counts(raw, ties="ties")
    assert len(out) == np.count_nonzero(block)
    totals = out.groupby("outcome")["weight"].sum()
    for name, col in (("a", 0), ("b", 1), ("tie", 2)):
        assert totals.get(name, 0.0) == block[:, col].sum()


# ----------------------------------------------------------------------- matrix
def test_from_matrix_aligns_by_label():
    m = pd.DataFrame([[0, 3, 1], [2, 0, 0], [4, 5, np.nan]], index=["x", "y", "z"],
                     columns=["x", "y", "z"])
    out = from_matrix(m[["z", "x", "y"]])  # column order does not matter
    assert list(zip(out["item_a"], out["item_b"], out["weight"], strict=True)) == [
        ("x", "y", 3.0), ("x", "z", 1.0), ("y", "x", 2.0), ("z", "x", 4.0), ("z", "y", 5.0)]
    assert set(out["outcome"]) == {"a"}
    ComparisonData.from_frame(out, weight="weight")


@pytest.mark.parametrize(
    ("matrix", "error", "fragment"),
    [
        (pd.DataFrame([[1, 2], [3, 0]], index=["x", "y"], columns=["x", "y"]),
         InvalidWeightError, r"diagonal must be 0 or missing.*1.0 for item\(s\) 'x'"),
        (pd.DataFrame([[0, -2], [3, 0]], index=["x", "y"], columns=["x", "y"]),
         InvalidWeightError, r"\('x', 'y'\) \(values -2.0\)"),
        (pd.DataFrame([[0, np.nan], [3, 0]], index=["x", "y"], columns=["x", "y"]),
         InvalidWeightError, "Fill pairs never compared with 0"),
        (pd.DataFrame([[0, 2], [3, 0]], index=["x", "y"], columns=["x", "w"]),
         DataValidationError, "only on the index: 'y', only on the columns: 'w'"),
        (pd.DataFrame([[0, 2, 1], [3, 0, 1]], index=["x", "y"], columns=["x", "y", "z"]),
         DataValidationError, r"shape \(2, 3\)"),
        (pd.DataFrame([[0, 2], [3, 0]], index=["x", "x"], columns=["x", "y"]),
         DataValidationError, "appear more than once"),
        (pd.DataFrame([[0, "2"], [3, 0]], index=["x", "y"], columns=["x", "y"]),
         InvalidWeightError, "not numeric"),
    ],
)
def test_from_matrix_errors(matrix, error, fragment):
    with pytest.raises(error, match=fragment):
        from_matrix(matrix)


@settings(max_examples=50, deadline=None)
@given(st.integers(2, 6).flatmap(
    lambda n: st.lists(st.integers(0, 4), min_size=n * n, max_size=n * n)))
def test_from_matrix_round_trip(cells):
    n = int(np.sqrt(len(cells)))
    values = np.array(cells, dtype=float).reshape(n, n)
    np.fill_diagonal(values, 0)
    assume(values.any())  # an all-zero matrix is an EmptyDataError (tested above)
    labels = [f"i{k}" for k in range(n)]
    m = pd.DataFrame(values, index=labels, columns=labels)
    out = from_matrix(m)
    back = out.pivot_table(index="item_a", columns="item_b", values="weight", aggfunc="sum")
    back = back.reindex(index=labels, columns=labels).fillna(0.0)
    np.testing.assert_array_equal(back.to_numpy(), values)


# --------------------------------------------------------------------- rankings
def test_validate_rankings_accepts_dense_and_competition_ranks():
    raw = pd.DataFrame({"r": [1, 1, 1, 2, 2, 2], "it": list("xyzxyz"),
                        "rk": [1.0, 1.0, 2.0, 1.0, 1.0, 3.0], "judge": list("aaabbb")})
    out = validate_rankings(raw, ranking="r", item="it", rank="rk")
    assert out.columns.tolist() == ["ranking_id", "item", "rank", "judge"]
    assert out["rank"].dtype == np.int64
    assert out["rank"].tolist() == [1, 1, 2, 1, 1, 3]


@pytest.mark.parametrize(
    ("ranks", "error", "fragment"),
    [
        ([1, 2, 4], InvalidRankingError, r"gaps.*1: \[1, 2, 4\].*gaps='rerank'"),
        ([2, 2, 3], InvalidRankingError, r"gaps.*1: \[2, 2, 3\]"),
        ([0, 1, 2], InvalidRankingError, r"non-positive.*values 0, rows 0"),
        ([-1, 1, 2], InvalidRankingError, r"values -1, rows 0.*blank="),
        ([1.5, 1, 2], InvalidRankingError, r"non-integer.*values 1.5"),
        ([np.nan, 1, 2], InvalidRankingError, r"missing.*rows 0"),
        (["1", "2", "3"], InvalidRankingError, "ranks must be whole numbers"),
        ([True, False, True], InvalidRankingError, "ranks must be whole numbers"),
    ],
)
def test_validate_rankings_bad_ranks(ranks, error, fragment):
    raw = pd.DataFrame({"ranking_id": [1, 1, 1], "item": list("xyz"), "rank": ranks})
    with pytest.raises(error, match=fragment):
        validate_rankings(raw)


def test_validate_rankings_rerank():
    raw = pd.DataFrame({"ranking_id": [1, 1, 1, 1], "item": list("wxyz"),
                        "rank": [5, 2, 5, 4]})
    assert validate_rankings(raw, gaps="rerank")["rank"].tolist() == [3, 1, 3, 2]
    with pytest.raises(DataValidationError, match="gaps="):
        validate_rankings(raw, gaps="dense")


def test_validate_rankings_structure_errors():
    base = pd.DataFrame({"ranking_id": [1, 1, 2, 2], "item": list("xyxy"),
                         "rank": [1, 2, 1, 2]})
    with pytest.raises(InvalidRankingError, match=r"occur more than once: \(2, 'x'\)"):
        validate_rankings(base.assign(item=list("xyxx")))
    with pytest.raises(InvalidRankingError, match="rank a single item: 3"):
        validate_rankings(base.assign(ranking_id=[1, 1, 1, 3], item=list("xyzx"),
                                       rank=[1, 2, 3, 1]))
    with pytest.raises(InvalidRankingError, match=r"'ranking_id' is missing in 1 row\(s\): 3"):
        validate_rankings(base.assign(ranking_id=[1, 1, 2, np.nan]))
    with pytest.raises(InvalidItemError, match=r"'item' is missing in 1 row\(s\): 0"):
        validate_rankings(base.assign(item=[None, "y", "x", "y"]))
    with pytest.raises(EmptyDataError, match="no rows"):
        validate_rankings(base.iloc[:0])
    with pytest.raises(DataValidationError, match=r"'item'.*Rename"):
        validate_rankings(base.rename(columns={"item": "it"}).assign(item=0), item="it")


@st.composite
def _ranking_tables(draw):
    """Long ranking tables in any row order; ranks may tie or skip values, items repeat."""
    n_rankings = draw(st.integers(1, 6))
    rows = []
    for r in range(n_rankings):
        size = draw(st.integers(1, 5))
        items = draw(st.lists(st.sampled_from("abcdefg"), min_size=size, max_size=size,
                              unique=True))
        scores = pd.Series(draw(st.lists(st.integers(1, 4), min_size=size, max_size=size)))
        # dense ranks, competition ranks, or the scores as they are (gaps possible)
        method = draw(st.sampled_from(["dense", "min", None]))
        ranks = scores if method is None else scores.rank(method=method).astype(int)
        rows += [(f"r{r}", i, int(k)) for i, k in zip(items, ranks)]
        if draw(st.integers(0, 9)) == 0:  # now and then an item ranked twice
            rows.append((f"r{r}", items[0], 1))
    order = draw(st.permutations(range(len(rows))))
    return pd.DataFrame([rows[i] for i in order], columns=["ranking_id", "item", "rank"])


@settings(max_examples=200, deadline=None)
@given(_ranking_tables())
def test_validate_rankings_agrees_with_pandas_groupby(raw):
    # Reference: the checks written with pandas duplicated / groupby (the
    # implementation before ranks were computed from integer codes and one sort).
    group = raw.groupby("ranking_id", sort=False)["rank"]
    dense = group.rank(method="dense").astype(np.int64)
    lowest = group.rank(method="min").astype(np.int64)
    ok = pd.DataFrame({"d": raw["rank"] == dense, "c": raw["rank"] == lowest}).groupby(
        raw["ranking_id"], sort=False).all()
    if raw.duplicated(["ranking_id", "item"]).any():
        expected = "occur more than once"
    elif (group.transform("size") < 2).any():
        expected = "rank a single item"
    else:
        expected = None
    for gaps in ("error", "rerank"):
        broken = gaps == "error" and not (ok["d"] | ok["c"]).all()
        if expected is not None or broken:
            with pytest.raises(InvalidRankingError, match=expected or "gaps in their ranks"):
                validate_rankings(raw, gaps=gaps)
            continue
        out = validate_rankings(raw, gaps=gaps)
        want = dense if gaps == "rerank" else raw["rank"]
        np.testing.assert_array_equal(out["rank"].to_numpy(), want.to_numpy())
        pd.testing.assert_index_equal(out.index, raw.index)


def test_from_wide_rankings_items_layout():
    salad = pd.DataFrame({"A": [1, 2], "B": [2, 1], "C": [3, 3], "D": [4, 4],
                          "judge": [11, 12]})
    out = from_wide_rankings(salad, items=list("ABCD"), ranking_id="judge")
    assert out.columns.tolist() == ["ranking_id", "item", "rank"]
    assert out["ranking_id"].tolist() == [11] * 4 + [12] * 4
    assert out["item"].tolist() == list("ABCD") * 2
    assert out["rank"].tolist() == [1, 2, 3, 4, 2, 1, 3, 4]
    validate_rankings(out)


def test_from_wide_rankings_positions_layout_with_nan_blank():
    raw = pd.DataFrame({"first": ["x", "z"], "second": ["y", "x"], "third": ["z", np.nan]},
                       index=["r1", "r2"])
    with pytest.raises(InvalidItemError, match=r"\('r2', 'third'\)"):
        from_wide_rankings(raw, positions=["first", "second", "third"])
    out = from_wide_rankings(raw, positions=["first", "second", "third"], blank=np.nan)
    assert out["ranking_id"].tolist() == ["r1"] * 3 + ["r2"] * 2
    assert out["item"].tolist() == ["x", "y", "z", "z", "x"]
    assert out["rank"].tolist() == [1, 2, 3, 1, 2]


def test_from_wide_rankings_positions_blank_in_the_middle_is_a_gap():
    raw = pd.DataFrame({"p1": ["x"], "p2": [""], "p3": ["y"]})
    with pytest.raises(InvalidRankingError, match=r"gaps.*\[1, 3\]"):
        from_wide_rankings(raw, positions=["p1", "p2", "p3"], blank="")


def wmt_like() -> pd.DataFrame:
    return pd.DataFrame({
        "judgeId": ["J1", "J2", "J1"],
        "system1Id": ["s1", "s3", "s2"], "system1rank": [2, 1, -1],
        "system2Id": ["s2", "s1", "s3"], "system2rank": [1, -1, 3],
        "system3Id": ["s3", "s2", "s1"], "system3rank": [2, 3, 1],
    })


WMT_SLOTS = [(f"system{k}Id", f"system{k}rank") for k in (1, 2, 3)]


def test_from_wide_rankings_slots_layout_blank_is_explicit():
    with pytest.raises(InvalidRankingError, match=r"values -1, rows \(1, 'system2rank'\)"):
        from_wide_rankings(wmt_like(), slots=WMT_SLOTS, keep=["judgeId"])
    with pytest.raises(InvalidRankingError, match=r"gaps.*1: \[1, 3\]"):
        from_wide_rankings(wmt_like(), slots=WMT_SLOTS, keep=["judgeId"], blank=-1)
    out = from_wide_rankings(wmt_like(), slots=WMT_SLOTS, keep=["judgeId"], blank=-1,
                             gaps="rerank")
    assert out["ranking_id"].tolist() == [0, 0, 0, 1, 1, 2, 2]
    assert out["item"].tolist() == ["s1", "s2", "s3", "s3", "s2", "s3", "s1"]
    assert out["rank"].tolist() == [2, 1, 2, 1, 2, 2, 1]
    assert out["judgeId"].tolist() == ["J1"] * 3 + ["J2"] * 2 + ["J1"] * 2


def test_from_wide_rankings_short_rankings_are_an_error():
    raw = wmt_like()
    raw.loc[2, "system3rank"] = -1
    with pytest.raises(InvalidRankingError, match=r"1 ranking\(s\) have fewer than two .* "
                       r"blank=-1 .*ids 2"):
        from_wide_rankings(raw, slots=WMT_SLOTS, keep=["judgeId"], blank=-1)


def test_from_wide_rankings_argument_errors():
    raw = wmt_like()
    with pytest.raises(DataValidationError, match="exactly one of"):
        from_wide_rankings(raw)
    with pytest.raises(DataValidationError, match="exactly one of"):
        from_wide_rankings(raw, items=["system1rank"], positions=["system1Id"])
    with pytest.raises(DataValidationError, match="tuples"):
        from_wide_rankings(raw, slots=["system1Id", "system1rank"])
    with pytest.raises(InvalidRankingError, match="repeat: 'J1'"):
        from_wide_rankings(raw, slots=WMT_SLOTS, ranking_id="judgeId", blank=-1)
    with pytest.raises(MissingColumnError, match="system9rank"):
        from_wide_rankings(raw, items=["system9rank"])


def test_rankings_to_pairs():
    long = pd.DataFrame({"race": [1, 1, 1, 2, 2], "driver": ["a", "b", "c", "c", "a"],
                         "position": [1, 3, 1, 1, 2], "judge": ["j", "j", "j", "k", "k"],
                         "track": ["T1", "T1", "T1", "T2", "T2"]})
    out = rankings_to_pairs(long, ranking="race", item="driver", rank="position",
                            rater="judge")
    assert out.columns.tolist() == ["item_a", "item_b", "outcome", "ranking_id", "rater",
                                    "track"]
    assert list(zip(out["item_a"], out["item_b"], out["outcome"], strict=True)) == [
        ("a", "b", "a"), ("a", "c", "tie"), ("b", "c", "b"), ("c", "a", "a")]
    assert out["ranking_id"].tolist() == [1, 1, 1, 2]
    assert out["rater"].tolist() == ["j", "j", "j", "k"]
    ComparisonData.from_frame(out, rater="rater")


def test_rankings_to_pairs_item_level_columns_cannot_be_carried():
    long = pd.DataFrame({"ranking_id": [1, 1], "item": ["a", "b"], "rank": [1, 2],
                         "slot": [1, 2], "judge": ["j", "k"]})
    with pytest.raises(InvalidRankingError, match=r"'slot', 'judge'.*vary within a ranking"):
        rankings_to_pairs(long)
    with pytest.raises(InvalidRankingError, match=r"'judge'.*vary within a ranking"):
        rankings_to_pairs(long, rater="judge", keep=[])
    assert len(rankings_to_pairs(long, keep=[])) == 1


rankings_strategy = st.lists(
    st.lists(st.integers(1, 4), min_size=2, max_size=6), min_size=1, max_size=8
)


@settings(max_examples=100, deadline=None)
@given(rankings_strategy)
def test_rankings_to_pairs_properties(rankings):
    long = pd.DataFrame({
        "ranking_id": np.repeat(np.arange(len(rankings)), [len(r) for r in rankings]),
        "item": np.concatenate([np.arange(len(r)) for r in rankings]),
        "rank": np.concatenate(rankings),
    })
    long = validate_rankings(long, gaps="rerank")
    pairs = rankings_to_pairs(long)
    # k items give k (k - 1) / 2 pairs; tied groups of size m give m (m - 1) / 2 ties.
    assert len(pairs) == sum(comb(len(r), 2) for r in rankings)
    ties = sum(comb(m, 2) for r in rankings for m in np.unique(r, return_counts=True)[1])
    assert (pairs["outcome"] == "tie").sum() == ties
    # Every pair's outcome agrees with the original ranks; item_a precedes item_b.
    for (rid, a, b, outcome) in pairs[["ranking_id", "item_a", "item_b", "outcome"]].itertuples(
            index=False):
        ra, rb = rankings[rid][a], rankings[rid][b]
        assert a < b
        assert outcome == ("a" if ra < rb else "b" if ra > rb else "tie")


@settings(max_examples=50, deadline=None)
@given(st.lists(st.permutations([1, 2, 3, 4]), min_size=1, max_size=10))
def test_wide_items_layout_round_trips(rows):
    wide = pd.DataFrame(rows, columns=list("ABCD"))
    long = from_wide_rankings(wide, items=list("ABCD"))
    back = long.pivot(index="ranking_id", columns="item", values="rank")
    np.testing.assert_array_equal(back[list("ABCD")].to_numpy(), wide.to_numpy())
    assert len(rankings_to_pairs(long)) == 6 * len(rows)


def test_error_classes_are_exported():
    for cls in (InvalidRankingError, InvalidOutcomeError, InvalidWeightError):
        assert cls.__name__ in prefstat.__all__
