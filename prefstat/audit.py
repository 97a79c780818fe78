"""The label-quality audit: one call that turns a preference table into a report a person reads.

:func:`audit` runs every diagnostic prefstat has on one comparison table and
collects the results in an :class:`AuditReport`:

========================================  ==============================================
section                                   built from
========================================  ==============================================
Data overview                             the encoded table (sizes, outcome mix, coverage)
Identifiability                           :func:`prefstat.diagnostics.connectivity`
Leaderboard                               :class:`prefstat.BradleyTerry` and its bootstrap
Ties and position bias                    the fitted tie and order parameters, per rater
Transitivity and scalar adequacy          :func:`prefstat.diagnostics.transitivity`
Rater agreement                           :func:`prefstat.diagnostics.agreement`
Rater random effects                      :class:`prefstat.RaterBradleyTerry`
Suspect rows                              the noisy-rater mixture inside ``agreement``
What the data can and cannot support      all of the above, in plain sentences
========================================  ==============================================

Every section holds DataFrames (``facts`` and ``tables``) and sentences; a
section that cannot be computed (no rater column, no estimate) is kept, marked
unavailable, with a sentence saying why. Everything flagged, whatever the
section, is one tidy table, :attr:`AuditReport.flags`.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import time
import warnings
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from math import comb
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from . import _render
from ._encoding import A_WINS, B_WINS, OUTCOME_NAMES
from ._inputs import as_comparison_data
from ._random import as_generator
from ._report import Summary
from .data import ComparisonData, _grade_position
from .diagnostics.agreement import Agreement, _holm, agreement
from .diagnostics.connectivity import Connectivity, connectivity_from_counts
from .diagnostics.transitivity import Transitivity, transitivity
from .exceptions import (
    DataValidationError,
    InvalidParameterError,
    InvalidWeightError,
    MissingColumnError,
    NotIdentifiableError,
    PrefstatError,
    PrefstatWarning,
    format_examples,
)
from .models import BootstrapResult, BradleyTerry, RaterBradleyTerry

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["AuditReport", "AuditSection", "audit"]

#: Section keys of :attr:`AuditReport.sections` and their headings, in report order.
SECTION_TITLES: Mapping[str, str] = {
    "overview": "Data overview",
    "identifiability": "Identifiability",
    "leaderboard": "Leaderboard",
    "ties_and_order": "Ties and position bias",
    "transitivity": "Transitivity and scalar adequacy",
    "agreement": "Rater agreement",
    "rater_effects": "Rater random effects",
    "suspects": "Suspect rows",
    "support": "What the data can and cannot support",
}
#: Columns of :attr:`AuditReport.flags`.
FLAG_COLUMNS = ("kind", "severity", "subject", "raters", "items", "rows", "evidence")
#: Bootstrap replicates by default: enough for standard errors and rank intervals that
#: do not move much, few enough that the audit takes seconds (2000 for publication).
DEFAULT_N_BOOT = 200

_SEVERITY = ("high", "medium", "low")
# Items with fewer comparisons than this get a sentence about imprecise estimates.
_FEW_COMPARISONS = 20
# A circular triad is flagged when each of its three majorities is this significant
# (one-sided exact binomial test of 1/2 on the decisive judgements of the pair).
_CYCLE_ALPHA = 0.05
# At most this many cycles are flagged (the strongest first); the section counts the rest.
_MAX_CYCLE_FLAGS = 20
# The Bradley–Terry goodness-of-fit test flags misfit below this p-value.
_MISFIT_ALPHA = 0.01
# Significance of the pooled order effect for a position-bias flag, and the size (on the
# log-odds scale) from which it is "medium" rather than "low".
_ORDER_ALPHA = 0.05
_ORDER_MEDIUM = 0.1
# A suspect row whose posterior probability of a random label is at least this is
# "medium"; other suspects are "low".
_SUSPECT_MEDIUM = 0.9
# The random-effects model flags a rater as random or reversed when its reliability (the
# conditional mode of its discrimination, 1 for a typical rater, 0 for one who answers at
# random) is below this and differs from 1 at the audit's level, Holm-adjusted over raters.
_RANDOM_RATER_RELIABILITY = 0.5
# Rows shown in the tables of a section (the DataFrames on the report keep all rows).
_SHOWN = 20
# Rater flag reasons of :func:`prefstat.diagnostics.agreement`, by the start of the text.
_RATER_KINDS = (("low reliability", "unreliable rater", "high"),
                ("position bias", "position-biased rater", "medium"),
                ("ties in", "tie-heavy rater", "medium"))
# Flag kinds whose rows export_rlhf(drop=True) leaves out.
_DROP_KINDS = frozenset({"unreliable rater", "position-biased rater", "tie-heavy rater",
                         "suspect label"})


# ---------------------------------------------------------------------- result objects
@dataclass
class AuditSection:
    """One section of an :class:`AuditReport`.

    Attributes
    ----------
    key : str
        Its key in :attr:`AuditReport.sections` (``"overview"``, ...).
    title : str
        Its heading.
    facts : pandas.Series
        Short named values (sizes, estimates, test results).
    tables : dict of str to pandas.DataFrame
        The section's tables, by caption, with all their rows.
    sentences : list of str
        What the section says, in plain sentences (including why it is
        unavailable).
    figures : tuple of str
        Keys of :meth:`AuditReport.figures` drawn for this section.
    available : bool
        False when the section could not be computed.
    """

    key: str
    title: str
    facts: pd.Series
    tables: dict[str, pd.DataFrame]
    sentences: list[str]
    figures: tuple[str, ...] = ()
    available: bool = True

    @property
    def table(self) -> pd.DataFrame:
        """The section's main table (its first), or its facts as a one-column frame."""
        if self.tables:
            return next(iter(self.tables.values()))
        return self.facts.to_frame("value")

    def summary(self) -> Summary:
        """Render the section as text (``print``) or HTML (notebook).

        Returns
        -------
        Summary
        """
        facts = {str(k): v for k, v in self.facts.items()}
        tables = {k: _render.shown(v, _SHOWN) for k, v in self.tables.items()}
        return Summary(self.title, facts, tables, list(self.sentences))


@dataclass
class AuditReport:
    """Result of :func:`audit`: sections, flags and the diagnostics behind them.

    Attributes
    ----------
    sections : dict of str to AuditSection
        In report order: ``overview``, ``identifiability``, ``leaderboard``,
        ``ties_and_order``, ``transitivity``, ``agreement``,
        ``rater_effects``, ``suspects``, ``support``.
    flags : pandas.DataFrame
        Everything flagged, one row per finding, most severe first:
        ``kind`` (e.g. ``"unreliable rater"``, ``"suspect label"``,
        ``"intransitive cycle"``), ``severity`` (``high``, ``medium``,
        ``low``), ``subject`` (what it is about, in words), ``raters``,
        ``items`` and ``rows`` (tuples of rater labels, item labels and index
        labels of the source table) and ``evidence``.
    data : ComparisonData
        The encoded table.
    connectivity : prefstat.diagnostics.Connectivity
        The identifiability analysis.
    model : BradleyTerry or None
        The fitted model behind the leaderboard (``None`` without an estimate).
    bootstrap : prefstat.models.BootstrapResult or None
        The bootstrap behind the rank intervals.
    transitivity : prefstat.diagnostics.Transitivity or None
        The transitivity analysis.
    agreement : prefstat.diagnostics.Agreement or None
        The rater analysis (``None`` without a rater column).
    worst_cycle : tuple or None
        Items of the intransitive cycle with the strongest evidence, in cyclic
        order (each preferred to the next by a majority, the last to the
        first).
    settings : dict
        The arguments of the audit (columns, ``n_boot``, ``random_state``, ...).
    warnings : list of str
        Warnings the diagnostics raised, recorded instead of printed.
    rater_effects : RaterBradleyTerry or None
        The rater random-effects model behind the ``rater_effects`` section
        (``None`` without a rater column, with one rater, or when the fit
        failed; the section says why).
    """

    sections: dict[str, AuditSection]
    flags: pd.DataFrame
    data: ComparisonData
    connectivity: Connectivity
    model: BradleyTerry | None
    bootstrap: BootstrapResult | None
    transitivity: Transitivity | None
    agreement: Agreement | None
    worst_cycle: tuple[Any, ...] | None
    settings: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    rater_effects: RaterBradleyTerry | None = None

    # -------------------------------------------------------------- shortcuts
    @property
    def overview(self) -> pd.Series:
        """The data overview's facts."""
        return self.sections["overview"].facts

    @property
    def leaderboard(self) -> pd.DataFrame | None:
        """The leaderboard table (best first), or ``None`` when no estimate exists."""
        section = self.sections["leaderboard"]
        return section.tables.get("Leaderboard") if section.available else None

    @property
    def sentences(self) -> list[str]:
        """What the data can and cannot support, in plain sentences."""
        return list(self.sections["support"].sentences)

    @property
    def nominal_data(self) -> ComparisonData:
        """The encoded table with a graded outcome reduced to its direction."""
        return _nominal(self.data)

    # ---------------------------------------------------------------- figures
    @property
    def figure_names(self) -> tuple[str, ...]:
        """Keys of the figures :meth:`figures` draws, in report order."""
        return tuple(name for s in self.sections.values() for name in s.figures)

    def figures(self) -> dict[str, Figure]:
        """Draw the report's figures (needs matplotlib, the ``plot`` extra).

        Returns
        -------
        dict of str to matplotlib.figure.Figure
            By name: ``coverage``, ``forest``, ``win_probability``,
            ``calibration``, ``raters`` and ``cycle``, those the data allow;
            new pyplot figures, as the :mod:`prefstat.plotting` functions draw
            them (``plt.close(fig)`` releases one).

        Raises
        ------
        MissingDependencyError
            matplotlib is not installed.
        """
        from . import plotting

        draw: dict[str, Callable[[], Figure]] = {
            "coverage": lambda: plotting.plot_coverage(self.data),
            "forest": lambda: plotting.plot_strengths(self.model, self.bootstrap),
            "win_probability": lambda: plotting.plot_win_probabilities(self.model),
            "calibration": lambda: plotting.plot_calibration(self.model, self.nominal_data),
            "raters": lambda: plotting.plot_raters(self.agreement),
            "cycle": lambda: plotting.plot_cycle(self.nominal_data, self.worst_cycle),
        }
        return {name: draw[name]() for name in self.figure_names}

    # -------------------------------------------------------------- renderers
    def summary(self) -> Summary:
        """Render the report's gist for a terminal (``print``) or a notebook (HTML).

        Returns
        -------
        Summary
            Key facts, the leaderboard, the flags counted by kind, and what the
            data can and cannot support.
        """
        facts: dict[str, object] = {str(k): v for k, v in self.overview.items()}
        facts["finite estimate (MLE)"] = "yes" if self.connectivity.mle_exists else "no"
        tables: dict[str, pd.DataFrame] = {}
        if self.leaderboard is not None:
            tables["Leaderboard"] = _render.shown(self.leaderboard[
                [c for c in ("rank", "estimate", "ci_lower", "ci_upper", "rank_lower",
                             "rank_upper", "elo") if c in self.leaderboard.columns]], _SHOWN)
        if len(self.flags):
            tables["Flags"] = flag_counts(self.flags)
        notes = list(self.sentences)
        if self.worst_cycle is not None:
            notes.append("Strongest intransitive cycle: " + _cycle_text(self.worst_cycle) + ".")
        return Summary("prefstat audit", facts, tables, notes)

    def to_markdown(self, path: str | Path | None = None) -> str:
        """Render the whole report as Markdown (tables as pipe tables, no images).

        Parameters
        ----------
        path : str or path-like, optional
            Also write the text to this file (UTF-8).

        Returns
        -------
        str
        """
        text = _render.markdown(self)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def to_html(self, path: str | Path | None = None) -> str:
        """Render the whole report as one self-contained HTML page.

        Figures are embedded as base64 PNG images; the page has no scripts and
        loads nothing from elsewhere, so it opens offline. Without matplotlib
        the page has no figures and says so.

        Parameters
        ----------
        path : str or path-like, optional
            Also write the page to this file (UTF-8).

        Returns
        -------
        str
        """
        from . import plotting

        images: dict[str, str] | None
        try:
            with plotting._standalone_figures():  # only saved: keep them out of pyplot
                figures = self.figures()
        except ImportError:
            images = None
        else:
            images = {name: _png_base64(fig) for name, fig in figures.items()}
        text = _render.html(self, images)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def to_json(self, path: str | Path | None = None) -> str:
        """Render the report as JSON for machines (strict JSON: missing values are null).

        Parameters
        ----------
        path : str or path-like, optional
            Also write the text to this file (UTF-8).

        Returns
        -------
        str
            An object with ``settings``, ``sections`` (each with ``title``,
            ``available``, ``facts``, ``tables`` as lists of records,
            ``sentences``), ``flags`` (records), ``worst_cycle`` and
            ``warnings``.
        """
        text = json.dumps(_render.json_payload(self), indent=2, allow_nan=False)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    # ----------------------------------------------------------------- export
    def export_rlhf(
        self,
        path: str | Path | None = None,
        drop: bool | Literal["downweight"] = True,
        *,
        prompt: Hashable | None = None,
        text_a: Hashable | None = None,
        text_b: Hashable | None = None,
    ) -> pd.DataFrame:
        """Write the cleaned table as ``prompt, chosen, rejected`` pairs for an RLHF trainer.

        Each decisive judgement becomes one pair: the preferred side is
        ``chosen``, the other ``rejected``. Ties (and "both bad" ties) carry
        no preference and are left out; a graded judgement counts by its
        direction.

        Parameters
        ----------
        path : str or path-like, optional
            Where to write the pairs: ``.jsonl`` (JSON Lines, what most
            trainers read), ``.json``, ``.csv`` or ``.parquet``. ``None`` only
            returns them.
        drop : {True, False, "downweight"}, default True
            ``True`` leaves out every row of a flagged rater (unreliable,
            position-biased or tie-heavy) and every suspect label (see
            :attr:`flags`); ``False`` keeps every decisive row;
            ``"downweight"`` keeps every decisive row with a ``weight``
            column, ``1 - p_suspect`` (the mixture model's posterior
            probability that the label follows the consensus; 1 without a
            rater column), so a trainer that accepts sample weights counts
            doubtful labels less.
        prompt : hashable, optional
            Column of the source table holding the prompt. By default the
            column ``prompt`` if there is one, else the audit's ``unit``
            column, else the prompt is empty.
        text_a, text_b : hashable, optional
            Columns holding the texts of the first- and second-shown
            responses (e.g. ``completion_a, completion_b``). By default the
            item labels are the texts, as after
            :func:`prefstat.convert.from_rlhf`.

        Returns
        -------
        pandas.DataFrame
            ``prompt, chosen, rejected`` (and ``weight``), indexed by the
            source table's row labels.

        Raises
        ------
        InvalidParameterError
            An unknown ``drop`` value or file extension.
        MissingColumnError
            A named column is not in the table.
        DataValidationError
            The table's index repeats labels (and ``drop`` is not False).

        Examples
        --------
        >>> import pandas as pd
        >>> from prefstat import audit
        >>> df = pd.DataFrame({"prompt": ["p1", "p1", "p2", "p2"],
        ...                    "item_a": ["good", "meh", "fine", "bad"],
        ...                    "item_b": ["bad", "good", "bad", "fine"],
        ...                    "outcome": ["a", "b", "a", "tie"]})
        >>> report = audit(df, n_boot=0)
        >>> report.export_rlhf(drop=False)
          prompt chosen rejected
        0     p1   good      bad
        1     p1   good      meh
        2     p2   fine      bad
        """
        if drop not in (True, False, "downweight"):
            raise InvalidParameterError(
                f"export_rlhf: drop must be True, False or 'downweight', got {drop!r}."
            )
        d = self.data
        if drop is not False and not d.rows.is_unique:
            raise DataValidationError(
                "export_rlhf: the audited table's index repeats labels, so flagged rows "
                "cannot be told apart; audit df.reset_index(drop=True) instead, or pass "
                "drop=False."
            )
        contest = d.contest if d.contest is not None else pd.DataFrame(index=d.rows)
        unit = self.settings.get("unit")
        if prompt is None:
            prompt = "prompt" if "prompt" in contest.columns else unit
        for arg, col in (("prompt", prompt), ("text_a", text_a), ("text_b", text_b)):
            if col is not None and col not in contest.columns:
                raise MissingColumnError(
                    f"export_rlhf: {arg}={col!r} is not a column of the audited table; "
                    f"available: {format_examples(contest.columns, 10)}."
                )
        a_text = (np.asarray(contest[text_a], dtype=object) if text_a is not None
                  else np.asarray(d.items[d.a], dtype=object))
        b_text = (np.asarray(contest[text_b], dtype=object) if text_b is not None
                  else np.asarray(d.items[d.b], dtype=object))
        a_won = d.outcome == A_WINS
        keep = (d.outcome == A_WINS) | (d.outcome == B_WINS)
        weight = np.ones(d.n_rows)
        if drop == "downweight" and self.agreement is not None:
            p_suspect = self.agreement.suspects["p_suspect"].reindex(d.rows)
            weight = 1.0 - p_suspect.to_numpy(dtype=float)
        elif drop is True:
            flagged = self.flags[self.flags["kind"].isin(_DROP_KINDS)]
            dropped = {r for rows in flagged["rows"] for r in rows}
            keep &= ~np.asarray(d.rows.isin(list(dropped)))
        out = pd.DataFrame({
            "prompt": (np.asarray(contest[prompt], dtype=object) if prompt is not None
                       else np.full(d.n_rows, "", dtype=object)),
            "chosen": np.where(a_won, a_text, b_text),
            "rejected": np.where(a_won, b_text, a_text),
        }, index=d.rows)
        if drop == "downweight":
            out["weight"] = weight
        out = out[keep]
        if path is not None:
            _write_table(out, Path(path))
        return out


def flag_counts(flags: pd.DataFrame) -> pd.DataFrame:
    """Count flags by kind and severity, with the first few subjects of each.

    Parameters
    ----------
    flags : pandas.DataFrame
        :attr:`AuditReport.flags`.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``kind``, in order of first appearance: ``severity`` (all
        severities of the kind, most severe first), ``count`` and ``examples``
        (the first three subjects).

    Examples
    --------
    >>> import pandas as pd
    >>> flags = pd.DataFrame({"kind": ["suspect label"] * 3, "severity": ["low"] * 3,
    ...                       "subject": ["row 1", "row 7", "row 9"]})
    >>> flag_counts(flags)
                  severity  count               examples
    kind
    suspect label      low      3  row 1; row 7; row 9
    """
    rows = []
    for kind, group in flags.groupby("kind", sort=False):
        subjects = [str(x) for x in group["subject"]]
        more = f" and {len(subjects) - 3} more" if len(subjects) > 3 else ""
        rows.append({"kind": kind, "severity": ", ".join(pd.unique(group["severity"])),
                     "count": len(group), "examples": "; ".join(subjects[:3]) + more})
    return pd.DataFrame(rows, columns=["kind", "severity", "count", "examples"]
                        ).set_index("kind")


def _write_table(table: pd.DataFrame, path: Path) -> None:
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        table.to_json(path, orient="records", lines=True, force_ascii=False)
    elif suffix == ".json":
        table.to_json(path, orient="records", force_ascii=False, indent=1)
    elif suffix == ".csv":
        table.to_csv(path, index=False)
    elif suffix == ".parquet":
        table.to_parquet(path, index=False)
    else:
        raise InvalidParameterError(
            f"export_rlhf: cannot tell the format of {str(path)!r}; use a .jsonl, .json, "
            ".csv or .parquet file name."
        )


def _png_base64(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


# ------------------------------------------------------------------------ the audit
def audit(
    data: pd.DataFrame | ComparisonData,
    *,
    item_a: str = "item_a",
    item_b: str = "item_b",
    outcome: str = "outcome",
    rater: str | None = None,
    weight: str | None = None,
    unit: Hashable | None = None,
    cluster: Hashable | None = None,
    items: Any = None,
    n_boot: int = DEFAULT_N_BOOT,
    conf_level: float = 0.95,
    elo: bool = False,
    thresholds: Mapping[str, float] | None = None,
    random_state: int | np.random.Generator | None = 0,
    progress: bool | Callable[[str], None] = False,
) -> AuditReport:
    """Audit a comparison table: can it be trusted, and what does it support.

    Runs, in order: the identifiability analysis; a Bradley–Terry fit (with
    Davidson's tie model when the table has ties, and an order effect when
    some pair was shown in both orders) with a bootstrap for rank intervals;
    the transitivity analysis; and, with a rater column, the rater agreement
    analysis with its per-rater flags and suspect rows, and a
    :class:`RaterBradleyTerry` fit with random rater reliability (and position
    bias, when the order effect is measured). Warnings of the diagnostics are
    recorded in the report (and its flags), not printed.

    Parameters
    ----------
    data : pandas.DataFrame or ComparisonData
        A canonical comparison table (see :mod:`prefstat.data`), one row per
        judgement; convert other layouts with :mod:`prefstat.convert`.
    item_a, item_b, outcome, rater, weight : str
        Column names, as for :meth:`ComparisonData.from_frame`. Without
        ``rater`` there is no agreement analysis and no suspect rows (the
        report says so).
    unit : hashable, optional
        Column that, with the item pair, identifies the thing judged (a
        prompt, a question id). Agreement compares the judgements of a unit,
        and the bootstrap resamples whole units (judgements of one prompt are
        not independent).
    cluster : hashable, optional
        Column whose values the bootstrap resamples, when it should differ
        from ``unit`` (e.g. the ranking a pair came from). Defaults to
        ``unit``; without either, judgements are resampled.
    items : sequence, optional
        The full item set (items never compared are then reported).
    n_boot : int, default 200
        Bootstrap replicates of the leaderboard (rank intervals), of the
        transitivity tests and of the agreement intervals. The default keeps
        the audit to seconds; use 2000 or more for 95% intervals you publish.
        0 skips every bootstrap.
    conf_level : float, default 0.95
        Coverage of every interval.
    elo : bool, default False
        Add Elo-scale ratings (400 points = odds of 10 to 1, mean 1000) to
        the leaderboard.
    thresholds : mapping, optional
        Overrides of the rater and suspect thresholds of
        :func:`prefstat.diagnostics.agreement`
        (:data:`~prefstat.diagnostics.agreement.DEFAULT_THRESHOLDS`).
    random_state : int, numpy.random.Generator or None, default 0
        Seed of every resampling step; the default makes the report
        reproducible.
    progress : bool or callable, default False
        Report each long step: ``True`` prints to standard error, a callable
        receives the messages.

    Returns
    -------
    AuditReport

    Raises
    ------
    DataValidationError
        Anything :meth:`ComparisonData.from_frame` rejects.
    MissingColumnError
        ``unit`` or ``cluster`` is not a column of the table.
    InvalidParameterError
        ``n_boot`` or ``conf_level`` out of range.

    See Also
    --------
    AuditReport.to_html, AuditReport.export_rlhf

    Examples
    --------
    >>> from prefstat import audit
    >>> from prefstat.datasets import load_citations
    >>> report = audit(load_citations(), weight="weight", n_boot=50)
    >>> report.leaderboard.index[0]
    'JRSS-B'
    >>> list(report.sections)  # doctest: +NORMALIZE_WHITESPACE
    ['overview', 'identifiability', 'leaderboard', 'ties_and_order', 'transitivity',
     'agreement', 'rater_effects', 'suspects', 'support']
    >>> report.sections["agreement"].sentences[0]
    'No rater column was given (rater=...), so rater agreement cannot be measured.'
    """
    log = _Progress(progress)
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise InvalidParameterError(f"audit: n_boot must be an integer >= 0, got {n_boot!r}.")
    if isinstance(conf_level, bool) or not isinstance(conf_level, (int, float)) \
            or not 0 < conf_level < 1:
        raise InvalidParameterError(
            f"audit: conf_level must be strictly between 0 and 1, got {conf_level!r}."
        )
    rng = as_generator(random_state, "audit")
    d = as_comparison_data(data, item_a=item_a, item_b=item_b, outcome=outcome, rater=rater,
                           weight=weight, items=items)
    unit = _contest_column(d, unit, "unit")
    cluster = unit if cluster is None else _contest_column(d, cluster, "cluster")
    nominal = _nominal(d)
    log(f"{d.n_rows:,} rows, {d.n_items:,} items, {d.n_raters:,} raters")
    rec = _Recorder()
    flags: list[dict[str, Any]] = []
    conn = connectivity_from_counts(nominal.pair_counts(ordered=False))

    fit = _Fit.run(nominal, conn, cluster, int(n_boot), float(conf_level), rng, rec, log)
    log("transitivity and scalar adequacy")
    tr, tr_error = None, None
    with rec("transitivity"):
        try:
            tr = transitivity(nominal, n_boot=int(n_boot), random_state=rng)
        except PrefstatError as err:
            tr_error = str(err)
    agree, agree_missing = None, None
    if d.rater is None:
        agree_missing = ("No rater column was given (rater=...), so rater agreement cannot be "
                         "measured.")
    elif d.weighted:
        agree_missing = ("The table is weighted (aggregated rows), and agreement needs one row "
                         "per judgement, so rater agreement is not measured.")
    else:
        log("rater agreement (noisy-rater mixture)")
        with rec("agreement"):
            try:
                agree = agreement(d, rater=d.columns.get("rater") or "rater", unit=unit,
                                  n_boot=int(n_boot), conf_level=float(conf_level),
                                  thresholds=thresholds, random_state=rng)
            except InvalidParameterError:
                raise  # a bad threshold is the caller's argument, not the data's
            except PrefstatError as err:
                agree_missing = f"Rater agreement could not be measured: {err}"
    effects, effects_missing = _fit_rater_effects(nominal, fit, float(conf_level), rec, log)
    log("writing the report")
    overview = _overview(d, nominal, conn, unit)
    ident = _identifiability(conn, flags)
    leader = fit.section(conn, elo)
    ties = _ties_and_order(nominal, fit, agree, flags)
    trans, worst = _transitivity_section(nominal, tr, tr_error, flags)
    agree_section = _agreement_section(agree, agree_missing, flags)
    effects_section = _rater_effects_section(nominal, effects, effects_missing, flags)
    suspects = _suspects_section(agree, agree_missing, flags)
    for step, message in rec.messages:
        flags.append(_flag("warning", "low", step, evidence=message))
    sections = [overview, ident, leader, ties, trans, agree_section, effects_section,
                suspects]
    credible = any(f["kind"] == "intransitive cycle" for f in flags)
    support = _support(d, fit, leader, tr, agree, worst, credible, cluster, rec.messages)
    sections.append(support)
    settings = {"item_a": d.columns.get("item_a"), "item_b": d.columns.get("item_b"),
                "outcome": d.columns.get("outcome"), "rater": d.columns.get("rater"),
                "weight": d.columns.get("weight"), "unit": unit, "cluster": cluster,
                "n_boot": int(n_boot), "conf_level": float(conf_level), "elo": bool(elo),
                "thresholds": None if agree is None else dict(agree.thresholds),
                "random_state": random_state if isinstance(random_state, (int, type(None)))
                else "Generator"}
    log("done")
    return AuditReport(
        sections={s.key: s for s in sections}, flags=_flag_frame(flags), data=d,
        connectivity=conn, model=fit.model, bootstrap=fit.boot, transitivity=tr,
        agreement=agree, worst_cycle=worst, settings=settings,
        warnings=[f"{step}: {message}" for step, message in rec.messages],
        rater_effects=effects,
    )


# ------------------------------------------------------------------------ machinery
class _Progress:
    """Progress messages with the time since the audit started."""

    def __init__(self, sink: bool | Callable[[str], None]) -> None:
        self.start = time.perf_counter()
        if sink is True:
            import sys

            self.sink: Callable[[str], None] | None = lambda m: print(m, file=sys.stderr)
        else:
            self.sink = sink or None

    def __call__(self, message: str) -> None:
        if self.sink is not None:
            self.sink(f"prefstat audit [{time.perf_counter() - self.start:5.1f}s] {message}")


class _Recorder:
    """Record prefstat's warnings per step; any other warning passes through unchanged."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []

    @contextmanager
    def __call__(self, step: str) -> Iterator[None]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", PrefstatWarning)
            yield
        for w in caught:
            if issubclass(w.category, PrefstatWarning):
                message = str(w.message)
                if (step, message) not in self.messages:
                    self.messages.append((step, message))
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def _nominal(d: ComparisonData) -> ComparisonData:
    """Reduce a graded outcome to its direction (win, loss or tie)."""
    return d if d.grade is None else dataclasses.replace(d, grade=None, grade_levels=None)


def _contest_column(d: ComparisonData, name: Hashable | None, arg: str) -> Hashable | None:
    if name is None:
        return None
    contest = d.contest if d.contest is not None else pd.DataFrame(index=d.rows)
    if name not in contest.columns:
        used = {k: v for k, v in d.columns.items() if v is not None}
        role = [k for k, v in used.items() if v == name]
        why = (f" (it is the {role[0]} column, which cannot also be the {arg})" if role
               else "")
        raise MissingColumnError(
            f"audit: {arg}={name!r} is not a column of the table{why}; other columns: "
            f"{format_examples(contest.columns, 10) or 'none'}."
        )
    if contest[name].isna().any():
        rows = d.rows[contest[name].isna().to_numpy()]
        raise MissingColumnError(
            f"audit: the {arg} column {name!r} is missing in {len(rows)} row(s): "
            f"{format_examples(rows)}. Fill or drop those rows first."
        )
    return name


def _flag(kind: str, severity: str, subject: str, *, raters: Any = (), items: Any = (),
          rows: Any = (), evidence: str = "") -> dict[str, Any]:
    return {"kind": kind, "severity": severity, "subject": subject,
            "raters": tuple(raters), "items": tuple(items), "rows": tuple(rows),
            "evidence": evidence}


def _flag_frame(flags: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(flags, columns=list(FLAG_COLUMNS))
    order = frame["severity"].map({s: k for k, s in enumerate(_SEVERITY)})
    return frame.iloc[np.argsort(order.to_numpy(), kind="stable")].reset_index(drop=True)


def _section(key: str, facts: Mapping[str, Any] | None = None,
             tables: Mapping[str, pd.DataFrame] | None = None,
             sentences: list[str] | None = None, figures: tuple[str, ...] = (),
             available: bool = True) -> AuditSection:
    return AuditSection(key, SECTION_TITLES[key], pd.Series(dict(facts or {}), dtype=object),
                        dict(tables or {}), list(sentences or []), figures, available)


def _num(x: Any, digits: int = 3) -> str:
    if isinstance(x, (int, np.integer)):
        return f"{int(x):,}"
    x = float(x)
    if not np.isfinite(x):
        return "n/a"
    if x == round(x) and abs(x) < 1e15:
        return f"{round(x):,}"
    return f"{x:.{digits}g}"


def _pct(x: float) -> str:
    return "n/a" if not np.isfinite(x) else (f"{x:.1%}" if 0 < abs(x) < 0.1 else f"{x:.0%}")


def _p(p: float) -> str:
    if not np.isfinite(p):
        return "p n/a"
    return "p < 0.001" if p < 0.001 else f"p = {p:.2g}"


def _names(labels: Any, limit: int = 6) -> str:
    """Labels as plain text: ``a, b, c and 3 more``."""
    labels = [str(x) for x in labels]
    more = f" and {len(labels) - limit} more" if len(labels) > limit else ""
    return ", ".join(labels[:limit]) + more


def _cycle_text(cycle: tuple[Any, ...]) -> str:
    return " → ".join(str(x) for x in (*cycle, cycle[0]))


# ------------------------------------------------------------------------- sections
def _overview(d: ComparisonData, nominal: ComparisonData, conn: Connectivity,
              unit: Hashable | None) -> AuditSection:
    counts = nominal.outcome_counts()
    total = float(counts.sum())
    mix = pd.DataFrame({"weight": counts, "share": counts / total if total else np.nan})
    mix.index.name = "outcome"
    tables = {"Outcome mix": mix}
    if d.grade is not None and d.grade_levels is not None:
        k = d.grade_levels.size
        level = np.bincount(_grade_position(d.grade, k), weights=d.weight, minlength=k)
        tables["Graded scale"] = pd.DataFrame(
            {"weight": level, "share": level / total},
            index=pd.Index([str(x) for x in d.grade_levels], name="level"))
    pc = nominal.pair_counts(ordered=False)
    compared = pc.total > 0
    n_pairs, possible = int(compared.sum()), comb(d.n_items, 2)
    partners = (np.bincount(pc.first[compared], minlength=d.n_items)
                + np.bincount(pc.second[compared], minlength=d.n_items))
    per_item = conn.items["comparisons"]
    coverage = pd.DataFrame({"comparisons": per_item, "opponents": partners,
                             "component": conn.items["component"]})
    tables["Coverage by item"] = coverage.sort_values("comparisons", ascending=False)
    sizes = [len(c) for c in conn.components()]
    graph = ("connected (one component)" if len(sizes) == 1
             else f"{len(sizes)} components (sizes {format_examples(sizes, 8)})")
    shown = ", ".join(f"{name} {_pct(share)}" for name, share in mix["share"].items()
                      if share > 0)
    facts: dict[str, Any] = {
        "items": d.n_items,
        "raters": d.n_raters if d.rater is not None else "none (no rater column)",
        "rows": d.n_rows,
        "judgements (weight)": total,
        "outcomes": shown,
        "pairs compared": f"{n_pairs:,} of {possible:,} ({_pct(n_pairs / possible)})",
        "comparisons per item (min / median / max)":
            f"{_num(per_item.min())} / {_num(per_item.median())} / {_num(per_item.max())}",
        "judgements per compared pair (median)": float(np.median(pc.total[compared])),
        "comparison graph": graph,
    }
    if unit is not None and d.contest is not None:
        facts["units"] = f"{d.contest[unit].nunique():,} values of {unit!r}"
    sentences = [
        f"{_num(total)} judgements of {d.n_items:,} items"
        + (f" by {d.n_raters:,} raters" if d.rater is not None else " (no rater column)")
        + f"; {n_pairs:,} of the {possible:,} pairs of items were compared "
        f"({_pct(n_pairs / possible)})."
    ]
    if d.grade is not None:
        sentences.append(
            f"The outcome is a graded scale of {d.grade_levels.size} levels; the leaderboard "
            "and transitivity use its direction (win, tie, loss), rater agreement the full "
            "scale.")
    if len(sizes) > 1:
        sentences.append(f"The comparison graph falls apart into {len(sizes)} components: "
                         "items in different components were never linked by comparisons.")
    return _section("overview", facts, tables, sentences, ("coverage",))


def _identifiability(conn: Connectivity, flags: list[dict[str, Any]]) -> AuditSection:
    facts = {
        "connected": "yes" if conn.connected else "no",
        "components": conn.n_components,
        "strongly connected components (win graph)": conn.n_strong_components,
        "finite, unique estimate (MLE) exists": "yes" if conn.mle_exists else "no",
    }
    table = conn.items.sort_values(["component", "strong_component", "comparisons"],
                                   ascending=[True, True, False])
    if conn.mle_exists:
        sentences = [
            "Every item has beaten, and been beaten by, a chain of other items (the win graph "
            "is strongly connected), so a finite and unique Bradley–Terry estimate exists."
        ]
    else:
        problem = str(conn.problem())
        sentences = ["No finite, unique estimate exists: " + problem,
                     "Remedies: collect comparisons across the gap, audit one component at a "
                     "time, or fit with penalty > 0 (shrunken estimates) outside the audit."]
        at_fault = [*conn.isolated, *conn.never_win, *conn.never_lose]
        if not at_fault and conn.n_components > 1:
            at_fault = [x for c in conn.components()[1:] for x in c]
        flags.append(_flag("not identifiable", "high", "comparison graph",
                           items=at_fault, evidence=problem))
    return _section("identifiability", facts, {"Items": table}, sentences)


@dataclass
class _Fit:
    """The leaderboard's model, its bootstrap, and what happened while fitting them."""

    model: BradleyTerry | None
    boot: BootstrapResult | None
    notes: list[str]
    unavailable: str | None  # why there is no model
    order_testable: bool
    winner_first: bool

    @classmethod
    def run(cls, nominal: ComparisonData, conn: Connectivity, cluster: Hashable | None,
            n_boot: int, conf_level: float, rng: np.random.Generator, rec: _Recorder,
            log: _Progress) -> _Fit:
        counts = nominal.outcome_counts()
        winner_first = bool(counts["b"] == 0 and counts["a"] > 0)
        order = _has_both_orders(nominal) and not winner_first
        notes: list[str] = []
        if not conn.mle_exists:
            return cls(None, None, notes, str(conn.problem()), order, winner_first)
        has_ties = bool(counts["tie"] + counts["tie_bothbad"] > 0)
        log(f"fitting Bradley–Terry ({nominal.n_items:,} items)")
        model = None
        failed = None
        with rec("leaderboard"):
            for with_order in ((True, False) if order else (False,)):
                candidate = BradleyTerry(ties="davidson" if has_ties else None,
                                         order_effect=with_order, conf_level=conf_level)
                try:
                    model = candidate.fit(nominal)
                except NotIdentifiableError as err:
                    failed = err
                    continue
                if not with_order and order:
                    notes.append(f"The order effect could not be estimated ({failed}); the "
                                 "leaderboard is fitted without it.")
                break
        if model is None:
            return cls(None, None, notes, str(failed), order, winner_first)
        boot = None
        if model is not None and n_boot > 0:
            log(f"bootstrap: {n_boot} replicates"
                + (f", resampling {cluster!r}" if cluster is not None else ""))
            with rec("leaderboard bootstrap"):
                try:
                    boot = model.bootstrap(nominal, n_boot=n_boot, cluster=cluster,
                                           random_state=rng)
                except (InvalidWeightError, InvalidParameterError) as err:
                    notes.append(f"No bootstrap: {err}")
        return cls(model, boot, notes, None, order, winner_first)

    def section(self, conn: Connectivity, elo: bool) -> AuditSection:
        if self.model is None:
            return _section("leaderboard", {}, {},
                            [f"No leaderboard: {self.unavailable}", *self.notes],
                            available=False)
        m, boot = self.model, self.boot
        s = m.strengths_
        table = pd.DataFrame({"estimate": s["estimate"], "se": s["se"],
                              "ci_lower": s["ci_lower"], "ci_upper": s["ci_upper"]})
        if boot is not None:
            table["boot_se"] = boot.strengths["se"]
            table["boot_ci_lower"] = boot.strengths["ci_lower"]
            table["boot_ci_upper"] = boot.strengths["ci_upper"]
            table["rank_lower"] = boot.ranks["rank_lower"]
            table["rank_upper"] = boot.ranks["rank_upper"]
        if elo:
            e = m.elo()
            table["elo"] = e["rating"]
            table["elo_lower"] = e["ci_lower"]
            table["elo_upper"] = e["ci_upper"]
        items = conn.items
        table["comparisons"] = items["comparisons"]
        with np.errstate(invalid="ignore", divide="ignore"):
            table["win_share"] = (items["wins"] + items["ties"] / 2) / items["comparisons"]
        table = table.sort_values("estimate", ascending=False, kind="stable")
        table.insert(0, "rank", np.arange(1, len(table) + 1))
        table.index.name = "item"
        others = m.params_.drop(index="item", level="group")
        tables = {"Leaderboard": table}
        if len(others):
            tables["Other parameters"] = others
        level = f"{m.conf_level:.0%}"
        parts = ["Davidson's tie model"] if m.ties else []
        if m.order_effect:
            parts.append("an advantage for the first-shown item")
        facts: dict[str, Any] = {
            "model": "Bradley–Terry" + (" with " + " and ".join(parts) if parts else ""),
            "identification": "log-strengths sum to zero",
            "intervals": f"{level} Wald" + (", bootstrap percentile" if boot else ""),
            "log-likelihood": m.loglik_,
            "converged": m.converged_,
        }
        sentences = [
            f"Strengths are Bradley–Terry log-strengths (log-odds scale, summing to zero) of "
            f"{m.n_items_:,} items" + (", with " + " and ".join(parts) if parts else "")
            + f"; ci_lower and ci_upper are {level} Wald intervals that treat rows as "
            "independent judgements."
        ]
        if boot is not None:
            scheme = ("judgements" if boot.cluster is None
                      else f"whole clusters of {boot.cluster!r} ({boot.n_units:,} clusters)")
            facts["bootstrap"] = f"{boot.n_boot} replicates resampling {scheme}"
            sentences.append(
                f"Rank intervals and boot_* intervals come from {boot.n_boot} bootstrap "
                f"replicates resampling {scheme}: a modest default that keeps the audit "
                "fast; pass n_boot=2000 for intervals to publish.")
            if boot.n_failed:
                sentences.append(f"{boot.n_failed} of {boot.n_boot} replicates failed and are "
                                 "left out, so the intervals understate the uncertainty.")
            sentences.append(_tiers_sentence(table))
        if elo:
            sentences.append("Elo ratings: 400 points mean odds of 10 to 1; the mean rating "
                             "is 1000.")
        few = table.index[table["comparisons"] < _FEW_COMPARISONS]
        if len(few):
            sentences.append(f"{len(few)} item(s) have fewer than {_FEW_COMPARISONS} "
                             f"comparisons ({_names(few)}); their estimates are imprecise.")
        sentences.extend(self.notes)
        figures = ("forest", "win_probability", "calibration")
        return _section("leaderboard", facts, tables, sentences, figures)


def _tiers_sentence(table: pd.DataFrame) -> str:
    """Group items whose bootstrap rank intervals chain together by overlapping."""
    order = table.sort_values(["rank_lower", "rank"])
    groups: list[list[Any]] = []
    reach = -np.inf
    for item, row in order.iterrows():
        if groups and row["rank_lower"] <= reach:
            groups[-1].append(item)
            reach = max(reach, row["rank_upper"])
        else:
            groups.append([item])
            reach = row["rank_upper"]
    if all(len(g) == 1 for g in groups):
        return ("Every item's rank interval is separate from the others': the data order all "
                "the items.")
    if len(groups) == 1:
        return ("The rank intervals overlap in one chain across all items: the data do not "
                "separate the items into ordered groups.")
    shown = " > ".join("{" + _names(g, 8) + "}" for g in groups)
    return ("The data order these groups but not the items within a group (their rank "
            f"intervals overlap): {shown}.")


def _has_both_orders(d: ComparisonData) -> bool:
    pc = d.pair_counts(ordered=True)
    key = np.minimum(pc.first, pc.second) * d.n_items + np.maximum(pc.first, pc.second)
    return bool(np.unique(key).size < key.size)


def _ties_and_order(nominal: ComparisonData, fit: _Fit, agree: Agreement | None,
                    flags: list[dict[str, Any]]) -> AuditSection:
    counts = nominal.outcome_counts()
    total = float(counts.sum())
    tie_share = float(counts["tie"] + counts["tie_bothbad"]) / total
    decisive = float(counts["a"] + counts["b"])
    first_share = float(counts["a"]) / decisive if decisive else np.nan
    facts: dict[str, Any] = {"tie share": tie_share}
    if counts["tie_bothbad"] > 0:
        facts["'both bad' tie share"] = float(counts["tie_bothbad"]) / total
    facts["first-shown item wins (decisive judgements)"] = first_share
    sentences = []
    m = fit.model
    if m is not None and m.ties:
        nu = m.params_.loc[("tie", "log_nu")]
        facts["Davidson log ν (CI)"] = (f"{nu['estimate']:.3g} ({nu['ci_lower']:.3g} to "
                                        f"{nu['ci_upper']:.3g})")
    if tie_share > 0:
        sentences.append(
            f"{_pct(tie_share)} of judgements are ties"
            + ("; the leaderboard models them (Davidson 1970) rather than dropping them."
               if m is not None and m.ties else "."))
    else:
        sentences.append("There are no ties.")
    if fit.winner_first:
        sentences.append(
            "Every decisive row records item_a as preferred: the table is in winner/loser "
            "(chosen/rejected) form, item_a is not a presentation order, and position bias "
            "cannot be measured.")
    elif not fit.order_testable:
        sentences.append(
            "No pair was shown in both orders, so an advantage of the first-shown item cannot "
            "be told apart from the items' strengths.")
    elif m is not None and m.order_effect:
        h = m.params_.loc[("order_effect", "order_effect")]
        facts["order effect, log-odds (CI)"] = (
            f"{h['estimate']:.3g} ({h['ci_lower']:.3g} to {h['ci_upper']:.3g}), {_p(h['p'])}")
        odds = np.exp(h["estimate"])
        sentences.append(
            f"Being shown first multiplies an item's odds of winning by {odds:.2f} "
            f"(log-odds {h['estimate']:.3f}, {m.conf_level:.0%} CI {h['ci_lower']:.3f} to "
            f"{h['ci_upper']:.3f}, {_p(h['p'])}); the leaderboard adjusts for it.")
        if h["p"] < _ORDER_ALPHA:
            severity = "medium" if abs(h["estimate"]) >= _ORDER_MEDIUM else "low"
            flags.append(_flag(
                "position bias", severity, "first-shown item (all raters)",
                evidence=f"order effect {h['estimate']:.3f} on the log-odds scale "
                         f"(SE {h['se']:.3f}, {_p(h['p'])}); first-shown item wins "
                         f"{_pct(first_share)} of decisive judgements"))
    else:
        sentences.extend(n for n in fit.notes if n.startswith("The order effect"))
    tables = {}
    if agree is not None:
        cols = ["n_judgements", "n_decisive", "first_position_rate", "position_p_adjusted",
                "tie_rate"]
        tables["By rater"] = agree.raters[cols].sort_values("position_p_adjusted")
        biased = agree.raters.index[agree.raters["reasons"].str.contains("position bias")]
        many_ties = agree.raters.index[agree.raters["reasons"].str.contains("ties in")]
        if len(biased):
            sentences.append(f"{len(biased)} rater(s) favour one position beyond chance: "
                             f"{_names(biased)} (see Rater agreement).")
        if len(many_ties):
            sentences.append(f"{len(many_ties)} rater(s) call almost everything a tie: "
                             f"{_names(many_ties)}.")
    return _section("ties_and_order", facts, tables, sentences)


def _triad_evidence(nominal: ComparisonData, triads: pd.DataFrame) -> pd.DataFrame:
    """Each circular triad with its three majorities and the weakest one's p-value."""
    pc = nominal.pair_counts(ordered=False)
    cells = pd.MultiIndex.from_arrays([pc.first, pc.second])
    items = nominal.items
    cycle = [items.get_indexer(triads[c]) for c in ("item_1", "item_2", "item_3")]
    out = triads[["item_1", "item_2", "item_3"]].copy()
    worst = np.zeros(len(triads))
    for k, (w, v) in enumerate(((0, 1), (1, 2), (2, 0))):
        win, lose = cycle[w], cycle[v]
        cell = cells.get_indexer(pd.MultiIndex.from_arrays(
            [np.minimum(win, lose), np.maximum(win, lose)]))
        a, b = pc.counts[cell, A_WINS], pc.counts[cell, B_WINS]
        won = np.where(win < lose, a, b)
        n = a + b
        p = stats.binom.sf(np.ceil(won) - 1, np.rint(n).astype(np.int64), 0.5)
        out[f"wins_{k + 1}"] = won
        out[f"n_{k + 1}"] = n
        worst = np.maximum(worst, p)
    out["weakest_p"] = worst
    return out.sort_values("weakest_p", kind="stable").reset_index(drop=True)


def _transitivity_section(nominal: ComparisonData, tr: Transitivity | None,
                          error: str | None, flags: list[dict[str, Any]]
                          ) -> tuple[AuditSection, tuple[Any, ...] | None]:
    if tr is None:
        return _section("transitivity", {}, {}, [f"Transitivity was not analysed: {error}"],
                        available=False), None
    row = tr.kendall.iloc[0]
    gof = tr.goodness_of_fit
    facts: dict[str, Any] = {
        "triples with three verdicts": int(row["triangles"]),
        "circular triads T": int(row["circular_triads"]),
    }
    if row["complete"]:
        facts["max T / consistence ζ"] = (f"{_num(row['max_circular_triads'])} / "
                                          f"{row['consistence']:.3f}")
    facts[f"P(T <= t) under random choices ({row['method']})"] = row["p_value"]
    facts["verdicts to reverse (feedback arc set)"] = int(row["reversals"])
    for name in ("gradient", "curl", "harmonic"):
        facts[f"HodgeRank {name} share"] = float(tr.hodge[name])
    facts["Bradley–Terry deviance (df), p"] = (f"{_num(gof['deviance'], 4)} "
                                               f"({_num(gof['df'])}), {_p(gof['p_value'])}")
    facts["circular triads: observed / expected under the model, p"] = (
        f"{_num(gof['circular_triads'])} / {_num(gof['expected_circular_triads'])}, "
        f"{_p(gof['bootstrap_p_value'])}")
    tables: dict[str, pd.DataFrame] = {}
    evidence = _triad_evidence(nominal, tr.triads)
    if len(evidence):
        tables["Circular triads (strongest evidence first)"] = evidence
    if len(tr.feedback_arc_set):
        tables["Verdicts to reverse (feedback arc set)"] = tr.feedback_arc_set.drop(
            columns="rows")
    tables["Stochastic transitivity"] = tr.stochastic_transitivity
    if len(tr.components):
        tables["Cyclic components of the majority graph"] = tr.components
    sentences = []
    t = int(row["circular_triads"])
    if int(row["triangles"]) == 0:
        sentences.append("No three items were all compared with one another, so no cycle "
                         "can show in these data.")
    else:
        sentences.append(
            f"{t:,} of {int(row['triangles']):,} triples with three majority verdicts are "
            f"circular (A beats B beats C beats A); random choices would give about "
            f"{_num(row['expected_circular_triads'])}.")
    share = float(tr.hodge["gradient"])
    sentences.append(
        f"A single score per item explains {_pct(share)} of the pairwise preference flow "
        f"(HodgeRank); {_pct(float(tr.hodge['curl']))} circulates in triangles and "
        f"{_pct(float(tr.hodge['harmonic']))} around longer cycles.")
    misfit = np.isfinite(gof["p_value"]) and gof["p_value"] < _MISFIT_ALPHA
    if np.isfinite(gof["p_value"]):
        sentences.append(
            f"The Bradley–Terry model {'does not fit' if misfit else 'fits'} the pair table "
            f"(deviance {_num(gof['deviance'], 4)} on {_num(gof['df'])} df, "
            f"{_p(gof['p_value'])}; ties counted as half wins).")
    if misfit:
        flags.append(_flag(
            "model misfit", "medium", "Bradley–Terry model",
            evidence=f"deviance {_num(gof['deviance'], 4)} on {_num(gof['df'])} df "
                     f"({_p(gof['p_value'])}): one score per item leaves systematic "
                     "structure in the pair table"))
    worst = None
    credible = evidence[evidence["weakest_p"] < _CYCLE_ALPHA]
    if len(evidence):
        top = evidence.iloc[0]
        worst = (top["item_1"], top["item_2"], top["item_3"])
        sentences.append(
            f"The strongest cycle is {_cycle_text(worst)}; the weakest of its three "
            f"majorities has {_p(top['weakest_p'])} (one-sided binomial test of 1/2). "
            + (f"{len(credible)} cycle(s) have all three majorities significant at "
               f"{_CYCLE_ALPHA:g}." if len(credible) else
               "No cycle has all three majorities significant: the cycles may be noise "
               "among close items."))
    for _, cyc in credible.head(_MAX_CYCLE_FLAGS).iterrows():
        cycle = (cyc["item_1"], cyc["item_2"], cyc["item_3"])
        beats = "; ".join(
            f"{cycle[k]} beat {cycle[(k + 1) % 3]} in {_num(cyc[f'wins_{k + 1}'])} of "
            f"{_num(cyc[f'n_{k + 1}'])}" for k in range(3))
        flags.append(_flag(
            "intransitive cycle", "medium", _cycle_text(cycle), items=cycle,
            evidence=f"{beats} decisive judgements; weakest majority {_p(cyc['weakest_p'])}"))
    if len(credible) > _MAX_CYCLE_FLAGS:
        sentences.append(f"Only the {_MAX_CYCLE_FLAGS} strongest of {len(credible)} "
                         "significant cycles are flagged.")
    sentences.extend(n for n in tr.notes if n.startswith("Incomplete"))
    return _section("transitivity", facts, tables, sentences,
                    ("cycle",) if worst is not None else ()), worst


def _agreement_section(agree: Agreement | None, missing: str | None,
                       flags: list[dict[str, Any]]) -> AuditSection:
    if agree is None:
        return _section("agreement", {}, {}, [str(missing)], available=False)
    r = agree.raters
    stats_table = agree.statistics[["estimate", "ci_lower", "ci_upper", "n_units"]]
    flagged = r[r["flagged"]]
    facts: dict[str, Any] = {
        "raters": len(r), "judgements": agree.n_judgements, "units": agree.n_units,
        "units judged once (no agreement)": agree.n_units_judged_once,
        "flagged raters": len(flagged),
        "bootstrap": (f"{agree.n_boot} replicates, clustered by unit" if agree.n_boot
                      else "none"),
    }
    cols = ["n_judgements", "loo_agreement", "reliability", "first_position_rate",
            "tie_rate", "circular_triads", "flagged", "reasons"]
    tables = {
        "Agreement statistics": stats_table,
        "Accuracy ceiling for a model of these labels":
            agree.accuracy_ceiling[["estimate", "ci_lower", "ci_upper"]],
        "Raters": r[cols].sort_values(["flagged", "reliability"], ascending=[False, True]),
    }
    sentences = []
    st = agree.statistics["estimate"]
    if np.isfinite(st["percent_agreement"]):
        sentences.append(
            f"Two judgements of the same unit carry the same label {_pct(st['percent_agreement'])}"
            f" of the time ({_pct(st['percent_agreement_no_ties'])} when both are decisive); "
            f"Krippendorff's α = {st['krippendorff_alpha']:.3f}.")
    else:
        sentences.append("No unit was judged twice, so agreement between raters cannot be "
                         "computed; rater reliability comes from the mixture model alone.")
    bound = agree.accuracy_ceiling.loc["upper_bound", "estimate"]
    if np.isfinite(bound):
        sentences.append(
            f"No model of these labels can be expected to agree with a held-out decisive "
            f"label more than about {_pct(bound)} of the time (the accuracy ceiling).")
    for rater, row in flagged.iterrows():
        for reason in str(row["reasons"]).split("; "):
            kind, severity = next(((k, s) for start, k, s in _RATER_KINDS
                                   if reason.startswith(start)), ("flagged rater", "medium"))
            flags.append(_flag(kind, severity, str(rater), raters=(rater,),
                               rows=_rater_rows(agree, rater), evidence=reason))
    if len(flagged):
        sentences.append(f"{len(flagged)} rater(s) are flagged: {_names(flagged.index)}.")
    else:
        sentences.append("No rater is flagged.")
    sentences.extend(n for n in agree.notes if "did not converge" in n or "penalty" in n)
    return _section("agreement", facts, tables, sentences, ("raters",))


def _fit_rater_effects(nominal: ComparisonData, fit: _Fit, conf_level: float, rec: _Recorder,
                       log: _Progress) -> tuple[RaterBradleyTerry | None, str | None]:
    """Fit rater reliability (and position bias, where the order effect is measurable)."""
    if nominal.rater is None:
        return None, "no rater column was given (rater=...)."
    if nominal.n_raters < 2:
        return None, (f"the table has {nominal.n_raters} rater, and how raters differ needs "
                      "at least two.")
    counts = nominal.outcome_counts()
    has_ties = bool(counts["tie"] + counts["tie_bothbad"] > 0)
    # the model reads a DataFrame: the encoded table with its labels back
    frame = pd.DataFrame({
        "item_a": nominal.items[nominal.a], "item_b": nominal.items[nominal.b],
        "outcome": np.asarray(OUTCOME_NAMES, dtype=object)[nominal.outcome],
        "rater": nominal.raters[nominal.rater], "weight": nominal.weight})
    model = RaterBradleyTerry(position_bias=fit.order_testable, reliability=True,
                              order_effect=fit.order_testable,
                              ties="davidson" if has_ties else None, conf_level=conf_level)
    log(f"rater random effects ({nominal.n_raters:,} raters)")
    with rec("rater effects"):
        try:
            model.fit(frame, weight="weight" if nominal.weighted else None)
        except PrefstatError as err:
            return None, str(err)
    return model, None


def _rater_effects_section(nominal: ComparisonData, model: RaterBradleyTerry | None,
                           missing: str | None, flags: list[dict[str, Any]]) -> AuditSection:
    if model is None:
        return _section("rater_effects", {}, {},
                        [f"Rater random effects are not available: {missing}"],
                        available=False)
    r = model.raters_
    level = f"{model.conf_level:.0%}"
    alpha = 1 - model.conf_level
    z = stats.norm.ppf(0.5 + model.conf_level / 2)
    table = r[["n_judgements", "agreement"]].copy()
    rel, rel_se = r["reliability"], r["reliability_se"]
    with np.errstate(divide="ignore", invalid="ignore"):
        rel_p = 2 * stats.norm.sf(np.abs(rel - 1) / rel_se)
    table["reliability"], table["reliability_se"] = rel, rel_se
    table["reliability_ci_lower"] = rel - z * rel_se
    table["reliability_ci_upper"] = rel + z * rel_se
    everyone = np.ones(len(r), dtype=bool)
    table["reliability_p_adjusted"] = _holm(np.asarray(rel_p, dtype=float), everyone)
    random = table.index[(table["reliability_p_adjusted"] < alpha)
                         & (rel < _RANDOM_RATER_RELIABILITY)]
    h = np.nan
    biased = table.index[:0]
    if model.position_bias:
        h = float(model.params_.loc[("order_effect", "order_effect"), "estimate"])
        pos, pos_se = r["position_bias"], r["position_bias_se"]
        with np.errstate(divide="ignore", invalid="ignore"):
            pos_p = 2 * stats.norm.sf(np.abs(pos - h) / pos_se)
        table["position_bias"], table["position_bias_se"] = pos, pos_se
        table["position_p_adjusted"] = _holm(np.asarray(pos_p, dtype=float), everyone)
        biased = table.index[table["position_p_adjusted"] < alpha]
    table = table.sort_values("reliability", kind="stable")
    vc = model.variance_components_
    parts = ["reliability"] + (["position bias"] if model.position_bias else [])
    facts: dict[str, Any] = {
        "model": "Bradley–Terry with random rater " + " and ".join(parts)
                 + (" and Davidson's tie model" if model.ties else "")
                 + " (Laplace approximation)",
        "raters": len(r),
        "SD intervals": f"{level} {model.intervals_}",
        "log-likelihood (Laplace)": model.loglik_,
        "converged": model.converged_,
    }
    if model.position_bias:
        ci = model.params_.loc[("order_effect", "order_effect")]
        facts["order effect h, log-odds (CI)"] = (f"{h:.3g} ({ci['ci_lower']:.3g} to "
                                                  f"{ci['ci_upper']:.3g})")
    facts["random or reversed raters"] = len(random)
    if model.position_bias:
        facts["raters with their own position bias"] = len(biased)
    sentences = [
        "Each rater's reliability (its discrimination: 1 for a typical rater, 0 for one who "
        "answers at random, negative for one who reverses the scale)"
        + (" and first-position advantage are random effects" if model.position_bias
           else " is a random effect")
        + " around the consensus; the per-rater values are conditional modes with "
        "conditional standard errors, shrunk towards the typical rater."]
    for name, row in vc.iterrows():
        what = str(name).replace("_", " ")
        if row["singular"]:
            sentences.append(f"The SD of {what} between raters is estimated at 0 (a singular "
                             f"fit): the raters do not measurably differ in {what}.")
        else:
            sentences.append(f"The SD of {what} between raters is {row['sd']:.3g} ({level} "
                             f"{model.intervals_} interval {row['ci_lower']:.3g} to "
                             f"{row['ci_upper']:.3g}).")
    if not model.position_bias:
        sentences.append("Position bias per rater is not estimated: the table does not show "
                         "pairs in both presentation orders.")
    sentences.append(
        f"A rater is flagged as random or reversed when its reliability is below "
        f"{_RANDOM_RATER_RELIABILITY:g} and differs from 1"
        + (", and as position-biased when its first-position advantage differs from the "
           "common order effect h," if model.position_bias else "")
        + f" at level {alpha:g} with Holm's adjustment over the raters. These flags are a "
        "second opinion on those of Rater agreement: export_rlhf(drop=True) drops by those.")
    rater_rows = pd.Series(nominal.rows).groupby(nominal.rater)
    for rater in random:
        row = table.loc[rater]
        reversed_ = row["reliability_ci_upper"] < 0
        flags.append(_flag(
            "random or reversed rater", "high", str(rater), raters=(rater,),
            rows=tuple(rater_rows.get_group(nominal.raters.get_loc(rater))),
            evidence=f"reliability {row['reliability']:.2f} (conditional {level} interval "
                     f"{row['reliability_ci_lower']:.2f} to {row['reliability_ci_upper']:.2f}"
                     f"; Holm-adjusted {_p(row['reliability_p_adjusted'])} against 1, a "
                     "typical rater): " + ("its labels run against the consensus"
                                           if reversed_ else "its labels barely follow the "
                                           "consensus")
                     + f"; agrees with the consensus in {_pct(row['agreement'])} of its "
                       "judgements"))
    for rater in biased:
        row = table.loc[rater]
        flags.append(_flag(
            "rater-specific position bias", "medium", str(rater), raters=(rater,),
            rows=tuple(rater_rows.get_group(nominal.raters.get_loc(rater))),
            evidence=f"first-position advantage {row['position_bias']:.2f} log-odds (SE "
                     f"{row['position_bias_se']:.2f}) against {h:.2f} for the typical rater "
                     f"(Holm-adjusted {_p(row['position_p_adjusted'])})"))
    named = [*random, *(x for x in biased if x not in set(random))]
    sentences.append(f"{len(named)} rater(s) are flagged by the random-effects model: "
                     f"{_names(named)}." if named
                     else "No rater is flagged by the random-effects model.")
    sentences.extend(model.warnings_)
    tables = {"Variance components": vc,
              "Raters (random effects, least reliable first)": table}
    return _section("rater_effects", facts, tables, sentences)


def _rater_rows(agree: Agreement, rater: Any) -> tuple[Any, ...]:
    s = agree.suspects
    return tuple(s.index[s["rater"] == rater])


def _suspects_section(agree: Agreement | None, missing: str | None,
                      flags: list[dict[str, Any]]) -> AuditSection:
    if agree is None:
        return _section("suspects", {}, {}, [
            str(missing).replace("rater agreement cannot be measured",
                                 "suspect rows cannot be found")
            .replace("rater agreement is not measured", "suspect rows are not sought"),
            "Suspect rows are labels that look random given the consensus and their "
            "rater's reliability; finding them needs the raters."], available=False)
    s = agree.suspects
    sus = s[s["suspect"]]
    threshold = agree.thresholds["suspect_probability"]
    from_flagged = sus["rater"].isin(agree.flagged_raters.index)
    facts = {"suspect rows": len(sus), "share of rows": len(sus) / max(len(s), 1),
             "threshold": f"p_suspect >= {threshold:g}",
             "from flagged raters": int(from_flagged.sum())}
    cols = ["rater", "item_a", "item_b", "outcome", "unit_judgements", "unit_agreement",
            "p_consensus", "rater_reliability", "p_suspect"]
    sentences = [
        f"{len(sus):,} row(s) ({_pct(len(sus) / max(len(s), 1))}) look like random labels "
        f"rather than judgements (posterior probability of a content-blind label >= "
        f"{threshold:g}); {int(from_flagged.sum()):,} of them come from flagged raters.",
        "A label is detectable as random only where the consensus is clear; flips on close "
        "pairs look like honest disagreement and are not flagged.",
    ]
    for label, row in sus.iterrows():
        flags.append(_flag(
            "suspect label", "medium" if row["p_suspect"] >= _SUSPECT_MEDIUM else "low",
            f"row {label!s}", raters=(row["rater"],), items=(row["item_a"], row["item_b"]),
            rows=(label,),
            evidence=f"label {_label_text(row)} has probability {row['p_consensus']:.2f} "
                     f"under the consensus; P(random label) = {row['p_suspect']:.2f}; "
                     f"rater reliability {row['rater_reliability']:.2f}"))
    return _section("suspects", facts, {"Suspect rows (most suspect first)": sus[cols]},
                    sentences)


def _label_text(row: pd.Series) -> str:
    """Say a suspect's label in words: which side it prefers, or the graded level."""
    side = {"a": row["item_a"], "b": row["item_b"]}.get(str(row["outcome"]))
    return f"{row['outcome']!s} ({side!s} preferred)" if side is not None \
        else repr(str(row["outcome"]))


def _support(d: ComparisonData, fit: _Fit, leader: AuditSection, tr: Transitivity | None,
             agree: Agreement | None, worst: tuple[Any, ...] | None,
             credible_cycles: bool, cluster: Hashable | None,
             recorded: list[tuple[str, str]]) -> AuditSection:
    can: list[str] = []
    cannot: list[str] = []
    if fit.model is None:
        cannot.append(f"A leaderboard: {fit.unavailable}")
    else:
        can.append(f"A leaderboard of {d.n_items:,} items with an interval for every "
                   "strength.")
        if fit.boot is not None:
            can.append(_tiers_sentence(leader.tables["Leaderboard"]))
        if cluster is None and fit.boot is not None:
            cannot.append(
                "Intervals that account for shared prompts or raters: no unit column was "
                "given, so rows are resampled as independent judgements. If several rows "
                "share a prompt, pass unit= (CLI: --unit) and the bootstrap resamples whole "
                "prompts.")
    if tr is not None:
        gof = tr.goodness_of_fit
        misfit = np.isfinite(gof["p_value"]) and gof["p_value"] < _MISFIT_ALPHA
        if misfit or credible_cycles:
            cannot.append(
                "A complete description by one score per item: "
                + ("the Bradley–Terry model does not fit the pair table"
                   if misfit else "some preferences are circular")
                + (f" (strongest cycle {_cycle_text(worst)})" if worst is not None else "")
                + "; read the leaderboard as an average over those preferences.")
        elif worst is not None:
            can.append("A description by one score per item, up to circular majorities that "
                       f"may be noise among close items (strongest: {_cycle_text(worst)}, "
                       "not every one of its majorities significant).")
        elif int(tr.kendall["triangles"].iloc[0]) == 0:
            cannot.append("A test of transitivity: no three items were all compared with one "
                          "another (the comparison graph has no triangle), so cycles cannot "
                          "show and one score per item cannot be checked against the data.")
        elif np.isfinite(gof["p_value"]):
            can.append("A description by one score per item: no circular majorities and no "
                       "detectable misfit.")
        else:
            can.append("No circular majorities (the Bradley–Terry model's fit could not be "
                       "tested).")
    if fit.winner_first or not fit.order_testable:
        cannot.append("A measurement of position bias: the table does not show pairs in both "
                      "presentation orders.")
    elif fit.model is not None and fit.model.order_effect:
        h = fit.model.params_.loc[("order_effect", "order_effect")]
        interval = (f"log-odds {h['estimate']:.3f}, {fit.model.conf_level:.0%} CI "
                    f"{h['ci_lower']:.3f} to {h['ci_upper']:.3f}")
        if h["p"] < _ORDER_ALPHA and abs(h["estimate"]) >= _ORDER_MEDIUM:
            can.append(f"A measured position bias ({interval}), which the leaderboard "
                       "removes; labels used one by one (a reward model's training pairs) "
                       "still carry it.")
        elif h["p"] < _ORDER_ALPHA:
            can.append(f"Labels free of a material position bias: the first-shown item's "
                       f"advantage is significant but small ({interval}).")
        else:
            can.append(f"No detectable position bias overall ({interval}).")
    if agree is None:
        cannot.append("Statements about raters (agreement, reliability, suspect labels): "
                      + ("there is no rater column." if d.rater is None
                         else "the table is weighted."))
    else:
        flagged = agree.flagged_raters
        n_sus = int(agree.suspects["suspect"].sum())
        named = f" ({_names(flagged.index, 10)})" if len(flagged) else ""
        can.append(f"Rater quality: {len(flagged)} of {len(agree.raters)} raters flagged"
                   f"{named} and {n_sus:,} suspect labels; export_rlhf(drop=True) leaves "
                   "them out.")
        bound = agree.accuracy_ceiling.loc["upper_bound", "estimate"]
        if np.isfinite(bound):
            cannot.append(f"A model that agrees with held-out labels more than about "
                          f"{_pct(bound)} of the time (the accuracy ceiling of these labels).")
    if d.grade is not None:
        cannot.append("Graded strength of preference in the leaderboard: the scale enters "
                      "through its direction only.")
    if recorded:
        cannot.append(f"Full confidence in every number: {len(recorded)} warning(s) were "
                      "recorded (see the flags of kind 'warning').")
    sentences = [f"The data support: {s}" for s in can] + \
                [f"The data cannot support: {s}" for s in cannot]
    return _section("support", {}, {}, sentences)
