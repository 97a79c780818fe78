"""Converters on the real data sets in ``../shared/data`` (skipped where absent).

Every count is computed independently from the raw file (``value_counts`` of
the raw column, plain pandas arithmetic) or quoted from the data's README, so
a converter that drops, duplicates or remaps rows fails here.
"""

from __future__ import annotations

import json
from math import comb

import numpy as np
import pandas as pd
import pytest

from prefstat import ComparisonData, InvalidOutcomeError, InvalidRankingError
from prefstat.convert import (
    ARENA_WINNER_CODES,
    collapse_graded,
    from_arena,
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

TULU_LEVELS = ["a-is-better", "a-is-slightly-better", "tie", "b-is-slightly-better",
               "b-is-better"]


def test_tulu_graded(shared):
    raw = pd.read_csv(shared("llm/tulu1_human_eval.csv"))
    assert len(raw) == 1150  # README
    # The raw file has no missing and no unexpected preference labels.
    assert raw["preference"].notna().all()
    assert set(raw["preference"]) == set(TULU_LEVELS)
    out = from_graded(raw, "preference", TULU_LEVELS, item_a="model_a", item_b="model_b",
                      rater="evaluator")
    assert len(out) == len(raw)
    assert out.index.equals(raw.index)
    # Kept columns are carried unchanged: one completion_a is empty in the source.
    assert out["completion_a"].isna().sum() == raw["completion_a"].isna().sum() == 1
    assert out["rater"].nunique() == 16  # README
    counts = out["outcome"].value_counts()
    expected = raw["preference"].value_counts()
    assert counts.reindex(TULU_LEVELS).tolist() == expected.reindex(TULU_LEVELS).tolist()
    data = ComparisonData.from_frame(out, rater="rater")
    assert data.is_graded and data.n_raters == 16
    assert list(data.grade_levels) == TULU_LEVELS
    # Collapsing is explicit and adds up the "slightly" levels.
    nominal = collapse_graded(out)["outcome"].value_counts()
    assert nominal["a"] == expected["a-is-better"] + expected["a-is-slightly-better"]
    assert nominal["b"] == expected["b-is-better"] + expected["b-is-slightly-better"]
    assert nominal["tie"] == expected["tie"]


def test_pandalm_three_annotators(shared):
    with open(shared("llm/pandalm_testset_v1.json"), encoding="utf-8") as fh:
        raw = pd.DataFrame(json.load(fh))
    assert len(raw) == 999  # README
    # cmp_key names the two models, response1's first; model names contain no "_".
    models = raw["cmp_key"].str.split("_", expand=True)
    assert models.shape[1] == 2
    raw = raw.assign(model1=models[0], model2=models[1])
    annotators = ["annotator1", "annotator2", "annotator3"]
    codes = {0: "tie", 1: "a", 2: "b"}
    out = from_multi_annotator(raw, annotators, codes, item_a="model1", item_b="model2")
    assert len(out) == 999 * 3 == 2997
    raw_counts = pd.Series(raw[annotators].to_numpy().ravel()).value_counts()
    counts = out["outcome"].value_counts()
    for code, outcome in codes.items():
        assert counts[outcome] == raw_counts[code]
    assert out.groupby("rater").size().tolist() == [999, 999, 999]
    # The JSON holds 6 responses as booleans (true), not strings; they are kept as is.
    assert out["response1"].map(lambda v: isinstance(v, bool)).sum() == 3 * 4
    assert out["response2"].map(lambda v: isinstance(v, bool)).sum() == 3 * 2
    # README: all three annotators agree on 879 of 999 items.
    assert (out.groupby("unit")["outcome"].nunique() == 1).sum() == 879
    data = ComparisonData.from_frame(out, rater="rater")
    assert data.n_items == 5 and data.n_raters == 3


def test_arena_hard_battles(shared):
    raw = pd.read_json(shared("llm/arena_hard_battles.jsonl"), lines=True)
    assert len(raw) == 2136  # README
    out = from_arena(raw)
    assert len(out) == len(raw)
    assert out.columns.tolist() == ["item_a", "item_b", "outcome", "question_id"]
    expected = raw["winner"].map(ARENA_WINNER_CODES).value_counts()
    assert set(raw["winner"]) <= set(ARENA_WINNER_CODES)
    pd.testing.assert_series_equal(out["outcome"].value_counts(), expected,
                                   check_names=False, check_index_type=False)
    ComparisonData.from_frame(out)


def test_hh_rlhf_pairs(shared):
    raw = pd.read_json(shared("llm/hh_rlhf_harmless_base_test.jsonl.gz"), lines=True)
    assert len(raw) == 2312  # README
    out = from_rlhf(raw, prompt=None)
    assert len(out) == 2312
    assert out.columns.tolist() == ["item_a", "item_b", "outcome"]
    assert (out["item_a"] == raw["chosen"]).all() and (out["item_b"] == raw["rejected"]).all()
    assert (out["outcome"] == "a").all()
    data = ComparisonData.from_frame(out)
    assert data.n_items == pd.concat([raw["chosen"], raw["rejected"]]).nunique()


def test_wmt12_rankings_blanks_are_explicit(shared):
    raw = pd.read_csv(shared("rankings/wmt12_rnk_results.csv"))
    assert len(raw) == 12_339  # README: number of rankings
    slots = [(f"system{k}Id", f"system{k}rank") for k in range(1, 6)]
    rank_cols = [r for _, r in slots]
    ranks = raw[rank_cols].to_numpy()
    n_blank = int((ranks == -1).sum())
    assert n_blank > 0
    # -1 without blank= is a bad rank, not silently dropped.
    with pytest.raises(InvalidRankingError, match=rf"{n_blank} missing, non-positive.*-1"):
        from_wide_rankings(raw, slots=slots, keep=["judgeId"])
    # With blank=-1, rankings left with fewer than two ranked systems are reported.
    ranked = (ranks != -1).sum(axis=1)
    n_short = int((ranked < 2).sum())
    with pytest.raises(InvalidRankingError, match=rf"{n_short} ranking\(s\) have fewer than"):
        from_wide_rankings(raw, slots=slots, keep=["judgeId"], blank=-1)
    usable = raw[ranked >= 2]
    # WMT judges place systems on 1-5 freely: gapped ranks (e.g. 1, 2, 4) occur.
    with pytest.raises(InvalidRankingError, match="gaps="):
        from_wide_rankings(usable, slots=slots, keep=["judgeId"], blank=-1)
    long = from_wide_rankings(usable, slots=slots, keep=["judgeId", "srclang", "trglang"],
                              blank=-1, gaps="rerank")
    n_rankings = long["ranking_id"].nunique()
    assert n_rankings + n_short == 12_339
    assert len(long) == int((usable[rank_cols].to_numpy() != -1).sum())
    assert long["judgeId"].nunique() == raw["judgeId"].nunique() == 230  # README
    assert long["item"].nunique() == 39  # README: 39 systems
    validate_rankings(long)
    pairs = rankings_to_pairs(long, rater="judgeId")
    assert len(pairs) == sum(comb(int(k), 2) for k in ranked[ranked >= 2])
    data = ComparisonData.from_frame(pairs, rater="rater")
    assert data.n_raters == 230


def test_nascar_long_rankings(shared):
    raw = pd.read_csv(shared("rankings/nascar2002.csv"))
    out = validate_rankings(raw, ranking="race", item="driver", rank="position")
    assert len(out) == len(raw)
    assert out["ranking_id"].nunique() == 36  # README
    drivers = raw["driver"].nunique()
    assert out["item"].nunique() == drivers == 87
    # The README says 83 drivers: Hunter (2004) drops the 4 drivers who finished last
    # in every race they entered (their strength MLE is -infinity). The file has all 87.
    always_last = raw.groupby("driver")["position"].min() == raw.groupby("race")[
        "position"].max().max()
    assert drivers - int(always_last.sum()) == 83
    pairs = rankings_to_pairs(out)
    assert len(pairs) == sum(comb(int(k), 2) for k in raw.groupby("race").size())
    assert (pairs["outcome"] == "tie").sum() == 0
    assert ComparisonData.from_frame(pairs).n_items == 87


def test_salad_wide_rankings(shared):
    raw = pd.read_csv(shared("rankings/salad.csv"))
    out = from_wide_rankings(raw, items=list("ABCD"), ranking_id="judge")
    assert out["ranking_id"].nunique() == 32  # README
    assert len(out) == 32 * 4
    back = out.pivot(index="ranking_id", columns="item", values="rank")
    np.testing.assert_array_equal(back[list("ABCD")].to_numpy(), raw[list("ABCD")].to_numpy())


def test_urbano_crowd_judgements(shared):
    raw = pd.read_csv(shared("raters/urbano2010_judgments.csv"), encoding="latin-1")
    assert len(raw) == 2810 and raw["WorkerId"].nunique() == 79  # README
    codes = {"a": "a", "b": "b", "s": "tie"}
    n_missing = int(raw["Answer.radio"].isna().sum())
    assert n_missing == 5  # found in the file; the README does not mention them
    with pytest.raises(InvalidOutcomeError, match=rf"'Answer.radio' is missing in {n_missing}"):
        from_codes(raw, "Answer.radio", codes, item_a="Input.docA", item_b="Input.docB",
                   rater="WorkerId")
    answered = raw[raw["Answer.radio"].notna()]
    out = from_codes(answered, "Answer.radio", codes, item_a="Input.docA",
                     item_b="Input.docB", rater="WorkerId")
    assert len(out) == 2810 - n_missing
    expected = answered["Answer.radio"].map(codes).value_counts()
    pd.testing.assert_series_equal(out["outcome"].value_counts(), expected,
                                   check_names=False, check_index_type=False)
    assert out["rater"].nunique() == 79
    ComparisonData.from_frame(out, rater="rater")


def test_sounds_top_item_preferred(shared):
    raw = pd.read_csv(shared("raters/sounds.csv"))
    out = from_winner_loser(raw, winner="top_item", loser="bottom_item", rater="assessor")
    assert len(out) == 46 * 30 == len(raw)  # README: 46 assessors x 30 choices
    assert (out["item_a"] == raw["top_item"]).all()
    data = ComparisonData.from_frame(out, rater="rater")
    assert data.n_raters == 46 and data.n_items == 12
    assert data.outcome_counts()["a"] == len(raw)


def test_pudding_counts(shared):
    raw = pd.read_csv(shared("rankings/pudding.csv"))
    out = from_counts(raw, "i", "j", "w_ij", "w_ji", ties="t_ij", keep=[])
    assert out["weight"].sum() == raw["r_ij"].sum()  # r_ij = w_ij + w_ji + t_ij
    data = ComparisonData.from_frame(out, weight="weight")
    assert data.outcome_counts().tolist() == [raw["w_ij"].sum(), raw["w_ji"].sum(),
                                              raw["t_ij"].sum(), 0.0]


def test_celebrities_matrix(shared):
    raw = pd.read_csv(shared("agreement/celebrities.csv"), index_col=0)
    out = from_matrix(raw)
    assert out["weight"].sum() == raw.to_numpy().sum()
    # Every pair was judged by all 234 subjects (README), so w_ij + w_ji = 234.
    data = ComparisonData.from_frame(out, weight="weight")
    per_pair = data.pair_counts(ordered=False).counts.sum(axis=1)
    assert len(per_pair) == comb(9, 2) and (per_pair == 234).all()
