"""The fused Triton RoPE kernel: rotates q and k in one launch, no cos/sin table.

Design (memory-bound: RoPE does ~3 FLOPs per element, so the only cost that matters is moving q and k once):

* one program per (token, block of heads): it loads the token's position once, forms φ_i = m·θ_i in fp32 registers
  from the integer position and the fp32 ``inv_freq`` (p floats, L1/L2 resident), takes cos/sin once, and reuses them
  for every q head and every k head of that token (grouped-query attention: Hq ≠ Hk, one launch for both);
* strides-based addressing, so (B, H, S, D) and (B, S, H, D) tensors (and any view whose last dim is contiguous)
  are read in place, with no transpose or ``.contiguous()`` copy;
* half layout: two contiguous loads per head row (a = x[:p], b = x[p:r]); interleaved layout: one contiguous load of
  x[:r] split into even/odd lanes in registers (reshape + split), so both layouts use vectorised loads;
* partial rotary: the pass-through channels r … d−1 are copied (out of place) or left untouched (in place);
* the attention factor multiplies cos and sin (transformers' ``attention_scaling``);
* arithmetic in fp32, result cast to the output's dtype.

Compared with transformers' eager formula (which reads a bf16 cos/sin table and does the arithmetic in bf16) the
kernel reads 0 table bytes and rounds only once (the final store). Under ``TRITON_INTERPRET=1`` the same kernel runs
on CPU tensors (the tests use that where triton is installed).
"""

from __future__ import annotations

import triton
import triton.language as tl

# a·cos − b·sin as fused multiply-adds (one rounding instead of two). Set explicitly: Triton 3.9 warns that its
# default changes in 3.10.
FP_FUSION = True


@triton.jit
def _rotate_heads(x_ptr, o_ptr, stride_h, stride_oh, n_heads, h, i, pmask, cos, sin,
                  P: tl.constexpr, R: tl.constexpr, D: tl.constexpr, BLOCK_P: tl.constexpr,
                  BLOCK_PASS: tl.constexpr, INTERLEAVED: tl.constexpr, COPY_PASS: tl.constexpr):
    # h: (BLOCK_H,) head indices; i: (BLOCK_P,) pair indices; cos, sin: (BLOCK_P,) fp32
    hmask = h < n_heads
    row = h[:, None].to(tl.int64) * stride_h                        # (BLOCK_H, 1)
    orow = h[:, None].to(tl.int64) * stride_oh
    c = cos[None, :]                                                # (1, BLOCK_P)
    s = sin[None, :]
    if INTERLEAVED:
        j = tl.arange(0, 2 * BLOCK_P)                               # (2·BLOCK_P,) channel index in x[:r]
        m = hmask[:, None] & (j < R)[None, :]                       # (BLOCK_H, 2·BLOCK_P)
        x = tl.load(x_ptr + row + j[None, :], mask=m, other=0.0).to(tl.float32)
        a, b = tl.split(tl.reshape(x, (x.shape[0], BLOCK_P, 2)))    # (BLOCK_H, BLOCK_P) each: even, odd lanes
        out = tl.reshape(tl.join(a * c - b * s, a * s + b * c), (x.shape[0], 2 * BLOCK_P))
        tl.store(o_ptr + orow + j[None, :], out.to(o_ptr.dtype.element_ty), mask=m)
    else:
        m = hmask[:, None] & pmask[None, :]                         # (BLOCK_H, BLOCK_P)
        a = tl.load(x_ptr + row + i[None, :], mask=m, other=0.0).to(tl.float32)
        b = tl.load(x_ptr + row + P + i[None, :], mask=m, other=0.0).to(tl.float32)
        tl.store(o_ptr + orow + i[None, :], (a * c - b * s).to(o_ptr.dtype.element_ty), mask=m)
        tl.store(o_ptr + orow + P + i[None, :], (a * s + b * c).to(o_ptr.dtype.element_ty), mask=m)
    if COPY_PASS:
        jp = R + tl.arange(0, BLOCK_PASS)                           # pass-through channels r … d−1
        mp = hmask[:, None] & (jp < D)[None, :]
        xp = tl.load(x_ptr + row + jp[None, :], mask=mp, other=0.0)
        tl.store(o_ptr + orow + jp[None, :], xp.to(o_ptr.dtype.element_ty), mask=mp)


@triton.jit
def rope_qk_kernel(q_ptr, k_ptr, qo_ptr, ko_ptr, pos_ptr, inv_freq_ptr, af,
                   S, HQ, HK,
                   sq_b, sq_s, sq_h, sk_b, sk_s, sk_h,
                   sqo_b, sqo_s, sqo_h, sko_b, sko_s, sko_h,
                   sp_b, sp_s,
                   P: tl.constexpr, R: tl.constexpr, D: tl.constexpr,
                   BLOCK_P: tl.constexpr, BLOCK_H: tl.constexpr, BLOCK_PASS: tl.constexpr,
                   INTERLEAVED: tl.constexpr, COPY_PASS: tl.constexpr):
    tok = tl.program_id(0).to(tl.int64)                             # flattened (batch, token)
    hb = tl.program_id(1)                                           # head block
    bi = tok // S
    si = tok % S
    pos = tl.load(pos_ptr + bi * sp_b + si * sp_s).to(tl.float32)   # integer position → fp32 (exact to 2^24)
    i = tl.arange(0, BLOCK_P)
    pmask = i < P
    theta = tl.load(inv_freq_ptr + i, mask=pmask, other=0.0)        # (BLOCK_P,) fp32 rad/token
    phi = pos * theta                                               # fp32 angle, as transformers
    cos = tl.cos(phi) * af
    sin = tl.sin(phi) * af
    h = hb * BLOCK_H + tl.arange(0, BLOCK_H)
    _rotate_heads(q_ptr + bi * sq_b + si * sq_s, qo_ptr + bi * sqo_b + si * sqo_s, sq_h, sqo_h, HQ, h, i, pmask,
                  cos, sin, P, R, D, BLOCK_P, BLOCK_PASS, INTERLEAVED, COPY_PASS)
    if HK > 0:
        _rotate_heads(k_ptr + bi * sk_b + si * sk_s, ko_ptr + bi * sko_b + si * sko_s, sk_h, sko_h, HK, h, i,
                      pmask, cos, sin, P, R, D, BLOCK_P, BLOCK_PASS, INTERLEAVED, COPY_PASS)


def launch(q, k, qo, ko, pos, inv_freq32, af: float, *, s_axis: int, h_axis: int, rotary_dim: int,
           interleaved: bool, copy_pass: bool) -> None:
    """Launch ``rope_qk_kernel`` on 4-D q (B, ·, ·, D), k (or None) and their outputs (which may alias them, for the
    in-place variant). ``s_axis``/``h_axis`` say where the sequence and head axes are (2/1 for (B, H, S, D), 1/2 for
    (B, S, H, D)). pos: (B, S) positions (stride 0 on a broadcast batch is fine). Last dims must be contiguous."""
    B, S, HQ, D = q.shape[0], q.shape[s_axis], q.shape[h_axis], q.shape[-1]
    HK = 0 if k is None else k.shape[h_axis]
    P = rotary_dim // 2
    BLOCK_P = triton.next_power_of_2(P)
    BLOCK_PASS = triton.next_power_of_2(max(D - rotary_dim, 1))
    # enough heads per program to reuse cos/sin across the whole token, capped to keep the tile in registers
    BLOCK_H = min(triton.next_power_of_2(max(HQ, HK)), max(1, 4096 // (2 * BLOCK_P)))
    kk, kko = (q, qo) if k is None else (k, ko)
    grid = (B * S, triton.cdiv(max(HQ, HK), BLOCK_H))
    tile = BLOCK_H * 2 * BLOCK_P
    num_warps = 8 if tile >= 4096 else 4 if tile >= 1024 else 2
    rope_qk_kernel[grid](
        q, kk, qo, kko, pos, inv_freq32, float(af),
        S, HQ, HK,
        q.stride(0), q.stride(s_axis), q.stride(h_axis), kk.stride(0), kk.stride(s_axis), kk.stride(h_axis),
        qo.stride(0), qo.stride(s_axis), qo.stride(h_axis), kko.stride(0), kko.stride(s_axis), kko.stride(h_axis),
        pos.stride(0), pos.stride(1),
        P=P, R=rotary_dim, D=D, BLOCK_P=BLOCK_P, BLOCK_H=BLOCK_H, BLOCK_PASS=BLOCK_PASS,
        INTERLEAVED=interleaved, COPY_PASS=copy_pass and rotary_dim < D,
        num_warps=num_warps, enable_fp_fusion=FP_FUSION,
    )


def compile_offline(*, head_dim: int = 128, rotary_dim: int = 128, n_heads: int = 32, interleaved: bool = False,
                    copy_pass: bool = False, dtype: str = "bf16", arch: int = 90) -> dict:
    """Compile ``rope_qk_kernel`` ahead of time for an NVIDIA target (default sm_90, H100) — no GPU needed — with the
    specialisation the JIT applies at launch to 16-aligned pointers and 16-divisible strides (true for contiguous
    (B, H, S, D) / (B, S, H, D) tensors with D % 16 == 0). Returns the ``asm`` dict (ttir, ttgir, llir, ptx, cubin)
    plus ``num_warps``: lets CI without a GPU check that the kernel compiles, that its loads/stores are 128-bit
    vectorised and which sin/cos it calls."""
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    P = rotary_dim // 2
    BLOCK_P = triton.next_power_of_2(P)
    BLOCK_H = min(triton.next_power_of_2(n_heads), max(1, 4096 // (2 * BLOCK_P)))
    tile = BLOCK_H * 2 * BLOCK_P
    num_warps = 8 if tile >= 4096 else 4 if tile >= 1024 else 2
    names = rope_qk_kernel.arg_names
    sig = {n: f"*{dtype}" for n in ("q_ptr", "k_ptr", "qo_ptr", "ko_ptr")}
    sig.update(pos_ptr="*i64", inv_freq_ptr="*fp32", af="fp32", S="i32", HQ="i32", HK="i32")
    strides = [n for n in names if n.startswith(("sq", "sk", "sp"))]
    sig.update({n: "i64" for n in strides})
    consts = dict(P=P, R=rotary_dim, D=head_dim, BLOCK_P=BLOCK_P, BLOCK_H=BLOCK_H,
                  BLOCK_PASS=triton.next_power_of_2(max(head_dim - rotary_dim, 1)), INTERLEAVED=interleaved,
                  COPY_PASS=copy_pass and rotary_dim < head_dim)
    sig.update({k: "constexpr" for k in consts})
    aligned = [n for n in names if n.endswith("_ptr")] + strides
    attrs = {(names.index(n),): [["tt.divisibility", 16]] for n in aligned}
    src = ASTSource(fn=rope_qk_kernel, signature=sig, constexprs=consts, attrs=attrs)
    k = triton.compile(src, target=GPUTarget("cuda", arch, 32),
                       options=dict(num_warps=num_warps, enable_fp_fusion=FP_FUSION))
    return dict(k.asm, num_warps=num_warps)
