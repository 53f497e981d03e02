"""Browser performance of the app (issues 3 and 12): headless Debian chromium on this machine, via Playwright.

For every page (landing + pages/*.py):
  * load, two ways, each in a fresh browser context (empty cache: the static JS is fetched like a new visitor's) and
    timed from the navigation to the last change of the page's content in its first run (MutationObserver,
    performance.now(), once every element and chart has drawn: the last chart, or on a section without a chart, such
    as the Kernel benchmark before a run, the last element):
    - "first visit": the first page a fresh server serves (a new server per page: it pays the first imports, as a
      dev server or a replica that was not warmed up would);
    - "new visitor": a server warmed up like deploy/start.sh does it (deploy/warm_up.py visits every page once),
      then each page opened by a new visitor (target ≤ 3 s).
  * slider → chart redrawn (in one browser profile shared by every page, as in earlier runs of this script, so
    the JavaScript is as warm as after a few pages; a page whose first section has no chart is measured in the
    first section where a slider redraws one): press ArrowRight on a slider (the first main-area slider that
    changes a chart, else the sidebar base) N times; each sample is the time from the key press to the last chart
    DOM change of the rerun it triggers. Reports the median and p90 (target: median ≤ 300 ms), and the median time
    to the first chart change (when a slider feeds several charts, the first one a user sees move).
  * page rerun at the maximum settings: open the page with d = 256, L = 2,097,152 (and base 1e6) in the URL, then
    time a change of the sidebar base (a full rerun, nothing cached for the new config) until every chart settled
    (target ≤ 1.5 s). Pages without the sidebar base (Real model) are left out of this one.
A baseline is measured in the same run and the same ways: a toy Streamlit page with one slider and one Plotly chart
(1,000 points), so the table gives each page's times as a multiple of the fastest a Streamlit + Plotly page can be
here. The toy's server stays up for the whole run and the toy is measured beside every page, not once at the start:
each page's new-visitor loads alternate with the toy's (toy, page, page, toy, ... ``--loads`` of each), and its
redraws follow a few toy redraws in the same browser, so each ratio compares numbers taken within seconds of each
other (on a shared 2-core machine the same loop runs ±30 % slower from one minute to the next). A second toy page
draws one S × S heatmap instead (its slider steps S by 32 from 256, as the Aliasing page's map does), the floor for a
page whose slider redraws a heatmap of that size. Prints a table; ``--json FILE`` also writes the numbers. The load
average is printed too: other processes on a 2-core machine inflate every number.

    python scripts/bench_app.py [--samples 8] [--loads 3] [--pages Frequencies,Context_extension]
                                [--no-first-visit] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
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
# The same, drawing a heatmap instead: S × S cells for S samples (default 256, step 32, like the Aliasing page's
# position-similarity map), so a heatmap page's redraws have a floor measured in the same run too.
TOY_HEATMAP_APP = """
import numpy as np
import plotly.graph_objects as go
import streamlit as st

st.title("Toy page: one slider, one heatmap")
n = st.slider("samples S", 32, 1024, 256, step=32)
x = np.arange(1, n + 1)
z = np.cos(np.subtract.outer(x, x) / 30.0).astype(np.float32)
st.plotly_chart(go.Figure(go.Heatmap(x=x, y=x, z=z, zmin=-1, zmax=1, zsmooth="fast")), width="stretch")
"""


# Installed before the page's own scripts: timestamps every change of the page's content (main area and sidebar,
# charts included) from the navigation on (performance.now() counts from the navigation start), so a load is timed
# to its last visible change, not to a polling loop's wake-up.
LOAD_OBSERVER = """(() => {
  window.__rv = {content: 0};
  const obs = new MutationObserver((muts) => {
    for (const m of muts) {
      const el = m.target.nodeType === 1 ? m.target : m.target.parentElement;
      if (el && el.closest && el.closest('[data-testid="stMain"], [data-testid="stSidebar"]')) {
        window.__rv.content = performance.now(); return; }
    }
  });
  obs.observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
  window.__rvLoadObs = obs;
})()"""
VIEWPORT = {"width": 1400, "height": 1000}


def first_load(browser, url: str, path: str, quiet_ms: float = 600, timeout_s: float = 300):
    """Open ``url/path`` in a new browser context (empty cache); returns (seconds from the navigation to the last
    change of the page's content in its first run — its last chart drawn, or on a section without a chart its last
    element — the context, the page). The caller closes the context."""
    ctx = browser.new_context(viewport=VIEWPORT)
    page = ctx.new_page()
    page.add_init_script(LOAD_OBSERVER)
    page.goto(f"{url}/{path}")
    A.wait_idle(page, timeout_ms=timeout_s * 1000, charts=False)       # every element and chart drawn
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:     # the script is idle; wait until the content has been quiet for quiet_ms
        script, last, now = page.evaluate("() => [document.querySelector('[data-testid=\"stApp\"]')"
                                          ".getAttribute('data-test-script-state'), window.__rv.content, "
                                          "performance.now()]")
        if script == "notRunning" and now - last >= quiet_ms:
            break
        page.wait_for_timeout(50)
    last = page.evaluate("() => { window.__rvLoadObs.disconnect(); return window.__rv.content; }")
    return round(last / 1000, 2), ctx, page


def _p90(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(0.9 * (len(xs) - 1))))]


def visitor_loads(browser, url: str, path: str, rounds: int, toy_url: str | None = None) -> dict:
    """``rounds`` new-visitor loads of ``path`` (each in a fresh context), alternating with as many of the toy page
    at ``toy_url`` (toy, page, page, toy, ...): the medians of both and their ratio."""
    page_s, toy_s = [], []
    for i in range(rounds):
        order = [(url, path, page_s), (toy_url, "", toy_s)]
        for u, pth, out in (order[::-1] if i % 2 == 0 else order):
            if u is None:
                continue
            secs, ctx, _ = first_load(browser, u, pth)
            ctx.close()
            out.append(secs)
    r = {"new_visitor_s": round(statistics.median(page_s), 2), "new_visitor_runs_s": page_s}
    if toy_s:
        r["toy_new_visitor_s"] = round(statistics.median(toy_s), 2)
        r["new_visitor_x_toy"] = round(r["new_visitor_s"] / r["toy_new_visitor_s"], 2)
    return r


def slider_redraws(page, slider, samples: int) -> tuple[list[float], list[float]]:
    """``samples`` slider steps on ``page`` (OBSERVE_JS installed): the ms to the last and to the first chart change
    of each (every 6th step goes back to a value seen before; at the end of the range the slider turns round)."""
    times, firsts = [], []
    keys = ("ArrowRight", "ArrowLeft")
    forward = 0                  # index into keys
    for i in range(samples):
        back = i % 6 == 5
        ms = A.timed_slider_step(page, slider, key=keys[forward ^ back], first_out=firsts)
        if ms is None:           # the end of the slider's range: turn round
            forward ^= 1
            ms = A.timed_slider_step(page, slider, key=keys[forward ^ back], first_out=firsts)
        if ms is not None:
            times.append(ms)
    return times, firsts


def toy_redraw_ms(shared, toy_url: str, samples: int) -> float | None:
    """The toy page's median slider redraw in the ``shared`` context, measured now (beside a page's redraws)."""
    page = shared.new_page()
    try:
        page.goto(toy_url)
        A.wait_idle(page)
        page.evaluate(A.OBSERVE_JS)
        times, _ = slider_redraws(page, A.main_slider(page), samples)
        return round(statistics.median(times)) if times else None
    finally:
        page.close()


def bench_page(browser, shared, url: str, path: str, samples: int, max_settings: bool = True,
               name: str | None = None, loads: int = 1, toy_url: str | None = None) -> dict:
    """New-visitor loads of ``path`` (each in a fresh context of ``browser``; with ``toy_url`` alternating with the
    toy's), then the slider redraws (after ``samples // 2`` toy redraws when ``toy_url`` is given) and the
    max-settings rerun in the ``shared`` context (one browser profile for every page, as before the loads were
    split out: redraws are measured with the browser's JavaScript as warm as a visitor's after a few pages, so the
    medians stay comparable with earlier runs)."""
    out: dict = {"page": name or path or "Intuition"}
    out.update(visitor_loads(browser, url, path, loads, toy_url))
    if toy_url is not None:
        out["toy_redraw_median_ms"] = toy_redraw_ms(shared, toy_url, max(samples // 2, 3))
    page = shared.new_page()
    try:
        page.goto(f"{url}/{path}")
        A.wait_idle(page, timeout_ms=300_000, charts=False)
        view, slider, first = A.slider_view(page, url, path)
        if view != path:
            out["redraw_view"] = path = view
        if slider is None:
            out["error"] = "no slider changed a chart"
            return out
        times, firsts = slider_redraws(page, slider, samples)
        if not times:
            out["error"] = "the slider stopped changing the charts"
            return out
        out["slider"] = slider.get_attribute("aria-label") or "?"
        out["redraw_ms"] = [round(t) for t in times]
        out["redraw_median_ms"] = round(statistics.median(times))
        out["redraw_p90_ms"] = round(_p90(times))
        out["first_chart_median_ms"] = round(statistics.median(firsts))
        if out.get("toy_redraw_median_ms"):
            out["redraw_x_toy"] = round(out["redraw_median_ms"] / out["toy_redraw_median_ms"], 1)
        if not max_settings:
            return out
        # max settings: load, then time one full rerun with a new (uncached) base
        sep = "&" if "?" in path else "?"
        page.goto(f"{url}/{path}{sep}{MAX_QUERY}")
        A.wait_idle(page, timeout_ms=300_000)
        base = page.get_by_role("slider", name=A.SIDEBAR_SLIDER)
        if base.count():
            page.evaluate(A.OBSERVE_JS)
            ms = A.timed_slider_step(page, base.first, quiet_ms=600, timeout_s=120)
            out["max_rerun_ms"] = None if ms is None else round(ms)
        out["exceptions"] = page.locator(A.EXCEPTION).count()
    finally:
        page.close()
    return out


def first_visits(browser, pages, script: Path | None = None) -> dict[str, float]:
    """Each page as the first one a fresh server serves (one server per page), in a fresh context: {path: seconds}."""
    out = {}
    for title, path in pages:
        with A.running_app(script=script) as url:
            secs, ctx, _ = first_load(browser, url, path)
            ctx.close()
        out[path] = secs
        print(f"first visit after server start, {title}: {secs} s", flush=True)
    return out


def warm_up(url: str) -> None:
    """What deploy/start.sh does before visitors arrive: deploy/warm_up.py visits every page once."""
    r = subprocess.run([sys.executable, str(A.ROOT / "deploy" / "warm_up.py"), url], cwd=A.ROOT,
                       capture_output=True, text=True, timeout=900)
    print((r.stderr or r.stdout).strip(), flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=8)
    ap.add_argument("--loads", type=int, default=3,
                    help="new-visitor loads per page, each beside one of the toy page (default 3)")
    ap.add_argument("--pages", help="comma-separated URL names (default: all)")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--no-first-visit", action="store_true",
                    help="skip the first-visit loads (a fresh server per page: the slowest part of the run)")
    args = ap.parse_args(argv)
    if not 1 <= args.loads <= 50 or not 1 <= args.samples <= 1000:
        ap.error("--loads must be in [1, 50] and --samples in [1, 1000]")
    from playwright.sync_api import sync_playwright

    pages = A.app_pages()
    if args.pages:
        want = set(args.pages.split(","))
        pages = [(t, p) for t, p in pages if (p or "Intuition") in want]
    results = []
    load0 = os.getloadavg()[0]
    with (tempfile.TemporaryDirectory() as tmp, sync_playwright() as p, A.fresh_browser(p) as browser,
          A.browser(p) as shared):
        toy = Path(tmp) / "toy_app.py"
        toy.write_text(TOY_APP)
        toy_first = first_visits(browser, [("toy page", "")], script=toy)[""]
        heat = Path(tmp) / "toy_heatmap_app.py"
        heat.write_text(TOY_HEATMAP_APP)
        with A.running_app(script=heat) as heat_url:
            first_load(browser, heat_url, "")[1].close()
            heat_base = bench_page(browser, shared, heat_url, "", args.samples, max_settings=False,
                                   name="(toy heatmap page)", loads=args.loads)
        firsts = {} if args.no_first_visit else first_visits(browser, pages)
        with A.running_app(script=toy) as toy_url, A.running_app() as url:
            first_load(browser, toy_url, "")[1].close()        # warmed: the server has served the page once
            baseline = bench_page(browser, shared, toy_url, "", args.samples, max_settings=False,
                                  name="(toy page)", loads=args.loads)
            baseline["first_visit_s"] = toy_first
            print(json.dumps(baseline), flush=True)
            print(json.dumps(heat_base), flush=True)
            warm_up(url)
            for title, path in pages:
                r = bench_page(browser, shared, url, path, args.samples, loads=args.loads, toy_url=toy_url)
                r["first_visit_s"] = firsts.get(path)
                results.append(r)
                print(json.dumps(r), flush=True)
    toy_ms, toy_new, toy_first = (baseline.get(k) for k in ("redraw_median_ms", "new_visitor_s", "first_visit_s"))
    load1 = os.getloadavg()[0]
    print(f"\nload average (1 min) before/after: {load0:.1f} / {load1:.1f} on {os.cpu_count()} cores")

    def x(v, ref):
        return f"{v / ref:.1f}" if v and ref else "-"

    print("Each page's × toy: against the toy measured beside it (its loads alternate with the toy's; its redraws "
          "follow toy redraws). The toy rows: the toy alone.")
    print(f"{'page':<22}{'first visit s':>14}{'× toy':>6}{'new visitor s':>14}{'toy s':>7}{'× toy':>6}"
          f"{'redraw median ms':>17}{'toy ms':>7}{'× toy':>6}{'p90 ms':>7}{'first chart ms':>15}{'max rerun ms':>13}")
    for r in [baseline, heat_base] + results:
        med = r.get("redraw_median_ms")
        toy_s = r.get("toy_new_visitor_s", toy_new)
        toy_r = r.get("toy_redraw_median_ms", toy_ms)
        print(f"{r['page']:<22}{str(r.get('first_visit_s') or '-'):>14}{x(r.get('first_visit_s'), toy_first):>6}"
              f"{str(r.get('new_visitor_s', '-')):>14}{str(toy_s or '-'):>7}{x(r.get('new_visitor_s'), toy_s):>6}"
              f"{str(med if med is not None else '-'):>17}{str(toy_r or '-'):>7}{x(med, toy_r):>6}"
              f"{str(r.get('redraw_p90_ms', '-')):>7}"
              f"{str(r.get('first_chart_median_ms', '-')):>15}{str(r.get('max_rerun_ms', '-')):>13}")
    spread = [r["new_visitor_x_toy"] for r in results if r.get("new_visitor_x_toy")]
    if spread:
        print(f"new-visitor loads: {min(spread):.2f}–{max(spread):.2f}× the toy beside them; the toy itself "
              f"{min(r['toy_new_visitor_s'] for r in results if r.get('toy_new_visitor_s'))}–"
              f"{max(r['toy_new_visitor_s'] for r in results if r.get('toy_new_visitor_s'))} s over the run")
    for r in results:
        if r.get("redraw_view"):
            print(f"{r['page']}: redraw and max rerun measured at /{r['redraw_view']} (no slider redraws a chart "
                  "in its first section)")
    if args.json:
        Path(args.json).write_text(json.dumps({"load": [load0, load1], "toy": baseline, "toy_heatmap": heat_base,
                                               "pages": results},
                                              indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
