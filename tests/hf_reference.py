"""transformers' RoPE init functions as an oracle, run twice: as published (float32) and, unchanged, in float64.

transformers writes its inverse-frequency formulas (``transformers.modeling_rope_utils.ROPE_INIT_FUNCTIONS``) with
explicit float32: ``dtype=torch.float``, ``dtype=torch.float32`` and ``.float()``. Inside :func:`float64_torch` those
three names mean float64, so the very same code computes the same formula in float64. That gives two references for
rope_viz's float64 ``inv_freq``:

* transformers in float64 — the same formula, rounded at 1e-16: rope_viz must agree to ~1e-14;
* transformers as published (float32) — off from the float64 result by float32 rounding, which :func:`float32_bound`
  bounds per pair by first-order error propagation (unit roundoff u = 2^-24 times the condition of each step).

Used by tests/test_transformers_agreement.py and tests/test_presets.py.
"""

from __future__ import annotations

import contextlib
import copy
import math
from typing import Any, Mapping

import numpy as np
import torch
from transformers import AutoConfig
from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

U32 = 2.0 ** -24   # float32 unit roundoff: a correctly rounded float32 operation errs by at most u relative


@contextlib.contextmanager
def float64_torch():
    """Within this block ``torch.float``, ``torch.float32`` and ``Tensor.float()`` give float64 (restored after)."""
    saved = torch.float, torch.float32, torch.Tensor.float
    torch.float = torch.float32 = torch.float64
    torch.Tensor.float = torch.Tensor.double
    try:
        yield
    finally:
        torch.float, torch.float32, torch.Tensor.float = saved


def hf_config(values: Mapping[str, Any], model_type: str = "llama"):
    """transformers' own config class for ``model_type`` built from config.json ``values`` (copied first)."""
    values = copy.deepcopy(dict(values))
    sc = values.get("rope_scaling") or {}
    if sc.get("type") == "su":
        # transformers 5.x's Phi3Config renames the legacy "su" to "longrope" only after standardising, so it then
        # misses original_max_position_embeddings; the rename up front is what its converter intends.
        sc["type"] = "longrope"
    return AutoConfig.for_model(model_type, **values)


def hf_inv_freq(config, seq_len: int | None = None, *, float64: bool = False) -> tuple[np.ndarray, float]:
    """(inv_freq as float64 numpy, attention factor) from transformers' ROPE_INIT_FUNCTIONS for ``config``'s
    rope_type; ``float64=True`` runs the same code in float64. The default type runs as 'linear' with factor 1
    (identical formula; saves importing a modeling module)."""
    config = copy.deepcopy(config)
    rope_type = config.rope_parameters.get("rope_type", "default")
    if rope_type == "default":
        config.rope_parameters = {**config.rope_parameters, "rope_type": "linear", "factor": 1.0}
        rope_type = "linear"
    with float64_torch() if float64 else contextlib.nullcontext():
        inv, af = ROPE_INIT_FUNCTIONS[rope_type](config, None, seq_len=seq_len)
    want = torch.float64 if float64 else torch.float32
    if inv.dtype != want:
        raise AssertionError(f"transformers returned {inv.dtype}, expected {want}")
    return inv.double().numpy(), float(af)


def _ln_theta(base: float, dim: int) -> np.ndarray:
    """|ln θ_i| for θ_i = base^(-2i/dim): the condition number of base^(-e) with respect to the exponent e."""
    return np.arange(0, dim, 2) / dim * math.log(base)


def _on_ramp(raw: np.ndarray, tol: float = 1e-4) -> np.ndarray:
    """1 where a blend weight (before clamping to [0, 1]) is inside the ramp or within rounding of its ends (where
    float32 can move it across), else 0: clamped weights are exact, and at the ends both branches agree."""
    return ((raw > -tol) & (raw < 1 + tol)).astype(float)


def float32_bound(kind: str, p: Mapping[str, Any], *, dim: int, max_position: int, seq_len: int | None = None
                  ) -> np.ndarray:
    """Per-pair bound on |inv_freq_float32 / inv_freq_float64 − 1| for transformers' formula of ``kind``.

    First-order error propagation with unit roundoff u (each float32 operation errs ≤ u relative, float32 pow
    ≤ 2u): θ_i = 1 / base^(2i/d) inherits the rounding of the exponent 2i/d amplified by |ln θ_i| (the condition of
    b^e in e), plus ~4u for casting base, pow and the reciprocal. The blends then amplify the absolute error δ of their
    weight by |∂ ln f / ∂ weight|:

    * yarn: f = θ·(r/s + 1 − r) with ramp r = clamp((i − low)/(high − low), 0, 1); δr is the rounding of the float32
      ramp (low/high cast, subtraction, division, the two ``1 −``); |∂ ln f/∂r| = (1 − 1/s)/(r/s + 1 − r), up to
      s − 1 where r → 1 — so factor 40 with an unfloored (truncate=False) ramp reaches ~1e-5;
    * llama3: f = θ·((1 − m)/s + m), m = (L/λ − lf)/(hf − lf) with λ = 2π/θ computed in float32, so δm carries θ's
      error times (L/λ)/(hf − lf); |∂ ln f/∂m| = (1 − 1/s)/((1 − m)/s + m), up to s − 1 where m → 0.

    ``p`` holds the rope parameters (factor, base as rope_theta, ...). Returns an array of shape (dim/2,).
    """
    base = float(p["rope_theta"])
    if kind == "dynamic":
        s = float(p["factor"])
        n = max(seq_len or max_position, max_position)
        base = base * (s * n / max_position - (s - 1)) ** (dim / (dim - 2))
    ln_t = _ln_theta(base, dim)
    theta_err = ln_t + 4.0                      # exponent rounding × |ln θ|, base cast, pow (2u), reciprocal
    if kind in ("default", "dynamic"):
        return U32 * theta_err
    if kind in ("linear", "longrope"):
        return U32 * (theta_err + 3.0)          # factor cast, product / division, final rounding
    if kind == "yarn":
        s = float(p["factor"])
        orig = int(p["original_max_position_embeddings"])

        def corr(rot: float) -> float:
            return dim * math.log(orig / (rot * 2 * math.pi)) / (2 * math.log(base))

        low, high = corr(p.get("beta_fast") or 32), corr(p.get("beta_slow") or 1)
        if p.get("truncate", True):
            low, high = math.floor(low), math.ceil(high)
        low, high = max(low, 0), min(high, dim - 1)
        if low == high:
            high += 0.001
        raw = (np.arange(dim // 2) - low) / (high - low)
        rho = np.clip(raw, 0.0, 1.0)
        d_r = (abs(low) + rho * (abs(high) + abs(low))) / (high - low) + 3 * rho + 2      # δr / u
        g = rho / s + 1 - rho
        return U32 * (theta_err + 6.0 + _on_ramp(raw) * (1 - 1 / s) * d_r / g)
    if kind == "llama3":
        s = float(p["factor"])
        lf, hf = float(p["low_freq_factor"]), float(p["high_freq_factor"])
        orig = float(p["original_max_position_embeddings"])
        theta = np.exp(-ln_t)
        q = orig * theta / (2 * math.pi)                      # L / λ
        raw = (q - lf) / (hf - lf)
        m = np.clip(raw, 0.0, 1.0)
        d_m = (q * (theta_err + 3) + abs(lf) + m * (hf + lf)) / (hf - lf) + 2 * m + 2  # δm / u
        g = (1 - m) / s + m
        return U32 * (theta_err + 8.0 + _on_ramp(raw) * (1 - 1 / s) * d_m / g)
    raise ValueError(f"no float32 error model for rope_type {kind!r}")
