"""Standard errors for very many items without a dense inverse.

With n items the information matrix of the strengths is a weighted graph
Laplacian ``L = D - W`` (plus a ridge with a penalty). Its (pseudo-)inverse is
dense, so beyond a few thousand items prefstat approximates the variances of
the identified strengths by the Neumann expansion

``L^+ ≈ P (D^-1 + D^-1 W D^-1 + D^-1 W D^-1 W D^-1) P``,

where ``P`` is the identification map (centring, or differences from the
reference item). Only ``O(nnz(W))`` work is needed for the diagonal. The
relative error of a variance is of the order of the squared weight share of an
item's largest neighbour and of ``1 / k^2`` for an item with ``k`` comparable
neighbours; on well-mixed comparison graphs it is far below a percent (see
``tests/test_large_n.py``, which measures it against the exact inverse).

The few non-item parameters (order effect, tie) are handled exactly through
the Schur complement, with sparse conjugate-gradient solves.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from ._solvers import solve_spd


def approximate_covariance(
    info: sparse.csr_matrix, n: int, free: np.ndarray, reference: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Approximate covariance pieces under the reported identification.

    Parameters
    ----------
    info : sparse matrix (size, size)
        Full information matrix (items first, then the border parameters),
        including any ridge.
    n : int
        Number of items.
    free : bool array (size,)
        Parameters free in the solver (the pivot item, if any, is fixed).
    reference : int or None
        Reference item (identification by differences) or None (sum to zero).

    Returns
    -------
    item_var : (n,) variances of the identified strengths
    border_cov : (q, q) exact covariance of the border parameters
    cross_cov : (n, q) exact covariance of identified strengths and border
    """
    info = sparse.csr_matrix(info)
    lap = info[:n, :n].tocsr()
    d = lap.diagonal()
    w = (sparse.diags(d) - lap).tocsr()
    w.eliminate_zeros()
    w.sum_duplicates()
    inv_d = 1.0 / d
    # Terms of M = D^-1 + D^-1 W D^-1 + D^-1 W D^-1 W D^-1 that the diagonal and
    # the identification map need.
    m_diag = inv_d + (w.power(2) @ inv_d) * inv_d**2
    w_inv_d = w @ inv_d
    m_row_mean = (inv_d + w_inv_d * inv_d + (w @ (w_inv_d * inv_d)) * inv_d) / n
    m_mean = m_row_mean.mean()
    if reference is None:
        item_var = m_diag - 2 * m_row_mean + m_mean
    else:
        r = reference
        col_r = w[:, [r]].toarray().ravel() * inv_d * inv_d[r]
        col_r += (w @ (w[:, [r]].toarray().ravel() * inv_d)) * inv_d * inv_d[r]
        col_r[r] = m_diag[r]
        # Centred M entries, then var(l_i - l_r) = S_ii + S_rr - 2 S_ir.
        s_ii = m_diag - 2 * m_row_mean + m_mean
        s_ir = col_r - m_row_mean - m_row_mean[r] + m_mean
        item_var = s_ii + s_ii[r] - 2 * s_ir
        item_var[r] = 0.0
    q = info.shape[0] - n
    if q == 0:
        return item_var, np.zeros((0, 0)), np.zeros((n, 0))
    item_free = free[:n]
    border = info[:n, n:].toarray()
    lap_free = lap[item_free][:, item_free]
    u = np.zeros((n, q))
    for k in range(q):
        u[item_free, k] = solve_spd(lap_free, border[item_free, k])
    schur = info[n:, n:].toarray() - border.T @ u
    border_cov = np.linalg.inv(schur)
    u = _identify_rows(u, reference)
    cross_cov = -u @ border_cov
    item_var = item_var + np.einsum("ik,kl,il->i", u, border_cov, u)
    return item_var, border_cov, cross_cov


def _identify_rows(u: np.ndarray, reference: int | None) -> np.ndarray:
    if reference is None:
        return u - u.mean(axis=0)
    return u - u[reference]
