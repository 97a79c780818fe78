"""Identifiability of comparison data: is there a finite, unique estimate at all.

For the Bradley–Terry model (and Thurstone's), the maximum likelihood estimate
of the item strengths exists and is unique, up to the identification
constraint, exactly when the directed *win graph* is strongly connected
(Ford 1957; Hunter 2004, assumption 1): for every split of the items into two
non-empty groups, some item of each group has beaten some item of the other.
A tie counts as a win each way (as when ties are counted as half wins).

Two failures are distinguished:

* **disconnected** – the undirected comparison graph has several components;
  strengths in different components cannot be compared at all.
* **separable** – the graph is connected but not strongly connected: some group
  of items won every comparison with the rest, so their advantage is estimated
  as infinite. Items that never win or never lose are the simplest case.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import csgraph

from .._encoding import A_WINS, B_WINS, TIE, TIE_BOTHBAD
from .._inputs import as_comparison_data
from .._report import Summary
from ..data import ComparisonData, PairCounts
from ..exceptions import format_examples

__all__ = ["Connectivity", "connectivity", "connectivity_from_counts", "connectivity_from_edges"]


@dataclass(frozen=True)
class Connectivity:
    """Result of :func:`connectivity`.

    Attributes
    ----------
    items : pandas.DataFrame
        One row per item: ``comparisons, wins, losses, ties`` (sums of
        weights), ``component`` (undirected component, 0 = largest) and
        ``strong_component`` (strongly connected component of the win graph,
        numbered in a topological order: no item of a later component has
        beaten an item of an earlier one).
    n_components, n_strong_components : int
        Number of (strong) components.
    never_win, never_lose, isolated : pandas.Index
        Items with no win (ties count as half a win), no loss, or no
        comparison at all.
    """

    items: pd.DataFrame
    n_components: int
    n_strong_components: int
    never_win: pd.Index
    never_lose: pd.Index
    isolated: pd.Index

    @property
    def connected(self) -> bool:
        """Whether every item is linked to every other by some chain of comparisons."""
        return self.n_components == 1

    @property
    def strongly_connected(self) -> bool:
        """Whether the win graph is strongly connected (the MLE exists)."""
        return self.n_strong_components == 1

    @property
    def mle_exists(self) -> bool:
        """Whether the unpenalised Bradley–Terry MLE is finite and unique."""
        return self.strongly_connected

    def components(self) -> list[list[Any]]:
        """Items of each undirected component, largest first."""
        grouped = self.items.groupby("component", sort=True).groups
        return [list(grouped[k]) for k in sorted(grouped)]

    def strong_components(self) -> list[list[Any]]:
        """Items of each strongly connected component, in topological (winner-first) order."""
        grouped = self.items.groupby("strong_component", sort=True).groups
        return [list(grouped[k]) for k in sorted(grouped)]

    def problem(self) -> str | None:
        """One paragraph explaining why the MLE does not exist, or ``None`` if it does."""
        if self.mle_exists:
            return None
        parts = []
        if not self.connected:
            comps = self.components()
            shown = "; ".join(
                "{" + format_examples(c, 4) + "}" for c in comps[1:4]
            )
            more = f" and {len(comps) - 4} more" if len(comps) > 4 else ""
            parts.append(
                f"the comparison graph has {self.n_components} disconnected components "
                f"(largest: {len(comps[0])} items; others: {shown}{more}); strengths in "
                "different components cannot be compared"
            )
        if len(self.isolated):
            parts.append(f"{len(self.isolated)} item(s) were never compared: "
                         f"{format_examples(self.isolated)}")
        if len(self.never_win):
            parts.append(f"{len(self.never_win)} item(s) never won: "
                         f"{format_examples(self.never_win)} (estimate -inf)")
        if len(self.never_lose):
            parts.append(f"{len(self.never_lose)} item(s) never lost: "
                         f"{format_examples(self.never_lose)} (estimate +inf)")
        if self.connected and not len(self.never_win) and not len(self.never_lose):
            top = self.strong_components()[0]
            parts.append(
                f"the items {{{format_examples(top, 4)}}} won every comparison with the "
                "others, so their advantage is infinite"
            )
        return "; ".join(parts) + "."

    def summary(self) -> Summary:
        """Readable report of the graph's components and the items at fault.

        Returns
        -------
        Summary
            Renders as text (``print``) and as HTML in a notebook.
        """
        facts = {
            "items": len(self.items),
            "components": self.n_components,
            "strong components": self.n_strong_components,
            "MLE exists": "yes" if self.mle_exists else "no",
        }
        notes = []
        if not self.mle_exists:
            notes.append("Why not: " + str(self.problem()))
            notes.append(
                "Remedies: compare across the gap, fit within one component, or ask for "
                "penalty > 0 or bias_reduction=True (finite, shrunken estimates)."
                if self.connected else
                "Remedies: compare across components, fit each component separately, or ask "
                "for penalty > 0 (finite, shrunken estimates; bias_reduction=True does not "
                "bridge components)."
            )
        return Summary("Identifiability of the comparison data", facts,
                       {"Items": self.items}, notes)


def connectivity(
    data: pd.DataFrame | ComparisonData, **columns: Any
) -> Connectivity:
    """Analyse whether strengths are estimable from a comparison table.

    Parameters
    ----------
    data : pandas.DataFrame or ComparisonData
        A canonical comparison table (or its encoded form).
    **columns
        Column names passed on to :meth:`ComparisonData.from_frame`
        (``item_a``, ``item_b``, ``outcome``, ``weight``, ``items``, ...).

    Returns
    -------
    Connectivity

    Examples
    --------
    >>> import pandas as pd
    >>> from prefstat.diagnostics import connectivity
    >>> df = pd.DataFrame({"item_a": ["x", "y", "z"], "item_b": ["y", "z", "x"],
    ...                    "outcome": ["a", "a", "b"]})
    >>> result = connectivity(df)
    >>> result.connected, result.mle_exists, list(result.never_lose)
    (True, False, ['x'])
    """
    d = as_comparison_data(data, **columns)
    return connectivity_from_counts(d.pair_counts(ordered=False))


def connectivity_from_counts(pc: PairCounts) -> Connectivity:
    """Run :func:`connectivity` on aggregated pair counts (the models' entry point).

    Parameters
    ----------
    pc : PairCounts
        Nominal outcome counts per pair, ordered or not.

    Returns
    -------
    Connectivity
    """
    n = pc.items.size
    c = pc.counts
    ties = c[:, TIE] + c[:, TIE_BOTHBAD]
    half = ties / 2
    won_a, won_b = c[:, A_WINS] + half, c[:, B_WINS] + half
    wins = np.bincount(pc.first, won_a, n) + np.bincount(pc.second, won_b, n)
    total = np.bincount(pc.first, won_a + won_b, n) + np.bincount(pc.second, won_a + won_b, n)
    tie_count = np.bincount(pc.first, ties, n) + np.bincount(pc.second, ties, n)
    # Directed edge winner -> loser; a tie gives both. Zero weights carry no information.
    a_won, b_won = won_a > 0, won_b > 0
    return _connectivity(pc.items, _win_graph(pc.first, pc.second, a_won, b_won, n),
                         wins - tie_count / 2, total - wins - tie_count / 2, tie_count)


def _win_graph(first: np.ndarray, second: np.ndarray, a_won: np.ndarray, b_won: np.ndarray,
               n: int) -> sparse.csr_matrix:
    """Win graph of cells: ``first -> second`` where a won, ``second -> first`` where b won.

    Aggregated cells come sorted by ``(first, second)``, so both edge sets are
    CSR structures as they stand (the second one transposed), with no sort.
    """
    if first.size and not (np.diff(first) >= 0).all():
        src = np.concatenate([first[a_won], second[b_won]])
        dst = np.concatenate([second[a_won], first[b_won]])
        return sparse.csr_matrix((np.ones(src.size), (src, dst)), shape=(n, n))

    def rows(mask: np.ndarray) -> sparse.csr_matrix:
        indptr = np.concatenate([[0], np.cumsum(np.bincount(first[mask], minlength=n))])
        return sparse.csr_matrix((np.ones(int(indptr[-1])), second[mask], indptr),
                                 shape=(n, n))

    return (rows(a_won) + rows(b_won).T).tocsr()


def connectivity_from_edges(items: pd.Index, src: np.ndarray, dst: np.ndarray,
                            wins: np.ndarray, losses: np.ndarray,
                            ties: np.ndarray) -> Connectivity:
    """Run :func:`connectivity` on a win graph given as edges (any comparison format).

    Parameters
    ----------
    items : pandas.Index
        Item labels; codes index into it.
    src, dst : numpy.ndarray
        Directed edges ``winner -> loser`` as item codes (a tie gives both
        directions). Any edge set with the same reachability as the full win
        graph will do (rankings pass a chain per ranking, not every pair).
    wins, losses, ties : numpy.ndarray
        Per-item totals (sums of weights) of decisive wins, decisive losses
        and ties; a tie counts as half a win and half a loss.

    Returns
    -------
    Connectivity
    """
    n = items.size
    graph = sparse.csr_matrix((np.ones(src.size), (src, dst)), shape=(n, n))
    return _connectivity(items, graph, wins, losses, ties)


def order_levels(first: np.ndarray, second: np.ndarray, n: int) -> np.ndarray | None:
    """Item levels that confound an order effect with the strengths, if any exist.

    An order effect ``h`` enters every cell (``first`` shown first, ``second``
    second) as ``lambda_first - lambda_second + h``. It is not identified
    exactly when there are integer levels ``c`` with ``c[first] - c[second] = 1``
    on every cell: strengths ``lambda + t c`` with order effect ``h - t``
    then predict every cell alike, for any ``t``. One item always shown first,
    and layered designs, are such cases; a single pair shown in both orders, or
    a cycle of first-shown items, rules them out.

    Levels are assigned by one breadth-first search over the cells (each
    component from its own root, at level 0) and then checked on every cell,
    in ``O(cells)``.

    Parameters
    ----------
    first, second : numpy.ndarray
        Item codes of the observed cells (give only cells with positive weight).
    n : int
        Number of items.

    Returns
    -------
    numpy.ndarray or None
        The levels (``int64``, one per item; 0 for items without cells) when
        the order effect is confounded, else ``None``.

    Examples
    --------
    >>> import numpy as np
    >>> order_levels(np.array([0, 0]), np.array([1, 2]), 3)  # item 0 always first
    array([ 0, -1, -1])
    >>> order_levels(np.array([0, 1]), np.array([1, 0]), 2) is None  # both orders
    True
    """
    graph = sparse.csr_matrix((np.ones(first.size), (first, second)), shape=(n, n))
    _, comp = csgraph.connected_components(graph, directed=False)
    # A virtual root (node n) joined to the first item of each component: one search
    # reaches every item, each component starting at level 0.
    roots = np.unique(comp, return_index=True)[1]
    src = np.concatenate([first, np.full(roots.size, n)])
    dst = np.concatenate([second, roots])
    tree = sparse.csr_matrix((np.ones(src.size), (src, dst)), shape=(n + 1, n + 1))
    _, parent = csgraph.breadth_first_order(tree, n, directed=False,
                                            return_predecessors=True)
    parent[n] = n
    # Level change from an item's parent to the item, along the search tree's cell.
    step = np.zeros(n + 1, dtype=np.int64)
    step[second[parent[second] == first]] = -1
    step[first[parent[first] == second]] = 1
    # Level = sum of steps up to the root, by pointer doubling: log2(depth) passes.
    level, up = step, parent
    while (up != n).any():
        level, up = level + level[up], up[up]
    level = level[:n]
    return level if bool(np.all(level[first] - level[second] == 1)) else None


def _connectivity(items: pd.Index, graph: sparse.csr_matrix, wins: np.ndarray,
                  losses: np.ndarray, ties: np.ndarray) -> Connectivity:
    """:func:`connectivity_from_edges` on the win graph as a sparse matrix."""
    n_comp, comp = csgraph.connected_components(graph, directed=True, connection="weak")
    n_strong, strong = csgraph.connected_components(graph, directed=True, connection="strong")
    comp = _relabel_by_size(comp)
    strong = _topological_labels(graph, strong, n_strong)
    total = wins + losses + ties
    compared = total > 0
    table = pd.DataFrame(
        {"comparisons": total, "wins": wins, "losses": losses, "ties": ties,
         "component": comp, "strong_component": strong},
        index=items,
    )
    table.index.name = "item"
    return Connectivity(
        items=table,
        n_components=int(n_comp),
        n_strong_components=int(n_strong),
        never_win=items[compared & (wins + ties / 2 <= 0)],
        never_lose=items[compared & (losses + ties / 2 <= 0)],
        isolated=items[~compared],
    )


def _relabel_by_size(labels: np.ndarray) -> np.ndarray:
    """Renumber components so that 0 is the largest (ties broken by first item)."""
    sizes = np.bincount(labels)
    first = np.full(sizes.size, labels.size)
    np.minimum.at(first, labels, np.arange(labels.size))
    order = np.lexsort((first, -sizes))
    remap = np.empty_like(order)
    remap[order] = np.arange(order.size)
    return remap[labels]


def _topological_labels(graph: sparse.csr_matrix, labels: np.ndarray, k: int) -> np.ndarray:
    """Renumber strong components in a canonical topological order of the condensation DAG.

    Among components that are ready at the same time, the one holding the
    lowest item code comes first, so the numbering depends only on the
    reachability of the win graph, not on which edges represent it.
    """
    if k == 1:
        return np.zeros_like(labels)
    coo = graph.tocoo()
    cs, cd = labels[coo.row], labels[coo.col]
    keep = cs != cd
    dag = sparse.csr_matrix((np.ones(int(keep.sum())), (cs[keep], cd[keep])), shape=(k, k))
    indegree = np.asarray((dag > 0).sum(axis=0)).ravel()
    first_item = np.full(k, labels.size)
    np.minimum.at(first_item, labels, np.arange(labels.size))
    order: list[int] = []
    ready = [(int(first_item[c]), int(c)) for c in np.flatnonzero(indegree == 0)]
    heapq.heapify(ready)
    indptr, indices = dag.indptr, dag.indices
    while ready:
        _, node = heapq.heappop(ready)
        order.append(node)
        for nxt in np.unique(indices[indptr[node]:indptr[node + 1]]):
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                heapq.heappush(ready, (int(first_item[nxt]), int(nxt)))
    remap = np.empty(k, dtype=labels.dtype)
    remap[np.asarray(order)] = np.arange(k)
    return remap[labels]
