"""Render an AuditReport as Markdown, one self-contained HTML page, or plain JSON data."""

from __future__ import annotations

import html as _html
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .audit import AuditReport, AuditSection

# Rows of a table shown in Markdown and HTML (the report's DataFrames keep every row).
MAX_ROWS = 20
MAX_FLAG_ROWS = 200
# Shares and statistics below this are rounding error (e.g. a harmonic share of 1e-31).
TINY = 1e-12
# Labels of a tuple cell (rows, raters, items of a flag) shown before "... (N in all)".
MAX_LABELS = 5
# Reading order: what the data support, then the flags, then the sections in detail.
FIRST = "support"
FLAGS_TITLE = "Flags"
# The flag kind of single rows, listed in the Suspect rows section rather than with the flags.
ROW_FLAG = "suspect label"
NO_FIGURES = ("Figures are not shown: matplotlib is not installed "
              "(pip install 'prefstat[plot]').")

CAPTIONS = {
    "coverage": "Coverage of the comparison graph: judgements per pair of items.",
    "forest": "Strengths with Wald intervals (grey) and bootstrap intervals (colour).",
    "win_probability": "Probability that the row item is preferred to the column item in a "
                       "decisive judgement, averaged over the two presentation orders.",
    "calibration": "Calibration of the fitted model: predicted against observed score of the "
                   "first-shown item (a win 1, a tie 1/2), pairs grouped by prediction.",
    "raters": "Raters: share of decisive judgements won by the first-shown item against "
              "reliability; flagged raters in red.",
    "cycle": "The strongest intransitive cycle: majority preferences among its items "
             "(wins–losses on each arrow).",
}

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2330;
background:#fafafa;line-height:1.45}
main{max-width:1100px;margin:0 auto;padding:1.5rem 2rem 4rem;background:#fff}
h1{margin-bottom:.2rem}h2{border-bottom:2px solid #dde;padding-bottom:.2rem;margin-top:2.4rem}
h3{font-size:1rem;margin:1.4rem 0 .4rem}
.meta{color:#556;font-size:.9rem}
nav ol{columns:2;font-size:.95rem}
table{border-collapse:collapse;font-size:.85rem;margin:.4rem 0 1rem;display:block;
overflow-x:auto;max-width:100%}
th,td{border:1px solid #dde;padding:.25rem .5rem;text-align:left;vertical-align:top}
thead th{background:#f0f2f7}
td.num{text-align:right;font-variant-numeric:tabular-nums}
table.facts th{background:#f7f8fb;font-weight:normal;color:#334}
.unavailable{background:#fff6e5;border-left:4px solid #f0a500;padding:.5rem .8rem}
.note{color:#556;font-size:.9rem}
.sev-high{background:#fde2e1}.sev-medium{background:#fff1d6}.sev-low{background:#eef3fb}
figure{margin:1rem 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.85rem;color:#556}
"""


# ------------------------------------------------------------------------ cells
def cell_text(value: Any) -> str:
    """A table cell as short text: floats to 4 significant digits, tuples shortened."""
    if isinstance(value, (tuple, list, np.ndarray, pd.Index)):
        labels = [str(v) for v in value]
        if len(labels) <= MAX_LABELS:
            return ", ".join(labels)
        return ", ".join(labels[:MAX_LABELS]) + f", … ({len(labels)} in all)"
    if value is None or (isinstance(value, (float, np.floating)) and math.isnan(value)):
        return ""
    if value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        if abs(v) < TINY:
            return "0"
        return f"{int(v):,}" if v == int(v) and abs(v) < 1e12 else f"{v:.4g}"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    return str(value)


def shown(table: pd.DataFrame, n: int) -> pd.DataFrame:
    """The first ``n`` rows, with tuple cells (row labels, items) as short text."""
    head = table.head(n).copy()
    for col in head.columns:
        if head[col].dtype == object and head[col].map(
                lambda v: isinstance(v, (tuple, list))).any():
            head[col] = head[col].map(cell_text)
    return head


def _is_numeric(series: pd.Series) -> bool:
    return (pd.api.types.is_numeric_dtype(series)
            and not pd.api.types.is_bool_dtype(series))


def _with_index(table: pd.DataFrame) -> pd.DataFrame:
    if isinstance(table.index, pd.RangeIndex) and table.index.name is None:
        return table
    return table.reset_index()


def _more(table: pd.DataFrame, limit: int) -> str:
    return f"First {limit} of {len(table):,} rows." if len(table) > limit else ""


def plain(value: Any) -> Any:
    """A JSON-ready value: numpy scalars to Python, NaN to None, tuples to lists."""
    if isinstance(value, (tuple, list, np.ndarray, pd.Index)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, str):
        return value
    return str(value)


def records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a table (index included) as JSON-ready dictionaries."""
    frame = _with_index(table)
    cols = [str(c) for c in frame.columns]
    return [{c: plain(v) for c, v in zip(cols, row)}
            for row in frame.itertuples(index=False, name=None)]


# --------------------------------------------------------------------- Markdown
def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(table: pd.DataFrame, limit: int = MAX_ROWS) -> str:
    """A pipe table of the first ``limit`` rows (index included when it is named)."""
    frame = _with_index(table.head(limit))
    head = "| " + " | ".join(_md_escape(str(c)) for c in frame.columns) + " |"
    align = "|" + "|".join("---:" if _is_numeric(frame[c]) else "---"
                           for c in frame.columns) + "|"
    body = ["| " + " | ".join(_md_escape(cell_text(v)) for v in row) + " |"
            for row in frame.itertuples(index=False, name=None)]
    more = _more(table, limit)
    return "\n".join([head, align, *body] + ([f"\n{more}"] if more else []))


def _md_section(section: AuditSection) -> list[str]:
    lines = [f"## {section.title}", ""]
    if not section.available:
        lines += [f"> {s}" for s in section.sentences] + [""]
        return lines
    lines += [f"- {s}" for s in section.sentences] + [""]
    if len(section.facts):
        lines += [f"- **{k}**: {cell_text(v)}" for k, v in section.facts.items()] + [""]
    for caption, table in section.tables.items():
        lines += [f"### {caption}", "", markdown_table(table), ""]
    return lines


def markdown(report: AuditReport) -> str:
    """The whole report as Markdown."""
    lines = ["# prefstat audit", "", _meta(report), ""]
    lines += _md_section(report.sections[FIRST])
    lines += [f"## {FLAGS_TITLE}", ""]
    for kind, item in _flags_parts(report):
        if kind == "text":
            lines += [item, ""]
        else:
            lines += [f"### {item[0]}", "", markdown_table(item[1], MAX_FLAG_ROWS), ""]
    for key, section in report.sections.items():
        if key != FIRST:
            lines += _md_section(section)
    return "\n".join(lines).rstrip() + "\n"


# ------------------------------------------------------------------------- HTML
def _esc(text: Any) -> str:
    return _html.escape(str(text), quote=True)


def html_table(table: pd.DataFrame, limit: int = MAX_ROWS, row_class: str | None = None,
               ) -> str:
    """An HTML table of the first ``limit`` rows; ``row_class`` names a column of classes."""
    frame = _with_index(table.head(limit))
    numeric = [_is_numeric(frame[c]) for c in frame.columns]
    head = "".join(f"<th>{_esc(c)}</th>" for c in frame.columns)
    rows = []
    classes = (frame[row_class].astype(str).tolist() if row_class is not None
               else [None] * len(frame))
    for cls, values in zip(classes, frame.itertuples(index=False, name=None)):
        cells = "".join(
            f"<td class=\"num\">{_esc(cell_text(v))}</td>" if num
            else f"<td>{_esc(cell_text(v))}</td>" for v, num in zip(values, numeric))
        attr = f" class=\"sev-{_esc(cls)}\"" if cls is not None else ""
        rows.append(f"<tr{attr}>{cells}</tr>")
    more = _more(table, limit)
    note = f"<p class=\"note\">{_esc(more)}</p>" if more else ""
    return (f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            + note)


def _html_section(section: AuditSection, images: dict[str, str] | None) -> str:
    parts = [f"<section id=\"{_esc(section.key)}\">", f"<h2>{_esc(section.title)}</h2>"]
    if not section.available:
        parts += [f"<p class=\"unavailable\">{_esc(s)}</p>" for s in section.sentences]
        parts.append("</section>")
        return "\n".join(parts)
    if section.sentences:
        parts.append("<ul>" + "".join(f"<li>{_esc(s)}</li>" for s in section.sentences)
                     + "</ul>")
    if len(section.facts):
        rows = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(cell_text(v))}</td></tr>"
                       for k, v in section.facts.items())
        parts.append(f"<table class=\"facts\"><tbody>{rows}</tbody></table>")
    for name in section.figures:
        if images is None:
            continue
        parts.append(
            f"<figure><img src=\"data:image/png;base64,{images[name]}\" "
            f"alt=\"{_esc(CAPTIONS[name])}\" id=\"figure-{_esc(name)}\">"
            f"<figcaption>{_esc(CAPTIONS[name])}</figcaption></figure>")
    if section.figures and images is None:
        parts.append(f"<p class=\"note\">{_esc(NO_FIGURES)}</p>")
    for caption, table in section.tables.items():
        parts += [f"<h3>{_esc(caption)}</h3>", html_table(table)]
    parts.append("</section>")
    return "\n".join(parts)



def _meta(report: AuditReport) -> str:
    from . import __version__

    d = report.data
    settings = report.settings
    boot = settings["n_boot"]
    unit = settings.get("unit")
    return (f"{d.n_rows:,} rows, {d.n_items:,} items, "
            + (f"{d.n_raters:,} raters" if d.rater is not None else "no rater column")
            + (f", unit {unit!r}" if unit is not None else "")
            + f"; {boot} bootstrap replicates, random_state={settings['random_state']!r}; "
            f"prefstat {__version__}.")


def _flags_parts(report: AuditReport) -> list[tuple[str, Any]]:
    """The flags section: a sentence, counts by kind, then the flags other than row labels.

    Suspect labels can number thousands; they are counted here and listed, most
    suspect first, in the Suspect rows section (all of them are in ``report.flags``).
    """
    from .audit import flag_counts

    f = report.flags
    if not len(f):
        return [("text", "Nothing was flagged.")]
    counts = f["severity"].value_counts()
    by = ", ".join(f"{int(counts[s])} {s}" for s in ("high", "medium", "low") if s in counts)
    parts: list[tuple[str, Any]] = [
        ("text", f"{len(f):,} flag(s): {by}. The full table is AuditReport.flags."),
        ("table", ("Flags by kind", flag_counts(f))),
    ]
    rows = f["kind"] == ROW_FLAG
    if (~rows).any():
        parts.append(("table", ("Flags", f[~rows])))
    if rows.any():
        parts.append(("text", f"{int(rows.sum()):,} suspect label(s) are listed, most suspect "
                              "first, under Suspect rows."))
    return parts


def html(report: AuditReport, images: dict[str, str] | None) -> str:
    """The whole report as one HTML page; ``images`` maps figure names to base64 PNGs."""
    order = [FIRST, *(k for k in report.sections if k != FIRST)]
    toc = [f"<li><a href=\"#{_esc(FIRST)}\">{_esc(report.sections[FIRST].title)}</a></li>",
           f"<li><a href=\"#flags\">{FLAGS_TITLE}</a></li>"]
    toc += [f"<li><a href=\"#{_esc(k)}\">{_esc(report.sections[k].title)}</a></li>"
            for k in order[1:]]
    body = ["<h1>prefstat audit</h1>", f"<p class=\"meta\">{_esc(_meta(report))}</p>"]
    if images is None:
        body.append(f"<p class=\"unavailable\">{_esc(NO_FIGURES)}</p>")
    body.append("<nav><ol>" + "".join(toc) + "</ol></nav>")
    body.append(_html_section(report.sections[FIRST], images))
    flags = ["<section id=\"flags\">", f"<h2>{FLAGS_TITLE}</h2>"]
    for kind, item in _flags_parts(report):
        if kind == "text":
            flags.append(f"<p>{_esc(item)}</p>")
        else:
            flags += [f"<h3>{_esc(item[0])}</h3>",
                      html_table(item[1], MAX_FLAG_ROWS, row_class="severity")]
    flags.append("</section>")
    body.append("\n".join(flags))
    body += [_html_section(report.sections[k], images) for k in order[1:]]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<link rel=\"icon\" href=\"data:,\"><title>prefstat audit</title>"
            f"<style>{_CSS}</style></head>\n<body><main>\n" + "\n".join(body)
            + "\n</main></body></html>\n")


# ------------------------------------------------------------------------- JSON
def json_payload(report: AuditReport) -> dict[str, Any]:
    """The report as JSON-ready dictionaries and lists."""
    from . import __version__

    sections = {}
    for key, s in report.sections.items():
        sections[key] = {
            "title": s.title,
            "available": s.available,
            "facts": {str(k): plain(v) for k, v in s.facts.items()},
            "tables": {caption: records(t) for caption, t in s.tables.items()},
            "sentences": list(s.sentences),
            "figures": list(s.figures),
        }
    return {
        "prefstat_version": __version__,
        "settings": plain(report.settings),
        "sections": sections,
        "flags": records(report.flags),
        "worst_cycle": plain(report.worst_cycle),
        "warnings": list(report.warnings),
    }
