"""Newton / Fisher-scoring maximisation with step halving.

The objective returns its value, gradient and a positive (semi)definite
information matrix (dense ``ndarray`` or ``scipy.sparse``). Convergence is
judged on our own objective: the Newton decrement ``g' I^{-1} g`` (twice the
predicted gain), not on parameter changes alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import linalg, sparse
from scipy.linalg import lapack
from scipy.sparse import linalg as splinalg

# Relative Newton decrement below which the objective cannot resolve the gain.
_FLOOR = 1e-13

Objective = Callable[[np.ndarray, bool], tuple[float, np.ndarray | None, Any]]


@dataclass
class NewtonResult:
    x: np.ndarray
    value: float
    grad: np.ndarray
    info: Any
    n_iter: int
    converged: bool
    decrement: float


def solve_spd(info: Any, rhs: np.ndarray, cg_tol: float = 1e-10) -> np.ndarray:
    """Solve ``info @ x = rhs`` for a symmetric positive definite ``info``."""
    if sparse.issparse(info) or hasattr(info, "matvec"):
        # Conjugate gradients with a Jacobi preconditioner; ``info`` may be a sparse
        # matrix or any object with ``matvec``, ``diagonal()`` and ``shape``.
        diag = info.diagonal()
        operator = info if sparse.issparse(info) else splinalg.LinearOperator(
            info.shape, matvec=info.matvec)
        precond = splinalg.LinearOperator(info.shape, matvec=lambda v: v / diag)
        x, _ = splinalg.cg(operator, rhs, rtol=cg_tol, atol=0.0, M=precond,
                           maxiter=10 * info.shape[0])
        return x
    try:
        factor = linalg.cho_factor(info, lower=True, check_finite=False)
        return linalg.cho_solve(factor, rhs, check_finite=False)
    except linalg.LinAlgError:
        return linalg.lstsq(info, rhs, check_finite=False)[0]


def spd_inverse(info: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric positive definite matrix through its Cholesky factor."""
    chol, failed = lapack.dpotrf(info, lower=True)
    if failed:
        return linalg.pinvh(info)
    inv, failed = lapack.dpotri(chol, lower=True)
    if failed:
        return linalg.pinvh(info)
    return np.tril(inv) + np.tril(inv, -1).T


def newton(fun: Objective, x0: np.ndarray, max_iter: int = 100, tol: float = 1e-20,
           max_halvings: int = 40) -> NewtonResult:
    """Maximise ``fun`` by Fisher scoring / Newton steps with step halving.

    Stops when the Newton decrement ``g' I^{-1} g`` falls below ``tol`` (scaled
    by ``1 + |value|`` so that it is a relative criterion), or when a step can
    no longer improve the objective in floating point.
    """
    x = np.asarray(x0, dtype=np.float64).copy()
    value, grad, info = fun(x, True)
    decrement = np.inf
    for it in range(1, max_iter + 1):
        step = solve_spd(info, grad)
        decrement = float(grad @ step)
        if decrement <= tol * (1.0 + abs(value)):
            return NewtonResult(x, value, grad, info, it - 1, True, decrement)
        if decrement <= _FLOOR * (1.0 + abs(value)):
            # The predicted gain is below what the objective can resolve in floating
            # point; a full Newton step is then the most accurate move there is.
            x = x + step
            value, grad, info = fun(x, True)
            return NewtonResult(x, value, grad, info, it, True, decrement)
        t = 1.0
        for _ in range(max_halvings):
            trial = x + t * step
            # Derivatives at the trial point too: an accepted step (the usual case)
            # then costs one evaluation, not two.
            trial_value, trial_grad, trial_info = fun(trial, True)
            if np.isfinite(trial_value) and trial_value > value:
                break
            t *= 0.5
        else:
            # No step improves the objective: we are at the floating-point optimum.
            return NewtonResult(x, value, grad, info, it, decrement < 1e-8 * (1 + abs(value)),
                                decrement)
        x, value, grad, info = trial, trial_value, trial_grad, trial_info
    step = solve_spd(info, grad)
    decrement = float(grad @ step)
    return NewtonResult(x, value, grad, info, max_iter,
                        decrement <= tol * (1.0 + abs(value)), decrement)
