"""The ``prefstat`` command line: the demo, every input format, bad input, and parity with the API.

Bad input must end with exit code 2 and one line on standard error, never a traceback;
an internal failure with exit code 1, also in one line.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import prefstat
from prefstat import BradleyTerry, audit
from prefstat.cli import DEMO, EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_OK, demo_simulation, main

# The README promises the demo in seconds; 30 s leaves room for a slow CI machine.
DEMO_SECONDS = 30
ROOT = Path(__file__).resolve().parents[1]


def _run(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _bad(argv, capsys, *fragments):
    """Exit code 2, one line on stderr containing every fragment, no traceback."""
    code, _, err = _run(argv, capsys)
    assert code == EXIT_BAD_INPUT, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def small():
    """A small simulated table with raters and prompts."""
    return demo_simulation(n_comparisons=1500, n_raters=8, n_spammers=1, prompts=12,
                           random_state=3).data


@pytest.fixture
def small_csv(small, tmp_path):
    path = tmp_path / "judgements.csv"
    small.to_csv(path, index=False)
    return path


# ------------------------------------------------------------------------ the demo
def test_demo_runs_fast_and_names_the_planted_problems(tmp_path):
    sim = demo_simulation()
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "prefstat.cli", "audit", "--demo", "--out",
         str(tmp_path / "demo.html")],
        capture_output=True, text=True, timeout=120, cwd=ROOT)
    seconds = time.perf_counter() - start
    assert result.returncode == EXIT_OK, result.stderr
    assert seconds < DEMO_SECONDS, seconds
    truth = sim.raters
    named = [*truth.index[truth["is_spammer"] | truth["is_biased"]], *sim.cycle.items]
    for label in named:
        assert label in result.stdout
    page = (tmp_path / "demo.html").read_text(encoding="utf-8")
    assert all(label in page for label in named)
    assert "prefstat audit [" in result.stderr  # progress on stderr
    assert "Traceback" not in result.stderr


def test_demo_settings_are_the_documented_ones():
    sim = demo_simulation()
    assert sim.params["random_state"] == DEMO["random_state"]
    assert sim.data.shape == (8000, 5)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pip install -e . && prefstat audit --demo" in readme


# ------------------------------------------------------------------- API parity
def test_cli_and_api_give_identical_numbers(small_csv, tmp_path, capsys):
    out = tmp_path / "report.json"
    code, stdout, _ = _run(["audit", small_csv, "--rater", "rater", "--unit", "prompt",
                            "--n-boot", 40, "--seed", 7, "--out", out], capsys)
    assert code == EXIT_OK and "prefstat audit" in stdout
    api = audit(pd.read_csv(small_csv), rater="rater", unit="prompt", n_boot=40,
                random_state=7)
    assert json.loads(out.read_text(encoding="utf-8")) == json.loads(api.to_json())


def test_fit_matches_the_api(small_csv, tmp_path, capsys):
    out = tmp_path / "strengths.csv"
    code, _, _ = _run(["fit", small_csv, "--ties", "davidson", "--order-effect", "--out", out],
                      capsys)
    assert code == EXIT_OK
    model = BradleyTerry(ties="davidson", order_effect=True).fit(pd.read_csv(small_csv))
    expected = model.strengths_.reset_index()
    pd.testing.assert_frame_equal(pd.read_csv(out), expected, check_exact=True,
                                  check_dtype=False)
    code, stdout, _ = _run(["fit", small_csv, "--model", "thurstone", "--ties", "half"],
                           capsys)
    assert code == EXIT_OK
    printed = pd.read_csv(__import__("io").StringIO(stdout))
    assert list(printed.columns) == ["item", "estimate", "se", "z", "p", "ci_lower",
                                     "ci_upper"]
    as_json = tmp_path / "strengths.json"
    assert _run(["fit", small_csv, "--ties", "davidson", "--out", as_json], capsys)[0] == 0
    assert len(json.loads(as_json.read_text())) == len(expected)


def test_plackett_luce_when_available(tmp_path, capsys, monkeypatch):
    salad = pd.DataFrame({"A": [1, 2, 1, 3, 2, 1], "B": [2, 1, 3, 1, 3, 2],
                          "C": [3, 3, 2, 2, 1, 3]})
    path = tmp_path / "salad.csv"
    salad.to_csv(path, index=False)
    argv = ["fit", path, "--model", "pl", "--format", "rankings", "--rank-columns", "A,B,C"]
    if hasattr(prefstat, "PlackettLuce"):
        code, stdout, err = _run(argv, capsys)
        assert code == EXIT_OK, err
        assert set(pd.read_csv(__import__("io").StringIO(stdout))["item"]) == {"A", "B", "C"}
    monkeypatch.delattr(prefstat, "PlackettLuce", raising=False)
    _bad(argv, capsys, "not available in this version")
    _bad(["fit", path, "--model", "pl"], capsys, "not available in this version")


# ---------------------------------------------------------------- input formats
def test_every_reader_gives_the_same_report(small, tmp_path, capsys):
    table = small.astype(str)
    files = {"csv": lambda p: table.to_csv(p, index=False),
             "tsv": lambda p: table.to_csv(p, sep="\t", index=False),
             "jsonl": lambda p: table.to_json(p, orient="records", lines=True),
             "json": lambda p: table.to_json(p, orient="records")}
    try:
        import pyarrow  # noqa: F401
        files["parquet"] = lambda p: table.to_parquet(p, index=False)
    except ImportError:
        pass
    try:
        import openpyxl  # noqa: F401
        files["xlsx"] = lambda p: table.to_excel(p, index=False)
    except ImportError:
        pass
    reports = {}
    for suffix, write in files.items():
        path = tmp_path / f"table.{suffix}"
        write(path)
        out = tmp_path / f"report-{suffix}.json"
        code, _, err = _run(["audit", path, "--unit", "prompt", "--n-boot", 20, "--quiet",
                             "--out", out], capsys)
        assert code == EXIT_OK, (suffix, err)
        payload = json.loads(out.read_text(encoding="utf-8"))
        reports[suffix] = payload["sections"]["leaderboard"]["tables"]["Leaderboard"]
    first = reports.pop("csv")
    for suffix, board in reports.items():
        assert board == first, suffix


def test_formats(tmp_path, capsys):
    """Each --format with its options; the converted table has the expected size."""
    cases = {
        "arena": (pd.DataFrame({"question_id": [1, 1, 2, 2, 3, 3],
                                "model_a": ["x", "y", "x", "z", "y", "z"],
                                "model_b": ["y", "x", "z", "x", "z", "y"],
                                "winner": ["model_a", "model_b", "tie", "model_a",
                                           "model_b", "tie (bothbad)"]}),
                  ["--unit", "question_id"]),
        "rlhf": (pd.DataFrame({"prompt": ["p1", "p2"], "chosen": ["good", "fine"],
                               "rejected": ["bad", "poor"]}), []),
        "graded": (pd.DataFrame({"m1": ["x", "y", "x", "z"], "m2": ["y", "z", "z", "x"],
                                 "preference": ["a-is-better", "tie", "b-is-slightly-better",
                                                "a-is-slightly-better"],
                                 "who": ["r1", "r2", "r1", "r2"]}),
                   ["--item-a", "m1", "--item-b", "m2", "--outcome", "preference",
                    "--rater", "who"]),
        "counts": (pd.DataFrame({"item_a": ["x", "x", "y"], "item_b": ["y", "z", "z"],
                                 "wins_a": [3, 2, 4], "wins_b": [1, 2, 2],
                                 "draws": [1, 0, 2]}), ["--ties-column", "draws"]),
        "multi-annotator": (pd.DataFrame({"cmp_key": ["x_y", "y_z", "x_z", "x_y"],
                                          "ann1": [1, 0, 2, 1], "ann2": [1, 1, 2, 2]}),
                            ["--annotators", "ann1,ann2", "--codes", "0=tie,1=a,2=b",
                             "--pair-column", "cmp_key"]),
        "rankings": (pd.DataFrame({"s1": ["x", "y", "z"], "s2": ["y", "z", "x"],
                                   "s3": ["z", "x", "y"], "r1": [1, 2, -1], "r2": [2, 1, 1],
                                   "r3": [3, 3, 2], "judge": ["j1", "j2", "j1"]}),
                     ["--slots", "s1:r1,s2:r2,s3:r3", "--blank", "-1", "--rater", "judge"]),
        "winner-loser": (pd.DataFrame({"winner": ["x", "y", "z"],
                                       "loser": ["y", "z", "x"]}), []),
    }
    rows = {"arena": 6, "rlhf": 2, "graded": 4, "counts": 8, "multi-annotator": 8,
            "rankings": 7, "winner-loser": 3}
    for fmt, (frame, options) in cases.items():
        path = tmp_path / f"{fmt}.csv"
        frame.to_csv(path, index=False)
        out = tmp_path / f"{fmt}.json"
        code, _, err = _run(["audit", path, "--format", fmt, *options, "--n-boot", 10,
                             "--quiet", "--out", out], capsys)
        assert code == EXIT_OK, (fmt, err)
        facts = json.loads(out.read_text())["sections"]["overview"]["facts"]
        assert facts["rows"] == rows[fmt], fmt


def test_outputs_and_export(small_csv, tmp_path, capsys):
    html_out, md_out, pairs = tmp_path / "r.html", tmp_path / "r.md", tmp_path / "p.jsonl"
    code, _, err = _run(["audit", small_csv, "--rater", "rater", "--unit", "prompt",
                         "--n-boot", 20, "--out", html_out, "--export-rlhf", pairs], capsys)
    assert code == EXIT_OK
    assert "<h2>Leaderboard</h2>" in html_out.read_text(encoding="utf-8")
    assert f"report written to {html_out}" in err
    exported = pd.read_json(pairs, lines=True)
    assert list(exported.columns) == ["prompt", "chosen", "rejected"]
    code, _, _ = _run(["audit", small_csv, "--rater", "rater", "--n-boot", 0, "--quiet",
                       "--out", md_out, "--export-rlhf", pairs, "--drop", "downweight"],
                      capsys)
    assert code == EXIT_OK and md_out.read_text(encoding="utf-8").startswith("# prefstat")
    assert "weight" in pd.read_json(pairs, lines=True).columns


# -------------------------------------------------------------------- bad input
def test_wrong_columns(small, tmp_path, capsys):
    path = tmp_path / "t.csv"
    small.rename(columns={"outcome": "result"}).to_csv(path, index=False)
    _bad(["audit", path], capsys, "prefstat: error:", "'outcome'")
    _bad(["audit", path, "--format", "arena"], capsys, "model_a")
    _bad(["audit", path, "--outcome", "result", "--rater", "judge"], capsys, "'judge'")
    _bad(["audit", path, "--outcome", "result", "--unit", "question"], capsys,
         "unit='question'")
    _bad(["audit", path, "--format", "graded", "--outcome", "nope"], capsys, "'nope'")


def test_wrong_encoding(tmp_path, capsys):
    path = tmp_path / "latin1.csv"
    path.write_bytes("item_a,item_b,outcome\ncafé,thé,a\nthé,café,a\nthé,lait,b\n"
                     "lait,café,a\n".encode("latin-1"))
    _bad(["audit", path], capsys, "not UTF-8 text", "--encoding")
    code, _, err = _run(["audit", path, "--encoding", "latin-1", "--n-boot", 0, "--quiet"],
                        capsys)
    assert code == EXIT_OK, err
    _bad(["audit", path, "--encoding", "no-such-codec"], capsys, "--encoding")


def test_empty_and_unreadable_files(tmp_path, capsys):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    _bad(["audit", empty], capsys, "empty")
    header = tmp_path / "header.csv"
    header.write_text("item_a,item_b,outcome\n")
    _bad(["audit", header], capsys, "no rows")
    blank = tmp_path / "blank.csv"
    blank.write_text("\n\n")
    _bad(["audit", blank], capsys, "blank.csv")
    broken = tmp_path / "broken.json"
    broken.write_text('{"item_a": ["x", ')
    _bad(["audit", broken], capsys, "cannot be read as .json")
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"not a parquet file at all")
    _bad(["audit", garbage], capsys, "garbage.parquet")
    _bad(["audit", tmp_path / "absent.csv"], capsys, "no such file")
    other = tmp_path / "table.txt"
    other.write_text("x")
    _bad(["audit", other], capsys, "unknown file type '.txt'")
    _bad(["audit"], capsys, "give a FILE")
    _bad(["audit", other, "--demo"], capsys, "not both")


def test_unknown_outcome_labels(tmp_path, capsys):
    path = tmp_path / "t.csv"
    pd.DataFrame({"item_a": ["x", "y", "z"], "item_b": ["y", "z", "x"],
                  "outcome": ["a", "draw", "b"]}).to_csv(path, index=False)
    _bad(["audit", path], capsys, "'draw'")
    arena = tmp_path / "arena.csv"
    pd.DataFrame({"model_a": ["x", "y"], "model_b": ["y", "x"],
                  "winner": ["model_a", "model_c"]}).to_csv(arena, index=False)
    _bad(["audit", arena, "--format", "arena"], capsys, "'model_c'", "never maps")
    graded = tmp_path / "graded.csv"
    pd.DataFrame({"item_a": ["x", "y"], "item_b": ["y", "x"],
                  "outcome": ["better", "worse"]}).to_csv(graded, index=False)
    _bad(["audit", graded, "--format", "graded"], capsys, "--levels")
    _bad(["audit", graded, "--format", "graded", "--levels", "better,same"], capsys,
         "'worse'")
    multi = tmp_path / "multi.csv"
    pd.DataFrame({"item_a": ["x"], "item_b": ["y"], "ann": [7]}).to_csv(multi, index=False)
    _bad(["audit", multi, "--format", "multi-annotator", "--annotators", "ann", "--codes",
          "0=tie,1=a,2=b"], capsys, "7")
    _bad(["audit", multi, "--format", "multi-annotator", "--annotators", "ann"], capsys,
         "--codes")


def test_excel_without_openpyxl_or_broken(tmp_path, capsys, monkeypatch):
    path = tmp_path / "table.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a workbook")
    if __import__("importlib").util.find_spec("openpyxl") is not None:
        _bad(["audit", path], capsys, "cannot be read as .xlsx")
    monkeypatch.setitem(sys.modules, "openpyxl", None)
    _bad(["audit", path], capsys, "needs openpyxl", "prefstat[excel]")


def test_bad_options_are_one_line(capsys, tmp_path):
    _bad(["audit", tmp_path / "x.csv", "--format", "nope"], capsys, "invalid choice")
    _bad(["audit", tmp_path / "x.csv", "--n-boot", "many"], capsys, "--n-boot")
    _bad(["frobnicate"], capsys, "invalid choice")


def test_internal_failure_is_exit_1_in_one_line(small_csv, capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("something broke\ninside")

    monkeypatch.setattr("prefstat.cli.audit", broken)
    code, _, err = _run(["audit", small_csv], capsys)
    assert code == EXIT_INTERNAL
    assert err.strip().splitlines() == [
        "prefstat: internal error (RuntimeError: something broke inside); please report it"]


def test_bad_input_from_a_real_process_has_no_traceback(tmp_path):
    path = tmp_path / "t.csv"
    pd.DataFrame({"a": [1], "b": [2]}).to_csv(path, index=False)
    result = subprocess.run([sys.executable, "-m", "prefstat.cli", "audit", str(path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == EXIT_BAD_INPUT
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_help_and_version(capsys):
    assert _run(["--version"], capsys)[:2] == (EXIT_OK, prefstat.__version__ + "\n")
    code, out, _ = _run(["audit", "--help"], capsys)
    assert code == EXIT_OK and "--unit" in out and "--export-rlhf" in out
    assert np.isin(["--format", "--model"], _run(["fit", "--help"], capsys)[1].split()).all()
