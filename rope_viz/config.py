"""RopeConfig: the one object that describes a RoPE setup, and `from_hf_config` to build it from a config.json.

Every computation in rope_viz takes a `RopeConfig`. It is validated once, here (through ``rope_viz.validate``), so the
rest of the code can trust it: bad input raises `ValueError` naming the field, the allowed range and the value.

Documented bounds (chosen to cover every published model with room to explore):

=====================  ==================================================================================
head_dim               even integer, 2 … 1024
base                   finite float, 1 < base ≤ 1e12  (``rope_theta``)
rotary_fraction        0 < f ≤ 1; the rotary width ``int(head_dim * f)`` (transformers' rounding) must be even
                       and ≥ 2
layout                 ``"half"`` (pairs (i, i + r/2), transformers / GPT-NeoX ``rotate_half``) or
                       ``"interleaved"`` (pairs (2i, 2i + 1), Meta reference / GPT-J)
context_length         integer, 2 … 16,777,216 (2**24: positions stay exact integers in fp32);
                       the model's ``max_position_embeddings``. At least 2: a context needs one distance Δ = 1
scaling                None, or a transformers-style dict with ``rope_type`` in SCALING_TYPES and that type's
                       keys (see ``SCALING_KEYS``); factors 1 … 1024; LongRoPE's per-pair factors 0.001 … 1024;
                       beta_fast, beta_slow, low/high_freq_factor 0 < x ≤ 1024; attention_factor, mscale,
                       mscale_all_dim 0 … 100; ``original_max_position_embeddings``
                       2 … 16,777,216 (LongRoPE's attention factor divides by its log; 1 would divide by 0);
                       stored as an immutable, hashable ``Scaling`` mapping
=====================  ==================================================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from . import validate as V

HEAD_DIM_MAX = 1024
BASE_MAX = 1e12
CONTEXT_MIN = 2        # a context needs at least one distance Δ = 1; also log(original context) > 0 (LongRoPE, YaRN)
CONTEXT_MAX = 1 << 24
FACTOR_MAX = 1024.0
LIST_FACTOR_MIN = 1e-3  # LongRoPE's per-pair factors (published: 1 … ~60); 1e-300 gave ∞ angles in fp32
SCALE_MAX = 100.0      # attention_factor, mscale, mscale_all_dim (published models: ≤ 1.4); 1e300 overflowed the
                       # score moments (a traceback) and gave inf curves
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


class Scaling(Mapping):
    """A RoPE scaling: transformers' ``rope_scaling`` / ``rope_parameters`` keys (``rope_type`` plus that type's
    keys, SCALING_KEYS), validated and normalised (``type`` → ``rope_type``, lists → tuples of floats, None values
    dropped). Immutable and hashable; reads like a dict: ``sc["factor"]``, ``sc.get(...)``, ``dict(sc)``, ``{**sc}``,
    and compares equal to a dict with the same items. Build it through RopeConfig (which validates it)."""

    __slots__ = ("_items", "_hash")

    def __init__(self, items: Mapping[str, Any]):
        object.__setattr__(self, "_items", dict(items))
        object.__setattr__(self, "_hash", hash(tuple(sorted(self._items.items()))))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Scaling is immutable: build a new RopeConfig with cfg.replace(scaling={...})")

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __iter__(self):
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, Mapping):
            return NotImplemented
        return self._items == dict(other.items())

    def __repr__(self) -> str:
        return repr(self._items)

    def __reduce__(self):
        return (Scaling, (self._items,))


def _factor_list(key: str, value: Any, n_pairs: int) -> tuple[float, ...]:
    if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__len__") or not hasattr(value, "__iter__"):
        raise V._fail(key, f"a list of {n_pairs} numbers (one per rotated pair)", value)
    if len(value) != n_pairs:
        raise ValueError(f"{key} has {len(value)} entries; it needs rotary_dim // 2 = {n_pairs} (one per rotated pair)")
    return tuple(V.real(f"{key}[{i}]", v, LIST_FACTOR_MIN, FACTOR_MAX) for i, v in enumerate(value))


def _validate_scaling(scaling: Mapping[str, Any], rotary_dim: int, context_length: int) -> Scaling:
    if not isinstance(scaling, Mapping):
        raise V._fail("scaling", "None or a dict with a 'rope_type' key", scaling)
    s = dict(scaling)
    if "type" in s:  # transformers < 4.43 spelled it "type"
        t = s.pop("type")
        if "rope_type" in s and s["rope_type"] is not None and t is not None and s["rope_type"] != t:
            raise ValueError(f"scaling has both type={V.shorten(t, 40)} and rope_type={V.shorten(s['rope_type'], 40)}"
                             "; give one")
        if s.get("rope_type") is None:
            s["rope_type"] = t
    rope_type = s.pop("rope_type", None)
    if rope_type is None:
        raise ValueError(f"scaling needs a 'rope_type'; allowed: {', '.join(SCALING_TYPES)}")
    if rope_type == "su":  # the name Phi-3's first configs used for LongRoPE
        rope_type = "longrope"
    if not isinstance(rope_type, str) or rope_type not in SCALING_KEYS:
        raise ValueError(f"unknown rope_type {V.shorten(rope_type)}; allowed: {', '.join(SCALING_TYPES)} "
                         "(or scaling=None)")
    required, optional = SCALING_KEYS[rope_type]
    s = {k: v for k, v in s.items() if v is not None}  # null in config.json = not set
    missing = sorted(required - s.keys())
    if missing:
        raise ValueError(f"rope_type {rope_type!r} needs key(s) {', '.join(missing)}")
    unknown = sorted(map(str, s.keys() - required - optional))
    if unknown:
        allowed = sorted(required | optional)
        names = ", ".join(unknown)
        names = names if len(names) <= 30 else names[:29] + "…"
        raise ValueError(f"rope_type {rope_type!r} does not take key(s) {names!s}; allowed: {', '.join(allowed)}")
    out: dict[str, Any] = {"rope_type": rope_type}
    for key, value in s.items():
        if key in ("short_factor", "long_factor"):
            out[key] = _factor_list(key, value, rotary_dim // 2)
        elif key == "truncate":
            if not isinstance(value, bool):
                raise V._fail("truncate", "true or false", value)
            out[key] = value
        elif key == "original_max_position_embeddings":
            out[key] = V.integer(key, value, CONTEXT_MIN, CONTEXT_MAX)
        elif key == "factor":
            out[key] = V.real("factor", value, 1.0, FACTOR_MAX)
        elif key in ("beta_fast", "beta_slow", "low_freq_factor", "high_freq_factor"):
            out[key] = V.real(key, value, 0.0, FACTOR_MAX, lo_open=True)
        else:  # attention_factor, mscale, mscale_all_dim
            out[key] = V.real(key, value, 0.0, SCALE_MAX)
    if rope_type == "llama3" and out["high_freq_factor"] <= out["low_freq_factor"]:
        raise ValueError(f"llama3 needs high_freq_factor > low_freq_factor, got {out['high_freq_factor']:g} ≤ "
                         f"{out['low_freq_factor']:g}")
    return Scaling(out)


def format_base(base: float, digits: int = 6) -> str:
    """A base (or any positive number) as config files write rope_theta and as every title, legend, caption and
    selector of the app shows it: ``10000``, ``27200``, ``500000`` (plain, no thousands separator, below a million),
    ``1e6``, ``2.5e7``, ``1e9`` (from a million on); ``digits`` significant digits (Python's ``:g`` gives ``1e+06``,
    and with few digits ``2.7e+04``)."""
    x = float(base)
    text = f"{x:.{int(digits)}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        if 1 <= abs(x) and abs(float(text)) < 1e6:
            r = float(text)
            return str(int(r)) if r.is_integer() else f"{r:.{int(digits)}g}"
        text = f"{mantissa}e{int(exponent)}"
    return text


def format_min_base(bound: float, digits: int = 5) -> str:
    """A lower bound on the base ("needs base ≥ X") written so that X itself satisfies it: ``bound`` rounded *up*
    to ``digits`` significant digits, in ``format_base``'s notation (26952.4 → ``26953``, 4869100.3 → ``4.8692e6``;
    rounding to nearest wrote 26952, a base that fails). Non-finite or non-positive values as ``format_base``."""
    from decimal import ROUND_CEILING, Decimal

    x = float(bound)
    if not (x > 0 and x < float("inf")):
        return format_base(x, digits)
    d = Decimal(repr(x))
    step = Decimal(1).scaleb(d.adjusted() - int(digits) + 1)
    return format_base(float(d.quantize(step, rounding=ROUND_CEILING)), int(digits) + 1)


def rotary_width(head_dim: int, rotary_fraction: float) -> int:
    """Rotated channels r = int(head_dim · rotary_fraction): transformers' rounding (``partial_rotary_factor``)."""
    return int(head_dim * rotary_fraction)


def rotary_fraction_fits(head_dim: int, rotary_fraction: float) -> bool:
    """The rule on the rotary width: r = ``rotary_width(head_dim, rotary_fraction)`` must be even and ≥ 2 (channels
    are rotated in pairs). The one place it is written; RopeConfig and the sidebar's slider use it."""
    r = rotary_width(head_dim, rotary_fraction)
    return r >= 2 and r % 2 == 0


def _max_context(scaling: Mapping[str, Any] | None) -> int:
    """The largest context for a validated ``scaling`` (the one rule behind ``RopeConfig.max_context_length``)."""
    if scaling is not None and scaling["rope_type"] == "longrope" and "factor" not in scaling \
            and "original_max_position_embeddings" in scaling:
        return min(CONTEXT_MAX, int(scaling["original_max_position_embeddings"] * FACTOR_MAX))
    return CONTEXT_MAX


@dataclass(frozen=True)
class RopeConfig:
    """A RoPE setup, validated on construction (bounds in the module docstring).

    Attributes:
        head_dim: channels per attention head, d.
        base: the RoPE base b (``rope_theta``); pair i turns at θ_i = b^(-2i/r) radians per token.
        rotary_fraction: share of the head that is rotated (``partial_rotary_factor`` / GPT-NeoX ``rotary_pct``).
        layout: ``"half"`` or ``"interleaved"``: which channels form pair i.
        scaling: None or a ``Scaling``: the transformers-style ``rope_scaling`` keys, normalised (``type`` →
            ``rope_type``, lists → tuples, None values dropped); immutable and hashable, reads like a dict. Pass a
            plain dict (or any Mapping) when constructing.
        context_length: the model's ``max_position_embeddings`` in tokens.
    """

    head_dim: int
    base: float = 10000.0
    rotary_fraction: float = 1.0
    layout: str = "half"
    scaling: Mapping[str, Any] | None = field(default=None)
    context_length: int = 4096

    def __post_init__(self) -> None:
        head_dim = V.integer("head_dim", self.head_dim, 2, HEAD_DIM_MAX)
        if head_dim % 2:
            raise ValueError(f"head_dim must be even (channels are rotated in pairs); got {head_dim}")
        base = V.real("base", self.base, 1.0, BASE_MAX, lo_open=True)
        frac = V.real("rotary_fraction", self.rotary_fraction, 0.0, 1.0, lo_open=True)
        rdim = rotary_width(head_dim, frac)
        if not rotary_fraction_fits(head_dim, frac):
            raise ValueError(f"rotary_fraction {frac:g} gives a rotary width int({head_dim}·{frac:g}) = {rdim}; "
                             "it must be even and ≥ 2")
        layout = V.choice("layout", self.layout, LAYOUTS)
        ctx = V.integer("context_length", self.context_length, CONTEXT_MIN, CONTEXT_MAX)
        scaling = None
        if self.scaling is not None:
            scaling = _validate_scaling(self.scaling, rdim, ctx)
            if ctx > _max_context(scaling):
                orig = scaling["original_max_position_embeddings"]
                raise ValueError(f"context_length / original_max_position_embeddings = {ctx / orig:g} exceeds "
                                 f"{FACTOR_MAX:g} (LongRoPE without a factor takes it from this ratio)")
        object.__setattr__(self, "head_dim", head_dim)
        object.__setattr__(self, "base", base)
        object.__setattr__(self, "rotary_fraction", frac)
        object.__setattr__(self, "layout", layout)
        object.__setattr__(self, "context_length", ctx)
        object.__setattr__(self, "scaling", scaling)

    # -- derived quantities -------------------------------------------------------------------------------------
    @property
    def rotary_dim(self) -> int:
        """Number of rotated channels r = int(head_dim · rotary_fraction) (transformers' rounding)."""
        return rotary_width(self.head_dim, self.rotary_fraction)

    @property
    def n_pairs(self) -> int:
        """Number of rotated pairs, r / 2."""
        return self.rotary_dim // 2

    @property
    def rope_type(self) -> str:
        """``"default"`` for plain RoPE, else the scaling dict's rope_type."""
        return "default" if self.scaling is None else self.scaling["rope_type"]

    @property
    def max_context_length(self) -> int:
        """The largest context_length this config accepts with its other fields unchanged (tokens): 16,777,216, or
        for LongRoPE without an explicit factor ⌊original · 1024⌋ (its factor is context / original, ≤ 1024). Pages
        that widen the context (e.g. to reach a position) stay within it."""
        return _max_context(self.scaling)

    @property
    def original_context_length(self) -> int:
        """The pre-extension context: ``original_max_position_embeddings`` if the scaling names one, else the
        context length (for linear/ntk: context_length / factor is *not* assumed; the factor is explicit)."""
        if self.scaling and "original_max_position_embeddings" in self.scaling:
            return int(self.scaling["original_max_position_embeddings"])
        return self.context_length

    @property
    def names_training_length(self) -> bool:
        """Is ``original_context_length`` a stated training length? True for plain RoPE (the context is the
        training length) and for a scaling that names ``original_max_position_embeddings``; False for a scaling
        without one (e.g. linear / NTK ×s: the extended context stands in, and captions must not call it the
        training length)."""
        return not self.scaling or "original_max_position_embeddings" in self.scaling

    def with_context(self, context_length: int) -> "RopeConfig":
        """The same model measured over ``context_length`` tokens: its training length stays where it is. A scaling
        whose frequencies depend on the training length and that may name it (dynamic NTK, YaRN, LongRoPE without
        ``original_max_position_embeddings``: transformers then takes the context for it) gets it named at the
        current ``original_context_length``, so positions past the old context see what this model computes there
        — not a model trained on the longer context, for which dynamic NTK would never scale. Plain RoPE, linear
        and NTK-aware (context-independent) and configs that name it: only the context changes. ValueError as
        ``replace``."""
        sc = self.scaling
        if sc and "original_max_position_embeddings" not in sc and \
                "original_max_position_embeddings" in SCALING_KEYS[sc["rope_type"]][1]:
            named = {**sc, "original_max_position_embeddings": self.original_context_length}
            return self.replace(scaling=named, context_length=context_length)
        return self.replace(context_length=context_length)

    def replace(self, **changes: Any) -> "RopeConfig":
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    def label(self) -> str:
        """A short human-readable description, e.g. ``d=128 base=500000 llama3×8 L=131,072`` or ``d=256 base=1e9
        L=2,097,152`` (``format_base``)."""
        parts = [f"d={self.head_dim}", f"base={format_base(self.base)}"]
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


HF_CONFIG_MAX_BYTES = 1_000_000   # config.json text read by from_hf_config (real ones are < 10 kB)
HF_CONFIG_MAX_DEPTH = 64


def from_hf_config(mapping: Mapping[str, Any] | str | bytes, layout: str = "half") -> RopeConfig:
    """Build a RopeConfig from a model's config.json: a dict (any Mapping), or its JSON text (str / bytes).

    Reads both schemas:
      * transformers ≥ 5: ``rope_parameters = {"rope_type", "rope_theta", "partial_rotary_factor", ...}``;
      * older: top-level ``rope_theta`` / ``partial_rotary_factor`` + ``rope_scaling`` (``type`` accepted for
        ``rope_type``), and GPT-NeoX's ``rotary_pct`` / ``rotary_emb_base``.
    head_dim is ``head_dim`` if set, else ``hidden_size // num_attention_heads``. DeepSeek-V2/V3 style configs
    (``qk_rope_head_dim``) use the rope head dim, since only that part of the head is rotated.
    ``layout`` is not recorded in config.json: transformers checkpoints use ``"half"``.

    Hostile input is safe: text is capped at 1 MB and 64 levels of nesting before parsing, NaN / Infinity / 1e400 /
    integers of more than 30 digits are rejected (``rope_viz.validate.json_document``), and every field is checked;
    the only exception raised is ``ValueError`` naming the field, with the value shortened.
    """
    if isinstance(mapping, (str, bytes, bytearray)):
        mapping = V.json_document(mapping, max_bytes=HF_CONFIG_MAX_BYTES, max_depth=HF_CONFIG_MAX_DEPTH)
    m = dict(V.mapping("config", mapping))
    text_config = m.get("text_config")
    if isinstance(text_config, Mapping) and "num_attention_heads" not in m:
        m = dict(text_config)  # multimodal wrappers (Gemma 3, Llama 4, Qwen-VL) keep the LM config inside

    if m.get("qk_rope_head_dim") is not None:
        head_dim = V.integer("qk_rope_head_dim", m["qk_rope_head_dim"], 2, HEAD_DIM_MAX)
    elif m.get("head_dim") is not None:
        head_dim = V.integer("head_dim", m["head_dim"], 2, HEAD_DIM_MAX)
    elif m.get("hidden_size") is not None and m.get("num_attention_heads") is not None:
        hidden = V.integer("hidden_size", m["hidden_size"], 1, HEAD_DIM_MAX << 16)
        heads = V.integer("num_attention_heads", m["num_attention_heads"], 1, 1 << 16)
        head_dim = hidden // heads
    else:
        raise ValueError("config needs head_dim, or hidden_size and num_attention_heads")

    params = m.get("rope_parameters")
    scaling_src = m.get("rope_scaling")
    if params is not None:
        V.mapping("rope_parameters", params)
    if scaling_src is not None:
        V.mapping("rope_scaling", scaling_src)
    merged: dict[str, Any] = {}
    if scaling_src:
        merged.update(scaling_src)
    if params:
        if isinstance(params.get("full_attention"), Mapping):
            params = params["full_attention"]  # per-layer-type dicts (Gemma 3 style): the global layers
        merged.update(params)

    base = merged.pop("rope_theta", None)
    if base is None:
        base = m.get("rope_theta", m.get("rotary_emb_base", 10000.0))
    base = V.real("rope_theta", base, 1.0, BASE_MAX, lo_open=True)
    frac = merged.pop("partial_rotary_factor", None)
    if frac is None:
        # GPTNeoXConfig defaults rotary_pct to 0.25 when config.json leaves it out; every other model to 1.
        frac = m.get("partial_rotary_factor", m.get("rotary_pct", 0.25 if m.get("model_type") == "gpt_neox" else 1.0))
    frac = V.real("partial_rotary_factor", frac, 0.0, 1.0, lo_open=True)
    ctx = V.integer("max_position_embeddings", m.get("max_position_embeddings", m.get("n_positions", 4096)),
                    CONTEXT_MIN, CONTEXT_MAX)

    if "type" in merged and merged.get("rope_type") is None:
        merged["rope_type"] = merged.pop("type")
    merged.pop("type", None)
    rope_type = merged.get("rope_type", "default")
    if rope_type is not None:
        rope_type = V.choice("rope_type", rope_type, ("default",) + SCALING_TYPES + ("su",))
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
