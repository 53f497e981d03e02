"""``python -m rope_viz model list|inspect|ppl`` (registered by rope_viz.cli).

    python -m rope_viz model list [--models-dir D] [--json]
    python -m rope_viz model inspect --model smollm2-135m [--text-file F] --tokens N [--distance] --json
    python -m rope_viz model ppl --model smollm2-135m [--text-file F] --tokens N --bucket B [--base X]
                                 [--scaling TYPE --factor S [--original-context N] [--beta-fast …]] --json

``inspect --json``: one object with ``layers``, ``heads``, ``kv_heads``, ``head_dim``, ``tokens``, ``pairs``,
``q_pair_norm`` (layers × heads × pairs), ``k_pair_norm`` (layers × kv_heads × pairs): the mean over the first N tokens
of each rotary pair's L2 norm as q / k enter attention, pairs in rotation order (i = 0 fastest; channels i and i + d/2
in the transformers layout); ``q_weight`` / ``k_weight`` (the same for W_q / W_k rows), ``rope`` per layer type,
``text_label``; with ``--distance`` also attention vs distance and ``sink_share``.
``ppl --json``: ``buckets`` = [{"start", "end", "nll", "ppl", "n"}], the mean next-token NLL (nats) of the targets at
positions start ≤ t < end (t = 0 has no prediction), ``nll_mean``, ``ppl``, ``rope_used``, ``settings``.
Bad input exits 2 with one line on stderr; a progress bar goes to stderr when it is a terminal.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time

import numpy as np

SCALING_KEY_ARGS = (("beta_fast", float), ("beta_slow", float), ("mscale", float), ("mscale_all_dim", float),
                    ("attention_factor", float), ("low_freq_factor", float), ("high_freq_factor", float))


class ProgressBar:
    """A one-line progress bar on stderr (only when stderr is a terminal)."""

    def __init__(self, enabled: bool | None = None):
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.last = 0.0
        self.shown = False

    def __call__(self, frac: float, msg: str) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self.last < 0.2 and frac < 1.0):
            return
        self.last = now
        n = int(30 * max(0.0, min(1.0, frac)))
        sys.stderr.write(f"\r[{'#' * n}{'.' * (30 - n)}] {100 * frac:3.0f}% {msg[:60]:<60}")
        sys.stderr.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
            self.shown = False


def _common(p: argparse.ArgumentParser, tokens_default: int) -> None:
    p.add_argument("--model", default="smollm2-135m",
                   help="smollm2-135m (default), gemma3-270m, or a folder / .gguf inside the models folder")
    p.add_argument("--models-dir", metavar="D", help="the models folder (default: $ROPE_VIZ_MODELS_DIR)")
    p.add_argument("--text-file", metavar="F", help="a UTF-8 text file (default: the bundled public-domain text)")
    p.add_argument("--tokens", type=int, default=tokens_default, metavar="N", help="use the first N tokens")
    p.add_argument("--no-cache", action="store_true", help="recompute even when a cached result exists")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def register(sub) -> argparse.ArgumentParser:
    """Add the ``model`` sub-command (with list / inspect / ppl) to ``sub``."""
    p = sub.add_parser("model", help="real models: q/k pair norms, attention vs distance, perplexity vs position",
                       description="Measure RoPE inside a real model (bundled SmolLM2-135M by default).")
    msub = p.add_subparsers(dest="model_cmd", metavar="{list,inspect,ppl}")
    pl = msub.add_parser("list", help="models that can be loaded")
    pl.add_argument("--models-dir", metavar="D")
    pl.add_argument("--json", action="store_true")
    pl.set_defaults(func=run_list)
    pi = msub.add_parser("inspect", help="per layer × head × pair mean norm of q and k as they enter attention")
    _common(pi, 512)
    pi.add_argument("--distance", action="store_true",
                    help="also attention vs distance (mean logit and weight per distance) and the sink share")
    pi.set_defaults(func=run_inspect)
    pp = msub.add_parser("ppl", help="per-position loss with the model's RoPE or a replacement, by buckets")
    _common(pp, 512)
    pp.add_argument("--bucket", type=int, metavar="B", help="bucket size in tokens (default: one bucket)")
    pp.add_argument("--base", type=float, metavar="X", help="replace the RoPE base (rope_theta)")
    pp.add_argument("--scaling", metavar="TYPE",
                    help="none, linear, ntk, dynamic, yarn, llama3 or longrope (needs --factor)")
    pp.add_argument("--factor", type=float, metavar="S", help="the scaling factor")
    pp.add_argument("--original-context", type=int, metavar="N",
                    help="original context for the scaling (default: the model's trained context)")
    for key, typ in SCALING_KEY_ARGS:
        pp.add_argument("--" + key.replace("_", "-"), type=typ, metavar="V", help=f"scaling key {key}")
    pp.set_defaults(func=run_ppl)
    p.set_defaults(func=lambda args: _usage(p))
    return p


def _usage(p) -> int:
    raise ValueError("choose a model command: list, inspect, ppl (see python -m rope_viz model --help)")


def _text(args) -> str | None:
    if args.text_file is None:
        return None
    from .sources import read_text_file

    return read_text_file(args.text_file)


def _jsonable(v):
    """Strict JSON values: arrays as lists, NaN / ±inf as null (a bucket holding no predicted token has no mean
    NLL; Python's json would print NaN, which strict parsers refuse)."""
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, np.ndarray):
        return _jsonable(v.tolist())
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, (float, np.floating)):
        return float(v) if math.isfinite(v) else None
    if isinstance(v, np.integer):
        return int(v)
    return v


def run_list(args) -> int:
    from .sources import list_models, models_dir

    rows = list_models(models_dir(args.models_dir))
    if args.json:
        print(json.dumps({"models": rows}, indent=1))
        return 0
    for r in rows:
        state = "installed" if r["installed"] else f"not installed: {r['install']}"
        print(f"{r['name']:<24} {r['label']}  [{r['license'] or r['source']}]  {state}")
    return 0


def run_inspect(args) -> int:
    from .analysis import top_pair_summary
    from .api import inspect

    bar = ProgressBar()
    try:
        r = inspect(args.model, _text(args), args.tokens, distance=args.distance, models_dir=args.models_dir,
                    progress=bar, cache=not args.no_cache)
    finally:
        bar.close()
    if not args.distance:
        for k in ("logit_by_distance", "weight_by_distance", "count_by_distance", "sink_share"):
            r.pop(k, None)
    if args.json:
        print(json.dumps(_jsonable(r), allow_nan=False))
        return 0
    from ..figures._style import format_percent   # the app's notation: 269 of 270 is 99.6 %, not 100 %

    q, k = top_pair_summary(r["q_pair_norm"]), top_pair_summary(r["k_pair_norm"])
    print(f"{r['model']}: {r['layers']} layers, {r['heads']} query / {r['kv_heads']} KV heads, head_dim "
          f"{r['head_dim']}, {r['pairs']} pairs; {r['tokens']:,} tokens of {r['text_label']}")
    for name, s in (("q", q), ("k", k)):
        print(f"  {name}: top pair in the slow half for {format_percent(s['slow_half_share'])} of heads; largest "
              "pair / "
              f"head median = {s['max_ratio']:.1f}; most common top pairs: "
              + ", ".join(str(int(i)) for i in np.argsort(-s["histogram"])[:4]))
    return 0


def run_ppl(args) -> int:
    from .api import perplexity

    extra = {k: getattr(args, k) for k, _ in SCALING_KEY_ARGS if getattr(args, k) is not None}
    bar = ProgressBar()
    try:
        r = perplexity(args.model, _text(args), args.tokens, bucket=args.bucket, base=args.base,
                       scaling=args.scaling, factor=args.factor, original_context=args.original_context, extra=extra,
                       models_dir=args.models_dir, progress=bar, cache=not args.no_cache)
    finally:
        bar.close()
    if args.json:
        out = _jsonable({k: v for k, v in r.items() if k != "nll"})
        print(json.dumps(out, allow_nan=False))
        return 0
    print(f"{r['model']}: {r['tokens']:,} tokens of {r['text_label']}; trained context {r['context_length']:,}; "
          f"RoPE {r['rope_used']}")
    print(f"{'start':>8} {'end':>8} {'NLL (nats)':>11} {'perplexity':>11}")
    for b in r["buckets"]:
        print(f"{b['start']:>8,} {b['end']:>8,} {b['nll']:>11.4f} {b['ppl']:>11.2f}")
    print(f"all: NLL {r['nll_mean']:.4f}, perplexity {r['ppl']:.2f}")
    return 0
