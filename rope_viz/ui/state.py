"""The sidebar's state as plain data, and its URL encoding. No streamlit here, so all of it is unit-testable.

The state is the keyword arguments of ``RopeConfig`` (``state_from_config`` / ``config_from_state``), with the scaling
as a plain dict or None: the widgets edit it, and ``config_from_state`` validates it (``ValueError`` with the
library's message). There is no second schema: the URL keys are the RopeConfig field names and the scaling keys
(``rope_viz.config.SCALING_KEYS``), a few with a short alias (``URL_ALIASES``), so a new config field or scaling key
is in the URL without an edit here.

URL encoding (``encode_query`` / ``decode_query``): ``preset=NAME`` names the baseline (a preset from
rope_viz.presets, or ``DEFAULT_CONFIG`` when absent: d = 128, base 1e4, 4K context, Llama 2 7B's RoPE; the CLI
starts from the same config) and only the values that differ from it are written::

    ?preset=llama-3.1-8b&L=1048576&f=16          Llama 3.1 8B pushed to 1M tokens with factor 16
    ?d=64&b=500000                                 default config with head dim 64 and base 5e5
    ?s=yarn&f=4                                    YaRN ×4 (the other YaRN keys at their defaults)

Values: numbers as the shortest text that reads back to the same float, ``true``/``false``, text as is, lists as
``1,1.5,2`` (one item: ``[1.5]``), and an empty value for "unset" (``af=`` removes a preset's attention factor).
``s`` (the scaling type, ``none`` for plain RoPE) switches the scaling the way the sidebar does
(``switch_scaling``): keys the new type takes are kept, required ones are filled in; the scaling keys given are
applied to that. Every value goes through ``rope_viz.validate`` and ``RopeConfig``: a value that fails is dropped
with a message naming the URL parameter, the allowed range and the (shortened, escaped) value.
Configs saved for comparison (``rope_viz.compare``) are ``saved1`` … ``saved4``, each the slot's config as
``compare.encode_config`` writes it (base64url of its JSON); ``decode_saved`` reads them strictly (a bad value is
dropped with a message, the other slots kept).
Page-level parameters (``rope_viz.ui.persist``) use their own names and must not collide with ``RESERVED_URL_KEYS``.
"""

from __future__ import annotations

import re
from dataclasses import fields
from typing import Any, Mapping

from .. import compare as C
from .. import validate as V
from ..cli import DEFAULT_CONFIG, preset_config, preset_name
from ..config import SCALING_KEYS, SCALING_TYPES, RopeConfig, rotary_width
from ..presets import preset_names
from ..scaling import LLAMA3_DEFAULTS, synth_longrope_factors

NO_SCALING = "none"
SCALING_CHOICES = (NO_SCALING,) + tuple(SCALING_TYPES)
# Values a scaling type needs when the sidebar (or a URL's ``s=``) switches to it and the state has none:
# transformers' / the papers' defaults (YaRN β_fast 32, β_slow 1; Llama 3.1's published factors).
SCALING_DEFAULTS: dict[str, Any] = {"factor": 8.0, "beta_fast": 32.0, "beta_slow": 1.0, **LLAMA3_DEFAULTS}

CONFIG_FIELDS = tuple(f.name for f in fields(RopeConfig) if f.name != "scaling")
SCALING_FIELDS = ("rope_type",) + tuple(sorted(set().union(*(r | o for r, o in SCALING_KEYS.values()))))
URL_ALIASES = {
    "head_dim": "d", "base": "b", "rotary_fraction": "rf", "layout": "lay", "context_length": "L",
    "rope_type": "s", "factor": "f", "original_max_position_embeddings": "oc", "beta_fast": "bf", "beta_slow": "bs",
    "mscale": "ms", "mscale_all_dim": "msa", "attention_factor": "af", "low_freq_factor": "lf",
    "high_freq_factor": "hf", "truncate": "tr", "short_factor": "sh", "long_factor": "lo",
}
PRESET_KEY = "preset"
SAVED_KEYS = {f"saved{slot}": slot for slot in range(1, C.MAX_SAVED + 1)}   # URL key → saved slot
URL_VALUE_MAX_CHARS = 20_000      # the longest URL value read (a LongRoPE list of 512 numbers fits)
_NUMBERISH = re.compile(r"[-+0-9.eE]+|true|false|null")


def url_key(name: str) -> str:
    """The URL parameter of a RopeConfig field or scaling key (its alias, else the name itself)."""
    return URL_ALIASES.get(name, name)


URL_FIELDS = {url_key(n): n for n in CONFIG_FIELDS + SCALING_FIELDS}
RESERVED_URL_KEYS = frozenset(URL_FIELDS) | {PRESET_KEY} | frozenset(SAVED_KEYS)


# -- presets, state <-> RopeConfig ----------------------------------------------------------------------------------
def state_from_config(cfg: RopeConfig) -> dict[str, Any]:
    """The state that reproduces ``cfg``: its fields, the scaling as a fresh dict (or None)."""
    state = {n: getattr(cfg, n) for n in CONFIG_FIELDS}
    state["scaling"] = None if cfg.scaling is None else dict(cfg.scaling)
    return state


def config_from_state(state: Mapping[str, Any]) -> RopeConfig:
    """Build the RopeConfig the state describes; ValueError (the library's message) if invalid."""
    return RopeConfig(**{n: state[n] for n in CONFIG_FIELDS}, scaling=state.get("scaling"))


DEFAULT_STATE = state_from_config(DEFAULT_CONFIG)


def baseline_state(preset: str | None) -> dict[str, Any]:
    """The state a preset (or the default, for None) starts from."""
    return state_from_config(preset_config(preset) if preset else DEFAULT_CONFIG)


def n_pairs_of(state: Mapping[str, Any]) -> int:
    """Rotated pairs r/2 the state's head dim and rotary fraction give (transformers' rounding), 0 if invalid."""
    try:
        return max(rotary_width(int(state["head_dim"]), float(state["rotary_fraction"])) // 2, 0)
    except (TypeError, ValueError, OverflowError):
        return 0


def switch_scaling(state: Mapping[str, Any], rope_type: str | None) -> dict[str, Any]:
    """``state`` with scaling type ``rope_type`` ("none"/None: plain RoPE). Keys the new type takes are kept; its
    required keys that are missing are filled in: ``SCALING_DEFAULTS``, the original context = the state's context
    length, and for LongRoPE the stand-in factor lists of ``rope_viz.scaling.synth_longrope_factors`` (ramp 1 → s).
    Not validated (``config_from_state`` does that)."""
    out = dict(state)
    if rope_type in (None, NO_SCALING):
        out["scaling"] = None
        return out
    rope_type = V.choice("scaling type", rope_type, SCALING_CHOICES)
    required, optional = SCALING_KEYS[rope_type]
    old = state.get("scaling") or {}
    sc = {"rope_type": rope_type, **{k: old[k] for k in sorted(required | optional) if k in old}}
    for key in sorted(required - sc.keys()):
        if key == "original_max_position_embeddings":
            sc[key] = state["context_length"]
        elif key in SCALING_DEFAULTS:
            sc[key] = SCALING_DEFAULTS[key]
    if rope_type == "longrope" and not {"short_factor", "long_factor"} <= sc.keys():
        factor = sc.get("factor") or old.get("factor") or SCALING_DEFAULTS["factor"]
        try:
            sc["short_factor"], sc["long_factor"] = synth_longrope_factors(n_pairs_of(state), factor)
        except ValueError:
            pass  # no valid pair count: config_from_state reports the head dim / rotary fraction
    out["scaling"] = sc
    return out


def _with_value(state: Mapping[str, Any], name: str, value: Any) -> dict[str, Any]:
    """``state`` with one field or scaling key set (None: a scaling key removed)."""
    if isinstance(value, list):
        value = tuple(value)
    if name == "rope_type":
        return switch_scaling(state, value)
    out = dict(state)
    if name in CONFIG_FIELDS:
        out[name] = value
        return out
    if not state.get("scaling"):
        raise ValueError(f"{name} needs a scaling type (URL parameter {url_key('rope_type')}=…)")
    sc = dict(state["scaling"])
    if value is None:
        sc.pop(name, None)
    else:
        sc[name] = value
    out["scaling"] = sc
    return out


def changed_fields(state: Mapping[str, Any], baseline: Mapping[str, Any]) -> list[str]:
    """Names of the fields and scaling keys where ``state`` differs from ``baseline`` (field order)."""
    out = [n for n in CONFIG_FIELDS if state.get(n) != baseline.get(n)]
    sc, bsc = state.get("scaling") or {}, baseline.get("scaling") or {}
    return out + [k for k in SCALING_FIELDS if sc.get(k) != bsc.get(k)]


# -- URL query string ---------------------------------------------------------------------------------------------
def format_value(value: Any) -> str:
    """A value as URL text (see the module docstring); floats as the shortest text that reads back the same."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    if isinstance(value, (list, tuple)):
        text = ",".join(format_value(v) for v in value)
        return f"[{text}]" if len(value) == 1 else text
    return str(value)


def parse_value(key: str, text: str) -> Any:
    """URL text → value: "" → None, numbers / true / false / lists as JSON (finite numbers only), else the text.
    ValueError naming the URL parameter for malformed or non-finite numbers and lists, ``null``, and values over
    20,000 characters."""
    field = f"URL parameter {key}"
    if not isinstance(text, str) or len(text) > URL_VALUE_MAX_CHARS:
        raise ValueError(f"{field} must be text of at most {URL_VALUE_MAX_CHARS:,} characters; got {V.shorten(text)}")
    text = text.strip()
    if text == "":
        return None
    if text.startswith("["):
        doc = text
    elif "," in text:
        doc = f"[{text}]"
    elif _NUMBERISH.fullmatch(text):
        doc = text
    else:
        return text
    try:
        value = V.json_document(doc, max_bytes=URL_VALUE_MAX_CHARS + 2, max_depth=1, field=field)
    except ValueError:
        value = None
    if value is None or isinstance(value, list) and not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        raise ValueError(f"{field} must be a finite number, true / false or a comma-separated list of finite "
                         f"numbers; got {V.shorten(text)}")
    return value


def _reference(state: Mapping[str, Any], base: Mapping[str, Any]) -> dict[str, Any]:
    """What the decoder builds before the scaling keys: ``base`` with ``state``'s fields, then its scaling type."""
    ref = {**base, **{n: state[n] for n in CONFIG_FIELDS}}
    rope_type = (state.get("scaling") or {}).get("rope_type", NO_SCALING)
    if rope_type != (base.get("scaling") or {}).get("rope_type", NO_SCALING):
        ref = switch_scaling(ref, rope_type)
    return ref


def encode_query(state: Mapping[str, Any], preset: str | None) -> dict[str, str]:
    """URL query parameters for (preset, state): the preset name + the values that differ from its baseline."""
    try:
        base = baseline_state(preset)
    except ValueError:
        base, preset = dict(DEFAULT_STATE), None
    out: dict[str, str] = {PRESET_KEY: preset} if preset else {}
    for name in CONFIG_FIELDS:
        if state.get(name) != base.get(name):
            out[url_key(name)] = format_value(state.get(name))
    try:
        ref = _reference(state, base)
    except ValueError:       # an unknown scaling type in the state: write every key
        ref = {**base, "scaling": None}
    sc, rsc = state.get("scaling") or {}, ref.get("scaling") or {}
    if sc.get("rope_type") != (base.get("scaling") or {}).get("rope_type"):
        out[url_key("rope_type")] = sc.get("rope_type", NO_SCALING)
    for key in SCALING_FIELDS[1:]:
        if sc.get(key) != rsc.get(key):
            out[url_key(key)] = format_value(sc.get(key))
    return out


def decode_query(params: Mapping[str, str]) -> tuple[str | None, dict[str, Any], list[str]]:
    """(preset, state, errors) from URL query parameters. Every value is parsed and validated; one that fails
    (malformed, or making the config invalid) is dropped with a message in ``errors``, so the state returned is
    always a valid config."""
    errors: list[str] = []
    preset = params.get(PRESET_KEY) or None
    try:
        preset = preset and preset_name(preset)
        base = baseline_state(preset)
    except ValueError as e:
        errors.append(f"URL parameter {e}")
        preset, base = None, dict(DEFAULT_STATE)
    values: dict[str, Any] = {}
    for key, text in params.items():
        if key in URL_FIELDS:
            try:
                values[URL_FIELDS[key]] = parse_value(key, text)
            except ValueError as e:
                errors.append(str(e))
    order = [n for n in CONFIG_FIELDS + SCALING_FIELDS if n in values]   # fields, then the type, then its keys
    state = base
    try:
        for name in order:
            state = _with_value(state, name, values[name])
        return preset, state_from_config(config_from_state(state)), errors
    except ValueError:
        state = base
    for name in order:          # some value is bad: add them one at a time, dropping the ones that fail
        try:
            trial = _with_value(state, name, values[name])
            config_from_state(trial)
        except ValueError as e:
            errors.append(f"URL parameter {url_key(name)}: {e}")
            continue
        state = trial
    return preset, state_from_config(config_from_state(state)), errors


# -- configs saved for comparison -------------------------------------------------------------------------------------
def encode_saved(saved: Mapping[int, RopeConfig]) -> dict[str, str]:
    """URL parameters ``saved<slot>`` for the saved configs (slot → RopeConfig)."""
    return {f"saved{slot}": C.encode_config(cfg) for slot, cfg in sorted(saved.items())}


def decode_saved(params: Mapping[str, str]) -> tuple[dict[int, RopeConfig], list[str]]:
    """(slot → RopeConfig, errors) from the URL's ``saved<slot>`` parameters; a value that does not decode to a
    valid config (``compare.decode_config``) is dropped with a message naming the URL parameter."""
    saved: dict[int, RopeConfig] = {}
    errors: list[str] = []
    for key, slot in SAVED_KEYS.items():
        if key in params:
            try:
                saved[slot] = C.decode_config(params[key], field=f"URL parameter {key}")
            except ValueError as e:
                errors.append(str(e))
    return saved, errors
