"""RopeConfig: the one object that describes a RoPE setup, and `from_hf_config` to build it from a config.json.

Every computation in rope_viz takes a `RopeConfig`. It is validated once, here, so the rest of the code can trust it:
bad input raises `ValueError` with a message that says what is wrong and what is allowed.

Documented bounds (chosen to cover every published model with room to explore):

=====================  ==================================================================================
head_dim               even integer, 2 … 1024
base                   finite float, 1 < base ≤ 1e12  (``rope_theta``)
rotary_fraction        0 < f ≤ 1; the rotary width ``int(head_dim * f)`` (transformers' rounding) must be even
                       and ≥ 2
layout                 ``"half"`` (pairs (i, i + r/2), transformers / GPT-NeoX ``rotate_half``) or
                       ``"interleaved"`` (pairs (2i, 2i + 1), Meta reference / GPT-J)
context_length         integer, 1 … 16,777,216 (2**24: positions stay exact integers in fp32);
                       the model's ``max_position_embeddings``
scaling                None, or a transformers-style dict with ``rope_type`` in SCALING_TYPES and that type's
                       keys (see ``SCALING_KEYS``); factors 1 … 1024
=====================  ==================================================================================
"""

from __future__ import annotations

import json
import math
import numbers
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

HEAD_DIM_MAX = 1024
BASE_MAX = 1e12
CONTEXT_MAX = 1 << 24
FACTOR_MAX = 1024.0
LAYOUTS = ("half", "interleaved")

# rope_type -> (required keys, optional keys). "ntk" is the static NTK-aware rule (base · s^(d/(d-2))), which
# transformers does not ship but vLLM and many forks do.
SCALING_KEYS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "linear": (frozenset({"factor"}), frozenset()),
    "ntk": (frozenset({"factor"}), frozenset()),
    "dynamic": (frozenset({"factor"}), frozenset({"original_max_position_embeddings"})),
    "yarn": (
        frozenset({"factor"}),
        frozenset({"original_max_position_embeddings", "beta_fast", "beta_slow", "mscale", "mscale_all_dim",
                   "attention_factor", "truncate"}),
    ),
    "llama3": (
        frozenset({"factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"}),
        frozenset(),
    ),
    "longrope": (
        frozenset({"short_factor", "long_factor"}),
        frozenset({"factor", "original_max_position_embeddings", "attention_factor"}),
    ),
}
SCALING_TYPES = tuple(SCALING_KEYS)

# Human-readable names, used by pages, legends and the CLI.
SCALING_LABELS = {
    None: "none (plain RoPE)",
    "linear": "linear / PI",
    "ntk": "NTK-aware (static)",
    "dynamic": "dynamic NTK",
    "yarn": "YaRN",
    "llama3": "Llama 3.1",
    "longrope": "LongRoPE",
}


def _finite(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):  # numpy scalars are Real, np.bool_ is not
        raise ValueError(f"{name} must be a number, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return v


def _integer(name: str, value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {value!r}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) and not (hasattr(value, "__index__") and not isinstance(value, float)):
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {value!r}")
    v = int(value)
    if not lo <= v <= hi:
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {v}")
    return v


def _validate_scaling(scaling: Mapping[str, Any], rotary_dim: int, context_length: int) -> dict[str, Any]:
    if not isinstance(scaling, Mapping):
        raise ValueError(f"scaling must be None or a dict with a 'rope_type' key, got {type(scaling).__name__}")
    s = dict(scaling)
    if "type" in s:  # transformers < 4.43 spelled it "type"
        t = s.pop("type")
        if "rope_type" in s and s["rope_type"] != t:
            raise ValueError(f"scaling has both type={t!r} and rope_type={s['rope_type']!r}; give one")
        s.setdefault("rope_type", t)
    rope_type = s.pop("rope_type", None)
    if rope_type is None:
        raise ValueError(f"scaling needs a 'rope_type'; allowed: {', '.join(SCALING_TYPES)}")
    if rope_type == "su":  # the name Phi-3's first configs used for LongRoPE
        rope_type = "longrope"
    if rope_type not in SCALING_KEYS:
        raise ValueError(f"unknown rope_type {rope_type!r}; allowed: {', '.join(SCALING_TYPES)} (or scaling=None)")
    required, optional = SCALING_KEYS[rope_type]
    s = {k: v for k, v in s.items() if v is not None}  # null in config.json = not set
    missing = sorted(required - s.keys())
    if missing:
        raise ValueError(f"rope_type {rope_type!r} needs key(s) {', '.join(missing)}")
    unknown = sorted(s.keys() - required - optional)
    if unknown:
        allowed = sorted(required | optional)
        raise ValueError(f"rope_type {rope_type!r} does not take key(s) {', '.join(unknown)}; "
                         f"allowed: {', '.join(allowed)}")
    out: dict[str, Any] = {"rope_type": rope_type}
    for key, value in s.items():
        if key in ("short_factor", "long_factor"):
            if isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
                raise ValueError(f"{key} must be a list of {rotary_dim // 2} numbers, got {value!r}")
            vals = tuple(_finite(f"{key}[{i}]", v) for i, v in enumerate(value))
            if len(vals) != rotary_dim // 2:
                raise ValueError(f"{key} has {len(vals)} entries; it needs rotary_dim // 2 = {rotary_dim // 2} "
                                 "(one per rotated pair)")
            if min(vals) <= 0:
                raise ValueError(f"{key} entries must be > 0, got min {min(vals)}")
            out[key] = vals
        elif key == "truncate":
            if not isinstance(value, bool):
                raise ValueError(f"truncate must be true or false, got {value!r}")
            out[key] = value
        elif key == "original_max_position_embeddings":
            out[key] = _integer(key, value, 1, CONTEXT_MAX)
        else:
            v = _finite(key, value)
            if key == "factor" and not 1.0 <= v <= FACTOR_MAX:
                raise ValueError(f"factor must be in [1, {FACTOR_MAX:g}] (the context-extension ratio), got {v:g}")
            if key in ("beta_fast", "beta_slow", "low_freq_factor", "high_freq_factor") and v <= 0:
                raise ValueError(f"{key} must be > 0, got {v:g}")
            if key in ("attention_factor", "mscale", "mscale_all_dim") and v < 0:
                raise ValueError(f"{key} must be ≥ 0, got {v:g}")
            out[key] = v
    if rope_type == "llama3" and out["high_freq_factor"] <= out["low_freq_factor"]:
        raise ValueError(f"llama3 needs high_freq_factor > low_freq_factor, got {out['high_freq_factor']:g} ≤ "
                         f"{out['low_freq_factor']:g}")
    return out


@dataclass(frozen=True)
class RopeConfig:
    """A RoPE setup, validated on construction (bounds in the module docstring).

    Attributes:
        head_dim: channels per attention head, d.
        base: the RoPE base b (``rope_theta``); pair i turns at θ_i = b^(-2i/r) radians per token.
        rotary_fraction: share of the head that is rotated (``partial_rotary_factor`` / GPT-NeoX ``rotary_pct``).
        layout: ``"half"`` or ``"interleaved"``: which channels form pair i.
        scaling: None or a transformers-style ``rope_scaling`` dict (normalised: ``type`` → ``rope_type``, lists →
            tuples, None values dropped). Treat it as read-only.
        context_length: the model's ``max_position_embeddings`` in tokens.
    """

    head_dim: int
    base: float = 10000.0
    rotary_fraction: float = 1.0
    layout: str = "half"
    scaling: dict | None = field(default=None)
    context_length: int = 4096

    def __post_init__(self) -> None:
        head_dim = _integer("head_dim", self.head_dim, 2, HEAD_DIM_MAX)
        if head_dim % 2:
            raise ValueError(f"head_dim must be even (channels are rotated in pairs), got {head_dim}")
        base = _finite("base", self.base)
        if not 1.0 < base <= BASE_MAX:
            raise ValueError(f"base must be in (1, {BASE_MAX:g}], got {base:g}")
        frac = _finite("rotary_fraction", self.rotary_fraction)
        if not 0.0 < frac <= 1.0:
            raise ValueError(f"rotary_fraction must be in (0, 1], got {frac:g}")
        rdim = int(head_dim * frac)
        if rdim < 2 or rdim % 2:
            raise ValueError(f"rotary_fraction {frac:g} gives a rotary width int({head_dim}·{frac:g}) = {rdim}; "
                             "it must be even and ≥ 2")
        if self.layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, got {self.layout!r}")
        ctx = _integer("context_length", self.context_length, 1, CONTEXT_MAX)
        scaling = None
        if self.scaling is not None:
            scaling = _validate_scaling(self.scaling, rdim, ctx)
            if scaling["rope_type"] == "longrope" and "factor" not in scaling:
                orig = scaling.get("original_max_position_embeddings", ctx)
                if ctx / orig > FACTOR_MAX:
                    raise ValueError(f"context_length / original_max_position_embeddings = {ctx / orig:g} exceeds "
                                     f"{FACTOR_MAX:g}")
        object.__setattr__(self, "head_dim", head_dim)
        object.__setattr__(self, "base", base)
        object.__setattr__(self, "rotary_fraction", frac)
        object.__setattr__(self, "context_length", ctx)
        object.__setattr__(self, "scaling", scaling)

    # -- derived quantities -------------------------------------------------------------------------------------
    @property
    def rotary_dim(self) -> int:
        """Number of rotated channels r = int(head_dim · rotary_fraction) (transformers' rounding)."""
        return int(self.head_dim * self.rotary_fraction)

    @property
    def n_pairs(self) -> int:
        """Number of rotated pairs, r / 2."""
        return self.rotary_dim // 2

    @property
    def rope_type(self) -> str:
        """``"default"`` for plain RoPE, else the scaling dict's rope_type."""
        return "default" if self.scaling is None else self.scaling["rope_type"]

    @property
    def original_context_length(self) -> int:
        """The pre-extension context: ``original_max_position_embeddings`` if the scaling names one, else the
        context length (for linear/ntk: context_length / factor is *not* assumed; the factor is explicit)."""
        if self.scaling and "original_max_position_embeddings" in self.scaling:
            return int(self.scaling["original_max_position_embeddings"])
        return self.context_length

    def _key(self) -> tuple:
        sc = None if self.scaling is None else tuple(sorted(self.scaling.items()))
        return (self.head_dim, self.base, self.rotary_fraction, self.layout, sc, self.context_length)

    def __hash__(self) -> int:
        return hash(self._key())

    def replace(self, **changes: Any) -> "RopeConfig":
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    def label(self) -> str:
        """A short human-readable description, e.g. ``d=128 b=5e+05 llama3×8``."""
        parts = [f"d={self.head_dim}", f"base={self.base:g}"]
        if self.rotary_fraction != 1.0:
            parts.append(f"rot={self.rotary_fraction:g}")
        if self.scaling:
            f = self.scaling.get("factor")
            parts.append(self.rope_type + (f"×{f:g}" if f else ""))
        parts.append(f"L={self.context_length:,}")
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict that ``RopeConfig(**d)`` accepts."""
        sc = None
        if self.scaling is not None:
            sc = {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.scaling.items()}
        return {"head_dim": self.head_dim, "base": self.base, "rotary_fraction": self.rotary_fraction,
                "layout": self.layout, "scaling": sc, "context_length": self.context_length}

    def to_hf_dict(self) -> dict[str, Any]:
        """A transformers ≥ 5 style config fragment (``head_dim``, ``max_position_embeddings``,
        ``rope_parameters``) that ``from_hf_config`` reads back to an equal RopeConfig (layout excepted:
        config.json does not record it)."""
        params: dict[str, Any] = {"rope_type": self.rope_type, "rope_theta": self.base}
        if self.rotary_fraction != 1.0:
            params["partial_rotary_factor"] = self.rotary_fraction
        if self.scaling:
            params.update({k: (list(v) if isinstance(v, tuple) else v) for k, v in self.scaling.items()})
        return {"head_dim": self.head_dim, "max_position_embeddings": self.context_length, "rope_parameters": params}


_TOP_LEVEL_ROPE_KEYS = ("rope_theta", "partial_rotary_factor")


def from_hf_config(mapping: Mapping[str, Any] | str, layout: str = "half") -> RopeConfig:
    """Build a RopeConfig from a model's config.json (a dict, or its JSON text).

    Reads both schemas:
      * transformers ≥ 5: ``rope_parameters = {"rope_type", "rope_theta", "partial_rotary_factor", ...}``;
      * older: top-level ``rope_theta`` / ``partial_rotary_factor`` + ``rope_scaling`` (``type`` accepted for
        ``rope_type``), and GPT-NeoX's ``rotary_pct`` / ``rotary_emb_base``.
    head_dim is ``head_dim`` if set, else ``hidden_size // num_attention_heads``. DeepSeek-V2/V3 style configs
    (``qk_rope_head_dim``) use the rope head dim, since only that part of the head is rotated.
    ``layout`` is not recorded in config.json: transformers checkpoints use ``"half"``.
    """
    if isinstance(mapping, (str, bytes)):
        try:
            mapping = json.loads(mapping)
        except json.JSONDecodeError as e:
            raise ValueError(f"config is not valid JSON: {e.msg} (line {e.lineno}, column {e.colno})") from None
    if not isinstance(mapping, Mapping):
        raise ValueError(f"config must be a JSON object (a dict), got {type(mapping).__name__}")
    m = dict(mapping)
    if "text_config" in m and isinstance(m["text_config"], Mapping) and "num_attention_heads" not in m:
        m = dict(m["text_config"])  # multimodal wrappers (Gemma 3, Llama 4, Qwen-VL) keep the LM config inside

    if m.get("qk_rope_head_dim"):
        head_dim = m["qk_rope_head_dim"]
    elif m.get("head_dim"):
        head_dim = m["head_dim"]
    elif m.get("hidden_size") and m.get("num_attention_heads"):
        try:
            head_dim = int(m["hidden_size"]) // int(m["num_attention_heads"])
        except (TypeError, ValueError, ZeroDivisionError):
            raise ValueError("hidden_size and num_attention_heads must be positive integers") from None
    else:
        raise ValueError("config needs head_dim, or hidden_size and num_attention_heads")

    params = m.get("rope_parameters")
    scaling_src = m.get("rope_scaling")
    if params is not None and not isinstance(params, Mapping):
        raise ValueError("rope_parameters must be an object")
    if scaling_src is not None and not isinstance(scaling_src, Mapping):
        raise ValueError("rope_scaling must be an object or null")
    merged: dict[str, Any] = {}
    if scaling_src:
        merged.update(scaling_src)
    if params:
        if "full_attention" in params and isinstance(params["full_attention"], Mapping):
            params = params["full_attention"]  # per-layer-type dicts (Gemma 3 style): the global layers
        merged.update(params)

    base = merged.pop("rope_theta", None)
    if base is None:
        base = m.get("rope_theta", m.get("rotary_emb_base", 10000.0))
    frac = merged.pop("partial_rotary_factor", None)
    if frac is None:
        # GPTNeoXConfig defaults rotary_pct to 0.25 when config.json leaves it out; every other model to 1.
        frac = m.get("partial_rotary_factor", m.get("rotary_pct", 0.25 if m.get("model_type") == "gpt_neox" else 1.0))
    ctx = m.get("max_position_embeddings", m.get("n_positions", 4096))

    if "type" in merged and "rope_type" not in merged:
        merged["rope_type"] = merged.pop("type")
    merged.pop("type", None)
    rope_type = merged.get("rope_type", "default")
    scaling: dict[str, Any] | None
    if rope_type in ("default", None) or not merged:
        scaling = None
    else:
        scaling = merged
        if rope_type in ("yarn", "llama3", "longrope", "su"):
            # As transformers' standardize_rope_params: a top-level original_max_position_embeddings (Phi-3) wins,
            # else the one inside the scaling dict, else max_position_embeddings. yarn and longrope fall back to
            # context_length by themselves (RopeConfig.original_context_length), so the key is only filled in where
            # it is required: that keeps to_hf_dict → from_hf_config an exact round trip.
            if m.get("original_max_position_embeddings") is not None:
                scaling["original_max_position_embeddings"] = m["original_max_position_embeddings"]
            if scaling.get("original_max_position_embeddings") is None and rope_type == "llama3":
                scaling["original_max_position_embeddings"] = ctx
    return RopeConfig(head_dim=head_dim, base=base, rotary_fraction=frac, layout=layout, scaling=scaling,
                      context_length=ctx)
