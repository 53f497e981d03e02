"""Per-pair rotation frequencies θ_i (``inv_freq``) and the attention factor, one function per rope_type.

Shapes and units: every ``inv_freq`` is a float64 array of shape (r/2,), r = ``cfg.rotary_dim``, in radians per token;
pair i of a vector at position m is turned by the angle m·θ_i. ``attention_factor`` is a dimensionless multiplier that
transformers applies to cos and sin (so to the rotated channels of q and of k: logits scale by its square).

The registry ``ROPE_FREQUENCY_FUNCTIONS`` is keyed by rope_type, like transformers' ``ROPE_INIT_FUNCTIONS``
(transformers ``modeling_rope_utils.py``, v5.23), and each function has the same meaning as its transformers
counterpart. Here everything is float64; transformers computes in float32. tests/test_frequencies.py compares every
pair with transformers' own code replayed in float64 (1e-11 relative), and with transformers as shipped in float32
(2e-6 relative) on the pairs where float32 is well conditioned: where a large factor amplifies float32 rounding
(llama3 next to a band edge, the top of YaRN's ramp) transformers itself is off by up to ~3e-5 and those pairs are
left out of the float32 comparison only.

Sources per rope_type:
  default   Su et al., RoFormer, arXiv:2104.09864, θ_i = b^(-2i/r).
  linear    Chen et al., Position Interpolation, arXiv:2306.15595: θ_i / s.
  ntk       bloc97's NTK-aware rule, formalised in YaRN (arXiv:2309.00071) Eq. 16: b' = b·s^(r/(r-2)).
  dynamic   emozilla's dynamic NTK, transformers' closed form: b' = b·(s·l/L − (s−1))^(r/(r−2)) for l > L.
            L is the pre-training length: ``original_max_position_embeddings`` when the scaling names one, else
            context_length. transformers uses max_position_embeddings and ignores that key for dynamic; the two
            agree for every config without it. The key lets a config be shown over a longer context than it was
            trained on (``rope_viz.scaling.extend``): that config equals transformers' with
            max_position_embeddings = L, run at seq_len = context_length.

Which frequencies a figure shows: ``effective_inv_freq(cfg)`` — those transformers uses for a sequence of
cfg.context_length tokens (LongRoPE's long factors past its original context, dynamic NTK's grown base).
``inv_freq(cfg)`` with seq_len=None gives the values at initialisation (short factors, unchanged base).
  yarn      Peng et al., YaRN, arXiv:2309.00071, Eqs. 17–22 with the reference code's index-linear ramp.
  llama3    Meta's llama-models ``apply_scaling`` (Llama 3.1), NTK-by-parts with a wavelength-linear ramp.
  longrope  Ding et al., LongRoPE, arXiv:2402.13753: θ_i / λ_i per pair, attention factor √(1 + ln s / ln L).
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from . import validate as V
from .config import RopeConfig

FrequencyFn = Callable[[RopeConfig, "int | None"], "tuple[np.ndarray, float]"]


def default_inv_freq(base: float, rotary_dim: int) -> np.ndarray:
    """θ_i = base^(-2i/r) for i = 0 … r/2 − 1 (RoFormer Eq. 15). Shape (r/2,), radians per token."""
    return base ** (-np.arange(0, rotary_dim, 2, dtype=np.float64) / rotary_dim)


def wavelengths(theta: np.ndarray) -> np.ndarray:
    """λ_i = 2π/θ_i, tokens per full turn of each pair (inf where θ_i = 0)."""
    theta = np.asarray(theta, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return 2 * np.pi / theta


def ntk_base(base: float, factor: float, rotary_dim: int) -> float:
    """Static NTK-aware base b' = b · s^(r/(r−2)) (YaRN Eq. 16): lowest pair scaled exactly like PI.
    For r = 2 there is a single pair (θ_0 = 1 regardless of base), so the base is returned unchanged."""
    if rotary_dim <= 2:
        return base
    return base * factor ** (rotary_dim / (rotary_dim - 2))


def dynamic_base(base: float, factor: float, rotary_dim: int, seq_len: int, max_position: int) -> float:
    """Dynamic NTK base as transformers computes it: seq_len is clamped to ≥ max_position, then
    b' = b · (s·l/L − (s − 1))^(r/(r−2)). Equal to b for l ≤ L."""
    seq = max(int(seq_len), int(max_position))
    if rotary_dim <= 2:
        return base
    return base * ((factor * seq / max_position) - (factor - 1)) ** (rotary_dim / (rotary_dim - 2))


def yarn_get_mscale(scale: float, mscale: float = 1.0) -> float:
    """YaRN's √(1/t) = 0.1·mscale·ln(s) + 1 for s > 1, else 1 (YaRN Eq. 22, errata-corrected)."""
    if scale <= 1:
        return 1.0
    return 0.1 * mscale * math.log(scale) + 1.0


def yarn_correction_range(beta_fast: float, beta_slow: float, rotary_dim: int, base: float,
                          original_max_position: int, truncate: bool = True) -> tuple[float, float]:
    """The pair-index range [low, high] over which YaRN blends extrapolation into interpolation.

    find_correction_dim(n) = r · ln(L / (2π n)) / (2 ln b) is the (fractional) pair index whose wavelength fits n times
    into the original context L. low = dim(beta_fast), high = dim(beta_slow), floored/ceiled when ``truncate``,
    clamped to [0, r − 1] (the reference code clamps to the channel count, not the pair count).
    """
    def dim_for(n_rot: float) -> float:
        return rotary_dim * math.log(original_max_position / (n_rot * 2 * math.pi)) / (2 * math.log(base))

    low, high = dim_for(beta_fast), dim_for(beta_slow)
    if truncate:
        low, high = math.floor(low), math.ceil(high)
    return max(low, 0), min(high, rotary_dim - 1)


def yarn_ramp(low: float, high: float, n_pairs: int) -> np.ndarray:
    """γ_i = clip((i − low)/(high − low), 0, 1) for pair i (reference-code ramp, linear in pair index).
    γ = 0: keep θ_i (extrapolate); γ = 1: θ_i / s (interpolate)."""
    if low == high:
        high = high + 0.001  # the reference code's guard against a zero-width ramp
    return np.clip((np.arange(n_pairs, dtype=np.float64) - low) / (high - low), 0.0, 1.0)


def _default(cfg: RopeConfig, seq_len: int | None) -> tuple[np.ndarray, float]:
    return default_inv_freq(cfg.base, cfg.rotary_dim), 1.0


def _linear(cfg: RopeConfig, seq_len: int | None) -> tuple[np.ndarray, float]:
    return default_inv_freq(cfg.base, cfg.rotary_dim) / cfg.scaling["factor"], 1.0


def _ntk(cfg: RopeConfig, seq_len: int | None) -> tuple[np.ndarray, float]:
    r = cfg.rotary_dim
    return default_inv_freq(ntk_base(cfg.base, cfg.scaling["factor"], r), r), 1.0


def _dynamic(cfg: RopeConfig, seq_len: int | None) -> tuple[np.ndarray, float]:
    # transformers measures the dynamic growth against max_position_embeddings; here that is the pre-training length
    # cfg.original_context_length (original_max_position_embeddings when the scaling names one, else context_length;
    # transformers ignores that key for dynamic, see the module docstring).
    r, L = cfg.rotary_dim, cfg.original_context_length
    seq = L if seq_len is None else seq_len
    return default_inv_freq(dynamic_base(cfg.base, cfg.scaling["factor"], r, seq, L), r), 1.0


def yarn_attention_factor(cfg: RopeConfig) -> float:
    """YaRN's attention factor: explicit ``attention_factor``, else mscale(s, mscale)/mscale(s, mscale_all_dim)
    when both are set and non-zero (DeepSeek-V2/V3), else 0.1·ln(s) + 1."""
    sc = cfg.scaling
    if sc.get("attention_factor") is not None:
        return float(sc["attention_factor"])
    s = sc["factor"]
    if sc.get("mscale") and sc.get("mscale_all_dim"):
        return yarn_get_mscale(s, sc["mscale"]) / yarn_get_mscale(s, sc["mscale_all_dim"])
    return yarn_get_mscale(s)


def _yarn(cfg: RopeConfig, seq_len: int | None) -> tuple[np.ndarray, float]:
    sc, r = cfg.scaling, cfg.rotary_dim
    theta = default_inv_freq(cfg.base, r)
    low, high = yarn_correction_range(sc.get("beta_fast") or 32.0, sc.get("beta_slow") or 1.0, r, cfg.base,
                                      cfg.original_context_length, sc.get("truncate", True))
    gamma = yarn_ramp(low, high, r // 2)
    return theta * (1 - gamma) + (theta / sc["factor"]) * gamma, yarn_attention_factor(cfg)


def llama3_smooth(cfg_or_theta, original_max_position: int | None = None, low_freq_factor: float | None = None,
                  high_freq_factor: float | None = None) -> np.ndarray:
    """Llama 3.1's per-pair blend weight: 1 = frequency kept, 0 = divided by the factor, in between
    (L/λ − α)/(β − α) with α = low_freq_factor, β = high_freq_factor. Shape (r/2,).

    Accepts a llama3 RopeConfig, or (theta, L, α, β)."""
    if isinstance(cfg_or_theta, RopeConfig):
        sc = cfg_or_theta.scaling
        theta = default_inv_freq(cfg_or_theta.base, cfg_or_theta.rotary_dim)
        original_max_position, low_freq_factor = sc["original_max_position_embeddings"], sc["low_freq_factor"]
        high_freq_factor = sc["high_freq_factor"]
    else:
        theta = np.asarray(cfg_or_theta, dtype=np.float64)
    wl = wavelengths(theta)
    low_wl = original_max_position / low_freq_factor    # longer than this: divide by the factor
    high_wl = original_max_position / high_freq_factor  # shorter than this: keep
    smooth = (original_max_position / wl - low_freq_factor) / (high_freq_factor - low_freq_factor)
    return np.where(wl < high_wl, 1.0, np.where(wl > low_wl, 0.0, smooth))


def _llama3(cfg: RopeConfig, seq_len: int | None) -> tuple[np.ndarray, float]:
    theta = default_inv_freq(cfg.base, cfg.rotary_dim)
    w = llama3_smooth(cfg)
    s = cfg.scaling["factor"]
    return (1 - w) * theta / s + w * theta, 1.0


def longrope_factor(cfg: RopeConfig) -> float:
    """LongRoPE's scale s: the explicit ``factor``, else context_length / original_max_position_embeddings."""
    sc = cfg.scaling
    if sc.get("factor") is not None:
        return float(sc["factor"])
    return cfg.context_length / cfg.original_context_length


def _longrope(cfg: RopeConfig, seq_len: int | None) -> tuple[np.ndarray, float]:
    sc = cfg.scaling
    orig = cfg.original_context_length
    s = longrope_factor(cfg)
    if sc.get("attention_factor") is not None:
        af = float(sc["attention_factor"])
    else:
        af = 1.0 if s <= 1.0 else math.sqrt(1 + math.log(s) / math.log(orig))
    ext = np.asarray(sc["long_factor"] if (seq_len and seq_len > orig) else sc["short_factor"], dtype=np.float64)
    return default_inv_freq(cfg.base, cfg.rotary_dim) / ext, af


ROPE_FREQUENCY_FUNCTIONS: dict[str, FrequencyFn] = {
    "default": _default,
    "linear": _linear,
    "ntk": _ntk,
    "dynamic": _dynamic,
    "yarn": _yarn,
    "llama3": _llama3,
    "longrope": _longrope,
}


SEQ_LEN_MAX = 1 << 53   # sequence lengths (tokens) stay exact integers in float64


def _seq_len(seq_len, field: str = "seq_len") -> int | None:
    return None if seq_len is None else V.integer(field, seq_len, 1, SEQ_LEN_MAX)


def rope_parameters(cfg: RopeConfig, seq_len: int | None = None) -> tuple[np.ndarray, float]:
    """(inv_freq, attention_factor) for cfg, as transformers' ``ROPE_INIT_FUNCTIONS[rope_type](config, seq_len=...)``.
    ``seq_len`` (tokens, an integer ≥ 1, or None) matters for ``dynamic`` (the base grows past the pre-training
    length) and ``longrope`` (long factors past original_max_position_embeddings). With ``seq_len=None`` both use
    their values at initialisation (dynamic: unchanged base; LongRoPE: short factors); to show a config over its
    context use ``effective_inv_freq``."""
    V.config("cfg", cfg)
    return ROPE_FREQUENCY_FUNCTIONS[cfg.rope_type](cfg, _seq_len(seq_len))


def effective_parameters(cfg: RopeConfig, context_length: int | None = None) -> tuple[np.ndarray, float]:
    """(inv_freq, attention_factor) in effect over a sequence of ``context_length`` tokens (default
    ``cfg.context_length``): ``rope_parameters(cfg, seq_len=context_length)``, i.e. what transformers computes for a
    sequence of that length. LongRoPE (Ding et al., arXiv:2402.13753) uses its long factors when the length exceeds
    original_max_position_embeddings; dynamic NTK rescales its base for that length; the other types do not depend
    on it. Shapes: (r/2,) rad/token, and a dimensionless float."""
    V.config("cfg", cfg)
    n = cfg.context_length if context_length is None else _seq_len(context_length, "context_length")
    return ROPE_FREQUENCY_FUNCTIONS[cfg.rope_type](cfg, n)


def effective_inv_freq(cfg: RopeConfig, context_length: int | None = None) -> np.ndarray:
    """θ_i in effect over ``context_length`` tokens (default cfg.context_length), rad/token, float64 of shape (r/2,).
    Every page, figure and table that shows a config over its context uses this (see ``effective_parameters``)."""
    return effective_parameters(cfg, context_length)[0]


def effective_attention_factor(cfg: RopeConfig, context_length: int | None = None) -> float:
    """The attention factor in effect over ``context_length`` tokens (default cfg.context_length); dimensionless."""
    return float(effective_parameters(cfg, context_length)[1])


def inv_freq(cfg: RopeConfig, seq_len: int | None = None) -> np.ndarray:
    """θ_i, radians per token, float64 of shape (r/2,). See ``rope_parameters``."""
    return rope_parameters(cfg, seq_len)[0]


def attention_factor(cfg: RopeConfig, seq_len: int | None = None) -> float:
    """The multiplier transformers applies to cos and sin (1.0 except for yarn and longrope)."""
    return float(rope_parameters(cfg, seq_len)[1])


def frequency_ratio(cfg: RopeConfig, seq_len: int | None = None) -> np.ndarray:
    """θ'_i / θ_i: each pair's scaled frequency over the unscaled one at the same base. Shape (r/2,)."""
    return inv_freq(cfg, seq_len) / default_inv_freq(cfg.base, cfg.rotary_dim)
