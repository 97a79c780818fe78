"""The sparse path for many items: assembly, solver and approximate standard errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import prefstat
from prefstat import _likelihood as lik
from prefstat.models import _paired

# Approximate SEs (Neumann expansion, prefstat/_approx_cov.py) against the exact
# inverse. Measured relative errors: 1e-4 to 6e-4 with >= 30 comparisons per item
# (well-mixed random graphs); about 5e-3 with 10 per item. The tolerances leave
# a factor of about 3 over what was measured and are stated per density.
APPROX_RTOL_DENSE_GRAPH = 2e-3
APPROX_RTOL_SPARSE_GRAPH = 2e-2


def simulate(n, m, seed, ties=False, order=0.0):
    rng = np.random.default_rng(seed)
    s = rng.normal(scale=0.7, size=n)
    a = rng.integers(0, n, m)
    b = (a + rng.integers(1, n, m)) % n
    d = s[a] - s[b] + order
    if ties:
        pa, pb, pt = np.exp(d / 2), np.exp(-d / 2), np.full(m, 0.5)
        u = rng.random(m) * (pa + pb + pt)
        out = np.where(u < pa, "a", np.where(u < pa + pb, "b", "tie"))
    else:
        out = np.where(rng.random(m) < 1 / (1 + np.exp(-d)), "a", "b")
    return pd.DataFrame({"item_a": a, "item_b": b, "outcome": out})


@pytest.mark.parametrize("order", [False, True])
@pytest.mark.parametrize("tie", [False, True])
def test_sparse_assembly_equals_dense(order, tie):
    rng = np.random.default_rng(0)
    n, m = 30, 200
    first, second = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = first != second
    first, second = first[keep], second[keep]
    k = first.size
    terms = lik.CellTerms(0.0, rng.normal(size=k), rng.random(k), rng.normal(size=k),
                          rng.normal(size=k), rng.random(k))
    layout = _paired._Layout(n, order, tie, None)
    g_dense, i_dense = _paired._assemble(terms, first, second, layout, dense=True)
    g_sparse, i_sparse = _paired._assemble(terms, first, second, layout, dense=False)
    np.testing.assert_allclose(g_sparse, g_dense)
    np.testing.assert_allclose(i_sparse.toarray(), i_dense, atol=1e-12)
    # The matrix-free operator of the Newton steps: products, diagonal, ridge, pivot.
    free = np.ones(layout.size, dtype=bool)
    free[4] = False
    _, parts = _paired._info_parts(terms, first, second, layout)
    op = _paired._InfoOperator(parts, free, penalty=0.3)
    ridged = i_dense + np.diag(np.r_[np.full(n, 0.3), np.zeros(layout.size - n)])
    restricted = ridged[np.ix_(free, free)]
    x = rng.normal(size=int(free.sum()))
    np.testing.assert_allclose(op.matvec(x), restricted @ x, atol=1e-10)
    np.testing.assert_allclose(op.diagonal(), np.diag(restricted))
    np.testing.assert_allclose(op.toarray(), restricted, atol=1e-12)


@pytest.mark.parametrize("kwargs", [{}, {"order_effect": True}, {"ties": "davidson"},
                                    {"penalty": 0.5}, {"reference": 3}])
def test_sparse_solver_reaches_the_dense_optimum(monkeypatch, kwargs):
    df = simulate(60, 6000, seed=1, ties="ties" in kwargs, order=0.3)
    dense = prefstat.BradleyTerry(**kwargs).fit(df)
    monkeypatch.setattr(_paired, "_DENSE_MAX", 0)
    sparse_fit = prefstat.BradleyTerry(se_method="exact", **kwargs).fit(df)
    assert sparse_fit.loglik_ == pytest.approx(dense.loglik_, abs=1e-8)
    pd.testing.assert_frame_equal(sparse_fit.params_, dense.params_, atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("kwargs", [{}, {"reference": 5}, {"order_effect": True},
                                    {"ties": "davidson", "order_effect": True},
                                    {"penalty": 1.0}])
def test_approximate_se_close_to_exact_on_well_mixed_graph(kwargs):
    df = simulate(400, 40_000, seed=2, ties="ties" in kwargs, order=0.2)
    exact = prefstat.BradleyTerry(se_method="exact", **kwargs).fit(df)
    approx = prefstat.BradleyTerry(se_method="approx", **kwargs).fit(df)
    assert approx.se_method_ == "approximate" and approx.cov_ is None
    pd.testing.assert_series_equal(approx.params_["estimate"], exact.params_["estimate"])
    se_exact, se_approx = exact.params_["se"], approx.params_["se"]
    fixed = se_exact == 0
    assert (se_approx[fixed] == 0).all()
    np.testing.assert_allclose(se_approx[~fixed], se_exact[~fixed],
                               rtol=APPROX_RTOL_DENSE_GRAPH)
    assert any("approximate" in w for w in approx.warnings_)


def test_approximate_se_on_sparse_graph():
    # 1,000 items and 15,000 comparisons: 30 per item, about 30 distinct opponents.
    df = simulate(1000, 15_000, seed=3)
    exact = prefstat.BradleyTerry(se_method="exact").fit(df)
    approx = prefstat.BradleyTerry(se_method="approx").fit(df)
    np.testing.assert_allclose(approx.params_["se"], exact.params_["se"],
                               rtol=APPROX_RTOL_SPARSE_GRAPH)


def test_auto_switches_to_approximation_beyond_the_dense_limit(monkeypatch):
    df = simulate(50, 5000, seed=4)
    monkeypatch.setattr(_paired, "_DENSE_MAX", 10)
    model = prefstat.BradleyTerry().fit(df)
    assert model.se_method_ == "approximate"
    assert "approximate" in str(model.summary())
    elo = model.elo()
    assert elo["se"].notna().all()
