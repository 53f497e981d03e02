"""Benchmark of rope_viz.models on the bundled SmolLM2-135M (numbers for the README / issue 10), each against a
baseline measured in the same run:

  reload      load_model from the cached safetensors copy (in-memory cache dropped), repeated
  inspect     collect_stats over 512 tokens (pair norms only, and with attention vs distance) vs the plain forward
              pass of the same model, interleaved repeats
  loss N      token_nll at N tokens (chunked logits) vs transformers' plain forward ``model(input_ids)`` at N tokens,
              each in its own subprocess (so its peak RSS is its own)

    python scripts/bench_models.py [--repeats 5] [--long 16384 ...]
Prints median and min–max of the repeats. Machine timings vary; run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time


def _stats(xs):
    return f"median {statistics.median(xs):.3f} s (min {min(xs):.3f}, max {max(xs):.3f}, n={len(xs)})"


def one(kind: str, tokens: int) -> None:
    """Child process: one long pass, prints {"seconds", "peak_rss_gb"}."""
    import torch

    from rope_viz.models import api, loader, measure, sources

    lm = loader.load_model("smollm2-135m")
    ids = api.encode_prefix(lm, sources.default_text(), tokens)
    t = time.perf_counter()
    if kind == "ours":
        measure.token_nll(lm, ids)
    else:
        with torch.inference_mode():
            lm.model(input_ids=torch.tensor([ids]), use_cache=False)
    dt = time.perf_counter() - t
    print(json.dumps({"seconds": dt, "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--long", type=int, nargs="*", default=[16384], help="token counts for the loss pass")
    ap.add_argument("--one", nargs=2, metavar=("KIND", "TOKENS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        one(args.one[0], int(args.one[1]))
        return

    import torch

    from rope_viz.models import api, loader, measure, sources

    loader.load_model("smollm2-135m")                        # converts once if needed (not timed)
    reload = []
    for _ in range(args.repeats):
        loader.forget_loaded()
        t = time.perf_counter()
        lm = loader.load_model("smollm2-135m")
        reload.append(time.perf_counter() - t)
    print(f"reload from the cached copy: {_stats(reload)}")

    ids = api.encode_prefix(lm, sources.default_text(), 512)
    plain, pairs, full = [], [], []
    measure.collect_stats(lm, ids)                            # warm-up
    for _ in range(args.repeats):
        t = time.perf_counter()
        with torch.inference_mode():
            lm.model.get_decoder()(input_ids=torch.tensor([ids]), use_cache=False)
        plain.append(time.perf_counter() - t)
        t = time.perf_counter()
        measure.collect_stats(lm, ids, distance=False)
        pairs.append(time.perf_counter() - t)
        t = time.perf_counter()
        measure.collect_stats(lm, ids, distance=True)
        full.append(time.perf_counter() - t)
    m0 = statistics.median(plain)
    print(f"512 tokens, plain forward (baseline):          {_stats(plain)}")
    print(f"512 tokens, inspect (pair norms):              {_stats(pairs)}  = "
          f"{statistics.median(pairs) / m0:.2f}× the plain forward")
    print(f"512 tokens, inspect + attention vs distance:   {_stats(full)}  = "
          f"{statistics.median(full) / m0:.2f}× the plain forward")

    for n in args.long:
        res = {}
        for kind in ("transformers", "ours"):
            out = subprocess.run([sys.executable, __file__, "--one", kind, str(n)], capture_output=True, text=True,
                                 check=True)
            res[kind] = json.loads(out.stdout.strip().splitlines()[-1])
        a, b = res["transformers"], res["ours"]
        print(f"{n:,} tokens: transformers forward {a['seconds']:.1f} s (peak RSS {a['peak_rss_gb']:.2f} GB); "
              f"rope_viz loss pass {b['seconds']:.1f} s (peak RSS {b['peak_rss_gb']:.2f} GB) = "
              f"{b['seconds'] / a['seconds']:.2f}× (one run each)")


if __name__ == "__main__":
    main()
