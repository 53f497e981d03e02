"""One PNG screenshot per page for the README: docs/screenshots/<N>_<page>.png (≤ 300 KB each).

Starts the app, opens each page at its defaults in headless Debian chromium (1400 px wide; the Kernel page in its
Precision section: its first section has no chart until the benchmark is run), waits for the charts,
captures the top of the page (title, explanation, first charts; 1400 × 1500 CSS px) and re-encodes it as a
palette PNG with Pillow so that it stays under the size limit.

    python scripts/screenshots.py [--out docs/screenshots] [--height 1500] [--pages Frequencies,Distance]
    python scripts/screenshots.py --out /tmp/shots --query 'preset=x%27.%0A%0A[a](http://evil.example)&d=1e308'

``--query`` opens every page with that query string (e.g. a hostile shared link, to check that the notice shows the
values verbatim); the files are then named ``<N>_<page>-query.png``.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import appserver as A  # noqa: E402

LIMIT = 300 * 1024
README_VIEW = {"Kernel": "ktab=Precision"}     # the section shown where a page's first one draws no chart


def shrink(png: bytes, limit: int = LIMIT) -> bytes:
    """Palette-quantised PNG (256 colours, then fewer, then downscaled) under ``limit`` bytes."""
    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("RGB")
    for colors, scale in ((256, 1.0), (128, 1.0), (64, 1.0), (128, 0.8), (64, 0.7), (32, 0.6)):
        im = img if scale == 1.0 else img.resize((int(img.width * scale), int(img.height * scale)), Image.LANCZOS)
        buf = io.BytesIO()
        im.quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
            buf, format="PNG", optimize=True)
        if buf.tell() <= limit:
            return buf.getvalue()
    raise RuntimeError("could not get the screenshot under the size limit")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(A.ROOT / "docs" / "screenshots"))
    ap.add_argument("--height", type=int, default=1500)
    ap.add_argument("--pages", help="comma-separated URL names (default: all)")
    ap.add_argument("--timeout", type=float, default=300, help="seconds to wait for a page to draw")
    ap.add_argument("--query", default="", help="URL query string for every page (without the leading ?)")
    args = ap.parse_args(argv)
    failed: list[str] = []
    from playwright.sync_api import sync_playwright

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    pages = list(enumerate(A.app_pages()))
    if args.pages:
        want = set(args.pages.split(","))
        pages = [(i, tp) for i, tp in pages if (tp[1] or "Intuition") in want]
    with A.running_app() as url, sync_playwright() as p, A.browser(p) as ctx:
        for i, (title, path) in pages:
            page = ctx.new_page()
            try:
                page.set_viewport_size({"width": 1400, "height": args.height})
                query = args.query or README_VIEW.get(path, "")
                page.goto(f"{url}/{path}" + (f"?{query}" if query else ""))
                A.wait_idle(page, timeout_ms=args.timeout * 1000, charts=False)   # a section may have no chart
                page.wait_for_timeout(1500)                      # let plotly finish its first layout
                data = shrink(page.screenshot())
                name = out / f"{i}_{(path or 'Intuition')}{'-query' if args.query else ''}.png"
                name.write_bytes(data)
                print(f"{name} {len(data) // 1024} KB", flush=True)
            except Exception as e:  # noqa: BLE001 - one slow or broken page must not stop the others
                failed.append(path or "Intuition")
                print(f"{path or 'Intuition'}: no screenshot ({type(e).__name__}: {str(e).splitlines()[0]})",
                      flush=True)
            finally:
                page.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
