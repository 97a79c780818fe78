"""The documentation builds with warnings as errors, and every tutorial draws a figure.

Runs the same command as CI's docs build, into a temporary folder, with the
tutorials executed afresh. Needs the ``docs`` extra; skips without Sphinx.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from prefstat.datasets import _fetch

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
TUTORIALS = sorted((ROOT / "examples").glob("plot_*.py"))
BUILD_TIMEOUT_SECONDS = 900  # about 20 s on the CI machine; generous for a cold cache


def _data_home() -> Path:
    """The data home the build will use (docs/conf.py's rule)."""
    shared = ROOT.parent / "shared" / "data"
    if not os.environ.get(_fetch.DATA_HOME_ENV) and shared.is_dir():
        return shared
    return _fetch.get_data_home()


@pytest.mark.slow
def test_docs_build_and_every_tutorial_has_a_figure(tmp_path):
    pytest.importorskip("sphinx", reason="Sphinx is not installed (pip install -e '.[docs]')")
    # The docs extra: Sphinx's extensions, and what the tutorials import (matplotlib; dask
    # and distributed for plot_dask_aggregation.py).
    for extension in ("numpydoc", "sphinx_gallery", "pydata_sphinx_theme", "matplotlib",
                      "dask.dataframe", "distributed"):
        pytest.importorskip(extension, reason=f"{extension} is not installed (the docs extra)")
    home = _data_home()
    missing = [f.path for f in _fetch._FILES.values() if not (home / f.path).is_file()]
    if missing:
        pytest.skip(f"the tutorials' data are not in {home} ({', '.join(missing)}); "
                    "the build would download them")
    out = tmp_path / "html"
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html",
         "-d", str(tmp_path / "doctrees"),
         "-D", "sphinx_gallery_conf.run_stale_examples=True",
         str(DOCS), str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=BUILD_TIMEOUT_SECONDS,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    assert TUTORIALS, "no tutorials in examples/"
    for script in TUTORIALS:
        page = out / "auto_examples" / f"{script.stem}.html"
        assert page.is_file(), f"no page for {script.name}"
        assert "<img" in page.read_text(encoding="utf-8"), f"{page.name} shows no figure"
    assert (out / "api.html").is_file()
