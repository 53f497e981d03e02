"""Interleaved A/B of slider redraws: the same page served from two checkouts, steps alternating between them.

On a shared 2-core machine the load drifts between runs of scripts/bench_app.py by more than most changes save; here
both versions are measured in the same minutes, alternately (A, B, B, A, …), in one browser, so a drift hits both
alike. ``REV`` is a git revision of this repository (checked out into a temporary worktree, run with this
environment) or a path to another checkout; B is the working tree. Prints each side's median / quartiles and the
ratio B / A per page.

    python scripts/bench_ab.py REV [--pages Intuition,Context_extension] [--steps 10] [--revisit]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import appserver as A  # noqa: E402


@contextlib.contextmanager
def checkout(rev: str):
    """A path to ``rev``: an existing directory as it is, else a temporary git worktree of that revision."""
    if Path(rev).is_dir():
        yield Path(rev).resolve()
        return
    tmp = Path(tempfile.mkdtemp(prefix="rope-viz-ab-"))
    subprocess.run(["git", "worktree", "add", "-q", "--detach", str(tmp), rev], cwd=A.ROOT, check=True)
    try:
        yield tmp
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tmp)], cwd=A.ROOT, check=False)


def ab_page(ctx, urls: list[str], path: str, steps: int, new_values: bool = True) -> list[list[float]]:
    """Slider redraw times (ms) on ``path`` for each URL, steps interleaved A, B, B, A, … ``new_values``: step on
    to values not drawn yet (figures computed, charts sent in full), as scripts/bench_app.py does; else back and
    forth between two values (cached figures; Streamlit re-sends a large chart message as a reference)."""
    pages, sliders = [], []
    for url in urls:
        page = ctx.new_page()
        page.goto(f"{url}/{path}")
        A.wait_idle(page, timeout_ms=300_000, charts=False)
        slider = A.slider_view(page, url, path)[1]                  # Kernel: in a later section
        if slider is None:
            raise RuntimeError(f"{path or 'Intuition'}: no slider redraws a chart")
        A.timed_slider_step(page, slider, key="ArrowLeft")            # warm: both values seen once
        pages.append(page)
        sliders.append(slider)
    times: list[list[float]] = [[] for _ in urls]
    keys, forward = ("ArrowRight", "ArrowLeft"), 0
    for i in range(steps):
        if new_values:               # as bench_app: onward to values not drawn yet, every 6th step back
            key = keys[forward ^ (i % 6 == 5)]
        else:                        # back and forth between two values: every redraw after the first is cached
            key = keys[i % 2]
        got = []
        for j in ((0, 1) if i % 2 == 0 else (1, 0)):
            pages[j].bring_to_front()
            got.append((j, A.timed_slider_step(pages[j], sliders[j], key=key)))
        if new_values and any(ms is None for _, ms in got):      # the end of the slider's range: turn round
            forward ^= 1
        for j, ms in got:
            if ms is not None:
                times[j].append(ms)
    for page in pages:
        page.close()
    return times


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rev", help="git revision (or a directory) to compare the working tree against")
    ap.add_argument("--pages", help="comma-separated URL names (default: all but Real_model)")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--revisit", action="store_true",
                    help="step back and forth between two values (cached) instead of on to new ones")
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    pages = [p for _, p in A.app_pages() if p != "Real_model"]      # its first visit runs the model: ask for it
    if args.pages:
        want = set(args.pages.split(","))
        pages = [p for _, p in A.app_pages() if (p or "Intuition") in want]
    load0 = os.getloadavg()[0]
    rows = []
    with checkout(args.rev) as old, sync_playwright() as p, A.browser(p) as ctx, \
            A.running_app(root=old, timeout=120) as ua, A.running_app(root=A.ROOT, timeout=120) as ub:
        for path in pages:
            a, b = ab_page(ctx, [ua, ub], path, args.steps, new_values=not args.revisit)
            rows.append((path or "Intuition", a, b))
            print(f"{path or 'Intuition'}: A {[round(x) for x in a]}  B {[round(x) for x in b]}", flush=True)
    print(f"\nA = {args.rev}, B = working tree; load average (1 min) {load0:.1f} → {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores")
    print(f"{'page':<22}{'A median ms':>12}{'(p25–p75)':>13}{'B median ms':>12}{'(p25–p75)':>13}{'B / A':>7}")

    def q(xs):
        xs = sorted(xs)
        return f"({xs[len(xs) // 4]:.0f}–{xs[3 * len(xs) // 4]:.0f})"

    for name, a, b in rows:
        ma, mb = statistics.median(a), statistics.median(b)
        print(f"{name:<22}{ma:>12.0f}{q(a):>13}{mb:>12.0f}{q(b):>13}{mb / ma:>7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
