"""Simulated paired comparisons with known truth: strengths, raters, ties, noise, cycles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import special

from .. import _encoding as enc
from .._random import as_generator
from ..exceptions import InvalidParameterError, format_examples

__all__ = ["PlantedCycle", "SimulatedComparisons", "simulate_comparisons"]

_WHERE = "simulate_comparisons"
_MODELS = {"bt": special.expit, "thurstone": special.ndtr}
# The simulator writes "a", "b" and "tie"; "tie_bothbad" is never generated.
_OUTCOMES = list(enc.OUTCOME_NAMES[: enc.TIE + 1])
_SWAP = np.array([enc.B_WINS, enc.A_WINS, enc.TIE], dtype=np.int8)


@dataclass(frozen=True)
class PlantedCycle:
    """An intransitive cycle planted in the generating probabilities.

    Attributes
    ----------
    items : tuple of str
        The cycle's items in cyclic order, strongest (by ``truth``) first: each
        beats the next, and the last beats the first.
    pairs : pandas.DataFrame
        One row per planted pair, in cyclic order, with columns ``winner``,
        ``loser`` and ``p_win``: the probability that ``winner`` is preferred
        in a decisive judgement (not a tie) by a rater with ``λ_r = 1`` and
        ``d_r = 0`` when there is no order effect, i.e. ``F(cycle_effect)``.
    """

    items: tuple[str, ...]
    pairs: pd.DataFrame


@dataclass(frozen=True, repr=False)
class SimulatedComparisons:
    """Simulated comparisons and the truth that generated them.

    Attributes
    ----------
    data : pandas.DataFrame
        The canonical comparison table, one row per judgement: ``item_a``
        (shown first), ``item_b``, ``outcome`` (``"a"``, ``"b"`` or ``"tie"``),
        then ``rater`` and ``prompt`` when asked for. All columns are pandas
        categoricals whose categories list every label (every item, rater and
        prompt, observed or not); ``outcome`` is unordered, so it reads as a
        nominal outcome.
    truth : pandas.DataFrame
        Indexed by item: ``strength`` (the generating ``s``, summing to zero)
        and ``rank`` (1 = strongest).
    raters : pandas.DataFrame
        Indexed by rater: ``reliability`` (``λ_r``), ``position_bias``
        (``d_r``), ``is_spammer`` and ``is_biased``. No rows without raters.
    flipped : numpy.ndarray
        Boolean, one per row of ``data``: True where the recorded label is the
        opposite of the generated one.
    cycle : PlantedCycle or None
        The planted intransitive cycle, if one was asked for.
    params : dict
        The arguments of the call, by name.
    """

    data: pd.DataFrame
    truth: pd.DataFrame
    raters: pd.DataFrame
    flipped: np.ndarray
    cycle: PlantedCycle | None
    params: dict[str, Any]

    def __repr__(self) -> str:
        p = self.params
        return (
            f"SimulatedComparisons(n_items={p['n_items']}, n_comparisons={p['n_comparisons']}, "
            f"n_raters={p['n_raters']}, model={p['model']!r})"
        )


def simulate_comparisons(
    n_items: int = 20,
    n_comparisons: int = 2000,
    n_raters: int = 0,
    *,
    strength_sd: float = 1.0,
    model: Literal["bt", "thurstone"] = "bt",
    tie_parameter: float | None = None,
    order_effect: float = 0.0,
    rater_reliability_sd: float = 0.0,
    rater_bias_sd: float = 0.0,
    n_spammers: int = 0,
    n_biased_raters: int = 0,
    biased_rater_effect: float = 2.0,
    flip_rate: float = 0.0,
    intransitive_cluster: int | None = None,
    cycle_effect: float = 1.0,
    prompts: int | Sequence[str] | None = None,
    random_state: int | np.random.Generator | None = None,
) -> SimulatedComparisons:
    r"""Simulate paired comparisons from a documented generative model.

    Parameters
    ----------
    n_items : int, default 20
        Number of items, labelled ``item00``, ``item01``, ... (zero-padded so
        that the labels sort in numeric order).
    n_comparisons : int, default 2000
        Number of judgements (rows).
    n_raters : int, default 0
        Number of raters, labelled ``rater000``, ...; 0 for no rater column.
    strength_sd : float, default 1.0
        Standard deviation of the item strengths.
    model : {"bt", "thurstone"}, default "bt"
        Link ``F``: logistic (Bradley–Terry) or standard normal cdf
        (Thurstone–Mosteller Case V).
    tie_parameter : float, optional
        Davidson's ``log ν``; None (the default) for no ties. Needs
        ``model="bt"``.
    order_effect : float, default 0.0
        ``h``, the advantage of the first-shown item on the linear-predictor
        scale.
    rater_reliability_sd : float, default 0.0
        Standard deviation of ``log λ_r``.
    rater_bias_sd : float, default 0.0
        Standard deviation of the raters' own position bias ``d_r``.
    n_spammers : int, default 0
        Raters whose choices ignore the items (``λ_r = 0``).
    n_biased_raters : int, default 0
        Raters (distinct from the spammers) who favour the first-shown item
        by an extra ``biased_rater_effect``.
    biased_rater_effect : float, default 2.0
        Added to ``d_r`` for the biased raters.
    flip_rate : float, default 0.0
        Probability that a decisive label is recorded the wrong way round.
    intransitive_cluster : int, optional
        Size (3 or more) of an intransitive cycle planted among items of
        similar strength; see Notes.
    cycle_effect : float, default 1.0
        Strength difference that each planted pair gets in the cyclic
        direction (must be positive).
    prompts : int or sequence of str, optional
        Number of prompts (labelled ``prompt000``, ...) or their labels. Each
        judgement gets one uniformly at random, in a ``prompt`` column. Prompts
        label contests only: they have no effect on the outcome.
    random_state : int, numpy.random.Generator or None
        Seed or generator, passed to :func:`numpy.random.default_rng`. The
        only source of randomness; global state is never touched.

    Returns
    -------
    SimulatedComparisons
        ``data`` (the canonical table), ``truth``, ``raters``, ``flipped``,
        ``cycle`` and ``params``.

    Raises
    ------
    InvalidParameterError
        If an argument is out of range or of the wrong type; the message names it.

    Notes
    -----
    The generative model, step by step:

    1. Strengths: ``s_i ~ N(0, strength_sd²)`` independently, then centred so
       that they sum to zero (``truth["strength"]``).
    2. Raters: ``log λ_r ~ N(0, rater_reliability_sd²)`` (so ``λ_r = 1`` when
       the sd is 0) and ``d_r ~ N(0, rater_bias_sd²)``. A random set of
       ``n_spammers`` raters gets ``λ_r = 0``; a disjoint random set of
       ``n_biased_raters`` raters gets ``d_r + biased_rater_effect``. Without
       raters, ``λ = 1`` and ``d = 0``.
    3. Contests: each row draws an ordered pair ``(a, b)`` of distinct items
       uniformly, so every pair is equally likely and either item is shown
       first (``item_a``) with probability 1/2; with raters (prompts), a rater
       (prompt) uniformly at random.
    4. Linear predictor: ``η = λ_r (s_a − s_b) + h + d_r`` with
       ``h = order_effect``.
    5. Outcome. Without ties, ``P(a preferred) = F(η)``. With ties (Davidson,
       1970), ``ν = exp(tie_parameter)``, ``π = exp(λ_r s)`` and
       ``μ = exp(h + d_r)``:

       .. math::

          P(a) = \mu\pi_a / D, \quad P(b) = \pi_b / D, \quad
          P(\mathrm{tie}) = \nu\sqrt{\mu\pi_a\pi_b} / D,

       with ``D`` the sum of the three numerators; equivalently
       ``P(a) = e^{η/2} / (e^{η/2} + e^{−η/2} + ν)``, so that
       ``P(a | not a tie) = logistic(η)``.
    6. Planted cycle (``intransitive_cluster = k``): the ``k`` items ranked
       consecutively around the median strength, ``c_0`` (strongest) to
       ``c_{k−1}``. In each pair ``(c_j, c_{j+1})`` and in ``(c_{k−1}, c_0)``,
       the term ``s_a − s_b`` is replaced by ``+cycle_effect`` when the
       first-named item of the cyclic edge is shown first, and by
       ``−cycle_effect`` otherwise; everything else in steps 4–5 is unchanged.
       So ``c_0`` beats ``c_1`` beats ... beats ``c_{k−1}`` beats ``c_0``,
       each with probability ``F(cycle_effect)`` for a rater with ``λ_r = 1``
       and no order effect. For ``k ≥ 4`` the other pairs inside the cluster
       (e.g. ``c_0`` and ``c_2``) keep their strengths.
    7. Label noise: every decisive row is flipped (``"a"`` ↔ ``"b"``)
       independently with probability ``flip_rate``; ties are never flipped.
       ``flipped`` marks the flipped rows.

    Draws are made in a fixed order (strengths, pairs, outcome uniforms, flip
    uniforms, then raters and prompts), so calls with the same seed,
    ``n_items`` and ``n_comparisons`` share the pairs and the uniforms: settings
    that only change effect sizes (``order_effect``, ``tie_parameter``,
    ``flip_rate``, ...) change the outcomes only through those effects.

    Examples
    --------
    >>> from prefstat import ComparisonData
    >>> from prefstat.datasets import simulate_comparisons
    >>> sim = simulate_comparisons(n_items=5, n_comparisons=1000, n_raters=4,
    ...                            n_spammers=1, random_state=0)
    >>> sim
    SimulatedComparisons(n_items=5, n_comparisons=1000, n_raters=4, model='bt')
    >>> list(sim.data.columns)
    ['item_a', 'item_b', 'outcome', 'rater']
    >>> list(sim.truth.index), list(sim.truth.columns)
    (['item00', 'item01', 'item02', 'item03', 'item04'], ['strength', 'rank'])
    >>> bool(abs(sim.truth["strength"].sum()) < 1e-12)
    True
    >>> list(sim.raters.columns), int(sim.raters["is_spammer"].sum())
    (['reliability', 'position_bias', 'is_spammer', 'is_biased'], 1)
    >>> ComparisonData.from_frame(sim.data, rater="rater").n_rows
    1000

    A three-item cycle, each planted pair won the cyclic way with probability
    logistic(1):

    >>> sim = simulate_comparisons(n_items=8, intransitive_cluster=3, random_state=1)
    >>> len(sim.cycle.items), sim.cycle.pairs["p_win"].round(3).tolist()
    (3, [0.731, 0.731, 0.731])
    """
    params = dict(locals())  # the arguments as given, before any checking
    n_items = _integer("n_items", n_items, 2)
    n_comparisons = _integer("n_comparisons", n_comparisons, 1)
    n_raters = _integer("n_raters", n_raters, 0)
    n_spammers = _integer("n_spammers", n_spammers, 0)
    n_biased_raters = _integer("n_biased_raters", n_biased_raters, 0)
    if n_spammers + n_biased_raters > n_raters:
        raise InvalidParameterError(
            f"{_WHERE}: n_spammers ({n_spammers}) + n_biased_raters ({n_biased_raters}) exceeds "
            f"n_raters ({n_raters}); spammers and biased raters are distinct raters, so raise "
            "n_raters or lower the other two."
        )
    for name, value in (("strength_sd", strength_sd),
                        ("rater_reliability_sd", rater_reliability_sd),
                        ("rater_bias_sd", rater_bias_sd)):
        _real(name, value, low=0.0)
    for name, value in (("order_effect", order_effect),
                        ("biased_rater_effect", biased_rater_effect)):
        _real(name, value)
    _real("flip_rate", flip_rate, low=0.0, high=1.0)
    if _real("cycle_effect", cycle_effect) <= 0:
        raise InvalidParameterError(
            f"{_WHERE}: cycle_effect must be positive (the margin of the planted cycle), got "
            f"{cycle_effect!r}."
        )
    if model not in _MODELS:
        raise InvalidParameterError(
            f"{_WHERE}: model must be 'bt' or 'thurstone', got {model!r}."
        )
    if tie_parameter is not None:
        _real("tie_parameter", tie_parameter)
        if model != "bt":
            raise InvalidParameterError(
                f"{_WHERE}: tie_parameter (Davidson's log ν) needs model='bt', got "
                f"model={model!r}. Use model='bt' for ties, or tie_parameter=None."
            )
    if intransitive_cluster is not None:
        _integer("intransitive_cluster", intransitive_cluster, 3, high=n_items)
    prompt_labels = None if prompts is None else _prompt_labels(prompts)
    rng = as_generator(random_state, _WHERE)

    # Every draw below is made whatever the effect sizes (common random numbers).
    strength = rng.normal(0.0, strength_sd, n_items)
    strength -= strength.mean()
    first = rng.integers(n_items, size=n_comparisons)
    second = rng.integers(n_items - 1, size=n_comparisons)
    second += second >= first
    u_outcome = rng.random(n_comparisons)
    u_flip = rng.random(n_comparisons)

    diff = strength[first] - strength[second]
    members = None
    if intransitive_cluster is not None:
        members, diff = _plant_cycle(strength, intransitive_cluster, cycle_effect,
                                     first, second, diff)
    row_reliability, row_bias = 1.0, 0.0
    columns: dict[str, Any] = {}
    if n_raters:
        rater = rng.integers(n_raters, size=n_comparisons)
        reliability = np.exp(rng.normal(0.0, rater_reliability_sd, n_raters))
        bias = rng.normal(0.0, rater_bias_sd, n_raters)
        chosen = rng.permutation(n_raters)
        is_spammer = np.zeros(n_raters, dtype=bool)
        is_spammer[chosen[:n_spammers]] = True
        is_biased = np.zeros(n_raters, dtype=bool)
        is_biased[chosen[n_spammers:n_spammers + n_biased_raters]] = True
        reliability[is_spammer] = 0.0
        bias[is_biased] += biased_rater_effect
        row_reliability, row_bias = reliability[rater], bias[rater]
        rater_labels = _labels("rater", n_raters, 3)
        columns["rater"] = pd.Categorical.from_codes(rater, categories=rater_labels)
    else:
        reliability = bias = np.zeros(0)
        is_spammer = is_biased = np.zeros(0, dtype=bool)
        rater_labels = pd.Index([], dtype=object)
    if prompt_labels is not None:
        prompt = rng.integers(prompt_labels.size, size=n_comparisons)
        columns["prompt"] = pd.Categorical.from_codes(prompt, categories=prompt_labels)

    eta = row_reliability * diff + order_effect + row_bias
    if tie_parameter is None:
        p_a, p_tie = _MODELS[model](eta), 0.0
    else:
        p_a, p_tie = _davidson(eta, float(tie_parameter))
    outcome = np.where(
        u_outcome < p_a, enc.A_WINS, np.where(u_outcome < p_a + p_tie, enc.TIE, enc.B_WINS)
    ).astype(np.int8)
    flipped = (u_flip < flip_rate) & (outcome != enc.TIE)
    outcome = np.where(flipped, _SWAP[outcome], outcome)

    item_labels = _labels("item", n_items, 2)
    data = pd.DataFrame({
        "item_a": pd.Categorical.from_codes(first, categories=item_labels),
        "item_b": pd.Categorical.from_codes(second, categories=item_labels),
        "outcome": pd.Categorical.from_codes(outcome, categories=_OUTCOMES),
        **columns,
    })
    rank = np.empty(n_items, dtype=np.int64)
    rank[np.argsort(-strength, kind="stable")] = np.arange(1, n_items + 1)
    truth = pd.DataFrame({"strength": strength, "rank": rank},
                         index=pd.Index(item_labels, name="item"))
    raters = pd.DataFrame(
        {"reliability": reliability, "position_bias": bias,
         "is_spammer": is_spammer, "is_biased": is_biased},
        index=pd.Index(rater_labels, name="rater"),
    )
    cycle = None
    if members is not None:
        cycle = PlantedCycle(
            items=tuple(item_labels[members]),
            pairs=pd.DataFrame({
                "winner": item_labels[members],
                "loser": item_labels[np.roll(members, -1)],
                "p_win": float(_MODELS[model](cycle_effect)),
            }),
        )
    return SimulatedComparisons(data=data, truth=truth, raters=raters, flipped=flipped,
                                cycle=cycle, params=params)


def _plant_cycle(
    strength: np.ndarray, size: int, effect: float,
    first: np.ndarray, second: np.ndarray, diff: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Replace ``s_a − s_b`` by ``±effect`` on the cyclic edges of the middle ``size`` items.

    Returns the cycle's item codes (strongest first) and the new differences.
    """
    start = (strength.size - size) // 2
    members = np.argsort(-strength, kind="stable")[start:start + size]
    position = np.full(strength.size, -1)
    position[members] = np.arange(size)
    pos_a, pos_b = position[first], position[second]
    inside = (pos_a >= 0) & (pos_b >= 0)
    forward = inside & ((pos_b - pos_a) % size == 1)
    backward = inside & ((pos_a - pos_b) % size == 1)
    return members, np.where(forward, effect, np.where(backward, -effect, diff))


def _davidson(eta: np.ndarray, log_nu: float) -> tuple[np.ndarray, np.ndarray]:
    """``P(a)`` and ``P(tie)`` with weights ``e^{η/2}, e^{−η/2}, ν``, without overflow."""
    half = eta / 2.0
    top = np.maximum(np.abs(half), log_nu)
    w_a, w_b, w_tie = np.exp(half - top), np.exp(-half - top), np.exp(log_nu - top)
    total = w_a + w_b + w_tie
    return w_a / total, w_tie / total


def _labels(stem: str, n: int, min_width: int) -> pd.Index:
    width = max(min_width, len(str(n - 1)))
    return pd.Index([f"{stem}{k:0{width}d}" for k in range(n)])


def _integer(name: str, value: Any, low: int, high: int | None = None) -> int:
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
    if not ok or value < low or (high is not None and value > high):
        bound = f">= {low}" if high is None else f"between {low} and {high}"
        raise InvalidParameterError(
            f"{_WHERE}: {name} must be an integer {bound}, got {value!r}."
        )
    return int(value)


def _real(name: str, value: Any, low: float | None = None, high: float | None = None) -> float:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )
    if not ok or not np.isfinite(value) or (low is not None and value < low) or (
        high is not None and value > high
    ):
        if low is None:
            bound = "a finite number"
        elif high is None:
            bound = f"a finite number >= {low}"
        else:
            bound = f"a number between {low} and {high}"
        raise InvalidParameterError(f"{_WHERE}: {name} must be {bound}, got {value!r}.")
    return float(value)


def _prompt_labels(prompts: int | Sequence[str]) -> pd.Index:
    if isinstance(prompts, (int, np.integer)) and not isinstance(prompts, (bool, np.bool_)):
        return _labels("prompt", _integer("prompts", prompts, 1), 3)
    if isinstance(prompts, (str, bytes)) or not isinstance(prompts, Sequence) or not prompts:
        raise InvalidParameterError(
            f"{_WHERE}: prompts must be a positive int or a non-empty sequence of labels, got "
            f"{prompts!r}."
        )
    labels = pd.Index(list(prompts))
    if labels.has_duplicates:
        repeated = format_examples(labels[labels.duplicated()].unique())
        raise InvalidParameterError(
            f"{_WHERE}: prompts has duplicate labels {repeated}; give each prompt once."
        )
    return labels
