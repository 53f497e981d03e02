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

numpy's BLAS (OpenBLAS) runs single-threaded in the server (``limit_blas_threads``; ``OPENBLAS_NUM_THREADS`` set in
the environment wins). Every session's script runs in a thread of its own, and on a developer's machine the browser
shares the cores too; OpenBLAS's worker threads spin while they wait for a core, so its parallel matrix products made
reruns slower, not faster (measured on 2 cores, Distance page, sidebar base changed: script run 160–380 ms with
OpenBLAS's 2 threads, 48–155 ms with one). torch keeps its own threads (the Kernel benchmark, real-model runs).
"""

from __future__ import annotations

import importlib
import os
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


def limit_blas_threads(n: int = 1) -> bool:
    """Limit numpy's BLAS to ``n`` threads for the rest of the process, unless ``OPENBLAS_NUM_THREADS`` is set (the
    user's choice). Returns whether a limit was applied (False also when threadpoolctl is not installed). torch's
    thread pools are not BLAS libraries threadpoolctl sees as such, and are left alone."""
    if os.environ.get("OPENBLAS_NUM_THREADS"):
        return False
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return False
    threadpool_limits(limits=n, user_api="blas")     # used as a function: the limit stays for the process
    return True


def main(argv: list[str] | None = None) -> int:
    """``preload()`` and ``limit_blas_threads()``, then Streamlit's own command line with ``argv`` (default: this
    process's arguments)."""
    args = list(sys.argv[1:] if argv is None else argv)
    preload()
    limit_blas_threads()
    from streamlit.web.cli import main as streamlit_main

    sys.argv = ["streamlit", *args]
    return streamlit_main()


if __name__ == "__main__":
    sys.exit(main())
