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

from ..config import RopeConfig
from . import _eager, apply_rope_qk, default_device, device_name, rope_params, triton_available

GPU_SEQ_LENS = (4096, 32768, 131072)
CPU_SEQ_LENS = (256, 512, 1024)
METHODS = ("copy", "ours", "ours-inplace", "hf-eager", "hf-compile", "meta-complex", "liger", "sdpa")
ROPE_METHODS = tuple(m for m in METHODS if m not in ("copy", "sdpa"))


@dataclass
class BenchResult:
    device: str                     # "cuda" or "cpu"
    device_name: str
    dtype: str
    shape: dict                     # batch, n_q_heads, n_kv_heads, head_dim
    seq_lens: list[int]
    ms: dict[str, dict[int, float]] = field(default_factory=dict)     # method -> seq_len -> milliseconds
    notes: list[str] = field(default_factory=list)

    def ratio(self, method: str, seq_len: int) -> float:
        """Time over the copy floor."""
        return self.ms[method][seq_len] / self.ms["copy"][seq_len]

    def sdpa_share(self, method: str, seq_len: int) -> float:
        """RoPE time as a percentage of causal SDPA time."""
        return 100.0 * self.ms[method][seq_len] / self.ms["sdpa"][seq_len]

    def rows(self) -> list[dict]:
        """One dict per (seq_len, method): seq_len, method, ms, x_copy, pct_sdpa (None where not defined)."""
        out = []
        for s in self.seq_lens:
            for m in METHODS:
                if m in self.ms and s in self.ms[m]:
                    out.append(dict(seq_len=s, method=m, ms=self.ms[m][s],
                                    x_copy=self.ratio(m, s) if "copy" in self.ms else None,
                                    pct_sdpa=self.sdpa_share(m, s) if "sdpa" in self.ms and m in ROPE_METHODS
                                    else None))
        return out


def _timer(device: torch.device, repeats: int, min_time_s: float = 0.02) -> Callable[[Callable[[], object]], float]:
    """Median milliseconds per call. CUDA: events around a batch of calls sized to ≥ min_time_s; CPU: perf_counter."""
    def time_cuda(fn) -> float:
        for _ in range(3):
            fn()
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        one = max(time.perf_counter() - t0, 1e-6)
        inner = max(1, min(1000, int(min_time_s / one)))
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        samples = []
        for _ in range(repeats):
            start.record()
            for _ in range(inner):
                fn()
            end.record()
            end.synchronize()
            samples.append(start.elapsed_time(end) / inner)
        return statistics.median(samples)

    def time_cpu(fn) -> float:
        fn()
        samples = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - t0) * 1e3)
        return statistics.median(samples)

    return time_cuda if device.type == "cuda" else time_cpu


def _liger():
    try:
        from liger_kernel.transformers.rope import liger_rotary_pos_emb
        return liger_rotary_pos_emb
    except Exception:  # not installed (or no CUDA triton)
        return None


def run_benchmark(seq_lens=None, *, device=None, n_q_heads: int = 32, n_kv_heads: int = 8, head_dim: int = 128,
                  batch: int = 1, dtype: torch.dtype = torch.bfloat16, methods=None, base: float = 5e5,
                  repeats: int | None = None, compile_on_cpu: bool = False,
                  progress: Callable[[float, str], None] | None = None) -> BenchResult:
    """Time every method at every sequence length (see the module docstring). ``progress(fraction, message)`` is
    called before each measurement (the Kernel page's progress bar)."""
    dev = torch.device(device) if device is not None else default_device()
    seq_lens = list(seq_lens or (GPU_SEQ_LENS if dev.type == "cuda" else CPU_SEQ_LENS))
    if not seq_lens or any(int(s) != s or s < 1 for s in seq_lens):
        raise ValueError(f"seq_lens must be positive integers, got {seq_lens!r}")
    methods = list(methods or METHODS)
    bad = sorted(set(methods) - set(METHODS))
    if bad:
        raise ValueError(f"unknown method(s) {', '.join(bad)}; allowed: {', '.join(METHODS)}")
    if "copy" not in methods:
        methods.insert(0, "copy")
    repeats = repeats or (7 if dev.type == "cuda" else 3)
    timer = _timer(dev, repeats)
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
                res.ms.setdefault(m, {})[S] = timer(fn)
            except Exception as e:  # a peer failing (e.g. torch.compile without a compiler) must not stop the rest
                res.ms.get(m, {}).pop(S, None)
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
    if progress:
        progress(1.0, "done")
    return res


def format_table(res: BenchResult) -> str:
    """The benchmark as a plain-text table: ms and ×copy per method, RoPE share of SDPA."""
    head = ("CPU NUMBERS (no CUDA GPU: not the kernel's target)" if res.device == "cpu" else "CUDA")
    sh = res.shape
    lines = [f"RoPE on q and k — {head}: {res.device_name}",
             f"batch {sh['batch']}, {sh['n_q_heads']} query heads, {sh['n_kv_heads']} KV heads, head dim "
             f"{sh['head_dim']}, {res.dtype}; median ms; ×copy = time / time to copy the same q/k bytes"]
    methods = [m for m in METHODS if m in res.ms]
    w = 22
    lines.append(f"{'seq len':>9} | " + " | ".join(f"{m:>{w}}" for m in methods))
    lines.append("-" * (12 + (w + 3) * len(methods)))
    for s in res.seq_lens:
        cells = []
        for m in methods:
            if s not in res.ms[m]:
                cells.append(f"{'—':>{w}}")
                continue
            t = res.ms[m][s]
            if m == "sdpa" or "copy" not in res.ms or s not in res.ms["copy"]:
                cells.append(f"{t:>{w}.4f}")
            else:
                cells.append(f"{f'{t:.4f} ({res.ratio(m, s):.2f}×)':>{w}}")
        lines.append(f"{s:>9,} | " + " | ".join(cells))
    if "sdpa" in res.ms:
        lines.append("")
        lines.append("RoPE time as % of causal SDPA time:")
        for s in res.seq_lens:
            if s not in res.ms["sdpa"]:
                continue
            parts = [f"{m} {res.sdpa_share(m, s):.1f}%" for m in methods if m in ROPE_METHODS and s in res.ms[m]]
            lines.append(f"  S = {s:,}: " + ", ".join(parts))
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
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--compile", action="store_true", help="include torch.compile on CPU too (slow to compile)")
    ap.add_argument("--heads", type=int, nargs=2, default=(32, 8), metavar=("HQ", "HK"))
    ap.add_argument("--head-dim", type=int, default=128)
    args = ap.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        ap.error("--device cuda: no CUDA device is available")
    res = run_benchmark(args.seq_lens, device=args.device, methods=args.methods, dtype=getattr(torch, args.dtype),
                        repeats=args.repeats, compile_on_cpu=args.compile, n_q_heads=args.heads[0],
                        n_kv_heads=args.heads[1], head_dim=args.head_dim,
                        progress=lambda f, msg: print(f"  [{f:4.0%}] {msg}", flush=True) if math.isfinite(f) else None)
    print(format_table(res))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
