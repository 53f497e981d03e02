"""Benchmarks that print numbers (no pass/fail on time).

    python -m rope_viz.bench core [--repeats N] [--n N]
        score_vs_distance for d = 128 over n = 1,048,576 distances (bases 1e4 and 5e5): the chunked naive numpy
        evaluation (cos/sin of every (Δ, pair), as tests/naive.py ``chunked_numpy_scores``) vs the angle-addition
        fast path, best of several runs, the speedup, and the max error relative to Σ_i|h_i| — against the naive
        float64 result and against an exact value (mpmath, 40 digits) on a sample of distances. Then the other
        distance curves: similarity_sum, decay_bound (4096 display points and 1M), first_negative_distance,
        random_score_band.
    python -m rope_viz.bench gpu [...]
        the torch backend's benchmark (``rope_viz.torch_backend.bench``), when that module exists.

Add a subcommand: write ``def bench_x(argv: list[str]) -> int`` and register it in ``COMMANDS``.
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import platform
import sys
import time
from typing import Callable

import numpy as np


def naive_chunked_scores(h: np.ndarray, theta: np.ndarray, distances: np.ndarray, chunk: int = 65536) -> np.ndarray:
    """The straightforward numpy baseline: Re Σ_i h_i e^{iΔθ_i} from cos/sin of every (Δ, i), in chunks of 65,536
    distances. The same code as tests/naive.py ``chunked_numpy_scores`` (kept here so the installed package can run
    the benchmark without the tests folder)."""
    out = np.empty(len(distances))
    for s in range(0, len(distances), chunk):
        phi = distances[s:s + chunk, None] * theta[None, :]
        out[s:s + chunk] = np.cos(phi) @ h.real - np.sin(phi) @ h.imag
    return out


def _best_of(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    """(best wall time in seconds over `repeats` runs, the last result)."""
    best, result = math.inf, None
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def _exact_scores(h: np.ndarray, theta: np.ndarray, distances: np.ndarray) -> np.ndarray | None:
    """Re Σ_i h_i e^{iΔθ_i} with 40-digit arithmetic (mpmath), treating the float64 inputs as exact. None if
    mpmath is not installed (it comes with torch's sympy)."""
    try:
        import mpmath
    except ImportError:
        return None
    mp = mpmath.mp.clone() if hasattr(mpmath.mp, "clone") else mpmath.mp
    mp.dps = 40
    hr = [mp.mpf(float(v)) for v in h.real]
    hi = [mp.mpf(float(v)) for v in h.imag]
    th = [mp.mpf(float(t)) for t in theta]
    out = []
    for dist in distances:
        m = mp.mpf(float(dist))
        acc = mp.mpf(0)
        for a, b, t in zip(hr, hi, th):
            phi = m * t
            acc += a * mp.cos(phi) - b * mp.sin(phi)
        out.append(float(acc))
    return np.array(out)


def _fmt_s(seconds: float) -> str:
    return f"{seconds * 1e3:9.1f} ms" if seconds < 10 else f"{seconds:9.2f} s "


def bench_core(argv: list[str]) -> int:
    """The issue-2 "Performance" numbers for the numpy core."""
    ap = argparse.ArgumentParser(prog="python -m rope_viz.bench core", description=bench_core.__doc__)
    ap.add_argument("--repeats", type=int, default=3, help="runs per timing; the best is reported (default 3)")
    ap.add_argument("--n", type=int, default=1 << 20, help="number of distances (default 1,048,576)")
    ap.add_argument("--sample", type=int, default=200, help="distances checked against the exact value (default 200)")
    ap.add_argument("--quick", action="store_true", help="skip the slow rows (1e8 scan, random band on n)")
    args = ap.parse_args(argv)
    if args.repeats < 1 or args.n < 2 or args.sample < 0:
        print("bench core: --repeats ≥ 1, --n ≥ 2 and --sample ≥ 0 please", file=sys.stderr)
        return 2

    from .analysis.distance import (decay_bound, first_negative_distance, pair_products, random_score_band,
                                    score_vs_distance, similarity_sum)
    from .config import RopeConfig
    from .frequencies import inv_freq

    n, reps = args.n, args.repeats
    print(f"rope_viz.bench core — numpy {np.__version__}, Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, {platform.machine()}")
    print(f"score_vs_distance, d = 128, n = {n:,} distances 0 … {n - 1:,}, best of {reps} "
          f"(naive) / {3 * reps} (fast)")
    print("  err: max |Δscore| / Σ_i|h_i| (h_i = q_i·conj(k_i) pair products); exact = mpmath 40 digits on "
          f"{args.sample} sampled distances")
    head = (f"  {'base':>6} | {'naive numpy':>12} | {'fast path':>12} | {'speedup':>8} | {'fast vs naive':>13} | "
            f"{'fast vs exact':>13} | {'naive vs exact':>14}")
    print(head)
    print("  " + "-" * (len(head) - 2))
    dist_i = np.arange(n)
    dist_f = dist_i.astype(np.float64)
    rng = np.random.default_rng(0)
    sample = np.unique(np.concatenate([rng.choice(n, min(args.sample, n), replace=False), [0, 1, n - 1]]))
    if args.sample == 0:
        sample = sample[:0]
    for base in (1e4, 5e5):
        cfg = RopeConfig(128, base=base)
        q, k = rng.standard_normal((2, 128))
        h, _ = pair_products(q, k, cfg)
        theta = inv_freq(cfg)
        scale = float(np.abs(h).sum())
        t_naive, ref = _best_of(lambda: naive_chunked_scores(h, theta, dist_f), reps)
        t_fast, fast = _best_of(lambda: score_vs_distance(q, k, cfg, dist_i), 3 * reps)
        err = float(np.max(np.abs(fast - ref))) / scale
        exact = _exact_scores(h, theta, dist_f[sample]) if sample.size else None
        if exact is None:
            e_fast = e_naive = "n/a"
        else:
            e_fast = f"{np.max(np.abs(fast[sample] - exact)) / scale:.2e}"
            e_naive = f"{np.max(np.abs(ref[sample] - exact)) / scale:.2e}"
        print(f"  {base:6.0e} | {_fmt_s(t_naive):>12} | {_fmt_s(t_fast):>12} | {t_naive / t_fast:7.1f}× | "
              f"{err:13.2e} | {e_fast:>13} | {e_naive:>14}")

    cfg = RopeConfig(128)
    print("\nother curves, d = 128, base 1e4 (best of {}):".format(reps))
    rows = [
        (f"similarity_sum, {n:,} distances", lambda: similarity_sum(cfg, dist_i)),
        ("decay_bound, 4,096 display points (linspace 0 … 1e6)",
         lambda: decay_bound(cfg, np.linspace(0.0, 1e6, 4096))),
        (f"decay_bound, {n:,} distances", lambda: decay_bound(cfg, dist_i)),
        ("first_negative_distance(limit=1e7), base 1e4 → {}",
         lambda: first_negative_distance(cfg, 10 ** 7)),
        ("first_negative_distance(limit=1e7), base 5e5 → {}",
         lambda: first_negative_distance(cfg.replace(base=5e5), 10 ** 7)),
        ("first_negative_distance(limit=1e7), base 1e12 → {} (full scan)",
         lambda: first_negative_distance(cfg.replace(base=1e12), 10 ** 7)),
        ("first_negative_distance(limit=1e8), base 1e12 → {} (scans to it)",
         lambda: first_negative_distance(cfg.replace(base=1e12), 10 ** 8)),
        (f"random_score_band, 64 samples × {n:,} distances", lambda: random_score_band(cfg, dist_i, 64)),
    ]
    if args.quick:
        rows = [row for row in rows if "1e8" not in row[0] and "random_score_band" not in row[0]]
    for label, fn in rows:
        t, res = _best_of(fn, reps)
        if "{}" in label:
            label = label.format(res)
        print(f"  {label:<66} {_fmt_s(t)}")
    return 0


def bench_gpu(argv: list[str]) -> int:
    """Placeholder: runs ``rope_viz.torch_backend.bench.main(argv)`` when the torch backend provides it."""
    name = "rope_viz.torch_backend.bench"
    try:
        mod = importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name in ("rope_viz.torch_backend", name):
            print(f"bench gpu: {name} does not exist yet (the torch backend provides it); nothing to run",
                  file=sys.stderr)
            return 2
        print(f"bench gpu: cannot import {name}: {e}", file=sys.stderr)
        return 2
    entry = getattr(mod, "main", None) or getattr(mod, "run", None)
    if entry is None:
        print(f"bench gpu: {name} has no main(argv) function", file=sys.stderr)
        return 2
    rc = entry(argv)
    return int(rc or 0)


COMMANDS: dict[str, Callable[[list[str]], int]] = {
    "core": bench_core,
    "gpu": bench_gpu,
}


def main(argv: list[str] | None = None) -> int:
    """Dispatch ``python -m rope_viz.bench COMMAND [options]``; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv else 2
    cmd, rest = argv[0], argv[1:]
    if cmd not in COMMANDS:
        print(f"bench: unknown command {cmd!r}; choose one of: {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    return COMMANDS[cmd](rest)


if __name__ == "__main__":
    sys.exit(main())
