"""rope_viz.compare: the "compare with" choices, resolving them, and a saved config's URL text (round trip over valid
configs; hostile text only ever gives a ValueError naming the field)."""

from __future__ import annotations

import base64
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_config import any_config

from rope_viz import compare as C
from rope_viz.config import RopeConfig, format_base
from rope_viz.presets import get_preset, preset_names
from rope_viz.ui import state as S

QWEN2 = RopeConfig(128, base=1e6, context_length=32768)
PHI3 = get_preset("phi-3-mini-128k").config


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


# -- choices and resolve ------------------------------------------------------------------------------------------------
def test_options_are_bases_presets_then_saved_slots():
    opts = C.options({3: QWEN2, 1: PHI3})
    assert opts[:len(C.BASE_CHOICES)] == [f"base {b}" for b in C.BASE_CHOICES]
    assert opts[len(C.BASE_CHOICES):-2] == list(preset_names())
    assert opts[-2:] == ["saved 1", "saved 3"]
    assert C.option_label("saved 3", {3: QWEN2}) == "saved 3: d=128 base=1e6 L=32,768"
    assert C.option_label("llama-2-7b", {3: QWEN2}) == "llama-2-7b"
    # a base choice reads as the curve it draws is labelled (format_base), whatever way the URL spells it
    for item in C.options():
        if item.startswith(C.BASE_PREFIX):
            (_, drawn), = C.resolve(QWEN2, [item])
            assert C.option_label(item) == f"base {format_base(drawn.base)}"
            assert f"base={format_base(drawn.base)}" in drawn.label()


def test_resolve_gives_labels_and_configs():
    cfg = RopeConfig(64, base=5e4, scaling={"rope_type": "yarn", "factor": 4.0}, context_length=16384)
    out = C.resolve(cfg, ["base 1e6", "llama-3.1-8b", "saved 2"], {2: QWEN2})
    assert [label for label, _ in out] == [RopeConfig(64, base=1e6, scaling={"rope_type": "yarn", "factor": 4.0},
                                                      context_length=16384).label(),
                                           "llama-3.1-8b", "saved 2: " + QWEN2.label()]
    assert out[0][1].base == 1e6 and out[0][1].scaling == cfg.scaling and out[0][1].context_length == 16384
    assert out[1][1] == get_preset("llama-3.1-8b").config
    assert out[2][1] is QWEN2
    assert C.resolve(cfg, out) == out                                # resolved pairs pass through unchanged
    assert C.resolve(cfg, [[out[1][0], out[1][1]]]) == [out[1]]     # [label, config] (the figure cache's JSON)
    assert C.resolve(cfg, [QWEN2, 2e5])[0] == (QWEN2.label(), QWEN2)


@pytest.mark.parametrize("items, match", [
    (["base x"], "base <number>"), (["base 0.5"], "compare base"), (["no-such-model"], "preset"),
    (["saved 2"], "names no saved config"), ([[1, 2]], "compare entries"), ([True], "compare entries"),
    (["base 1e6"] * 4, "at most 3"),
])
def test_resolve_rejects_bad_entries(items, match):
    with pytest.raises(ValueError, match=match):
        C.resolve(QWEN2, items, {1: PHI3})


# -- saved config text ------------------------------------------------------------------------------------------------
@settings(max_examples=150)
@given(any_config())
def test_encode_decode_round_trip(cfg):
    try:
        text = C.encode_config(cfg)
    except ValueError as e:
        # only hundreds of full-precision LongRoPE factors are too long for one URL value
        assert cfg.rope_type == "longrope" and cfg.n_pairs > 256 and "characters" in str(e)
        return
    assert len(text) <= C.MAX_ENCODED_CHARS and set(text) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    back = C.decode_config(text)
    assert back == cfg and back.to_dict() == cfg.to_dict()


@pytest.mark.parametrize("cfg", [QWEN2, PHI3, get_preset("llama-3.1-8b").config, RopeConfig(2, context_length=2),
                                 RopeConfig(256, scaling={"rope_type": "longrope", "short_factor": [1 / 3] * 128,
                                                          "long_factor": [math.pi] * 128})])
def test_real_and_long_configs_fit_in_a_url_value(cfg):
    text = C.encode_config(cfg)
    assert C.decode_config(text) == cfg
    assert C.MAX_ENCODED_CHARS <= S.URL_VALUE_MAX_CHARS
    assert len(C.encode_config(QWEN2)) < 80                           # fields at their defaults are left out


def test_text_that_would_not_encode_back_is_rejected(monkeypatch):
    """Integers read as floats: factors written as ints fit, their float text (1000 → 1000.0) would not; the app
    writes every saved config back into the URL, so decoding must refuse it. (Factors are at most 1024, so the cap is
    lowered here to reach the case with 1,024 of them.)"""
    monkeypatch.setattr(C, "MAX_ENCODED_CHARS", 8_000)
    doc = {"head_dim": 1024, "scaling": {"rope_type": "longrope", "short_factor": [1000] * 512,
                                         "long_factor": [1000] * 512}}
    text = _b64(json.dumps(doc, separators=(",", ":")))
    assert len(text) <= C.MAX_ENCODED_CHARS
    with pytest.raises(ValueError, match=r"^URL parameter saved1: this config takes [0-9,]+ characters"):
        C.decode_config(text, field="URL parameter saved1")


def test_too_long_to_share_is_a_value_error():
    n = 512
    cfg = RopeConfig(1024, scaling={"rope_type": "longrope", "short_factor": [1 / 3] * n,
                                    "long_factor": [1 / 7] * n})
    with pytest.raises(ValueError, match="at most 20,000 fit"):
        C.encode_config(cfg)


HOSTILE = [
    ("", "valid JSON"), ("x", "base64url"), ("%%%", "base64url"), ("a b", "base64url"),
    ("A" * (C.MAX_ENCODED_CHARS + 1), "at most 20,000 characters"),
    (_b64("not json"), "valid JSON"),
    (_b64("[1, 2]"), "an object"),
    (_b64('{"head_dim": NaN}'), "head_dim"),
    (_b64('{"head_dim": 128, "base": 1e400}'), "base"),
    (_b64('{"head_dim": 128, "base": Infinity}'), "base"),
    (_b64('{"head_dim": 128, "zz": 1}'), "unknown key.*zz"),
    (_b64('{"head_dim": 128, "__class__": 1}'), "unknown key"),
    (_b64('{"base": 5}'), "head_dim is missing"),
    (_b64('{"head_dim": "128"}'), "head_dim must be an integer"),
    (_b64('{"head_dim": 127}'), "head_dim must be even"),
    (_b64('{"head_dim": 128, "layout": "<b>x</b>"}'), "layout"),
    (_b64('{"head_dim": 128, "context_length": 1e300}'), "context_length"),
    (_b64('{"head_dim": 128, "scaling": {"rope_type": "yarn"}}'), "needs key.*factor"),
    (_b64('{"head_dim": 128, "scaling": {"rope_type": "longrope", "short_factor": [1], "long_factor": [1]}}'),
     "short_factor has 1 entries"),
    (_b64('{"head_dim": 128, "scaling": [[[[1]]]]}'), "nest at most 3"),
    (_b64('{"head_dim": 128, "scaling": {"rope_type": "linear", "factor": ' + "9" * 40 + "}}"), "factor"),
    ("_-_-", "UTF-8"),
]


@pytest.mark.parametrize("text, match", HOSTILE, ids=[f"hostile{i}" for i in range(len(HOSTILE))])
def test_hostile_text_is_a_value_error_naming_the_field(text, match):
    with pytest.raises(ValueError, match=match) as e:
        C.decode_config(text, field="URL parameter saved1")
    msg = str(e.value)
    assert msg.startswith("URL parameter saved1") and len(msg) <= 400 and "\n" not in msg


@settings(max_examples=300)
@given(st.one_of(st.text(max_size=200), st.binary(max_size=200).map(
    lambda b: base64.urlsafe_b64encode(b).decode()), st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=10)),
    lambda x: st.one_of(st.lists(x, max_size=4), st.dictionaries(
        st.sampled_from(["head_dim", "base", "scaling", "rope_type", "factor", "layout", "zz"]), x, max_size=4)),
    max_leaves=12).map(lambda d: _b64(json.dumps(d)))))
def test_any_text_decodes_to_a_config_or_a_value_error(text):
    try:
        cfg = C.decode_config(text, field="URL parameter saved2")
    except ValueError as e:
        assert str(e).startswith("URL parameter saved2") and "\n" not in str(e)
    else:
        assert isinstance(cfg, RopeConfig) and C.decode_config(C.encode_config(cfg)) == cfg


def test_url_keys_of_saved_configs():
    assert set(S.SAVED_KEYS) == {f"saved{i}" for i in range(1, C.MAX_SAVED + 1)} and \
        set(S.SAVED_KEYS) <= S.RESERVED_URL_KEYS
    params = {**S.encode_saved({1: PHI3, 3: QWEN2}), "saved2": "garbage!", "saved4": _b64('{"head_dim": 3}'),
              "saved9": "ignored", "d": "64"}
    saved, errors = S.decode_saved(params)
    assert saved == {1: PHI3, 3: QWEN2}
    assert len(errors) == 2 and errors[0].startswith("URL parameter saved2") and \
        errors[1].startswith("URL parameter saved4: head_dim")


@pytest.mark.parametrize("items", [99, "llama-3-8b", b"x", {"base 1e6": 1}, 1.5])
def test_compare_that_is_not_a_list_is_refused_naming_the_field(items):
    with pytest.raises(ValueError, match="compare must be a list"):
        C.resolve(RopeConfig(128), items)
