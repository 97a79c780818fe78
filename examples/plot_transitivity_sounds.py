"""
Is this preference one-dimensional? Cycles in the sounds data
=============================================================

A Bradley–Terry score, an Elo rating or a reward model puts every item on one
line. Real preferences need not fit on a line: A may be preferred to B, B to
C and C to A. Barrett and Crispino (2018) asked 46 listeners which of two
sounds seemed more human-made, 30 pairs each among 12 sounds, and the data
are documented to contain such cycles (Crispino et al., 2019). This tutorial
measures how far the choices are from one dimension with
:func:`prefstat.diagnostics.transitivity`, and asks the question that
decides what to do next: are the cycles more than a one-dimensional model's
own noise?
"""

# %%
# The choices
# -----------
# :func:`prefstat.datasets.fetch_sounds` reads one row per choice:
# ``top_item`` was preferred to ``bottom_item`` by ``assessor``.
# :func:`prefstat.convert.from_winner_loser` turns it into the canonical
# table, the winner as ``item_a`` with outcome ``"a"`` (the file does not
# record which sound was played first).
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import prefstat
from prefstat.convert import from_winner_loser
from prefstat.datasets import fetch_sounds
from prefstat.diagnostics import transitivity
from prefstat.plotting import plot_cycle

sounds = fetch_sounds()
choices = from_winner_loser(sounds, winner="top_item", loser="bottom_item", rater="assessor")
pairs = choices[["item_a", "item_b"]].apply(sorted, axis=1, result_type="expand")
per_pair = pairs.value_counts()
print(f"{len(choices)} choices by {choices['rater'].nunique()} assessors; "
      f"{len(per_pair)} of {12 * 11 // 2} pairs compared, "
      f"{per_pair.min()}–{per_pair.max()} times each")

# %%
# All assessors together
# ----------------------
# Pooling everyone's choices, each pair gets a majority verdict, and
# :func:`~prefstat.diagnostics.transitivity` counts the triples whose three
# verdicts go round in a circle (Kendall and Babington Smith's circular
# triads), tests stochastic transitivity, finds the fewest verdicts whose
# reversal removes every cycle, and splits the pairwise signal into the part
# a score explains and the part that circulates (HodgeRank).
pooled = transitivity(choices, random_state=0)
pooled.summary()

# %%
# A few pooled verdicts form cycles. Here is the first circular triad, with
# the decisive choices behind each arrow:
triad = list(pooled.triads.iloc[0])
fig, ax = plt.subplots(figsize=(4.5, 4))
plot_cycle(choices, triad, ax=ax)

# %%
# Stochastic transitivity asks more than the direction of the majorities. If
# sound :math:`i` is preferred to :math:`j` and :math:`j` to :math:`k`, any
# one-dimensional model implies :math:`P_{ik} \ge 1/2` (weak),
# :math:`P_{ik} \ge \min(P_{ij}, P_{jk})` (moderate) and, for the Thurstone and
# Bradley–Terry models, :math:`P_{ik} \ge \max(P_{ij}, P_{jk})` (strong):
pooled.stochastic_transitivity.round(3)

# %%
# Many of these violations are small and rest on about twenty choices per
# pair, so the counts alone do not say whether one dimension fails. The
# :math:`P_{ik}` behind each strong violation, with the counts, are in
# ``pooled.violations``:
pooled.violations[["item_1", "item_2", "item_3", "p_12", "p_23", "p_13",
                   "x_13", "n_13"]].head()

# %%
# What a score explains: HodgeRank
# --------------------------------
# The Hodge decomposition (Jiang et al., 2011) splits the log-odds of every
# compared pair into a gradient (differences of one score per sound), a curl
# (circulation around triangles) and a harmonic part (circulation around
# longer cycles). Here the curl holds about a third of the signal:
pooled.hodge.round(3)

# %%
# Is that a lot? Sampling noise alone makes curl: twenty choices per pair
# never give exact Bradley–Terry proportions. So draw new choices from the
# fitted one-dimensional model, with the same pairs and the same assessors,
# and measure the curl share of each simulated data set. The data can only
# be said to leave one dimension if their curl is larger than these.
bt = prefstat.BradleyTerry().fit(choices)
p_first = bt.predict_proba(choices["item_a"], choices["item_b"])["a"].to_numpy()
rng = np.random.default_rng(0)
N_SIM = 100


def simulate_choices():
    """One data set drawn from the fitted Bradley–Terry model, same design."""
    won = rng.random(len(choices)) < p_first
    return choices.assign(outcome=np.where(won, "a", "b"))


simulated_curl = np.array([transitivity(simulate_choices(), n_boot=0).hodge["curl"]
                           for _ in range(N_SIM)])
print(f"observed curl share {pooled.hodge['curl']:.3f}; one-dimensional model: "
      f"median {np.median(simulated_curl):.3f}, 90% of simulations in "
      f"[{np.quantile(simulated_curl, 0.05):.3f}, {np.quantile(simulated_curl, 0.95):.3f}]")

# %%
# :func:`~prefstat.diagnostics.transitivity` runs the same kind of check for
# the circular triads (a parametric bootstrap from the Bradley–Terry fit) and
# reports the fit's deviance against the saturated pair table:
pooled.goodness_of_fit.round(3)

# %%
# Pooled, the choices are as one-dimensional as twenty noisy choices per pair
# can show: the curl is within the simulated range, the triads no more than
# the model's own, and the deviance small for its degrees of freedom.
#
# One assessor at a time
# ----------------------
# Pooling can hide as much as it shows. With ``by="rater"`` every assessor's
# 30 choices form a tournament of their own (incomplete: 30 of the 66 pairs),
# and the circular triads are counted within each.
per_assessor = transitivity(choices, rater="rater", by="rater", n_boot=0)
table = per_assessor.circular_triads.set_index("rater")
table[["triangles", "circular_triads", "expected_circular_triads", "reversals"]].head()

# %%
# ``triangles`` are the triples whose three pairs that assessor judged, and
# ``expected_circular_triads`` the number of cycles a listener choosing at
# random would make among them (a quarter). Over all assessors:
print(f"assessors with at least one circular triad: "
      f"{(table['circular_triads'] > 0).sum()} of {len(table)}; "
      f"triads per assessor {table['circular_triads'].mean():.2f} on average, "
      f"{table['expected_circular_triads'].mean():.2f} expected at random")

# %%
# If all listeners shared the pooled scale, each one's choices would be draws
# from the fitted model, like the simulations above. A few simulated panels
# of 46 such assessors, each panel judging the real assessors' pairs, give the
# triads they would make (each simulated assessor gets a label of its own):
N_PANELS = 6
panels = pd.concat([simulate_choices().assign(rater=choices["rater"].astype(str) + f"/{k}")
                    for k in range(N_PANELS)], ignore_index=True)
simulated = transitivity(panels, rater="rater", by="rater", n_boot=0).circular_triads
print(f"triads per simulated assessor {simulated['circular_triads'].mean():.2f} on average; "
      f"{(simulated['circular_triads'] > 0).mean():.0%} have at least one")

# %%
# Real listeners make fewer cycles than the pooled model's: each one is more
# consistent than the pooled scale says, which can only be if they do not
# share it. The pooled probabilities are close to one half because listeners
# disagree, not because each one hesitates.
#
# The picture to act on
# ---------------------
# Left, the curl share of the pooled data against the one-dimensional
# model's; right, the circular triads of each real assessor against those of
# assessors who share the pooled scale.
fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6))
left.hist(simulated_curl, bins=20, color="#bbbbbb", label="one-dimensional model")
left.axvline(pooled.hodge["curl"], color="C3", lw=2, label="observed")
left.set_xlabel("curl share of the pooled log-odds flow")
left.set_ylabel("simulated data sets")
left.set_title("Pooled: cycles within the model's noise")
left.legend(fontsize="small")
bins = np.arange(0, max(table["circular_triads"].max(), simulated["circular_triads"].max()) + 2)
right.hist(simulated["circular_triads"], bins=bins, density=True, color="#bbbbbb",
           align="left", label=f"shared pooled scale ({N_PANELS} × 46 simulated)")
right.hist(table["circular_triads"], bins=bins, density=True, histtype="step", lw=2,
           color="C0", align="left", label="observed assessors")
right.axvline(table["expected_circular_triads"].mean(), color="k", ls="--", lw=1,
              label="choosing at random (mean)")
right.set_xlabel("circular triads in one assessor's 30 choices")
right.set_ylabel("share of assessors")
right.set_title("Per assessor: fewer cycles than a shared scale")
right.legend(fontsize="small")
fig.tight_layout()

# %%
# What to act on: a single score describes the pooled choices as well as
# these data can test, so a pooled ranking (``pooled.hodge_scores``, or the
# Bradley–Terry strengths) is not contradicted by cycles. But it is an
# average of listeners who disagree: individual assessors are more
# consistent than the average scale allows. Before reporting one ranking of
# the sounds, look at how listeners differ (groups of listeners, or
# listener-level covariates), which is where Crispino et al. (2019) take
# these data. The assessors with the most cycles, and the verdicts that would
# have to be reversed to make each of them transitive, are in
# ``per_assessor.circular_triads`` and ``per_assessor.feedback_arc_set``.
#
# Next: :doc:`/user_guide/transitivity` defines every number on this page and
# lists the published values they are checked against.
