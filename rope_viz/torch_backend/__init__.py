"""rope_viz.torch_backend: the numpy core's RoPE on torch tensors, with a fused Triton kernel on CUDA.

Same semantics as ``rope_viz.rotation.apply_rope`` (both pair layouts, partial rotary, attention factor, every
``rope_type`` — inv_freq and attention_factor come from ``rope_viz.frequencies`` in float64 and are converted once),
computed the way transformers computes it: the angle m·θ is formed in fp32 on the device from the positions and an
fp32 inv_freq; fp32/bf16/fp16 inputs are rotated in fp32 and returned in their own dtype (float64 inputs stay float64
end to end, which the parity tests use).

Entry points:
    apply_rope(x, positions, cfg)          one tensor (any leading shape; 4-D q/k tensors understood)
    apply_rope_qk(q, k, positions, cfg)    q and k together (GQA: Hq ≠ Hk) — one Triton launch on CUDA
    score_vs_distance(q, k, cfg, Δ)        RoPE attention logit vs relative distance (RoFormer §3.4.3)

Backends: ``"triton"`` (CUDA tensors, or CPU tensors under ``TRITON_INTERPRET=1``), ``"eager"`` (torch ops, any
device). ``backend="auto"`` picks Triton for CUDA tensors when triton imports, eager otherwise.

This subpackage imports torch; nothing else in rope_viz does at module level (``import rope_viz`` never needs it).
"""

from __future__ import annotations

import functools
import os
from typing import Any

import numpy as np
import torch

from ..config import RopeConfig
from ._eager import angles, compute_dtype, rope_params, rotate

BACKENDS = ("auto", "triton", "eager")

__all__ = ["apply_rope", "apply_rope_qk", "score_vs_distance", "default_device", "device_name", "triton_available",
           "rope_params", "BACKENDS"]


# -- device / backend discovery -----------------------------------------------------------------------------------
def default_device() -> torch.device:
    """CUDA when available, else CPU."""
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


def device_name(device: torch.device | str | None = None) -> str:
    """A human-readable name: the GPU's name (e.g. "NVIDIA H100 80GB HBM3") or "CPU (N threads)"."""
    dev = torch.device(device) if device is not None else default_device()
    if dev.type == "cuda":
        return torch.cuda.get_device_name(dev)
    return f"CPU ({torch.get_num_threads()} threads, torch {torch.__version__})"


def interpreting() -> bool:
    """True when Triton's CPU interpreter is on (``TRITON_INTERPRET=1`` set before triton was imported)."""
    return os.environ.get("TRITON_INTERPRET", "0") not in ("", "0")


@functools.lru_cache(maxsize=1)
def _triton_module():
    try:
        from . import _triton
    except Exception:  # ImportError, or a triton that cannot initialise on this machine
        return None
    return _triton


def triton_available(device: torch.device | str | None = None) -> bool:
    """Whether the Triton kernel can run on ``device`` (default: the default device): triton importable and either
    a CUDA device or the CPU interpreter."""
    dev = torch.device(device) if device is not None else default_device()
    if _triton_module() is None:
        return False
    return dev.type == "cuda" or (dev.type == "cpu" and interpreting())


# -- input handling ------------------------------------------------------------------------------------------------
def _as_tensor(x: Any, name: str, device=None) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        t = x if device is None else x.to(device)
    else:
        arr = np.asarray(x)
        if arr.dtype.kind not in "biuf":
            raise ValueError(f"{name} must be real numbers, got dtype {arr.dtype}")
        t = torch.as_tensor(arr, device=device)
    if t.is_complex() or t.dtype == torch.bool:
        raise ValueError(f"{name} must be real numbers, got dtype {t.dtype}")
    return t


def _positions(positions: Any, device) -> torch.Tensor:
    pos = _as_tensor(positions, "positions", device)
    if pos.is_floating_point() and not bool(torch.isfinite(pos).all()):
        raise ValueError("positions must be finite")
    return pos


def _check_x(x: torch.Tensor, cfg: RopeConfig, name: str = "x") -> None:
    if not isinstance(cfg, RopeConfig):
        raise ValueError(f"cfg must be a RopeConfig, got {type(cfg).__name__}")
    if x.ndim == 0 or x.shape[-1] != cfg.head_dim:
        raise ValueError(f"{name} must have shape (..., head_dim={cfg.head_dim}), got {tuple(x.shape)}")
    compute_dtype(x.dtype)  # raises for unsupported dtypes


def _axes(layout_bhsd: bool) -> tuple[int, int]:
    """(sequence axis, head axis) of a 4-D tensor."""
    return (2, 1) if layout_bhsd else (1, 2)


def _positions_bs(pos: torch.Tensor, B: int, S: int, name: str = "positions") -> torch.Tensor | None:
    """Positions as a (B, S) view for the 4-D path: (S,) or (B, S) (or (1, S)); None for any other shape."""
    if pos.ndim == 1 and pos.shape[0] == S:
        return pos[None, :].expand(B, S)
    if pos.ndim == 2 and pos.shape[1] == S and pos.shape[0] in (1, B):
        return pos.expand(B, S)
    return None


def _pos_error(pos: torch.Tensor, B: int, S: int, layout_bhsd: bool) -> ValueError:
    lay = "(B, H, S, D)" if layout_bhsd else "(B, S, H, D)"
    return ValueError(f"positions must have shape (S,) = ({S},) or (B, S) = ({B}, {S}) for a {lay} tensor, "
                      f"got {tuple(pos.shape)}")


def _use_triton(backend: str, device: torch.device, dtype: torch.dtype | None = None) -> bool:
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if backend == "eager" or (backend == "auto" and dtype == torch.float64):   # the kernel is fp32/bf16/fp16
        return False
    ok = triton_available(device)
    if backend == "triton" and not ok:
        raise ValueError("backend='triton' needs triton and a CUDA tensor (or TRITON_INTERPRET=1 for CPU tensors); "
                         "use backend='auto' to fall back to eager torch")
    return ok


# -- public API ----------------------------------------------------------------------------------------------------
def apply_rope(x: Any, positions: Any, cfg: RopeConfig, seq_len: int | None = None, layout_bhsd: bool = True,
               backend: str = "auto") -> torch.Tensor:
    """Rotate x by RoPE at the given positions; the numpy core's ``apply_rope`` on tensors.

    x: tensor (..., d) (numpy arrays are converted), fp32/bf16/fp16/float64. positions: integer (or float) positions
    in tokens. Shapes:
      * 4-D x with positions of shape (S,) or (B, S): x is (B, H, S, D) when ``layout_bhsd`` (transformers), else
        (B, S, H, D) (flash-attn / Meta); positions go on the sequence axis, shared by all heads.
      * otherwise positions broadcast against x.shape[:-1] exactly as in ``rope_viz.rotation.apply_rope``.
    Returns a new tensor of broadcast shape, x's dtype and device. ``seq_len`` as in ``rope_viz.frequencies``
    (dynamic / longrope). ``backend``: "auto" | "triton" | "eager" (module docstring).
    """
    x = _as_tensor(x, "x")
    _check_x(x, cfg)
    pos = _positions(positions, x.device)
    if x.ndim == 4:
        s_ax, _ = _axes(layout_bhsd)
        B, S = x.shape[0], x.shape[s_ax]
        pos_bs = _positions_bs(pos, B, S)
        if pos_bs is not None:
            if _use_triton(backend, x.device, x.dtype):
                return _triton_qk(x, None, pos_bs, cfg, seq_len, layout_bhsd, inplace=False)[0]
            return _eager_4d(x, pos_bs, cfg, seq_len, layout_bhsd)
        if pos.ndim in (1, 2):
            raise _pos_error(pos, B, S, layout_bhsd)
    elif backend == "triton":
        raise ValueError("backend='triton' needs a 4-D x ((B, H, S, D) or (B, S, H, D)) with positions (S,) or (B, S)")
    lead = torch.broadcast_shapes(x.shape[:-1], pos.shape)
    ct = compute_dtype(x.dtype)
    theta, af = rope_params(cfg, seq_len, device=x.device, dtype=ct)
    phi = angles(pos.expand(lead), theta)                           # (lead..., p)
    return rotate(x.expand(*lead, cfg.head_dim), phi, af, cfg).to(x.dtype)


def _eager_4d(x: torch.Tensor, pos_bs: torch.Tensor, cfg: RopeConfig, seq_len, layout_bhsd: bool) -> torch.Tensor:
    ct = compute_dtype(x.dtype)
    theta, af = rope_params(cfg, seq_len, device=x.device, dtype=ct)
    phi = angles(pos_bs, theta)                                     # (B, S, p)
    phi = phi[:, None] if layout_bhsd else phi[:, :, None]          # (B, 1, S, p) or (B, S, 1, p)
    return rotate(x, phi, af, cfg).to(x.dtype)


def apply_rope_qk(q: Any, k: Any, positions: Any, cfg: RopeConfig, seq_len: int | None = None,
                  layout_bhsd: bool = True, inplace: bool = False, backend: str = "auto"
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """Rotate q and k together (one Triton launch on CUDA): the fused entry point.

    q: (B, Hq, S, D) and k: (B, Hk, S, D) when ``layout_bhsd`` (transformers), else (B, S, Hq, D) and (B, S, Hk, D);
    Hq and Hk may differ (grouped-query / multi-query attention). positions: (S,) or (B, S) integers, shared by q
    and k. ``inplace=True`` writes into q and k (pass-through channels are left untouched) and returns them;
    otherwise new tensors of the same dtype, shape and strides are returned.
    """
    q, k = _as_tensor(q, "q"), _as_tensor(k, "k")
    _check_x(q, cfg, "q")
    _check_x(k, cfg, "k")
    if q.ndim != 4 or k.ndim != 4:
        raise ValueError(f"q and k must be 4-D ({'(B, H, S, D)' if layout_bhsd else '(B, S, H, D)'}), got "
                         f"{tuple(q.shape)} and {tuple(k.shape)}")
    s_ax, _ = _axes(layout_bhsd)
    if q.shape[0] != k.shape[0] or q.shape[s_ax] != k.shape[s_ax]:
        raise ValueError(f"q and k must share batch and sequence sizes, got {tuple(q.shape)} and {tuple(k.shape)}")
    if q.device != k.device or q.dtype != k.dtype:
        raise ValueError(f"q and k must share device and dtype, got {q.device}/{q.dtype} and {k.device}/{k.dtype}")
    B, S = q.shape[0], q.shape[s_ax]
    pos = _positions(positions, q.device)
    pos_bs = _positions_bs(pos, B, S)
    if pos_bs is None:
        raise _pos_error(pos, B, S, layout_bhsd)
    if _use_triton(backend, q.device, q.dtype):
        return _triton_qk(q, k, pos_bs, cfg, seq_len, layout_bhsd, inplace)
    qo, ko = _eager_4d(q, pos_bs, cfg, seq_len, layout_bhsd), _eager_4d(k, pos_bs, cfg, seq_len, layout_bhsd)
    if inplace:
        q.copy_(qo)
        k.copy_(ko)
        return q, k
    return qo, ko


def _triton_qk(q, k, pos_bs, cfg: RopeConfig, seq_len, layout_bhsd: bool, inplace: bool):
    tri = _triton_module()
    if q.dtype == torch.float64:
        raise ValueError("the Triton kernel takes fp32, bf16 or fp16 tensors; use backend='eager' for float64")
    if inplace and (q.stride(-1) != 1 or (k is not None and k.stride(-1) != 1)):
        raise ValueError("inplace=True needs tensors whose last dim is contiguous")
    q = q if q.stride(-1) == 1 else q.contiguous()
    k = k if k is None or k.stride(-1) == 1 else k.contiguous()
    theta, af = rope_params(cfg, seq_len, device=q.device, dtype=torch.float32)
    if inplace:
        qo, ko = q, k
    else:
        qo = torch.empty_like(q)
        ko = None if k is None else torch.empty_like(k)
    s_ax, h_ax = _axes(layout_bhsd)
    tri.launch(q, k, qo, ko, pos_bs, theta, af, s_axis=s_ax, h_axis=h_ax, rotary_dim=cfg.rotary_dim,
               interleaved=cfg.layout == "interleaved", copy_pass=not inplace)
    return qo, ko


def score_vs_distance(q: Any, k: Any, cfg: RopeConfig, distances: Any, seq_len: int | None = None,
                      chunk: int = 1 << 16) -> torch.Tensor:
    """The RoPE attention logit as a function of relative distance Δ = m − n: ⟨R_{p+Δ} q, R_p k⟩ (any p; RoFormer
    §3.2: it depends on Δ only).

    With z_i = q_{a_i} + i·q_{b_i}, w_i = k_{a_i} + i·k_{b_i} per rotated pair and the attention factor af (on both
    q and k): score(Δ) = af² · Re Σ_i z_i·conj(w_i)·e^{iΔθ_i} + Σ_{c ≥ r} q_c k_c (pass-through channels).
    q, k: (..., d), broadcast against each other; distances: (n,) tokens. Returns (..., n) in fp32 (float64 when q
    or k is float64), on q's device. Evaluated in chunks of ``chunk`` distances (no (..., n, p) array beyond that).
    """
    q, k = _as_tensor(q, "q"), _as_tensor(k, "k", None)
    _check_x(q, cfg, "q")
    _check_x(k, cfg, "k")
    k = k.to(q.device)
    ct = torch.float64 if torch.float64 in (q.dtype, k.dtype) else torch.float32
    dist = _positions(distances, q.device)
    if dist.ndim != 1:
        raise ValueError(f"distances must be 1-D (n,), got shape {tuple(dist.shape)}")
    theta, af = rope_params(cfg, seq_len, device=q.device, dtype=ct)
    r, p = cfg.rotary_dim, cfg.n_pairs
    qc, kc = q.to(ct), k.to(ct)
    if cfg.layout == "half":
        qa, qb, ka, kb = qc[..., :p], qc[..., p:r], kc[..., :p], kc[..., p:r]
    else:
        qa, qb, ka, kb = qc[..., 0:r:2], qc[..., 1:r:2], kc[..., 0:r:2], kc[..., 1:r:2]
    hr = (qa * ka + qb * kb) * af * af                              # Re z·conj(w)   (..., p)
    hi = (qb * ka - qa * kb) * af * af                              # Im z·conj(w)   (..., p)
    const = (qc[..., r:] * kc[..., r:]).sum(-1, keepdim=True)       # pass-through   (..., 1)
    outs = []
    for s in range(0, dist.shape[0], chunk):
        phi = angles(dist[s:s + chunk], theta)                      # (c, p)
        outs.append(hr @ torch.cos(phi).T - hi @ torch.sin(phi).T)  # (..., p) @ (p, c) → (..., c)
    if not outs:
        return torch.zeros(*hr.shape[:-1], 0, dtype=ct, device=q.device)
    return torch.cat(outs, dim=-1) + const
