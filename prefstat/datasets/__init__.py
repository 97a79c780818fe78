"""Bundled and simulated comparison data.

Bundled tables are written by the project from published facts; each loader's
docstring records its source.

- :func:`load_citations`: Stigler's (1994) citation counts among four
  statistics journals, as printed in Agresti (2002), p. 448.
- :func:`simulate_comparisons`: paired comparisons from a documented
  generative model (Bradley–Terry or Thurstone strengths, Davidson ties, order
  effects, rater reliability and bias, spammers, label flips, planted cycles),
  returned with the truth that generated them.
"""

from __future__ import annotations

from ._citations import load_citations
from ._fetch import (
    fetch_arena_battles,
    fetch_hh_rlhf,
    fetch_nascar,
    fetch_pandalm,
    fetch_sounds,
    fetch_tulu_human_eval,
    fetch_wmt12,
    get_data_home,
)
from ._rankings import SimulatedRankings, simulate_rankings
from ._simulate import PlantedCycle, SimulatedComparisons, simulate_comparisons

__all__ = [
    "PlantedCycle",
    "SimulatedComparisons",
    "SimulatedRankings",
    "fetch_arena_battles",
    "fetch_hh_rlhf",
    "fetch_nascar",
    "fetch_pandalm",
    "fetch_sounds",
    "fetch_tulu_human_eval",
    "fetch_wmt12",
    "get_data_home",
    "load_citations",
    "simulate_comparisons",
    "simulate_rankings",
]
