"""Likelihood kernel of the Plackett–Luce model with Davidson–Luce ties, on stage arrays.

Parametrisation. ``theta = (lambda_1..lambda_n, log delta_k for each tie order
k present)``: log-worths ``lambda = log alpha`` and log tie prevalences. A
choice stage picks a set ``S`` from the remaining set ``A`` with probability

    f(S) / sum_{k in K, k <= |A|} sum_{T subset A, |T| = k} f(T),
    f(S) = delta_|S| * (prod_{i in S} alpha_i)^(1 / |S|),   delta_1 = 1,

where ``K`` is 1 and the tie orders present (Turner et al. 2020). The inner sum
over subsets of size ``k`` is the elementary symmetric polynomial ``e_k`` of
``alpha_i^(1/k)`` over ``A``; it is computed exactly by the recursion
``e_j(t) = e_j(t+1) + x_t e_{j-1}(t+1)`` over the suffix sets of a row (all
terms positive), at cost ``O(L k)`` per ranking instead of ``C(L, k)``.

Each stage is a conditional logit over the sets ``S`` with linear predictor
``x_S . theta``, ``x_S = (1_S / |S|, indicator of |S|)``. So the log-likelihood
is concave, its Hessian does not depend on which set was chosen (observed
information = expected information), and it is the sum over stages of the
covariance of ``x_S`` under the stage's choice probabilities.

Quantities are computed after subtracting each row's largest log-worth, so
``x <= 1``; the subtractive identities used for "all sets containing ``u``"
then carry absolute errors of order ``eps * C(L, k)`` relative to the stage's
normalising constant (negligible for tie orders up to about 6 on sets of up
to 50 items).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from ._rankings import Block

# With ties, a block is processed in row chunks whose (rows, L, L) arrays hold at
# most this many cells (about 16 MB each), so memory stays flat in the data size.
_CHUNK_CELLS = 2**21
# Smallest normalising constant used in a logarithm (a stage whose items all lie
# 700 log-units below the row's best has diverged anyway; keep it finite).
_TINY = np.finfo(np.float64).tiny


@dataclass
class _Cached:
    """Per-block arrays that depend on the data only."""

    block: Block
    ws: np.ndarray  # (r, L) weight at stage positions, 0 elsewhere
    pair_u: np.ndarray  # position pairs: u < v (no ties), or every u != v (ties)
    pair_v: np.ndarray
    pair_index: Any = None  # their item codes (flat dense indices, or (rows, cols) for
    # sparse), built at the first information evaluation


class LuceKernel:
    """Log-likelihood, score and information of ranking blocks.

    Parameters
    ----------
    blocks : list of Block
        The stage arrays (item codes below ``n_lam``).
    n_lam : int
        Number of log-worth parameters (items, plus a ghost item with
        pseudo-comparisons).
    tie_orders : tuple of int
        Tie orders with a ``log delta`` parameter, in the order of theta.
    dense : bool
        Return a dense information matrix (else ``scipy.sparse`` CSR).
    """

    def __init__(self, blocks: list[Block], n_lam: int, tie_orders: tuple[int, ...],
                 dense: bool) -> None:
        self.n_lam = n_lam
        self.tie_orders = tuple(tie_orders)
        self.orders = (1, *self.tie_orders)
        self.size = n_lam + len(self.tie_orders)
        self.dense = dense
        self.chosen = np.zeros(n_lam)
        self.order_count = np.zeros(len(self.orders))
        self._cache = []
        if self.tie_orders:
            blocks = [part for b in blocks for part in _chunks(b)]
        for block in blocks:
            length = block.items.shape[1]
            ws = block.weight[:, None] * (block.size > 0)
            # without ties every chosen group is the single item at its stage
            cover = _covering_size(block.size) if self.tie_orders else block.size
            on = cover > 0
            share = np.broadcast_to(block.weight[:, None], cover.shape)[on] / cover[on]
            self.chosen += np.bincount(block.items[on], share, n_lam)
            for j, k in enumerate(self.orders):
                self.order_count[j] += float(ws[block.size == k].sum())
            if self.tie_orders:
                pu, pv = np.nonzero(~np.eye(length, dtype=bool))
            else:
                pu, pv = np.triu_indices(length, 1)
            self._cache.append(_Cached(block, ws, pu, pv))

    # ---------------------------------------------------------------- public
    def evaluate(self, theta: np.ndarray, level: int = 2) -> tuple[float, Any, Any]:
        """Log-likelihood (level 0), its gradient (1) and information (2) at ``theta``.

        Returns ``(loglik, grad, info)``. The gradient is ``observed -
        expected`` sufficient statistics (:meth:`observed`), which is what an
        MM / iterative-scaling step needs.
        """
        lam = theta[:self.n_lam]
        log_delta = np.concatenate([[0.0], theta[self.n_lam:]])
        value = float(self.chosen @ lam + self.order_count[1:] @ log_delta[1:])
        expected = np.zeros(self.size)
        acc = _Info(self.size, self.n_lam, self.dense) if level >= 2 else None
        # Far from the optimum (a trial Newton step) a stage's normalising constant
        # can underflow; the derivatives there come out non-finite and the caller
        # rejects the point.
        with np.errstate(divide="ignore", over="ignore", under="ignore", invalid="ignore"):
            for c in self._cache:
                if self.tie_orders:
                    value -= self._block_ties(c, lam, log_delta, level, expected, acc)
                else:
                    value -= self._block_fast(c, lam, level, expected, acc)
        if level == 0:
            return value, None, None
        grad = self.observed() - expected
        return value, grad, (acc.matrix() if acc is not None else None)

    def _pairs(self, c: _Cached) -> Any:
        """Item codes of the position pairs of a block (cached)."""
        if c.pair_index is None:
            ci, cj = c.block.items[:, c.pair_u], c.block.items[:, c.pair_v]
            c.pair_index = ((ci * self.n_lam + cj).ravel() if self.dense
                            else (ci.ravel(), cj.ravel()))
        return c.pair_index

    def observed(self) -> np.ndarray:
        """Observed sufficient statistics (item choice shares, tie counts) in theta's order."""
        return np.concatenate([self.chosen, self.order_count[1:]])

    # ------------------------------------------------------------- no ties
    def _block_fast(self, c: _Cached, lam: np.ndarray, level: int, expected: np.ndarray,
                    acc: _Info | None) -> float:
        items, ws = c.block.items, c.ws
        eta = lam[items]
        top = eta.max(axis=1, keepdims=True)
        a = np.exp(eta - top)
        z = np.cumsum(a[:, ::-1], axis=1)[:, ::-1]
        log_z = np.log(np.maximum(z, _TINY)) + top
        denominator = float((ws * log_z).sum())
        if level == 0:
            return denominator
        inv = ws / z
        c1 = np.cumsum(inv, axis=1)
        p1 = a * c1
        expected[:self.n_lam] += np.bincount(items.ravel(), p1.ravel(), self.n_lam)
        if acc is None:
            return denominator
        c2 = np.cumsum(inv / z, axis=1)
        ac2 = a * c2
        acc.add_diagonal(items, p1 - a * ac2)
        off = ac2[:, c.pair_u] * a[:, c.pair_v]
        acc.add_pairs(self._pairs(c), -off, symmetric=True)
        return denominator

    # ---------------------------------------------------------------- ties
    def _block_ties(self, c: _Cached, lam: np.ndarray, log_delta: np.ndarray, level: int,
                    expected: np.ndarray, acc: _Info | None) -> float:
        items, ws = c.block.items, c.ws
        r, length = items.shape
        delta = np.exp(log_delta)
        eta = lam[items]
        top = eta.max(axis=1, keepdims=True)
        xs, esps = [], []
        z = np.zeros((r, length))
        for j, k in enumerate(self.orders):
            x = np.exp((eta - top) / k)
            e = suffix_esp(x, k)
            xs.append(x)
            esps.append(e)
            z += delta[j] * e[k][:, :length]
        log_z = np.log(np.maximum(z, _TINY)) + top
        denominator = float((ws * log_z).sum())
        if level == 0:
            return denominator
        zsafe = np.maximum(z, _TINY)
        upper = np.triu(np.ones((length, length), dtype=bool))  # [t, u]: u >= t
        mu = np.zeros((r, length, length))
        m_parts, p_parts = [], []
        for j, k in enumerate(self.orders):
            x, e = xs[j], esps[j]
            loo = _leave_one_out(x, e, k - 1, length)  # e_{k-1}(A_t \ u), (r, t, u)
            m = (delta[j] / k) * x[:, None, :] * loo / zsafe[:, :, None]
            m = np.where(upper, m, 0.0)
            m_parts.append(m)
            p_parts.append(delta[j] * e[k][:, :length] / zsafe)
            mu += m
        n = self.n_lam
        expected[:n] += np.bincount(items.ravel(), np.einsum("rt,rtu->ru", ws, mu).ravel(), n)
        for j in range(1, len(self.orders)):
            expected[n + j - 1] += float((ws * p_parts[j]).sum())
        if acc is None:
            return denominator

        # item x item: E[x_u x_v] - E[x_u] E[x_v], summed over stages
        mumu = np.matmul((ws[:, :, None] * mu).transpose(0, 2, 1), mu)
        second = sum(np.einsum("rt,rtu->ru", ws, m) / k for m, k in zip(m_parts, self.orders))
        acc.add_diagonal(items, second - np.einsum("ruu->ru", mumu))
        lower = np.minimum.outer(np.arange(length), np.arange(length))
        pair = np.zeros((r, length, length))
        for j, k in enumerate(self.orders):
            if k < 2:
                continue
            x, e = xs[j], esps[j]
            for cc in range(k - 1):
                q = np.cumsum(ws * (delta[j] / k ** 2) * e[cc][:, :length] / zsafe, axis=1)
                qmin = q[:, lower]
                for aa in range(k - 1 - cc):
                    bb = k - 2 - cc - aa
                    sign = -1.0 if (aa + bb) % 2 else 1.0
                    pair += sign * qmin * (x[:, :, None] ** (aa + 1)) * (x[:, None, :] ** (bb + 1))
        off = pair - mumu
        acc.add_pairs(self._pairs(c), off[:, c.pair_u, c.pair_v], symmetric=False)
        # item x tie and tie x tie
        for j in range(1, len(self.orders)):
            col = n + j - 1
            cross = np.einsum("rt,rtu->ru", ws, m_parts[j]) - \
                np.einsum("rt,rtu,rt->ru", ws, mu, p_parts[j])
            acc.add_border(col, items, cross)
            for jj in range(1, len(self.orders)):
                cov = -float((ws * p_parts[j] * p_parts[jj]).sum())
                if jj == j:
                    cov += float((ws * p_parts[j]).sum())
                acc.add_tie(col, n + jj - 1, cov)
        return denominator


def suffix_esp(x: np.ndarray, k: int) -> np.ndarray:
    """Elementary symmetric polynomials ``e_0..e_k`` of every row suffix.

    ``out[j][:, t]`` is ``e_j(x[:, t:])``; column ``L`` is the empty suffix.
    """
    r, length = x.shape
    out = np.zeros((k + 1, r, length + 1))
    out[0] = 1.0
    for t in range(length - 1, -1, -1):
        out[1:, :, t] = out[1:, :, t + 1] + x[:, t] * out[:-1, :, t + 1]
    return out


def _leave_one_out(x: np.ndarray, e: np.ndarray, j: int, length: int) -> np.ndarray:
    """``e_j(A_t minus u)`` for every stage ``t`` and member ``u >= t``, shape (r, t, u).

    Synthetic division: ``e_i(A - u) = e_i(A) - x_u e_{i-1}(A - u)``.
    """
    f = np.ones((x.shape[0], length, length))
    for i in range(1, j + 1):
        f = e[i][:, :length, None] - x[:, None, :] * f
    return f


def _chunks(block: Block) -> list[Block]:
    """A block split by rows so that its (rows, L, L) arrays stay small."""
    r, length = block.items.shape
    step = max(1, _CHUNK_CELLS // (length * length))
    return [Block(block.items[i:i + step], block.size[i:i + step], block.weight[i:i + step])
            for i in range(0, r, step)]


def _covering_size(size: np.ndarray) -> np.ndarray:
    """Size of the chosen group covering each position (0 outside chosen groups)."""
    positions = np.arange(size.shape[1])
    last_stage = np.maximum.accumulate(np.where(size > 0, positions, -1), axis=1)
    g = np.take_along_axis(size, np.maximum(last_stage, 0), axis=1)
    return np.where((last_stage >= 0) & (positions < last_stage + g), g, 0)


class _Info:
    """Accumulates the information matrix (dense bincount or sparse triplets)."""

    def __init__(self, size: int, n_lam: int, dense: bool) -> None:
        self.size = size
        self.n_lam = n_lam
        self.dense = dense
        self.diag = np.zeros(size)
        self.border = np.zeros((size - n_lam, size))
        # dense: entries added as given, and entries added with their transpose
        self.flat = np.zeros(n_lam * n_lam) if dense else None
        self.flat_sym = np.zeros(n_lam * n_lam) if dense else None
        self.parts: list[sparse.csr_matrix] = []

    def add_diagonal(self, items: np.ndarray, values: np.ndarray) -> None:
        self.diag[:self.n_lam] += np.bincount(items.ravel(), values.ravel(), self.n_lam)

    def add_pairs(self, index: Any, values: np.ndarray, symmetric: bool) -> None:
        """Off-diagonal entries at item-code pairs; ``symmetric`` adds the transpose too."""
        n = self.n_lam
        if self.dense:
            target = self.flat_sym if symmetric else self.flat
            target += np.bincount(index, values.ravel(), n * n)
            return
        m = sparse.csr_matrix((values.ravel(), index), shape=(n, n))
        self.parts.append(m + m.T if symmetric else m)

    def add_border(self, row: int, items: np.ndarray, values: np.ndarray) -> None:
        self.border[row - self.n_lam, :self.n_lam] += np.bincount(
            items.ravel(), values.ravel(), self.n_lam)

    def add_tie(self, row: int, col: int, value: float) -> None:
        self.border[row - self.n_lam, col] += value

    def matrix(self) -> Any:
        n, size = self.n_lam, self.size
        if self.dense:
            info = np.zeros((size, size))
            sym = self.flat_sym.reshape(n, n)
            info[:n, :n] = self.flat.reshape(n, n) + sym + sym.T
            info[np.arange(n), np.arange(n)] += self.diag[:n]
            info[n:, :] = self.border
            info[:n, n:] = self.border[:, :n].T
            return info
        block = sum(self.parts) if self.parts else sparse.csr_matrix((n, n))
        block = block + sparse.diags(self.diag[:n])
        if size == n:
            return block.tocsr()
        border = sparse.csr_matrix(self.border)
        return sparse.bmat([[block, border[:, :n].T], [border[:, :n], border[:, n:]]],
                           format="csr")
