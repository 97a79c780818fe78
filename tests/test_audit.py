"""The label-quality audit: sections, flags, renderers, export, and real data in a browser.

What is checked against what
- The demo's planted problems (random raters, a position-biased rater, an intransitive
  cycle) against the simulator's truth, for the demo's seed and for 20 other seeds.
- Every leaderboard, transitivity and agreement number against the diagnostic that the
  audit calls (the audit adds no arithmetic of its own to them); the rater random effects
  against RaterBradleyTerry fitted directly.
- The random-effects flags against the simulator's truth: its spammers (reliability 0) and
  its position-biased rater, for the demo's seed and for 20 other seeds.
- PandaLM's unanimity against the data README (879 of 999 items).
- The HTML report in headless Chromium: every section heading, every figure as a PNG,
  and no console message (the page has no scripts).
"""

from __future__ import annotations

import base64
import html
import json
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import prefstat
from prefstat import BradleyTerry, audit
from prefstat.audit import FLAG_COLUMNS, SECTION_TITLES, flag_counts
from prefstat.cli import demo_simulation
from prefstat.convert import (
    from_arena,
    from_graded,
    from_multi_annotator,
    from_wide_rankings,
    rankings_to_pairs,
)
from prefstat.diagnostics import agreement, transitivity

TULU_LEVELS = ["a-is-better", "a-is-slightly-better", "tie", "b-is-slightly-better",
               "b-is-better"]
CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
# Chromium starts in about a second; a cold start on a slow CI machine can take much longer.
CHROMIUM_TIMEOUT_SECONDS = 180
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
HEADINGS = [*SECTION_TITLES.values(), "Flags"]
# Flag kinds of the rater random-effects section.
RANDOM_KIND = "random or reversed rater"
BIAS_KIND = "rater-specific position bias"


def _flagged(report, kind):
    rows = report.flags[report.flags["kind"] == kind]
    return {label for labels in rows["raters"] for label in labels}


def _rotation_of(cycle, planted):
    """Whether ``cycle`` is ``planted`` read from another starting item (same direction)."""
    k = len(planted)
    return any(tuple(cycle) == tuple(planted[(s + i) % k] for i in range(k)) for s in range(k))


# ------------------------------------------------------------------ the demo's truth
@pytest.fixture(scope="module")
def demo():
    sim = demo_simulation()
    return sim, audit(sim.data, rater="rater", unit="prompt")


def test_demo_report_names_the_planted_problems(demo):
    sim, report = demo
    truth = sim.raters
    spammers = set(truth.index[truth["is_spammer"]])
    biased = set(truth.index[truth["is_biased"]])
    assert len(spammers) == 3 and len(biased) == 1
    assert _flagged(report, "unreliable rater") == spammers
    assert _flagged(report, "position-biased rater") == biased
    # No honest rater is flagged for anything.
    flagged = set(report.agreement.flagged_raters.index)
    assert flagged == spammers | biased
    # The planted cycle is the strongest cycle, in its planted direction, and the only one
    # flagged.
    assert _rotation_of(report.worst_cycle, sim.cycle.items)
    cycles = report.flags[report.flags["kind"] == "intransitive cycle"]
    assert len(cycles) == 1 and _rotation_of(cycles["items"].iloc[0], sim.cycle.items)
    # Every renderer names them.
    for text in (report.to_markdown(), str(report.summary()), report.to_html(),
                 report.to_json()):
        for label in (*spammers, *biased, *sim.cycle.items):
            assert label in text


def test_demo_leaderboard_follows_the_truth(demo):
    sim, report = demo
    board = report.leaderboard.join(sim.truth["rank"].rename("true_rank"))
    # Every item's true rank lies in its bootstrap rank interval (for this seed).
    assert (board["rank_lower"] <= board["true_rank"]).all()
    assert (board["true_rank"] <= board["rank_upper"]).all()
    # The order effect the simulator planted (0.2, plus one rater's +2) is found.
    h = report.model.params_.loc[("order_effect", "order_effect")]
    assert h["ci_lower"] > 0.1 and h["p"] < 0.001
    assert "position bias" in set(report.flags["kind"])


@pytest.mark.slow
def test_demo_design_is_reliable_over_seeds():
    """The demo's design, not only its seed, makes the planted problems stand out."""
    for seed in range(20):
        sim = demo_simulation(random_state=seed)
        report = audit(sim.data, rater="rater", unit="prompt", n_boot=0)
        truth = sim.raters
        spammers = set(truth.index[truth["is_spammer"]])
        biased = set(truth.index[truth["is_biased"]])
        assert _flagged(report, "unreliable rater") == spammers, seed
        assert biased <= _flagged(report, "position-biased rater"), seed
        # A random rater's answers may favour a position by chance; an honest rater is
        # never flagged.
        assert set(report.agreement.flagged_raters.index) <= spammers | biased, seed
        assert _rotation_of(report.worst_cycle, sim.cycle.items), seed
        assert _flagged(report, RANDOM_KIND) == spammers, seed
        assert _flagged(report, BIAS_KIND) == biased, seed


def test_demo_rater_effects_flag_the_planted_raters(demo):
    sim, report = demo
    truth = sim.raters
    spammers = set(truth.index[truth["is_spammer"]])
    biased = set(truth.index[truth["is_biased"]])
    # Flagged by the random-effects model as the agreement analysis flags them, and no
    # honest rater.
    assert _flagged(report, RANDOM_KIND) == spammers
    assert _flagged(report, BIAS_KIND) == biased
    section = report.sections["rater_effects"]
    assert section.available
    # The numbers are those of RaterBradleyTerry fitted directly with the audit's options
    # (ties and an order effect: the demo has both, and pairs in both orders).
    direct = prefstat.RaterBradleyTerry(position_bias=True, reliability=True,
                                        ties="davidson").fit(sim.data, rater="rater")
    pd.testing.assert_frame_equal(section.tables["Variance components"],
                                  direct.variance_components_)
    raters = section.tables["Raters (random effects, least reliable first)"]
    pd.testing.assert_series_equal(raters["reliability"].sort_index(),
                                   direct.raters_["reliability"].sort_index())
    pd.testing.assert_series_equal(raters["position_bias"].sort_index(),
                                   direct.raters_["position_bias"].sort_index())
    assert report.rater_effects is not None
    # The random raters' reliability intervals lie below 1 and their estimates below 0.5;
    # the biased rater's advantage is far from the common order effect.
    rows = raters.loc[sorted(spammers)]
    assert (rows["reliability_ci_upper"] < 1).all() and (rows["reliability"] < 0.5).all()
    h = direct.params_.loc[("order_effect", "order_effect"), "estimate"]
    (b,) = biased
    assert raters.loc[b, "position_bias"] - 1.96 * raters.loc[b, "position_bias_se"] > h
    # Additive: the agreement analysis still flags them too.
    assert _flagged(report, "unreliable rater") == spammers


def test_rater_effects_without_raters_say_why(demo):
    sim, _ = demo
    small = sim.data.iloc[:1500]
    for report, reason in (
        (audit(small.drop(columns="rater"), n_boot=0), "no rater column"),
        (audit(small.assign(rater="only"), rater="rater", n_boot=0), "1 rater"),
    ):
        section = report.sections["rater_effects"]
        assert not section.available and not section.tables
        assert section.sentences[0].startswith("Rater random effects are not available: ")
        assert reason in section.sentences[0]
        assert report.rater_effects is None
        assert not report.flags["kind"].isin([RANDOM_KIND, BIAS_KIND]).any()
        assert "Rater random effects" in report.to_markdown()
        payload = json.loads(report.to_json())
        assert payload["sections"]["rater_effects"]["available"] is False


def test_rater_effects_failure_is_recorded_not_raised():
    # z never wins, x never loses: RaterBradleyTerry raises NotIdentifiableError.
    df = pd.DataFrame({"item_a": ["x", "x", "y", "y"], "item_b": ["y", "z", "z", "x"],
                       "outcome": ["a", "a", "a", "b"], "rater": ["r1", "r2", "r1", "r2"]})
    report = audit(df, rater="rater", n_boot=0)
    section = report.sections["rater_effects"]
    assert not section.available and report.rater_effects is None
    assert section.sentences[0].startswith("Rater random effects are not available: ")
    assert "never won: 'z'" in section.sentences[0]
    report.to_html()


def test_rater_effects_json_round_trips(demo):
    _, report = demo
    payload = json.loads(report.to_json())
    section = payload["sections"]["rater_effects"]
    assert section["available"] and section["title"] == "Rater random effects"
    original = report.sections["rater_effects"].tables
    for caption, table in original.items():
        back = pd.DataFrame(section["tables"][caption])
        back = back.set_index(back.columns[0])
        np.testing.assert_array_equal(back.index.astype(str), table.index.astype(str))
        for col in table.columns:
            np.testing.assert_allclose(back[col].astype(float), table[col].astype(float),
                                       rtol=1e-12, err_msg=f"{caption}: {col}")
    kinds = {f["kind"] for f in payload["flags"]}
    assert {RANDOM_KIND, BIAS_KIND} <= kinds


# --------------------------------------------------------- the audit's own contract
def test_numbers_are_those_of_the_diagnostics(demo):
    sim, report = demo
    model = BradleyTerry(ties="davidson", order_effect=True).fit(sim.data)
    board = report.leaderboard
    pd.testing.assert_series_equal(board["estimate"], model.strengths_["estimate"].loc[
        board.index])
    ag = agreement(sim.data, rater="rater", unit="prompt", n_boot=0)
    pd.testing.assert_frame_equal(report.agreement.raters, ag.raters)
    tr = transitivity(sim.data, n_boot=0)
    assert report.transitivity.circular_triads == tr.circular_triads
    pd.testing.assert_series_equal(report.transitivity.hodge, tr.hodge)


def test_row_order_does_not_change_the_leaderboard(demo):
    sim, report = demo
    shuffled = sim.data.sample(frac=1.0, random_state=0)
    again = audit(shuffled, rater="rater", unit="prompt", n_boot=0)
    pd.testing.assert_series_equal(again.leaderboard["estimate"],
                                   report.leaderboard["estimate"], rtol=1e-10)
    assert again.worst_cycle == report.worst_cycle


def test_sections_and_flags_have_their_documented_shape(demo):
    _, report = demo
    assert list(report.sections) == list(SECTION_TITLES)
    for key, section in report.sections.items():
        assert section.key == key and section.title == SECTION_TITLES[key]
        assert section.available and section.sentences
        assert isinstance(section.facts, pd.Series)
        assert all(isinstance(t, pd.DataFrame) for t in section.tables.values())
        assert isinstance(section.table, pd.DataFrame)
    flags = report.flags
    assert list(flags.columns) == list(FLAG_COLUMNS)
    severity = flags["severity"].map({"high": 0, "medium": 1, "low": 2})
    assert severity.is_monotonic_increasing
    for col in ("raters", "items", "rows"):
        assert flags[col].map(lambda v: isinstance(v, tuple)).all()
    suspects = flags[flags["kind"] == "suspect label"]
    assert len(suspects) == int(report.agreement.suspects["suspect"].sum())
    assert flag_counts(flags)["count"].sum() == len(flags)
    assert report.figure_names == ("coverage", "forest", "win_probability", "calibration",
                                   "cycle", "raters")


def test_no_rater_column_means_no_agreement_and_says_why(demo):
    sim, _ = demo
    report = audit(sim.data.drop(columns="rater"), n_boot=20)
    for key in ("agreement", "suspects"):
        section = report.sections[key]
        assert not section.available and not section.tables
        assert "No rater column" in section.sentences[0]
    assert report.agreement is None and "raters" not in report.figure_names
    assert not (report.flags["kind"] == "suspect label").any()
    assert any("there is no rater column" in s for s in report.sentences)
    assert report.leaderboard is not None


def test_no_estimate_means_no_leaderboard_and_the_reason():
    # z never wins, x never loses: the MLE does not exist.
    df = pd.DataFrame({"item_a": ["x", "x", "y", "y"], "item_b": ["y", "z", "z", "x"],
                       "outcome": ["a", "a", "a", "b"], "rater": ["r1", "r2", "r1", "r2"]})
    report = audit(df, rater="rater", n_boot=20)
    board = report.sections["leaderboard"]
    assert not board.available and report.leaderboard is None and report.model is None
    assert board.sentences[0].startswith("No leaderboard:")
    assert "never won: 'z'" in board.sentences[0]
    assert report.flags["kind"].iloc[0] == "not identifiable"
    assert report.flags["severity"].iloc[0] == "high"
    assert {"x", "z"} <= set(report.flags["items"].iloc[0])
    assert set(report.figure_names).isdisjoint({"forest", "win_probability", "calibration"})
    assert "A leaderboard:" in " ".join(report.sentences)
    report.to_html()  # renders without the missing parts


def test_weighted_table_skips_agreement_and_resamples_judgements():
    df = pd.DataFrame({"item_a": ["x", "y", "z", "x", "y", "z"],
                       "item_b": ["y", "z", "x", "y", "z", "x"],
                       "outcome": ["a", "a", "a", "b", "b", "b"],
                       "weight": [5, 4, 3, 2, 2, 2], "rater": ["r1", "r2"] * 3})
    report = audit(df, rater="rater", weight="weight", n_boot=30)
    assert not report.sections["agreement"].available
    assert "weighted" in report.sections["agreement"].sentences[0]
    assert report.bootstrap is not None and report.bootstrap.n_units == 18


def test_fractional_weights_without_a_unit_skip_the_bootstrap_and_say_why():
    df = pd.DataFrame({"item_a": list("xyzxyz"), "item_b": list("yzxzxy"),
                       "outcome": list("aabbab"), "weight": [0.5, 1.5, 2, 1, 1, 1]})
    report = audit(df, weight="weight", n_boot=20)
    assert report.bootstrap is None and report.leaderboard is not None
    assert any(s.startswith("No bootstrap:") and "whole-number weights" in s
               for s in report.sections["leaderboard"].sentences)
    assert "rank_lower" not in report.leaderboard.columns


def test_warnings_are_recorded_not_raised():
    """Bootstrap replicates fail on six judgements; the warning lands in the report."""
    df = pd.DataFrame({"item_a": list("xyyzxz"), "item_b": list("yxzyzx"),
                       "outcome": ["a"] * 6})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = audit(df, n_boot=50)
    assert report.warnings and "replicates failed" in report.warnings[0]
    recorded = report.flags[report.flags["kind"] == "warning"]
    assert len(recorded) == 1 and recorded["severity"].iloc[0] == "low"
    assert "warning(s) were recorded" in " ".join(report.sentences)


def test_graded_outcome_uses_the_direction_for_the_leaderboard():
    df = pd.DataFrame({"item_a": ["x", "y", "x", "z", "y", "z"] * 4,
                       "item_b": ["y", "x", "z", "x", "z", "y"] * 4,
                       "grade": ["A>>B", "A<B", "A>B", "A=B", "A>B", "A<<B"] * 4,
                       "rater": ["r1", "r2", "r3"] * 8})
    graded = from_graded(df, "grade", ["A>>B", "A>B", "A=B", "A<B", "A<<B"], rater="rater")
    report = audit(graded, rater="rater", n_boot=0)
    assert "Graded scale" in report.sections["overview"].tables
    direct = BradleyTerry(ties="davidson", order_effect=True).fit(report.nominal_data)
    np.testing.assert_allclose(report.leaderboard["estimate"].sort_index(),
                               direct.strengths_["estimate"].sort_index())
    # agreement reads the full scale
    assert report.agreement.notes != []


def test_elo_and_arguments(demo):
    sim, _ = demo
    small = sim.data.iloc[:1500]
    report = audit(small, rater="rater", elo=True, n_boot=0)
    assert {"elo", "elo_lower", "elo_upper"} <= set(report.leaderboard.columns)
    assert report.leaderboard["elo"].mean() == pytest.approx(1000)
    with pytest.raises(prefstat.MissingColumnError, match="unit='question'"):
        audit(small, unit="question")
    with pytest.raises(prefstat.MissingColumnError, match="it is the rater column"):
        audit(small, rater="rater", unit="rater")
    with pytest.raises(prefstat.InvalidParameterError, match="n_boot"):
        audit(small, n_boot=-1)
    with pytest.raises(prefstat.InvalidParameterError, match="conf_level"):
        audit(small, conf_level=95)


def test_progress_messages_go_to_the_callable(demo):
    sim, _ = demo
    seen: list[str] = []
    audit(sim.data.iloc[:1000], rater="rater", n_boot=0, progress=seen.append)
    assert seen[0].startswith("prefstat audit [") and seen[-1].endswith("done")
    assert any("rater agreement" in m for m in seen)


# --------------------------------------------------------------------- renderers
def test_renderers(demo, tmp_path):
    _, report = demo
    page = report.to_html(tmp_path / "r.html")
    assert (tmp_path / "r.html").read_text(encoding="utf-8") == page
    for title in HEADINGS:
        assert f"<h2>{html.escape(title)}</h2>" in page
    assert page.count("<img ") == len(report.figure_names) == 6
    # Self-contained: no scripts, no stylesheets or images from elsewhere.
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert not re.search(r"""(src|href)=["'](?!data:|#)""", page)
    text = report.to_markdown(tmp_path / "r.md")
    for title in HEADINGS:
        assert f"## {title}" in text
    payload = json.loads(report.to_json(tmp_path / "r.json"))
    assert list(payload["sections"]) == list(SECTION_TITLES)
    board = payload["sections"]["leaderboard"]["tables"]["Leaderboard"]
    assert [row["item"] for row in board] == list(report.leaderboard.index)
    assert len(payload["flags"]) == len(report.flags)
    json.dumps(payload, allow_nan=False)  # strict JSON
    summary = str(report.summary())
    assert summary.startswith("prefstat audit") and "Flags" in summary
    assert "<h4>prefstat audit</h4>" in report.summary()._repr_html_()
    assert report.sections["leaderboard"].summary().title == "Leaderboard"


def test_html_without_matplotlib_says_so(demo, monkeypatch):
    _, report = demo
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    page = report.to_html()
    assert "<img" not in page
    assert "matplotlib is not installed" in page
    for title in HEADINGS:
        assert f"<h2>{html.escape(title)}</h2>" in page
    with pytest.raises(prefstat.MissingDependencyError, match=r"prefstat\[plot\]"):
        report.figures()


def test_html_leaves_no_pyplot_figure_open(demo):
    """The page only embeds its figures: none is registered with pyplot (or shown)."""
    plt = pytest.importorskip("matplotlib.pyplot")
    _, report = demo
    plt.close("all")
    assert "<img" in report.to_html()
    assert plt.get_fignums() == []


def test_prefstat_imports_without_matplotlib():
    code = ("import sys; sys.modules['matplotlib'] = None; "
            "import prefstat, prefstat.plotting, prefstat.cli; "
            "import pandas as pd; "
            "df = pd.DataFrame({'item_a': ['x', 'y', 'z', 'y'], 'item_b': ['y', 'z', 'x', 'x'], "
            "'outcome': ['a', 'a', 'a', 'a']}); "
            "page = prefstat.audit(df, n_boot=10).to_html(); "
            "assert '<img' not in page and 'matplotlib is not installed' in page; print('ok')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_plotting_functions_take_result_objects(demo):
    from matplotlib.figure import Figure

    from prefstat import plotting

    sim, report = demo
    assert isinstance(plotting.plot_strengths(report.model, report.bootstrap), Figure)
    many = plotting.plot_coverage(sim.data, max_items=5)  # too many items for a matrix
    assert many.axes[0].get_xlabel() == "comparisons per item"
    fig = plotting.plot_cycle(sim.data, report.worst_cycle)
    arrows = [t.arrow_patch for t in fig.axes[0].texts if getattr(t, "arrow_patch", None)]
    red = [a for a in arrows if a.get_edgecolor()[:3] == (0.8, 0.0, 0.0)]
    assert len(arrows) == 3 and len(red) == 3  # the cycle's three majorities
    with pytest.raises(prefstat.InvalidParameterError, match="at least two items"):
        plotting.plot_cycle(sim.data, ["item00", "nothing"])
    with pytest.raises(prefstat.NotFittedError):
        plotting.plot_strengths(BradleyTerry())


# ------------------------------------------------------------------------ export
def test_export_rlhf(demo, tmp_path):
    sim, report = demo
    data = sim.data
    decisive = data["outcome"].isin(["a", "b"]).to_numpy()
    everything = report.export_rlhf(drop=False)
    assert list(everything.columns) == ["prompt", "chosen", "rejected"]
    assert len(everything) == int(decisive.sum())
    rows = data.loc[everything.index]
    a_won = (rows["outcome"] == "a").to_numpy()
    np.testing.assert_array_equal(everything["chosen"],
                                  np.where(a_won, rows["item_a"], rows["item_b"]))
    np.testing.assert_array_equal(everything["prompt"], rows["prompt"].astype(object))
    cleaned = report.export_rlhf(tmp_path / "pairs.jsonl")
    flagged_raters = set(report.agreement.flagged_raters.index)
    assert not data.loc[cleaned.index, "rater"].isin(flagged_raters).any()
    suspects = report.agreement.suspects
    assert not suspects.loc[cleaned.index, "suspect"].any()
    assert len(cleaned) < len(everything)
    written = pd.read_json(tmp_path / "pairs.jsonl", lines=True)
    assert list(written.columns) == ["prompt", "chosen", "rejected"]
    assert len(written) == len(cleaned)
    weighted = report.export_rlhf(tmp_path / "pairs.csv", drop="downweight")
    assert len(weighted) == len(everything)
    expected = 1 - suspects["p_suspect"].reindex(weighted.index)
    np.testing.assert_allclose(weighted["weight"], expected)
    assert pd.read_csv(tmp_path / "pairs.csv").shape == (len(weighted), 4)
    with pytest.raises(prefstat.InvalidParameterError, match="drop"):
        report.export_rlhf(drop="maybe")
    with pytest.raises(prefstat.InvalidParameterError, match=r"\.jsonl"):
        report.export_rlhf(tmp_path / "pairs.txt")
    with pytest.raises(prefstat.MissingColumnError, match="text_a"):
        report.export_rlhf(text_a="completion_a")
    repeated = audit(data.set_index(np.zeros(len(data), dtype=int)).iloc[:600], rater="rater",
                     n_boot=0)
    with pytest.raises(prefstat.DataValidationError, match="reset_index"):
        repeated.export_rlhf()
    assert len(repeated.export_rlhf(drop=False)) > 0


def test_export_rlhf_with_response_texts():
    df = pd.DataFrame({"item_a": ["m1", "m2", "m1"], "item_b": ["m2", "m1", "m2"],
                       "outcome": ["a", "a", "tie"], "question": ["q1", "q2", "q3"],
                       "text_1": ["A1", "B2", "A3"], "text_2": ["B1", "A2", "B3"]})
    report = audit(df, n_boot=0)
    pairs = report.export_rlhf(drop=False, prompt="question", text_a="text_1",
                               text_b="text_2")
    assert pairs.to_dict("list") == {"prompt": ["q1", "q2"], "chosen": ["A1", "B2"],
                                     "rejected": ["B1", "A2"]}


# ---------------------------------------------------------------------- real data
def _tulu(shared):
    raw = pd.read_csv(shared("llm/tulu1_human_eval.csv"))
    table = from_graded(raw, "preference", TULU_LEVELS, item_a="model_a", item_b="model_b",
                        rater="evaluator")
    return table, {"rater": "rater", "unit": "instance_id"}


def _pandalm(shared):
    raw = pd.read_json(shared("llm/pandalm_testset_v1.json"))
    models = raw["cmp_key"].str.split("_", n=1, expand=True)
    raw = raw.assign(model_1=models[0], model_2=models[1])
    table = from_multi_annotator(raw, ["annotator1", "annotator2", "annotator3"],
                                 {0: "tie", 1: "a", 2: "b"}, item_a="model_1",
                                 item_b="model_2")
    return table, {"rater": "rater", "unit": "unit"}


def _arena(shared):
    raw = pd.read_json(shared("llm/arena_hard_battles.jsonl"), lines=True)
    return from_arena(raw), {"unit": "question_id"}


def _wmt(shared):
    raw = pd.read_csv(shared("rankings/wmt12_rnk_results.csv"))
    slots = [(f"system{k}Id", f"system{k}rank") for k in range(1, 6)]
    ranked = (raw[[r for _, r in slots]] != -1).sum(axis=1)
    # A source segment is judged by several judges: it is the unit of agreement.
    raw = raw[ranked >= 2].assign(
        segment=lambda t: t["srclang"] + "-" + t["trglang"] + ":" + t["srcIndex"].astype(str))
    long = from_wide_rankings(raw, slots=slots, blank=-1, gaps="rerank",
                              keep=["judgeId", "segment"])
    pairs = rankings_to_pairs(long, rater="judgeId")
    return pairs, {"rater": "rater", "unit": "segment", "cluster": "ranking_id"}


REAL = {"tulu": _tulu, "pandalm": _pandalm, "arena": _arena, "wmt": _wmt}
_REPORTS: dict[str, prefstat.AuditReport] = {}


def _real_report(name, shared):
    if name not in _REPORTS:
        table, columns = REAL[name](shared)
        _REPORTS[name] = audit(table, **columns)
    return _REPORTS[name]


@pytest.mark.parametrize("name", ["tulu", "pandalm", "arena",
                                  pytest.param("wmt", marks=pytest.mark.slow)])
def test_real_data_end_to_end(name, shared, tmp_path):
    report = _real_report(name, shared)
    assert report.connectivity.mle_exists and report.leaderboard is not None
    page = report.to_html(tmp_path / f"{name}.html")
    assert page.count("<img ") == len(report.figure_names)
    json.loads(report.to_json())
    expected = {"tulu": (4, 16), "pandalm": (5, 3), "arena": (5, 0), "wmt": (39, 230)}[name]
    assert (report.data.n_items, report.data.n_raters) == expected
    if name == "arena":
        assert not report.sections["agreement"].available
    else:
        assert report.sections["agreement"].available
    if name == "pandalm":
        # Data README: all three annotators agree on 879 of the 999 items.
        unanimous = report.agreement.statistics.loc["unanimous", "estimate"]
        assert unanimous == pytest.approx(879 / 999)
        assert "A measurement of position bias" in " ".join(report.sentences)


def _open_in_chromium(page: Path, profile: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
         "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT_SECONDS)


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install "
                                             "chromium) so the HTML report is not opened")
@pytest.mark.parametrize("name", ["demo", "tulu", "pandalm", "arena", "wmt"])
def test_html_report_opens_in_chromium(name, shared, tmp_path, demo):
    report = demo[1] if name == "demo" else _real_report(name, shared)
    page = tmp_path / f"{name}.html"
    report.to_html(page)
    result = _open_in_chromium(page, tmp_path / "profile")
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    for title in HEADINGS:
        assert f"<h2>{html.escape(title)}</h2>" in dom, title
    sources = re.findall(r"<img [^>]*src=\"([^\"]+)\"", dom)
    assert len(sources) == len(report.figure_names) >= 3
    for src in sources:
        kind, _, data = src.partition(",")
        assert kind == "data:image/png;base64"
        assert base64.b64decode(data)[:8] == PNG_MAGIC
    console = [line for line in result.stderr.splitlines()
               if "Uncaught" in line or ":CONSOLE" in line]
    assert not console, console
