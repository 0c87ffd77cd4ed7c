"""Sphinx configuration for the crmcore documentation (built with warnings as errors)."""

from __future__ import annotations

import crmcore

project = "crmcore"
author = "crmcore developers"
copyright = "2026, crmcore developers"
release = crmcore.__version__

extensions = [
    "myst_nb",  # MyST Markdown, and the notebooks in it executed by the build
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
]
source_suffix = {".md": "myst-nb", ".rst": "restructuredtext"}
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
exclude_patterns = ["_build", "**/make_figures.py", "jupyter_execute", ".jupyter_cache"]

# Notebook pages (MyST Markdown with a jupytext header: guides/quickstart-notebook, gallery) are
# run on every build, so the figures shown are the ones this code draws; a failing cell fails
# the build.
nb_execution_mode = "force"
nb_execution_raise_on_error = True
nb_execution_timeout = 300
nb_merge_streams = True

napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
nitpicky = False

html_theme = "furo"
html_title = "crmcore"
