"""Project-wide pytest configuration: doctests that need an optional package, open figures.

A module may declare ``__doctest_requires__ = {"function": ("module", ...)}``;
the doctest of each listed function is skipped, with the reason, where one of
its modules cannot be imported (CI installs only the ``test`` and ``docs``
extras). Elsewhere the examples run like every other doctest.

The :mod:`prefstat.plotting` functions draw pyplot figures; every test and doctest
closes what it left open, so that pyplot's "more than 20 figures" warning (an error
under ``filterwarnings = error``) never depends on which tests ran before.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator

import pytest


def _missing(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is None
    except ModuleNotFoundError:  # the parent package is absent
        return True


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the doctests whose ``__doctest_requires__`` modules are not installed."""
    for item in items:
        if not isinstance(item, pytest.DoctestItem) or item.dtest is None:
            continue
        module = getattr(item.parent, "obj", None)
        requires = getattr(module, "__doctest_requires__", {})
        if not requires:
            continue
        name = item.dtest.name.removeprefix(f"{module.__name__}.")
        requires = requires.get(name, ())
        absent = [m for m in requires if _missing(m)]
        if absent:
            item.add_marker(pytest.mark.skip(
                reason=f"doctest needs {', '.join(absent)}, which is not installed"))


@pytest.fixture(autouse=True)
def _close_pyplot_figures() -> Iterator[None]:
    yield
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")
