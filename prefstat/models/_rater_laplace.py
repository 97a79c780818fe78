"""Laplace approximation for Bradley–Terry with rater random effects.

The linear predictor of a judgement by rater ``r`` of items ``a`` (shown
first) and ``b`` is

    eta = (1 + e_r) (s_a - s_b + u_ra - u_rb) + o (h + d_r),

with consensus log-strengths ``s``, global order effect ``h`` (``o = 1`` when
the order of presentation is known, else 0), and per-rater random effects:
position bias ``d_r ~ N(0, sd_d^2)``, reliability ``e_r ~ N(0, sd_e^2)``
(so the rater's discrimination is ``1 + e_r``) and taste ``u_ri ~ N(0, sd_u^2)``
for every item the rater judged. ``P(a preferred) = 1 / (1 + exp(-eta))``.

Random effects are written ``b_r = Lambda v_r`` with ``v_r ~ N(0, I)`` and
``Lambda`` the diagonal of standard deviations (lme4's spherical form), so
that everything stays smooth at ``sd = 0``. The raters' effects are
independent given the fixed parameters, so the conditional modes and the
Laplace determinant split into one small block per rater (size 1 or 2, plus
the number of items the rater judged with ``taste``).

The approximate marginal log-likelihood (lme4's ``nAGQ = 1``) is

    l_LA(beta, sd) = sum_k l_k(beta, Lambda v^) - |v^|^2 / 2
                     - sum_r log det(Lambda J_r Lambda + I) / 2,

``v^`` the conditional mode and ``J_r`` the observed information of rater
``r``'s effects there. It is maximised over ``beta = (s, h)`` and ``sd``
jointly, with an analytic gradient (the determinant's part differentiates
``J_r`` through the mode, which needs third derivatives of the cell
log-likelihood; ``eta`` is at most bilinear, so its own third derivatives
vanish).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import linalg, optimize

from ..exceptions import ConvergenceError

# Names of the variance components, in the order of the sd vector.
COMPONENTS = ("position_bias", "reliability", "taste")
_INNER_TOL = 1e-20
_INNER_MAX = 200
# conditional_information builds K (raters x slots x fixed parameters) densely up to this
# many entries, sparse beyond
_DENSE_K_LIMIT = 2e7


@dataclass
class RaterProblem:
    """Cells (one per rater, ordered pair and order status) and the effect layout."""

    a: np.ndarray
    b: np.ndarray
    r: np.ndarray
    o: np.ndarray  # 1.0 when the presentation order is known, else 0.0
    y: np.ndarray  # weight of "a preferred" (ties count half with tie_handling="half")
    n: np.ndarray  # total weight of the cell
    n_items: int
    n_raters: int
    pivot: int  # internal item fixed at 0 (identification is applied afterwards)
    effects: tuple[bool, bool, bool]  # position_bias, reliability, taste
    order_effect: bool
    nt: np.ndarray | None = None  # Davidson: weight of ties (y is then "a" only)
    # layout, filled by __post_init__
    q: int = 0
    slot_type: np.ndarray = field(default=None, repr=False)  # (R, q) 0 d, 1 e, 2 u, -1 pad
    slot_item: np.ndarray = field(default=None, repr=False)  # (R, q) item of a taste slot
    local: np.ndarray = field(default=None, repr=False)  # (m, l) slot of each local effect
    kinds: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        pb, rel, taste = self.effects
        kinds: list[str] = []
        fixed = 0
        if pb:
            kinds.append("d")
            fixed += 1
        if rel:
            kinds.append("e")
            fixed += 1
        R, m = self.n_raters, self.a.size
        cols: list[np.ndarray] = [np.full(m, k) for k in range(fixed)]
        if taste:
            # one taste slot per (rater, item) judged, numbered within the rater
            key = np.concatenate([self.r * self.n_items + self.a, self.r * self.n_items + self.b])
            uniq, inv = np.unique(key, return_inverse=True)
            ur = uniq // self.n_items
            start = np.searchsorted(ur, np.arange(R))
            rank = np.arange(uniq.size) - start[ur]
            width = int(np.bincount(ur, minlength=R).max()) if uniq.size else 0
            slot = fixed + rank
            cols += [slot[inv[:m]], slot[inv[m:]]]
            kinds += ["ua", "ub"]
            self.q = fixed + width
            self.slot_item = np.full((R, self.q), -1)
            self.slot_item[ur, slot] = uniq % self.n_items
        else:
            self.q = fixed
            self.slot_item = np.full((R, self.q), -1)
        self.slot_type = np.full((R, self.q), -1)
        k = 0
        if pb:
            self.slot_type[:, k] = 0
            k += 1
        if rel:
            self.slot_type[:, k] = 1
            k += 1
        if taste:
            self.slot_type[:, k:] = np.where(self.slot_item[:, k:] >= 0, 2, -1)
        self.local = (np.column_stack(cols) if cols else np.zeros((m, 0), dtype=np.intp)).astype(
            np.intp)
        self.kinds = tuple(kinds)

    @property
    def davidson(self) -> bool:
        return self.nt is not None

    @property
    def n_fixed(self) -> int:
        """Free fixed parameters: items but the pivot, the order effect, the tie parameter."""
        return self.n_items - 1 + int(self.order_effect) + int(self.davidson)

    def unpack(self, beta: np.ndarray) -> tuple[np.ndarray, float, float]:
        """Strengths (pivot at 0), order effect and Davidson's log nu from ``beta``."""
        s = np.zeros(self.n_items)
        free = np.ones(self.n_items, dtype=bool)
        free[self.pivot] = False
        s[free] = beta[: self.n_items - 1]
        k = self.n_items - 1
        h = float(beta[k]) if self.order_effect else 0.0
        tau = float(beta[k + int(self.order_effect)]) if self.davidson else 0.0
        return s, h, tau

    def lambdas(self, sd: np.ndarray) -> np.ndarray:
        """(R, q) standard deviation of each slot (0 for padding)."""
        full = np.append(sd, 0.0)  # index -1 -> padding
        return full[self.slot_type]


@dataclass
class LaplaceState:
    """Everything at one (beta, sd): the conditional modes and what the gradient needs."""

    value: float
    loglik: float  # conditional log-likelihood at the modes
    v: np.ndarray  # (R, q) modes in spherical coordinates
    lam: np.ndarray  # (R, q)
    minv: np.ndarray  # (R, q, q) inverse of Lambda J Lambda + I
    cells: dict


def _cell_terms(prob: RaterProblem, s: np.ndarray, h: float, lam: np.ndarray,
                v: np.ndarray, tau: float = 0.0) -> dict:
    """Per-cell linear predictor, its local derivatives and the log-likelihood terms."""
    bval = lam * v
    kinds = prob.kinds
    loc = prob.local
    r = prob.r
    m = r.size
    d = bval[r, loc[:, kinds.index("d")]] if "d" in kinds else 0.0
    e = bval[r, loc[:, kinds.index("e")]] if "e" in kinds else 0.0
    if "ua" in kinds:
        ua = bval[r, loc[:, kinds.index("ua")]]
        ub = bval[r, loc[:, kinds.index("ub")]]
    else:
        ua = ub = 0.0
    lam_r = 1.0 + e
    delta = s[prob.a] - s[prob.b] + ua - ub
    eta = lam_r * delta + prob.o * (h + d)
    out: dict = {}
    if prob.davidson:
        f1, f2, f3, ll = _davidson_terms(prob, eta, tau, out)
    else:
        # one exponential for both p = expit(eta) and log(1 + e^eta) (np.logaddexp is
        # ~5x slower than this on 10^6 cells)
        ea = np.exp(-np.abs(eta))
        inv = 1.0 / (1.0 + ea)
        p = np.where(eta >= 0, inv, ea * inv)
        pq = ea * inv * inv
        f1 = prob.y - prob.n * p
        f2 = -prob.n * pq
        f3 = f2 * (1.0 - 2.0 * p)
        ll = prob.y * eta - prob.n * (np.maximum(eta, 0.0) + np.log1p(ea))
    g = np.empty((m, len(kinds)))
    lam_r = np.broadcast_to(lam_r, (m,))
    for i, kind in enumerate(kinds):
        if kind == "d":
            g[:, i] = prob.o
        elif kind == "e":
            g[:, i] = delta
        elif kind == "ua":
            g[:, i] = lam_r
        else:
            g[:, i] = -lam_r
    out.update({"f1": f1, "f2": f2, "f3": f3, "ll": ll, "g": g, "lam_r": lam_r})
    return out


def _davidson_terms(prob: RaterProblem, eta: np.ndarray, tau: float, out: dict) -> tuple:
    """Davidson (1970) cell log-likelihood and its derivatives in eta and tau = log nu.

    With x = eta / 2: P(a) = e^x / D, P(b) = e^-x / D, P(tie) = e^tau / D,
    D = e^x + e^-x + e^tau (the engine's ``davidson`` kernel). ``m1 = P(a) - P(b)`` and
    ``m2 = P(a) + P(b) - m1^2`` are the first two derivatives of log D in x.
    """
    na, nt, N = prob.y, prob.nt, prob.n
    nb = N - na - nt
    x = 0.5 * eta
    top = np.maximum(np.abs(x), tau)
    ea, eb, et = np.exp(x - top), np.exp(-x - top), np.exp(tau - top)
    den = ea + eb + et
    pa, pb, pt = ea / den, eb / den, et / den
    m1 = pa - pb
    m2 = pa + pb - m1 * m1
    f1 = 0.5 * (na - nb - N * m1)
    f2 = -0.25 * N * m2
    f3 = -0.125 * N * m1 * (pt - 2.0 * m2)
    ll = na * x - nb * x + nt * tau - N * (top + np.log(den))
    out["l_t"] = nt - N * pt  # d l / d tau
    out["f1_t"] = 0.5 * N * m1 * pt  # d f1 / d tau = d2 l / d eta d tau
    out["f2_t"] = 0.25 * N * pt * (pa + pb - 2.0 * m1 * m1)  # d f2 / d tau
    out["i_tt"] = N * pt * (1.0 - pt)  # - d2 l / d tau2
    return f1, f2, f3, ll


def _bilinear_pairs(prob: RaterProblem) -> list[tuple[int, int, float]]:
    """Nonzero entries (i, j, value) of the local Hessian of eta in b (e x taste)."""
    kinds = prob.kinds
    if "e" in kinds and "ua" in kinds:
        ie, ia, ib = kinds.index("e"), kinds.index("ua"), kinds.index("ub")
        return [(ie, ia, 1.0), (ia, ie, 1.0), (ie, ib, -1.0), (ib, ie, -1.0)]
    return []


def _scatter_vec(prob: RaterProblem, w: np.ndarray) -> np.ndarray:
    """Sum per-cell local vectors (m, l) into (R, q)."""
    R, q = prob.n_raters, prob.q
    if not prob.effects[2]:  # local slot i is slot i of every rater
        return np.column_stack([np.bincount(prob.r, weights=w[:, i], minlength=R)
                                for i in range(q)]) if q else np.zeros((R, 0))
    flat = (prob.r[:, None] * q + prob.local).ravel()
    return np.bincount(flat, weights=w.ravel(), minlength=R * q).reshape(R, q)


def _scatter_mat(prob: RaterProblem, w: np.ndarray) -> np.ndarray:
    """Sum per-cell local matrices (m, l, l) into (R, q, q) (taste layout: slots per cell)."""
    R, q = prob.n_raters, prob.q
    loc = prob.local
    flat = (prob.r[:, None, None] * q * q + loc[:, :, None] * q + loc[:, None, :]).ravel()
    return np.bincount(flat, weights=w.ravel(), minlength=R * q * q).reshape(R, q, q)


def _gather_mat(prob: RaterProblem, mat: np.ndarray) -> np.ndarray:
    """Local (m, l, l) sub-blocks of per-rater matrices (R, q, q)."""
    if not prob.effects[2]:
        return mat[prob.r]
    loc = prob.local
    return mat[prob.r[:, None, None], loc[:, :, None], loc[:, None, :]]


def _gather_vec(prob: RaterProblem, vec: np.ndarray) -> np.ndarray:
    """Local (m, l) entries of per-rater vectors (R, q)."""
    if not prob.effects[2]:
        return vec[prob.r]
    return vec[prob.r[:, None], prob.local]


def _info(prob: RaterProblem, c: dict, fisher: bool = False) -> np.ndarray:
    """Observed (or expected) information J of the random effects, per rater, b-coordinates."""
    g = c["g"]
    if not prob.effects[2]:  # no bilinear terms without taste: J = sum -f2 g g'
        R, q = prob.n_raters, prob.q
        out = np.empty((R, q, q))
        nf2 = -c["f2"]
        for i in range(q):
            for j in range(i, q):
                out[:, i, j] = out[:, j, i] = np.bincount(prob.r, weights=nf2 * g[:, i] * g[:, j],
                                                          minlength=R)
        return out
    w = -c["f2"][:, None, None] * g[:, :, None] * g[:, None, :]
    if not fisher:
        for i, j, val in _bilinear_pairs(prob):
            w[:, i, j] -= c["f1"] * val
    return _scatter_mat(prob, w)


def _rater_objective(prob: RaterProblem, c: dict, v: np.ndarray) -> np.ndarray:
    return np.bincount(prob.r, weights=c["ll"], minlength=prob.n_raters) - 0.5 * (v * v).sum(1)


def conditional_modes(prob: RaterProblem, s: np.ndarray, h: float, sd: np.ndarray,
                      v0: np.ndarray | None = None, tau: float = 0.0) -> tuple:
    """Newton iterations for the modes of every rater's effects (vectorised over raters)."""
    R, q = prob.n_raters, prob.q
    lam = prob.lambdas(sd)
    v = np.zeros((R, q)) if v0 is None else v0.copy()
    eye = np.eye(q)
    c = _cell_terms(prob, s, h, lam, v, tau)
    for _ in range(_INNER_MAX):
        if q == 0:
            return v, c, lam, None, None
        grad = lam * _scatter_vec(prob, c["f1"][:, None] * c["g"]) - v
        J = _info(prob, c)
        M = lam[:, :, None] * J * lam[:, None, :] + eye
        try:
            step = np.linalg.solve(M, grad[..., None])[..., 0]
            bad = np.einsum("ri,ri->r", step, grad) <= 0
        except np.linalg.LinAlgError:
            bad = np.ones(R, dtype=bool)
            step = np.zeros_like(v)
        if bad.any():  # not an ascent direction: Fisher scoring for those raters
            JF = _info(prob, c, fisher=True)
            MF = lam[:, :, None] * JF * lam[:, None, :] + eye
            step[bad] = np.linalg.solve(MF[bad], grad[bad][..., None])[..., 0]
        dec = np.einsum("ri,ri->r", step, grad)
        # the decrement is quadratic in the error of the modes: 1e-20 leaves them
        # correct to ~1e-10 (what the finite-difference Hessian of the Laplace objective
        # needs); a step below rounding size also ends the iterations
        if dec.max() < _INNER_TOL or np.abs(step).max() < 1e-13 * (1.0 + np.abs(v).max()):
            return v, c, lam, J, M
        obj = _rater_objective(prob, c, v)
        t = np.ones(R)
        for _ in range(40):
            vn = v + t[:, None] * step
            cn = _cell_terms(prob, s, h, lam, vn, tau)
            worse = _rater_objective(prob, cn, vn) < obj - 1e-12 * np.abs(obj)
            if not worse.any():
                break
            t[worse] *= 0.5
        v, c = vn, cn
    raise ConvergenceError(
        f"the conditional modes of the rater effects did not converge in {_INNER_MAX} "
        "Newton iterations; check for raters whose judgements are all one-sided with a huge "
        "variance component, or fix that component with a smaller starting value."
    )


def evaluate(prob: RaterProblem, beta: np.ndarray, sd: np.ndarray,
             v0: np.ndarray | None = None, gradient: bool = True
             ) -> tuple[LaplaceState, np.ndarray | None]:
    """Laplace value and its gradient in (beta, sd)."""
    if isinstance(prob, RaterBlocks):
        return evaluate_blocks(prob, beta, sd, v0, gradient)
    s, h, tau = prob.unpack(beta)
    v, c, lam, J, M = conditional_modes(prob, s, h, sd, v0, tau)
    R, q = prob.n_raters, prob.q
    loglik = float(c["ll"].sum())
    if q:
        sign, logdet = np.linalg.slogdet(M)
        if np.any(sign <= 0):
            raise ConvergenceError("the Laplace determinant is not positive at the modes.")
        minv = np.linalg.inv(M)
    else:
        J = np.zeros((R, 0, 0))
        logdet = np.zeros(R)
        minv = np.zeros((R, 0, 0))
    value = loglik - 0.5 * float((v * v).sum()) - 0.5 * float(logdet.sum())
    state = LaplaceState(value, loglik, v, lam, minv, c)
    if not gradient:
        return state, None
    # fixed-effect part of the gradient: d eta / d(s_a, s_b, h) = (lam_r, -lam_r, o)
    f1, f2, f3, g = c["f1"], c["f2"], c["f3"], c["g"]
    lam_r = c["lam_r"]
    kinds = prob.kinds
    ie = kinds.index("e") if "e" in kinds else None
    A = lam[:, :, None] * minv * lam[:, None, :]  # (J + Lambda^-2)^-1, b-coordinates
    n_items = prob.n_items
    if q:
        Aloc = _gather_mat(prob, A)
        Ag = (Aloc @ g[:, :, None])[:, :, 0]
        alpha = np.einsum("ki,ki->k", g, Ag)
        gamma = np.zeros_like(alpha)
        GAg = np.zeros_like(g)  # G[:, i]' A g for each local i
        for i, j, val in _bilinear_pairs(prob):
            gamma += val * Aloc[:, i, j]
            GAg[:, j] += val * Ag[:, i]
        common = f3 * alpha + f2 * gamma
        # d log det / d b (fixed Lambda), per rater and slot
        dld = _scatter_vec(prob, -(common[:, None] * g + 2.0 * f2[:, None] * GAg))
        w = (A @ dld[:, :, None])[:, :, 0]
        wloc = _gather_vec(prob, w)
        wg = np.einsum("ki,ki->k", wloc, g)
        Age = Ag[:, ie] if ie is not None else 0.0
        we = wloc[:, ie] if ie is not None else 0.0
        # d log det / d s_a (and minus for s_b): direct + through the modes
        ld_sa = -(common * lam_r + 2.0 * f2 * Age) + f2 * wg * lam_r + f1 * we
        ld_sb = -(common * -lam_r - 2.0 * f2 * Age) + f2 * wg * -lam_r - f1 * we
        ld_h = -(common * prob.o) + f2 * wg * prob.o
    else:
        ld_sa = ld_sb = ld_h = 0.0
        dld = np.zeros((R, 0))
    gs = (np.bincount(prob.a, weights=f1 * lam_r - 0.5 * ld_sa, minlength=n_items)
          + np.bincount(prob.b, weights=-f1 * lam_r - 0.5 * ld_sb, minlength=n_items))
    free = np.ones(n_items, dtype=bool)
    free[prob.pivot] = False
    parts = [gs[free]]
    if prob.order_effect:
        parts.append(np.array([float(np.sum(f1 * prob.o - 0.5 * ld_h))]))
    if prob.davidson:
        # d l / d tau, and the log det through the weights (direct) and the modes
        ld_t = (-(c["f2_t"] * alpha + c["f1_t"] * gamma) + c["f1_t"] * wg) if q else 0.0
        parts.append(np.array([float(np.sum(c["l_t"] - 0.5 * ld_t))]))
    # variance components
    gsd = np.zeros(3)
    if q:
        gradb = _scatter_vec(prob, f1[:, None] * g)
        MinvLJ = minv @ (lam[:, :, None] * J)
        diag_mlj = np.einsum("rii->ri", MinvLJ)
        for comp in range(3):
            E = (prob.slot_type == comp).astype(float)
            if not E.any():
                continue
            env = float((E * gradb * v).sum())
            ld1 = 2.0 * float((diag_mlj * E).sum())
            rhs = E * gradb - lam * (J @ (E * v)[:, :, None])[:, :, 0]
            db = E * v + lam * (minv @ rhs[:, :, None])[:, :, 0]
            ld2 = float((dld * db).sum())
            gsd[comp] = env - 0.5 * (ld1 + ld2)
    return state, np.concatenate([*parts, gsd])


@dataclass
class LaplaceFit:
    beta: np.ndarray
    sd: np.ndarray
    state: LaplaceState
    n_iter: int
    converged: bool
    fixed_sd: np.ndarray | None = None  # components held at their value (at 0: singular)


def fit_laplace(prob: RaterProblem, beta0: np.ndarray, sd0: np.ndarray,
                active: np.ndarray, fixed: np.ndarray | None = None,
                precond: np.ndarray | None = None, max_iter: int = 1000,
                gtol: float = 1e-9) -> LaplaceFit:
    """Maximise l_LA over beta and the active, non-fixed sds by preconditioned L-BFGS.

    ``precond`` is a lower-triangular ``L`` over the free parameters (beta, then the
    free sds) with ``L L'`` close to the Hessian of ``-l_LA``; the search runs in
    ``z = L'(x - x0)``, where the problem is close to the identity. The sds are
    unconstrained: ``l_LA`` is even in each of them (``Lambda v`` is unchanged when an
    sd and its modes flip sign), so the estimate is ``|sd|``.
    """
    p = beta0.size
    fixed = np.zeros(3, dtype=bool) if fixed is None else fixed
    free_sd = active & ~fixed
    sd_base = np.where(active, sd0, 0.0)
    x0 = np.concatenate([beta0, sd_base[free_sd]])
    k = x0.size
    L = np.eye(k) if precond is None else precond
    cache: dict = {"v": None}

    def to_params(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = x0 + linalg.solve_triangular(L, z, trans="T", lower=True)
        sd = sd_base.copy()
        sd[free_sd] = x[p:]
        return x[:p], sd

    def fun(z: np.ndarray) -> tuple[float, np.ndarray]:
        beta, sd = to_params(z)
        try:
            st, gr = evaluate(prob, beta, sd, cache["v"])
        except ConvergenceError:
            st, gr = evaluate(prob, beta, sd, None)
        cache["v"] = st.v
        gx = np.concatenate([gr[:p], gr[p:][free_sd]])
        return -st.value, -linalg.solve_triangular(L, gx, lower=True)

    res = optimize.minimize(fun, np.zeros(k), jac=True, method="L-BFGS-B",
                            options={"maxiter": max_iter, "ftol": 1e-16, "gtol": gtol,
                                     "maxcor": 30})
    beta, sd = to_params(res.x)
    sd = np.abs(sd)
    state, grad = evaluate(prob, beta, sd, cache["v"])
    gz = linalg.solve_triangular(L, np.concatenate([grad[:p], grad[p:][free_sd]]), lower=True)
    converged = bool(np.max(np.abs(gz), initial=0.0) < 1e-4)
    return LaplaceFit(beta, sd, state, int(res.nit), converged, fixed_sd=fixed)


def hessian(prob: RaterProblem, beta: np.ndarray, sd: np.ndarray, free_sd: np.ndarray,
            v0: np.ndarray, scale: np.ndarray, which: np.ndarray | None = None) -> np.ndarray:
    """Central differences of the analytic gradient of -l_LA; columns ``which`` only.

    Rows cover every free parameter (beta then the free sds); ``scale`` gives each
    parameter's step unit (about its standard error).
    """
    p = beta.size
    sdi = np.flatnonzero(free_sd)
    k = p + sdi.size
    cols = np.arange(k) if which is None else which
    out = np.empty((k, cols.size))
    for c_i, j in enumerate(cols):
        step = 1e-4 * scale[j]
        grads = []
        for sign in (1.0, -1.0):
            b2, s2 = beta.copy(), sd.copy()
            if j < p:
                b2[j] += sign * step
            else:
                s2[sdi[j - p]] += sign * step
            _, gr = evaluate(prob, b2, s2, v0)
            grads.append(-np.concatenate([gr[:p], gr[p:][free_sd]]))
        out[:, c_i] = (grads[0] - grads[1]) / (2 * step)
    return out


def conditional_information(prob: RaterProblem, beta: np.ndarray, state: LaplaceState
                            ) -> np.ndarray:
    """lme4's RX-style information of beta: J_bb - K' (J + Lambda^-2)^-1 K at the modes.

    ``J_bb`` is the observed information of the fixed effects given the modes and
    ``K`` the cross information with each rater's effects. Both are accumulated by
    counting (one ``bincount`` per pair of a cell's parameters) into dense arrays.
    """
    if isinstance(prob, RaterBlocks):
        return sum(conditional_information(part, beta, st)
                   for part, st in zip(prob.parts, state.states))
    c = state.cells
    n, p = prob.n_items, beta.size
    m = prob.r.size
    f1, f2 = c["f1"], c["f2"]
    lam_r = c["lam_r"]
    free = np.ones(n, dtype=bool)
    free[prob.pivot] = False
    col = np.full(n, -1)
    col[free] = np.arange(n - 1)
    # psi: d eta / d beta per cell, as (column, value) pairs; the pivot's column is dropped
    psi_c = [col[prob.a], col[prob.b]]
    psi_v = [lam_r, -lam_r]
    if prob.order_effect:
        psi_c.append(np.full(m, n - 1))
        psi_v.append(prob.o)
    t = n - 1 + int(prob.order_effect)  # column of the tie parameter (Davidson)
    # J_bb = sum_k -f2 psi psi' (+ the tie parameter's rows)
    flat, weight = [], []
    for ci, vi in zip(psi_c, psi_v):
        for cj, vj in zip(psi_c, psi_v):
            keep = (ci >= 0) & (cj >= 0)
            flat.append(ci[keep] * p + cj[keep])
            weight.append((-f2 * vi * vj)[keep])
    if prob.davidson:
        for ci, vi in zip(psi_c, psi_v):
            keep = ci >= 0
            cross = (-c["f1_t"] * vi)[keep]
            flat += [ci[keep] * p + t, t * p + ci[keep]]
            weight += [cross, cross]
        flat.append(np.array([t * p + t]))
        weight.append(np.array([float(np.sum(c["i_tt"]))]))
    info = np.bincount(np.concatenate(flat), weights=np.concatenate(weight),
                       minlength=p * p).reshape(p, p)
    q = prob.q
    A = state.lam[:, :, None] * state.minv * state.lam[:, None, :]
    if q == 0 or not np.any(A):
        return info
    # K_r = sum_k f2 g psi' + f1 C (C: d g / d s_a = +1, d s_b = -1 at the e slot)
    g = c["g"]
    R = prob.n_raters
    kinds = prob.kinds
    rows, cols, vals = [], [], []
    for i in range(len(kinds)):
        slot_row = prob.r * q + prob.local[:, i]
        for cj, vj in zip(psi_c, psi_v):
            keep = cj >= 0
            rows.append(slot_row[keep])
            cols.append(cj[keep])
            vals.append((f2 * g[:, i] * vj)[keep])
        if prob.davidson:
            rows.append(slot_row)
            cols.append(np.full(m, t))
            vals.append(c["f1_t"] * g[:, i])
    if "e" in kinds:
        slot_row = prob.r * q + prob.local[:, kinds.index("e")]
        for cj, sign in zip(psi_c[:2], (1.0, -1.0)):
            keep = cj >= 0
            rows.append(slot_row[keep])
            cols.append(cj[keep])
            vals.append(sign * f1[keep])
    # A = C C' per rater (PSD), so K' A K = (C'K)'(C'K)
    evals, evecs = np.linalg.eigh(A)
    C = evecs * np.sqrt(np.clip(evals, 0.0, None))[:, None, :]
    rows_, cols_, vals_ = (np.concatenate(x) for x in (rows, cols, vals))
    if R * q * p <= _DENSE_K_LIMIT:  # dense K, one batched product per rater and one GEMM
        K = np.bincount(rows_ * p + cols_, weights=vals_, minlength=R * q * p).reshape(R, q, p)
        B = (np.swapaxes(C, 1, 2) @ K).reshape(R * q, p)
        info -= B.T @ B
        return info
    from scipy import sparse

    K = sparse.csr_matrix((vals_, (rows_, cols_)), shape=(R * q, p))
    Cbd = sparse.block_diag([C[r].T for r in range(R)], format="csr")
    B = Cbd @ K
    info -= (B.T @ B).toarray()
    return info


# ------------------------------------------------------------------ blocks of raters
@dataclass
class RaterBlocks:
    """Raters split into groups of similar block size, fitted as one problem.

    Raters are independent given the fixed parameters, so the Laplace value, its
    gradient and the conditional information are sums over any partition of the
    raters. With taste effects a rater's block has ``2 + items judged`` slots and
    padding every rater to the largest block costs ``raters x largest^3``; grouping
    raters whose blocks are within a factor of two keeps the padding small.
    """

    parts: list[RaterProblem]
    raters: list[np.ndarray]  # global rater codes of each part's local raters
    n_raters: int

    @classmethod
    def build(cls, a: np.ndarray, b: np.ndarray, r: np.ndarray, o: np.ndarray, y: np.ndarray,
              n: np.ndarray, n_items: int, n_raters: int, pivot: int,
              effects: tuple[bool, bool, bool], order_effect: bool,
              nt: np.ndarray | None = None) -> RaterBlocks:
        if effects[2]:
            seen = np.unique(np.concatenate([r * n_items + a, r * n_items + b]))
            width = np.bincount(seen // n_items, minlength=n_raters) + 2
            group = np.ceil(np.log2(width)).astype(np.int64)
        else:
            group = np.zeros(n_raters, dtype=np.int64)
        parts, raters = [], []
        for g in np.unique(group):
            members = np.flatnonzero(group == g)
            local = np.full(n_raters, -1)
            local[members] = np.arange(members.size)
            keep = local[r] >= 0
            parts.append(RaterProblem(
                a[keep], b[keep], local[r[keep]], o[keep], y[keep], n[keep], n_items,
                members.size, pivot, effects, order_effect,
                nt=None if nt is None else nt[keep]))
            raters.append(members)
        return cls(parts, raters, n_raters)

    # the fixed-parameter layout is shared by every part
    def __getattr__(self, name: str):
        if name in ("n_items", "pivot", "effects", "order_effect", "davidson", "n_fixed",
                    "unpack"):
            return getattr(self.parts[0], name)
        raise AttributeError(name)

    @property
    def work(self) -> int:
        """Cells x block size^2, summed over the parts (the cost of one evaluation)."""
        return int(sum(p.r.size * max(p.q, 1) ** 2 for p in self.parts))

    def cells(self) -> dict[str, np.ndarray]:
        """Every cell, with global rater codes."""
        out = {k: np.concatenate([getattr(p, k) for p in self.parts]) for k in "abyn"}
        out["r"] = np.concatenate([rs[p.r] for p, rs in zip(self.parts, self.raters)])
        if self.parts[0].davidson:
            out["nt"] = np.concatenate([p.nt for p in self.parts])
        return out

    def per_rater(self, state: BlocksState, sd: np.ndarray) -> dict[str, np.ndarray]:
        """Modes, conditional variances and slot layout, padded to (raters, widest block).

        A slot of a component at ``sd = 0`` has conditional variance NaN.
        """
        q = max(p.q for p in self.parts)
        out = {"b": np.zeros((self.n_raters, q)), "var": np.full((self.n_raters, q), np.nan),
               "type": np.full((self.n_raters, q), -1), "item": np.full((self.n_raters, q), -1)}
        for part, rs, st in zip(self.parts, self.raters, state.states):
            k = part.q
            A = st.lam[:, :, None] * st.minv * st.lam[:, None, :]
            var = np.einsum("rii->ri", A)
            var = np.where(np.isin(part.slot_type, np.flatnonzero(sd == 0)), np.nan, var)
            out["b"][rs, :k] = st.lam * st.v
            out["var"][rs, :k] = var
            out["type"][rs, :k] = part.slot_type
            out["item"][rs, :k] = part.slot_item
        return out


@dataclass
class BlocksState:
    value: float
    loglik: float
    v: list  # modes of each part
    states: list


def evaluate_blocks(blocks: RaterBlocks, beta: np.ndarray, sd: np.ndarray,
                    v0: list | None = None, gradient: bool = True
                    ) -> tuple[BlocksState, np.ndarray | None]:
    """Laplace value and gradient summed over the parts."""
    states, grad = [], None
    for i, part in enumerate(blocks.parts):
        st, g = evaluate(part, beta, sd, None if v0 is None else v0[i], gradient)
        states.append(st)
        if gradient:
            grad = g if grad is None else grad + g
    return BlocksState(float(sum(s.value for s in states)), float(sum(s.loglik for s in states)),
                       [s.v for s in states], states), grad
