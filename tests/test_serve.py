"""The app's launcher (``python -m rope_viz.ui.serve``, what ``bash dev.sh app`` and deploy/start.sh run): the heavy
imports happen in the main thread before Streamlit starts, and the command line reaches Streamlit unchanged."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rope_viz.figures import FIGURE_MODULES
from rope_viz.ui import serve

ROOT = Path(__file__).resolve().parents[1]


def _python(code: str) -> str:
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout


def test_preload_imports_every_module_a_first_page_needs_in_a_fresh_interpreter():
    out = json.loads(_python(
        "import json, sys\n"
        "before = set(sys.modules)\n"
        "from rope_viz.ui import serve\n"
        "missing = serve.preload()\n"
        "print(json.dumps({'missing': missing, 'before': sorted(before), 'after': sorted(sys.modules)}))"))
    before, after = set(out["before"]), set(out["after"])
    optional = {name for name, opt in serve.PRELOAD if opt}
    assert set(out["missing"]) <= optional
    for name, _ in serve.PRELOAD:
        if name not in out["missing"]:
            assert name in after and name not in before, name
    for mod in FIGURE_MODULES:              # the registry's figure modules, which the first page would import
        assert f"rope_viz.figures.{mod}" in after, mod
    assert "torch" in after                 # installed with the app (requirements.txt): the Kernel page's import


def test_a_missing_optional_module_is_skipped_and_a_missing_required_one_raises():
    assert serve.preload((("rope_viz_no_such_module", True),)) == ["rope_viz_no_such_module"]
    with pytest.raises(ImportError):
        serve.preload((("rope_viz_no_such_module", False),))


def test_the_command_line_goes_to_streamlit_unchanged():
    r = subprocess.run([sys.executable, "-m", "rope_viz.ui.serve", "version"], cwd=ROOT, capture_output=True,
                       text=True, timeout=180)
    import streamlit

    assert r.returncode == 0, r.stderr[-2000:]
    assert streamlit.__version__ in r.stdout
    r = subprocess.run([sys.executable, "-m", "rope_viz.ui.serve", "run", "app.py", "--server.no-such-option", "1"],
                       cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert r.returncode != 0 and "no-such-option" in (r.stdout + r.stderr)


def test_the_server_runs_numpys_blas_single_threaded_and_leaves_torch_alone():
    code = ("import json, os\n"
            "os.environ.pop('OPENBLAS_NUM_THREADS', None)\n"
            "from threadpoolctl import threadpool_info\n"
            "from rope_viz.ui import serve\n"
            "serve.preload()\n"
            "import torch\n"
            "before = (torch.get_num_threads(), [i['num_threads'] for i in threadpool_info() "
            "if i['user_api'] == 'blas'])\n"
            "applied = serve.limit_blas_threads()\n"
            "after = (torch.get_num_threads(), [i['num_threads'] for i in threadpool_info() "
            "if i['user_api'] == 'blas'])\n"
            "print(json.dumps([applied, before, after]))")
    applied, (torch_before, blas_before), (torch_after, blas_after) = json.loads(_python(code))
    assert applied and blas_before and blas_after == [1] * len(blas_before)      # numpy's OpenBLAS found, now 1
    assert torch_after == torch_before


def test_an_explicit_openblas_thread_count_wins(monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    assert serve.limit_blas_threads() is False
