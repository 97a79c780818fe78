"""
Rankings with Plackett–Luce: NASCAR races and translation judges
================================================================

A ranking says more than a pair: a race orders 43 drivers at once, and a
translation judge puts five outputs in order. The Plackett–Luce model reads a
ranking as a sequence of choices, best first, and gives every item one worth.
This tutorial fits it to two real tables: the 2002 NASCAR season, Hunter's
(2004) example, whose published estimates we reproduce; and the WMT12 human
evaluation of machine translation (Callison-Burch et al., 2012), whose judges
tie often and leave cells blank.
"""

# %%
# The 2002 NASCAR season
# ----------------------
# :func:`prefstat.datasets.fetch_nascar` reads the finishing orders of the 36
# races, one row per driver and race. It is already a long ranking table;
# only the column names differ from the canonical ``ranking_id, item, rank``.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import prefstat
from prefstat.convert import from_wide_rankings
from prefstat.datasets import fetch_nascar, fetch_wmt12

races = fetch_nascar()
COLUMNS = {"ranking": "race", "item": "driver", "rank": "position"}
print(f"{races['race'].nunique()} races, {races['driver'].nunique()} drivers")
races.groupby("race").size().value_counts().rename_axis("drivers in the race").rename("races")

# %%
# When the estimate does not exist
# --------------------------------
# A driver who finished last in every race he entered was never chosen ahead
# of anyone: his maximum likelihood worth is zero (log-worth minus infinity).
# prefstat checks the win graph before fitting and says so, naming the
# drivers, instead of returning a huge negative number.
try:
    prefstat.PlackettLuce().fit(races, **COLUMNS)
except prefstat.NotIdentifiableError as err:
    print(err)

# %%
# Hunter (2004) dropped those four drivers (removing them from their races
# leaves the order of the others unchanged), which leaves 83 drivers. The
# alternatives the message offers, ``npseudo=`` (R PlackettLuce's
# pseudo-comparisons with a ghost driver) and ``penalty=``, keep every
# driver but shrink all the estimates towards zero, so they would no longer
# match Hunter's table.
last = races["position"] == races.groupby("race")["position"].transform("max")
always_last = last.groupby(races["driver"]).all()
always_last = always_last.index[always_last]
kept = races[~races["driver"].isin(always_last)]
print("dropped:", ", ".join(always_last))

# %%
# Hunter's Table 2
# ----------------
# Hunter reports log-worths relative to Austin Cameron. ``reference=`` fixes
# that driver's log-worth at 0, as R PlackettLuce's ``ref`` does.
model = prefstat.PlackettLuce(reference="Austin Cameron").fit(kept, **COLUMNS)
HUNTER_TABLE_2 = pd.Series({"PJ Jones": 4.15, "Scott Pruett": 3.62, "Mark Martin": 2.08},
                           name="Hunter (2004)")
table2 = model.strengths_.loc[HUNTER_TABLE_2.index, ["estimate", "se"]].join(HUNTER_TABLE_2)
table2["prefstat, rounded"] = table2["estimate"].round(2)
table2

# %%
print(f"{model.n_items_} drivers, {model.n_rankings_} races, log-likelihood "
      f"{model.loglik_:.4f}, {model.n_iter_} Newton iterations after 3 MM steps")

# %%
# Why the top of the table is not the best drivers
# ------------------------------------------------
# PJ Jones and Scott Pruett top Hunter's table, yet neither was a contender
# for the 2002 title: each entered a single race. One good finish in one race
# is all the model knows about them, and the standard error says so. The
# number of races behind each estimate:
n_races = kept.groupby("driver")["race"].nunique().rename("races")
centred = prefstat.PlackettLuce().fit(kept, **COLUMNS)
top = centred.strengths_.join(n_races).sort_values("estimate", ascending=False)
top[["estimate", "se", "races"]].head(8).round(2)

# %%
# The picture to act on: the 25 highest log-worths (sum-to-zero scale) with
# their 95% intervals, coloured by how many races stand behind them. The
# one-race drivers' intervals span most of the field: their place in any
# ranking is a guess. Among the drivers who ran the season, the leaders'
# intervals overlap those of the next ten, so the season ranks them only
# loosely; a single number per driver, without its interval, would hide both.
show = top.head(25).iloc[::-1]
rows = np.arange(len(show))
full_season = show["races"] >= 30
fig, ax = plt.subplots(figsize=(7, 7))
for mask, colour, label in [(full_season, "C0", "30 or more races"),
                            (~full_season, "C3", "fewer than 30 races")]:
    ax.errorbar(show["estimate"][mask], rows[mask],
                xerr=[(show["estimate"] - show["ci_lower"])[mask],
                      (show["ci_upper"] - show["estimate"])[mask]],
                fmt="o", ms=4, capsize=2, color=colour, label=label)
ax.set_yticks(rows, [f"{name} ({n})" for name, n in zip(show.index, show["races"])])
ax.set_xlabel("log-worth, sum to zero over 83 drivers (95% Wald interval)")
ax.set_title("NASCAR 2002: the 25 highest log-worths (races entered)")
ax.legend(loc="lower right", fontsize="small")
fig.tight_layout()

# %%
# WMT12: translation judges who tie
# ---------------------------------
# In the WMT12 human evaluation, judges saw a source sentence and five
# systems' translations and gave each a rank from 1 (best) to 5. Equal ranks
# are allowed, and a judge may leave a cell blank (``-1``).
# :func:`prefstat.datasets.fetch_wmt12` reads the published file, one ranking
# per row; we keep Czech→English.
wmt = fetch_wmt12()
cs_en = wmt[(wmt["srclang"] == "Czech") & (wmt["trglang"] == "English")]
SLOTS = [(f"system{k}Id", f"system{k}rank") for k in range(1, 6)]
rank_cells = cs_en[[rank for _, rank in SLOTS]]
print(f"{len(cs_en)} rankings by {cs_en['judgeId'].nunique()} judges")
rank_cells.stack().value_counts().sort_index().rename("cells")

# %%
# The blanks are data about the judge, not ranks: a ``-1`` read as a rank
# would be an error, and read as "worst" it would invent a judgement. So the
# converter is told what a blank means (``blank=-1``: the system is left out of
# that ranking). A ranking with fewer than two ranked systems orders nothing;
# the converter refuses it rather than dropping it, so we remove those rows
# ourselves, where the reader can see it.
ranked_cells = (rank_cells != -1).sum(axis=1)
print(f"rankings with fewer than two ranked systems, removed: {(ranked_cells < 2).sum()}")
cs_en = cs_en[ranked_cells >= 2]

# %%
# Judges used the five ranks freely (``2, 3, 5`` occurs with no 4), so only
# the order of the values is meaningful: ``gaps="rerank"`` turns them into
# dense ranks, keeping ties.
long = from_wide_rankings(cs_en, slots=SLOTS, blank=-1, gaps="rerank", keep=["judgeId"])
long.head(6)

# %%
# How often judges tie, and how many systems at once:
tie_sizes = long.groupby(["ranking_id", "rank"]).size()
tie_sizes.value_counts().sort_index().rename_axis("systems sharing a rank").rename("groups")

# %%
# The Davidson–Luce model
# -----------------------
# With ``ties="davidson"`` a tied group is chosen together, and every tie size
# present in the data gets its own prevalence parameter ``delta_k`` (Turner et
# al., 2020). Ties are modelled, not broken at random or dropped.
wmt_model = prefstat.PlackettLuce(ties="davidson").fit(long, rater="judgeId")
wmt_model.summary()

# %%
# ``delta_2`` has a direct reading: two systems of equal worth tie for first
# place with probability ``delta_2 / (2 + delta_2)`` (given that first place
# is not a tie of three or more):
delta = np.exp(wmt_model.params_.loc["tie", "estimate"])
delta.index = delta.index.str.replace("log_", "")
print(delta.round(3).to_dict())
print(f"P(two equal systems tie for first) = {delta['delta_2'] / (2 + delta['delta_2']):.2f}")

# %%
# Which system to use
# -------------------
# Log-worths, and the probability that each system is chosen first (alone)
# when all six are shown together, from
# :meth:`~prefstat.PlackettLuce.predict_proba`. The last column is the
# probability that first place is shared.
systems = wmt_model.strengths_.sort_values("estimate", ascending=False)
first = wmt_model.predict_proba([list(systems.index)]).iloc[0]
leaderboard = systems[["estimate", "ci_lower", "ci_upper"]].assign(
    **{"P(first, alone)": first[systems.index]})
leaderboard.round(3)

# %%
print(f"P(first place is a tie of several systems) = {first['tie']:.2f}")

# %%
# Is the leader really ahead of the runner-up? The difference of two
# log-worths and its standard error come from the covariance matrix:
best, second = systems.index[:2]
cov = wmt_model.cov_.loc[("item", best), ("item", second)]
var = (wmt_model.cov_.loc[("item", best), ("item", best)]
       + wmt_model.cov_.loc[("item", second), ("item", second)] - 2 * cov)
gap = systems.loc[best, "estimate"] - systems.loc[second, "estimate"]
print(f"{best} − {second}: {gap:.3f} (SE {np.sqrt(var):.3f}, z = {gap / np.sqrt(var):.1f})")

# %%
# The picture: each system's log-worth with its 95% interval. The order is
# clear at the top and the bottom; the two middle systems overlap, so the
# evaluation does not separate them.
table = systems.iloc[::-1]
fig, ax = plt.subplots(figsize=(6.5, 3))
ax.errorbar(table["estimate"], np.arange(len(table)),
            xerr=[table["estimate"] - table["ci_lower"], table["ci_upper"] - table["estimate"]],
            fmt="o", capsize=3, color="C0")
ax.axvline(0, color="grey", lw=0.8, ls="--")
ax.set_yticks(np.arange(len(table)), table.index)
ax.set_xlabel("log-worth, sum to zero (95% Wald interval)")
ax.set_title(f"WMT12 Czech→English, {wmt_model.n_rankings_} rankings")
fig.tight_layout()

# %%
# What to act on: onlineB is the system judges preferred, ahead of
# uedin-wmt12 by the margin printed above; cu-bojar and onlineA cannot be
# ordered from these rankings, and uk-dan-moses and jhu-heiro trail.
# The intervals treat every ranking as an independent judgement; a ranking's
# pairs are never counted as independent (that would overstate the
# information, see :func:`~prefstat.convert.rankings_to_pairs`).
#
# Next: :doc:`/user_guide/plackett_luce` has the model, the ties and the
# identifiability conditions in full, and :doc:`/user_guide/ties_and_grades`
# compares the ways to handle ties in pairs and rankings.
