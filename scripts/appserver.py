"""Shared by tests/test_browser.py, scripts/bench_app.py and scripts/screenshots.py: start the Streamlit app on a free
local port, open Debian's chromium through Playwright (never ``playwright install``), find the pages, and wait for a
page to finish drawing. See ../shared/ENVIRONMENT.md for the flags."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage"]
CHART = '[data-testid="stPlotlyChart"]'
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
EXCEPTION = '[data-testid="stException"]'
SIDEBAR_SLIDER = "Base b"   # the shared sidebar's base slider: a fallback for pages without a slider of their own


def chromium_path() -> str | None:
    """Debian's chromium (or BROWSER_PATH), None if there is none."""
    env = os.environ.get("BROWSER_PATH")
    if env and Path(env).exists():
        return env
    for name in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(name)
        if p:
            return p
    return None


def app_pages(root: Path = ROOT) -> list[tuple[str, str]]:
    """(title, url path) of every page present, in order, from the app's one page list (``rope_viz.ui.PAGES``):
    the landing app.py ("") and each pages/N_Name.py ("Name")."""
    from rope_viz.ui.pages import PAGES

    return [(p.title, p.url_path) for p in PAGES if (root / p.path).exists()]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_app(log_path: Path | None = None, timeout: float = 60.0, script: Path | None = None,
                root: Path = ROOT):
    """Start ``python -m rope_viz.ui.serve run <root>/app.py`` (or ``script``; plain ``streamlit run`` for a checkout
    without that launcher) headless on a free port, from ``root`` with ``root``
    first on the import path (another checkout serves its own rope_viz: scripts/bench_ab.py); yields the base URL;
    stops it afterwards."""
    port = free_port()
    log_path = log_path or Path(tempfile.gettempdir()) / f"rope-viz-streamlit-{port}.log"
    log = open(log_path, "w")
    # the app's own launcher (dev.sh app runs it: first imports before the server listens), when this checkout has it
    launcher = ["rope_viz.ui.serve"] if (Path(root) / "rope_viz" / "ui" / "serve.py").exists() else ["streamlit"]
    cmd = [sys.executable, "-m", *launcher, "run", str(script or Path(root) / "app.py"), "--server.headless",
           "true", "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(root), os.environ.get("PYTHONPATH")) if p)}
    proc = subprocess.Popen(cmd, cwd=root, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {proc.returncode}; log: {log_path}")
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                    if r.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"streamlit not healthy after {timeout:g} s; log: {log_path}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@contextlib.contextmanager
def browser(playwright):
    """A headless chromium (Debian's) with the quiet offline flags and a fresh profile."""
    exe = chromium_path()
    if exe is None:
        raise RuntimeError("no chromium found (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as profile:
        ctx = playwright.chromium.launch_persistent_context(profile, executable_path=exe, headless=True,
                                                            args=CHROMIUM_FLAGS,
                                                            viewport={"width": 1400, "height": 1000})
        try:
            yield ctx
        finally:
            ctx.close()


@contextlib.contextmanager
def fresh_browser(playwright):
    """A headless chromium (Debian's, the same flags) for ``browser.new_context()``: each context starts with an empty
    cache, like a new visitor (``browser`` keeps one profile, so static files are cached after the first page)."""
    exe = chromium_path()
    if exe is None:
        raise RuntimeError("no chromium found (apt-get install chromium)")
    b = playwright.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_FLAGS)
    try:
        yield b
    finally:
        b.close()


def wait_idle(page, timeout_ms: float = 60_000, charts: bool = True) -> None:
    """Wait until the page is drawn: the script has run and is idle, no element is still a placeholder (Streamlit
    shows a skeleton while an element's code loads) and every chart has drawn — or an exception box or an error
    message is on the page, so a page that failed returns promptly for the caller to assert on. ``charts``: a chart
    must be on the page too (a page section without one, such as the Kernel benchmark before a run, needs False)."""
    page.wait_for_function(
        """(needCharts) => {
          const app = document.querySelector('[data-testid="stApp"]');
          if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
          if (document.querySelector('[data-testid="stException"], [data-testid="stAlertContentError"]')) return true;
          if (document.querySelector('[data-testid="stSkeleton"]')) return false;
          const plots = Array.from(document.querySelectorAll('[data-testid="stPlotlyChart"]'));
          if (plots.some(p => !p.querySelector('.main-svg'))) return false;
          if (needCharts) return plots.length > 0;
          return document.querySelector('[data-testid="stMain"] [data-testid="stElementContainer"]');
        }""", arg=charts, timeout=timeout_ms, polling=100)
    page.wait_for_timeout(300)
    page.wait_for_selector(IDLE, timeout=timeout_ms)


# A MutationObserver that timestamps the first and the last change inside any chart (performance.now(), ms).
OBSERVE_JS = """() => {
  window.__rv = {first: 0, last: 0, count: 0};
  const obs = new MutationObserver((muts) => {
    for (const m of muts) {
      const el = m.target.nodeType === 1 ? m.target : m.target.parentElement;
      if (el && el.closest('[data-testid="stPlotlyChart"]')) { const t = performance.now();
                                                                if (!window.__rv.count) window.__rv.first = t;
                                                                window.__rv.last = t;
                                                                window.__rv.count++; return; }
    }
  });
  obs.observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
  window.__rvObs = obs;
}"""


def main_slider(page, label: str | None = None):
    """The slider to move: the one named ``label``, else the first slider in the main area (not the sidebar)."""
    if label:
        return page.get_by_role("slider", name=label).first
    main = page.locator('[data-testid="stMain"]').get_by_role("slider")
    if main.count():
        return main.first
    return page.get_by_role("slider", name=SIDEBAR_SLIDER).first


def slider_candidates(page, n_main: int = 3) -> list:
    """Sliders to try, in order: the first ``n_main`` of the main area, then the sidebar's base slider (which
    changes every chart)."""
    main = page.locator('[data-testid="stMain"]').get_by_role("slider")
    out = [main.nth(i) for i in range(min(main.count(), n_main))]
    out.append(page.get_by_role("slider", name=SIDEBAR_SLIDER).first)
    return out


def redraw_after_some_slider(page, timeout_s: float = 60):
    """Move the candidate sliders one at a time until a chart is redrawn: (slider, ms) or (None, None)."""
    for slider in slider_candidates(page):
        try:
            slider.scroll_into_view_if_needed(timeout=5000)
        except Exception:  # noqa: BLE001 - hidden (e.g. in a collapsed expander): try the next one
            continue
        ms = timed_slider_step(page, slider, timeout_s=timeout_s)
        if ms is not None:
            return slider, ms
    return None, None


def slider_view(page, url: str, path: str, timeout_s: float = 60):
    """Where moving a slider redraws a chart: (address, slider, ms) — ``path`` as opened (OBSERVE_JS installed here),
    else the first section tab where one does (the Kernel page opens on its benchmark, which has no chart until it
    runs: its tabs are clicked in turn, and the address read back); (path, None, None) when nowhere."""
    page.evaluate(OBSERVE_JS)
    tabs = page.get_by_role("tab")
    for i in range(-1, tabs.count()):
        if i >= 0:
            tabs.nth(i).click()
            page.wait_for_timeout(300)
            wait_idle(page, timeout_ms=timeout_s * 1000, charts=False)
        if page.locator('[data-testid="stPlotlyChart"]').count():
            slider, ms = redraw_after_some_slider(page, timeout_s=timeout_s)
            if slider is not None:
                return (path if i < 0 else section_address(page, path, tabs.nth(i).inner_text())), slider, ms
    return path, None, None


def section_address(page, path: str, label: str) -> str:
    """``path`` with the open section's URL parameter only (the one whose value is the tab's ``label``; the other
    values a probing slider left in the address are not part of the view)."""
    query = urllib.parse.parse_qsl(urllib.parse.urlsplit(page.url).query)
    keep = [(k, v) for k, v in query if v == label.strip()][:1]
    return path + ("&" if "?" in path else "?") + urllib.parse.urlencode(keep) if keep else path


def timed_slider_step(page, slider, key: str = "ArrowRight", quiet_ms: float = 400,
                      timeout_s: float = 30, first_out: list | None = None) -> float | None:
    """Press ``key`` on the slider and return the ms from the key press to the last chart change of the rerun it
    triggers (None if no chart changed). Waits for the script to finish and the charts to stay quiet. With
    ``first_out``, the ms to the *first* chart change is appended to it too (the first feedback a user sees)."""
    page.evaluate("() => { window.__rv.first = 0; window.__rv.last = 0; window.__rv.count = 0; }")
    slider.focus()
    t0 = page.evaluate("() => performance.now()")
    slider.press(key)
    deadline = time.monotonic() + timeout_s
    page.wait_for_timeout(50)
    while time.monotonic() < deadline:
        state = page.evaluate("() => [document.querySelector('[data-testid=\"stApp\"]')"
                              ".getAttribute('data-test-script-state'), window.__rv.last, window.__rv.count, "
                              "performance.now()]")
        script, last, count, now = state
        if script == "notRunning" and count > 0 and now - last >= quiet_ms:
            if first_out is not None:
                first_out.append(page.evaluate("() => window.__rv.first") - t0)
            return last - t0
        if script == "notRunning" and count == 0 and now - t0 > 5000:
            return None
        page.wait_for_timeout(20)
    return None
