"""Visit every page of each replica once, one page at a time, before nginx sends it visitors.

A fresh Streamlit process imports plotly, torch, transformers, … on the first page that needs them, and computes the
default views' figures (every section tab of a page too); one sequential visit per replica does that work before
anyone arrives, so the first visitors do not wait for it, and first imports do not happen in several script threads
at once (start.sh also imports pandas before the server starts: plotly reads it from sys.modules without the import
lock, and a half-imported pandas there failed one page under load). deploy/start.sh runs this; by hand:

    python deploy/warm_up.py http://127.0.0.1:8701 http://127.0.0.1:8702

Prints one line per replica; exits 1 if a page failed (start.sh only reports it).
"""

from __future__ import annotations

import asyncio
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from appserver import app_pages  # noqa: E402
from st_client import StreamlitSession  # noqa: E402


async def warm(url: str, app_dir: Path) -> list[str]:
    failures = []
    async with StreamlitSession(url, timeout=600) as s:     # a first visit may convert a bundled model
        for _, page in app_pages(app_dir):
            r = await s.open(page)
            runs = [(page, r)]
            for label in r.tabs[1:] if r.tab_param else []:   # a page's other sections (lazy tabs: run when opened)
                query = urllib.parse.urlencode({r.tab_param: label})
                runs.append((f"{page} ({label})", await s.open(page, query)))
            for name, r in runs:
                if not r.ok:
                    failures.append(f"{name or 'Intuition'}: {'; '.join(r.exceptions) or r.status}"[:200])
    return failures


def main(argv: list[str]) -> int:
    urls = [a for a in argv if a.startswith("http://127.0.0.1:") or a.startswith("http://localhost:")]
    if not urls or len(urls) != len(argv):
        print("usage: python deploy/warm_up.py http://127.0.0.1:PORT ... (loopback replicas only)", file=sys.stderr)
        return 2
    app_dir = Path.cwd() if (Path.cwd() / "app.py").exists() else ROOT
    bad = 0
    for url in urls:
        t0 = time.monotonic()
        failures = asyncio.run(warm(url, app_dir))
        bad += bool(failures)
        print(f"warm-up {url}: {len(app_pages(app_dir))} pages in {time.monotonic() - t0:.1f} s"
              + (f"; failed: {failures}" if failures else ""), file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
