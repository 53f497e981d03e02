"""Regenerate rope_viz/figures/men_bound_table.json: Men et al.'s minimum base vs context (``bounds.base_bound_curve``,
1K … 2M tokens, 100 grid points per decade) for the head widths (d, r) of every preset and the sidebar's default.

The base advisor (rope_viz.figures.aliasing) reads these curves instead of computing them live (about a minute per
width); any other width is computed on demand. tests/test_page_aliasing.py recomputes entries and compares them.

    python scripts/gen_bound_table.py
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rope_viz.analysis.bounds import BOUND_CONTEXTS, BOUND_GRID_PER_DECADE, base_bound_curve  # noqa: E402
from rope_viz.presets import PRESETS  # noqa: E402

OUT = ROOT / "rope_viz" / "figures" / "men_bound_table.json"


def main() -> int:
    widths = sorted({(p.config.head_dim, p.config.rotary_dim) for p in PRESETS.values()} | {(128, 128), (256, 256)})
    curves = []
    for d, r in widths:
        t0 = time.perf_counter()
        c = base_bound_curve(d, BOUND_CONTEXTS, rotary_dim=r)
        curves.append({"head_dim": d, "rotary_dim": r, "base": [None if b != b else float(b) for b in c["base"]]})
        print(f"d = {d}, r = {r}: {time.perf_counter() - t0:.1f} s", flush=True)
    OUT.write_text(json.dumps({"contexts": list(BOUND_CONTEXTS), "per_decade": BOUND_GRID_PER_DECADE,
                               "curves": curves}, indent=1) + "\n")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
