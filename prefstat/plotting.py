"""Figures of fitted models and diagnostics (needs matplotlib: ``pip install 'prefstat[plot]'``).

Every function takes a result object (a fitted model, a diagnostic's result,
or the comparison table) and returns a :class:`matplotlib.figure.Figure`.
Without ``ax`` the figure is new and managed by ``pyplot``, like one from
``matplotlib.pyplot.subplots``: a notebook or a sphinx-gallery page shows it,
``plt.show()`` shows it, and ``plt.close(fig)`` releases it (pyplot keeps it
alive until then). Pass ``ax`` to draw into a figure of your own instead.

matplotlib is imported when a function is called, so ``import prefstat`` works
without it; a call without it raises :class:`~prefstat.MissingDependencyError`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._encoding import A_WINS, B_WINS, TIE, TIE_BOTHBAD
from ._inputs import as_comparison_data
from .data import ComparisonData
from .exceptions import InvalidParameterError, MissingDependencyError, NotFittedError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .diagnostics import Agreement
    from .models import BootstrapResult
    from .models._paired import PairedComparisonModel

__all__ = [
    "plot_calibration",
    "plot_coverage",
    "plot_cycle",
    "plot_raters",
    "plot_strengths",
    "plot_win_probabilities",
]

_BLUE, _RED, _GREY = "#3465a4", "#cc0000", "#888888"


# Set while a renderer that only saves the figures (AuditReport.to_html) draws them: figures
# are then standalone, never registered with pyplot (no GUI backend, no figure left open).
_STANDALONE: ContextVar[bool] = ContextVar("prefstat_standalone_figures", default=False)


@contextmanager
def _standalone_figures() -> Iterator[None]:
    """Draw figures that pyplot does not track while the context is active."""
    token = _STANDALONE.set(True)
    try:
        yield
    finally:
        _STANDALONE.reset(token)


def _axes(ax: Axes | None, size: tuple[float, float]) -> tuple[Figure, Axes]:
    """Return the figure and axes to draw on: ``ax``'s, or a new pyplot figure."""
    try:
        from matplotlib.figure import Figure
    except ImportError as err:
        raise MissingDependencyError(
            "prefstat.plotting needs matplotlib; install it with pip install 'prefstat[plot]'."
        ) from err
    if ax is not None:
        return ax.figure, ax
    if _STANDALONE.get():
        fig = Figure(figsize=size, layout="constrained")
    else:
        from matplotlib import pyplot as plt

        fig = plt.figure(figsize=size, layout="constrained")
    return fig, fig.add_subplot()


def _fitted(model: Any) -> PairedComparisonModel:
    if model is None or not hasattr(model, "strengths_"):
        raise NotFittedError("the model is not fitted yet; call fit(df) first.")
    return model


def _top(order: pd.Index, max_items: int) -> tuple[pd.Index, str]:
    if len(order) <= max_items:
        return order, ""
    return order[:max_items], f" (top {max_items} of {len(order)})"


def plot_strengths(model: Any, bootstrap: BootstrapResult | None = None, *,
                   max_items: int = 40, ax: Axes | None = None) -> Figure:
    """Forest plot of fitted strengths with their intervals, strongest at the top.

    Parameters
    ----------
    model : BradleyTerry or Thurstone
        A fitted model; its Wald intervals are drawn in grey.
    bootstrap : prefstat.models.BootstrapResult, optional
        Its percentile intervals are drawn in colour beside the Wald ones.
    max_items : int, default 40
        Show at most this many items (the strongest).
    ax : matplotlib.axes.Axes, optional
        Draw here instead of on a new pyplot figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from prefstat import BradleyTerry
    >>> from prefstat.datasets import load_citations
    >>> from prefstat.plotting import plot_strengths
    >>> model = BradleyTerry().fit(load_citations(), weight="weight")
    >>> fig = plot_strengths(model)
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()][-1]
    'JRSS-B'
    """
    m = _fitted(model)
    s = m.strengths_.sort_values("estimate", ascending=False)
    items, note = _top(s.index, max_items)
    s = s.loc[items].iloc[::-1]
    fig, ax = _axes(ax, (7, 1.2 + 0.28 * len(s)))
    y = np.arange(len(s))
    offset = 0.15 if bootstrap is not None else 0.0
    ax.errorbar(s["estimate"], y - offset,
                xerr=[s["estimate"] - s["ci_lower"], s["ci_upper"] - s["estimate"]],
                fmt="o", color=_GREY, ms=3, capsize=2, label=f"Wald {m.conf_level:.0%}")
    if bootstrap is not None:
        b = bootstrap.strengths.loc[s.index]
        ax.errorbar(b["estimate"], y + offset,
                    xerr=[(b["estimate"] - b["ci_lower"]).clip(lower=0),
                          (b["ci_upper"] - b["estimate"]).clip(lower=0)],
                    fmt="o", color=_BLUE, ms=3, capsize=2,
                    label=f"bootstrap {bootstrap.conf_level:.0%} ({bootstrap.n_boot} reps)")
    ax.set_yticks(y, [str(x) for x in s.index])
    ax.axvline(0, color="#dddddd", lw=1, zorder=0)
    ax.set_xlabel("log-strength (sum to zero)" if m.reference is None
                  else f"log-strength ({m.reference} = 0)")
    ax.set_title("Strengths" + note)
    ax.legend(loc="lower right", fontsize="small")
    return fig


def _decisive_probability(model: PairedComparisonModel, items: pd.Index) -> np.ndarray:
    """P(row preferred to column | decisive), averaged over the two presentation orders."""
    n = len(items)
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    off = i != j
    a, b = items[i[off]], items[j[off]]
    p_ab = model.predict_proba(a, b)
    p_ba = model.predict_proba(b, a)
    first = (p_ab["a"] / (p_ab["a"] + p_ab["b"])).to_numpy()
    second = (p_ba["b"] / (p_ba["a"] + p_ba["b"])).to_numpy()
    out = np.full((n, n), np.nan)
    out[off] = (first + second) / 2
    return out


def plot_win_probabilities(model: Any, *, max_items: int = 25,
                           ax: Axes | None = None) -> Figure:
    """Heatmap of the fitted probability that the row item beats the column item.

    The probability is that of a decisive judgement (ties left out), averaged
    over the two presentation orders, so an order effect cancels.

    Parameters
    ----------
    model : BradleyTerry or Thurstone
        A fitted model.
    max_items : int, default 25
        Show at most this many items (the strongest); cells are annotated
        with their value up to 12 items.
    ax : matplotlib.axes.Axes, optional
        Draw here instead of on a new pyplot figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from prefstat import BradleyTerry
    >>> from prefstat.datasets import load_citations
    >>> from prefstat.plotting import plot_win_probabilities
    >>> model = BradleyTerry().fit(load_citations(), weight="weight")
    >>> fig = plot_win_probabilities(model)
    >>> fig.axes[0].get_title()
    'P(row preferred to column)'
    """
    m = _fitted(model)
    order = m.strengths_["estimate"].sort_values(ascending=False).index
    items, note = _top(order, max_items)
    p = _decisive_probability(m, items)
    n = len(items)
    fig, ax = _axes(ax, (1.8 + 0.42 * n, 1.2 + 0.38 * n))
    image = ax.imshow(p, cmap="RdBu", vmin=0, vmax=1)
    labels = [str(x) for x in items]
    ax.set_xticks(np.arange(n), labels, rotation=60, ha="right", rotation_mode="anchor")
    ax.set_yticks(np.arange(n), labels)
    if n <= 12:
        for r in range(n):
            for c in range(n):
                if r != c:
                    ax.text(c, r, f"{p[r, c]:.2f}", ha="center", va="center", fontsize=7,
                            color="white" if abs(p[r, c] - 0.5) > 0.3 else "black")
    fig.colorbar(image, ax=ax, shrink=0.8)
    ax.set_title("P(row preferred to column)" + note)
    return fig


def plot_coverage(data: pd.DataFrame | ComparisonData, *, max_items: int = 60,
                  ax: Axes | None = None, **columns: Any) -> Figure:
    r"""How the comparisons cover the item pairs: the comparison graph as a matrix.

    Up to ``max_items`` items, a matrix of the number of judgements of every
    pair (blank: never compared), items grouped by connected component. With
    more items, a histogram of the number of comparisons per item.

    Parameters
    ----------
    data : pandas.DataFrame or ComparisonData
        The comparison table.
    max_items : int, default 60
        Largest number of items drawn as a matrix.
    ax : matplotlib.axes.Axes, optional
        Draw here instead of on a new pyplot figure.
    **columns
        Column names, as for :meth:`ComparisonData.from_frame`.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from prefstat.datasets import load_citations
    >>> from prefstat.plotting import plot_coverage
    >>> fig = plot_coverage(load_citations(), weight="weight")
    >>> fig.axes[0].get_title()
    'Comparison graph: 6 of 6 pairs compared,\n1 component'
    """
    d = as_comparison_data(data, **columns)
    pc = d.pair_counts(ordered=False)
    n = d.n_items
    total = np.bincount(pc.first * n + pc.second, pc.total, n * n).reshape(n, n)
    total = total + total.T
    from scipy.sparse import csgraph

    n_comp, comp = csgraph.connected_components(total > 0, directed=False)
    compared = int((pc.total > 0).sum())
    title = (f"Comparison graph: {compared:,} of {n * (n - 1) // 2:,} pairs compared,\n"
             f"{n_comp} component{'s' if n_comp > 1 else ''}")
    per_item = total.sum(axis=1)
    if n > max_items:
        fig, ax = _axes(ax, (7, 4))
        positive = per_item[per_item > 0]
        bins = np.unique(np.geomspace(max(positive.min(), 1), positive.max() + 1, 30))
        ax.hist(positive, bins=bins, color=_BLUE)
        ax.set_xscale("log")
        ax.set_xlabel("comparisons per item")
        ax.set_ylabel("items")
        ax.set_title(title)
        return fig
    fig, ax = _axes(ax, (max(4.5, 1.8 + 0.35 * n), max(3.5, 1.2 + 0.32 * n)))
    from matplotlib.colors import LogNorm

    order = np.lexsort((-per_item, comp))
    shown = total[np.ix_(order, order)].astype(float)
    shown[shown == 0] = np.nan
    finite = shown[np.isfinite(shown)]
    # A log colour scale only when the counts span more than a factor of ten.
    norm = (LogNorm(vmin=finite.min(), vmax=finite.max())
            if finite.size and finite.min() > 0 and finite.max() > 10 * finite.min() else None)
    image = ax.imshow(shown, cmap="viridis", norm=norm)
    labels = [str(x) for x in d.items[order]]
    ax.set_xticks(np.arange(n), labels, rotation=60, ha="right", rotation_mode="anchor",
                  fontsize=7 if n > 20 else None)
    ax.set_yticks(np.arange(n), labels, fontsize=7 if n > 20 else None)
    fig.colorbar(image, ax=ax, shrink=0.8, label="judgements")
    ax.set_title(title)
    return fig


def plot_raters(agreement: Agreement, *, ax: Axes | None = None) -> Figure:
    """Rater map: position bias (share of first-shown wins) against reliability.

    Each point is a rater, its area proportional to the number of judgements;
    flagged raters are red and labelled. The dashed lines mark no position
    bias and the reliability threshold.

    Parameters
    ----------
    agreement : prefstat.diagnostics.Agreement
        The result of :func:`prefstat.diagnostics.agreement`.
    ax : matplotlib.axes.Axes, optional
        Draw here instead of on a new pyplot figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from prefstat.datasets import simulate_comparisons
    >>> from prefstat.diagnostics import agreement
    >>> from prefstat.plotting import plot_raters
    >>> sim = simulate_comparisons(n_items=5, n_comparisons=600, n_raters=4, random_state=0)
    >>> fig = plot_raters(agreement(sim.data, n_boot=0))
    >>> fig.axes[0].get_ylabel()
    'reliability (share following the consensus)'
    """
    r = agreement.raters
    fig, ax = _axes(ax, (7, 4.5))
    size = 20 + 180 * np.sqrt(r["n_judgements"] / max(r["n_judgements"].max(), 1))
    colour = np.where(r["flagged"], _RED, _BLUE)
    ax.scatter(r["first_position_rate"], r["reliability"], s=size, c=colour, alpha=0.7,
               edgecolors="white")
    for label, row in r[r["flagged"]].iterrows():
        ax.annotate(str(label), (row["first_position_rate"], row["reliability"]),
                    xytext=(4, 4), textcoords="offset points", fontsize=8, color=_RED)
    ax.axvline(0.5, color=_GREY, ls="--", lw=1)
    ax.axhline(agreement.thresholds["min_reliability"], color=_GREY, ls="--", lw=1)
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("share of decisive judgements won by the first-shown item")
    ax.set_ylabel("reliability (share following the consensus)")
    ax.set_title(f"Raters: {int(r['flagged'].sum())} of {len(r)} flagged")
    return fig


def plot_calibration(model: Any, data: pd.DataFrame | ComparisonData, *, n_bins: int = 10,
                     ax: Axes | None = None, **columns: Any) -> Figure:
    """Calibration of a fitted model: predicted against observed outcomes.

    The score of the first-shown item is 1 for a win, 1/2 for a tie and 0 for
    a loss. Pairs (in each presentation order) are grouped into ``n_bins``
    bins of about equal weight by the model's expected score; each point is a
    bin's mean prediction and mean observed score, with a ±2 standard error
    bar. A calibrated model's points lie on the diagonal.

    Parameters
    ----------
    model : BradleyTerry or Thurstone
        A fitted model.
    data : pandas.DataFrame or ComparisonData
        Comparisons among the fitted items (the fitted table, or new data).
    n_bins : int, default 10
        Number of bins.
    ax : matplotlib.axes.Axes, optional
        Draw here instead of on a new pyplot figure.
    **columns
        Column names, as for :meth:`ComparisonData.from_frame`.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from prefstat import BradleyTerry
    >>> from prefstat.datasets import load_citations
    >>> from prefstat.plotting import plot_calibration
    >>> df = load_citations()
    >>> model = BradleyTerry().fit(df, weight="weight")
    >>> fig = plot_calibration(model, df, weight="weight")
    >>> fig.axes[0].get_xlabel()
    'predicted score of the first-shown item'
    """
    m = _fitted(model)
    if not isinstance(n_bins, (int, np.integer)) or isinstance(n_bins, bool) or n_bins < 1:
        raise InvalidParameterError(f"n_bins must be a positive integer, got {n_bins!r}.")
    d = as_comparison_data(data, items=list(m.items_), **columns)
    pc = d.pair_counts(ordered=True)
    c = pc.counts
    total = c.sum(axis=1)
    keep = total > 0
    ties = c[:, TIE] + c[:, TIE_BOTHBAD]
    observed = (c[:, A_WINS] + ties / 2)[keep] / total[keep]
    p = m.predict_proba(d.items[pc.first[keep]], d.items[pc.second[keep]])
    predicted = (p["a"] + p["tie"] / 2).to_numpy()
    w = total[keep]
    order = np.argsort(predicted, kind="stable")
    cum = np.cumsum(w[order]) / w.sum()
    group = np.minimum((cum * n_bins - 1e-12).astype(int), n_bins - 1)
    bins = np.empty_like(group)
    bins[order] = group
    weight = np.bincount(bins, w, n_bins)
    used = weight > 0
    mean_pred = np.bincount(bins, w * predicted, n_bins)[used] / weight[used]
    mean_obs = np.bincount(bins, w * observed, n_bins)[used] / weight[used]
    se = np.sqrt(np.clip(mean_pred * (1 - mean_pred), 0, None) / weight[used])
    fig, ax = _axes(ax, (5, 5))
    ax.plot([0, 1], [0, 1], color=_GREY, lw=1, ls="--")
    ax.errorbar(mean_pred, mean_obs, yerr=2 * se, fmt="o", color=_BLUE, capsize=2)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xlabel("predicted score of the first-shown item")
    ax.set_ylabel("observed score (win 1, tie 1/2)")
    ax.set_title(f"Calibration ({int(used.sum())} bins, {w.sum():,.0f} judgements)")
    return fig


def plot_cycle(data: pd.DataFrame | ComparisonData, items: Sequence[Any], *,
               ax: Axes | None = None, **columns: Any) -> Figure:
    """Majority preferences among a few items, drawn around a circle.

    Every compared pair among ``items`` gets an arrow from the majority's
    winner to its loser, labelled with the decisive wins and losses. Arrows
    between consecutive items (and from the last to the first) are drawn in
    red: pass the items of an intransitive cycle in cyclic order (as
    :attr:`AuditReport.worst_cycle <prefstat.AuditReport.worst_cycle>` or a
    row of :attr:`Transitivity.triads <prefstat.diagnostics.Transitivity.triads>`
    give them) to see the cycle.

    Parameters
    ----------
    data : pandas.DataFrame or ComparisonData
        The comparison table.
    items : sequence
        The items to draw (at least two), in cyclic order.
    ax : matplotlib.axes.Axes, optional
        Draw here instead of on a new pyplot figure.
    **columns
        Column names, as for :meth:`ComparisonData.from_frame`.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InvalidParameterError
        Fewer than two items, or items not in the data.

    Examples
    --------
    >>> import pandas as pd
    >>> from prefstat.plotting import plot_cycle
    >>> df = pd.DataFrame({"item_a": ["rock", "paper", "scissors"] * 2,
    ...                    "item_b": ["scissors", "rock", "paper"] * 2,
    ...                    "outcome": ["a"] * 6})
    >>> fig = plot_cycle(df, ["rock", "scissors", "paper"])
    >>> fig.axes[0].get_title()
    'rock → scissors → paper → rock'
    """
    d = as_comparison_data(data, **columns)
    items = list(items)
    codes = d.items.get_indexer(items)
    if len(items) < 2 or (codes < 0).any():
        raise InvalidParameterError(
            f"plot_cycle: items must be at least two items of the data, got {items!r}.")
    pc = d.pair_counts(ordered=False)
    k = len(codes)
    angle = np.pi / 2 - 2 * np.pi * np.arange(k) / k
    xy = np.column_stack([np.cos(angle), np.sin(angle)])
    fig, ax = _axes(ax, (4.5, 4.2))
    position = {int(c): xy[n] for n, c in enumerate(codes)}
    cyclic = {(int(codes[n]), int(codes[(n + 1) % k])) for n in range(k)}
    for first, second, a, b in zip(pc.first, pc.second, pc.counts[:, A_WINS],
                                   pc.counts[:, B_WINS]):
        if first not in position or second not in position or a == b:
            continue
        win, lose, won, lost = (first, second, a, b) if a > b else (second, first, b, a)
        start, end = position[win], position[lose]
        colour = _RED if (win, lose) in cyclic else _GREY
        ax.annotate("", xy=end * 0.82 + start * 0.18, xytext=start * 0.82 + end * 0.18,
                    arrowprops={"arrowstyle": "-|>", "color": colour, "lw": 2,
                                "shrinkA": 0, "shrinkB": 0})
        mid = (start + end) / 2
        ax.text(*(mid * 1.08), f"{won:g}–{lost:g}", ha="center", va="center", fontsize=8,
                color=colour, bbox={"boxstyle": "round", "fc": "white", "ec": "none"})
    for n, label in enumerate(items):
        ax.text(*xy[n], str(label), ha="center", va="center", fontsize=9,
                bbox={"boxstyle": "round", "fc": "#eef3fb", "ec": _BLUE})
    ax.set_xlim(-1.4, 1.4)
    ax.set_ylim(-1.25, 1.25)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(" → ".join(str(x) for x in [*items, items[0]]))
    return fig
