"""Bradley–Terry with rater random effects: position bias, reliability and taste."""

from __future__ import annotations

import sys
import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg, optimize, stats

from .._aggregate import aggregate
from .._encoding import A_WINS, OUTCOME_NAMES, TIE, TIE_BOTHBAD
from .._report import Summary
from ..data import ComparisonData
from ..exceptions import (
    ConvergenceWarning,
    DataValidationError,
    InvalidParameterError,
    MissingColumnError,
    NotIdentifiableError,
)
from ..inference import identify_items, wald_table
from . import _rater_laplace as rl
from ._fitted import FittedModelMixin
from .bradley_terry import BradleyTerry

__all__ = ["RaterBradleyTerry"]

# A variance component below this is reported as 0 (a singular fit), as lme4's
# isSingular() with its default tolerance.
_SINGULAR_TOL = 1e-4
# Up to this many free parameters, the covariance is the inverse of the finite-difference
# Hessian of the Laplace objective (lme4's default for glmer); beyond, the fixed effects
# use the conditional (RX-style) information, the variance components their Hessian columns.
_HESSIAN_LIMIT = 300
# An order effect beyond this (log-odds) is reported as diverging, as in the plain engine.
_DIVERGENCE = 25.0
# intervals="auto" profiles the sds when the problem is this small (cells x block size^2):
# each profile point is a re-fit.
_PROFILE_WORK = 50_000
# The profile's upper limit is not searched beyond this sd (logit scale): the limit is
# reported as infinite.
_PROFILE_MAX_SD = 50.0


class RaterBradleyTerry(FittedModelMixin):
    r"""Bradley–Terry with random rater effects, by Laplace-approximate marginal likelihood.

    A judgement by rater ``r`` of items ``a`` (shown first) and ``b`` prefers
    ``a`` with probability ``1 / (1 + exp(-eta))``,

    .. math::

        \eta = (1 + e_r)(s_a - s_b + u_{ra} - u_{rb}) + h + d_r,

    where ``s`` are the consensus log-strengths, ``h`` the global order effect
    (the first-shown item's advantage) and, switched on one by one,

    * ``position_bias``: ``d_r ~ N(0, sd^2)``, the rater's own extra
      first-position advantage;
    * ``reliability``: ``e_r ~ N(0, sd^2)``, so the rater's discrimination is
      ``1 + e_r``: 1 for a typical rater, 0 for one who clicks at random,
      negative for one who reverses the scale;
    * ``taste``: ``u_ri ~ N(0, sd^2)`` for every item the rater judged, the
      rater liking item ``i`` more (or less) than the consensus.

    Parameters
    ----------
    position_bias, reliability, taste : bool
        Which rater effects to include (defaults: position bias only).
    order_effect : bool, default True
        Estimate the global order effect ``h``. With ``False`` the position
        biases are centred on 0.
    ties : {None, "davidson"}, default None
        Ties model: Davidson (1970) as in :class:`prefstat.BradleyTerry`, with
        one tie parameter ``log_nu`` for all raters (``params_`` group
        ``tie``); rater effects act on the linear predictor inside it.
    tie_handling : {None, "half"}, default None
        Without a ties model: ``"half"`` counts a tie as half a win for each
        side; with neither, a tie in the data is an error.
    reference : item label, optional
        ``None``: consensus strengths sum to zero; a label fixes that item at 0.
    intervals : {"auto", "profile", "wald"}, default "auto"
        Intervals of the standard deviations: profile likelihood of the Laplace
        objective (each trial value is a re-fit; ``"auto"`` uses it up to 300
        free parameters and 50,000 cells x block size^2) or Wald on the log
        scale.
    conf_level : float, default 0.95
        Coverage of every interval.
    max_iter : int, default 1000
        L-BFGS-B iterations at most.

    Attributes
    ----------
    strengths_ : pandas.DataFrame
        Consensus log-strengths by item: ``estimate, se, z, p, ci_lower,
        ci_upper``.
    params_ : pandas.DataFrame
        Fixed parameters indexed by ``(group, name)``: groups ``item``,
        ``order_effect`` and, with ``ties="davidson"``, ``tie`` (``log_nu``).
    cov_ : pandas.DataFrame
        Covariance of ``params_['estimate']``.
    variance_components_ : pandas.DataFrame
        One row per included effect (``position_bias``, ``reliability``,
        ``taste``): ``sd, se, ci_lower, ci_upper, singular``.
    raters_ : pandas.DataFrame
        Per rater: ``n_judgements, n_items, agreement`` (share of the rater's
        judgements that agree with the consensus order of the two items; ties
        count half), then the conditional modes (BLUPs) and conditional SEs of
        the included effects: ``position_bias`` (``h + d_r``, the rater's
        total first-position advantage) with ``position_bias_se`` (of
        ``d_r``), ``reliability`` (``1 + e_r``) with ``reliability_se``, and
        ``taste_sd`` (root mean square of the rater's taste effects).
    taste_ : pandas.DataFrame or None
        With ``taste``: the modes ``u_ri`` and conditional SEs by
        ``(rater, item)``.
    loglik_ : float
        Laplace-approximate marginal log-likelihood (kernel: no binomial
        coefficients; lme4's ``logLik`` adds them).
    conditional_loglik_ : float
        Log-likelihood at the conditional modes.
    aic_, bic_ : float
        From ``loglik_`` with ``df_model_`` parameters: the fixed parameters and
        the standard deviations estimated above 0 (a component of a singular
        fit is absent from the model and not counted; lme4 counts it).
    df_model_ : int
        Free parameters of the fit.
    sd_ : pandas.Series
        The standard deviations by component (as ``variance_components_['sd']``).
    intervals_ : str
        ``"profile"`` or ``"wald"``: how the SD intervals were computed.
    warnings_ : list of str
        Recoverable problems met while fitting (also warned, and in ``summary()``).
    connectivity_ : prefstat.diagnostics.Connectivity
        The identifiability analysis of the comparison graph.
    n_obs_ : float
        Judgements (total weight).
    n_iter_ : int
        Outer iterations.
    converged_ : bool
    singular_ : bool
        Whether some standard deviation is estimated at 0 (lme4's "singular
        fit"): that effect is absent from the fit, its SE is NaN and its
        interval runs from 0.
    cov_method_ : str
        ``"hessian"`` (finite differences of the analytic gradient, lme4's
        default) or ``"conditional"`` (see Notes).

    Notes
    -----
    The marginal likelihood is approximated by Laplace's method (lme4's
    ``glmer`` with ``nAGQ = 1``): see :mod:`prefstat.models._rater_laplace` for
    the objective and its gradient. With the position bias alone the model is
    ``glmer(y ~ 0 + X + (1 | rater), binomial)`` with ``X`` the ``+1/-1`` item
    design plus an intercept column for the order effect, and the numbers
    agree with lme4's.

    Reliability is ``1 + e_r`` with ``e_r`` Gaussian, not log-normal: a rater
    who answers at random has discrimination 0 and one who reverses the labels
    a negative one, and both are reachable by the shrinkage estimate; a
    log-normal would shrink them towards 1 and hide exactly the raters one is
    looking for.

    Raters with little information are kept: a rater with a single judgement,
    or who judged one pair only, gets effects shrunk towards 0 with a
    conditional SE near the prior SD; judgements whose presentation order is
    unknown (``fit(..., order_known=column)``) carry neither ``h`` nor ``d_r``,
    so a rater with no such information has position bias 0 and conditional SE
    equal to ``sd``.

    Examples
    --------
    >>> import prefstat
    >>> df = prefstat.datasets.simulate_comparisons(n_items=8, n_comparisons=3000, n_raters=30,
    ...                                             order_effect=0.3, random_state=0).data
    >>> model = prefstat.RaterBradleyTerry(position_bias=True).fit(df, rater="rater")
    >>> model.variance_components_.columns.tolist()
    ['sd', 'se', 'ci_lower', 'ci_upper', 'singular']
    >>> bool(model.raters_["n_judgements"].sum() == 3000)
    True
    """

    def __init__(self, position_bias: bool = True, reliability: bool = False,
                 taste: bool = False, order_effect: bool = True,
                 ties: str | None = None, tie_handling: str | None = None,
                 reference: Any = None,
                 intervals: str = "auto", conf_level: float = 0.95,
                 max_iter: int = 1000) -> None:
        self.position_bias = position_bias
        self.reliability = reliability
        self.taste = taste
        self.order_effect = order_effect
        self.ties = ties
        self.tie_handling = tie_handling
        self.reference = reference
        self.intervals = intervals
        self.conf_level = conf_level
        self.max_iter = max_iter

    # ------------------------------------------------------------------ fit
    def fit(self, df: pd.DataFrame, item_a: str = "item_a", item_b: str = "item_b",
            outcome: str = "outcome", rater: str = "rater", weight: str | None = None,
            order_known: str | None = None) -> RaterBradleyTerry:
        """Fit the model to a comparison table with a rater column.

        Parameters
        ----------
        df : pandas.DataFrame
            Canonical table: ``item_a`` (shown first), ``item_b``, ``outcome``
            and ``rater``.
        item_a, item_b, outcome, rater, weight : str
            Column names (``weight`` optional).
        order_known : str, optional
            Boolean column: ``False`` marks judgements whose presentation
            order is unknown (they inform neither ``h`` nor the position bias).

        Returns
        -------
        RaterBradleyTerry
            The fitted model.
        """
        self._check_options()
        effects = (bool(self.position_bias), bool(self.reliability), bool(self.taste))
        if rater not in df.columns:
            raise MissingColumnError(
                f"RaterBradleyTerry needs a rater column; {rater!r} is not in the table "
                f"(columns: {list(df.columns)}). Pass fit(df, rater='<column>')."
            )
        data = ComparisonData.from_frame(df, item_a=item_a, item_b=item_b, outcome=outcome,
                                         rater=rater, weight=weight)
        o_row = self._order_known(df, order_known)
        if data.n_raters < 2:
            raise DataValidationError(
                f"RaterBradleyTerry needs at least two raters to estimate how raters vary; "
                f"column {rater!r} has {data.n_raters}. Fit prefstat.BradleyTerry instead."
            )
        if self.position_bias and not o_row.any():
            raise DataValidationError(
                "position_bias=True needs judgements whose presentation order is known; "
                f"every row of {order_known!r} is False. Use position_bias=False (and "
                "order_effect=False)."
            )
        self.warnings_: list[str] = []
        # identifiability and starting values: the plain fit (raises the engine's typed
        # errors for disconnected or separable data, and for ties without tie_handling)
        plain = BradleyTerry(order_effect=self.order_effect and bool(o_row.any()),
                             ties=self.ties, tie_handling=self.tie_handling,
                             reference=self.reference)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            plain.fit(df, item_a=item_a, item_b=item_b, outcome=outcome, weight=weight)
        self.connectivity_ = plain.connectivity_
        order_effect = self.order_effect and bool(o_row.any())
        self._data = data
        prob = self._problem(data, o_row, effects, order_effect)
        self._fit_problem(prob, plain, data, effects)
        return self

    def _check_options(self) -> None:
        if self.ties not in (None, "davidson"):
            raise InvalidParameterError(
                f"ties must be None or 'davidson', got {self.ties!r} (Rao-Kupper is not "
                "available with rater effects)."
            )
        if self.tie_handling not in (None, "half"):
            raise InvalidParameterError(
                f"tie_handling must be None or 'half', got {self.tie_handling!r}."
            )
        if self.ties is not None and self.tie_handling is not None:
            raise InvalidParameterError(
                "tie_handling='half' is for models without a ties model; with "
                f"ties={self.ties!r} ties are modelled, so leave tie_handling=None."
            )
        if self.intervals not in ("auto", "profile", "wald"):
            raise InvalidParameterError(
                f"intervals must be 'auto', 'profile' or 'wald', got {self.intervals!r}."
            )
        if not 0 < self.conf_level < 1:
            raise InvalidParameterError(
                f"conf_level must be strictly between 0 and 1, got {self.conf_level!r}."
            )
        if not (self.position_bias or self.reliability or self.taste):
            raise InvalidParameterError(
                "RaterBradleyTerry needs at least one rater effect (position_bias, reliability "
                "or taste); without any, use prefstat.BradleyTerry."
            )

    @staticmethod
    def _order_known(df: pd.DataFrame, column: str | None) -> np.ndarray:
        if column is None:
            return np.ones(len(df), dtype=bool)
        if column not in df.columns:
            raise MissingColumnError(f"order_known column {column!r} is not in the table.")
        values = df[column]
        if str(values.dtype) == "boolean" and values.isna().any():
            raise DataValidationError(
                f"order_known column {column!r} has {int(values.isna().sum())} missing values "
                "(first at row " + repr(values.index[values.isna().to_numpy()][0]) + "); say "
                "for each row whether the order is known, e.g. df[column].fillna(False)."
            )
        if values.dtype != bool and str(values.dtype) != "boolean":
            raise DataValidationError(
                f"order_known column {column!r} must be boolean (True where item_a was shown "
                f"first), got dtype {values.dtype}; convert it explicitly, e.g. "
                f"df[{column!r}] == 'yes'."
            )
        return values.to_numpy(dtype=bool)

    def _problem(self, data: ComparisonData, o_row: np.ndarray,
                 effects: tuple[bool, bool, bool], order_effect: bool) -> rl.RaterBlocks:
        n, R = data.n_items, data.n_raters
        # the shared counting kernel, with (rater, order known) as the group of a cell
        group = data.rater.astype(np.int64) * 2 + o_row
        a, b, grp, counts, _ = aggregate(
            data.a, data.b, data.outcome, n, len(OUTCOME_NAMES),
            weight=data.weight if data.weighted else None, group=group, n_groups=2 * R)
        r, o = np.divmod(grp, 2)
        ties = counts[:, TIE] + counts[:, TIE_BOTHBAD]
        half = 0.0 if self.ties == "davidson" else 0.5
        y = counts[:, A_WINS] + half * ties
        tot = counts.sum(axis=1)
        keep = tot > 0
        nt = ties[keep] if self.ties == "davidson" else None
        pivot = 0 if self.reference is None else int(data.items.get_loc(self.reference))
        return rl.RaterBlocks.build(a[keep], b[keep], r[keep], o[keep].astype(float), y[keep],
                                    tot[keep], n, R, pivot, effects, order_effect, nt=nt)

    def _warn(self, msg: str) -> None:
        """Record a recoverable problem (``warnings_``, ``summary()``) and warn from ``fit``."""
        self.warnings_.append(msg)
        # fit -> _fit_problem -> _store -> (_profile ->) _warn: point at the caller of fit
        depth = 2
        frame = sys._getframe(1)
        while frame is not None and frame.f_code.co_name != "fit":
            frame = frame.f_back
            depth += 1
        warnings.warn(msg, ConvergenceWarning, stacklevel=depth + 1 if frame is not None else 2)

    def _fit_problem(self, prob: rl.RaterBlocks, plain: BradleyTerry, data: ComparisonData,
                     effects: tuple[bool, bool, bool]) -> None:
        n = prob.n_items
        est = plain.params_["estimate"]
        s0 = est.loc["item"].reindex(data.items).to_numpy(dtype=float)
        s0 = s0 - s0[prob.pivot]
        free = np.ones(n, dtype=bool)
        free[prob.pivot] = False
        beta0 = s0[free]
        if prob.order_effect:
            beta0 = np.append(beta0, float(est.loc[("order_effect", "order_effect")]))
        if prob.davidson:
            beta0 = np.append(beta0, float(est.loc[("tie", "log_nu")]))
        active = np.array(effects)
        sd0 = np.where(active, [0.5, 0.3, 0.5], 0.0)
        # preconditioner: the plain model's information at the start for the fixed
        # parameters, a finite-difference curvature for each sd
        info0 = self._plain_information(prob, beta0)
        try:
            Lb = linalg.cholesky(info0, lower=True)
        except linalg.LinAlgError:
            Lb = np.diag(np.sqrt(np.maximum(np.diag(info0), 1e-8)))
        curv = self._sd_curvature(prob, beta0, sd0, active)
        L = linalg.block_diag(Lb, np.diag(np.sqrt(curv[active])))
        fit = rl.fit_laplace(prob, beta0, sd0, active, precond=L, max_iter=self.max_iter)
        _, h_fit, _ = prob.unpack(fit.beta)
        if abs(h_fit) > _DIVERGENCE:
            raise NotIdentifiableError(
                f"the order effect diverges (estimate {h_fit:.3g} on the log-odds scale): among "
                "the judgements of known order the first-shown item (nearly) always won or "
                "always lost once rater effects are allowed for, so the data have no finite "
                "estimate. Fit with order_effect=False and position_bias=False, or mark more "
                "judgements as of known order.", connectivity=self.connectivity_)
        # components at the boundary: exactly 0, refit without them (lme4's singular fit)
        fixed = active & (fit.sd < _SINGULAR_TOL)
        if fixed.any():
            keep = np.concatenate([np.ones(beta0.size, dtype=bool), ~fixed[active]])
            Lf = linalg.cholesky(L[np.ix_(keep, keep)] @ L[np.ix_(keep, keep)].T, lower=True)
            fit = rl.fit_laplace(prob, fit.beta, np.where(fixed, 0.0, fit.sd), active,
                                 fixed=fixed, precond=Lf, max_iter=self.max_iter)
        self._prob, self._fit = prob, fit
        self._store(prob, fit, data, active, fixed, info0)

    @staticmethod
    def _sd_curvature(prob: rl.RaterBlocks, beta: np.ndarray, sd: np.ndarray,
                      active: np.ndarray) -> np.ndarray:
        """Curvature of -l_LA in each sd at the start (forward difference of the gradient)."""
        _, g0 = rl.evaluate(prob, beta, sd)
        out = np.ones(3)
        p = beta.size
        for j in np.flatnonzero(active):
            step = 1e-3
            sd2 = sd.copy()
            sd2[j] += step
            _, g1 = rl.evaluate(prob, beta, sd2)
            out[j] = max(-(g1[p + j] - g0[p + j]) / step, 1.0)
        return out

    @staticmethod
    def _plain_information(prob: rl.RaterBlocks, beta: np.ndarray) -> np.ndarray:
        st, _ = rl.evaluate(prob, beta, np.zeros(3), gradient=False)
        return rl.conditional_information(prob, beta, st)

    # ------------------------------------------------------------- inference
    def _covariance(self, prob: rl.RaterBlocks, fit: rl.LaplaceFit, free_sd: np.ndarray,
                    info0: np.ndarray) -> tuple[np.ndarray, str, np.ndarray]:
        p = fit.beta.size
        k = p + int(free_sd.sum())
        scale = np.concatenate([1.0 / np.sqrt(np.maximum(np.diag(info0), 1e-12)),
                                np.maximum(fit.sd[free_sd], 0.05)])
        if k <= _HESSIAN_LIMIT:
            H = rl.hessian(prob, fit.beta, fit.sd, free_sd, fit.state.v, scale)
            method = "hessian"
        else:
            H = np.empty((k, k))
            H[:p, :p] = rl.conditional_information(prob, fit.beta, fit.state)
            if k > p:
                cols = rl.hessian(prob, fit.beta, fit.sd, free_sd, fit.state.v, scale,
                                  which=np.arange(p, k))
                H[:, p:] = cols
                H[p:, :p] = cols[:p].T
            method = "conditional"
        H = 0.5 * (H + H.T)
        try:
            factor = linalg.cho_factor(H)
        except linalg.LinAlgError as err:
            raise NotIdentifiableError(
                "the information matrix of the Laplace fit is not positive definite at the "
                "estimate, so some parameter is not identified by these judgements (e.g. an "
                "order effect informed by a handful of judgements of known order, or a variance "
                "component the data cannot inform). Remove that effect or add judgements.",
                connectivity=self.connectivity_,
            ) from err
        return linalg.cho_solve(factor, np.eye(k)), method, H

    def _profile(self, comp: int, fit: rl.LaplaceFit, active: np.ndarray, free_sd: np.ndarray,
                 H: np.ndarray, crit: float) -> tuple[float, float]:
        """Profile-likelihood interval of one sd: other parameters re-maximised at each value.

        Each re-maximisation starts from the quadratic prediction of the full Hessian
        ``H`` and is preconditioned by its other-parameter block, so it takes few steps.
        """
        prob = self._prob
        top = fit.state.value
        p = fit.beta.size
        x_hat = np.concatenate([fit.beta, fit.sd[free_sd]])
        if free_sd[comp]:
            j = p + int(np.flatnonzero(np.flatnonzero(free_sd) == comp)[0])
            o = np.setdiff1d(np.arange(H.shape[0]), [j])
            Hoo = H[np.ix_(o, o)]
            slope = linalg.solve(Hoo, H[o, j], assume_a="pos")
            scale = 1.0 / np.sqrt(max(H[j, j], 1e-12))
        else:  # at the boundary: the others were fitted with this sd at 0
            o = np.arange(H.shape[0])
            Hoo = H
            slope = np.zeros(o.size)
            scale = 0.5
        Lo = linalg.cholesky(Hoo, lower=True)
        fixed = (fit.fixed_sd.copy() if fit.fixed_sd is not None else np.zeros(3, dtype=bool))
        fixed[comp] = True
        est = fit.sd[comp]
        free_sd = free_sd.copy()
        free_sd[comp] = False

        seen = {"rise": 0.0, "at": est, "unconverged": False}

        def drop(t: float) -> float:
            x = x_hat[o] - slope * (t - est)
            sd = fit.sd.copy()
            sd[comp] = t
            sd[free_sd] = x[p:]
            pf = rl.fit_laplace(prob, x[:p], sd, active, fixed=fixed, precond=Lo,
                                max_iter=self.max_iter)
            seen["unconverged"] = seen["unconverged"] or not pf.converged
            dev = 2.0 * (top - pf.state.value)
            if dev < seen["rise"]:
                seen["rise"], seen["at"] = dev, t
            return dev - crit

        lower = 0.0
        if est > 0 and drop(0.0) > 0:
            lower = optimize.brentq(drop, 0.0, est, xtol=1e-5 * est)
        # search upwards (doubling the distance from the estimate, the last trial exactly
        # at the cap) for a value the data rule out; brentq then works in the last step
        lo_b, hi = est, est + 2.0 * max(scale, 0.05)
        upper = np.inf
        while True:
            hi = min(hi, _PROFILE_MAX_SD)
            if drop(hi) > 0:
                upper = np.nan  # bracketed in (lo_b, hi)
                break
            if hi >= _PROFILE_MAX_SD:
                break
            lo_b, hi = hi, est + 2.0 * (hi - est)
        if seen["rise"] < -1e-6 and fit.converged:
            self._warn(
                f"the profile of the {rl.COMPONENTS[comp]} sd rises above the fitted maximum "
                f"(by {-seen['rise'] / 2:.3g} in log-likelihood at sd = {seen['at']:.3g}): the "
                "Laplace approximation has another, higher mode, so the estimate is a local "
                "maximum and its interval is not reliable. This happens with very few "
                "judgements per rater; fit with a simpler set of effects or more data.")
        if seen["unconverged"]:
            self._warn(
                f"a re-fit of the {rl.COMPONENTS[comp]} sd profile did not meet its gradient "
                "tolerance; the profile interval may be inaccurate (raise max_iter, or use "
                "intervals='wald').")
        if np.isinf(upper):
            return lower, np.inf
        if lo_b == 0.0 and drop(0.0) > 0:  # cannot happen at a maximum; guard brentq
            lo_b = 1e-8
        return lower, optimize.brentq(drop, lo_b, hi, xtol=1e-5 * hi)

    def _store(self, prob: rl.RaterBlocks, fit: rl.LaplaceFit, data: ComparisonData,
               active: np.ndarray, fixed: np.ndarray, info0: np.ndarray) -> None:
        n, p = prob.n_items, fit.beta.size
        free_sd = active & ~fixed
        cov, method, H = self._covariance(prob, fit, free_sd, info0)
        self.cov_method_ = method
        # fixed parameters with the pivot back in, then the chosen identification
        s, h, tau = prob.unpack(fit.beta)
        extra = [h] * prob.order_effect + [tau] * prob.davidson
        theta = np.append(s, extra)
        free = np.ones(n, dtype=bool)
        free[prob.pivot] = False
        idx = np.flatnonzero(np.append(free, np.ones(len(extra), dtype=bool)))
        full = np.zeros((theta.size, theta.size))
        full[np.ix_(idx, idx)] = cov[:p, :p]
        ref = None if self.reference is None else prob.pivot
        theta, full = identify_items(theta, full, n, ref)
        diag = np.diag(full)
        # rounding can leave an exact zero (the reference) a hair below it
        tiny = 1e-12 * max(float(np.max(np.abs(diag), initial=0.0)), 1.0)
        se = np.sqrt(np.where(diag >= -tiny, np.maximum(diag, 0.0), np.nan))
        names = [("item", it) for it in data.items]
        if prob.order_effect:
            names.append(("order_effect", "order_effect"))
        if prob.davidson:
            names.append(("tie", "log_nu"))
        index = pd.MultiIndex.from_tuples(names, names=["group", "name"])
        self.params_ = wald_table(theta, se, index, self.conf_level)
        self.cov_ = pd.DataFrame(full, index=index, columns=index)
        self.strengths_ = self.params_.loc["item"].copy()
        self.strengths_.index.name = "item"
        # variance components
        crit = float(stats.chi2.ppf(self.conf_level, 1))
        use_profile = (self.intervals == "profile"
                       or (self.intervals == "auto" and cov.shape[0] <= _HESSIAN_LIMIT
                           and prob.work <= _PROFILE_WORK))
        z = float(stats.norm.ppf(0.5 + self.conf_level / 2))
        rows = []
        sd_pos = {c: p + i for i, c in enumerate(np.flatnonzero(free_sd))}
        for comp in np.flatnonzero(active):
            sd = float(fit.sd[comp])
            if comp in sd_pos:
                se_sd = float(np.sqrt(max(cov[sd_pos[comp], sd_pos[comp]], 0.0)))
            else:
                se_sd = float("nan")
            if use_profile:
                lo, hi = self._profile(comp, fit, active, free_sd, H, crit)
            elif sd > 0:
                lo, hi = sd * np.exp(-z * se_sd / sd), sd * np.exp(z * se_sd / sd)
            else:
                lo, hi = 0.0, float("nan")
            rows.append((rl.COMPONENTS[comp], sd, se_sd, lo, hi, bool(fixed[comp])))
        self.variance_components_ = pd.DataFrame(
            [r[1:] for r in rows], index=pd.Index([r[0] for r in rows], name="component"),
            columns=["sd", "se", "ci_lower", "ci_upper", "singular"])
        self.singular_ = bool(fixed.any())
        self.intervals_ = "profile" if use_profile else "wald"
        self._store_raters(prob, fit, data, h)
        st = fit.state
        self.loglik_ = float(st.value)
        self.conditional_loglik_ = float(st.loglik)
        self.n_obs_ = float(sum(part.n.sum() for part in prob.parts))
        self.df_model_ = int(p + free_sd.sum())
        self.aic_ = -2 * self.loglik_ + 2 * self.df_model_
        self.bic_ = -2 * self.loglik_ + np.log(self.n_obs_) * self.df_model_
        self.n_iter_ = fit.n_iter
        self.converged_ = fit.converged
        if not fit.converged:
            self._warn("the Laplace fit did not meet its gradient tolerance; estimates may be "
                       "inaccurate (raise max_iter).")
        self.sd_ = pd.Series({rl.COMPONENTS[c]: float(fit.sd[c]) for c in np.flatnonzero(active)})

    def _store_raters(self, prob: rl.RaterBlocks, fit: rl.LaplaceFit, data: ComparisonData,
                      h: float) -> None:
        R = prob.n_raters
        s, _, _ = prob.unpack(fit.beta)
        cells = prob.cells()
        # modes and conditional variances per rater and slot; a component at sd = 0 is
        # absent from the fit: its modes are 0 by construction and a conditional SE of 0
        # would read as "measured exactly", so it is NaN
        slots = prob.per_rater(fit.state, fit.sd)
        bval, cond_var = slots["b"], slots["var"]
        a, b, r, y, n = cells["a"], cells["b"], cells["r"], cells["y"], cells["n"]
        if "nt" in cells:  # Davidson: y counts "a" only; a tie agrees half with either side
            y = y + cells["nt"] / 2
        diff = s[a] - s[b]
        agree = np.where(diff > 0, y, np.where(diff < 0, n - y, n / 2))
        n_r = np.bincount(r, weights=n, minlength=R)
        pairs = np.unique(np.concatenate([r * prob.n_items + a, r * prob.n_items + b]))
        out: dict[str, np.ndarray] = {
            "n_judgements": n_r,
            "n_items": np.bincount(pairs // prob.n_items, minlength=R),
            "agreement": np.where(n_r > 0, np.bincount(r, weights=agree, minlength=R)
                                  / np.where(n_r > 0, n_r, 1.0), np.nan),
        }
        k = 0
        if self.position_bias:
            out["position_bias"] = h + bval[:, k]
            out["position_bias_se"] = np.sqrt(cond_var[:, k])
            k += 1
        if self.reliability:
            out["reliability"] = 1.0 + bval[:, k]
            out["reliability_se"] = np.sqrt(cond_var[:, k])
            k += 1
        self.taste_ = None
        if self.taste:
            tmask = slots["type"] == 2
            u = np.where(tmask, bval, 0.0)
            cnt = tmask.sum(1)
            out["taste_sd"] = np.where(cnt > 0, np.sqrt((u * u).sum(1) / np.maximum(cnt, 1)),
                                       np.nan)
            rr, cc = np.nonzero(tmask)
            self.taste_ = pd.DataFrame(
                {"estimate": bval[rr, cc], "se": np.sqrt(cond_var[rr, cc])},
                index=pd.MultiIndex.from_arrays(
                    [data.raters[rr], data.items[slots["item"][rr, cc]]],
                    names=["rater", "item"]))
        self.raters_ = pd.DataFrame(out, index=pd.Index(data.raters, name="rater"))

    # ------------------------------------------------------------- reporting
    def predict_proba(self, a: Any, b: Any, rater: Any = None) -> pd.DataFrame:
        """Probability that ``a`` (shown first) is preferred to ``b``.

        Parameters
        ----------
        a, b : item label or sequence of labels
        rater : rater label, optional
            With a rater, the prediction uses that rater's conditional modes;
            without, the consensus (every rater effect at 0).

        Returns
        -------
        pandas.DataFrame
            Columns ``a, b`` (and ``tie`` with ``ties="davidson"``), as
            :meth:`prefstat.BradleyTerry.predict_proba`; rows sum to 1.
        """
        self._check_fitted()
        a_l = np.atleast_1d(np.asarray(a, dtype=object))
        b_l = np.atleast_1d(np.asarray(b, dtype=object))
        if a_l.size != b_l.size:
            raise InvalidParameterError(
                f"predict_proba needs as many items in a as in b; got {a_l.size} and {b_l.size}."
            )
        items = self._data.items
        for lab in np.concatenate([a_l, b_l]):
            if lab not in items:
                raise InvalidParameterError(f"unknown item {lab!r}; known: {list(items[:10])}...")
        est = self.params_["estimate"]
        s = est.loc["item"].reindex(items).to_numpy()
        groups = est.index.get_level_values(0)
        h = float(est.loc[("order_effect", "order_effect")]) if "order_effect" in groups else 0.0
        ia, ib = items.get_indexer(a_l), items.get_indexer(b_l)
        d = s[ia] - s[ib]
        lam, bias = 1.0, 0.0
        if rater is not None:
            if rater not in self.raters_.index:
                raise InvalidParameterError(f"unknown rater {rater!r}.")
            row = self.raters_.loc[rater]
            if self.position_bias:
                bias = float(row["position_bias"]) - h
            if self.reliability:
                lam = float(row["reliability"])
            if self.taste_ is not None and rater in self.taste_.index.get_level_values(0):
                t = self.taste_.loc[rater, "estimate"]
                d = (d + t.reindex(a_l).fillna(0.0).to_numpy()
                     - t.reindex(b_l).fillna(0.0).to_numpy())
        eta = lam * d + h + bias
        if "tie" in groups:  # Davidson: x = eta / 2, weights e^x, e^-x, nu
            nu = float(np.exp(est.loc[("tie", "log_nu")]))
            wa, wb = np.exp(eta / 2), np.exp(-eta / 2)
            den = wa + wb + nu
            return pd.DataFrame({"a": wa / den, "b": wb / den, "tie": nu / den})
        p = 1.0 / (1.0 + np.exp(-eta))
        return pd.DataFrame({"a": p, "b": 1.0 - p})

    def summary(self) -> Summary:
        """Fit report: model, fit statistics, variance components and estimates.

        Returns
        -------
        Summary
        """
        self._check_fitted()
        effects = [n for n, on in zip(rl.COMPONENTS, (self.position_bias, self.reliability,
                                                      self.taste)) if on]
        facts: dict[str, object] = {
            "model": "Bradley–Terry with rater random effects (" + ", ".join(effects) + ")",
            "method": "Laplace approximation (lme4 glmer nAGQ=1)",
            "identification": ("log-strengths sum to zero" if self.reference is None
                               else f"log-strength of {self.reference!r} fixed at 0"),
            "items": len(self.strengths_),
            "raters": len(self.raters_),
            "judgements": self.n_obs_,
            "marginal log-likelihood": self.loglik_,
            "AIC": self.aic_,
            "iterations": self.n_iter_,
            "converged": self.converged_,
        }
        notes = [f"Standard errors: {self.cov_method_} information; variance-component "
                 f"intervals by {self.intervals_} likelihood.", *self.warnings_]
        if self.singular_:
            zero = self.variance_components_.index[self.variance_components_["singular"]]
            notes.append("Singular fit: " + ", ".join(zero) + " estimated at sd = 0 (the data "
                         "show no variation between raters in it); its SE is undefined.")
        tables = {"Variance components": self.variance_components_,
                  "Fixed parameters": self.params_}
        return Summary("RaterBradleyTerry fit", facts, tables, notes)
