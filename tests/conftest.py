"""Shared test fixtures.

Real data sets live in ``../shared/data`` beside the project root. They are not
part of the package; tests that read them skip (with a reason) where the folder
is absent, so the suite still passes on a fresh clone.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def shared_file(relative: str) -> Path:
    """Path to a file under ``../shared/data``; skip the test where it is absent."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"{relative} not found under {SHARED_DATA} (shared data absent)")
    return path


@pytest.fixture
def shared():
    """The ``shared_file`` helper as a fixture: ``shared('llm/pandalm_testset_v1.json')``."""
    return shared_file
