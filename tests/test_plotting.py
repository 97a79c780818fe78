"""Where the prefstat.plotting figures live: pyplot's, the caller's, or nobody's."""

from __future__ import annotations

import pandas as pd
import pytest

from prefstat import BradleyTerry
from prefstat.datasets import load_citations
from prefstat.plotting import _standalone_figures, plot_cycle, plot_strengths

plt = pytest.importorskip("matplotlib.pyplot")

CYCLE = pd.DataFrame({"item_a": ["rock", "paper", "scissors"] * 2,
                      "item_b": ["scissors", "rock", "paper"] * 2,
                      "outcome": ["a"] * 6})
ITEMS = ["rock", "scissors", "paper"]


def test_without_ax_the_figure_is_pyplots():
    """What sphinx-gallery's scraper and a notebook's inline backend collect."""
    fig = plot_cycle(CYCLE, ITEMS)
    assert plt.get_fignums() == [fig.number]
    assert plt.gcf() is fig
    model = BradleyTerry().fit(load_citations(), weight="weight")
    forest = plot_strengths(model)
    assert plt.get_fignums() == [fig.number, forest.number]
    plt.close(forest)
    assert plt.get_fignums() == [fig.number]


def test_with_ax_nothing_new_is_created():
    own, ax = plt.subplots()
    assert plot_cycle(CYCLE, ITEMS, ax=ax) is own
    assert plt.get_fignums() == [own.number]


def test_standalone_figures_stay_out_of_pyplot():
    with _standalone_figures():
        fig = plot_cycle(CYCLE, ITEMS)
    assert plt.get_fignums() == []
    assert fig.axes and len(fig.axes[0].texts) > 0
    # The context ends with the block.
    after = plot_cycle(CYCLE, ITEMS)
    assert plt.get_fignums() == [after.number]
