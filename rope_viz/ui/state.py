"""The sidebar's state as plain data: defaults, presets, the URL encoding, and state → RopeConfig.

No streamlit here, so all of it is unit-testable. The state is a flat dict (``FIELDS`` below) holding the *widget*
values, not results. ``config_from_state`` turns it into a validated RopeConfig (ValueError with the library's message
on bad input).

URL encoding (``encode_query`` / ``decode_query``): compact and diff-based. ``preset=NAME`` names the baseline (a
preset from rope_viz.presets, or the built-in default when absent) and only the fields that differ from that baseline
are written, under short keys::

    ?preset=llama-3.1-8b&L=1048576&f=16          Llama 3.1 8B pushed to 1M tokens with factor 16
    ?d=64&b=500000                                 default config with head dim 64 and base 5e5

Keys: d head_dim · b base · rf rotary_fraction · lay layout (h|i) · L context_length · s scaling type (none|linear|
ntk|dynamic|yarn|llama3|longrope) · f factor · oc original context · bf/bs beta_fast/slow · ms mscale · msa
mscale_all_dim · af attention_factor · lf/hf low/high freq factor · tr truncate (0|1) · sh/lo LongRoPE short/long
factor lists (comma-separated). An empty value means "unset" (e.g. ``af=`` removes a preset's attention_factor).
Page-level parameters (``rope_viz.ui.persist``) use their own names and must not collide with these.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from ..config import SCALING_KEYS, SCALING_TYPES, RopeConfig

# field -> (URL key, kind). kind: int | float | str | bool | floats (tuple of floats)
FIELDS: dict[str, tuple[str, str]] = {
    "head_dim": ("d", "int"),
    "base": ("b", "float"),
    "rotary_fraction": ("rf", "float"),
    "layout": ("lay", "layout"),
    "context_length": ("L", "int"),
    "scaling": ("s", "scaling"),
    "factor": ("f", "float"),
    "orig": ("oc", "int"),
    "beta_fast": ("bf", "float"),
    "beta_slow": ("bs", "float"),
    "mscale": ("ms", "float"),
    "mscale_all_dim": ("msa", "float"),
    "attention_factor": ("af", "float"),
    "low_freq_factor": ("lf", "float"),
    "high_freq_factor": ("hf", "float"),
    "truncate": ("tr", "bool"),
    "short_factor": ("sh", "floats"),
    "long_factor": ("lo", "floats"),
}
URL_KEYS = {url: name for name, (url, _) in FIELDS.items()}
PRESET_KEY = "preset"
RESERVED_URL_KEYS = frozenset(URL_KEYS) | {PRESET_KEY}
NO_SCALING = "none"
SCALING_CHOICES = (NO_SCALING,) + tuple(SCALING_TYPES)

# state field -> key of the transformers-style scaling dict
_SCALING_FIELD = {
    "factor": "factor", "orig": "original_max_position_embeddings", "beta_fast": "beta_fast",
    "beta_slow": "beta_slow", "mscale": "mscale", "mscale_all_dim": "mscale_all_dim",
    "attention_factor": "attention_factor", "low_freq_factor": "low_freq_factor",
    "high_freq_factor": "high_freq_factor", "truncate": "truncate", "short_factor": "short_factor",
    "long_factor": "long_factor",
}
_FIELD_OF_SCALING_KEY = {v: k for k, v in _SCALING_FIELD.items()}

# What a fresh session shows: Llama 2 7B's RoPE (d=128, base 1e4, 4K context), no scaling.
DEFAULT_STATE: dict[str, Any] = {
    "head_dim": 128, "base": 10000.0, "rotary_fraction": 1.0, "layout": "half", "context_length": 4096,
    "scaling": NO_SCALING, "factor": 8.0, "orig": None, "beta_fast": 32.0, "beta_slow": 1.0, "mscale": None,
    "mscale_all_dim": None, "attention_factor": None, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
    "truncate": None, "short_factor": None, "long_factor": None,
}


# -- presets (rope_viz.presets is optional: written concurrently) ------------------------------------------------
def preset_names() -> list[str]:
    """Names of the presets in rope_viz.presets ([] if that module is missing)."""
    try:
        from .. import presets
    except ImportError:
        return []
    return list(presets.preset_names())


def preset_config(name: str) -> RopeConfig:
    """The RopeConfig of preset ``name``; ValueError if unknown."""
    try:
        from .. import presets
    except ImportError:
        raise ValueError(f"unknown preset {name!r}: no presets are available") from None
    try:
        p = presets.get_preset(name)
    except KeyError:
        p = None
    if p is None:
        raise ValueError(f"unknown preset {name!r}; available: {', '.join(preset_names())}")
    return p.config


# -- state <-> RopeConfig -----------------------------------------------------------------------------------------
def state_from_config(cfg: RopeConfig) -> dict[str, Any]:
    """The sidebar state that reproduces ``cfg`` (scaling parameters not in cfg keep the defaults, unset optionals
    stay None)."""
    s = dict(DEFAULT_STATE)
    s.update(head_dim=cfg.head_dim, base=float(cfg.base), rotary_fraction=float(cfg.rotary_fraction),
             layout=cfg.layout, context_length=cfg.context_length)
    if cfg.scaling is None:
        return s
    s["scaling"] = cfg.scaling["rope_type"]
    s["factor"] = None if cfg.rope_type == "longrope" else DEFAULT_STATE["factor"]
    for key, value in cfg.scaling.items():
        if key == "rope_type":
            continue
        field = _FIELD_OF_SCALING_KEY[key]
        if isinstance(value, (list, tuple)):
            value = tuple(float(v) for v in value)
        s[field] = value
    return s


def synth_longrope_factors(n_pairs: int, factor: float) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Stand-in LongRoPE factor lists when none are known: short = all 1 (no rescale inside the original context),
    long = a monotone ramp from 1 (fastest pair) to ``factor`` (slowest pair). Not a searched LongRoPE solution
    (Ding et al., arXiv:2402.13753, search per-pair λ_i): pages that use it must say so."""
    if n_pairs == 1:
        return (1.0,), (float(factor),)
    short = tuple(1.0 for _ in range(n_pairs))
    long = tuple(1.0 + (float(factor) - 1.0) * i / (n_pairs - 1) for i in range(n_pairs))
    return short, long


def scaling_from_state(state: Mapping[str, Any]) -> dict[str, Any] | None:
    """The transformers-style scaling dict for the state's scaling type (None for "none"). Only the keys that type
    takes are used; optional ones only when set. Not validated (RopeConfig does that)."""
    rope_type = state.get("scaling") or NO_SCALING
    if rope_type == NO_SCALING:
        return None
    if rope_type not in SCALING_KEYS:
        raise ValueError(f"unknown scaling type {rope_type!r}; allowed: {', '.join(SCALING_CHOICES)}")
    required, optional = SCALING_KEYS[rope_type]
    out: dict[str, Any] = {"rope_type": rope_type}
    for key in sorted(required | optional):
        field = _FIELD_OF_SCALING_KEY[key]
        value = state.get(field)
        if key == "original_max_position_embeddings" and value is None and key in required | optional:
            if rope_type == "dynamic":
                continue  # transformers' dynamic NTK measures growth against max_position_embeddings
            value = state.get("context_length")
        if value is None:
            if key in required:
                out[key] = None  # RopeConfig reports "needs key(s) ..."
            continue
        out[key] = list(value) if isinstance(value, tuple) else value
    return out


def config_from_state(state: Mapping[str, Any]) -> RopeConfig:
    """Build the RopeConfig the state describes; ValueError (the library's message) if invalid."""
    return RopeConfig(head_dim=state["head_dim"], base=state["base"], rotary_fraction=state["rotary_fraction"],
                      layout=state["layout"], context_length=state["context_length"],
                      scaling=scaling_from_state(state))


def baseline_state(preset: str | None) -> dict[str, Any]:
    """The state a preset (or the default, for None) starts from."""
    if preset:
        return state_from_config(preset_config(preset))
    return dict(DEFAULT_STATE)


# -- URL query string ---------------------------------------------------------------------------------------------
def _short(v: Any) -> str:
    """Shortest text that parses back to the same float (repr), without a trailing ".0"."""
    text = repr(float(v))
    return text[:-2] if text.endswith(".0") else text


def _fmt(kind: str, value: Any) -> str:
    if value is None:
        return ""
    if kind == "int":
        return str(int(value))
    if kind == "float":
        return _short(value)
    if kind == "bool":
        return "1" if value else "0"
    if kind == "layout":
        return {"half": "h", "interleaved": "i"}.get(value, str(value))
    if kind == "floats":
        return ",".join(_short(v) for v in value)
    return str(value)


def _parse(kind: str, text: str) -> Any:
    text = text.strip()
    if text == "":
        return None
    if kind == "int":
        v = float(text)
        if not math.isfinite(v) or not v.is_integer():
            raise ValueError(f"expected an integer, got {text!r}")
        return int(v)
    if kind == "float":
        v = float(text)
        if not math.isfinite(v):
            raise ValueError(f"expected a finite number, got {text!r}")
        return v
    if kind == "bool":
        if text.lower() in ("1", "true", "yes"):
            return True
        if text.lower() in ("0", "false", "no"):
            return False
        raise ValueError(f"expected 0 or 1, got {text!r}")
    if kind == "layout":
        v = {"h": "half", "i": "interleaved"}.get(text, text)
        if v not in ("half", "interleaved"):
            raise ValueError(f"expected h (half) or i (interleaved), got {text!r}")
        return v
    if kind == "scaling":
        if text not in SCALING_CHOICES:
            raise ValueError(f"expected one of {', '.join(SCALING_CHOICES)}, got {text!r}")
        return text
    if kind == "floats":
        try:
            vals = tuple(float(t) for t in text.split(","))
        except ValueError:
            raise ValueError(f"expected comma-separated numbers, got {text[:40]!r}") from None
        if not all(math.isfinite(v) for v in vals):
            raise ValueError("expected finite numbers")
        return vals
    return text


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=0.0)
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(float(x), float(y)) for x, y in zip(a, b))
    return a == b


def encode_query(state: Mapping[str, Any], preset: str | None) -> dict[str, str]:
    """URL query parameters for (preset, state): the preset name + the fields that differ from its baseline."""
    try:
        base = baseline_state(preset)
    except ValueError:
        base, preset = dict(DEFAULT_STATE), None
    out: dict[str, str] = {}
    if preset:
        out[PRESET_KEY] = preset
    for name, (url, kind) in FIELDS.items():
        if not _same(state.get(name), base.get(name)):
            out[url] = _fmt(kind, state.get(name))
    return out


def decode_query(params: Mapping[str, str]) -> tuple[str | None, dict[str, Any], list[str]]:
    """(preset, state, errors) from URL query parameters. Unparseable values are skipped with a message in
    ``errors``; values that parse but are out of range are kept (RopeConfig reports them)."""
    errors: list[str] = []
    preset = params.get(PRESET_KEY) or None
    try:
        state = baseline_state(preset)
    except ValueError as e:
        errors.append(f"URL parameter preset: {e}")
        preset, state = None, dict(DEFAULT_STATE)
    for url, text in params.items():
        if url not in URL_KEYS:
            continue
        name = URL_KEYS[url]
        kind = FIELDS[name][1]
        try:
            state[name] = _parse(kind, text)
        except ValueError as e:
            errors.append(f"URL parameter {url}={text[:40]!r} ({name}): {e}; ignored")
    for name in ("head_dim", "base", "rotary_fraction", "layout", "context_length", "scaling"):
        if state.get(name) is None:
            state[name] = DEFAULT_STATE[name]
    return preset, state, errors
