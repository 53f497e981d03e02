"""End to end in a real browser: Playwright for Python driving Debian's chromium (never ``playwright install``).

Starts the app (``python -m rope_viz.ui.serve run app.py``, as ``bash dev.sh app`` does) on a free port, opens every
page of the app's page list (``rope_viz.ui.PAGES``), waits for the charts, moves a slider and checks that a chart is
redrawn, and that no exception box appears; a page's address opened in a new session draws the same chart data.
Screenshots go to test-output/ (git-ignored). Skipped when chromium or playwright is missing. Run only these:
``pytest -m browser``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import appserver as A  # noqa: E402

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
if A.chromium_path() is None:
    pytest.skip("no chromium on this machine (apt-get install chromium)", allow_module_level=True)

OUT = ROOT / "test-output"
PAGES = A.app_pages()


@pytest.fixture(scope="module")
def app_url():
    OUT.mkdir(exist_ok=True)
    with A.running_app(OUT / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="module")
def browser_ctx(app_url):
    with sync_api.sync_playwright() as p, A.browser(p) as ctx:
        yield ctx


def test_every_page_is_discovered():
    names = [path for _, path in PAGES]
    assert names[0] == "" and "Frequencies" in names and "Context_extension" in names
    assert len(names) == 1 + len(list((ROOT / "pages").glob("*.py")))


def test_sidebar_page_list_and_explore_links(browser_ctx, app_url):
    page = browser_ctx.new_page()
    try:
        page.goto(app_url)
        A.wait_idle(page, timeout_ms=120_000)
        side = page.locator('[data-testid="stSidebar"]')
        for title, _ in PAGES:
            assert side.get_by_role("link", name=title).count() == 1, title
        assert page.locator('[data-testid="stMain"] [data-testid="stPageLink"]').count() == len(PAGES) - 1
        assert side.locator('[data-testid="stIconMaterial"]').count() >= len(PAGES)   # material icons, no emoji
    finally:
        page.close()


_CHART_DATA = """() => Array.from(document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot'))
                       .map(el => JSON.stringify(el.data))"""


@pytest.mark.parametrize("path", ["Frequencies", "Distance", "Context_extension"])
def test_a_page_address_opened_in_a_new_session_draws_the_same_data(browser_ctx, app_url, path):
    page = browser_ctx.new_page()
    fresh = browser_ctx.new_page()
    try:
        page.goto(f"{app_url}/{path}?preset=phi-3-mini-128k")
        A.wait_idle(page, timeout_ms=120_000)
        page.evaluate(A.OBSERVE_JS)
        assert A.redraw_after_some_slider(page, timeout_s=90)[1] is not None
        A.wait_idle(page, timeout_ms=120_000)
        shown = page.evaluate(_CHART_DATA)
        fresh.goto(page.url)
        A.wait_idle(fresh, timeout_ms=120_000)
        fresh.wait_for_timeout(500)
        assert fresh.evaluate(_CHART_DATA) == shown, page.url
    finally:
        page.close()
        fresh.close()


def test_a_section_tab_is_in_the_address_and_reopens(browser_ctx, app_url):
    """Aliasing's sections are lazy tabs: a click runs that section alone, puts it in the address (?tab=…), and a
    new session opened at that address shows the same tab with the same chart data."""
    page = browser_ctx.new_page()
    fresh = browser_ctx.new_page()
    try:
        page.goto(f"{app_url}/Aliasing")
        A.wait_idle(page, timeout_ms=120_000)
        assert page.locator(A.CHART).count() == 1                     # the first section only
        page.get_by_role("tab", name="Aliasing vs base").click()
        page.wait_for_function("() => location.search.includes('tab=Aliasing')", timeout=60_000)
        A.wait_idle(page, timeout_ms=120_000)
        page.wait_for_function("""() => Array.from(document.querySelectorAll('.gtitle'))
                                  .some(t => t.textContent.startsWith('Aliasing vs base'))""", timeout=60_000)
        shown = page.evaluate(_CHART_DATA)
        assert len(shown) == 1
        fresh.goto(page.url)
        A.wait_idle(fresh, timeout_ms=120_000)
        fresh.wait_for_timeout(500)
        assert fresh.get_by_role("tab", selected=True).inner_text() == "Aliasing vs base"
        assert fresh.evaluate(_CHART_DATA) == shown, page.url
        assert fresh.locator(A.EXCEPTION).count() == 0
    finally:
        page.close()
        fresh.close()


@pytest.mark.parametrize("title, path", PAGES, ids=[t for t, _ in PAGES])
def test_page_draws_and_a_slider_redraws_a_chart(browser_ctx, app_url, title, path):
    page = browser_ctx.new_page()
    try:
        page.goto(f"{app_url}/{path}")
        A.wait_idle(page, timeout_ms=120_000, charts=path != "Kernel")     # Kernel opens on its benchmark: no chart
        assert page.locator(A.EXCEPTION).count() == 0, page.locator(A.EXCEPTION).first.inner_text()
        if path == "Kernel":
            assert page.get_by_role("button", name="Run the benchmark").count() == 1
        view, slider, redraw_ms = A.slider_view(page, app_url, path, timeout_s=90)
        if path == "Kernel":                                        # in the Precision section (its position slider)
            assert view.startswith("Kernel?ktab=Precision"), view
        else:
            assert view == path
        assert page.locator(A.CHART).count() >= 1
        assert redraw_ms is not None, f"{title}: moving a slider did not change any chart"
        assert page.locator(A.EXCEPTION).count() == 0
        assert page.get_by_text("Traceback").count() == 0
        page.screenshot(path=str(OUT / f"browser-{path or 'Intuition'}.png"))
    finally:
        page.close()


def test_shared_link_reproduces_the_view(browser_ctx, app_url):
    page = browser_ctx.new_page()
    try:
        page.goto(f"{app_url}/Frequencies?d=64&b=500000&pair=7&ftab=One+pair")
        A.wait_idle(page, timeout_ms=120_000)
        assert page.get_by_text("d=64 base=500000").count() >= 1          # the sidebar summary
        assert page.get_by_text("Pair 7 at position").count() >= 1         # the polar chart's title
        assert "d=64" in page.url and "pair=7" in page.url and "ftab=One" in page.url   # kept up to date
        page.goto(f"{app_url}/Frequencies?b=0.5")
        A.wait_idle(page, timeout_ms=120_000)                     # the bad value is dropped with one notice
        assert page.get_by_text("base must be a finite number in (1,").count() == 1
        assert page.locator(A.EXCEPTION).count() == 0 and page.locator(A.CHART).count() >= 1
    finally:
        page.close()


QWEN2_JSON = ('{"hidden_size": 3584, "num_attention_heads": 28, "max_position_embeddings": 32768, '
              '"rope_theta": 1000000.0, "model_type": "qwen2"}')


def test_an_imported_config_compared_travels_in_the_link(browser_ctx, app_url):
    """Sidebar: Import config.json → Add to comparison (the sidebar config stays); the Frequencies page compares it;
    the address opened in a new session draws the same chart data."""
    page = browser_ctx.new_page()
    fresh = browser_ctx.new_page()
    try:
        page.goto(f"{app_url}/Frequencies?preset=llama-3.1-8b")
        A.wait_idle(page, timeout_ms=120_000)
        sb = page.locator('[data-testid="stSidebar"]')
        sb.get_by_text("Import config.json").click()
        sb.locator("textarea").fill(QWEN2_JSON)
        sb.locator("textarea").press("Control+Enter")
        A.wait_idle(page, timeout_ms=120_000)           # the pasted text committed (its rerun done) before the click
        for attempt in range(2):                         # a click landing mid-rerun on a busy CI machine is dropped
            sb.get_by_role("button", name="Add to comparison").click()
            A.wait_idle(page, timeout_ms=120_000)
            try:
                page.wait_for_function("() => location.search.includes('saved1=')", timeout=30_000)
                break
            except sync_api.TimeoutError:
                if attempt:
                    raise
        assert "preset=llama-3.1-8b" in page.url                            # the sidebar config is kept
        box = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Compare with")
        box.locator("input").click()
        box.locator("input").fill("saved 1")
        page.keyboard.press("Enter")
        page.wait_for_function("() => location.search.includes('fcmp=saved')", timeout=30_000)
        A.wait_idle(page, timeout_ms=120_000)
        page.wait_for_timeout(500)
        shown = page.evaluate(_CHART_DATA)
        assert any("saved 1: d=128 base=1e6 L=32,768" in s for s in shown)
        fresh.goto(page.url)
        A.wait_idle(fresh, timeout_ms=120_000)
        fresh.wait_for_timeout(500)
        assert fresh.evaluate(_CHART_DATA) == shown, page.url
        assert fresh.locator(A.EXCEPTION).count() == 0
    finally:
        page.close()
        fresh.close()


# text a table may receive from outside (an imported config's name): each must read exactly as written
_HOSTILE_CELLS = [":smile: :red[red] :material/home: **bold** _it_ [link](http://x) ![img](http://x/a.png)",
                  "<b>html</b> <script>alert(1)</script> $x^2$ ~~strike~~ ~5× `code` a|b \\* \\",
                  "- a list item", "1. one", "# heading", "> quote", "12.5 % (46–63) 2.05×10⁷"]
_TABLE_APP = """
import sys
sys.path.insert(0, {root!r})
from rope_viz import ui
cells = {cells!r}
ui.table([{{"text": c, "n": i * 1000}} for i, c in enumerate(cells)])
ui.table([{{"measure": c, "value": "ok"}} for c in cells], index="measure")
"""


def test_table_cells_show_outside_text_verbatim(browser_ctx, tmp_path):
    """ui.table goes through st.table, which renders Markdown in cells: emphasis, links, images, emoji / colour /
    Material icon shortcodes, LaTeX, lists and headings must all read as the characters they are."""
    script = tmp_path / "table_app.py"
    script.write_text(_TABLE_APP.format(root=str(ROOT), cells=_HOSTILE_CELLS))
    with A.running_app(tmp_path / "table.log", script=script) as url:
        page = browser_ctx.new_page()
        try:
            page.goto(url)
            page.wait_for_selector("table", timeout=60_000)
            page.wait_for_timeout(500)
            shown = page.evaluate("""() => Array.from(document.querySelectorAll('table')).map(t =>
                Array.from(t.querySelectorAll('tbody tr')).map(r =>
                  Array.from(r.querySelectorAll('th, td')).map(c => c.innerText.replace(/\u2060/g, '').trim())))""")
            rendered = page.evaluate("""() => document.querySelectorAll(
                'table strong, table em, table a, table img, table del, table h1, table ul, table ol, table blockquote,'
                + ' table .katex, table [data-testid="stIconMaterial"], table b, table script').length""")
        finally:
            page.close()
    norm = [" ".join(c.split()) for c in _HOSTILE_CELLS]
    assert [row[0] for row in shown[0]] == norm
    assert [row[1] for row in shown[0]] == [f"{i * 1000:,}" for i in range(len(norm))]
    assert [row[0] for row in shown[1]] == norm               # the row labels (index) too
    assert rendered == 0
