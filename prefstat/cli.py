"""The ``prefstat`` command line: ``prefstat audit`` and ``prefstat fit``.

``prefstat audit FILE`` reads a table (CSV, TSV, Parquet, JSON Lines, JSON or
Excel, by file extension), converts it from its ``--format`` to the canonical
comparison table with :mod:`prefstat.convert`, runs :func:`prefstat.audit` and
writes the report (``--out report.html``, ``.md`` or ``.json``); its summary
goes to standard output and progress to standard error. ``prefstat audit
--demo`` audits a simulated table with planted problems. ``prefstat fit FILE``
fits one model and writes its strengths table.

Exit codes: 0 success; 2 bad input (unreadable file, wrong columns, unusable
values, a missing optional reader), with a one-line reason on standard error;
1 an internal failure, also in one line. Never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pandas as pd

import prefstat

from . import convert
from .audit import DEFAULT_N_BOOT, audit
from .datasets import SimulatedComparisons, simulate_comparisons
from .exceptions import PrefstatError
from .models import BradleyTerry, Thurstone

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT = 0, 1, 2
FORMATS = ("pairs", "arena", "rlhf", "graded", "rankings", "counts", "multi-annotator",
           "winner-loser")
#: Graded scales recognised without ``--levels``, strongest preference for item_a first.
KNOWN_SCALES: tuple[tuple[str, ...], ...] = (
    ("a-is-better", "a-is-slightly-better", "tie", "b-is-slightly-better", "b-is-better"),
)
#: The demo: every argument of :func:`prefstat.datasets.simulate_comparisons`. Three raters
#: answer at random, one favours the first-shown answer, and three items of similar strength
#: form a cycle. Strengths spread wide (sd 2.5) and 400 judgements per rater make the planted
#: raters stand out from honest disagreement; checked over 20 seeds in tests/test_cli.py.
DEMO = {
    "n_items": 10, "n_comparisons": 8000, "n_raters": 20, "strength_sd": 2.5,
    "tie_parameter": -1.0, "order_effect": 0.2, "n_spammers": 3, "n_biased_raters": 1,
    "intransitive_cluster": 3, "prompts": 40, "random_state": 2026,
}
_READERS = {".xlsx": "openpyxl", ".xlsm": "openpyxl", ".parquet": "pyarrow",
            ".pq": "pyarrow"}
_EXTRAS = {"openpyxl": "excel", "pyarrow": "parquet"}


class BadInput(Exception):
    """A problem with the user's file or arguments (exit code 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse, with a one-line error and exit code 2 instead of usage text."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def demo_simulation(**overrides: Any) -> SimulatedComparisons:
    """Simulate the demo's table, with its truth (see :data:`DEMO`).

    Parameters
    ----------
    **overrides
        Arguments of :func:`prefstat.datasets.simulate_comparisons` to change
        (e.g. ``random_state``).

    Returns
    -------
    prefstat.datasets.SimulatedComparisons
        ``data`` has columns ``item_a, item_b, outcome, rater, prompt``.

    Examples
    --------
    >>> sim = demo_simulation()
    >>> sim.data.shape, int(sim.raters["is_spammer"].sum())
    ((8000, 5), 3)
    """
    return simulate_comparisons(**{**DEMO, **overrides})


# --------------------------------------------------------------------------- reading
def read_table(path: str, encoding: str | None = None, sheet: str | None = None
               ) -> pd.DataFrame:
    """Read CSV, TSV, Parquet, JSON Lines, JSON or Excel, by file extension.

    Parameters
    ----------
    path : str
        The file; ``.gz`` is allowed after ``.csv``, ``.tsv`` and ``.jsonl``.
    encoding : str, optional
        Text encoding of CSV, TSV and JSON files (default UTF-8).
    sheet : str, optional
        Excel sheet name (default: the first sheet).

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    BadInput
        The file is missing, empty, not decodable, not of its type, of an
        unknown type, or needs a reader that is not installed.
    """
    p = Path(path)
    if not p.is_file():
        raise BadInput(f"{path}: no such file")
    suffixes = [s.lower() for s in p.suffixes]
    suffix = "".join(suffixes[-2:]) if suffixes[-1:] == [".gz"] else "".join(suffixes[-1:])
    readers: dict[str, Callable[[], pd.DataFrame]] = {
        ".csv": lambda: pd.read_csv(p, encoding=encoding),
        ".csv.gz": lambda: pd.read_csv(p, encoding=encoding),
        ".tsv": lambda: pd.read_csv(p, sep="\t", encoding=encoding),
        ".tsv.gz": lambda: pd.read_csv(p, sep="\t", encoding=encoding),
        ".parquet": lambda: pd.read_parquet(p),
        ".pq": lambda: pd.read_parquet(p),
        ".jsonl": lambda: pd.read_json(p, lines=True, encoding=encoding),
        ".jsonl.gz": lambda: pd.read_json(p, lines=True, encoding=encoding),
        ".ndjson": lambda: pd.read_json(p, lines=True, encoding=encoding),
        ".json": lambda: pd.read_json(p, encoding=encoding),
        ".xlsx": lambda: pd.read_excel(p, sheet_name=sheet or 0),
        ".xlsm": lambda: pd.read_excel(p, sheet_name=sheet or 0),
    }
    if suffix not in readers:
        raise BadInput(f"{path}: unknown file type {suffix or '(none)'!r}; use .csv, .tsv, "
                       ".parquet, .jsonl, .json or .xlsx")
    if p.stat().st_size == 0:
        raise BadInput(f"{path}: the file is empty")
    module = _READERS.get(suffix)
    try:
        if module is not None:
            importlib.import_module(module)
        table = readers[suffix]()
    except ImportError as err:
        module = module or getattr(err, "name", None) or "a reader"
        raise BadInput(f"{path}: reading {suffix} files needs {module}, which is not "
                       f"installed; pip install 'prefstat[{_EXTRAS.get(module, 'all')}]'"
                       ) from err
    except UnicodeDecodeError as err:
        raise BadInput(
            f"{path}: not {encoding or 'UTF-8'} text (byte 0x{err.object[err.start]:02x} at "
            f"position {err.start}); pass --encoding with the file's encoding, e.g. "
            "--encoding latin-1") from err
    except LookupError as err:
        raise BadInput(f"--encoding: {err}") from err
    except pd.errors.EmptyDataError as err:
        raise BadInput(f"{path}: the file has no columns ({err})") from err
    except (ValueError, OSError, zipfile.BadZipFile) as err:
        detail = " ".join(str(err).split())[:200]
        raise BadInput(f"{path}: cannot be read as {suffix} ({type(err).__name__}: "
                       f"{detail})") from err
    if table.shape[1] == 0 or len(table) == 0:
        raise BadInput(f"{path}: the table has no rows")
    return table


# ------------------------------------------------------------------------ conversion
def _split(text: str | None, what: str) -> list[str]:
    if text is None:
        return []
    parts = [t.strip() for t in text.split(",")]
    if not all(parts):
        raise BadInput(f"{what}: empty entry in {text!r}; give a comma-separated list")
    return parts


def _as_value(text: str, like: pd.Series) -> Any:
    """Read a command-line token as a value of the column's kind (numbers stay numbers)."""
    if text.lower() == "nan":
        return np.nan
    if pd.api.types.is_numeric_dtype(like) and not pd.api.types.is_bool_dtype(like):
        try:
            number = float(text)
        except ValueError:
            return text
        return int(number) if number.is_integer() else number
    return text


def _need(value: str | None, option: str, fmt: str) -> str:
    if value is None:
        raise BadInput(f"--format {fmt} needs {option}")
    return value


def _columns_present(df: pd.DataFrame, names: Sequence[str], fmt: str) -> None:
    missing = [c for c in names if c not in df.columns]
    if missing:
        shown = ", ".join(repr(str(c)) for c in list(df.columns)[:12])
        raise BadInput(f"--format {fmt}: column(s) {', '.join(map(repr, missing))} not in the "
                       f"file; its columns are {shown}")


def _levels(args: argparse.Namespace, values: pd.Series) -> list[str]:
    if args.levels:
        return _split(args.levels, "--levels")
    seen = set(values.dropna().astype(str))
    for scale in KNOWN_SCALES:
        if seen <= set(scale):
            return list(scale)
    raise BadInput("--format graded needs --levels: the scale's labels, comma-separated, from "
                   "the strongest preference for item_a to the strongest for item_b")


def _rankings(df: pd.DataFrame, args: argparse.Namespace) -> pd.DataFrame:
    """Build the long ranking table from wide slots, wide item columns or a long table."""
    blank = None
    if args.blank is not None:
        blank = np.nan if args.blank.lower() == "nan" else _as_value(args.blank, pd.Series([0]))
    if args.slots:
        slots = []
        for pair in _split(args.slots, "--slots"):
            item, sep, rank = pair.partition(":")
            if not sep or not item or not rank:
                raise BadInput(f"--slots: {pair!r} is not ITEM_COLUMN:RANK_COLUMN")
            slots.append((item, rank))
        return convert.from_wide_rankings(df, slots=slots, ranking_id=args.ranking,
                                          blank=blank, gaps=args.gaps)
    if args.rank_columns:
        return convert.from_wide_rankings(df, items=_split(args.rank_columns, "--rank-columns"),
                                          ranking_id=args.ranking, blank=blank, gaps=args.gaps)
    return convert.validate_rankings(df, ranking=args.ranking or "ranking_id",
                                     item=args.item or "item", rank=args.rank or "rank",
                                     gaps=args.gaps)


def to_canonical(df: pd.DataFrame, args: argparse.Namespace
                 ) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Convert the file's ``--format`` to the canonical table and the audit's column arguments.

    Parameters
    ----------
    df : pandas.DataFrame
        The file as read.
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    table : pandas.DataFrame
        The canonical comparison table.
    columns : dict
        ``item_a, item_b, outcome, rater, weight, unit, cluster`` for
        :func:`prefstat.audit`.
    """
    fmt = args.format
    rater = args.rater
    columns: dict[str, Any] = {"item_a": "item_a", "item_b": "item_b", "outcome": "outcome",
                               "rater": "rater" if rater else None, "weight": None,
                               "unit": args.unit, "cluster": args.cluster}
    if fmt == "pairs":
        columns.update(item_a=args.item_a or "item_a", item_b=args.item_b or "item_b",
                       outcome=args.outcome or "outcome", rater=rater, weight=args.weight)
        return df, columns
    if fmt == "arena":
        table = convert.from_arena(df, model_a=args.item_a or "model_a",
                                   model_b=args.item_b or "model_b",
                                   winner=args.outcome or "winner", judge=rater)
    elif fmt == "winner-loser":
        table = convert.from_winner_loser(df, winner=args.item_a or "winner",
                                          loser=args.item_b or "loser", rater=rater)
    elif fmt == "rlhf":
        prompt = args.prompt if args.prompt else ("prompt" if "prompt" in df.columns else None)
        table = convert.from_rlhf(df, chosen=args.chosen or "chosen",
                                  rejected=args.rejected or "rejected", prompt=prompt)
        if prompt is not None and columns["unit"] is None:
            columns["unit"] = "prompt"
    elif fmt == "graded":
        column = args.outcome or "outcome"
        _columns_present(df, [column], fmt)
        table = convert.from_graded(df, column, _levels(args, df[column]),
                                    item_a=args.item_a or "item_a",
                                    item_b=args.item_b or "item_b", rater=rater)
    elif fmt == "counts":
        table = convert.from_counts(df, item_a=args.item_a or "item_a",
                                    item_b=args.item_b or "item_b",
                                    wins_a=args.wins_a or "wins_a",
                                    wins_b=args.wins_b or "wins_b", ties=args.ties_column)
        columns["weight"] = "weight"
    elif fmt == "multi-annotator":
        annotators = _split(_need(args.annotators, "--annotators A,B,C", fmt), "--annotators")
        _columns_present(df, annotators, fmt)
        codes = {}
        for entry in _split(_need(args.codes, "--codes (e.g. 0=tie,1=a,2=b)", fmt), "--codes"):
            key, sep, value = entry.partition("=")
            if not sep:
                raise BadInput(f"--codes: {entry!r} is not LABEL=OUTCOME")
            codes[_as_value(key, df[annotators[0]])] = value
        item_a, item_b = args.item_a or "item_a", args.item_b or "item_b"
        if args.pair_column:
            _columns_present(df, [args.pair_column], fmt)
            parts = df[args.pair_column].astype(str).str.split(args.pair_sep, n=1, regex=False)
            bad = parts.str.len() != 2
            if bad.any():
                raise BadInput(f"--pair-column {args.pair_column!r}: {int(bad.sum())} value(s) "
                               f"do not split in two at {args.pair_sep!r}, e.g. "
                               f"{df[args.pair_column][bad].iloc[0]!r}")
            df = df.assign(_item_a=parts.str[0], _item_b=parts.str[1])
            item_a, item_b = "_item_a", "_item_b"
        table = convert.from_multi_annotator(df, annotators, codes, item_a=item_a,
                                             item_b=item_b, missing=args.missing)
        columns["rater"] = "rater"
        if columns["unit"] is None:
            columns["unit"] = "unit"
    elif fmt == "rankings":
        long = _rankings(df, args)
        if rater is not None:
            _columns_present(long, [rater], fmt)
        table = convert.rankings_to_pairs(long, rater=rater)
        if columns["cluster"] is None:
            columns["cluster"] = "ranking_id"
    else:  # argparse restricts the choices
        raise BadInput(f"unknown --format {fmt!r}")
    return table, columns


# ------------------------------------------------------------------------- commands
def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cmd_audit(args: argparse.Namespace) -> int:
    """Run ``prefstat audit``."""
    if args.demo:
        if args.file:
            raise BadInput("give either FILE or --demo, not both")
        sim = demo_simulation()
        table = sim.data
        columns = {"rater": "rater", "unit": "prompt"}
        if not args.quiet:
            _stderr(f"prefstat audit --demo: {DEMO['n_comparisons']:,} simulated judgements "
                    f"of {DEMO['n_items']} items by {DEMO['n_raters']} raters on "
                    f"{DEMO['prompts']} prompts, with {DEMO['n_spammers']} raters answering "
                    f"at random, {DEMO['n_biased_raters']} favouring the first-shown answer "
                    f"and a planted {DEMO['intransitive_cluster']}-item cycle")
    else:
        if not args.file:
            raise BadInput("give a FILE to audit, or --demo")
        table, columns = to_canonical(read_table(args.file, args.encoding, args.sheet), args)
    report = audit(table, **columns, n_boot=args.n_boot, elo=args.elo,
                   random_state=args.seed, progress=False if args.quiet else _stderr)
    out = Path(args.out) if args.out else None
    if out is not None:
        suffix = out.suffix.lower()
        if suffix in (".html", ".htm"):
            report.to_html(out)
        elif suffix == ".json":
            report.to_json(out)
        elif suffix in (".md", ".markdown", ".txt"):
            report.to_markdown(out)
        else:
            raise BadInput(f"--out {args.out}: use a .html, .md or .json file name")
        if not args.quiet:
            _stderr(f"prefstat audit: report written to {out}")
    if args.export_rlhf:
        pairs = report.export_rlhf(args.export_rlhf, drop=args.drop)
        if not args.quiet:
            _stderr(f"prefstat audit: {len(pairs):,} prompt/chosen/rejected pairs written to "
                    f"{args.export_rlhf}")
    print(report.summary())
    return EXIT_OK


def _ties_kwargs(ties: str | None) -> dict[str, Any]:
    if ties == "half":
        return {"tie_handling": "half"}
    return {"ties": ties} if ties else {}


def cmd_fit(args: argparse.Namespace) -> int:
    """Run ``prefstat fit``."""
    df = read_table(args.file, args.encoding, args.sheet)
    if args.model == "pl":
        if not hasattr(prefstat, "PlackettLuce"):
            raise BadInput("--model pl: the Plackett–Luce model is not available in this "
                           "version of prefstat")
        if args.format != "rankings":
            raise BadInput("--model pl fits rankings; pass --format rankings (with --slots, "
                           "--rank-columns or a long ranking_id/item/rank table)")
        if args.ties not in (None, "davidson"):
            raise BadInput(f"--model pl supports --ties davidson only, not {args.ties!r}")
        model = prefstat.PlackettLuce(**_ties_kwargs(args.ties)).fit(_rankings(df, args))
    else:
        table, columns = to_canonical(df, args)
        cls = {"bt": BradleyTerry, "thurstone": Thurstone}[args.model]
        model = cls(order_effect=args.order_effect, penalty=args.penalty,
                    reference=args.reference, **_ties_kwargs(args.ties))
        model.fit(table, item_a=columns["item_a"], item_b=columns["item_b"],
                  outcome=columns["outcome"], weight=columns["weight"])
    strengths = model.strengths_.reset_index()
    out = args.out
    if out and out.lower().endswith(".json"):
        Path(out).write_text(strengths.to_json(orient="records", indent=2, double_precision=15),
                             encoding="utf-8")
    elif out:
        strengths.to_csv(out, index=False)
    else:
        print(strengths.to_csv(index=False), end="")
    return EXIT_OK


# --------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``prefstat`` command.

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = _Parser(prog="prefstat", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=prefstat.__version__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def reading(p: argparse.ArgumentParser) -> None:
        g = p.add_argument_group("reading the file")
        g.add_argument("--format", choices=FORMATS, default="pairs",
                       help="layout of the file (default: the canonical pairs table)")
        g.add_argument("--encoding", default=None,
                       help="text encoding of CSV/JSON files (default UTF-8)")
        g.add_argument("--sheet", default=None, help="Excel sheet (default: the first)")
        g = p.add_argument_group("columns (defaults depend on --format)")
        g.add_argument("--item-a", default=None,
                       help="first-shown item (pairs: item_a; arena: model_a; winner-loser: "
                            "winner)")
        g.add_argument("--item-b", default=None,
                       help="second-shown item (pairs: item_b; arena: model_b)")
        g.add_argument("--outcome", default=None,
                       help="outcome column (pairs: outcome; arena: winner; graded: the grade)")
        g.add_argument("--weight", default=None, help="row weights (pairs)")
        g.add_argument("--rater", default=None, help="rater / judge / annotator column")
        g.add_argument("--levels", default=None,
                       help="graded: the scale's labels, comma-separated, item_a's strongest "
                            "first")
        g.add_argument("--prompt", default=None, help="rlhf: prompt column (default: prompt)")
        g.add_argument("--chosen", default=None, help="rlhf: chosen column (default: chosen)")
        g.add_argument("--rejected", default=None,
                       help="rlhf: rejected column (default: rejected)")
        g.add_argument("--wins-a", default=None, help="counts: wins of item_a (wins_a)")
        g.add_argument("--wins-b", default=None, help="counts: wins of item_b (wins_b)")
        g.add_argument("--ties-column", default=None, help="counts: number of ties")
        g.add_argument("--annotators", default=None,
                       help="multi-annotator: the label columns, comma-separated")
        g.add_argument("--codes", default=None,
                       help="multi-annotator: LABEL=OUTCOME,... e.g. 0=tie,1=a,2=b")
        g.add_argument("--pair-column", default=None,
                       help="multi-annotator: one column naming both items, split at "
                            "--pair-sep (e.g. PandaLM's cmp_key)")
        g.add_argument("--pair-sep", default="_", help="separator of --pair-column (_)")
        g.add_argument("--missing", choices=("error", "drop"), default="error",
                       help="multi-annotator: an empty label cell is an error, or no label")
        g.add_argument("--slots", default=None,
                       help="rankings: ITEM_COL:RANK_COL,... one per displayed slot (WMT)")
        g.add_argument("--rank-columns", default=None,
                       help="rankings: one column per item holding its rank")
        g.add_argument("--ranking", default=None,
                       help="rankings: ranking id column (default: ranking_id, or the row)")
        g.add_argument("--item", default=None, help="rankings, long table: item column")
        g.add_argument("--rank", default=None, help="rankings, long table: rank column")
        g.add_argument("--blank", default=None,
                       help="rankings: the cell value meaning 'not ranked' (e.g. -1 or nan)")
        g.add_argument("--gaps", choices=("error", "rerank"), default="error",
                       help="rankings: gaps in ranks are an error, or reranked densely")

    p_audit = sub.add_parser("audit", help="label-quality report for a comparison table",
                             description="Audit a preference table and write a report.")
    p_audit.add_argument("file", nargs="?",
                         help="CSV, TSV, Parquet, JSON Lines, JSON or Excel file")
    p_audit.add_argument("--demo", action="store_true",
                         help="audit a simulated table with planted problems")
    reading(p_audit)
    g = p_audit.add_argument_group("the audit")
    g.add_argument("--unit", default=None,
                   help="column of the thing judged (prompt, question id): agreement is per "
                        "unit and the bootstrap resamples units")
    g.add_argument("--cluster", default=None,
                   help="column the bootstrap resamples, if not --unit (rankings: ranking_id)")
    g.add_argument("--n-boot", type=int, default=DEFAULT_N_BOOT,
                   help=f"bootstrap replicates (default {DEFAULT_N_BOOT}; 2000 to publish)")
    g.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    g.add_argument("--elo", action="store_true", help="add Elo-scale ratings")
    g.add_argument("--out", default=None, help="write the report: .html, .md or .json")
    g.add_argument("--export-rlhf", default=None, metavar="PATH",
                   help="write cleaned prompt/chosen/rejected pairs (.jsonl, .csv, ...)")
    g.add_argument("--drop", choices=("flagged", "none", "downweight"), default="flagged",
                   help="--export-rlhf: leave out flagged rows (default), keep all, or add a "
                        "weight column")
    g.add_argument("--quiet", action="store_true", help="no progress on standard error")
    p_audit.set_defaults(func=cmd_audit)

    p_fit = sub.add_parser("fit", help="fit a model and write the strengths table",
                           description="Fit a model and write its strengths table.")
    p_fit.add_argument("file", help="CSV, TSV, Parquet, JSON Lines, JSON or Excel file")
    reading(p_fit)
    g = p_fit.add_argument_group("the model")
    g.add_argument("--model", choices=("bt", "thurstone", "pl"), default="bt",
                   help="Bradley–Terry, Thurstone or Plackett–Luce (rankings)")
    g.add_argument("--ties", choices=("davidson", "rao-kupper", "half"), default=None,
                   help="ties model, or 'half' (a tie counts half a win each way)")
    g.add_argument("--order-effect", action="store_true",
                   help="estimate an advantage of the first-shown item")
    g.add_argument("--penalty", type=float, default=0.0, help="ridge penalty on strengths")
    g.add_argument("--reference", default=None, help="item whose strength is fixed at 0")
    g.add_argument("--unit", default=None, help=argparse.SUPPRESS)
    g.add_argument("--cluster", default=None, help=argparse.SUPPRESS)
    g.add_argument("--out", default=None, help="write the table: .csv (default) or .json")
    p_fit.set_defaults(func=cmd_fit)
    return parser


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 2 on bad input, 1 on an internal failure.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help, --version, or a usage error (already printed)
        return int(stop.code or 0)
    if getattr(args, "drop", None) is not None:
        args.drop = {"flagged": True, "none": False, "downweight": "downweight"}[args.drop]
    try:
        return int(args.func(args))
    except (BadInput, PrefstatError) as err:
        print(f"prefstat: error: {_one_line(err)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("prefstat: interrupted", file=sys.stderr)
        return EXIT_INTERNAL
    except Exception as err:
        print(f"prefstat: internal error ({type(err).__name__}: {_one_line(err)}); please "
              "report it", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
