"""Random item effects: ``lambda_i = x_i beta + u_i`` with ``u_i ~ N(0, sigma^2)``.

Both methods work on the engine's joint problem in ``(phi, u)``, where
``phi`` are the fixed parameters (feature and contest coefficients, free
strengths of items without features, order effect) and ``u`` the random
effects, with the ridge ``1 / sigma^2`` on ``u``. For a given ``sigma`` its
maximiser is the joint mode (the penalised quasi-likelihood estimate).

PQL (``method="pql"``)
    Breslow & Clayton (1993) as BradleyTerry2's ``glmmPQL``: given
    ``sigma``, ``(phi, u)`` is the joint mode; ``sigma`` solves the REML
    score equation of the working linear mixed model at that mode,
    ``-tr(H) / 2 + v'v / 2 = 0`` with ``S = Z'WZ - Z'WX (X'WX)^-1 X'WZ``,
    ``H = (I + sigma^2 S)^-1 S`` and ``v = (I + sigma^2 S)^-1 Z'S y`` for the
    working response ``y``. That is the fixed point of glmmPQL's iterations,
    found here by a root search in ``log sigma^2`` over glmmPQL's range
    ``[-10, 10]``. Standard errors: ``(X'V^-1 X)^-1`` for ``phi`` (the
    ``phi`` block of the inverse penalised information) and
    ``sigma / (2 sqrt(I))`` with ``I = tr(H^2) sigma^4 / 2`` for ``sigma``,
    as glmmPQL reports them.
Laplace (``method="laplace"``)
    Maximises the Laplace approximation of the marginal likelihood,
    ``l(phi, u^) - |u^|^2 / (2 sigma^2) - log det(I_uu + I / sigma^2) / 2 -
    n_u log sigma``, over ``phi`` and ``log sigma`` (``u^`` the conditional
    mode) and ``I_uu`` the observed information there. The gradient is
    analytic (its log-determinant part uses the derivative of the observed
    information of each cell); the maximum is found by L-BFGS-B in
    ``(phi, log sigma)`` (each evaluation solves for the conditional mode),
    then polished by Newton steps on the finite-difference Hessian. The
    covariance of ``(phi, log sigma)`` is the inverse of the negative
    Hessian of the approximate marginal likelihood (central differences of
    the analytic gradient).

The boundary ``sigma = 0``. The approximate marginal likelihood at
``sigma -> 0`` is the fixed-effects likelihood, whose derivative in
``sigma^2`` there is ``(|Z'g|^2 - tr Z'WZ) / 2`` at the fixed-effects fit.
When the estimate is at the boundary (that derivative is not positive for
Laplace; the REML score is not positive at ``sigma^2 = e^-10`` for PQL, as
glmmPQL decides) the fit is the fixed-effects maximum likelihood fit, as
BTm returns it, with ``sigma = 0`` and no standard error for ``sigma``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import linalg, optimize, special

from .. import _likelihood as lik
from .._solvers import NewtonResult
from ..exceptions import ConvergenceError
from ._paired import _info_parts, _transpose

# glmmPQL's search range for log(sigma^2).
_PQL_RANGE = (-10.0, 10.0)
# Laplace: search range for log(sigma).
_LAPLACE_RANGE = (np.log(1e-3), np.log(1e3))
_ROOT_XTOL = 1e-12
# Relative Newton decrement at which the polishing of the Laplace optimum stops (the
# approximate marginal likelihood is resolved to about 1e-14 relative), and the most
# polishing steps taken.
_PHI_TOL = 1e-14
_POLISH_STEPS = 5
# Central-difference step for the Hessian, in units of each parameter's SE.
_HESSIAN_STEP = 1e-3


@dataclass
class RandomEffectFit:
    """What a random-effects fit hands to the model's report."""

    method: str
    sigma: float
    sigma_se: float
    boundary: bool
    result: NewtonResult  # the joint (penalised) fit at the estimate
    problem: Any  # the problem of ``result`` (joint, or fixed effects at the boundary)
    fixed_cov: np.ndarray | None  # Laplace: covariance of (phi, log sigma)
    marginal_loglik: float | None
    n_outer: int


def observed_information(kernel: lik.Kernel, counts: np.ndarray, d: np.ndarray
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Per cell: minus the second derivative of the log-likelihood in ``d``, and its slope.

    For the logit it equals the expected information ``n p (1 - p)``; for the
    probit, with the inverse Mills ratios ``r_a = phi / Phi(d)`` and
    ``r_b = phi / Phi(-d)``, it is ``y (d r_a + r_a^2) + (n - y) (r_b^2 - d r_b)``.
    """
    y, n = counts[:, 0], counts.sum(axis=1)
    if kernel.name == "logit":
        p = special.expit(d)
        h = n * p * (1 - p)
        return h, h * (1 - 2 * p)
    if kernel.name == "probit":
        logphi = -0.5 * d * d - 0.5 * np.log(2 * np.pi)
        ra = np.exp(logphi - special.log_ndtr(d))
        rb = np.exp(logphi - special.log_ndtr(-d))
        h = y * (d * ra + ra**2) + (n - y) * (rb**2 - d * rb)
        slope = (y * (ra * (1 - d * d) - 3 * d * ra**2 - 2 * ra**3)
                 + (n - y) * (rb * (d * d - 1) - 3 * d * rb**2 + 2 * rb**3))
        return h, slope
    raise ValueError(f"no observed information for kernel {kernel.name!r}")


class Joint:
    """The joint problem in (phi, u) with the ridge 1 / sigma^2 on u."""

    def __init__(self, problem: Any, counts: np.ndarray, u_theta: np.ndarray,
                 max_iter: int, tol: float) -> None:
        self.problem = problem
        self.counts = counts
        self.u_theta = u_theta  # theta positions of the random effects
        free = problem.free
        self.z = np.isin(np.flatnonzero(free), u_theta)  # u among the free parameters
        self.max_iter, self.tol = max_iter, tol

    def set_sigma2(self, sigma2: float) -> None:
        self.problem.ridge[self.u_theta] = 1.0 / sigma2

    def mode(self, sigma2: float, x0: np.ndarray) -> NewtonResult:
        self.set_sigma2(sigma2)
        return self.problem.solve(self.counts, x0, False, self.max_iter, self.tol)

    def unpenalised(self, result: NewtonResult) -> tuple[np.ndarray, np.ndarray]:
        """Information and score of the log-likelihood alone at ``result``."""
        ridge = self.problem.ridge[self.problem.free]
        info = result.info.copy()
        info[np.diag_indices_from(info)] -= ridge
        return info, result.grad + ridge * result.x


# ---------------------------------------------------------------------------- PQL
def _reml_score(joint: Joint, result: NewtonResult, sigma2: float) -> tuple[float, float]:
    """glmmPQL's REML score and information in log(sigma^2) at a joint mode."""
    info, score = joint.unpenalised(result)
    working = info @ result.x + score  # D'W y for the working response y = d + g / w
    z = joint.z
    f = ~z
    izz, ifz = info[np.ix_(z, z)], info[np.ix_(f, z)]
    if f.any():
        factor = linalg.cho_factor(info[np.ix_(f, f)], check_finite=False)
        solved = linalg.cho_solve(factor, np.column_stack([ifz, working[f]]),
                                  check_finite=False)
        zsz = izz - ifz.T @ solved[:, :-1]
        zsy = working[z] - ifz.T @ solved[:, -1]
    else:
        zsz, zsy = izz, working[z]
    g = np.eye(zsz.shape[0]) + sigma2 * zsz
    factor = linalg.cho_factor(g, check_finite=False)
    h = linalg.cho_solve(factor, zsz, check_finite=False)
    v = linalg.cho_solve(factor, zsy, check_finite=False)
    value = (-0.5 * np.trace(h) + 0.5 * v @ v) * sigma2
    return float(value), float(0.5 * np.sum(h * h) * sigma2**2)


def fit_pql(joint: Joint, fixed_effects: Any, x0: np.ndarray) -> RandomEffectFit:
    """Breslow–Clayton PQL as BradleyTerry2's glmmPQL (see the module notes)."""
    state = {"x": x0, "n": 0}

    def score(t: float) -> float:
        result = joint.mode(np.exp(t), state["x"])
        state["x"], state["n"] = result.x, state["n"] + 1
        return _reml_score(joint, result, np.exp(t))[0]

    lo, hi = _PQL_RANGE
    if score(lo) <= 0:
        return _boundary("pql", fixed_effects, joint, state["n"])
    t = lo
    while True:
        t_next = min(t + 2.0, hi)
        if score(t_next) < 0:
            break
        if t_next >= hi:
            raise ConvergenceError(
                "PQL: the random-effect variance grows without bound (log sigma^2 beyond "
                f"{hi:g}); the item effects are not identified by these comparisons."
            )
        t = t_next
    root = optimize.brentq(score, t, t_next, xtol=_ROOT_XTOL, rtol=4 * np.finfo(float).eps)
    sigma2 = float(np.exp(root))
    result = joint.mode(sigma2, state["x"])
    _, info = _reml_score(joint, result, sigma2)
    sigma = np.sqrt(sigma2)
    return RandomEffectFit("pql", float(sigma), float(np.sqrt(sigma2 / (4 * info))), False,
                           result, joint.problem, None, None, state["n"] + 1)


def _boundary(method: str, fixed_effects: Any, joint: Joint, n_outer: int
              ) -> RandomEffectFit:
    """sigma = 0: the fit reduces to the fixed-effects maximum likelihood fit."""
    problem, counts = fixed_effects
    result = problem.solve(counts, problem.start(counts), False, joint.max_iter, joint.tol)
    loglik = result.value if method == "laplace" else None
    return RandomEffectFit(method, 0.0, float("nan"), True, result, problem, None, loglik,
                           n_outer)


# ------------------------------------------------------------------------ Laplace
class _Laplace:
    """The Laplace-approximate marginal log-likelihood and its gradient."""

    def __init__(self, joint: Joint, inner: Any) -> None:
        self.joint = joint
        self.inner = inner  # the problem in u alone, phi held in inner.base
        problem = joint.problem
        free = np.flatnonzero(problem.free)
        self.phi_theta = free[~joint.z]
        self.u_theta = free[joint.z]
        n = problem.layout.n_items
        self.pos_u = np.full(n, -1, dtype=np.intp)
        self.pos_u[self.u_theta] = np.arange(self.u_theta.size)
        self.u = np.zeros(self.u_theta.size)

    def evaluate(self, phi: np.ndarray, s: float) -> dict[str, Any]:
        joint, problem, inner = self.joint, self.joint.problem, self.inner
        sigma2 = float(np.exp(2 * s))
        inner.base[self.phi_theta] = phi
        inner.ridge[self.u_theta] = problem.ridge[self.u_theta] = 1.0 / sigma2
        fit_u = inner.solve(joint.counts, self.u, False, joint.max_iter, joint.tol)
        self.u = fit_u.x
        theta = inner.full(fit_u.x)
        x = theta[problem.free]
        value, grad, _ = problem.objective(x, True, joint.counts)
        # The observed information (the Hessian of the Laplace approximation and of
        # the implicit derivative of the mode), with the ridge 1 / sigma^2 on u.
        lin = problem.linear(theta)
        h, slope = observed_information(problem.kernel, joint.counts, lin)
        _, parts = _info_parts(lik.CellTerms(0.0, np.zeros(lin.size), h), problem.first,
                               problem.second, problem.layout, problem.design)
        info = parts.restricted(problem.free)
        info[np.diag_indices_from(info)] += problem.ridge[problem.free]
        z = joint.z
        m = info[np.ix_(z, z)]
        chol = linalg.cholesky(m, lower=True, check_finite=False)
        pm = linalg.cho_solve((chol, True), np.eye(m.shape[0]), check_finite=False)
        logdet = 2.0 * np.log(np.diag(chol)).sum()
        u = x[z]
        n_u = u.size
        marginal = value - 0.5 * logdet - n_u * s
        # Log-determinant part of the gradient: a_c = h'_c z_c' P z_c.
        i, j = self.pos_u[problem.first], self.pos_u[problem.second]
        q = np.zeros(lin.size)
        has_i, has_j = i >= 0, j >= 0
        q[has_i] += pm[i[has_i], i[has_i]]
        q[has_j] += pm[j[has_j], j[has_j]]
        both = has_i & has_j
        q[both] -= 2 * pm[i[both], j[both]]
        da = _transpose(slope * q, problem.first, problem.second, problem.layout,
                        problem.design)[problem.free]
        i_fz = info[np.ix_(~z, z)]
        grad_phi = grad[~z] - 0.5 * (da[~z] - i_fz @ (pm @ da[z]))
        grad_s = (u @ u / sigma2 - n_u + np.trace(pm) / sigma2
                  - da[z] @ (pm @ u) / sigma2)
        schur = info[np.ix_(~z, ~z)] - i_fz @ pm @ i_fz.T
        return {"value": marginal, "grad_phi": grad_phi, "grad_s": float(grad_s),
                "schur": schur, "x": x, "info": info, "grad": grad}


def fit_laplace(joint: Joint, inner: Any, fixed_effects: Any, x0: np.ndarray
                ) -> RandomEffectFit:
    """Maximise the Laplace-approximate marginal likelihood (see the module notes)."""
    problem = joint.problem
    fe_problem, counts = fixed_effects
    fe = fe_problem.solve(counts, fe_problem.start(counts), False, joint.max_iter, joint.tol)
    lap = _Laplace(joint, inner)
    # Derivative in sigma^2 at 0, at the fixed-effects fit: (|Z'g|^2 - tr Z'HZ) / 2.
    theta0 = fe_problem.full(fe.x)
    tau0 = theta0[problem.layout.tie_index] if problem.layout.tie else 0.0
    lin0 = problem.linear(theta0)
    terms = lik.evaluate(problem.kernel, counts, lin0, tau0)
    zg = _transpose(terms.g_d, problem.first, problem.second, problem.layout,
                    problem.design)[lap.u_theta]
    h0, _ = observed_information(problem.kernel, counts, lin0)
    n = problem.layout.n_items
    trace = (np.bincount(problem.first, h0, n) + np.bincount(problem.second, h0, n))
    if float(zg @ zg - trace[lap.u_theta].sum()) <= 0:
        return _boundary("laplace", fixed_effects, joint, 0)
    k = lap.phi_theta.size
    evaluations = {"n": 0}

    def negative(v: np.ndarray) -> tuple[float, np.ndarray]:
        at = lap.evaluate(v[:k], float(v[k]))
        evaluations["n"] += 1
        return -at["value"], -np.concatenate([at["grad_phi"], [at["grad_s"]]])

    start = np.concatenate([theta0[lap.phi_theta], [0.0]])
    bounds = [(None, None)] * k + [_LAPLACE_RANGE]
    found = optimize.minimize(negative, start, jac=True, method="L-BFGS-B", bounds=bounds,
                              options={"maxiter": 50 * joint.max_iter, "ftol": 1e-15,
                                       "gtol": 1e-9})
    point = found.x
    if point[k] <= _LAPLACE_RANGE[0] + 1e-6:
        return _boundary("laplace", fixed_effects, joint, evaluations["n"])
    if point[k] >= _LAPLACE_RANGE[1] - 1e-6:
        raise ConvergenceError(
            "Laplace: the random-effect SD grows without bound (beyond "
            f"{np.exp(_LAPLACE_RANGE[1]):g}); the item effects are not identified by these "
            "comparisons. Fit without item_random_effect, or with method 'pql'."
        )
    # Polish with Newton steps on the finite-difference Hessian (needed for the SEs anyway).
    for _ in range(_POLISH_STEPS):
        at = lap.evaluate(point[:k], float(point[k]))
        grad = np.concatenate([at["grad_phi"], [at["grad_s"]]])
        hessian = _hessian(lap, point, at)
        step = -np.linalg.solve(hessian, grad)
        if float(-grad @ step) <= _PHI_TOL * (1 + abs(at["value"])):
            break
        point = point + step
    at = lap.evaluate(point[:k], float(point[k]))
    cov = np.linalg.inv(-_hessian(lap, point, at))
    sigma = float(np.exp(point[k]))
    result = NewtonResult(at["x"], at["value"], at["grad"], at["info"],
                          evaluations["n"], bool(found.success), 0.0)
    return RandomEffectFit("laplace", sigma, sigma * float(np.sqrt(cov[-1, -1])), False,
                           result, problem, cov, float(at["value"]), evaluations["n"])


def _hessian(lap: _Laplace, point: np.ndarray, at: dict) -> np.ndarray:
    """Hessian in (phi, log sigma), by central differences of the analytic gradient."""
    k = point.size - 1
    scale = np.sqrt(np.clip(np.diag(np.linalg.pinv(at["schur"])), 1e-12, None))
    steps = _HESSIAN_STEP * np.concatenate([scale, [1.0]])
    hessian = np.empty((k + 1, k + 1))
    u_hat = lap.u.copy()
    for j in range(k + 1):
        grads = []
        for sign in (1.0, -1.0):
            trial = point.copy()
            trial[j] += sign * steps[j]
            lap.u = u_hat.copy()
            ev = lap.evaluate(trial[:k], float(trial[k]))
            grads.append(np.concatenate([ev["grad_phi"], [ev["grad_s"]]]))
        hessian[:, j] = (grads[0] - grads[1]) / (2 * steps[j])
    lap.u = u_hat
    return 0.5 * (hessian + hessian.T)
