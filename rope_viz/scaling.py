"""Context extension: a base model's RoPE extended ``factor``-fold with one method — the one place that builds the
scaled variants of a config (pages, figures and the CLI compare methods through ``extend``).

Methods (``METHODS``; human-readable names in ``rope_viz.config.SCALING_LABELS``, "none" → None):
  none      the same frequencies over the longer context (what happens without any extension method)
  linear    Position Interpolation, Chen et al., arXiv:2306.15595: θ_i / s
  ntk       NTK-aware, YaRN Eq. 16, arXiv:2309.00071: base b·s^(r/(r−2))
  dynamic   dynamic NTK as transformers computes it at seq_len = the target context s·L0, i.e. the base grows to
            b·(s·(s·L0)/L0 − (s − 1))^(r/(r−2)) = b·(s² − s + 1)^(r/(r−2)): at the target context it slows the
            slowest pair by exactly s² − s + 1, not by s (13× at s = 4). (Evaluated at L0 it would equal plain RoPE.)
  yarn      Peng et al., arXiv:2309.00071, reference defaults β_fast = 32, β_slow = 1, attention factor 0.1·ln s + 1
  llama3    Meta's Llama 3.1 rule, low_freq_factor 1, high_freq_factor 4 (the published Llama 3.1 values)
  longrope  Ding et al., arXiv:2402.13753, with ``synth_longrope_factors``: a stand-in ramp, not a searched solution
Every result is a RopeConfig with ``context_length = round(s·L0)`` whose ``effective_inv_freq`` is what transformers
uses over that context (the scaling records ``original_max_position_embeddings = L0`` where the method uses it).
"""

from __future__ import annotations

from . import validate as V
from .config import CONTEXT_MAX, FACTOR_MAX, SCALING_TYPES, RopeConfig

METHODS = ("none",) + SCALING_TYPES
LLAMA3_DEFAULTS = {"low_freq_factor": 1.0, "high_freq_factor": 4.0}  # Llama 3.1's published config.json


def synth_longrope_factors(n_pairs: int, factor: float) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Stand-in LongRoPE factor lists when none are known, each of length ``n_pairs`` (= r/2), dimensionless:
    short = all 1 (no rescale inside the original context), long = a ramp linear in the pair index from 1 (fastest
    pair, i = 0) to ``factor`` (slowest pair). Not a searched LongRoPE solution (Ding et al., arXiv:2402.13753, search
    per-pair λ_i): pages that use it must say so."""
    p = V.integer("n_pairs", n_pairs, 1, None)
    s = V.real("factor", factor, 1.0, FACTOR_MAX)
    if p == 1:
        return (1.0,), (s,)
    return tuple(1.0 for _ in range(p)), tuple(1.0 + (s - 1.0) * i / (p - 1) for i in range(p))


def has_stand_in_longrope_factors(cfg: RopeConfig) -> bool:
    """Does ``cfg`` carry LongRoPE lists of the stand-in shape ``synth_longrope_factors`` makes (short all 1, long
    linear in the pair index from 1, whatever its end value; for one pair any (s,)), rather than a searched
    solution? False for other rope types. The sidebar and ``extend`` make such lists; captions must not call them
    searched."""
    if cfg.rope_type != "longrope":
        return False
    short = [float(v) for v in cfg.scaling["short_factor"]]
    long = [float(v) for v in cfg.scaling["long_factor"]]
    p, end = len(long), long[-1]
    if any(abs(v - 1.0) > 1e-12 for v in short):
        return False
    if p == 1:                                   # one pair: the stand-in is (s,), any s
        return True
    if abs(long[0] - 1.0) > 1e-12:
        return False
    return all(abs(v - (1.0 + (end - 1.0) * i / max(p - 1, 1))) <= 1e-9 * max(1.0, end) for i, v in enumerate(long))


def fits(original_context: int, factor: float) -> bool:
    """Whether a ``factor``-fold extension of ``original_context`` tokens, round(s·L0), stays within the 16,777,216
    tokens a RopeConfig holds: the one rule ``extend`` enforces, for pages that offer only the factors it accepts."""
    return int(round(float(factor) * int(original_context))) <= CONTEXT_MAX


def extend(cfg: RopeConfig, method: str, factor: float, *, original_context: int | None = None) -> RopeConfig:
    """``cfg``'s base model extended ``factor``-fold (s) with ``method`` (one of ``METHODS``).

    The base model is cfg without its scaling, at its original context L0 = ``original_context`` if given, else
    ``cfg.original_context_length`` (a scaled preset's pre-training length; cfg.context_length for plain RoPE). The
    result has context_length = round(s·L0) tokens (at most 16,777,216), the method's standard parameters (module
    docstring), and ``original_max_position_embeddings = L0`` for dynamic, yarn, llama3 and longrope. Evaluate it
    with ``effective_inv_freq`` / ``effective_attention_factor`` (seq_len = its context). ValueError on bad input."""
    V.config("cfg", cfg)
    method = V.choice("method", method, METHODS)
    s = V.real("factor", factor, 1.0, FACTOR_MAX)
    L0 = cfg.original_context_length if original_context is None else V.integer(
        "original_context", original_context, 2, CONTEXT_MAX)
    target = int(round(s * L0))
    if not fits(L0, s):
        raise ValueError(f"factor × original context must be ≤ {CONTEXT_MAX} tokens; got {s:g} × {L0} = {target}")
    base = cfg.replace(scaling=None, context_length=L0)
    if method == "none":
        return base.replace(context_length=target)
    sc: dict = {"rope_type": method, "factor": s}
    if method in ("dynamic", "yarn", "llama3", "longrope"):
        sc["original_max_position_embeddings"] = L0
    if method == "llama3":
        sc.update(LLAMA3_DEFAULTS)
    elif method == "longrope":
        sc["short_factor"], sc["long_factor"] = synth_longrope_factors(base.n_pairs, s)
    return base.replace(scaling=sc, context_length=target)
