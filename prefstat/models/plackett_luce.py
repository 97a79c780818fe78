"""The Plackett–Luce model for rankings, with Davidson–Luce ties of any order."""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import sparse

from .._report import Summary
from .._solvers import NewtonResult, newton, spd_inverse
from ..exceptions import (
    ConvergenceWarning,
    IdentifiabilityWarning,
    InvalidItemError,
    InvalidParameterError,
    InvalidRankingError,
    NotIdentifiableError,
    format_examples,
)
from ..inference import identify_items, wald_table
from ._fitted import FittedModelMixin
from ._luce import LuceKernel, suffix_esp
from ._rankings import Block, RankingData, TiedLast, encode_rankings

__all__ = ["PlackettLuce"]

# Above this many parameters the information matrix is kept sparse.
_DENSE_MAX = 2500
# A log-worth this far from the median means a worth ratio beyond e^25: separation.
_DIVERGENCE = 25.0
# Largest tie order modelled. The normalising constants are exact for any order
# (O(L k) recursion), but the "sets containing item u" terms of the score and
# information carry absolute errors ~ eps * C(L, k), i.e. ~1e-9 at k = 6 with
# L = 43; beyond that the standard errors would lose digits.
_MAX_TIE_ORDER = 6
# MM (Hunter 2004) / iterative-scaling steps before Newton: each costs one
# gradient evaluation and brings Newton into its quadratic region sooner.
_MM_STEPS = 3
# Starting tie prevalence delta_k (R PlackettLuce's default start).
_DELTA_START = 0.1
# The "group" level of params_ without tie parameters, built once: inferring the
# dtype of a string list costs ~0.1 ms per fit.
_ITEM_GROUP = pd.Index(["item"])


class PlackettLuce(FittedModelMixin):
    r"""Plackett–Luce model for rankings, fitted by maximum likelihood.

    A ranking is read as a sequence of choices, best first: the item ranked
    first is chosen from all the items in the ranking, the second from those
    left, and so on. With worths ``alpha_i = exp(lambda_i)``, an untied choice
    of ``i`` from the remaining set ``A`` has probability
    ``alpha_i / sum_{j in A} alpha_j`` (Plackett 1975; Luce 1959).

    With ``ties="davidson"`` a tied group ``S`` of size ``k`` is chosen
    together, with probability

    .. math::

       \frac{\delta_k (\prod_{i \in S} \alpha_i)^{1/k}}
            {\sum_{d \in D,\, d \le |A|} \delta_d \sum_{T \subseteq A,\, |T| = d}
             (\prod_{i \in T} \alpha_i)^{1/d}},

    the Davidson–Luce model of Turner, van Etten, Firth and Kosmidis (2020),
    where ``D`` holds 1 and every tie order present in the data, ``delta_1 =
    1`` and each order present has its own prevalence ``delta_k > 0``
    (reported as ``log_delta_k``, R PlackettLuce's ``tie<k>`` on the log
    scale). Orders absent from the data have ``delta = 0`` (their MLE), so
    they have no parameter.

    Parameters
    ----------
    ties : {None, "davidson"}, default None
        Ties model. With ``None`` a tied choice in the data is an error.
    penalty : float, default 0.0
        Ridge penalty ``penalty / 2 * sum(lambda**2)`` on the log-worths
        (a Gaussian prior with variance ``1 / penalty``), as in
        :class:`BradleyTerry`. Makes estimates finite on disconnected data
        (a recorded warning says so); standard errors then come from the
        penalised information.
    reference : item label, optional
        Identification: ``None`` makes the log-worths sum to zero; a label
        fixes that item's log-worth at 0.
    npseudo : float, default 0
        Pseudo-comparisons with a hypothetical (ghost) item of log-worth 0:
        every item beats the ghost in ``npseudo`` paired comparisons and
        loses to it in ``npseudo`` (R PlackettLuce's ``npseudo``; R's default
        is 0.5, ours is 0, plain maximum likelihood). They connect any
        network and shrink log-worths towards 0. Estimates and standard
        errors include them; ``loglik_`` does not.
    conf_level : float, default 0.95
        Coverage of the Wald intervals in ``params_`` and ``strengths_``.
    max_iter : int, default 100
        Newton iterations at most.
    tol : float, default 1e-20
        Convergence when the Newton decrement ``g' I^{-1} g`` is below
        ``tol * (1 + |loglik|)``.

    Attributes
    ----------
    strengths_ : pandas.DataFrame
        Log-worths indexed by item: ``estimate, se, z, p, ci_lower,
        ci_upper``.
    params_ : pandas.DataFrame
        Every parameter, indexed by ``(group, name)``: group ``item`` (the
        log-worths) and group ``tie`` (``log_delta_2``, ``log_delta_3``, ...).
    cov_ : pandas.DataFrame
        Covariance of ``params_['estimate']`` under the chosen identification.
    loglik_ : float
        Log-likelihood of the rankings (exact probabilities; pseudo-comparisons
        and the penalty excluded).
    aic_, bic_ : float
        Information criteria from ``loglik_`` and ``df_model_`` (items - 1 +
        tie parameters); BIC uses the total ranking weight.
    tie_orders_ : tuple of int
        Tie orders present in the data (with a ``log_delta`` each).
    n_items_, n_rankings_, n_stages_ : int
        Items, rankings and choice stages.
    n_obs_ : float
        Total weight of the rankings.
    n_iter_ : int
        Newton iterations used (after ``n_mm_iter_`` MM steps).
    converged_ : bool
        Whether the Newton decrement met the tolerance.
    connectivity_ : prefstat.diagnostics.Connectivity
        The win graph analysis run before fitting (an item beats every item
        ranked below it; tied items tie).
    rankings_ : pandas.DataFrame
        One row per ranking: ``n_items, n_ranked, n_stages, max_tie, weight``
        and ``rater`` if one was given.
    warnings_ : list of str
        Recoverable problems recorded during the fit.

    See Also
    --------
    BradleyTerry : the paired-comparison special case (rankings of two items).
    prefstat.convert.from_wide_rankings : wide rankings to the long table.
    prefstat.datasets.simulate_rankings : rankings from a known model.

    Notes
    -----
    Partial rankings: a ranking lists any subset of the items, and items it
    does not list are simply not in its choice sets. A top-``k`` ranking whose
    other items were *present but not ranked* is written with those items tied
    last and fitted with ``tied_last="unranked"``: they stay in every choice
    set and are never chosen. A single choice from a set (Luce's choice
    model) is the case ``k = 1``: the chosen item at rank 1, the others tied
    at rank 2. A best–worst choice among three items is the full ranking
    best, middle, worst; with more items the middle ones can only be a tie
    group (``ties="davidson"``), which models them as tied, not unranked.

    Fitting: a few MM steps (Hunter 2004; R PlackettLuce's iterative scaling
    with ties) from equal worths, then Newton's method on ``(lambda, log
    delta)`` with the exact Hessian, which for this model is also the
    expected information (each stage is a conditional logit whose linear
    predictor is linear in the parameters). The likelihood is computed on
    integer-coded arrays, one sort per fit; normalising constants with ties
    use the elementary symmetric polynomials of ``alpha^(1/k)`` (exact, cost
    ``O(L k)`` per ranking of ``L`` items); tie orders up to 6 are supported.

    Identifiability: the MLE exists when the win graph is strongly connected
    (Hunter 2004): every split of the items into two groups has an item of
    each group ranked above an item of the other. Otherwise the fit raises
    :class:`NotIdentifiableError` naming the items at fault, unless
    ``npseudo > 0`` or ``penalty > 0`` (then an
    :class:`IdentifiabilityWarning` is issued and recorded).

    References
    ----------
    Hunter, D. R. (2004). MM algorithms for generalized Bradley–Terry models.
    *Annals of Statistics* 32, 384–406.

    Turner, H. L., van Etten, J., Firth, D. and Kosmidis, I. (2020). Modelling
    rankings in R: the PlackettLuce package. *Computational Statistics* 35,
    1027–1057.

    Examples
    --------
    >>> import pandas as pd
    >>> from prefstat import PlackettLuce
    >>> races = pd.DataFrame({
    ...     "ranking_id": [1, 1, 1, 2, 2, 2, 3, 3, 4, 4],
    ...     "item": ["ann", "bob", "cy", "bob", "cy", "ann", "cy", "ann", "bob", "ann"],
    ...     "rank": [1, 2, 3, 1, 2, 3, 1, 2, 1, 2]})
    >>> model = PlackettLuce(reference="ann").fit(races)
    >>> model.strengths_[["estimate", "se"]].round(3)
          estimate     se
    item
    ann      0.000  0.000
    bob      1.882  1.420
    cy       0.709  1.238
    >>> model.predict_proba([["ann", "bob", "cy"], ["ann", "cy"]]).round(3)
         ann    bob     cy
    0  0.104  0.684  0.212
    1  0.330  0.000  0.670
    """

    def __init__(
        self,
        *,
        ties: Literal["davidson"] | None = None,
        penalty: float = 0.0,
        reference: Any = None,
        npseudo: float = 0.0,
        conf_level: float = 0.95,
        max_iter: int = 100,
        tol: float = 1e-20,
    ) -> None:
        self.ties = ties
        self.penalty = penalty
        self.reference = reference
        self.npseudo = npseudo
        self.conf_level = conf_level
        self.max_iter = max_iter
        self.tol = tol

    # ----------------------------------------------------------- parameters
    def get_params(self) -> dict[str, Any]:
        """Hyperparameters, as passed to ``__init__``."""
        return {k: getattr(self, k) for k in (
            "ties", "penalty", "reference", "npseudo", "conf_level", "max_iter", "tol")}

    def __repr__(self) -> str:
        defaults = PlackettLuce().get_params()
        changed = {k: v for k, v in self.get_params().items() if v != defaults[k]}
        return f"PlackettLuce({', '.join(f'{k}={v!r}' for k, v in changed.items())})"

    def _check_params(self) -> None:
        if self.ties not in (None, "davidson"):
            raise InvalidParameterError(
                f"ties={self.ties!r} is not a ties model for rankings; use None or 'davidson' "
                "(Davidson–Luce ties of any order)."
            )
        for name in ("penalty", "npseudo"):
            value = getattr(self, name)
            ok = isinstance(value, (int, float, np.integer, np.floating)) and \
                not isinstance(value, (bool, np.bool_))
            if not (ok and np.isfinite(value) and value >= 0):
                raise InvalidParameterError(
                    f"{name} must be a finite number >= 0, got {value!r}."
                )
        if not 0 < self.conf_level < 1:
            raise InvalidParameterError(
                f"conf_level must be strictly between 0 and 1, got {self.conf_level!r}."
            )

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        df: pd.DataFrame,
        ranking: Hashable = "ranking_id",
        item: Hashable = "item",
        rank: Hashable = "rank",
        weight: Hashable | None = None,
        rater: Hashable | None = None,
        tied_last: TiedLast = "tie",
    ) -> PlackettLuce:
        """Fit the model by maximum likelihood on a long ranking table.

        Parameters
        ----------
        df : pandas.DataFrame
            The canonical long ranking table (see
            :func:`prefstat.convert.validate_rankings`): one row per (ranking,
            item), rank 1 best, equal ranks tied. A ranking may list any
            subset of the items.
        ranking, item, rank : hashable
            Columns of the ranking id, the item and its rank.
        weight : hashable, optional
            Column of non-negative ranking weights (counts), constant within
            a ranking.
        rater : hashable, optional
            Column of the rater, constant within a ranking. It is kept in
            ``rankings_`` and ignored by the fit (every ranking is an
            independent judgement).
        tied_last : {"tie", "unranked"}, default "tie"
            What a tied group at the bottom of a ranking means: ``"tie"``, a
            tie like any other (needs ``ties="davidson"``); ``"unranked"``,
            the rest of the choice set, present at every choice but not
            ordered (top-``k`` rankings, single choices from a set).

        Returns
        -------
        self

        Raises
        ------
        InvalidRankingError
            A repeated item within a ranking, a ranking of a single item, bad
            rank values, a ranking with no choice in it (all its items tied
            and ``tied_last="unranked"``), a rater that varies within a
            ranking, a tied choice without ``ties="davidson"``, or a tie order
            above 6.
        EmptyDataError
            The table has no rows.
        InvalidWeightError
            A missing, negative or non-numeric weight, or one that varies
            within a ranking.
        NotIdentifiableError
            The win graph is not strongly connected (disconnected items,
            items that never win or never lose) and neither ``npseudo`` nor
            ``penalty`` is positive; or a tie prevalence would be infinite.
        """
        self._check_params()
        data = encode_rankings(df, ranking, item, rank, weight, rater, tied_last)
        self._check_ties(data)
        if self.reference is not None and self.reference not in data.items:
            raise InvalidItemError(
                f"reference={self.reference!r} is not an item of the data; items include "
                f"{format_examples(data.items)}."
            )
        self.warnings_: list[str] = []
        self._check_identifiable(data)
        self._fit_data(data)
        return self

    def _check_ties(self, data: RankingData) -> None:
        orders = data.tie_orders
        if not orders:
            return
        tied = data.rankings.index[data.rankings["max_tie"].to_numpy() > 1]
        if self.ties is None:
            raise InvalidRankingError(
                f"the rankings contain tied choices (tie orders {list(orders)}) in "
                f"{len(tied)} ranking(s): {format_examples(tied)}. Pass ties='davidson' to "
                "model them; if a tie at the bottom of a ranking means 'the rest, not "
                "ordered', pass tied_last='unranked' to fit()."
            )
        if max(orders) > _MAX_TIE_ORDER:
            big = data.rankings.index[data.rankings["max_tie"].to_numpy() > _MAX_TIE_ORDER]
            raise InvalidRankingError(
                f"{len(big)} ranking(s) tie more than {_MAX_TIE_ORDER} items in one choice "
                f"({format_examples(big)}; largest tie {max(orders)}). The Davidson–Luce model "
                f"is supported up to tie order {_MAX_TIE_ORDER}; remove those rankings, or if a "
                "large tie is the bottom of the ranking, pass tied_last='unranked'."
            )
        never = [k for k in orders if _untied_alternatives(data.blocks, k) == 0]
        if never:
            raise NotIdentifiableError(
                f"every choice set large enough for a tie of order {never} ended in such a "
                "tie, so its tie prevalence is estimated as infinite. Fit with "
                "tied_last='unranked' if those ties are unranked bottoms."
            )

    def _check_identifiable(self, data: RankingData) -> None:
        conn = data.connectivity
        self.connectivity_ = conn
        if conn.mle_exists:
            return
        if self.npseudo > 0 or self.penalty > 0:
            remedy = (f"npseudo={self.npseudo:g} pseudo-comparisons" if self.npseudo > 0
                      else f"penalty={self.penalty:g}")
            msg = ("the maximum likelihood estimate does not exist (" + str(conn.problem())
                   + f"); the estimates shown exist only because of {remedy} and are shrunk "
                   "towards 0.")
            self.warnings_.append(msg)
            warnings.warn(msg, IdentifiabilityWarning, stacklevel=3)
            return
        raise NotIdentifiableError(
            "cannot estimate log-worths: " + str(conn.problem()) + " Pass npseudo=<positive "
            "number> (pseudo-comparisons with a ghost item, as R PlackettLuce) or penalty="
            "<positive number> (a Gaussian prior), or fit each strongly connected set of "
            "items separately.",
            connectivity=conn,
        )

    def _fit_data(self, data: RankingData) -> None:
        n = data.items.size
        ghost = self.npseudo > 0
        n_lam = n + int(ghost)
        orders = data.tie_orders
        size = n_lam + len(orders)
        dense = size <= _DENSE_MAX
        data_kernel = kernel = LuceKernel(data.blocks, n_lam, orders, dense)
        if ghost:
            kernel = LuceKernel([*data.blocks, _pseudo_block(n, float(self.npseudo))], n_lam,
                                orders, dense)
        if ghost:
            pivot: int | None = n
        elif self.penalty == 0:
            pivot = (int(data.items.get_loc(self.reference)) if self.reference is not None
                     else int(np.argmax(data.comparisons)))
        else:
            pivot = None
        free = np.ones(size, dtype=bool)
        if pivot is not None:
            free[pivot] = False
        free_block = np.ix_(free, free)
        penalty = float(self.penalty)

        def full(x: np.ndarray) -> np.ndarray:
            theta = np.zeros(size)
            theta[free] = x
            return theta

        def objective(x: np.ndarray, derivatives: bool) -> tuple[float, Any, Any]:
            theta = full(x)
            lam = theta[:n]
            value, grad, info = kernel.evaluate(theta, 2 if derivatives else 0)
            value -= 0.5 * penalty * float(lam @ lam)
            if not derivatives:
                return value, None, None
            if not (np.isfinite(grad).all() and _finite(info)):
                # An overshooting trial step (normalising constants underflow):
                # reject it, so that the solver halves the step.
                return -np.inf, grad, info
            if penalty:
                grad[:n] -= penalty * lam
                ridge = np.zeros(size)
                ridge[:n] = penalty
                info = info + (np.diag(ridge) if dense else sparse.diags(ridge, format="csr"))
            info = info[free_block] if dense else info[free][:, free]
            return value, grad[free], info

        theta0 = np.zeros(size)
        theta0[n_lam:] = np.log(_DELTA_START)
        self.n_mm_iter_ = 0
        if penalty == 0:
            theta0 = self._mm(kernel, theta0, pivot)
        result = newton(objective, theta0[free], self.max_iter, self.tol)
        self._store(data, data_kernel, full(result.x), free, result, dense, n, ghost)

    def _mm(self, kernel: LuceKernel, theta: np.ndarray, pivot: int | None) -> np.ndarray:
        """MM / iterative-scaling steps (Hunter 2004; Turner et al. 2020, with ties).

        ``alpha_i <- alpha_i * observed_i / expected_i`` for worths and the same
        for tie prevalences: each step needs only the score.
        """
        observed = kernel.observed()
        log_observed = np.log(np.maximum(observed, np.finfo(float).tiny))
        for _ in range(_MM_STEPS):
            _, grad, _ = kernel.evaluate(theta, 1)
            expected = observed - grad
            theta = theta + log_observed - np.log(np.maximum(expected,
                                                             np.finfo(float).tiny))
            if pivot is not None:
                theta[:kernel.n_lam] -= theta[pivot]
            self.n_mm_iter_ += 1
        return theta

    # ------------------------------------------------------------ inference
    def _store(self, data: RankingData, data_kernel: LuceKernel, theta: np.ndarray,
               free: np.ndarray, result: NewtonResult, dense: bool, n: int,
               ghost: bool) -> None:
        # log-likelihood of the rankings alone (no pseudo-data, no penalty)
        self.loglik_ = float(data_kernel.evaluate(theta, 0)[0])
        self.items_ = data.items
        self.n_items_ = n
        self.tie_orders_ = data.tie_orders
        self.rankings_ = data.rankings
        self.n_iter_ = result.n_iter
        self.converged_ = bool(result.converged)
        if not self.converged_:
            msg = (f"the solver stopped after {result.n_iter} iterations without reaching the "
                   f"optimum (Newton decrement {result.decrement:.3g}); raise max_iter.")
            self.warnings_.append(msg)
            warnings.warn(msg, ConvergenceWarning, stacklevel=4)
        lam = theta[:n]
        big = np.abs(lam - np.median(lam)) > _DIVERGENCE
        if big.any() and self.penalty == 0 and not ghost:
            raise NotIdentifiableError(
                f"the log-worths of {format_examples(data.items[big])} diverge (beyond ±"
                f"{_DIVERGENCE:g}): the rankings are separable. Pass npseudo > 0 or "
                "penalty > 0."
            )
        size = theta.size
        cov = np.zeros((size, size))
        cov[np.ix_(free, free)] = spd_inverse(result.info if dense else result.info.toarray())
        keep = np.r_[np.arange(n), np.arange(n + int(ghost), size)]
        theta, cov = theta[keep], cov[np.ix_(keep, keep)]
        ref = None if self.reference is None else int(data.items.get_loc(self.reference))
        estimate, cov = identify_items(theta, cov, n, ref)
        se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
        index = _param_index(data.items, data.tie_orders)
        self.params_ = wald_table(estimate, se, index, self.conf_level)
        self.cov_ = pd.DataFrame(cov, index=index, columns=index)
        self.strengths_ = pd.DataFrame(self.params_.to_numpy()[:n], columns=self.params_.columns,
                                       index=data.items.rename("item"), copy=True)
        self._lam = estimate[:n]
        self._log_delta = estimate[n:]
        self.n_rankings_ = len(data.rankings)
        self.n_stages_ = data.n_stages
        self.n_obs_ = data.n_obs
        self.df_model_ = n - 1 + len(data.tie_orders)
        self.aic_ = -2 * self.loglik_ + 2 * self.df_model_
        self.bic_ = -2 * self.loglik_ + np.log(self.n_obs_) * self.df_model_

    # ------------------------------------------------------------ public API

    def predict_proba(self, choice_sets: Sequence[Sequence[Any]]) -> pd.DataFrame:
        """Probability of each item being chosen first from each choice set.

        Parameters
        ----------
        choice_sets : sequence of sequences of item labels
            The sets, e.g. ``[["a", "b", "c"], ["a", "c"]]``; each lists
            distinct fitted items.

        Returns
        -------
        pandas.DataFrame
            One row per choice set and one column per fitted item (0 for
            items not in the set). A model with tie parameters adds a last
            column ``tie``: the probability that first place is a tie (of
            any order present). Rows sum to one.

        Raises
        ------
        InvalidItemError
            An unknown, repeated or missing label, an empty set, or (models
            with ties) an item labelled ``"tie"``.
        """
        self._check_fitted()
        sets = _choice_sets(choice_sets, self.items_)
        n = self.n_items_
        has_ties = bool(self.tie_orders_)
        if has_ties and "tie" in self.items_:
            raise InvalidItemError(
                "an item is labelled 'tie', which is the name of the tie column of "
                "predict_proba for a model with ties; relabel that item before fitting."
            )
        out = np.zeros((len(sets), n + int(has_ties)))
        lengths = np.array([len(s) for s in sets])
        delta = np.exp(self._log_delta)
        for length in np.unique(lengths):
            rows = np.flatnonzero(lengths == length)
            codes = np.array([sets[i] for i in rows], dtype=np.intp)
            eta = self._lam[codes]
            top = eta.max(axis=1, keepdims=True)
            single = np.exp(eta - top)
            tied = np.zeros(rows.size)
            for k, d in zip(self.tie_orders_, delta):
                tied += d * suffix_esp(np.exp((eta - top) / k), k)[k][:, 0]
            total = single.sum(axis=1) + tied
            out[rows[:, None], codes] = single / total[:, None]
            if has_ties:
                out[rows, n] = tied / total
        columns = list(self.items_) + (["tie"] if has_ties else [])
        return pd.DataFrame(out, columns=pd.Index(columns, dtype=object))

    def summary(self) -> Summary:
        """Fit report: model, identification, fit statistics and the estimates table.

        Returns
        -------
        Summary
            Renders as text (``print``) and as HTML in a notebook; its
            ``tables`` are DataFrames.
        """
        self._check_fitted()
        ident = ("log-worths sum to zero" if self.reference is None
                 else f"log-worth of {self.reference!r} fixed at 0")
        if self.tie_orders_:
            ties = "Davidson–Luce, orders " + ", ".join(map(str, self.tie_orders_))
        else:
            ties = "none in data" if self.ties is None else "Davidson–Luce (none in data)"
        facts: dict[str, object] = {
            "model": "Plackett–Luce",
            "ties": ties,
            "identification": ident,
            "items": self.n_items_,
            "rankings (weight)": f"{self.n_rankings_} ({self.n_obs_:g})",
            "choice stages": self.n_stages_,
            "log-likelihood": self.loglik_,
            "AIC": self.aic_,
            "iterations": f"{self.n_iter_} Newton after {self.n_mm_iter_} MM",
            "converged": self.converged_,
            "confidence level": self.conf_level,
        }
        if self.penalty:
            facts["penalty"] = f"{self.penalty:g} (Gaussian prior, sd {self.penalty ** -0.5:.3g})"
        if self.npseudo:
            facts["npseudo"] = (f"{self.npseudo:g} wins and losses of each item against a "
                                "ghost item of log-worth 0")
        notes = list(self.warnings_)
        notes.append("Standard errors from the information matrix (observed = expected for "
                     "this model); Wald intervals.")
        return Summary("PlackettLuce fit", facts, {"Parameters": self.params_}, notes)


def _param_index(items: pd.Index, tie_orders: tuple[int, ...]) -> pd.MultiIndex:
    """``(group, name)`` index of ``params_``: the items, then ``log_delta_k`` per tie order."""
    n = len(items)
    if tie_orders:
        groups = ["item"] * n + ["tie"] * len(tie_orders)
        names = [*items, *(f"log_delta_{k}" for k in tie_orders)]
        return pd.MultiIndex.from_arrays([groups, names], names=["group", "name"])
    # The index from_arrays builds, without its two factorisations (~0.4 ms a
    # fit): the item labels are sorted and distinct already, so they are the
    # level in that order, with the dtype from_arrays infers from the list.
    return pd.MultiIndex(levels=[_ITEM_GROUP, pd.Index(items.tolist())],
                         codes=[np.zeros(n, dtype=np.intp), np.arange(n)],
                         names=["group", "name"], verify_integrity=False)


def _finite(info: Any) -> bool:
    data = info.data if sparse.issparse(info) else info
    return bool(np.isfinite(data).all())


def _pseudo_block(n: int, npseudo: float) -> Block:
    """Each item against the ghost (code ``n``): one win and one loss of weight ``npseudo``."""
    items = np.arange(n)
    ghost = np.full(n, n)
    pairs = np.concatenate([np.column_stack([items, ghost]), np.column_stack([ghost, items])])
    size = np.zeros_like(pairs)
    size[:, 0] = 1
    return Block(items=pairs, size=size, weight=np.full(2 * n, npseudo))


def _untied_alternatives(blocks: list[Block], k: int) -> float:
    """Weight of the stages that could have ended in a tie of order ``k`` but did not."""
    total = 0.0
    for b in blocks:
        length = b.items.shape[1]
        room = (length - np.arange(length)) >= k
        total += float((b.weight[:, None] * (b.stage & room & (b.size != k))).sum())
    return total


def _choice_sets(choice_sets: Any, items: pd.Index) -> list[np.ndarray]:
    """Choice sets as arrays of item codes, checked."""
    if isinstance(choice_sets, (str, bytes)) or not pd.api.types.is_list_like(choice_sets):
        raise InvalidItemError(
            "predict_proba expects a sequence of choice sets (each a list of item labels), "
            f"got {type(choice_sets).__name__}."
        )
    out = []
    for k, s in enumerate(choice_sets):
        if isinstance(s, (str, bytes)) or not pd.api.types.is_list_like(s):
            raise InvalidItemError(
                f"choice set {k} is {s!r}, not a list of item labels; wrap a single set in a "
                "list: predict_proba([['a', 'b']])."
            )
        labels = pd.Index(list(s), dtype=object)
        if len(labels) == 0:
            raise InvalidItemError(f"choice set {k} is empty.")
        if labels.has_duplicates:
            raise InvalidItemError(
                f"choice set {k} repeats item(s) {format_examples(labels[labels.duplicated()])}."
            )
        codes = items.get_indexer(labels)
        if (codes < 0).any():
            raise InvalidItemError(
                f"choice set {k} has item(s) the model was not fitted on: "
                f"{format_examples(labels[codes < 0])}."
            )
        out.append(codes)
    return out
