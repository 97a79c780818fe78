"""Bootstrap intervals and rank intervals for paired-comparison models, by reweighting counts.

A fitted model keeps its likelihood problem (kernel, pair cells, parameter
layout). A replicate never rebuilds it: it draws new outcome counts for the
same cells and refits them by Newton's method, warm-started at the estimate,
so a replicate costs a few Newton steps on the cells, whatever the number of
judgements.

Why this equals refitting resampled rows. The likelihood sees the rows only
through the outcome counts of each cell, and a resampled table's count in
(cell, outcome) is the sum, over the source rows in that cell with that
outcome, of (times drawn) x (weight). So the counts are
``bincount(row_cell * K + outcome, weights=multiplicity * weight)`` and the
refit is the fit of the resampled table. Cells a replicate does not draw keep
a zero count, which adds nothing to the likelihood.

Two resampling schemes:

judgements (``cluster=None``)
    The nonparametric bootstrap: draw as many judgements as there are, with
    replacement. A row of weight ``w`` stands for ``w`` judgements (the
    canonical meaning of ``weight``), so an aggregated table and the same
    judgements one per row give the same replicates. Judgements with the same
    cell and outcome are exchangeable, and a multinomial summed over groups is
    the multinomial of the group totals, so the draw is one
    ``multinomial(total, counts / total)`` over the (cell, outcome) counts:
    exactly the distribution of drawing single rows, at the cost of the
    number of cells, not of rows.
clusters (``cluster="prompt"``)
    Draw as many clusters as there are, with replacement (one
    ``multinomial(G, 1 / G)``, clusters in order of first appearance); every
    row counts as often as its cluster was drawn.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import sparse, stats
from scipy.sparse import csgraph

from .._encoding import A_WINS, B_WINS, TIE, TIE_BOTHBAD
from .._inputs import as_comparison_data
from .._random import as_generator
from .._report import Summary
from ..data import _SWAP_NOMINAL, ComparisonData, PairCounts
from ..exceptions import (
    ConvergenceError,
    ConvergenceWarning,
    DataValidationError,
    IdentifiabilityWarning,
    InvalidItemError,
    InvalidOutcomeError,
    InvalidParameterError,
    InvalidWeightError,
    MissingColumnError,
    NotIdentifiableError,
    format_examples,
)
from ._paired import _DIVERGENCE

if TYPE_CHECKING:
    from ._paired import PairedComparisonModel

__all__ = ["BootstrapResult"]

# The data handed to bootstrap() must aggregate to the fitted counts; they are summed
# in another order than the fit's, so equal up to rounding.
_SAME_COUNTS_RTOL = 1e-9

# Why a replicate failed, in the order the summary lists them.
_NOT_IDENTIFIABLE = "not identifiable"
_DIVERGED = "diverged"
_NOT_CONVERGED = "not converged"
_REASONS = (_NOT_IDENTIFIABLE, _DIVERGED, _NOT_CONVERGED)
# Drawn counts held at once (float64 values: 64 MB).
_BLOCK_VALUES = 1 << 23


@dataclass(frozen=True, repr=False)
class BootstrapResult:
    """Bootstrap standard errors, percentile intervals and rank intervals.

    Returned by :meth:`BradleyTerry.bootstrap <prefstat.BradleyTerry.bootstrap>`
    (and :class:`~prefstat.Thurstone`'s).

    Attributes
    ----------
    strengths : pandas.DataFrame
        Indexed by item: ``estimate`` (the model's point estimate), ``se``
        (standard deviation of the replicates) and ``ci_lower, ci_upper``
        (percentile interval at ``conf_level``).
    params : pandas.DataFrame
        The same for every parameter, indexed like the model's ``params_``.
    ranks : pandas.DataFrame
        Indexed by item: ``rank`` of the point estimate (1 = strongest) and
        ``rank_lower, rank_upper``, the percentile interval of the item's rank
        over the replicates (the smallest ranks whose share of replicates
        reaches the interval's tails, so it holds at least ``conf_level`` of
        them).
    replicates : numpy.ndarray
        ``(n_boot, n_params)`` estimates of every replicate, under the model's
        identification, columns in the order of ``params``; the rows of
        failed replicates are NaN.
    n_boot : int
        Number of replicates drawn.
    cluster : str or None
        The column whose values were resampled, or ``None`` for judgements.
    conf_level : float
        Coverage of the percentile intervals.
    n_failed : int
        Replicates left out of every interval and SE because their refit was
        not identifiable (an item lost all its comparisons, or every win over
        some group of items), diverged or did not converge.
    failures : dict of str to int
        ``n_failed`` by reason.
    n_units : int
        Number of units resampled: judgements (total weight) or clusters.
    model : str
        The fitted model, as its ``repr``.
    identification : str
        How the strengths are identified (as in the model's summary).
    """

    strengths: pd.DataFrame
    params: pd.DataFrame
    ranks: pd.DataFrame
    replicates: np.ndarray
    n_boot: int
    cluster: str | None
    conf_level: float
    n_failed: int
    failures: dict[str, int]
    n_units: int
    model: str
    identification: str

    def __repr__(self) -> str:
        unit = "judgements" if self.cluster is None else f"clusters of {self.cluster!r}"
        return (f"BootstrapResult({self.model}, n_boot={self.n_boot}, {unit}, "
                f"n_failed={self.n_failed}, conf_level={self.conf_level})")

    def summary(self) -> Summary:
        """Report: resampling scheme, failures, strengths and rank intervals.

        Returns
        -------
        Summary
            Renders as text (``print``) and as HTML in a notebook; its
            ``tables`` are DataFrames.

        Examples
        --------
        >>> from prefstat import BradleyTerry
        >>> from prefstat.datasets import load_citations
        >>> df = load_citations()
        >>> boot = BradleyTerry().fit(df, weight="weight").bootstrap(
        ...     df, n_boot=50, random_state=1, weight="weight")
        >>> list(boot.summary().tables)
        ['Strengths', 'Ranks']
        """
        if self.cluster is None:
            scheme = f"judgements, with replacement ({self.n_units:g} judgements)"
        else:
            scheme = (f"clusters of {self.cluster!r}, with replacement "
                      f"({self.n_units} clusters)")
        facts: dict[str, object] = {
            "model": self.model,
            "resampled": scheme,
            "replicates": self.n_boot,
            "failed replicates": self.n_failed,
            "intervals": "percentile",
            "confidence level": self.conf_level,
            "identification": self.identification,
        }
        tables = {"Strengths": self.strengths, "Ranks": self.ranks}
        others = self.params.drop(index="item", level="group")
        if len(others):
            tables["Other parameters"] = others
        notes = [
            "se is the standard deviation of the replicates; intervals are percentiles of "
            "the replicates.",
            "rank 1 = strongest; rank_lower and rank_upper are percentiles of each item's "
            "rank over the replicates.",
        ]
        if self.n_failed:
            detail = ", ".join(f"{k} {v}" for k, v in self.failures.items() if v)
            notes.append(
                f"{self.n_failed} of {self.n_boot} replicates failed ({detail}) and are left "
                "out of every SE and interval; those are the replicates farthest from the "
                "estimate, so the intervals understate the uncertainty when many fail."
            )
        return Summary(f"Bootstrap of {self.model}", facts, tables, notes)


def bootstrap(
    model: PairedComparisonModel,
    data: pd.DataFrame | ComparisonData,
    n_boot: int,
    cluster: str | None,
    conf_level: float | None,
    random_state: Any,
    columns: dict[str, Any],
) -> BootstrapResult:
    """The work of :meth:`PairedComparisonModel.bootstrap` (documented there)."""
    model._check_fitted()
    if isinstance(n_boot, (bool, np.bool_)) or not isinstance(n_boot, (int, np.integer)) \
            or n_boot < 1:
        raise InvalidParameterError(
            f"n_boot expects a whole number of replicates >= 1, got {n_boot!r}; "
            "1000 or more is usual for 95% percentile intervals."
        )
    level = model.conf_level if conf_level is None else conf_level
    if isinstance(level, bool) or not isinstance(level, (int, float, np.number)) \
            or not 0 < level < 1:
        raise InvalidParameterError(
            f"conf_level must be strictly between 0 and 1, got {level!r}."
        )
    rng = as_generator(random_state, "bootstrap")
    d = as_comparison_data(data, **columns)
    pc, key = _fitted_cells(model, d)
    n_cells, k = pc.counts.shape
    if cluster is None:
        n_units, draw = _judgement_draw(d, pc)
    else:
        codes, n_units = _cluster_codes(data, d, cluster)
        draw = _cluster_draw(codes, n_units, key, d.weight, (n_cells, k))
    replicates, reasons = _replicate(model, d, pc, draw, int(n_boot), rng)
    return _result(model, replicates, reasons, cluster, level, n_units)


def _fitted_cells(model: PairedComparisonModel, d: ComparisonData) -> tuple[PairCounts, Any]:
    """The fit's cells from ``d``, and each row's flat (cell, nominal outcome) index.

    Raises unless ``d`` aggregates to exactly the counts the model was fitted on.
    """
    if not d.items.equals(model.items_):
        extra = d.items.difference(model.items_)
        missing = model.items_.difference(d.items)
        parts = []
        if len(extra):
            parts.append(f"not in the fit: {format_examples(extra)}")
        if len(missing):
            parts.append(f"fitted but absent: {format_examples(missing)}")
        found = "; ".join(parts) or "the same items in another order"
        raise InvalidItemError(
            f"bootstrap: data must be the table the model was fitted on, but its items differ "
            f"({found}). Pass the same table and the same column arguments (and items=) as "
            "to fit."
        )
    if d.is_graded:
        raise InvalidOutcomeError(
            "bootstrap: the outcome is a graded scale, which the model was not fitted on; "
            "pass the table given to fit."
        )
    problem = model._problem
    pc = d.pair_counts(ordered=model.order_effect, return_rows=True)
    same_cells = (np.array_equal(pc.first, problem.first)
                  and np.array_equal(pc.second, problem.second))
    # Each row's outcome as seen from its cell's first item (unordered cells may swap).
    flipped = d.a != pc.first[pc.row_cell]
    outcome = np.where(flipped, _SWAP_NOMINAL[d.outcome], d.outcome)
    k = pc.counts.shape[1]
    key = pc.row_cell * k + outcome
    nominal = np.bincount(key, weights=d.weight, minlength=pc.n_cells * k).reshape(-1, k)
    counts = problem.kernel.category_counts(nominal, model.tie_handling == "half")
    if not same_cells or not np.allclose(counts, model._counts, rtol=_SAME_COUNTS_RTOL,
                                         atol=0.0):
        raise DataValidationError(
            "bootstrap: data must be the table the model was fitted on, but its counts per "
            f"pair differ from the fit's ({pc.n_cells} cells here, {problem.first.size} in "
            "the fit). Pass the same table and the same column arguments as to fit."
        )
    return dataclasses.replace(pc, counts=nominal), key


def _judgement_draw(d: ComparisonData, pc: PairCounts) -> tuple[int, Any]:
    """Resample judgements: one multinomial over the (cell, outcome) counts."""
    w = d.weight
    fractional = w != np.round(w)
    if fractional.any():
        raise InvalidWeightError(
            "bootstrap: resampling judgements needs whole-number weights (a weight counts "
            f"judgements), but {int(fractional.sum())} row(s) have fractional weights (rows "
            f"{format_examples(d.rows[fractional])}). To resample rows as units, each "
            "keeping its weight, pass cluster='<a column with one value per row>'."
        )
    flat = pc.counts.ravel()
    support = np.flatnonzero(flat > 0)
    total = int(np.rint(flat.sum()))
    share = flat[support] / total

    def draw(rng: np.random.Generator, size: int) -> np.ndarray:
        out = np.zeros((size, flat.size))
        out[:, support] = rng.multinomial(total, share, size=size)
        return out.reshape(size, *pc.counts.shape)

    return total, draw


def _cluster_codes(data: pd.DataFrame | ComparisonData, d: ComparisonData,
                   cluster: Any) -> tuple[np.ndarray, int]:
    """Integer cluster codes of every row, in order of first appearance."""
    if not isinstance(cluster, Hashable):
        raise InvalidParameterError(
            f"cluster expects one column name, got {type(cluster).__name__} {cluster!r}."
        )
    if isinstance(data, pd.DataFrame):
        available = list(data.columns)
        values = data[cluster] if cluster in data.columns else None
    else:
        contest = d.contest if d.contest is not None else pd.DataFrame(index=d.rows)
        rater = d.columns.get("rater")
        available = list(contest.columns) + ([rater] if rater is not None else [])
        if cluster in contest.columns:
            values = contest[cluster]
        elif cluster == rater and d.rater is not None:
            values = d.rater
        else:
            values = None
    if values is None:
        raise MissingColumnError(
            f"bootstrap: column {cluster!r} (argument cluster=) is not in the table; "
            f"available columns are {format_examples(available, 10)}. Pass cluster='<your "
            "column>' (e.g. the prompt, rater or question id), or None to resample judgements."
        )
    codes, labels = pd.factorize(values)
    missing = codes < 0
    if missing.any():
        raise DataValidationError(
            f"bootstrap: the cluster column {cluster!r} is missing in {int(missing.sum())} "
            f"row(s) (rows {format_examples(d.rows[missing])}); give every row a cluster."
        )
    if labels.size < 2:
        raise InvalidParameterError(
            f"bootstrap: the cluster column {cluster!r} has a single value, so every "
            "replicate would be the data themselves; cluster by a column with several "
            "values, or pass cluster=None to resample judgements."
        )
    return codes.astype(np.intp), int(labels.size)


def _cluster_draw(codes: np.ndarray, n_clusters: int, key: np.ndarray, weight: np.ndarray,
                  shape: tuple[int, int]) -> Any:
    """Resample clusters: each row counts as often as its cluster is drawn."""
    # Weight of each cluster in each (cell, outcome): the rows' bincount(row_cell * K +
    # outcome, weights=times * weight) is this table times the clusters' multiplicities,
    # for a block of replicates in one sparse product.
    table = sparse.csr_matrix((weight, (key, codes)), shape=(shape[0] * shape[1], n_clusters))
    share = np.full(n_clusters, 1.0 / n_clusters)

    def draw(rng: np.random.Generator, size: int) -> np.ndarray:
        times = rng.multinomial(n_clusters, share, size=size)
        return np.asarray((table @ times.T).T).reshape(size, *shape)

    return draw


def _replicate(model: PairedComparisonModel, d: ComparisonData, pc: PairCounts, draw: Any,
               n_boot: int, rng: np.random.Generator) -> tuple[np.ndarray, list[str | None]]:
    """Refit every replicate's counts; failed replicates get a reason and a NaN row."""
    problem = model._problem
    layout = problem.layout
    n = layout.n_items
    x_hat = model._theta[problem.free]
    half = model.tie_handling == "half"
    unpenalised = model.penalty == 0
    present = pc.counts > 0
    out = np.full((n_boot, layout.size), np.nan)
    reasons: list[str | None] = []
    # Counts are drawn for a block of replicates at once, within a memory budget.
    block = max(1, _BLOCK_VALUES // pc.counts.size)
    for b in range(n_boot):
        if b % block == 0:
            drawn = draw(rng, min(block, n_boot - b))
        nominal = drawn[b % block]
        reason = _identifiable(model, pc, present, nominal)
        if reason is None:
            counts = problem.kernel.category_counts(nominal, half)
            result = problem.solve(counts, x_hat, model.bias_reduction, model.max_iter,
                                   model.tol)
            theta = problem.full(result.x)
            # The fit's own separation rule (PairedComparisonModel._store).
            diverged = not np.isfinite(theta).all() or (
                unpenalised and not model.bias_reduction
                and (np.abs(theta[:n] - np.median(theta[:n])) > _DIVERGENCE).any()
            ) or (layout.order_effect and unpenalised
                  and abs(theta[layout.order_index]) > _DIVERGENCE)
            if diverged:
                reason = _DIVERGED
            elif not result.converged:
                reason = _NOT_CONVERGED
            else:
                out[b] = model._identify(d, layout, theta)[0]
        reasons.append(reason)
    return out, reasons


def _identifiable(model: PairedComparisonModel, pc: PairCounts, present: np.ndarray,
                  nominal: np.ndarray) -> str | None:
    """``None`` if the replicate's estimate exists as the fit's did, else the reason."""
    if model._problem.kernel.has_tie and nominal[:, [TIE, TIE_BOTHBAD]].sum() == 0:
        return _NOT_IDENTIFIABLE  # a ties model on a replicate without ties
    if model.penalty > 0 or not (present & (nominal == 0)).any():
        # Penalised estimates always exist; with every outcome of the data drawn
        # at least once, the win graph is the data's, which the fit checked.
        return None
    # The win graph of connectivity_from_counts (edge winner -> loser, a tie both
    # ways), reduced to the one question asked here, since it runs per replicate.
    ties = nominal[:, TIE] + nominal[:, TIE_BOTHBAD]
    a_won = nominal[:, A_WINS] + ties > 0
    b_won = nominal[:, B_WINS] + ties > 0
    src = np.concatenate([pc.first[a_won], pc.second[b_won]])
    dst = np.concatenate([pc.second[a_won], pc.first[b_won]])
    n = pc.items.size
    graph = sparse.csr_matrix((np.ones(src.size), (src, dst)), shape=(n, n))
    # Firth's estimate needs a connected graph, the MLE a strongly connected one.
    connection = "weak" if model.bias_reduction else "strong"
    n_parts, _ = csgraph.connected_components(graph, directed=True, connection=connection)
    return None if n_parts == 1 else _NOT_IDENTIFIABLE


def _result(model: PairedComparisonModel, replicates: np.ndarray, reasons: list[str | None],
            cluster: str | None, level: float, n_units: int) -> BootstrapResult:
    n_boot = replicates.shape[0]
    failures = {r: sum(x == r for x in reasons) for r in _REASONS}
    n_failed = sum(failures.values())
    detail = ", ".join(f"{k} {v}" for k, v in failures.items() if v)
    if n_failed == n_boot:
        error = NotIdentifiableError if failures[_NOT_CONVERGED] < n_boot else ConvergenceError
        raise error(
            f"bootstrap: all {n_boot} replicates failed ({detail}); there is no bootstrap "
            "distribution to report. Some items have too few comparisons (or wins) to "
            "survive resampling: gather more comparisons of them, or fit with penalty > 0, "
            "whose replicates always have an estimate."
        )
    if n_failed:
        category = (ConvergenceWarning if failures[_NOT_CONVERGED] == n_failed
                    else IdentifiabilityWarning)
        warnings.warn(
            f"{n_failed} of {n_boot} bootstrap replicates failed ({detail}); they are left "
            "out of the SEs and intervals (see the result's summary()).",
            category, stacklevel=4,
        )
    ok = replicates[~np.isnan(replicates).any(axis=1)]
    tail = (1 - level) / 2
    lower, upper = np.quantile(ok, [tail, 1 - tail], axis=0)
    se = ok.std(axis=0, ddof=1) if len(ok) > 1 else np.full(ok.shape[1], np.nan)
    index = model.params_.index
    params = pd.DataFrame({"estimate": model.params_["estimate"].to_numpy(), "se": se,
                           "ci_lower": lower, "ci_upper": upper}, index=index)
    strengths = params.xs("item", level="group").copy()
    strengths.index.name = "item"
    n = strengths.shape[0]
    point = stats.rankdata(-strengths["estimate"].to_numpy(), method="min")
    rep_ranks = stats.rankdata(-ok[:, :n], method="min", axis=1)
    ranks = pd.DataFrame({
        "rank": point.astype(np.int64),
        "rank_lower": np.quantile(rep_ranks, tail, axis=0, method="inverted_cdf"),
        "rank_upper": np.quantile(rep_ranks, 1 - tail, axis=0, method="inverted_cdf"),
    }, index=strengths.index).astype(np.int64)
    identification = ("strengths sum to zero" if model.reference is None
                      else f"strength of {model.reference!r} fixed at 0")
    return BootstrapResult(
        strengths=strengths, params=params, ranks=ranks, replicates=replicates,
        n_boot=n_boot, cluster=cluster, conf_level=float(level), n_failed=n_failed,
        failures=failures, n_units=n_units, model=repr(model), identification=identification,
    )
