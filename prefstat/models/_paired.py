"""The paired-comparison engine shared by Bradley–Terry and Thurstone models.

Data path: ``ComparisonData`` → ``pair_counts`` (sufficient statistics) →
likelihood kernel (``_likelihood``) → Newton / Fisher scoring (``_solvers``) →
Wald inference (``inference``). A model variant adds a kernel, not a pipeline.

Parametrisation. ``theta = (lambda_1..lambda_n, [order_effect], [tie])``. The
linear predictor of a cell with first-shown item ``i`` and second ``j`` is
``d = lambda_i - lambda_j (+ order_effect)``. Without a penalty the item
strengths are identified only up to a common shift; the solver fixes one
internal pivot item at 0 and the reported identification (sum to zero, or a
named reference item at 0) is applied afterwards as a linear map, with the
covariance transformed by the delta method (exact for a linear map).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg, sparse, special

from .. import _likelihood as lik
from .._approx_cov import approximate_covariance
from .._encoding import TIE, TIE_BOTHBAD
from .._inputs import as_comparison_data
from .._report import Summary
from .._solvers import NewtonResult, newton, spd_inverse
from ..data import ComparisonData, PairCounts
from ..diagnostics.connectivity import Connectivity, connectivity_from_counts
from ..exceptions import (
    ConvergenceWarning,
    IdentifiabilityWarning,
    InvalidItemError,
    InvalidOutcomeError,
    InvalidParameterError,
    NotFittedError,
    NotIdentifiableError,
    format_examples,
)
from ..inference import wald_table

# Above this many free parameters the information matrix is kept sparse.
_DENSE_MAX = 2500
# A logit-scale estimate this large means an odds ratio beyond e^25: separation.
_DIVERGENCE = 25.0

_TIE_NAMES = {"davidson": "log_nu", "rao-kupper": "log_theta"}


@dataclass
class _Layout:
    """Where each parameter sits in theta, and which are free in the solver."""

    n_items: int
    order_effect: bool
    tie: bool
    pivot: int | None

    @property
    def size(self) -> int:
        return self.n_items + int(self.order_effect) + int(self.tie)

    @property
    def order_index(self) -> int:
        return self.n_items

    @property
    def tie_index(self) -> int:
        return self.n_items + int(self.order_effect)

    def free(self) -> np.ndarray:
        mask = np.ones(self.size, dtype=bool)
        if self.pivot is not None:
            mask[self.pivot] = False
        return mask


class _Problem:
    """One likelihood to maximise: a kernel on fixed cells, with a parameter layout.

    Counts are passed to :meth:`solve`, so the same problem refits reweighted
    counts (bootstrap, cross-validation) without rebuilding anything.
    """

    def __init__(self, kernel: lik.Kernel, first: np.ndarray, second: np.ndarray,
                 layout: _Layout, penalty: float) -> None:
        self.kernel = kernel
        self.first = first
        self.second = second
        self.layout = layout
        self.penalty = penalty
        self.free = layout.free()
        self.dense = int(self.free.sum()) <= _DENSE_MAX
        self.pattern = None if self.dense else _LaplacianPattern(first, second, layout)

    def start(self, counts: np.ndarray) -> np.ndarray:
        """Starting values of the free parameters: zeros, the tie share for tau."""
        theta0 = np.zeros(self.layout.size)
        if self.kernel.has_tie:
            theta0[self.layout.tie_index] = self.kernel.start_tau(
                float(counts[:, 2].sum() / counts.sum()))
        return theta0[self.free]

    def full(self, x: np.ndarray) -> np.ndarray:
        """All parameters, with the pivot (if any) at 0."""
        theta = np.zeros(self.layout.size)
        theta[self.free] = x
        return theta

    def linear(self, theta: np.ndarray) -> np.ndarray:
        """Linear predictor d of every cell."""
        lin = theta[self.first] - theta[self.second]
        if self.layout.order_effect:
            lin = lin + theta[self.layout.order_index]
        return lin

    def objective(self, x: np.ndarray, derivatives: bool,
                  counts: np.ndarray) -> tuple[float, Any, Any]:
        """Penalised log-likelihood, its gradient and information in the free parameters."""
        layout, n = self.layout, self.layout.n_items
        theta = self.full(x)
        tau = theta[layout.tie_index] if layout.tie else 0.0
        terms = lik.evaluate(self.kernel, counts, self.linear(theta), tau, derivatives)
        value = terms.loglik - 0.5 * self.penalty * float(theta[:n] @ theta[:n])
        if not derivatives:
            return value, None, None
        grad, parts = _info_parts(terms, self.first, self.second, layout)
        if self.penalty:
            grad[:n] -= self.penalty * theta[:n]
        free = self.free
        if not self.dense:
            return value, grad[free], _InfoOperator(parts, free, self.penalty, self.pattern)
        info = parts.dense()
        if self.penalty:
            info[np.arange(n), np.arange(n)] += self.penalty
        return value, grad[free], info[np.ix_(free, free)]

    def solve(self, counts: np.ndarray, x0: np.ndarray, bias_reduction: bool,
              max_iter: int, tol: float) -> NewtonResult:
        """Maximise the (penalised or bias-reduced) likelihood of ``counts`` from ``x0``."""

        def fun(x: np.ndarray, derivatives: bool,
                cell_counts: np.ndarray = counts) -> tuple[float, Any, Any]:
            return self.objective(x, derivatives, cell_counts)

        if bias_reduction:
            return _firth(fun, counts, self.first, self.second, self.layout, self.free, x0,
                          max_iter, self.dense)
        return newton(fun, x0, max_iter, tol)


class PairedComparisonModel:
    """Shared implementation of :class:`BradleyTerry` and :class:`Thurstone`."""

    _link = "logit"

    def __init__(
        self,
        *,
        ties: str | None = None,
        tie_handling: str | None = None,
        order_effect: bool = False,
        penalty: float = 0.0,
        reference: Any = None,
        bias_reduction: bool = False,
        conf_level: float = 0.95,
        max_iter: int = 100,
        tol: float = 1e-20,
        se_method: str = "auto",
    ) -> None:
        self.ties = ties
        self.tie_handling = tie_handling
        self.order_effect = order_effect
        self.penalty = penalty
        self.reference = reference
        self.bias_reduction = bias_reduction
        self.conf_level = conf_level
        self.max_iter = max_iter
        self.tol = tol
        self.se_method = se_method

    # ----------------------------------------------------------- parameters
    def get_params(self) -> dict[str, Any]:
        """Hyperparameters, as passed to ``__init__``."""
        return {k: getattr(self, k) for k in (
            "ties", "tie_handling", "order_effect", "penalty", "reference",
            "bias_reduction", "conf_level", "max_iter", "tol", "se_method")}

    def __repr__(self) -> str:
        defaults = PairedComparisonModel().get_params()
        changed = {k: v for k, v in self.get_params().items() if v != defaults[k]}
        args = ", ".join(f"{k}={v!r}" for k, v in changed.items())
        return f"{type(self).__name__}({args})"

    def _kernel(self) -> lik.Kernel:
        name = self._link if self.ties is None else self.ties
        return lik.KERNELS[name]

    def _check_params(self) -> None:
        if self.ties not in (None, "davidson", "rao-kupper"):
            raise InvalidParameterError(
                f"ties={self.ties!r} is not a ties model; use None, 'davidson' or 'rao-kupper'."
            )
        if self.ties is not None and self._link != "logit":
            raise InvalidParameterError(
                f"ties={self.ties!r} is a Bradley–Terry (logit) ties model; {type(self).__name__} "
                "supports ties only by tie_handling='half'. Use BradleyTerry for a ties model."
            )
        if self.tie_handling not in (None, "half"):
            raise InvalidParameterError(
                f"tie_handling={self.tie_handling!r}; the only tie handling without a ties "
                "model is 'half' (a tie counts half a win for each side, BradleyTerry2's *.adj)."
            )
        if self.ties is not None and self.tie_handling is not None:
            raise InvalidParameterError(
                "pass either ties= (model the ties) or tie_handling='half' (split them), not both."
            )
        if not (np.isfinite(self.penalty) and self.penalty >= 0):
            raise InvalidParameterError(
                f"penalty must be a finite number >= 0, got {self.penalty!r}."
            )
        if self.bias_reduction and (self._link != "logit" or self.ties is not None):
            raise InvalidParameterError(
                "bias_reduction=True is implemented for the Bradley–Terry logit model without a "
                "ties model (ties=None, tie handling 'half' allowed)."
            )
        if self.bias_reduction and self.penalty > 0:
            raise InvalidParameterError("choose one of penalty > 0 and bias_reduction=True.")
        if self.se_method not in ("auto", "exact", "approx"):
            raise InvalidParameterError(
                f"se_method={self.se_method!r}; use 'auto', 'exact' or 'approx'."
            )
        if not 0 < self.conf_level < 1:
            raise InvalidParameterError(
                f"conf_level must be strictly between 0 and 1, got {self.conf_level!r}."
            )

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        data: pd.DataFrame | ComparisonData,
        item_a: str = "item_a",
        item_b: str = "item_b",
        outcome: str = "outcome",
        weight: str | None = None,
        items: Any = None,
    ) -> PairedComparisonModel:
        """Fit the model by maximum likelihood on a comparison table.

        Parameters
        ----------
        data : pandas.DataFrame or ComparisonData
            The canonical comparison table (see :mod:`prefstat.data`): one row
            per judgement, or per aggregated cell with a ``weight`` column.
        item_a, item_b, outcome : str
            Column names of the first-shown item, the second-shown item and
            the outcome.
        weight : str, optional
            Column of non-negative row weights (counts).
        items : sequence, optional
            The full item set and its order.

        Returns
        -------
        self

        Raises
        ------
        NotIdentifiableError
            The comparison graph is disconnected or separable and neither
            ``penalty`` nor ``bias_reduction`` was asked for.
        InvalidOutcomeError
            The data contain ties and the model was given no way to treat them.
        """
        self._check_params()
        d = as_comparison_data(data, item_a=item_a, item_b=item_b, outcome=outcome,
                               weight=weight, items=items)
        if d.is_graded:
            raise InvalidOutcomeError(
                "the outcome is a graded scale; collapse it explicitly with "
                "prefstat.convert.collapse_graded (graded models are separate)."
            )
        tie_weight = float(d.weight[(d.outcome == TIE) | (d.outcome == TIE_BOTHBAD)].sum())
        if tie_weight > 0 and self.ties is None and self.tie_handling is None:
            n_ties = int(((d.outcome == TIE) | (d.outcome == TIE_BOTHBAD)).sum())
            raise InvalidOutcomeError(
                f"the data contain {n_ties} tied row(s) (weight {tie_weight:g}) and the model "
                "has no ties: pass ties='davidson' or ties='rao-kupper' to model them, or "
                "tie_handling='half' to count each tie as half a win for each side."
            )
        if self.reference is not None and self.reference not in d.items:
            raise InvalidItemError(
                f"reference={self.reference!r} is not an item of the data; items include "
                f"{format_examples(d.items)}."
            )
        self.warnings_: list[str] = []
        pc = d.pair_counts(ordered=self.order_effect)
        conn = connectivity_from_counts(pc)
        self._check_identifiable(conn)
        kernel = self._kernel()
        counts = kernel.category_counts(pc.counts, self.tie_handling == "half")
        if kernel.has_tie and tie_weight == 0:
            raise InvalidOutcomeError(
                f"ties={self.ties!r} was asked for but the data contain no ties, so the tie "
                "parameter is not estimable (its MLE is -inf); fit with ties=None."
            )
        self._fit_counts(d, pc, counts, kernel, conn)
        return self

    def _check_identifiable(self, conn: Connectivity) -> None:
        self.connectivity_ = conn
        if conn.mle_exists:
            return
        remedy = ("Pass penalty=<positive number> (a Gaussian prior on strengths) or "
                  "bias_reduction=True (Firth's penalty), or restrict the data to one "
                  "strongly connected set of items.")
        if self.penalty > 0:
            msg = ("the maximum likelihood estimate does not exist (" + str(conn.problem())
                   + "); the estimates shown exist only because of penalty="
                   f"{self.penalty:g} and are shrunk towards 0.")
        elif self.bias_reduction and conn.connected:
            msg = ("the maximum likelihood estimate does not exist (" + str(conn.problem())
                   + "); the estimates shown are Firth bias-reduced (finite by construction).")
        else:
            extra = (" bias_reduction does not bridge disconnected components; fit each "
                     "component separately or use penalty > 0.") if self.bias_reduction else ""
            raise NotIdentifiableError(
                "cannot estimate strengths: " + str(conn.problem()) + " " + remedy + extra,
                connectivity=conn,
            )
        self.warnings_.append(msg)
        warnings.warn(msg, IdentifiabilityWarning, stacklevel=4)

    def _fit_counts(self, d: ComparisonData, pc: PairCounts, counts: np.ndarray,
                    kernel: lik.Kernel, conn: Connectivity) -> None:
        # Pivot: the reference item, else the most compared item (best conditioned).
        pivot: int | None = None
        if self.penalty == 0:
            if self.reference is not None:
                pivot = int(d.items.get_loc(self.reference))
            else:
                pivot = int(np.argmax(conn.items["comparisons"].to_numpy()))
        layout = _Layout(d.n_items, bool(self.order_effect), kernel.has_tie, pivot)
        problem = _Problem(kernel, pc.first, pc.second, layout, float(self.penalty))
        result = problem.solve(counts, problem.start(counts), self.bias_reduction,
                               self.max_iter, self.tol)
        self._problem = problem
        self._counts = counts
        self._store(d, pc, counts, kernel, layout, problem.free, problem.full(result.x),
                    result, problem.dense)

    # ------------------------------------------------------------ inference
    def _store(self, d: ComparisonData, pc: PairCounts, counts: np.ndarray,
               kernel: lik.Kernel, layout: _Layout, free: np.ndarray, theta: np.ndarray,
               result: NewtonResult, dense: bool) -> None:
        n = layout.n_items
        self.items_ = d.items
        self.n_items_ = n
        self.kernel_ = kernel.name
        self.n_iter_ = result.n_iter
        self.converged_ = bool(result.converged)
        if not self.converged_:
            msg = (f"the solver stopped after {result.n_iter} iterations without reaching the "
                   f"optimum (Newton decrement {result.decrement:.3g}); raise max_iter.")
            self.warnings_.append(msg)
            warnings.warn(msg, ConvergenceWarning, stacklevel=4)
        big = np.abs(theta[:n] - np.median(theta[:n])) > _DIVERGENCE
        if big.any() and self.penalty == 0 and not self.bias_reduction:
            raise NotIdentifiableError(
                f"the estimates of {format_examples(d.items[big])} diverge (beyond ±"
                f"{_DIVERGENCE:g} on the {kernel.name} scale): the data are separable. Pass "
                "penalty > 0 or bias_reduction=True.",
            )
        if layout.order_effect and abs(theta[layout.order_index]) > _DIVERGENCE \
                and self.penalty == 0:
            raise NotIdentifiableError(
                "the order effect diverges: the first-shown item (nearly) always won or "
                "always lost, so its advantage is infinite. Fit without order_effect or add "
                "data where the order varies within pairs."
            )
        index = self._param_index(d, layout, kernel)
        exact = self.se_method == "exact" or (self.se_method == "auto" and dense)
        self.se_method_ = "exact" if exact else "approximate"
        if exact:
            # Covariance of theta with the pivot fixed (zero row and column).
            cov = np.zeros((layout.size, layout.size))
            info = result.info if dense else result.info.toarray()
            cov[np.ix_(free, free)] = spd_inverse(info)
            estimate, cov = self._identify(d, layout, theta, cov)
            se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
            self.cov_ = pd.DataFrame(cov, index=index, columns=index)
        else:
            estimate, se = self._approximate_se(d, layout, theta)
            self.cov_ = None
            self.warnings_.append(
                f"item standard errors are approximate (Neumann expansion of the inverse "
                f"information, {n} items); pass se_method='exact' for the dense inverse.")
        self.params_ = wald_table(estimate, se, index, self.conf_level)
        self.strengths_ = self.params_.xs("item", level="group").copy()
        self.strengths_.index.name = "item"
        self._theta = theta
        self._layout = layout
        self.loglik_ = float(lik.evaluate(kernel, counts, self._linear(pc.first, pc.second),
                                          self._tau(), derivatives=False).loglik)
        self.n_obs_ = float(counts.sum())
        self.n_pairs_ = int(pc.n_cells)
        self.df_model_ = int(free.sum())
        self.deviance_ = self._deviance(counts, pc)
        self.aic_ = -2 * self.loglik_ + 2 * self.df_model_
        self.bic_ = -2 * self.loglik_ + np.log(self.n_obs_) * self.df_model_

    def _approximate_se(self, d: ComparisonData, layout: _Layout,
                        theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Identified estimates and approximate SEs without a dense inverse."""
        problem, n = self._problem, layout.n_items
        tau = theta[layout.tie_index] if layout.tie else 0.0
        terms = lik.evaluate(problem.kernel, self._counts, problem.linear(theta), tau)
        _, info = _assemble(terms, problem.first, problem.second, layout, dense=False)
        if self.penalty:
            info = info + _ridge(layout.size, n, self.penalty, dense=False)
        ref = None if self.reference is None else int(d.items.get_loc(self.reference))
        item_var, border_cov, _ = approximate_covariance(info, n, problem.free, ref)
        estimate, _ = self._identify(d, layout, theta)
        var = np.concatenate([item_var, np.diag(border_cov)])
        return estimate, np.sqrt(np.clip(var, 0.0, None))

    def _identify(self, d: ComparisonData, layout: _Layout, theta: np.ndarray,
                  cov: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """Apply the reported identification to the item block, a linear map.

        Sum to zero: ``lambda - mean(lambda)``; reference ``r``:
        ``lambda - lambda_r``. The covariance, when given, transforms exactly
        (``A C A'``), computed in O(n^2) without forming ``A``.
        """
        n = layout.n_items
        theta = theta.copy()
        r = None if self.reference is None else int(d.items.get_loc(self.reference))
        theta[:n] -= theta[:n].mean() if r is None else theta[r]
        if cov is None:
            return theta, None
        cov = cov.copy()
        if r is not None:
            cov[:n, :] -= cov[r, :]
            cov[:, :n] -= cov[:, r].copy()[:, None]
        else:
            mean_rows = cov[:n, :].mean(axis=0)
            cov[:n, :] -= mean_rows
            mean_cols = cov[:, :n].mean(axis=1)
            cov[:, :n] -= mean_cols[:, None]
        return theta, cov

    def _param_index(self, d: ComparisonData, layout: _Layout,
                     kernel: lik.Kernel) -> pd.MultiIndex:
        tuples: list[tuple[str, Any]] = [("item", label) for label in d.items]
        if layout.order_effect:
            tuples.append(("order_effect", "order_effect"))
        if layout.tie:
            tuples.append(("tie", _TIE_NAMES[kernel.name]))
        return pd.MultiIndex.from_tuples(tuples, names=["group", "name"])

    def _linear(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        theta, layout = self._theta, self._layout
        lin = theta[first] - theta[second]
        if layout.order_effect:
            lin = lin + theta[layout.order_index]
        return lin

    def _tau(self) -> float:
        layout = self._layout
        return float(self._theta[layout.tie_index]) if layout.tie else 0.0

    def _deviance(self, counts: np.ndarray, pc: PairCounts) -> float:
        """Deviance against the saturated model of the (aggregated) pair table."""
        n = counts.sum(axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            sat = np.where(counts > 0, counts * np.log(counts / n), 0.0).sum()
        return float(2 * (sat - self.loglik_))

    # ------------------------------------------------------------ public API
    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit(df) first."
            )

    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        """Wald confidence intervals for every parameter.

        Parameters
        ----------
        alpha : float, optional
            Significance level; the intervals cover ``1 - alpha``. Defaults to
            ``1 - conf_level``.

        Returns
        -------
        pandas.DataFrame
            Columns ``ci_lower, ci_upper``, indexed like ``params_``.
        """
        self._check_fitted()
        level = self.conf_level if alpha is None else 1 - alpha
        table = wald_table(self.params_["estimate"].to_numpy(), self.params_["se"].to_numpy(),
                           self.params_.index, level)
        return table[["ci_lower", "ci_upper"]]

    def bootstrap(self, data: pd.DataFrame | ComparisonData, n_boot: int = 1000,
                  cluster: str | None = None, conf_level: float | None = None,
                  random_state: Any = None, **columns: Any) -> Any:
        """Bootstrap standard errors, percentile intervals and rank intervals.

        Each replicate resamples the data (judgements, or whole clusters),
        turns the draw into new outcome counts for the fitted pairs and refits
        them, warm-started at the estimate. This equals refitting the
        resampled table from scratch (see Notes) at the cost of a few Newton
        steps on the pair counts.

        Parameters
        ----------
        data : pandas.DataFrame or ComparisonData
            The table the model was fitted on.
        n_boot : int, default 1000
            Number of replicates.
        cluster : str, optional
            Column to resample by (prompt, rater, question id): clusters are
            drawn with replacement and all rows of a cluster come along. With
            ``None``, judgements are drawn with replacement (a row of weight
            ``w`` stands for ``w`` judgements, so weights must be whole
            numbers; to resample weighted rows as units, cluster by a row id).
        conf_level : float, optional
            Coverage of the percentile intervals; defaults to the model's.
        random_state : int or numpy.random.Generator, optional
            Seed or generator of the draws; nothing touches global state.
        **columns
            Column names, as passed to :meth:`fit` (``item_a``, ``item_b``,
            ``outcome``, ``weight``, ``items``).

        Returns
        -------
        prefstat.models.BootstrapResult
            ``strengths``, ``params`` and ``ranks`` tables, the
            ``replicates`` and the number of failed replicates ``n_failed``.

        Raises
        ------
        NotFittedError
            Before :meth:`fit`.
        InvalidParameterError
            ``n_boot < 1``, ``conf_level`` outside (0, 1), or a cluster column
            with a single value.
        MissingColumnError
            ``cluster`` is not a column of ``data``.
        InvalidItemError, DataValidationError
            ``data`` is not the table the model was fitted on.
        InvalidWeightError
            Fractional weights without ``cluster``.

        Warns
        -----
        IdentifiabilityWarning, ConvergenceWarning
            Some replicates could not be refitted (an item lost all its
            comparisons or all its wins, or the solver did not converge).
            They are counted in ``n_failed``, left out of every SE and
            interval, and reported in the result's summary.

        Notes
        -----
        The likelihood depends on the rows only through the outcome counts
        of each pair, and a resampled table's count is the sum over its rows
        of (times drawn) x (weight), so refitting reweighted counts is
        refitting the resampled rows. Judgements sharing a pair and an
        outcome are exchangeable, so the judgement bootstrap draws one
        multinomial over the pair-outcome counts, with the same distribution
        as drawing judgements one by one. The cluster bootstrap draws
        ``multinomial(G, 1/G)`` over the ``G`` clusters (in order of first
        appearance). Estimates follow the model's identification.

        Examples
        --------
        >>> from prefstat import BradleyTerry
        >>> from prefstat.datasets import load_citations
        >>> df = load_citations()
        >>> model = BradleyTerry().fit(df, weight="weight")
        >>> boot = model.bootstrap(df, n_boot=200, random_state=0, weight="weight")
        >>> boot.replicates.shape, boot.n_failed
        ((200, 4), 0)
        >>> s = boot.strengths
        >>> bool(((s["ci_lower"] < s["estimate"]) & (s["estimate"] < s["ci_upper"])).all())
        True
        >>> boot.ranks
                      rank  rank_lower  rank_upper
        item
        Biometrika       2           2           2
        Comm Statist     4           4           4
        JASA             3           3           3
        JRSS-B           1           1           1
        """
        from ._bootstrap import bootstrap

        return bootstrap(self, data, n_boot, cluster, conf_level, random_state, columns)

    def elo(self, scale: float = 400.0, base: float = 10.0, anchor: Any = None,
            anchor_value: float = 1000.0) -> pd.DataFrame:
        """Strengths on an Elo-style rating scale, as LLM-arena leaderboards report them.

        ``rating = anchor_value + scale / ln(base) * (lambda - lambda_anchor)``,
        so a difference of ``scale`` points means odds of ``base`` to 1.
        Without an anchor item the mean rating is ``anchor_value``.

        Parameters
        ----------
        scale, base : float, default 400, 10
            Points per factor ``base`` in the odds (the chess convention).
        anchor : item label, optional
            Item whose rating is fixed at ``anchor_value`` (its SE is then 0
            and the others' SEs are those of differences from it).
        anchor_value : float, default 1000
            Rating of the anchor item, or the mean rating.

        Returns
        -------
        pandas.DataFrame
            Indexed by item, sorted best first: ``rating, se, ci_lower,
            ci_upper`` and ``rank``. The rank rule is the arena's: one plus
            the number of items whose interval lies entirely above this
            item's (so items with overlapping intervals share a rank).

        Examples
        --------
        >>> from prefstat import BradleyTerry
        >>> from prefstat.datasets import load_citations
        >>> m = BradleyTerry().fit(load_citations(), weight="weight")
        >>> m.elo(anchor="JASA")[["rating", "rank"]].round(1)
                      rating  rank
        item
        JRSS-B        1130.0     1
        Biometrika    1083.3     2
        JASA          1000.0     3
        Comm Statist   571.0     4
        """
        self._check_fitted()
        if self._link != "logit":
            raise InvalidParameterError(
                "the Elo scale is defined for the logit (Bradley–Terry) model; "
                f"{type(self).__name__} uses a probit link."
            )
        if not (scale > 0 and base > 1):
            raise InvalidParameterError(f"need scale > 0 and base > 1, got {scale!r}, {base!r}.")
        factor = scale / np.log(base)
        est = self.strengths_["estimate"].to_numpy()
        a = None if anchor is None else int(self._codes(anchor, "anchor")[0])
        if self.cov_ is None:
            # Approximate path (no covariance matrix): differences from the anchor are
            # treated as if the two strengths were uncorrelated.
            var = self.strengths_["se"].to_numpy() ** 2
            if a is not None:
                var = var + var[a]
                var[a] = 0.0
            shift = est.mean() if a is None else est[a]
        else:
            cov = self.cov_.loc["item", "item"].to_numpy()
            if a is None:
                shift, var = est.mean(), np.diag(cov) - 2 * cov.mean(axis=1) + cov.mean()
            else:
                shift, var = est[a], np.diag(cov) - 2 * cov[:, a] + cov[a, a]
        table = wald_table(anchor_value + factor * (est - shift),
                           factor * np.sqrt(np.clip(var, 0.0, None)), self.items_,
                           self.conf_level)
        table = table[["estimate", "se", "ci_lower", "ci_upper"]].rename(
            columns={"estimate": "rating"})
        above = (table["ci_lower"].to_numpy()[None, :] > table["ci_upper"].to_numpy()[:, None])
        table["rank"] = 1 + above.sum(axis=1)
        table.index.name = "item"
        return table.sort_values("rating", ascending=False)

    def _codes(self, labels: Any, what: str) -> np.ndarray:
        labels = pd.Index(np.atleast_1d(np.asarray(labels, dtype=object)))
        codes = self.items_.get_indexer(labels)
        if (codes < 0).any():
            raise InvalidItemError(
                f"{what} has item(s) the model was not fitted on: "
                f"{format_examples(pd.unique(labels[codes < 0]))}."
            )
        return codes

    def predict_proba(self, a: Any, b: Any) -> pd.DataFrame:
        """Outcome probabilities for ``a`` shown first against ``b``.

        Parameters
        ----------
        a, b : label or array-like of labels
            Items shown first and second (the order effect, if fitted, favours
            ``a``).

        Returns
        -------
        pandas.DataFrame
            Columns ``a, b, tie`` (probability that ``a`` is preferred, that
            ``b`` is, and of a tie; ``tie`` is 0 for a model without ties).
            Rows sum to one.
        """
        self._check_fitted()
        ca, cb = self._codes(a, "a"), self._codes(b, "b")
        kernel = lik.KERNELS[self.kernel_]
        logp, _, _ = kernel.log_probs(self._linear(ca, cb), self._tau())
        p = np.exp(logp)
        tie = p[:, 2] if p.shape[1] == 3 else np.zeros(len(p))
        return pd.DataFrame({"a": p[:, 0], "b": p[:, 1], "tie": tie})

    def score(self, data: pd.DataFrame | ComparisonData, **columns: Any) -> float:
        """Mean log-likelihood per judgement on (new) comparison data.

        Parameters
        ----------
        data : pandas.DataFrame or ComparisonData
            Comparisons among fitted items.
        **columns
            Column names, as for :meth:`fit`.

        Returns
        -------
        float
            Weighted mean log-likelihood (higher is better); ties are scored
            as the model treats them.
        """
        self._check_fitted()
        d = as_comparison_data(data, items=list(self.items_), **columns)
        pc = d.pair_counts(ordered=True)
        kernel = lik.KERNELS[self.kernel_]
        counts = kernel.category_counts(pc.counts, self.tie_handling == "half")
        ll = lik.evaluate(kernel, counts, self._linear(pc.first, pc.second), self._tau(),
                          derivatives=False).loglik
        return ll / float(counts.sum())

    def summary(self) -> Summary:
        """Fit report: model, identification, fit statistics and the estimates table.

        Returns
        -------
        Summary
            Renders as text (``print``) and as HTML in a notebook; its
            ``tables`` are DataFrames.
        """
        self._check_fitted()
        ident = ("strengths sum to zero" if self.reference is None
                 else f"strength of {self.reference!r} fixed at 0")
        link = {"logit": "Bradley–Terry (logit)", "probit": "Thurstone Case V (probit)"}
        ties = {None: "none in data" if self.tie_handling is None else "counted as half wins",
                "davidson": "Davidson (1970)", "rao-kupper": "Rao–Kupper (1967)"}
        facts: dict[str, object] = {
            "model": link[self._link],
            "ties": ties[self.ties],
            "order effect": "estimated" if self.order_effect else "not modelled",
            "identification": ident,
            "items": self.n_items_,
            "judgements (weight)": self.n_obs_,
            "log-likelihood": self.loglik_,
            "deviance (pair table)": self.deviance_,
            "AIC": self.aic_,
            "iterations": self.n_iter_,
            "converged": self.converged_,
            "confidence level": self.conf_level,
        }
        if self.penalty:
            facts["penalty"] = f"{self.penalty:g} (Gaussian prior, sd {self.penalty ** -0.5:.3g})"
        if self.bias_reduction:
            facts["estimation"] = "Firth bias-reduced (Jeffreys prior); SEs from Fisher info"
        notes = list(self.warnings_)
        notes.append("Standard errors from the expected (Fisher) information; Wald intervals.")
        return Summary(f"{type(self).__name__} fit", facts, {"Parameters": self.params_}, notes)


@dataclass
class _InfoParts:
    """The information matrix in pieces: a weighted Laplacian plus dense border rows."""

    first: np.ndarray
    second: np.ndarray
    w: np.ndarray
    diag: np.ndarray
    border_index: list[int]
    border_rows: list[np.ndarray]
    size: int

    def dense(self) -> np.ndarray:
        n = self.diag.size
        info = np.zeros((self.size, self.size))
        flat = np.bincount(self.first * n + self.second, self.w, n * n).reshape(n, n)
        info[:n, :n] = -(flat + flat.T)
        info[np.arange(n), np.arange(n)] = self.diag
        for k, row in zip(self.border_index, self.border_rows):
            info[k, :] = row
            info[:, k] = row
        return info

    def sparse(self) -> sparse.csr_matrix:
        n = self.diag.size
        rows = [self.first, self.second, np.arange(n)]
        cols = [self.second, self.first, np.arange(n)]
        vals = [-self.w, -self.w, self.diag]
        border = np.asarray(self.border_index, dtype=np.intp)
        for k, row in zip(self.border_index, self.border_rows):
            # Item-border entries on both sides; the border-border block once, from its rows.
            nz = np.flatnonzero(row[:n])
            rows += [np.full(nz.size, k), nz, np.full(border.size, k)]
            cols += [nz, np.full(nz.size, k), border]
            vals += [row[nz], row[nz], row[border]]
        return sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows),
                                                         np.concatenate(cols))),
                                 shape=(self.size, self.size))


class _LaplacianPattern:
    """CSR structure of the item block, built once per problem.

    Each Newton step only gathers new values into it (``data = values[perm]``),
    so the per-step cost is one pass over the cells. Rows and columns of the
    pivot item (if any) are zeroed with a unit diagonal, which fixes the
    pivot's step at 0 while keeping the structure.
    """

    def __init__(self, first: np.ndarray, second: np.ndarray, layout: _Layout) -> None:
        n, m = layout.n_items, first.size
        rows = np.concatenate([first, second, np.arange(n)])
        cols = np.concatenate([second, first, np.arange(n)])
        # Slots grouped by row. Duplicate (row, column) slots (ordered cells i->j and
        # j->i) are kept apart; the product sums them. ``perm`` maps every slot to
        # exactly one raw value.
        self.perm = np.argsort(rows, kind="stable")
        self.indices = cols[self.perm]
        self.indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))])
        self.n, self.m = n, m
        self.pivot_zero = self.pivot_one = None
        if layout.pivot is not None:
            p = layout.pivot
            slot_rows = np.repeat(np.arange(n), np.diff(self.indptr))
            self.pivot_zero = (slot_rows == p) | (self.indices == p)
            self.pivot_one = np.flatnonzero(self.perm == 2 * m + p)
        self.diag_slots = np.flatnonzero(self.perm >= 2 * m)
        self.diag_items = self.perm[self.diag_slots] - 2 * m

    def matrix(self, w: np.ndarray, diag: np.ndarray) -> sparse.csr_matrix:
        data = np.concatenate([-w, -w, diag])[self.perm]
        if self.pivot_zero is not None:
            data[self.pivot_zero] = 0.0
            data[self.pivot_one] = 1.0
        return sparse.csr_matrix((data, self.indices, self.indptr), shape=(self.n, self.n))


class _InfoOperator:
    """Information restricted to the free parameters, for conjugate gradients.

    The item block is a CSR matrix on a structure fixed per problem; the few
    border rows (order effect, tie) are applied densely.
    """

    def __init__(self, parts: _InfoParts, free: np.ndarray, penalty: float,
                 pattern: _LaplacianPattern | None = None) -> None:
        self.parts = parts
        self.free = free
        self.penalty = penalty
        self.pattern = pattern or _LaplacianPattern(
            parts.first, parts.second, _Layout(parts.diag.size, False, False, None))
        self.items = self.pattern.matrix(parts.w, parts.diag + penalty)
        k = int(free.sum())
        self.shape = (k, k)

    def matvec(self, x_free: np.ndarray) -> np.ndarray:
        p = self.parts
        n = p.diag.size
        x = np.zeros(p.size)
        x[self.free] = x_free
        out = np.empty(p.size)
        out[:n] = self.items @ x[:n]
        for k, row in zip(p.border_index, p.border_rows):
            out[:n] += row[:n] * x[k]
            out[k] = row @ x
        return out[self.free]

    def diagonal(self) -> np.ndarray:
        p = self.parts
        d = np.concatenate([p.diag + self.penalty, np.zeros(p.size - p.diag.size)])
        for k, row in zip(p.border_index, p.border_rows):
            d[k] = row[k]
        return d[self.free]

    def toarray(self) -> np.ndarray:
        info = self.parts.sparse() + _ridge(self.parts.size, self.parts.diag.size,
                                            self.penalty, dense=False)
        return info[self.free][:, self.free].toarray()


def _info_parts(terms: lik.CellTerms, first: np.ndarray, second: np.ndarray,
                layout: _Layout) -> tuple[np.ndarray, _InfoParts]:
    """Gradient and information pieces of theta from per-cell derivatives in (d, tau)."""
    n, size = layout.n_items, layout.size
    grad = np.zeros(size)
    grad[:n] = np.bincount(first, terms.g_d, n) - np.bincount(second, terms.g_d, n)
    w = terms.i_dd
    diag = np.bincount(first, w, n) + np.bincount(second, w, n)
    # Border rows (order effect, tie) are dense: (k, size) with k <= 2.
    border_rows: list[np.ndarray] = []
    if layout.order_effect:
        grad[layout.order_index] = terms.g_d.sum()
        row = np.zeros(size)
        row[:n] = np.bincount(first, w, n) - np.bincount(second, w, n)
        row[layout.order_index] = w.sum()
        if layout.tie:
            row[layout.tie_index] = terms.i_dt.sum()
        border_rows.append(row)
    if layout.tie:
        grad[layout.tie_index] = terms.g_t.sum()
        row = np.zeros(size)
        row[:n] = np.bincount(first, terms.i_dt, n) - np.bincount(second, terms.i_dt, n)
        if layout.order_effect:
            row[layout.order_index] = terms.i_dt.sum()
        row[layout.tie_index] = terms.i_tt.sum()
        border_rows.append(row)
    border_index = [layout.order_index] * layout.order_effect + [layout.tie_index] * layout.tie
    return grad, _InfoParts(first, second, w, diag, border_index, border_rows, size)


def _assemble(terms: lik.CellTerms, first: np.ndarray, second: np.ndarray, layout: _Layout,
              dense: bool) -> tuple[np.ndarray, Any]:
    """Gradient and information of theta as a dense array or a sparse matrix."""
    grad, parts = _info_parts(terms, first, second, layout)
    return grad, parts.dense() if dense else parts.sparse()


def _ridge(size: int, n: int, penalty: float, dense: bool) -> Any:
    diag = np.zeros(size)
    diag[:n] = penalty
    return np.diag(diag) if dense else sparse.diags(diag, format="csr")


def _firth(objective: Any, counts: np.ndarray, first: np.ndarray, second: np.ndarray,
           layout: _Layout, free: np.ndarray, x0: np.ndarray, max_iter: int,
           dense: bool) -> NewtonResult:
    """Firth (1993) bias reduction for the binomial logit model, as brglm does.

    Maximises the Jeffreys-penalised log-likelihood ``l + log det(I) / 2``. Its
    gradient, the modified score, equals the ordinary score of pseudo-data in
    which each cell gains half its leverage to each side (``y* = y + h/2``,
    ``n* = n + h``). Steps are Fisher-scoring steps on the pseudo-data, halved
    until the penalised log-likelihood increases.
    """
    size = layout.size

    def penalised(x: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        value, _, info = objective(x, True)
        info = info if dense else info.toarray()
        try:
            chol = linalg.cholesky(info, lower=True, check_finite=False)
        except linalg.LinAlgError:
            return -np.inf, info, np.empty(0)
        logdet = 2.0 * np.log(np.diag(chol)).sum()
        return value + 0.5 * logdet, info, chol

    x = x0.copy()
    value, info, chol = penalised(x)
    converged = False
    decrement = np.inf
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        cov_free = linalg.cho_solve((chol, True), np.eye(chol.shape[0]), check_finite=False)
        cov = np.zeros((size, size))
        cov[np.ix_(free, free)] = cov_free
        lev = _leverages(x, counts, first, second, layout, cov)
        _, grad, _ = objective(x, True, counts + lev[:, None] / 2.0)
        step = cov_free @ grad
        decrement = float(grad @ step)
        if decrement < 1e-20 * (1.0 + abs(value)):
            converged = True
            break
        t = 1.0
        for _ in range(40):
            trial_value, trial_info, trial_chol = penalised(x + t * step)
            if trial_value > value:
                break
            t *= 0.5
        else:
            converged = decrement < 1e-8 * (1.0 + abs(value))
            break
        x, value, info, chol = x + t * step, trial_value, trial_info, trial_chol
    loglik, grad, info = objective(x, True)
    return NewtonResult(x, loglik, grad, info, n_iter, converged, decrement)


def _leverages(x: np.ndarray, counts: np.ndarray, first: np.ndarray,
               second: np.ndarray, layout: _Layout, cov: np.ndarray) -> np.ndarray:
    """Hat values ``w_i x_i' C x_i`` of the cells of a binomial logit fit."""
    theta = np.zeros(layout.size)
    theta[layout.free()] = x
    lin = theta[first] - theta[second]
    if layout.order_effect:
        lin = lin + theta[layout.order_index]
    p = special.expit(lin)
    w = counts.sum(axis=1) * p * (1 - p)
    quad = cov[first, first] + cov[second, second] - 2 * cov[first, second]
    if layout.order_effect:
        k = layout.order_index
        quad = quad + 2 * (cov[first, k] - cov[second, k]) + cov[k, k]
    return w * quad
