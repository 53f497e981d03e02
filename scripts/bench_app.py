"""Browser performance of the app (issue 3): headless Debian chromium on this machine, via Playwright.

For every page (landing + pages/*.py):
  * slider → chart redrawn: press ArrowRight on a slider (the first main-area slider that changes a chart, else the
    sidebar base) N times; each sample is the time from the key press to the last chart DOM change of the rerun it
    triggers (MutationObserver, performance.now()). Reports the median and p90 (target: median ≤ 300 ms), and the
    median time to the first chart change (when a slider feeds several charts, the first one a user sees move).
  * page rerun at the maximum settings: open the page with d = 256, L = 2,097,152 (and base 1e6) in the URL, then
    time a change of the sidebar base (a full rerun, nothing cached for the new config) until every chart settled
    (target ≤ 1.5 s).
A baseline is measured in the same run: a toy Streamlit page with one slider and one Plotly chart (1,000 points),
so the table gives each page's redraw time as a multiple of the fastest a Streamlit + Plotly page can be here.
Prints a table; ``--json FILE`` also writes the numbers. The load average is printed too: other processes on a
2-core machine inflate every number.

    python scripts/bench_app.py [--samples 8] [--pages Frequencies,Context_extension] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import appserver as A  # noqa: E402

MAX_QUERY = "d=256&L=2097152&b=1000000"
TOY_APP = """
import numpy as np
import plotly.graph_objects as go
import streamlit as st

st.title("Toy page: one slider, one chart")
k = st.slider("frequency k", 1, 50, 10)
x = np.linspace(0.0, 10.0, 1000)
st.plotly_chart(go.Figure(go.Scatter(x=x, y=np.sin(k * x), name="sin(kx)")), width="stretch")
"""


def _p90(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(0.9 * (len(xs) - 1))))]


def bench_page(ctx, url: str, path: str, samples: int, max_settings: bool = True, name: str | None = None) -> dict:
    page = ctx.new_page()
    out: dict = {"page": name or path or "Intuition"}
    try:
        t0 = time.monotonic()
        page.goto(f"{url}/{path}")
        A.wait_idle(page, timeout_ms=300_000)
        out["cold_load_s"] = round(time.monotonic() - t0, 2)
        page.evaluate(A.OBSERVE_JS)
        slider, first = A.redraw_after_some_slider(page)
        if slider is None:
            out["error"] = "no slider changed a chart"
            return out
        times, firsts = [], []
        for i in range(samples):
            ms = A.timed_slider_step(page, slider, key="ArrowRight" if i % 6 < 5 else "ArrowLeft", first_out=firsts)
            if ms is not None:
                times.append(ms)
        if not times:
            out["error"] = "the slider stopped changing the charts"
            return out
        out["slider"] = slider.get_attribute("aria-label") or "?"
        out["redraw_ms"] = [round(t) for t in times]
        out["redraw_median_ms"] = round(statistics.median(times))
        out["redraw_p90_ms"] = round(_p90(times))
        out["first_chart_median_ms"] = round(statistics.median(firsts))
        if not max_settings:
            return out
        # max settings: load, then time one full rerun with a new (uncached) base
        sep = "&" if "?" in path else "?"
        page.goto(f"{url}/{path}{sep}{MAX_QUERY}")
        A.wait_idle(page, timeout_ms=300_000)
        page.evaluate(A.OBSERVE_JS)
        base = page.get_by_role("slider", name=A.SIDEBAR_SLIDER).first
        ms = A.timed_slider_step(page, base, quiet_ms=600, timeout_s=120)
        out["max_rerun_ms"] = None if ms is None else round(ms)
        out["exceptions"] = page.locator(A.EXCEPTION).count()
    finally:
        page.close()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=8)
    ap.add_argument("--pages", help="comma-separated URL names (default: all)")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    pages = A.app_pages()
    if args.pages:
        want = set(args.pages.split(","))
        pages = [(t, p) for t, p in pages if (p or "Intuition") in want]
    results = []
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p, A.browser(p) as ctx:
        toy = Path(tmp) / "toy_app.py"
        toy.write_text(TOY_APP)
        with A.running_app(script=toy) as toy_url:
            baseline = bench_page(ctx, toy_url, "", args.samples, max_settings=False, name="(toy page)")
        print(json.dumps(baseline), flush=True)
    toy_ms = baseline.get("redraw_median_ms")
    with A.running_app() as url, sync_playwright() as p, A.browser(p) as ctx:
        for title, path in pages:
            r = bench_page(ctx, url, path, args.samples)
            results.append(r)
            print(json.dumps(r), flush=True)
    load1 = os.getloadavg()[0]
    print(f"\nload average (1 min) before/after: {load0:.1f} / {load1:.1f} on {os.cpu_count()} cores")
    print(f"{'page':<22}{'cold load s':>12}{'redraw median ms':>18}{'× toy':>7}{'p90 ms':>8}{'first chart ms':>16}"
          f"{'max-settings rerun ms':>23}")
    for r in [baseline] + results:
        med = r.get("redraw_median_ms")
        ratio = f"{med / toy_ms:.1f}" if med and toy_ms else "-"
        print(f"{r['page']:<22}{r.get('cold_load_s', '-'):>12}{med if med is not None else '-':>18}{ratio:>7}"
              f"{r.get('redraw_p90_ms', '-'):>8}{r.get('first_chart_median_ms', '-'):>16}"
              f"{str(r.get('max_rerun_ms', '-')):>23}")
    if args.json:
        Path(args.json).write_text(json.dumps({"load": [load0, load1], "toy": baseline, "pages": results},
                                              indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
