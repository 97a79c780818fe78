"""A small summary object that renders as text in a terminal and as HTML in a notebook."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import pandas as pd


@dataclass
class Summary:
    """A titled report: key facts, DataFrame tables and plain-sentence notes.

    Attributes
    ----------
    title : str
        First line of the report.
    facts : dict
        Short ``name: value`` lines (sizes, fit statistics, conventions).
    tables : dict of str to pandas.DataFrame
        The tables, by caption; keep computing with them.
    notes : list of str
        Sentences for the reader (warnings, identification, caveats).
    """

    title: str
    facts: dict[str, object] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    float_format: str = "{:.4g}"

    def _fmt(self, value: object) -> str:
        if isinstance(value, float):
            return self.float_format.format(value)
        return str(value)

    def __str__(self) -> str:
        width = 78
        lines = [self.title, "=" * min(width, max(len(self.title), 20))]
        if self.facts:
            key_width = max(len(k) for k in self.facts)
            lines += [f"{k:<{key_width}}  {self._fmt(v)}" for k, v in self.facts.items()]
        for caption, table in self.tables.items():
            lines += ["", caption, "-" * len(caption)]
            with pd.option_context("display.width", width, "display.max_rows", 60,
                                   "display.float_format", self.float_format.format):
                lines.append(table.to_string(max_rows=60))
        if self.notes:
            lines += ["", "Notes"] + [f"- {n}" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        parts = [f"<h4>{html.escape(self.title)}</h4>"]
        if self.facts:
            rows = "".join(
                f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
                f"<td>{html.escape(self._fmt(v))}</td></tr>" for k, v in self.facts.items()
            )
            parts.append(f"<table>{rows}</table>")
        for caption, table in self.tables.items():
            parts.append(f"<h5>{html.escape(caption)}</h5>")
            parts.append(table.to_html(float_format=self.float_format.format, max_rows=60))
        if self.notes:
            items = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
            parts.append(f"<ul>{items}</ul>")
        return "\n".join(parts)
