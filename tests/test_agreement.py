"""Rater agreement: statistics against published values, real data, and simulated truth.

Provenance of every reference number is recorded next to it. Published values
are printed to three or four significant digits, so they are checked to half a
unit in their last printed digit; independent implementations at the same
formula are checked to rounding error.
"""

from __future__ import annotations

import json
from itertools import combinations
from math import comb

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from prefstat import (
    ComparisonData,
    ConvergenceWarning,
    DataValidationError,
    DataWarning,
    EmptyDataError,
    IdentifiabilityWarning,
    InvalidParameterError,
    MissingColumnError,
)
from prefstat.convert import from_graded, from_multi_annotator
from prefstat.datasets import simulate_comparisons
from prefstat.diagnostics import (
    Agreement,
    agreement,
    cohen_kappa,
    fleiss_kappa,
    kendall_u,
    krippendorff_alpha,
)

# A value printed with three decimals (0.430) is known to +-0.0005.
PRINTED_3DP = 5e-4
# eba prints u, chi2, df and p with four significant digits: half a unit in the 4th digit.
PRINTED_4SIG = 5e-4
# Two implementations of one closed form agree to rounding error.
CLOSED_FORM = 1e-12

TULU_LEVELS = ["a-is-better", "a-is-slightly-better", "tie", "b-is-slightly-better",
               "b-is-better"]
PANDALM_CODES = {0: "tie", 1: "a", 2: "b"}  # the file's annotator fields are integers


# ------------------------------------------------------------ published values
def test_fleiss_kappa_fleiss_1971(shared):
    table = pd.read_csv(shared("agreement/fleiss1971_diagnoses.csv"))
    ratings = table.drop(columns="patient")
    assert ratings.shape == (30, 6)
    kappa = fleiss_kappa(ratings)
    # Fleiss (1971), Psychological Bulletin 76, p. 381: kappa = .430; irr::kappam.fleiss(diagnoses)
    # prints "Kappa = 0.43".
    assert kappa == pytest.approx(0.430, abs=PRINTED_3DP)
    # Independent implementation: statsmodels on the subjects x categories counts.
    counts, _ = aggregate_raters(ratings.to_numpy())
    assert kappa == pytest.approx(sm_fleiss_kappa(counts), abs=CLOSED_FORM)


@pytest.mark.parametrize(("level", "published"), [
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability", the "C" reliability
    # data with missing values; the same data are irr::kripp.alpha's example (coders in rows).
    ("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797),
])
def test_krippendorff_alpha_published_c_data(shared, level, published):
    table = pd.read_csv(shared("agreement/krippendorff_c_data.csv"))
    # The file holds units in rows (12) and the four coders in columns, plus a unit id:
    # the orientation krippendorff_alpha reads (irr takes the transpose).
    assert list(table.columns) == ["coder1", "coder2", "coder3", "coder4", "unit"]
    matrix = table.set_index("unit")
    assert matrix.shape == (12, 4) and int(matrix.isna().sum().sum()) == 7
    assert krippendorff_alpha(matrix, level) == pytest.approx(published, abs=PRINTED_3DP)


def _kendall_u_brute_force(counts: np.ndarray) -> float:
    """u from its definition: agreeing pairs of judges, enumerated pair of items by pair."""
    n = counts.shape[0]
    m = int(counts[0, 1] + counts[1, 0])
    agreeing = 0
    for i, j in combinations(range(n), 2):
        votes = [i] * int(counts[i, j]) + [j] * int(counts[j, i])
        agreeing += sum(a == b for a, b in combinations(votes, 2))
    return agreeing / (comb(m, 2) * comb(n, 2)) * 2 - 1


@pytest.mark.parametrize(("group", "u", "chi2", "df", "p"), [
    # eba::kendall.u(schoolsubjects$...) with correct = TRUE, as printed by the example on
    # https://www.mathpsy.uni-tuebingen.de/wickelmaier/software/eba/reference/kendall.u.html
    # (data of Kendall & Babington Smith 1940, Biometrika 31, 324-345).
    ("boys", 0.1866, 412.22, 90.75, 1.721e-42),
    ("girls", 0.08218, 180.12, 62.38, 2.307e-13),
])
def test_kendall_u_school_subjects(shared, group, u, chi2, df, p):
    counts = pd.read_csv(shared(f"agreement/schoolsubjects_{group}.csv"), index_col=0)
    result = kendall_u(counts)
    assert result.u == pytest.approx(u, rel=PRINTED_4SIG)
    assert result.statistic == pytest.approx(chi2, rel=PRINTED_4SIG)
    assert result.df == pytest.approx(df, rel=PRINTED_4SIG)
    assert result.p_value == pytest.approx(p, rel=PRINTED_4SIG)
    assert result.n_judges == {"boys": 21, "girls": 25}[group]
    assert result.min_u == pytest.approx(-1 / result.n_judges)  # m odd (eba's min.u)
    assert result.u == pytest.approx(_kendall_u_brute_force(counts.to_numpy()),
                                     abs=CLOSED_FORM)


def test_kendall_u_through_a_comparison_table(shared):
    """agreement() reaches the same u and test from one row per judge and pair."""
    counts = pd.read_csv(shared("agreement/schoolsubjects_girls.csv"), index_col=0)
    subjects = list(counts.index)
    rows = []
    for i, j in combinations(range(len(subjects)), 2):
        # Judge identities are arbitrary: the first a_ij judges prefer i. Half the pairs are
        # shown the other way round, which must not matter.
        flip = (i + j) % 2 == 1
        for judge in range(25):
            prefers_i = judge < counts.iloc[i, j]
            a, b = (subjects[j], subjects[i]) if flip else (subjects[i], subjects[j])
            rows.append((a, b, "a" if prefers_i != flip else "b", f"judge{judge}"))
    df = pd.DataFrame(rows, columns=["item_a", "item_b", "outcome", "rater"])
    result = agreement(df, n_boot=0)
    reference = kendall_u(counts)
    assert result.statistics.loc["kendall_u", "estimate"] == pytest.approx(reference.u,
                                                                           abs=CLOSED_FORM)
    assert result.kendall_u_test is not None
    assert result.kendall_u_test.statistic == pytest.approx(reference.statistic,
                                                            abs=CLOSED_FORM)


# ------------------------------------------------------------ independent checks
@settings(max_examples=60, deadline=None)
@given(hs.integers(0, 2**32 - 1), hs.integers(2, 200), hs.integers(2, 6))
def test_cohen_kappa_matches_sklearn(seed, n, k):
    rng = np.random.default_rng(seed)
    a = rng.integers(k, size=n)
    b = np.where(rng.random(n) < 0.6, a, rng.integers(k, size=n))
    if len(set(a) | set(b)) < 2:
        return  # one category throughout: kappa is undefined (tested separately)
    labels = np.array(list("pqrstu"))
    assert cohen_kappa(labels[a], labels[b]) == pytest.approx(
        cohen_kappa_score(labels[a], labels[b]), abs=CLOSED_FORM)


def test_cohen_kappa_drops_units_missing_a_label():
    a = ["x", "y", None, "x", "y"]
    b = ["x", "y", "x", np.nan, "x"]
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(["x", "y", "y"],
                                                                ["x", "y", "x"]))


def test_fleiss_kappa_with_missing_cells_is_the_generalisation():
    """Units judged by fewer raters: P_u per unit, pooled category shares (closed form)."""
    matrix = pd.DataFrame({"r1": ["a", "a", "b", "a"], "r2": ["a", "b", "b", None],
                           "r3": [None, "b", "b", "a"]})
    p_u = np.array([1.0, 1 / 3, 1.0, 1.0])  # unit 2: one agreeing pair of three
    shares = np.array([5, 5]) / 10
    expected = (p_u.mean() - (shares**2).sum()) / (1 - (shares**2).sum())
    assert fleiss_kappa(matrix) == pytest.approx(expected, abs=CLOSED_FORM)


def test_krippendorff_alpha_orders_string_categories_when_told():
    words = pd.DataFrame({"c1": ["low", "mid", "high", "mid"], "c2": ["low", "high", "high",
                                                                      "mid"]})
    numbers = words.replace({"low": 1, "mid": 2, "high": 3}).astype(int)
    ordinal = krippendorff_alpha(words, "ordinal", categories=["low", "mid", "high"])
    assert ordinal == pytest.approx(krippendorff_alpha(numbers, "ordinal"), abs=CLOSED_FORM)
    with pytest.raises(DataValidationError, match="categories"):
        krippendorff_alpha(words, "ordinal")
    with pytest.raises(DataValidationError, match="numeric"):
        krippendorff_alpha(words, "interval")


def test_single_category_warns_and_returns_nan():
    with pytest.warns(DataWarning, match="one category"):
        assert np.isnan(fleiss_kappa([["a", "a"], ["a", "a"]]))
    with pytest.warns(DataWarning, match="one category"):
        assert np.isnan(cohen_kappa(["a", "a"], ["a", "a"]))
    with pytest.warns(DataWarning, match="one category"):
        assert np.isnan(krippendorff_alpha([[1, 1], [1, 1]]))


@pytest.mark.parametrize(("matrix", "match"), [
    ([[0, 1], [1, 0], [2, 2]], "square"),
    ([[0, 2, 1], [0, 0, 2], [2, 0, 0]], "same number of judges"),
    ([[1, 1], [1, 0]], "diagonal"),
    ([[0, 1.5], [0.5, 0]], "integers"),
    ([[0, -1], [3, 0]], "integers"),
])
def test_kendall_u_rejects_bad_matrices(matrix, match):
    with pytest.raises(DataValidationError, match=match):
        kendall_u(matrix)


def test_kendall_u_two_judges_uses_the_exact_binomial_test():
    counts = np.array([[0, 2, 2], [0, 0, 1], [0, 1, 0]])  # agree on 2 of 3 pairs
    result = kendall_u(counts)
    assert result.method == "binomial" and np.isnan(result.df)
    assert result.u == pytest.approx(2 * 2 / 3 - 1)
    assert result.p_value == pytest.approx(4 / 8)  # P(Binomial(3, 1/2) >= 2)


def test_label_matrix_errors():
    with pytest.raises(DataValidationError, match="mixes kinds"):
        fleiss_kappa([["1", 1], [1, 1]])
    with pytest.raises(EmptyDataError, match="no unit"):
        fleiss_kappa([["a", None], [None, "b"]])
    with pytest.raises(DataValidationError, match="2-D"):
        fleiss_kappa(["a", "b"])
    with pytest.raises(InvalidParameterError, match="level"):
        krippendorff_alpha([[1, 2]], "cardinal")


# ------------------------------------------------------------------ PandaLM
def _pandalm(shared) -> pd.DataFrame:
    with open(shared("llm/pandalm_testset_v1.json"), encoding="utf-8") as fh:
        raw = pd.DataFrame(json.load(fh))
    models = raw["cmp_key"].str.split("_", expand=True)  # response1's model first
    raw = raw.assign(model1=models[0], model2=models[1])
    return from_multi_annotator(raw, ["annotator1", "annotator2", "annotator3"],
                                PANDALM_CODES, item_a="model1", item_b="model2")


def test_pandalm_every_convention(shared):
    """PandaLM test set v1: 999 items, the same three annotators on each.

    Numbers found (unit = source row; 95% unit-bootstrap intervals with seed 0):

    ========================== ======== ================
    unanimous                  0.8799   879 / 999 items
    percent_agreement          0.9199   ties a label
    percent_agreement_no_ties  0.9485   894 units
    percent_agreement_ties_half 0.9369
    loo_mode_agreement         0.9199   = percent agreement when m = 3
    fleiss_kappa               0.8642
    krippendorff_alpha         0.8642   nominal
    kendall_u                  NaN      ties present
    upper_bound (ceiling)      0.9736
    ========================== ======== ================
    """
    df = _pandalm(shared)
    result = agreement(df, unit="unit", n_boot=200, random_state=0)
    print(result.summary())
    stats = result.statistics["estimate"]
    # README of the shared data: all three annotators agree on 879 of 999 items.
    assert result.n_units == 999 and result.n_units_judged_once == 0
    assert round(stats["unanimous"] * 999) == 879
    # Independent computation from the raw annotator columns (plain numpy).
    with open(shared("llm/pandalm_testset_v1.json"), encoding="utf-8") as fh:
        x = pd.DataFrame(json.load(fh))[["annotator1", "annotator2", "annotator3"]].to_numpy()
    pairs = [(0, 1), (0, 2), (1, 2)]
    same = np.stack([x[:, a] == x[:, b] for a, b in pairs], axis=1)
    decisive = np.stack([(x[:, a] > 0) & (x[:, b] > 0) for a, b in pairs], axis=1)
    score = np.array([0.5, 1.0, 0.0])[x]  # tie, response1, response2
    half = np.stack([1 - abs(score[:, a] - score[:, b]) for a, b in pairs], axis=1)
    with_decisive = decisive.any(axis=1)
    no_ties = (same & decisive).sum(axis=1)[with_decisive] / decisive.sum(axis=1)[with_decisive]
    assert stats["percent_agreement"] == pytest.approx(same.mean(), abs=CLOSED_FORM)
    assert stats["percent_agreement_no_ties"] == pytest.approx(no_ties.mean(), abs=CLOSED_FORM)
    assert stats["percent_agreement_ties_half"] == pytest.approx(half.mean(), abs=CLOSED_FORM)
    counts, _ = aggregate_raters(x)
    assert stats["fleiss_kappa"] == pytest.approx(sm_fleiss_kappa(counts), abs=CLOSED_FORM)
    assert stats["krippendorff_alpha"] == pytest.approx(krippendorff_alpha(x), abs=CLOSED_FORM)
    # With three judgements per unit, the leave-one-out mode scores exactly the pairwise rate.
    assert stats["loo_mode_agreement"] == pytest.approx(stats["percent_agreement"],
                                                        abs=CLOSED_FORM)
    assert np.isnan(stats["kendall_u"])
    assert "ties" in result.statistics.loc["kendall_u", "note"]
    for name, row in result.statistics.dropna(subset=["estimate"]).iterrows():
        assert row["ci_lower"] <= row["estimate"] <= row["ci_upper"], name
    # The three annotators are interchangeable: none is flagged.
    assert not result.raters["flagged"].any()
    # Top suspects are labels that the other two annotators of the item both contradict.
    top = result.suspects.head(20)
    assert (top["unit_agreement"] == 0).all()


# --------------------------------------------------------------------- Tülu
def test_tulu_graded_units(shared):
    """Tülu 1 human evaluation: 5-point scale, 16 evaluators, answer order randomised.

    A unit is ``instance_id`` with its unordered model pair (the file repeats an instance
    for several model pairs, and shows a pair in either order). Numbers found (seed 0):
    percent_agreement (same level) 0.450, direction 0.563, no ties 0.698 (70 units),
    ties half 0.703, unanimous 0.417, loo mode 0.450, Fleiss 0.271, alpha (ordinal) 0.343.
    """
    raw = pd.read_csv(shared("llm/tulu1_human_eval.csv"))
    df = from_graded(raw, "preference", TULU_LEVELS, item_a="model_a", item_b="model_b",
                     rater="evaluator")
    result = agreement(df, unit="instance_id", n_boot=200, random_state=0)
    print(result.summary())
    # Independent count with plain pandas: units judged at least twice.
    pair = [tuple(sorted(p)) for p in zip(raw["model_a"], raw["model_b"])]
    sizes = raw.assign(pair=pair).groupby(["instance_id", "pair"]).size()
    assert (sizes >= 2).sum() == 127
    assert result.n_units == len(sizes) == 996
    assert result.n_units_judged_once == (sizes == 1).sum() == 869
    stats = result.statistics
    assert (stats.loc[["percent_agreement", "fleiss_kappa", "krippendorff_alpha"],
                      "n_units"] == 127).all()
    assert "percent_agreement_direction" in stats.index
    assert "ordinal" in stats.loc["krippendorff_alpha", "note"]
    # Same-level agreement < direction agreement < decisive-only agreement.
    est = stats["estimate"]
    assert est["percent_agreement"] < est["percent_agreement_direction"] < (
        est["percent_agreement_no_ties"])
    # Six units hold repeated judgements by one evaluator (13 pairs of them); counted.
    assert result.n_same_rater_pairs == 13


# ---------------------------------------------------------------- simulation
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_simulated_raters_and_suspect_rows(seed):
    """Flagged raters and suspect rows against the simulator's truth.

    Design (chosen so that the truth is detectable at all): 12 items with strengths
    N(0, 15^2) on the logit scale, so most pairs have a clear favourite and a flipped label
    is improbable under the consensus; 20 raters with about 1,000 judgements each, of whom
    2 are spammers (random choices) and 2 position-biased raters whose bias of 20 logits
    makes them pick the first-shown answer unless the other is overwhelmingly better; 3%
    of decisive labels flipped.

    Raters: truth = spammers and biased raters. Rows: truth = flipped rows and spammers'
    rows (a random label carries no information, even when it happens to be right). The
    simulator records no row-level truth for a biased rater's labels (the bias shifts every
    label's probability), so their rows are left out of the row-level scoring.

    Found: rater precision and recall 1.0; row precision >= 0.97 and recall >= 0.94 on
    these seeds. Recall on flipped rows alone is 0.72-0.86: a flip on a close pair is
    indistinguishable from honest disagreement.
    """
    sim = simulate_comparisons(
        n_items=12, n_comparisons=20000, n_raters=20, strength_sd=15.0, n_spammers=2,
        n_biased_raters=2, biased_rater_effect=20.0, flip_rate=0.03, random_state=seed)
    result = agreement(sim.data, n_boot=0)
    assert result.mixture["converged"]
    truth = sim.raters["is_spammer"] | sim.raters["is_biased"]
    flagged = result.raters["flagged"].reindex(truth.index)
    assert _precision(flagged, truth) >= 0.9 and _recall(flagged, truth) >= 0.9
    suspects = result.suspects.sort_index()
    assert suspects.index.equals(sim.data.index)
    rater = sim.data["rater"].cat.codes.to_numpy()
    spam_row = sim.raters["is_spammer"].to_numpy()[rater]
    scored = ~sim.raters["is_biased"].to_numpy()[rater]
    bad = (sim.flipped | spam_row)[scored]
    hit = suspects["suspect"].to_numpy()[scored]
    assert _precision(hit, bad) >= 0.9 and _recall(hit, bad) >= 0.9


def _precision(found, truth) -> float:
    found, truth = np.asarray(found, bool), np.asarray(truth, bool)
    return (found & truth).sum() / max(found.sum(), 1)


def _recall(found, truth) -> float:
    found, truth = np.asarray(found, bool), np.asarray(truth, bool)
    return (found & truth).sum() / max(truth.sum(), 1)


# ------------------------------------------------------------- invariances
def _small_table(seed: int = 0) -> pd.DataFrame:
    sim = simulate_comparisons(n_items=6, n_comparisons=600, n_raters=5, tie_parameter=-0.5,
                               random_state=seed)
    return sim.data.astype({c: object for c in sim.data.columns})


def _core(result: Agreement) -> pd.DataFrame:
    return result.statistics[["estimate", "n_units"]]


def test_side_swap_and_row_order_change_nothing():
    df = _small_table()
    base = agreement(df, n_boot=0)
    swapped = df.copy()
    flip = np.arange(len(df)) % 2 == 0
    swapped.loc[flip, ["item_a", "item_b"]] = df.loc[flip, ["item_b", "item_a"]].to_numpy()
    swapped.loc[flip, "outcome"] = df.loc[flip, "outcome"].map({"a": "b", "b": "a",
                                                                "tie": "tie"})
    pd.testing.assert_frame_equal(_core(agreement(swapped, n_boot=0)), _core(base))
    shuffled = df.sample(frac=1.0, random_state=1)
    again = agreement(shuffled, n_boot=0)
    pd.testing.assert_frame_equal(_core(again), _core(base))
    pd.testing.assert_series_equal(again.raters["loo_agreement"], base.raters["loo_agreement"])
    # Suspects join back to the caller's rows by index.
    assert set(again.suspects.index) == set(df.index)


def test_bootstrap_is_reproducible_and_covers_the_estimate():
    df = _small_table(3)
    first = agreement(df, n_boot=300, random_state=7).statistics
    second = agreement(df, n_boot=300, random_state=7).statistics
    pd.testing.assert_frame_equal(first, second)
    finite = first.dropna(subset=["estimate"])
    assert (finite["ci_lower"] <= finite["estimate"]).all()
    assert (finite["estimate"] <= finite["ci_upper"]).all()


def test_kendall_u_is_reported_for_balanced_forced_choices():
    items = ["p", "q", "r", "s"]
    rows = []
    rng = np.random.default_rng(4)
    for i, j in combinations(items, 2):
        for judge in range(5):
            rows.append((i, j, rng.choice(["a", "b"], p=[0.8, 0.2]), f"j{judge}"))
    df = pd.DataFrame(rows, columns=["item_a", "item_b", "outcome", "rater"])
    result = agreement(df, n_boot=0)
    matrix = pd.DataFrame(0, index=items, columns=items)
    for (i, j), group in df.groupby(["item_a", "item_b"]):
        matrix.loc[i, j] = (group["outcome"] == "a").sum()
        matrix.loc[j, i] = (group["outcome"] == "b").sum()
    assert result.statistics.loc["kendall_u", "estimate"] == pytest.approx(
        kendall_u(matrix).u, abs=CLOSED_FORM)


def test_graded_verdicts_are_oriented_and_units_come_from_contest_columns():
    """(x, y, a-is-better) and (y, x, b-is-better) are the same verdict on the same unit."""
    raw = pd.DataFrame({
        "model_a": ["x", "y", "x", "y"], "model_b": ["y", "x", "y", "x"],
        "preference": ["a-is-better", "b-is-better", "a-is-slightly-better", "tie"],
        "evaluator": ["e1", "e2", "e1", "e2"], "prompt": ["p1", "p1", "p2", "p2"]})
    df = from_graded(raw, "preference", TULU_LEVELS, item_a="model_a", item_b="model_b",
                     rater="evaluator")
    encoded = ComparisonData.from_frame(df, rater="rater")
    result = agreement(encoded, unit="prompt", n_boot=0)
    stats = result.statistics["estimate"]
    assert result.n_units == 2
    assert stats["percent_agreement"] == pytest.approx(0.5)  # p1 agrees, p2 does not
    assert stats["percent_agreement_direction"] == pytest.approx(0.5)
    assert stats["percent_agreement_ties_half"] == pytest.approx((1 + 0.5) / 2)
    assert result.suspects.loc[3, "outcome"] == "tie"


# ------------------------------------------------------------- edge cases
def test_units_judged_once_are_excluded_with_a_reason():
    df = pd.DataFrame({"item_a": ["x", "y", "z"], "item_b": ["y", "z", "x"],
                       "outcome": ["a", "b", "a"], "rater": ["r1", "r2", "r3"]})
    # Three judgements cannot place three items: the consensus needs its penalty.
    with pytest.warns(IdentifiabilityWarning, match="penalty"):
        result = agreement(df, n_boot=0)
    assert result.n_units_judged_once == 3
    assert result.statistics["estimate"].isna().all()
    assert result.statistics["note"].str.contains("NaN|not computed").all()
    assert any("No unit was judged twice" in n for n in result.notes)
    assert result.raters["note"].str.contains("not assessed").all()


def test_rater_with_one_judgement_and_all_tie_rater():
    df = _small_table(5)
    extra = pd.DataFrame({
        "item_a": ["item00"] * 30 + ["item01"],
        "item_b": ["item01"] * 30 + ["item02"],
        "outcome": ["tie"] * 30 + ["a"],
        "rater": ["lazy"] * 30 + ["once"],
    })
    result = agreement(pd.concat([df, extra], ignore_index=True), n_boot=0)
    raters = result.raters
    assert raters.loc["lazy", "flagged"] and "ties in 100%" in raters.loc["lazy", "reasons"]
    assert np.isnan(raters.loc["lazy", "first_position_rate"])
    assert "no decisive" in raters.loc["lazy", "note"]
    assert not raters.loc["once", "flagged"]
    assert "not assessed: 1 judgement" in raters.loc["once", "note"]
    assert 0 < raters.loc["once", "reliability"] < 1  # shrunk, finite
    text = str(result.summary())
    assert "Rater agreement" in text and "lazy" in text
    assert "<table>" in result.summary()._repr_html_()


def test_agreement_rejects_bad_input():
    df = _small_table()
    with pytest.raises(MissingColumnError, match="prompt"):
        agreement(df, unit="prompt")
    with pytest.raises(InvalidParameterError, match="unknown threshold"):
        agreement(df, thresholds={"min_reliabilty": 0.4})
    with pytest.raises(InvalidParameterError, match="n_boot"):
        agreement(df, n_boot=-1)
    with pytest.raises(DataValidationError, match="weighted"):
        agreement(ComparisonData.from_frame(df.assign(w=1.0), rater="rater", weight="w"))
    with pytest.raises(DataValidationError, match="unit column"):
        agreement(df.assign(prompt=[None] + ["p"] * (len(df) - 1)), unit="prompt")


def test_non_converged_em_warns():
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        result = agreement(_small_table(), n_boot=0, max_iter=1)
    assert any("did not converge" in n for n in result.notes)
