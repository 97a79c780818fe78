r"""Transitivity and scalar adequacy: can one score per item describe the preferences.

:func:`transitivity` reads a comparison table (or a square matrix of win counts)
and measures, in several complementary ways, how far the judgements are from
what any single score per item could produce.

Majority verdicts
    The judgements of a pair are pooled (summed weights). The pair's *majority
    verdict* goes to the item with more wins; ties count half a win for each
    side and so never decide a verdict. A pair with equal wins (including a pair
    judged only as ties) has *no verdict*: it is left out of every count that
    needs a direction (circular triads, the majority graph), and a tournament
    with such a pair is treated as incomplete.
Circular triads (Kendall & Babington Smith 1940)
    Triples whose three verdicts form a cycle. For a complete tournament on
    ``n`` items (every pair has a verdict) ``T = C(n, 3) - sum_i C(s_i, 2)``
    (``s_i`` the number of verdicts item ``i`` won), its maximum is
    ``T_max = n(n^2 - 1)/24`` (``n`` odd) or ``n(n^2 - 4)/24`` (``n`` even), and
    the coefficient of consistence is ``zeta = 1 - T / T_max``. The test of
    Kendall & Babington Smith asks whether ``T`` is smaller than choices at
    random would give: ``P(T <= t)`` under uniformly random tournaments, exact
    up to 12 items (the distribution is computed by a recursion over score
    vectors) and by Kendall's chi-square approximation beyond. For an
    incomplete tournament (pairs never compared, or without a verdict) ``T``
    counts the cyclic triples among triples whose three pairs all have a
    verdict; ``T_max`` and ``zeta`` are not defined (NaN), and ``P(T <= t)`` is
    estimated by Monte Carlo over random orientations of the pairs that have a
    verdict.
Stochastic transitivity
    Weak, moderate and strong stochastic transitivity of the pooled choice
    proportions (ties half), counted over all triples whose three pairs were
    compared with the conventions of R's ``eba::strans``, with Tversky's
    likelihood-ratio test of WST.
Feedback arc set
    The fewest majority verdicts whose reversal leaves no cycle in the majority
    graph (among equally few, the ones with the smallest total margin), with
    the strongly connected components that hold every cycle.
HodgeRank (Jiang, Lim, Yao & Ye 2011)
    The share of the pairwise flow that a score explains (gradient), that
    circulates around triangles (curl) and around longer cycles (harmonic).
Goodness of fit
    The deviance of a Bradley–Terry fit against the saturated pair table, and a
    parametric bootstrap of the number of circular triads under the fitted
    model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import comb
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import sparse, stats

from .. import _encoding as enc
from .._random import as_generator
from .._report import Summary
from ..convert import from_matrix
from ..data import ComparisonData, PairCounts
from ..exceptions import InvalidParameterError, NotIdentifiableError, format_examples
from ..models import BradleyTerry
from . import _cycles as cyc
from ._hodge import hodge_decomposition
from ._stochastic import LEVELS, stochastic_transitivity

__all__ = ["Transitivity", "transitivity"]

# Two win totals closer than this (relative to the pair's total weight) are a tie: sums of
# float weights such as 0.1 + 0.2 must not decide a verdict by rounding error.
_TIE_RTOL = 1e-9
# Witness cycles are listed for at most this many reversed verdicts (one BFS each).
_MAX_CYCLES = 100
# Bootstrap and Monte Carlo replicates are simulated in blocks of about this many
# (replicate x triple) cells, to bound memory.
_BLOCK_CELLS = 20_000_000
# Haldane–Anscombe correction added to both counts of a pair with a zero count, so that
# log-odds flows stay finite.
_HALDANE = 0.5


@dataclass(frozen=True)
class Transitivity:
    """Result of :func:`transitivity`.

    Attributes
    ----------
    kendall : pandas.DataFrame
        One row per tournament (index ``"all"``, or the raters with
        ``by="rater"``): ``n_items, n_pairs, n_decided`` (pairs with a majority
        verdict), ``complete``, ``triangles`` (triples whose three pairs have a
        verdict), ``circular_triads``, ``max_circular_triads``,
        ``expected_circular_triads`` (under random choices), ``consistence``,
        ``statistic, df`` (Kendall's chi-square, when used), ``p_value``
        (``P(T <= t)`` under random choices), ``method`` (``exact``, ``chi2``,
        ``monte carlo``), ``reversals`` (size of the feedback arc set) and
        ``cyclic`` (whether the majority graph has any cycle, possibly longer
        than three).
    triads : pandas.DataFrame
        The circular triads, ``item_1, item_2, item_3`` in cyclic order
        (``item_1`` beat ``item_2`` beat ``item_3`` beat ``item_1``), ``item_1``
        the first in item order; with ``by="rater"`` a ``rater`` column first.
    stochastic_transitivity : pandas.DataFrame
        Indexed by ``weak, moderate, strong``: ``violations, tests, rate,
        mean_deviation, max_deviation``.
    wst_test : pandas.Series
        Tversky's likelihood-ratio test of WST: ``statistic, df, p_value``.
    violations : pandas.DataFrame
        The triples violating at least strong stochastic transitivity, judged
        by the ordering ``item_1, item_2, item_3`` (premise ``p_12, p_23 >=
        0.5``): the proportions ``p_12, p_23, p_13``, the counts behind them
        (``x_12`` chosen out of ``n_12``, ...; ties count half), which
        properties fail and by how much (``deviation_weak``, ...).
    feedback_arc_set : pandas.DataFrame
        The majority verdicts to reverse: ``winner, loser`` (of the majority),
        ``wins, losses, ties, n, margin`` (``wins - losses``), ``component``
        (strong component) and ``rows`` (the index labels of the source rows
        behind the verdict; ``.explode("rows")`` joins them back).
    components : pandas.DataFrame
        Strongly connected components of the majority graph with more than one
        item: ``component, size, reversals, method, items``.
    cycles : pandas.DataFrame
        One shortest cycle through each reversed verdict (the first
        ``100``): ``winner, loser, length, cycle``.
    hodge : pandas.Series
        Shares ``gradient, curl, harmonic`` of the flow's weighted squared
        norm; they sum to 1.
    hodge_scores : pandas.Series
        The gradient's potential per item (mean zero per connected component):
        HodgeRank's global ranking.
    goodness_of_fit : pandas.Series
        ``deviance, df, p_value`` of the Bradley–Terry fit, the observed
        ``circular_triads`` among the analysed triples, their bootstrap mean
        ``expected_circular_triads``, ``bootstrap_p_value`` and ``n_boot``.
    n_triples : int
        Triples whose three pairs were compared.
    n_triples_used : int
        Triples analysed for the triad list, stochastic transitivity and the
        bootstrap (all, unless ``sampled``).
    sampled : bool
        Whether the triples are a uniform random sample (more than
        ``max_triples``).
    by : str or None
        ``"rater"`` when tournaments are per rater.
    notes : list of str
        Conventions used and caveats, also shown by :meth:`summary`.
    """

    kendall: pd.DataFrame
    triads: pd.DataFrame
    stochastic_transitivity: pd.DataFrame
    wst_test: pd.Series
    violations: pd.DataFrame
    feedback_arc_set: pd.DataFrame
    components: pd.DataFrame
    cycles: pd.DataFrame
    hodge: pd.Series
    hodge_scores: pd.Series
    goodness_of_fit: pd.Series
    n_triples: int
    n_triples_used: int
    sampled: bool
    by: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def circular_triads(self) -> int | pd.DataFrame:
        """``T`` of the pooled tournament, or the per-rater table with ``by="rater"``."""
        if self.by is None:
            return int(self.kendall["circular_triads"].iloc[0])
        return self.kendall.rename_axis("rater").reset_index()

    @property
    def max_circular_triads(self) -> float | pd.Series:
        """``T_max`` (NaN for an incomplete tournament); a Series by rater with ``by``."""
        col = self.kendall["max_circular_triads"]
        return float(col.iloc[0]) if self.by is None else col

    @property
    def consistence(self) -> float | pd.Series:
        """Kendall's coefficient of consistence ``1 - T / T_max``; by rater with ``by``."""
        col = self.kendall["consistence"]
        return float(col.iloc[0]) if self.by is None else col

    @property
    def p_value(self) -> float | pd.Series:
        """``P(T <= t)`` under random choices; by rater with ``by``."""
        col = self.kendall["p_value"]
        return float(col.iloc[0]) if self.by is None else col

    def summary(self) -> Summary:
        """Readable report: consistency, stochastic transitivity, cycles, fit.

        Returns
        -------
        Summary
            Renders as text (``print``) and as HTML in a notebook.
        """
        k = self.kendall
        facts: dict[str, object] = {}
        if self.by is None:
            row = k.iloc[0]
            facts.update({
                "items": int(row["n_items"]),
                "pairs compared (with a verdict)": f"{int(row['n_pairs'])} "
                                                   f"({int(row['n_decided'])})",
                "complete tournament": bool(row["complete"]),
                "circular triads T": int(row["circular_triads"]),
                "max T": row["max_circular_triads"],
                "consistence (zeta)": row["consistence"],
                f"P(T <= t), {row['method']}": row["p_value"],
                "verdicts to reverse (FAS)": int(row["reversals"]),
            })
        else:
            facts.update({
                "raters": len(k),
                "raters with a circular triad": int((k["circular_triads"] > 0).sum()),
                "raters with any cycle": int(k["cyclic"].sum()),
                "circular triads (all raters)": int(k["circular_triads"].sum()),
            })
        facts["triples compared"] = self.n_triples
        if self.sampled:
            facts["triples analysed (random sample)"] = self.n_triples_used
        for name in ("gradient", "curl", "harmonic"):
            facts[f"HodgeRank {name} share"] = float(self.hodge[name])
        gof = self.goodness_of_fit
        facts["Bradley–Terry deviance (df)"] = f"{gof['deviance']:.4g} ({gof['df']:g})"
        facts["deviance p-value"] = float(gof["p_value"])
        facts["bootstrap p-value, circular triads"] = float(gof["bootstrap_p_value"])
        tables: dict[str, pd.DataFrame] = {
            "Stochastic transitivity (eba::strans conventions)": self.stochastic_transitivity,
        }
        if self.by is not None:
            tables["Circular triads by rater"] = k
        if len(self.triads):
            tables["Circular triads"] = self.triads.head(20)
        if len(self.feedback_arc_set):
            tables["Verdicts to reverse (feedback arc set)"] = self.feedback_arc_set.drop(
                columns="rows").head(20)
        if len(self.violations):
            tables["Triples violating strong stochastic transitivity"] = self.violations.head(20)
        return Summary("Transitivity and scalar adequacy", facts, tables, list(self.notes))


# ------------------------------------------------------------------ public
def transitivity(
    data: pd.DataFrame | ComparisonData,
    *,
    item_a: str = "item_a",
    item_b: str = "item_b",
    outcome: str = "outcome",
    weight: str | None = None,
    rater: str | None = None,
    items: Any = None,
    by: Literal["rater"] | None = None,
    flow: Literal["log_odds", "mean"] = "log_odds",
    n_boot: int = 199,
    max_triples: int = 200_000,
    random_state: int | np.random.Generator | None = None,
) -> Transitivity:
    r"""Measure intransitivity and how much of the preferences a single score explains.

    Parameters
    ----------
    data : pandas.DataFrame or ComparisonData
        A canonical comparison table (see :mod:`prefstat.data`), or a square
        DataFrame of win counts whose cell ``(i, j)`` counts how often the row
        item was preferred to the column item (as
        :func:`prefstat.convert.from_matrix` reads it; recognised when the
        ``item_a`` column is absent and every column is numeric).
    item_a, item_b, outcome, weight, rater : str
        Column names, as for :meth:`ComparisonData.from_frame`.
    items : sequence, optional
        The full item set and its order.
    by : {None, "rater"}, default None
        ``"rater"`` makes each rater's judgements a tournament of its own for
        the circular triads, Kendall's test and the feedback arc set; the
        stochastic transitivity, HodgeRank and goodness of fit use the pooled
        data either way.
    flow : {"log_odds", "mean"}, default "log_odds"
        HodgeRank's edge flow: ``log(x_i / x_j)`` (``x`` the choice counts, ties
        half; 0.5 is added to both counts of a pair with a zero count), or the
        mean preference ``(x_i - x_j) / n``. Edge weights are the numbers of
        judgements ``n``.
    n_boot : int, default 199
        Replicates of the parametric bootstrap (and of the Monte Carlo test of
        incomplete tournaments); 0 skips both.
    max_triples : int, default 200000
        Above this many compared triples, the triad list, stochastic
        transitivity and the bootstrap use a uniform random sample of this many
        (said in the result and its summary); ``T`` itself is always exact.
    random_state : int, numpy.random.Generator or None
        Seed or generator for sampling and simulation
        (:func:`numpy.random.default_rng`).

    Returns
    -------
    Transitivity

    Raises
    ------
    DataValidationError
        Bad input table or matrix (not square, negative counts, ...); see
        :meth:`ComparisonData.from_frame` and :func:`prefstat.convert.from_matrix`.
    InvalidParameterError
        An argument out of range, or ``by="rater"`` without a rater column
        (``rater=`` must name it, even a column called ``"rater"``).

    Notes
    -----
    See the module documentation and the user guide (Transitivity and scalar
    adequacy) for every definition and convention.

    References
    ----------
    Kendall, M. G. & Babington Smith, B. (1940). On the method of paired
    comparisons. *Biometrika*, 31, 324–345.
    Kendall, M. G. (1970). *Rank Correlation Methods*, 4th ed., ch. 11. Griffin.
    Tversky, A. (1969). Intransitivity of preferences. *Psychological Review*,
    76, 31–48.
    Eades, P., Lin, X. & Smyth, W. F. (1993). A fast and effective heuristic for
    the feedback arc set problem. *Information Processing Letters*, 47, 319–323.
    Jiang, X., Lim, L.-H., Yao, Y. & Ye, Y. (2011). Statistical ranking and
    combinatorial Hodge theory. *Mathematical Programming*, 127, 203–244.

    Examples
    --------
    A dog's choices among six foods (Kendall 1970; row chosen over column):

    >>> import pandas as pd
    >>> from prefstat.diagnostics import transitivity
    >>> foods = ["meat", "biscuit", "chocolate", "apple", "pear", "cheese"]
    >>> chosen = pd.DataFrame([[0, 1, 1, 0, 1, 1], [0, 0, 0, 1, 1, 0],
    ...                        [0, 1, 0, 1, 1, 1], [1, 0, 0, 0, 0, 0],
    ...                        [0, 0, 0, 1, 0, 1], [0, 1, 0, 1, 0, 0]],
    ...                       index=foods, columns=foods)
    >>> result = transitivity(chosen, random_state=0)
    >>> result.circular_triads, result.max_circular_triads, result.consistence
    (5, 8.0, 0.375)
    >>> round(result.p_value, 4)
    0.5093
    >>> result.triads.head(2)
      item_1     item_2 item_3
    0   meat    biscuit  apple
    1   meat  chocolate  apple
    """
    _check_parameters(by, flow, n_boot, max_triples)
    _check_raters(data, by, rater, item_a)
    rng = as_generator(random_state, "transitivity")
    d, from_square = _encode(data, item_a, item_b, outcome, weight, rater, items)
    if by == "rater" and d.rater is None:
        raise InvalidParameterError(
            "by='rater' needs raters, but the ComparisonData has none; encode the table "
            "with ComparisonData.from_frame(df, rater='<column>'), or pass the table itself "
            "with rater='<column>'."
        )
    notes = _convention_notes(from_square)
    pooled = _Pairs.from_counts(d, by_rater=False)
    tri, counts = _triangles(pooled, pooled.verdict if by is None else None, max_triples, rng)
    if tri.sampled:
        notes.append(
            f"{tri.total} triples were compared; the triad list, stochastic transitivity and "
            f"the bootstrap use a uniform random sample of {len(tri.triangles)} of them. "
            "The circular-triad count T is exact."
        )
    if by is None:
        tour = _tournament(pooled, tri, counts, n_boot, rng)
        kendall = pd.DataFrame([tour.kendall], index=pd.Index(["all"]))
        triads, fas, comps, cycles = tour.triads, tour.fas, tour.components, tour.cycles
    else:
        kendall, triads, fas, comps, cycles = _by_rater(d, max_triples, n_boot, rng)
    incomplete = ~kendall["complete"].astype(bool)
    if incomplete.any():
        notes.append(
            "Incomplete tournament(s) (a pair never compared or without a majority): T counts "
            "cycles among triples whose three pairs have a verdict; T_max and zeta are "
            "undefined; P(T <= t) is a Monte Carlo estimate over random orientations of the "
            "pairs with a verdict."
        )
    st_table, wst, violations = _strans(pooled, tri)
    hodge, scores = _hodge(pooled, tri, flow, notes)
    gof = _goodness_of_fit(d, pooled, tri, n_boot, rng, notes)
    return Transitivity(
        kendall=kendall, triads=triads, stochastic_transitivity=st_table, wst_test=wst,
        violations=violations, feedback_arc_set=fas, components=comps, cycles=cycles,
        hodge=hodge, hodge_scores=scores, goodness_of_fit=gof, n_triples=int(tri.total),
        n_triples_used=len(tri.triangles), sampled=tri.sampled, by=by, notes=notes,
    )


# ------------------------------------------------------------------ input
def _check_parameters(by: Any, flow: Any, n_boot: Any, max_triples: Any) -> None:
    if by not in (None, "rater"):
        raise InvalidParameterError(f"by must be None or 'rater', got {by!r}.")
    if flow not in ("log_odds", "mean"):
        raise InvalidParameterError(f"flow must be 'log_odds' or 'mean', got {flow!r}.")
    for name, value, low in (("n_boot", n_boot, 0), ("max_triples", max_triples, 1)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
            raise InvalidParameterError(f"{name} must be an integer >= {low}, got {value!r}.")


def _check_raters(data: Any, by: Any, rater: str | None, item_a: str) -> None:
    """Before encoding: ``by="rater"`` on a table needs its rater column named."""
    if by != "rater" or rater is not None or not isinstance(data, pd.DataFrame):
        return
    if _is_matrix(data, item_a):
        raise InvalidParameterError(
            "by='rater' needs raters, but a square matrix of win counts has none; pass a "
            "comparison table (item_a, item_b, outcome and a rater column) with "
            "rater='<column>'."
        )
    if "rater" in data.columns:
        raise InvalidParameterError(
            "by='rater' reads the raters from the column named by rater=, which is None; "
            "the table has a 'rater' column: pass rater='rater', as in "
            "transitivity(df, by='rater', rater='rater')."
        )
    raise InvalidParameterError(
        "by='rater' reads the raters from the column named by rater=, which is None; pass "
        "rater='<column>' naming the table's rater column (its columns: "
        f"{format_examples(data.columns)})."
    )


def _is_matrix(df: pd.DataFrame, item_a: str) -> bool:
    return (item_a not in df.columns and df.shape[1] > 0 and all(
        pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t)
        for t in df.dtypes))


def _encode(data: Any, item_a: str, item_b: str, outcome: str, weight: str | None,
            rater: str | None, items: Any) -> tuple[ComparisonData, bool]:
    if isinstance(data, ComparisonData):
        return data, False
    if isinstance(data, pd.DataFrame) and _is_matrix(data, item_a):
        if rater is not None or weight is not None:
            raise InvalidParameterError(
                "a square matrix of win counts has no rater or weight column; pass a "
                "comparison table (item_a, item_b, outcome, ...) for rater= or weight=."
            )
        table = from_matrix(data)
        return ComparisonData.from_frame(table, weight="weight",
                                         items=list(data.index) if items is None else items
                                         ), True
    return ComparisonData.from_frame(data, item_a=item_a, item_b=item_b, outcome=outcome,
                                     weight=weight, rater=rater, items=items), False


def _convention_notes(from_square: bool) -> list[str]:
    notes = [
        "Majority verdicts come from the pooled weights of each pair; a tie counts half a win "
        "for each side, and a pair with equal wins has no verdict.",
    ]
    if from_square:
        notes.append("Input read as a square matrix of win counts (row chosen over column); "
                     "'rows' refer to the rows of prefstat.convert.from_matrix(matrix).")
    return notes


# ------------------------------------------------------------------ pairs
@dataclass(frozen=True)
class _Pairs:
    """Compared pairs ``i < j`` (codes local to the compared items) and their counts.

    ``cell`` is each pair's cell in the aggregated table; the index labels of that cell's
    source rows are ``row_labels[row_bounds[cell]:row_bounds[cell + 1]]``.
    """

    items: pd.Index
    i: np.ndarray
    j: np.ndarray
    wins_i: np.ndarray
    wins_j: np.ndarray
    ties: np.ndarray
    cell: np.ndarray
    row_labels: np.ndarray
    row_bounds: np.ndarray

    @classmethod
    def from_counts(cls, d: ComparisonData, by_rater: bool) -> _Pairs:
        pc = d.pair_counts(ordered=False, by_rater=by_rater, return_rows=True)
        return cls.from_cells(d, pc.first, pc.second, pc.counts, np.arange(pc.n_cells),
                              *_rows_by_cell(d, pc))

    @classmethod
    def from_cells(cls, d: ComparisonData, first: np.ndarray, second: np.ndarray,
                   counts: np.ndarray, cell: np.ndarray, row_labels: np.ndarray,
                   row_bounds: np.ndarray) -> _Pairs:
        ties = counts[:, enc.TIE] + counts[:, enc.TIE_BOTHBAD]
        total = counts[:, enc.A_WINS] + counts[:, enc.B_WINS] + ties
        keep = total > 0
        used, local = np.unique(np.concatenate([first[keep], second[keep]]),
                                return_inverse=True)
        li, lj = local[: keep.sum()], local[keep.sum():]
        return cls(items=d.items[used], i=li, j=lj, wins_i=counts[keep, enc.A_WINS],
                   wins_j=counts[keep, enc.B_WINS], ties=ties[keep], cell=cell[keep],
                   row_labels=row_labels, row_bounds=row_bounds)

    @property
    def n(self) -> int:
        return int(self.items.size)

    @property
    def total(self) -> np.ndarray:
        return self.wins_i + self.wins_j + self.ties

    @property
    def share_i(self) -> np.ndarray:
        return self.wins_i + self.ties / 2

    @property
    def verdict(self) -> np.ndarray:
        diff = self.wins_i - self.wins_j
        tied = np.abs(diff) <= _TIE_RTOL * self.total
        return np.where(tied, 0, np.sign(diff)).astype(np.int8)

    def source_rows(self, pairs: np.ndarray) -> list[list[Any]]:
        """Index labels of the source rows behind each pair in ``pairs``."""
        cells = self.cell[pairs]
        lo, hi = self.row_bounds[cells], self.row_bounds[cells + 1]
        return [self.row_labels[a:b].tolist() for a, b in zip(lo.tolist(), hi.tolist())]


def _rows_by_cell(d: ComparisonData, pc: PairCounts) -> tuple[np.ndarray, np.ndarray]:
    """Index labels of the source rows grouped by cell (in row order), and each cell's bounds.

    Sorted once per aggregation, so that every tournament built on its cells (one per
    rater with ``by="rater"``) looks its rows up by slicing.
    """
    row_cell = np.asarray(pc.row_cell)
    order = np.argsort(row_cell, kind="stable")
    bounds = np.searchsorted(row_cell[order], np.arange(pc.n_cells + 1))
    return np.asarray(d.rows, dtype=object)[order], bounds


def _triangles(p: _Pairs, verdict: np.ndarray | None, limit: int, rng: np.random.Generator
               ) -> tuple[cyc.Triangles, tuple[int, int, int]]:
    """Return the analysed triangles and the exact counts of ``count_triangles``."""
    counts = cyc.count_triangles(p.n, p.i, p.j, verdict)
    return cyc.collect_triangles(p.n, p.i, p.j, counts[0], limit, rng), counts


# ------------------------------------------------------------- tournaments
@dataclass(frozen=True)
class _Tournament:
    kendall: dict[str, Any]
    triads: pd.DataFrame
    fas: pd.DataFrame
    components: pd.DataFrame
    cycles: pd.DataFrame


def _tournament(p: _Pairs, tri: cyc.Triangles, counts: tuple[int, int, int], n_boot: int,
                rng: np.random.Generator) -> _Tournament:
    """Circular triads, Kendall's test and the feedback arc set of one tournament."""
    verdict = p.verdict
    n_decided = int((verdict != 0).sum())
    _, decided_triangles, t = counts
    complete = n_decided == comb(p.n, 2) and p.n >= 2
    e = cyc.triangle_pairs(tri.triangles, p.n, p.i, p.j)
    v = verdict[e]
    row: dict[str, Any] = {
        "n_items": p.n, "n_pairs": int(p.i.size), "n_decided": n_decided,
        "complete": complete, "triangles": decided_triangles, "circular_triads": t,
    }
    if complete:
        test = cyc.kendall_test(t, p.n)
        row.update(max_circular_triads=float(test.max_triads),
                   expected_circular_triads=test.expected, consistence=test.consistence,
                   statistic=test.statistic, df=test.df, p_value=test.p_value,
                   method=test.method)
    else:
        row.update(max_circular_triads=np.nan, expected_circular_triads=decided_triangles / 4,
                   consistence=np.nan, statistic=np.nan, df=np.nan,
                   p_value=_random_orientation_p(e, verdict, n_boot, rng),
                   method="monte carlo")
    cyclic = cyc.is_cyclic(v)
    triads = _triad_frame(p, tri.triangles[cyclic], v[cyclic])
    fas, comps, cycles = _feedback(p, verdict)
    row["reversals"] = len(fas)
    row["cyclic"] = len(fas) > 0
    return _Tournament(row, triads, fas, comps, cycles)


def _random_orientation_p(e: np.ndarray, verdict: np.ndarray, n_sim: int,
                          rng: np.random.Generator) -> float:
    """Monte Carlo ``P(T <= t)`` when every verdict is a fair coin (same pairs, same triples).

    ``e`` holds the pair indices of the analysed triangles; only triangles whose three
    pairs have a verdict count. The estimate is ``(1 + #{T* <= t}) / (1 + n_sim)``.
    """
    e = e[(verdict[e] != 0).all(axis=1)]
    if len(e) == 0:
        return 1.0
    if n_sim == 0:
        return np.nan
    observed = int(cyc.is_cyclic(verdict[e]).sum())
    used, local = np.unique(e, return_inverse=True)
    local = local.reshape(e.shape)
    below = 0
    for size in _blocks(n_sim, len(e)):
        signs = rng.integers(0, 2, size=(size, used.size), dtype=np.int8) * 2 - 1
        below += int((cyc.is_cyclic(signs[:, local]).sum(axis=1) <= observed).sum())
    return (1 + below) / (1 + n_sim)


def _blocks(n_rep: int, per_rep: int) -> list[int]:
    """Replicate block sizes with at most about ``_BLOCK_CELLS`` cells each."""
    size = max(1, _BLOCK_CELLS // max(per_rep, 1))
    return [min(size, n_rep - start) for start in range(0, n_rep, size)]


def _triad_frame(p: _Pairs, t: np.ndarray, v: np.ndarray) -> pd.DataFrame:
    """Cyclic triangles ``x < y < z`` in cyclic order from ``x``."""
    forward = v[:, 0] > 0
    second = np.where(forward, t[:, 1], t[:, 2])
    third = np.where(forward, t[:, 2], t[:, 1])
    return pd.DataFrame({"item_1": p.items[t[:, 0]], "item_2": p.items[second],
                         "item_3": p.items[third]})


def _feedback(p: _Pairs, verdict: np.ndarray
              ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Feedback arc set of the majority graph, its strong components and witness cycles."""
    decided = np.flatnonzero(verdict != 0)
    forward = verdict[decided] > 0
    src = np.where(forward, p.i[decided], p.j[decided])
    dst = np.where(forward, p.j[decided], p.i[decided])
    won = np.where(forward, p.wins_i[decided], p.wins_j[decided])
    lost = np.where(forward, p.wins_j[decided], p.wins_i[decided])
    margin = won - lost
    # Count first, total margin second: every arc costs 1 plus its share of all margins.
    cost = 1.0 + margin / (margin.sum() + 1.0)
    arcs = cyc.feedback_arc_set(p.n, src, dst, cost)
    rev = np.flatnonzero(arcs.reversed)
    rev = rev[np.lexsort((-margin[rev], arcs.component[src[rev]]))]
    fas = pd.DataFrame({
        "winner": p.items[src[rev]], "loser": p.items[dst[rev]],
        "wins": won[rev], "losses": lost[rev], "ties": p.ties[decided[rev]],
        "n": p.total[decided[rev]], "margin": margin[rev],
        "component": arcs.component[src[rev]],
        "rows": p.source_rows(decided[rev]),
    })
    comps = pd.DataFrame(
        [{"component": c, "size": m.size, "reversals": r, "method": method,
          "items": p.items[np.sort(m)].tolist()} for c, m, r, method in arcs.components],
        columns=["component", "size", "reversals", "method", "items"],
    )
    graph = sparse.csr_matrix((np.ones(src.size), (src, dst)), shape=(p.n, p.n))
    cycles = []
    for k in rev[:_MAX_CYCLES]:
        path = cyc.witness_cycle(graph, int(src[k]), int(dst[k]))
        cycles.append({"winner": p.items[src[k]], "loser": p.items[dst[k]],
                       "length": len(path), "cycle": p.items[path].tolist()})
    cycles_frame = pd.DataFrame(cycles, columns=["winner", "loser", "length", "cycle"])
    return fas, comps, cycles_frame


def _by_rater(d: ComparisonData, limit: int, n_boot: int, rng: np.random.Generator
              ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    pc = d.pair_counts(ordered=False, by_rater=True, return_rows=True)
    raters, rater_codes = d.raters, pc.rater
    if raters is None or rater_codes is None:  # by="rater" was checked by the caller
        raise InvalidParameterError("by='rater' needs a rater column.")
    row_labels, row_bounds = _rows_by_cell(d, pc)
    rows: list[dict[str, Any]] = []
    triads: list[pd.DataFrame] = []
    fas: list[pd.DataFrame] = []
    comps: list[pd.DataFrame] = []
    cycles: list[pd.DataFrame] = []
    labels = []
    # Cells are sorted by pair; a stable sort by rater keeps each rater's cells in pair order.
    order = np.argsort(rater_codes, kind="stable")
    bounds = np.searchsorted(rater_codes[order], np.arange(d.n_raters + 1))
    for r in range(d.n_raters):
        cells = order[bounds[r]:bounds[r + 1]]
        p = _Pairs.from_cells(d, pc.first[cells], pc.second[cells], pc.counts[cells], cells,
                              row_labels, row_bounds)
        if p.i.size == 0:
            continue
        tri, counts = _triangles(p, p.verdict, limit, rng)
        tour = _tournament(p, tri, counts, n_boot, rng)
        label = raters[r]
        labels.append(label)
        rows.append(tour.kendall)
        for store, frame in ((triads, tour.triads), (fas, tour.fas), (comps, tour.components),
                             (cycles, tour.cycles)):
            store.append(frame.assign(rater=label)[["rater", *frame.columns]])
    kendall = pd.DataFrame(rows, index=pd.Index(labels, name="rater"))
    return (kendall, *(pd.concat(x, ignore_index=True) for x in (triads, fas, comps, cycles)))


# ------------------------------------------------------ pooled proportions
def _strans(p: _Pairs, tri: cyc.Triangles) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    st = stochastic_transitivity(p.n, p.i, p.j, p.share_i, p.total, tri.triangles)
    tests = int(st.tested.sum())
    violations = st.violated.sum(axis=0)
    with np.errstate(invalid="ignore"):
        mean_dev = [float(np.nanmean(st.deviation[:, k])) if violations[k] else 0.0
                    for k in range(3)]
        max_dev = [float(np.nanmax(st.deviation[:, k])) if violations[k] else 0.0
                   for k in range(3)]
    table = pd.DataFrame({
        "violations": violations.astype(np.int64), "tests": tests,
        "rate": violations / tests if tests else np.full(3, np.nan),
        "mean_deviation": mean_dev, "max_deviation": max_dev,
    }, index=pd.Index(LEVELS, name="transitivity"))
    wst = pd.Series({"statistic": st.g2, "df": st.df, "p_value": st.p_value}, name="wst_test")
    bad = st.violated[:, 2]
    o = st.order[bad]
    e = np.stack([cyc.pair_index(p.n, p.i, p.j, np.minimum(o[:, a], o[:, b]),
                                 np.maximum(o[:, a], o[:, b]))
                  for a, b in ((0, 1), (1, 2), (0, 2))], axis=1)
    frame: dict[str, Any] = {"item_1": p.items[o[:, 0]], "item_2": p.items[o[:, 1]],
                             "item_3": p.items[o[:, 2]]}
    for k, name in enumerate(("12", "23", "13")):
        frame[f"p_{name}"] = st.p[bad, k]
    for k, (name, (a, b)) in enumerate(zip(("12", "23", "13"), ((0, 1), (1, 2), (0, 2)))):
        first_is_i = o[:, a] < o[:, b]
        share = p.share_i[e[:, k]]
        frame[f"x_{name}"] = np.where(first_is_i, share, p.total[e[:, k]] - share)
        frame[f"n_{name}"] = p.total[e[:, k]]
    for k, level in enumerate(LEVELS):
        frame[level] = st.violated[bad, k]
    for k, level in enumerate(LEVELS):
        frame[f"deviation_{level}"] = st.deviation[bad, k]
    return table, wst, pd.DataFrame(frame)


def _hodge(p: _Pairs, tri: cyc.Triangles, flow: str, notes: list[str]
           ) -> tuple[pd.Series, pd.Series]:
    x_i, x_j, w = p.share_i, p.total - p.share_i, p.total
    if flow == "log_odds":
        zero = (x_i == 0) | (x_j == 0)
        y = np.log((x_i + _HALDANE * zero) / (x_j + _HALDANE * zero))
    else:
        y = (x_i - x_j) / w
    triangles = None if tri.sampled else tri.triangles
    if tri.sampled:
        notes.append(
            "HodgeRank's curl is projected on the cycle spaces of cones (a hub item with its "
            f"neighbours) instead of all {tri.total} triangles: the curl share is a lower "
            "bound and the harmonic share an upper bound (exact when the cones span every "
            "triangle boundary, as on a complete graph)."
        )
    h = hodge_decomposition(p.n, p.i, p.j, y, w, triangles)
    notes.extend(h.notes)
    shares = pd.Series({"gradient": h.gradient, "curl": h.curl, "harmonic": h.harmonic},
                       name="share")
    return shares, pd.Series(h.scores, index=p.items, name="hodge_score")


# ------------------------------------------------------- goodness of fit
def _goodness_of_fit(d: ComparisonData, p: _Pairs, tri: cyc.Triangles, n_boot: int,
                     rng: np.random.Generator, notes: list[str]) -> pd.Series:
    e = cyc.triangle_pairs(tri.triangles, p.n, p.i, p.j)
    observed = int(cyc.is_cyclic(p.verdict[e]).sum())
    out = {"deviance": np.nan, "df": np.nan, "p_value": np.nan, "circular_triads": observed,
           "expected_circular_triads": np.nan, "bootstrap_p_value": np.nan,
           "n_boot": n_boot}
    if d.is_graded:
        notes.append("Goodness of fit skipped: the outcome is graded; collapse it with "
                     "prefstat.convert.collapse_graded to test a Bradley–Terry fit.")
        return pd.Series(out, name="goodness_of_fit")
    has_ties = bool(np.any(p.ties > 0))
    model = BradleyTerry(tie_handling="half" if has_ties else None)
    try:
        model.fit(d)
    except NotIdentifiableError as err:
        notes.append(f"Goodness of fit skipped: the Bradley–Terry MLE does not exist ({err})")
        return pd.Series(out, name="goodness_of_fit")
    df = int(p.i.size) - int(model.df_model_)
    out["deviance"] = float(model.deviance_)
    out["df"] = df
    out["p_value"] = float(stats.chi2.sf(model.deviance_, df)) if df > 0 else np.nan
    if has_ties:
        notes.append("The Bradley–Terry fit counts each tie as half a win for each side.")
    if n_boot == 0 or len(e) == 0:
        return pd.Series(out, name="goodness_of_fit")
    proba = model.predict_proba(p.items[p.i], p.items[p.j])
    prob_i = (proba["a"] / (proba["a"] + proba["b"])).to_numpy()
    decisive = p.wins_i + p.wins_j
    n_dec = np.rint(decisive).astype(np.int64)
    if np.any(np.abs(n_dec - decisive) > _TIE_RTOL * np.maximum(decisive, 1)):
        notes.append("The bootstrap rounds each pair's (non-integer) decisive weight to a "
                     "whole number of judgements.")
    used, local = np.unique(e, return_inverse=True)
    local = local.reshape(e.shape)
    # A replicate's verdict on a pair is +1 when i wins more than half of its n judgements
    # and 0 on an exact half: one uniform per pair against these two binomial tails.
    n_u, p_u = n_dec[used], prob_i[used]
    p_win = stats.binom.sf(n_u // 2, n_u, p_u).astype(np.float32)
    p_not_loss = (p_win + np.where(n_u % 2 == 0, stats.binom.pmf(n_u // 2, n_u, p_u), 0.0)
                  ).astype(np.float32)
    sims = []
    for size in _blocks(n_boot, len(e)):
        u = rng.random((size, used.size), dtype=np.float32)
        v = (u < p_win).view(np.int8) - (u >= p_not_loss).view(np.int8)
        sims.append(cyc.is_cyclic(v[:, local]).sum(axis=1))
    boot = np.concatenate(sims)
    out["expected_circular_triads"] = float(boot.mean())
    out["bootstrap_p_value"] = float((1 + np.sum(boot >= observed)) / (1 + n_boot))
    return pd.Series(out, name="goodness_of_fit")
