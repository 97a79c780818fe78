"""The ``prefstat`` command line: ``prefstat audit`` and ``prefstat fit``.

Exit codes: 0 success; 2 bad input (unreadable file, wrong columns, unusable
values), with a one-line reason on stderr; 1 an internal failure.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from . import convert
from .audit import audit
from .exceptions import PrefstatError
from .models import BradleyTerry, Thurstone

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT = 0, 1, 2
FORMATS = ("pairs", "arena", "winner-loser", "rlhf")


class BadInput(Exception):
    """A problem with the user's file or arguments."""


def read_table(path: str) -> pd.DataFrame:
    """Read CSV, Parquet, JSON Lines, JSON or Excel by file extension."""
    p = Path(path)
    if not p.exists():
        raise BadInput(f"{path}: no such file")
    suffix = "".join(p.suffixes[-2:]) if p.suffix == ".gz" else p.suffix
    try:
        if suffix in (".csv", ".csv.gz"):
            return pd.read_csv(p)
        if suffix in (".tsv",):
            return pd.read_csv(p, sep="\t")
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(p)
        if suffix in (".jsonl", ".jsonl.gz", ".ndjson"):
            return pd.read_json(p, lines=True)
        if suffix == ".json":
            return pd.read_json(p)
        if suffix in (".xlsx", ".xls"):
            return pd.read_excel(p)
    except UnicodeDecodeError as err:
        raise BadInput(f"{path}: not UTF-8 text ({err.reason}); re-encode it as UTF-8") from err
    except (ValueError, OSError, ImportError) as err:
        raise BadInput(f"{path}: cannot be read as {suffix} ({err})") from err
    raise BadInput(f"{path}: unknown file type {suffix!r}; use .csv, .parquet, .jsonl, "
                   ".json or .xlsx")


def to_canonical(df: pd.DataFrame, args: argparse.Namespace) -> pd.DataFrame:
    """Convert the file's format to the canonical comparison table."""
    if args.format == "arena":
        return convert.from_arena(df, judge=args.rater)
    if args.format == "winner-loser":
        return convert.from_winner_loser(df)
    if args.format == "rlhf":
        return convert.from_rlhf(df, prompt=args.prompt)
    return df


def _demo_data() -> pd.DataFrame:
    from .datasets import simulate_comparisons

    sim = simulate_comparisons(
        n_items=12, n_comparisons=6000, n_raters=30, tie_parameter=-1.0, order_effect=0.3,
        n_spammers=3, n_biased_raters=1, intransitive_cluster=3, random_state=2026,
    )
    return sim.data


def _columns(args: argparse.Namespace) -> dict[str, str | None]:
    out: dict[str, str | None] = {"item_a": args.item_a, "item_b": args.item_b,
                                  "outcome": args.outcome, "weight": args.weight}
    if args.format == "pairs" and args.rater:
        out["rater"] = args.rater
    return out


def cmd_audit(args: argparse.Namespace) -> int:
    """Run ``prefstat audit``."""
    if args.demo:
        df = _demo_data()
        columns = {"rater": "rater"}
        print("prefstat audit --demo: 6,000 simulated judgements of 12 items by 30 raters "
              "(3 spammers, 1 position-biased rater, a planted 3-cycle)", file=sys.stderr)
    else:
        if not args.file:
            raise BadInput("give a FILE to audit, or --demo")
        df = to_canonical(read_table(args.file), args)
        columns = _columns(args)
        if args.format != "pairs" and args.rater:
            columns["rater"] = "rater"
    report = audit(df, **columns)
    if args.out:
        out = Path(args.out)
        text = report.to_json() if out.suffix == ".json" else report.to_markdown()
        out.write_text(text, encoding="utf-8")
        print(f"report written to {out}", file=sys.stderr)
    print(report.summary())
    return EXIT_OK


def cmd_fit(args: argparse.Namespace) -> int:
    """Run ``prefstat fit``."""
    df = to_canonical(read_table(args.file), args)
    cls = {"bt": BradleyTerry, "thurstone": Thurstone}[args.model]
    kwargs = {"order_effect": args.order_effect, "penalty": args.penalty,
              "reference": args.reference}
    if args.ties == "half":
        kwargs["tie_handling"] = "half"
    elif args.ties:
        kwargs["ties"] = args.ties
    columns = _columns(args)
    model = cls(**kwargs).fit(df, **{k: v for k, v in columns.items() if k != "rater"})
    table = model.strengths_.reset_index()
    if args.out and args.out.endswith(".json"):
        Path(args.out).write_text(table.to_json(orient="records", indent=2), encoding="utf-8")
    elif args.out:
        table.to_csv(args.out, index=False)
    else:
        print(table.to_csv(index=False), end="")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``prefstat`` command."""
    parser = argparse.ArgumentParser(prog="prefstat", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--format", choices=FORMATS, default="pairs",
                       help="layout of the file (default: the canonical pairs table)")
        p.add_argument("--item-a", default="item_a", help="column of the first-shown item")
        p.add_argument("--item-b", default="item_b", help="column of the second-shown item")
        p.add_argument("--outcome", default="outcome", help="outcome column (a/b/tie or 1/0/0.5)")
        p.add_argument("--weight", default=None, help="column of row weights")
        p.add_argument("--rater", default=None, help="column of the rater / judge")
        p.add_argument("--prompt", default=None, help="prompt column (rlhf format)")
        p.add_argument("--out", default=None, help="output file")

    p_audit = sub.add_parser("audit", help="label-quality report for a comparison table")
    p_audit.add_argument("file", nargs="?", help="CSV, Parquet, JSON Lines, JSON or Excel file")
    p_audit.add_argument("--demo", action="store_true", help="audit a bundled demo dataset")
    common(p_audit)
    p_audit.set_defaults(func=cmd_audit)

    p_fit = sub.add_parser("fit", help="fit a model and write the strengths table")
    p_fit.add_argument("file")
    p_fit.add_argument("--model", choices=("bt", "thurstone"), default="bt")
    p_fit.add_argument("--ties", choices=("davidson", "rao-kupper", "half"), default=None)
    p_fit.add_argument("--order-effect", action="store_true")
    p_fit.add_argument("--penalty", type=float, default=0.0)
    p_fit.add_argument("--reference", default=None)
    common(p_fit)
    p_fit.set_defaults(func=cmd_fit)
    return parser


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
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (BadInput, PrefstatError) as err:
        print(f"prefstat: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as err:
        print(f"prefstat: internal error ({type(err).__name__}): {err}", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
