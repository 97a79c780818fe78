"""
An LLM leaderboard from judge battles
=====================================

Arena-Hard-Auto ranks language models by asking an LLM judge to compare each
model's answer with a baseline model's answer, prompt by prompt. Its published
battles (Li et al., 2024) are a real arena-format table: ``model_a``,
``model_b`` and the ``winner``. This tutorial turns them into a leaderboard on
the Elo scale with an interval for every rating, and shows why intervals that
treat every battle as an independent judgement are too narrow here.
"""

# %%
# The battles
# -----------
# :func:`prefstat.datasets.fetch_arena_battles` downloads the file at a pinned
# revision, checks its SHA-256 checksum and keeps it in the data home, so
# later calls read the local copy.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import prefstat
from prefstat.convert import from_arena
from prefstat.datasets import fetch_arena_battles

battles = fetch_arena_battles()
battles.head()

# %%
# Every battle puts a model against the same baseline, Claude 3 Haiku: the
# comparison graph is a star, and the four other models are compared with
# one another only through the baseline.
pd.crosstab([battles["model_a"], battles["model_b"]], battles["winner"])

# %%
# The rows are not independent judgements. Arena-Hard-Auto judges each answer
# pair twice, once in each position, and writes a clear win as three rows, so
# one prompt contributes 2, 4 or 6 rows for each model:
battles.groupby(["question_id", "model_b"]).size().value_counts().sort_index().rename(
    "prompt-model pairs")

# %%
# To the canonical table
# ----------------------
# :func:`prefstat.convert.from_arena` maps ``winner`` to the canonical
# outcomes (``"model_a"`` to ``"a"``, ``"tie"`` to ``"tie"``, ...) and keeps
# ``question_id``. An unknown winner would be an error, not a tie.
comparisons = from_arena(battles)
comparisons["outcome"].value_counts()

# %%
# Fit the model
# -------------
# 31 battles are ties, so the model needs a ties model: Davidson's adds one
# tie parameter and keeps the Bradley–Terry odds for decisive outcomes.
# Strengths are measured against the baseline (``reference``), as the
# leaderboard reports them.
BASELINE = "claude-3-haiku-20240307"
model = prefstat.BradleyTerry(ties="davidson", reference=BASELINE).fit(comparisons)
model.summary()

# %%
# On the Elo scale a difference of 400 points means odds of 10 to 1 in a
# decisive battle. With the baseline anchored at 1000, the Wald intervals of
# the ratings are those of the differences from the baseline:
model.elo(anchor=BASELINE, anchor_value=1000).round(1)

# %%
# Intervals that respect the prompts
# ----------------------------------
# The Wald intervals above count all 2,136 rows as independent. Resampling
# whole prompts (the cluster bootstrap, with ``cluster="question_id"``)
# keeps the rows of a prompt together, and measures how much the leaderboard
# would move on another draw of 120 prompts.
boot = model.bootstrap(comparisons, n_boot=1000, cluster="question_id", random_state=0)
boot.summary()

# %%
# The prompt-level standard errors are about twice the Wald ones: the
# repeated and tripled rows of a prompt carry much less information than as
# many independent judgements would.
se = pd.DataFrame({"Wald": model.strengths_["se"], "prompt bootstrap": boot.strengths["se"]})
se["ratio"] = se["prompt bootstrap"] / se["Wald"]
se.drop(index=BASELINE).round(3)

# %%
# The leaderboard
# ---------------
# The same strengths on the Elo scale, with both intervals and the interval
# of each model's rank over the bootstrap replicates.
POINTS = 400 / np.log(10)


def to_elo(log_strength):
    """Elo rating of a log-strength measured against the baseline."""
    return 1000 + POINTS * log_strength


elo = model.elo(anchor=BASELINE, anchor_value=1000)
leaderboard = pd.DataFrame({
    "rating": elo["rating"],
    "Wald low": elo["ci_lower"],
    "Wald high": elo["ci_upper"],
    "bootstrap low": to_elo(boot.strengths["ci_lower"]),
    "bootstrap high": to_elo(boot.strengths["ci_upper"]),
}).join(boot.ranks[["rank_lower", "rank_upper"]]).sort_values("rating", ascending=False)
leaderboard.round().astype(int)

# %%
# The forest plot puts the two intervals side by side.
table = leaderboard.sort_values("rating")
rows = np.arange(len(table))
fig, ax = plt.subplots(figsize=(7, 3.4))
for offset, kind, label, colour in [(-0.12, "Wald", "Wald 95% (rows independent)", "C1"),
                                    (0.12, "bootstrap", "prompt bootstrap 95%", "C0")]:
    ax.errorbar(table["rating"], rows + offset,
                xerr=[table["rating"] - table[f"{kind} low"],
                      table[f"{kind} high"] - table["rating"]],
                fmt="o", ms=4, capsize=3, color=colour, label=label)
ax.set_yticks(rows, table.index)
ax.set_xlabel("Elo rating (baseline Claude 3 Haiku = 1000)")
ax.set_title("Arena-Hard-Auto: Elo ratings with 95% intervals")
ax.legend(loc="lower right", fontsize="small")
fig.tight_layout()

# %%
# Is the top model really first?
# ------------------------------
# The share of bootstrap replicates in which Claude 3.5 Sonnet is stronger
# than GPT-4o, and the model's probability that Sonnet wins a decisive battle
# against GPT-4o:
strength = pd.DataFrame(boot.replicates, columns=boot.params.index)["item"]
sonnet_first = float((strength["claude-3-5-sonnet-20240620"] > strength["gpt-4o"]).mean())
p = model.predict_proba("claude-3-5-sonnet-20240620", "gpt-4o").iloc[0]
print(f"Sonnet stronger in {sonnet_first:.0%} of prompt resamples; "
      f"P(Sonnet wins | decisive) = {p['a'] / (p['a'] + p['b']):.2f}")

# %%
# What to act on: Claude 3.5 Sonnet and GPT-4o share the top of this
# leaderboard, and GPT-4o-mini and Claude 3 Opus share the next place; the
# rank intervals say so, and only the prompt-level intervals are wide enough
# to be trusted. Ordering models inside those groups would need more prompts,
# not more judge calls on the same prompts. A position bias of the judge
# cannot be measured from this table: it records the baseline as ``model_a``
# in every row, with the judge's two answer orders folded together.
