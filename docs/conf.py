"""Sphinx configuration for the prefstat documentation.

Build from the project root (warnings are errors)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The tutorials in ``examples/`` run at build time (sphinx-gallery), so a broken
tutorial fails the build. Tutorials on real data read them with
``prefstat.datasets.fetch_*``, which look in the data home first. The build
points the data home (``PREFSTAT_DATA``) at ``../shared/data`` beside the
project root when that folder exists and the variable is not already set;
its layout (``llm/arena_hard_battles.jsonl``, ...) is the data home's, so no
download happens. Elsewhere the fetchers download the files (network needed).
"""

from __future__ import annotations

import os
from pathlib import Path

import prefstat

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
if SHARED_DATA.is_dir():
    os.environ.setdefault("PREFSTAT_DATA", str(SHARED_DATA))

project = "prefstat"
author = "prefstat developers"
copyright = "prefstat developers"
release = prefstat.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build"]
root_doc = "index"
default_role = "code"

# -- API pages ---------------------------------------------------------------
# api.rst lists the public namespaces; the templates in _templates/autosummary
# list every name in each namespace's __all__, so a newly exported name gets a
# page without editing api.rst.
autosummary_generate = True
autosummary_imported_members = True
autosummary_ignore_module_all = False
# Names exported at the top level are documented once, as prefstat.<name>.
autosummary_context = {"toplevel": sorted(prefstat.__all__)}
autodoc_typehints = "none"
autodoc_default_options = {"member-order": "groupwise"}
# Methods are documented in full by the class template, not as numpydoc tables.
numpydoc_show_class_members = False

# No intersphinx: the docs build runs without network access.

# -- Tutorials ---------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": ["../examples"],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    # An exception in a tutorial fails the build (sphinx-gallery's default).
    "write_computation_times": False,
}

# -- HTML --------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"prefstat {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_static_path: list[str] = []
html_show_sourcelink = False
