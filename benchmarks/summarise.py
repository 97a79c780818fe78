"""Run every benchmark in benchmarks/ at a small size and write benchmarks/README.md.

Run from the project root::

    python benchmarks/summarise.py            # small sizes, a few minutes
    python benchmarks/summarise.py --full     # each script's default sizes (long)
    python benchmarks/summarise.py --full ingest.py parquet_stream.py   # those at full size
    python benchmarks/summarise.py --only ingest.py parquet_stream.py --out /tmp/x.md

Each script runs in its own process; its output goes into the README under its
name, with the command, the date and a note on the machine. "What it measures"
is the first line of each script's docstring. A script in benchmarks/ missing
from ``BENCHMARKS`` is listed as not summarised, so new scripts are noticed.
"""

from __future__ import annotations

import argparse
import ast
import datetime
import importlib.metadata
import importlib.util
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TIMEOUT_SECONDS = 3600


@dataclass(frozen=True)
class Benchmark:
    script: str
    small: tuple[str, ...]
    headline: Callable[[str], str]
    needs: tuple[str, ...] = ()


def _rows(text: str, pattern: str) -> list[re.Match[str]]:
    return list(re.finditer(pattern, text, flags=re.MULTILINE))


def _aggregate(out: str) -> str:
    rows = _rows(out, r"^\s*(\d+)\s+(True|False)\s+(True|False)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)")
    worst = max(rows, key=lambda m: float(m[6]))
    return (f"worst aggregate/floor ratio {worst[6]} (n_items {worst[1]}, ordered {worst[2]}, "
            f"weighted {worst[3]}); target <= 3")


def _bootstrap(out: str) -> str:
    m = _rows(out, r"^\s*(\d+)\s+(\d+)\s+\d+\s+(\w+)\s+(\d+)\s+[\d.]+\s+([\d.]+)\s+([\d.]+)")[-1]
    return (f"{m[4]} replicates, {m[1]} items, {int(m[2]):,} rows: {m[5]} s "
            f"({m[6]} ms per replicate)")


def _fastest_peer(out: str) -> str:
    tail = out.split("prefstat faster):", 1)[1]
    ratios = _rows(tail, r"^\s*(\d+)\s+(\d+)(?:\s+(\d+))?\s+([\d.]+)\s*$")
    sizes = ", ".join(f"{m[1]}:{m[2]}" + (f":{m[3]}" if m[3] else "") + f" → {float(m[4]):.2f}"
                      for m in ratios)
    return f"fastest peer's time / prefstat's (> 1: prefstat faster): {sizes}"


def _bt_large(out: str) -> str:
    m = _rows(out, r"^\s*(\d+)\s+(\d+)\s+\d+\s+([\d.e+]+)\s+[\d.e+]+\s+([\d.e+]+)")[-1]
    return (f"{int(m[1]):,} items, {int(m[2]):,} rows: {float(m[3]):.3g} s, "
            f"peak {float(m[4]):.4g} MiB; target < 30 s, < 4096 MiB at 10^5 x 10^7")


def _transitivity(out: str) -> str:
    return out.strip().splitlines()[0]


def _ingest(out: str) -> str:
    rows = _rows(out, r"^\s*(\S+)\s+from_frame\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)x")
    return "from_frame, general → fast: " + ", ".join(
        f"{m[1]} {m[2]} → {m[3]} s" for m in rows)


def _parquet_stream(out: str) -> str:
    runs = _rows(out, r"^\s*(stream|in-memory)\s+([\d,]+)\s+([\d.]+)\s+([\d.]+)\s+(\d+)")
    parts = [f"{m[1]} {m[2]} rows {m[3]} s, peak {m[5]} MiB" for m in runs]
    same = "True" in out.split("in-memory counts", 1)[-1]
    return "; ".join(parts) + f"; counts equal: {same}"


def _dask(out: str) -> str:
    times = _rows(out, r"^\s*(aggregate_\w+)\s+([\d.]+)")
    same = re.search(r"same counts: (\w+)", out)
    return (", ".join(f"{m[1]} {m[2]} s" for m in times)
            + f"; same counts: {same[1] if same else '?'}")


def _rater_effects(out: str) -> str:
    rows = _rows(out, r"^\s*(\d+)\s+(\d+)\s+(\d+)\s+(position_bias|\+ reliability)\s+([\d.]+)")
    return ("RaterBradleyTerry, " + ", ".join(
        f"{m[4]} at {m[1]} items x {m[2]} raters x {int(m[3]):,}: {m[5]} s" for m in rows)
        + "; target < 60 s at 10^3 x 10^3 x 10^6")


BENCHMARKS = [
    Benchmark("aggregate.py", ("--rows", "1000000", "--items", "200", "10000", "--repeat", "1"),
              _aggregate),
    Benchmark("bt_vs_peers.py", ("--sizes", "50:1e4", "200:1e5", "--repeat", "1"),
              _fastest_peer, needs=("choix", "sklearn")),
    Benchmark("pl_vs_choix.py", ("--sizes", "20:1e3:5", "100:1e4:10", "--repeat", "1"),
              _fastest_peer, needs=("choix",)),
    Benchmark("bootstrap.py", ("--sizes", "100:1e5", "--n-boot", "50", "--no-cluster"),
              _bootstrap),
    Benchmark("bt_large.py", ("--items", "1e4", "--rows", "1e6"), _bt_large),
    Benchmark("rater_effects.py", ("--sizes", "100:100:1e5"), _rater_effects),
    Benchmark("transitivity.py", ("--sizes", "100:1e5"), _transitivity),
    Benchmark("ingest.py", ("--rows", "1e6"), _ingest),
    Benchmark("parquet_stream.py",
              ("--rows", "4e6", "--compare-rows", "1e6", "--rows-per-file", "1e6",
               "--items", "100"),
              _parquet_stream, needs=("pyarrow",)),
    Benchmark("dask_aggregate.py", ("--rows", "1e6", "--rows-per-file", "2e5"), _dask,
              needs=("pyarrow", "dask", "distributed")),
]


def what_it_measures(script: Path) -> str:
    doc = ast.get_docstring(ast.parse(script.read_text())) or ""
    return doc.strip().splitlines()[0] if doc else ""


def machine_note() -> list[str]:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = re.findall(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), flags=re.MULTILINE)
        cpu = names[0] if names else cpu
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kb = re.search(r"MemTotal:\s+(\d+)", meminfo.read_text())
        memory = f", {int(kb[1]) / 2**20:.0f} GiB RAM" if kb else ""
    versions = []
    for package in ("numpy", "scipy", "pandas", "pyarrow", "polars", "dask"):
        try:
            versions.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{package} absent")
    return [
        f"{os.cpu_count()} cores ({cpu}){memory}; Python {platform.python_version()}, "
        + ", ".join(versions) + ".",
    ]


def run(bench: Benchmark, full: bool) -> dict[str, str]:
    cmd = [sys.executable, str(HERE / bench.script), *([] if full else bench.small)]
    shown = " ".join(["python", f"benchmarks/{bench.script}", *cmd[2:]])
    missing = [m for m in bench.needs if importlib.util.find_spec(m) is None]
    if missing:
        return {"command": shown, "seconds": "", "headline": f"skipped: {', '.join(missing)} "
                "not installed", "output": ""}
    load = os.getloadavg()[0]
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                            timeout=TIMEOUT_SECONDS, check=False)
    seconds = time.perf_counter() - start
    output = result.stdout.rstrip()
    if result.returncode != 0:
        headline = f"failed (exit {result.returncode})"
        output += "\n" + result.stderr[-3000:]
    else:
        try:
            headline = bench.headline(output)
        except (IndexError, ValueError, TypeError):
            headline = "see the output below"
    return {"command": shown, "seconds": f"{seconds:.0f}", "headline": headline,
            "output": output, "load": f"{load:.1f}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", nargs="*", metavar="SCRIPT",
                        help="run these scripts (all, if none is named) at their default sizes")
    parser.add_argument("--only", nargs="+", help="run only these scripts")
    parser.add_argument("--out", type=Path, default=HERE / "README.md")
    args = parser.parse_args()
    known = {b.script for b in BENCHMARKS}
    scripts = sorted(p.name for p in HERE.glob("*.py") if p.name != Path(__file__).name)
    unknown = [s for s in scripts if s not in known]
    chosen = [b for b in BENCHMARKS if (HERE / b.script).exists()
              and (not args.only or b.script in args.only)]
    results = {}
    for bench in chosen:
        print(f"running {bench.script} ...", flush=True)
        full = args.full is not None and (not args.full or bench.script in args.full)
        results[bench.script] = run(bench, full)
        print(f"  {results[bench.script]['headline']}", flush=True)
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Benchmarks",
        "",
        "Speed and memory of prefstat's data path and models, each against a floor or a peer.",
        "Every script runs on its own (`python benchmarks/<script> --help`); this page is",
        "written by",
        "",
        "```bash",
        "python benchmarks/summarise.py                   # small sizes, a few minutes",
        "python benchmarks/summarise.py --full            # default sizes (long)",
        "python benchmarks/summarise.py --full ingest.py  # some at default sizes",
        "```",
        "",
        f"Latest run: {date}; each script's command, with the sizes used, is in the table.",
        "",
        "**Machine.** " + " ".join(machine_note()),
        "The project machine has 2 cores and is shared: timings taken while other jobs run",
        "are noisy (the 1-minute load average at each start is in the table; above 2 the",
        "cores were oversubscribed), so compare ratios within one run rather than seconds",
        "across runs. Peak memory (`ru_maxrss`) is not affected by load.",
        "",
        "| Benchmark | What it measures | Run (as summarised) | Took s | Load "
        "| Latest numbers |",
        "|---|---|---|---|---|---|",
    ]
    for bench in chosen:
        r = results[bench.script]
        what = what_it_measures(HERE / bench.script).replace("|", "\\|")
        lines.append(f"| [{bench.script}](#{bench.script.replace('.', '')}) | {what} | "
                     f"`{r['command']}` | {r['seconds']} | {r.get('load', '')} | "
                     f"{r['headline'].replace('|', '/')} |")
    if unknown:
        lines += ["", "Not summarised (add them to `BENCHMARKS` in summarise.py): "
                  + ", ".join(f"`{s}`" for s in unknown) + "."]
    for bench in chosen:
        r = results[bench.script]
        lines += ["", f"## {bench.script}", "", what_it_measures(HERE / bench.script), "",
                  f"`{r['command']}`", ""]
        if r["output"]:
            lines += ["```text", r["output"], "```"]
        else:
            lines.append(r["headline"])
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
