"""Regenerate rope_viz/figures/men_bound_table.json:

* Men et al.'s minimum base vs context (``bounds.base_bound_curve``, 1K … 2M tokens, 100 grid points per decade) for
  the head widths (d, r) of every preset and the sidebar's default (the base advisor's curves: about a minute per
  width live);
* the certified infimum b*(L) (``bounds.base_lower_bound``, d = 128) at the lengths of Men et al.'s printed table
  (``bounds.MEN_TABLE_CONTEXTS``; minutes per length from 128K on), shown beside the printed values.

rope_viz.figures.aliasing reads them instead of computing them live; any other width is computed on demand.
tests/test_page_aliasing.py recomputes entries and compares them.

    python scripts/gen_bound_table.py [--exact-only]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rope_viz.analysis.bounds import (BOUND_CONTEXTS, BOUND_GRID_PER_DECADE, MEN_TABLE_CONTEXTS,  # noqa: E402
                                     base_bound_curve, base_lower_bound)
from rope_viz.presets import PRESETS  # noqa: E402

OUT = ROOT / "rope_viz" / "figures" / "men_bound_table.json"


def main() -> int:
    old = json.loads(OUT.read_text()) if OUT.exists() else {}
    widths = sorted({(p.config.head_dim, p.config.rotary_dim) for p in PRESETS.values()} | {(128, 128), (256, 256)})
    curves = old.get("curves", []) if "--exact-only" in sys.argv else []
    for d, r in ([] if "--exact-only" in sys.argv else widths):
        t0 = time.perf_counter()
        c = base_bound_curve(d, BOUND_CONTEXTS, rotary_dim=r)
        curves.append({"head_dim": d, "rotary_dim": r, "base": [None if b != b else float(b) for b in c["base"]]})
        print(f"d = {d}, r = {r}: {time.perf_counter() - t0:.1f} s", flush=True)
    exact = {}
    for L in MEN_TABLE_CONTEXTS:
        t0 = time.perf_counter()
        exact[str(L)] = base_lower_bound(128, L)
        print(f"b*(d = 128, L = {L:,}) = {exact[str(L)]:.8g}: {time.perf_counter() - t0:.1f} s", flush=True)
    OUT.write_text(json.dumps({"contexts": list(BOUND_CONTEXTS), "per_decade": BOUND_GRID_PER_DECADE,
                               "curves": curves, "men_exact_d128": exact}, indent=1) + "\n")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
