"""Start the app's Streamlit server after the imports that a fresh process's first visitor would otherwise wait for.

    python -m rope_viz.ui.serve run app.py [streamlit options]      # what ``bash dev.sh app`` runs

Everything after the module name goes to the ``streamlit`` command line unchanged. Before the server listens, the
main thread imports ``PRELOAD``: pandas, plotly, the app's figure modules, kaleido (the export menu) and torch (the
Kernel and Real model pages). Streamlit imports a page's modules during its first script run, so in a fresh server
the first visitor paid for them (measured: Intuition's first run 0.75 s → 0.3 s, the Kernel page's 2.0 s → 0.3 s;
the server starts that much later instead, before it prints its address). Importing them in the main thread also
means no script thread ever sees a half-imported module: plotly looks pandas up in ``sys.modules`` without the
import lock, and two sessions importing pandas at once once failed a page ("partially initialized module").
Optional packages that are not installed (torch, kaleido) are skipped: the pages that need them say so.
"""

from __future__ import annotations

import importlib
import sys

# (module, optional): an optional one may be missing (the app runs without it); a required one must import
PRELOAD: tuple[tuple[str, bool], ...] = (
    ("pandas", False),
    ("plotly.graph_objects", False),
    ("plotly.io", False),
    ("rope_viz.ui", False),
    ("rope_viz.figures", False),
    ("rope_viz.models.analysis", False),
    ("kaleido", True),
    ("torch", True),
)


def preload(modules: tuple[tuple[str, bool], ...] = PRELOAD) -> list[str]:
    """Import ``modules`` (and every registered figure module) in this thread; returns the optional ones missing.
    A required module that fails to import raises, as the page would."""
    missing = []
    for name, optional in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            if not optional:
                raise
            missing.append(name)
    from rope_viz.figures import figures

    figures()   # the registry imports every figure module on first use
    return missing


def main(argv: list[str] | None = None) -> int:
    """``preload()``, then Streamlit's own command line with ``argv`` (default: this process's arguments)."""
    args = list(sys.argv[1:] if argv is None else argv)
    preload()
    from streamlit.web.cli import main as streamlit_main

    sys.argv = ["streamlit", *args]
    return streamlit_main()


if __name__ == "__main__":
    sys.exit(main())
