"""Sphinx configuration for the sinkcheck worked companion (MyST-NB executed pages)."""

project = "sinkcheck"
author = "sinkcheck developers"
from sinkcheck import __version__ as release  # noqa: E402

extensions = ["myst_nb", "sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.mathjax",
              "sphinx-mathjax-offline"]  # MathJax served from the build, no network
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
nb_execution_mode = "cache"
nb_execution_timeout = 300
nb_execution_raise_on_error = True
nb_merge_streams = True
nb_render_markdown_format = "gfm"  # tables in Markdown outputs (the claims ledger page)
exclude_patterns = ["_build", "jupyter_execute", ".jupyter_cache", "README.md"]
html_theme = "furo"
html_title = f"sinkcheck {release}"
autodoc_member_order = "bysource"
autodoc_typehints = "description"
suppress_warnings = ["mystnb.unknown_mime_type"]
# external types cannot be cross-referenced offline (no intersphinx): do not warn about them
nitpick_ignore_regex = [(r"py:(class|obj|data)", r"(numpy|np|torch|sympy|sp|scipy|cvxpy|cp|pathlib|fractions|click|tqdm|matplotlib|plt|hypothesis)(\..*)?"),
                        (r"py:(class|obj|data)", r"(Path|Any|Callable|Fraction|CheckFn|optional|callable|array_like|Table|Certificate|Context)")]
