"""The label-quality audit: one call that turns a preference table into a report.

This first version covers what the package can already measure: a data
overview, identifiability (is there an estimate at all?), the leaderboard with
intervals, and ties and position bias. Later sections (transitivity, rater
agreement, suspect rows) join as their diagnostics land.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._encoding import A_WINS, B_WINS, TIE, TIE_BOTHBAD
from ._inputs import as_comparison_data
from ._report import Summary
from .data import ComparisonData
from .diagnostics.connectivity import Connectivity, connectivity
from .exceptions import PrefstatWarning
from .models import BradleyTerry

__all__ = ["AuditReport", "audit"]


@dataclass
class AuditReport:
    """Result of :func:`audit`: DataFrame-backed sections and a table of flags.

    Attributes
    ----------
    overview : pandas.Series
        Sizes and the outcome mix.
    connectivity : prefstat.diagnostics.Connectivity
        The identifiability analysis.
    leaderboard : pandas.DataFrame or None
        Strengths with intervals and ranks; ``None`` when no estimate exists.
    model : BradleyTerry or None
        The fitted model behind the leaderboard.
    flags : pandas.DataFrame
        Everything flagged: ``kind, severity, subject, evidence``.
    sentences : list of str
        What the data can and cannot support, in plain sentences.
    """

    overview: pd.Series
    connectivity: Connectivity
    leaderboard: pd.DataFrame | None
    model: BradleyTerry | None
    flags: pd.DataFrame
    sentences: list[str] = field(default_factory=list)

    def summary(self) -> Summary:
        """Render the report for a terminal (``print``) or a notebook (HTML).

        Returns
        -------
        Summary
        """
        tables: dict[str, pd.DataFrame] = {}
        if self.leaderboard is not None:
            tables["Leaderboard"] = self.leaderboard
        if len(self.flags):
            tables["Flags"] = self.flags
        facts = {str(k): v for k, v in self.overview.items()}
        return Summary("prefstat audit", facts, tables, list(self.sentences))

    def to_markdown(self) -> str:
        """Render the report as Markdown text.

        Returns
        -------
        str
        """
        lines = ["# prefstat audit", ""]
        lines += [f"- **{k}**: {v}" for k, v in self.overview.items()]
        lines += ["", "## What the data support", ""] + [f"- {s}" for s in self.sentences]
        if self.leaderboard is not None:
            lines += ["", "## Leaderboard", "", self.leaderboard.to_string(), ""]
        if len(self.flags):
            lines += ["", "## Flags", "", self.flags.to_string(), ""]
        return "\n".join(lines)

    def to_json(self) -> str:
        """Render the report as JSON for machines.

        Returns
        -------
        str
        """
        payload: dict[str, Any] = {
            "overview": {k: _plain(v) for k, v in self.overview.items()},
            "sentences": self.sentences,
            "flags": self.flags.to_dict(orient="records"),
            "leaderboard": None if self.leaderboard is None
            else self.leaderboard.reset_index().to_dict(orient="records"),
        }
        return json.dumps(payload, indent=2, default=_plain)


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)


def audit(data: pd.DataFrame | ComparisonData, **columns: Any) -> AuditReport:
    """Audit a comparison table: overview, identifiability, leaderboard, ties and order.

    Parameters
    ----------
    data : pandas.DataFrame or ComparisonData
        A canonical comparison table (see :mod:`prefstat.data`).
    **columns
        Column names, passed to :meth:`ComparisonData.from_frame`
        (``item_a``, ``item_b``, ``outcome``, ``rater``, ``weight``).

    Returns
    -------
    AuditReport

    Examples
    --------
    >>> from prefstat import audit
    >>> from prefstat.datasets import load_citations
    >>> report = audit(load_citations(), weight="weight")
    >>> report.leaderboard.index[0]
    'JRSS-B'
    """
    d = as_comparison_data(data, **columns)
    counts = np.bincount(d.outcome, weights=d.weight, minlength=4)
    total = float(counts.sum())
    ties = float(counts[TIE] + counts[TIE_BOTHBAD])
    first_shown_won = float(counts[A_WINS]) / max(float(counts[A_WINS] + counts[B_WINS]), 1e-300)
    overview = pd.Series({
        "items": d.n_items,
        "judgements (weight)": total,
        "rows": d.n_rows,
        "raters": d.n_raters,
        "tie share": ties / total if total else np.nan,
        "first-shown item wins (decisive)": first_shown_won,
    })
    conn = connectivity(d)
    flags: list[dict[str, Any]] = []
    sentences: list[str] = []
    model: BradleyTerry | None = None
    leaderboard = None
    if not conn.mle_exists:
        flags.append({"kind": "identifiability", "severity": "high",
                      "subject": "comparison graph", "evidence": conn.problem()})
        sentences.append("No unpenalised leaderboard exists: " + str(conn.problem()))
    else:
        both_orders = _has_both_orders(d)
        model = BradleyTerry(ties="davidson" if ties > 0 else None, order_effect=both_orders)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PrefstatWarning)
            model.fit(d)
        strengths = model.strengths_
        order = strengths["estimate"].sort_values(ascending=False).index
        leaderboard = strengths.loc[order, ["estimate", "se", "ci_lower", "ci_upper"]].copy()
        leaderboard.insert(0, "rank", np.arange(1, len(order) + 1))
        sentences.append(
            f"A Bradley–Terry leaderboard of {d.n_items} items exists "
            f"({'Davidson ties' if ties > 0 else 'no ties'}); intervals are "
            f"{int(model.conf_level * 100)}% Wald intervals with strengths summing to zero."
        )
        if both_orders:
            h = model.params_.loc[("order_effect", "order_effect")]
            if h["p"] < 0.05:
                flags.append({"kind": "position bias", "severity": "medium",
                              "subject": "first-shown item",
                              "evidence": f"order effect {h['estimate']:.3f} "
                                          f"(SE {h['se']:.3f}, p = {h['p']:.2g})"})
            sentences.append(
                f"The first-shown item's advantage is {h['estimate']:.3f} on the logit scale "
                f"(95% CI {h['ci_lower']:.3f} to {h['ci_upper']:.3f})."
            )
        else:
            sentences.append("Order effects cannot be separated from strengths: no pair was "
                             "shown in both orders.")
    return AuditReport(overview, conn, leaderboard, model,
                       pd.DataFrame(flags, columns=["kind", "severity", "subject", "evidence"]),
                       sentences)


def _has_both_orders(d: ComparisonData) -> bool:
    pc = d.pair_counts(ordered=True)
    key = np.minimum(pc.first, pc.second) * d.n_items + np.maximum(pc.first, pc.second)
    return bool(np.unique(key).size < key.size)
