"""The RoPE kernel benchmark: ``python -m rope_viz.bench gpu`` (dispatches to ``main(argv)`` here).

Shapes (issue 4): batch 1, 32 query heads, 8 KV heads, head dim 128, bf16, S ∈ {4K, 32K, 128K} on CUDA (on CPU:
S ∈ {256, 512, 1024}, clearly labelled CPU numbers). For each S it times rotating q (1, 32, S, 128) and k (1, 8, S, 128):

    copy          q.copy_, k.copy_ into preallocated outputs: the memory-bound floor (same bytes read and written)
    ours          rope_viz.torch_backend.apply_rope_qk: the fused Triton kernel on CUDA (eager torch on CPU)
    ours-inplace  the same, in place (inplace=True)
    hf-eager      transformers' eager apply_rotary_pos_emb with a precomputed bf16 cos/sin table
    hf-compile    torch.compile of that function (CUDA by default; on CPU with --compile)
    meta-complex  Meta's reference apply_rotary_emb (complex multiply, (B, S, H, D) tensors)
    liger         Liger-Kernel's liger_rotary_pos_emb (in place), when liger_kernel is installed (CUDA)
    sdpa          causal scaled_dot_product_attention(q, k, v) with GQA, the attention RoPE sits next to

and reports milliseconds, the ratio to ``copy``, and RoPE's share of the SDPA time. cos/sin table construction for
the table-based peers is excluded (it is shared by all layers); ours builds no table at all. No pass/fail on time.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from dataclasses import dataclass, field
from typing import Callable

import torch

from .. import validate as V
from ..config import RopeConfig
from . import _eager, apply_rope_qk, default_device, device_name, rope_params, triton_available

GPU_SEQ_LENS = (4096, 32768, 131072)
CPU_SEQ_LENS = (256, 512, 1024)
METHODS = ("copy", "ours", "ours-inplace", "hf-eager", "hf-compile", "meta-complex", "liger", "sdpa")
ROPE_METHODS = tuple(m for m in METHODS if m not in ("copy", "sdpa"))


SPREAD_TARGET = 0.10      # a timing is "noisy" when its relative spread stays above this (10 %)
SHRINK_LIMIT = 1.5        # a call 1.5× slower than the same call on a longer sequence was stalled (its work grows with S)


@dataclass(frozen=True)
class Timing:
    """Repeated measurements of one call, in milliseconds: the fastest, the median, the quartiles, the relative
    spread (p75 − p25) / median, the number of samples kept, and whether the spread stayed above SPREAD_TARGET."""
    min: float
    median: float
    p25: float
    p75: float
    n: int

    @property
    def spread(self) -> float:
        return (self.p75 - self.p25) / self.median if self.median > 0 else math.inf

    @property
    def noisy(self) -> bool:
        return not self.spread <= SPREAD_TARGET

    @classmethod
    def of(cls, samples_ms) -> "Timing":
        """Statistics of the samples (ms); ValueError if there are none."""
        xs = sorted(float(x) for x in samples_ms)
        if not xs:
            raise ValueError("a timing needs at least one sample")
        q = statistics.quantiles(xs, n=4, method="inclusive") if len(xs) > 1 else [xs[0]] * 3
        return cls(min=xs[0], median=statistics.median(xs), p25=q[0], p75=q[2], n=len(xs))


def measure(sample: Callable[[], float], *, warmup: int = 2, min_repeats: int = 5, max_repeats: int = 200,
            budget_s: float = 0.5, clock: Callable[[], float] = time.perf_counter) -> Timing:
    """Warm up (``warmup`` samples thrown away), then take samples (each ``sample()`` returns one time in ms) until
    the relative spread (p75 − p25)/median of those kept is ≤ SPREAD_TARGET with at least ``min_repeats`` samples,
    or ``budget_s`` seconds have passed, or ``max_repeats`` samples were taken. A result still above the target is
    flagged ``noisy``."""
    for _ in range(warmup):
        sample()
    t_end = clock() + budget_s
    xs: list[float] = []
    while len(xs) < max_repeats:
        xs.append(float(sample()))
        if len(xs) >= min_repeats and (not Timing.of(xs).noisy or clock() >= t_end):
            break
    return Timing.of(xs)


@dataclass
class BenchResult:
    device: str                     # "cuda" or "cpu"
    device_name: str
    dtype: str
    shape: dict                     # batch, n_q_heads, n_kv_heads, head_dim
    seq_lens: list[int]
    ms: dict[str, dict[int, float]] = field(default_factory=dict)     # method -> seq_len -> median milliseconds
    notes: list[str] = field(default_factory=list)
    timings: dict[str, dict[int, Timing]] = field(default_factory=dict)   # method -> seq_len -> Timing

    @classmethod
    def from_dict(cls, d: dict) -> "BenchResult":
        """Rebuild a result from ``dataclasses.asdict(result)`` (e.g. after a JSON round trip: seq-len keys may be
        strings, timings plain dicts). ValueError if ``d`` is not such a dict."""
        if not isinstance(d, dict) or "ms" not in d or "seq_lens" not in d:
            raise ValueError("result must be a BenchResult (run_benchmark) or its dataclasses.asdict()")
        fields = {k: d[k] for k in ("device", "device_name", "dtype", "shape") if k in d}
        ms = {m: {int(s): float(t) for s, t in v.items()} for m, v in d["ms"].items()}
        timings = {m: {int(s): t if isinstance(t, Timing) else Timing(**t) for s, t in v.items()}
                   for m, v in (d.get("timings") or {}).items()}
        return cls(**{"device": "cpu", "device_name": "", "dtype": "", "shape": {}, **fields},
                   seq_lens=[int(s) for s in d["seq_lens"]], ms=ms, notes=list(d.get("notes", ())), timings=timings)

    def ratio(self, method: str, seq_len: int) -> float:
        """Median time over the copy floor's median time."""
        return self.ms[method][seq_len] / self.ms["copy"][seq_len]

    def sdpa_share(self, method: str, seq_len: int) -> float:
        """RoPE time as a percentage of causal SDPA time (medians)."""
        return 100.0 * self.ms[method][seq_len] / self.ms["sdpa"][seq_len]

    def stalled(self, method: str, seq_len: int) -> bool:
        """Whether this median is over SHRINK_LIMIT × the same method's median at a longer sequence: every method's
        work grows with S, so the shorter one was measured while the machine stalled (a steady stall passes the
        spread test: a busy CPU gave 128 ms at S = 64 against 38 ms at S = 1,024, '8,260× copy')."""
        times = self.ms.get(method, {})
        return any(times[seq_len] > SHRINK_LIMIT * t for s, t in times.items() if s > seq_len)

    def noisy(self, method: str, seq_len: int) -> bool:
        """Whether this measurement should not be trusted: its own spread, or that of the copy / attention it is
        compared with, stayed above SPREAD_TARGET, or it ran faster than copying the same bytes (a RoPE variant
        reads and writes at least what the copy does, so a ratio below 0.9 means the machine was busy), or it (or
        the copy / attention it is compared with) was ``stalled``."""
        def bad(m: str) -> bool:
            t = self.timings.get(m, {}).get(seq_len)
            return (t is not None and t.noisy) or (seq_len in self.ms.get(m, {}) and self.stalled(m, seq_len))
        below_floor = (method in ROPE_METHODS and "copy" in self.ms and seq_len in self.ms["copy"]
                       and self.ratio(method, seq_len) < 0.9)
        return bad(method) or below_floor or (method != "sdpa" and bad("copy")) or \
            (method in ROPE_METHODS and bad("sdpa"))

    def rows(self) -> list[dict]:
        """One dict per measured (seq_len, method): seq_len, method, ms (median), min_ms, spread (relative, None
        without repeated timings), x_copy, pct_sdpa (None where not defined: no copy / no attention measured, or the
        row is copy / attention itself), noisy."""
        out = []
        for s in self.seq_lens:
            for m in METHODS:
                if m in self.ms and s in self.ms[m]:
                    t = self.timings.get(m, {}).get(s)
                    has_copy = "copy" in self.ms and s in self.ms["copy"]
                    has_sdpa = "sdpa" in self.ms and s in self.ms["sdpa"]
                    out.append(dict(seq_len=s, method=m, ms=self.ms[m][s],
                                    min_ms=t.min if t else self.ms[m][s], spread=t.spread if t else None,
                                    x_copy=self.ratio(m, s) if has_copy and m != "copy" else None,
                                    pct_sdpa=self.sdpa_share(m, s) if has_sdpa and m in ROPE_METHODS else None,
                                    noisy=self.noisy(m, s)))
        return out


def _sampler(device: torch.device, fn: Callable[[], object], min_time_s: float = 0.02) -> Callable[[], float]:
    """A function returning one sample of ``fn``'s time per call (ms). CUDA: events around a batch of calls sized to
    ≥ min_time_s (after a synchronised trial call); CPU: perf_counter around one call."""
    if device.type != "cuda":
        def one_cpu() -> float:
            t0 = time.perf_counter()
            fn()
            return (time.perf_counter() - t0) * 1e3
        return one_cpu
    fn()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    fn()
    torch.cuda.synchronize()
    inner = max(1, min(1000, int(min_time_s / max(time.perf_counter() - t0, 1e-6))))
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)

    def one_cuda() -> float:
        start.record()
        for _ in range(inner):
            fn()
        end.record()
        end.synchronize()
        return start.elapsed_time(end) / inner
    return one_cuda


def _liger():
    try:
        from liger_kernel.transformers.rope import liger_rotary_pos_emb
        return liger_rotary_pos_emb
    except Exception:  # not installed (or no CUDA triton)
        return None


def run_benchmark(seq_lens=None, *, device=None, n_q_heads: int = 32, n_kv_heads: int = 8, head_dim: int = 128,
                  batch: int = 1, dtype: torch.dtype = torch.bfloat16, methods=None, base: float = 5e5,
                  repeats: int | None = None, budget_s: float | None = None, compile_on_cpu: bool = False,
                  progress: Callable[[float, str], None] | None = None) -> BenchResult:
    """Time every method at every sequence length (see the module docstring) with ``measure``: warm-up, then at
    least ``repeats`` samples (default 7 on CUDA, 5 on CPU) and more until the spread is small or ``budget_s``
    seconds per measurement (default 0.5 on CUDA, 0.3 on CPU) have passed. ``ms`` holds the medians, ``timings``
    the full statistics. ``progress(fraction, message)`` is called before each measurement (the Kernel page's
    progress bar)."""
    dev = torch.device(device) if device is not None else default_device()
    seq_lens = list(seq_lens or (GPU_SEQ_LENS if dev.type == "cuda" else CPU_SEQ_LENS))
    if not seq_lens or any(int(s) != s or s < 1 for s in seq_lens):
        raise ValueError(f"seq_lens must be positive integers, got {seq_lens!r}")
    methods = V.choices("methods", METHODS if methods is None else methods, METHODS) or list(METHODS)   # [] = all
    if "copy" not in methods:
        methods.insert(0, "copy")
    repeats = int(repeats or (7 if dev.type == "cuda" else 5))
    budget = float(budget_s if budget_s is not None else (0.5 if dev.type == "cuda" else 0.3))
    if repeats < 1 or not budget >= 0:
        raise ValueError(f"repeats must be ≥ 1 and budget_s ≥ 0, got {repeats}, {budget_s}")
    cfg = RopeConfig(head_dim, base=base, context_length=max(max(seq_lens), 1))
    res = BenchResult(dev.type, device_name(dev), str(dtype).replace("torch.", ""),
                      dict(batch=batch, n_q_heads=n_q_heads, n_kv_heads=n_kv_heads, head_dim=head_dim),
                      [int(s) for s in seq_lens])
    if dev.type == "cuda" and not triton_available(dev):
        res.notes.append("triton not importable: 'ours' ran the eager torch fallback")
    if dev.type == "cpu":
        res.notes.append("CPU numbers: 'ours' is the eager torch path (the Triton kernel needs CUDA)")
    liger = _liger() if dev.type == "cuda" else None
    compiled = None
    if "hf-compile" in methods and (dev.type == "cuda" or compile_on_cpu):
        compiled = torch.compile(_eager.hf_apply_rotary_pos_emb, dynamic=False)
    steps = len(seq_lens) * len(methods)
    done = 0
    theta32, af = rope_params(cfg, device=dev)
    for S in seq_lens:
        g = torch.Generator(device="cpu").manual_seed(0)
        q = torch.randn(batch, n_q_heads, S, head_dim, generator=g).to(dev, dtype)
        k = torch.randn(batch, n_kv_heads, S, head_dim, generator=g).to(dev, dtype)
        pos = torch.arange(S, device=dev)[None].expand(batch, S)
        qo, ko = torch.empty_like(q), torch.empty_like(k)
        cos, sin = _eager.hf_cos_sin(pos, theta32, af, dtype)
        for m in methods:
            if progress:
                progress(done / steps, f"S = {S:,}: {m}")
            done += 1
            fn: Callable[[], object] | None = None
            if m == "copy":
                fn = lambda: (qo.copy_(q), ko.copy_(k))  # noqa: E731
            elif m == "ours":
                fn = lambda: apply_rope_qk(q, k, pos, cfg)  # noqa: E731
            elif m == "ours-inplace":
                fn = lambda: apply_rope_qk(qo, ko, pos, cfg, inplace=True)  # noqa: E731 (rotates qo/ko over and over)
            elif m == "hf-eager":
                fn = lambda: _eager.hf_apply_rotary_pos_emb(q, k, cos, sin)  # noqa: E731
            elif m == "hf-compile":
                if compiled is None:
                    continue
                fn = lambda: compiled(q, k, cos, sin)  # noqa: E731
            elif m == "meta-complex":
                qm, km = q.transpose(1, 2).contiguous(), k.transpose(1, 2).contiguous()   # (B, S, H, D)
                fc = _eager.meta_freqs_cis(pos[0], theta32, af)
                fn = lambda: _eager.meta_apply_rotary_emb(qm, km, fc)  # noqa: E731
            elif m == "liger":
                if liger is None:
                    continue
                fn = lambda: liger(qo, ko, cos, sin)  # noqa: E731
            elif m == "sdpa":
                v = torch.randn_like(k)
                fn = lambda: torch.nn.functional.scaled_dot_product_attention(  # noqa: E731
                    q, k, v, is_causal=True, enable_gqa=True)
            try:
                t = measure(_sampler(dev, fn), min_repeats=repeats, budget_s=budget)
                res.timings.setdefault(m, {})[S] = t
                res.ms.setdefault(m, {})[S] = t.median
            except Exception as e:  # a peer failing (e.g. torch.compile without a compiler) must not stop the rest
                res.ms.get(m, {}).pop(S, None)
                res.timings.get(m, {}).pop(S, None)
                note = f"{m} failed at S={S}: {type(e).__name__}: {str(e).splitlines()[0][:120] if str(e) else ''}"
                res.notes.append(note)
        del q, k, qo, ko
        if dev.type == "cuda":
            torch.cuda.empty_cache()
    if "liger" in methods and liger is None:
        res.notes.append("liger: not installed (pip install liger-kernel) or no CUDA")
    if "hf-compile" in methods and compiled is None:
        res.notes.append("hf-compile: skipped on CPU (pass --compile to include it)")
    res.ms = {m: v for m, v in res.ms.items() if v}
    res.timings = {m: v for m, v in res.timings.items() if v}
    if progress:
        progress(1.0, "done")
    return res


def format_table(res: BenchResult) -> str:
    """The benchmark as a plain-text table, one line per (S, method): median and fastest ms, spread, × copy, RoPE's
    share of attention, and "noisy" where the measurement should not be trusted (``BenchResult.noisy``)."""
    head = ("CPU NUMBERS (no CUDA GPU: not the kernel's target)" if res.device == "cpu" else "CUDA")
    sh = res.shape
    lines = [f"RoPE on q and k — {head}: {res.device_name}",
             f"batch {sh.get('batch')}, {sh.get('n_q_heads')} query heads, {sh.get('n_kv_heads')} KV heads, head dim "
             f"{sh.get('head_dim')}, {res.dtype}; spread = (p75 − p25)/median; × copy = median / median time to copy "
             "the same q/k bytes",
             f"{'S':>9} | {'method':<13} | {'median ms':>10} | {'min ms':>10} | {'spread':>7} | {'× copy':>7} | "
             f"{'% of attn':>9} |"]
    lines.append("-" * len(lines[-1]))

    def cell(v, fmt: str, width: int) -> str:
        return f"{'—' if v is None else format(v, fmt):>{width}}"
    for r in res.rows():
        spread = None if r["spread"] is None else 100 * r["spread"]
        lines.append(f"{r['seq_len']:>9,} | {r['method']:<13} | {r['ms']:>10.4f} | {r['min_ms']:>10.4f} | "
                     f"{cell(spread, '.0f', 6)}% | {cell(r['x_copy'], '.2f', 7)} | {cell(r['pct_sdpa'], '.1f', 9)} |"
                     + (" noisy" if r["noisy"] else ""))
    if any(r["noisy"] for r in res.rows()):
        lines.append(f"noisy: spread above {SPREAD_TARGET:.0%} after the time budget, or faster than the copy floor "
                     "(the machine was busy): rerun on a quiet machine")
    for n in res.notes:
        lines.append(f"note: {n}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``python -m rope_viz.bench gpu [--seq-lens 4096 32768 131072] [--device cuda|cpu] [--methods …]``."""
    ap = argparse.ArgumentParser(prog="python -m rope_viz.bench gpu", description=__doc__.split("\n\n")[0])
    ap.add_argument("--seq-lens", type=int, nargs="+", default=None,
                    help=f"sequence lengths (default {GPU_SEQ_LENS} on CUDA, {CPU_SEQ_LENS} on CPU)")
    ap.add_argument("--device", choices=("cuda", "cpu"), default=None, help="default: cuda when available")
    ap.add_argument("--methods", nargs="+", choices=METHODS, default=None)
    ap.add_argument("--dtype", choices=("bfloat16", "float16", "float32"), default="bfloat16")
    ap.add_argument("--repeats", type=int, default=None, help="minimum samples per measurement")
    ap.add_argument("--budget", type=float, default=None, help="seconds per measurement before giving up on a "
                    "small spread (default 0.5 on CUDA, 0.3 on CPU)")
    ap.add_argument("--compile", action="store_true", help="include torch.compile on CPU too (slow to compile)")
    ap.add_argument("--heads", type=int, nargs=2, default=(32, 8), metavar=("HQ", "HK"))
    ap.add_argument("--head-dim", type=int, default=128)
    args = ap.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        ap.error("--device cuda: no CUDA device is available")
    res = run_benchmark(args.seq_lens, device=args.device, methods=args.methods, dtype=getattr(torch, args.dtype),
                        repeats=args.repeats, budget_s=args.budget, compile_on_cpu=args.compile, n_q_heads=args.heads[0],
                        n_kv_heads=args.heads[1], head_dim=args.head_dim,
                        progress=lambda f, msg: print(f"  [{f:4.0%}] {msg}", flush=True) if math.isfinite(f) else None)
    print(format_table(res))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
