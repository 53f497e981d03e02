"""RopeConfig validation, from_hf_config on both config.json schemas, hashing/equality and the dict round trips.

Every bad input listed in issue 2 must raise ValueError whose message names the field and what is allowed. The
from_hf_config tests use real models' published config.json values (Llama 2/3.1, Gemma, GPT-NeoX-20B, Phi-3, Qwen2.5,
DeepSeek-V2-Lite) and, where transformers has a config class for them, check that transformers reads the same
numbers (head_dim, rope_theta, partial rotary, original context) from the same dict.
"""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rope_viz.config import (BASE_MAX, CONTEXT_MAX, CONTEXT_MIN, FACTOR_MAX, HEAD_DIM_MAX, SCALING_KEYS, SCALING_LABELS,
                             SCALING_TYPES, RopeConfig, from_hf_config)
from rope_viz.presets import get_preset, preset_names

P64 = 32  # pairs of a head_dim 64 config


def _longrope(p=P64, **kw):
    return {"rope_type": "longrope", "short_factor": [1.0] * p, "long_factor": [2.0] * p, **kw}


# -- validation -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,match", [
    # head_dim: even integer in [2, HEAD_DIM_MAX]
    ({"head_dim": 0}, r"head_dim must be an integer in \[2, 1024\]"),
    ({"head_dim": -64}, r"head_dim must be an integer in \[2, 1024\]"),
    ({"head_dim": 63}, r"head_dim must be even"),
    ({"head_dim": 1}, r"head_dim must be an integer in \[2, 1024\]"),
    ({"head_dim": 2048}, r"head_dim must be an integer in \[2, 1024\]"),
    ({"head_dim": 64.5}, r"head_dim must be an integer"),
    ({"head_dim": "64"}, r"head_dim must be an integer"),
    ({"head_dim": True}, r"head_dim must be an integer"),
    ({"head_dim": None}, r"head_dim must be an integer"),
    ({"head_dim": float("nan")}, r"head_dim must be an integer"),
    # base: finite, 1 < base ≤ BASE_MAX
    ({"base": 1.0}, r"base must be a finite number in \(1, 1e\+12\]"),
    ({"base": 0.5}, r"base must be a finite number in \(1, 1e\+12\]"),
    ({"base": 0}, r"base must be a finite number in \(1"),
    ({"base": -1e4}, r"base must be a finite number in \(1"),
    ({"base": 1e13}, r"base must be a finite number in \(1, 1e\+12\]"),
    ({"base": float("nan")}, r"base must be a finite number"),
    ({"base": float("inf")}, r"base must be a finite number"),
    ({"base": "1e4"}, r"base must be a finite number"),
    ({"base": True}, r"base must be a finite number"),
    ({"base": None}, r"base must be a finite number"),
    # rotary_fraction: (0, 1], even rotary width ≥ 2
    ({"rotary_fraction": 0.0}, r"rotary_fraction must be a finite number in \(0, 1\]"),
    ({"rotary_fraction": -0.5}, r"rotary_fraction must be a finite number in \(0, 1\]"),
    ({"rotary_fraction": 1.5}, r"rotary_fraction must be a finite number in \(0, 1\]"),
    ({"rotary_fraction": float("nan")}, r"rotary_fraction must be a finite number"),
    ({"head_dim": 10, "rotary_fraction": 0.5}, r"rotary width int\(10·0.5\) = 5; it must be even"),
    ({"head_dim": 64, "rotary_fraction": 0.01}, r"= 0; it must be even and ≥ 2"),
    # layout
    ({"layout": "neox"}, r"layout must be one of half, interleaved; got 'neox'"),
    ({"layout": None}, r"layout must be one of half, interleaved"),
    # context_length: integer in [2, 2**24]
    ({"context_length": 0}, r"context_length must be an integer in \[2, 16777216\]"),
    ({"context_length": CONTEXT_MAX + 1}, r"context_length must be an integer in \[2, 16777216\]"),
    ({"context_length": 4096.5}, r"context_length must be an integer"),
    ({"context_length": float("inf")}, r"context_length must be an integer"),
])
def test_bad_fields(kwargs, match):
    kw = {"head_dim": 64, **kwargs}
    with pytest.raises(ValueError, match=match):
        RopeConfig(**kw)


@pytest.mark.parametrize("scaling,match", [
    ("yarn", r"scaling must be None or a dict with a 'rope_type' key; got 'yarn'"),
    (2.0, r"scaling must be None or a dict"),
    ({"factor": 2.0}, r"scaling needs a 'rope_type'; allowed: linear, ntk, dynamic, yarn, llama3, longrope"),
    ({"rope_type": "foo", "factor": 2.0}, r"unknown rope_type 'foo'; allowed: linear, ntk, dynamic, yarn, llama3, "
                                          r"longrope"),
    ({"rope_type": "default"}, r"unknown rope_type 'default'.*or scaling=None"),
    ({"type": "linear", "rope_type": "yarn", "factor": 2.0}, r"both type='linear' and rope_type='yarn'"),
    # missing keys
    ({"rope_type": "linear"}, r"rope_type 'linear' needs key\(s\) factor"),
    ({"rope_type": "linear", "factor": None}, r"rope_type 'linear' needs key\(s\) factor"),
    ({"rope_type": "llama3", "factor": 8.0, "original_max_position_embeddings": 8192},
     r"rope_type 'llama3' needs key\(s\) high_freq_factor, low_freq_factor"),
    ({"rope_type": "longrope", "short_factor": [1.0] * P64}, r"rope_type 'longrope' needs key\(s\) long_factor"),
    # unknown keys
    ({"rope_type": "linear", "factor": 2.0, "beta_fast": 32}, r"rope_type 'linear' does not take key\(s\) beta_fast; "
                                                              r"allowed: factor"),
    ({"rope_type": "yarn", "factor": 2.0, "low_freq_factor": 1.0}, r"does not take key\(s\) low_freq_factor; allowed: "
                                                                   r"attention_factor, beta_fast"),
    # factors
    ({"rope_type": "linear", "factor": 0.5}, r"factor must be a finite number in \[1, 1024\]"),
    ({"rope_type": "linear", "factor": FACTOR_MAX * 2}, r"factor must be a finite number in \[1, 1024\]"),
    ({"rope_type": "linear", "factor": float("nan")}, r"factor must be a finite number"),
    ({"rope_type": "ntk", "factor": float("inf")}, r"factor must be a finite number"),
    ({"rope_type": "dynamic", "factor": "2"}, r"factor must be a finite number"),
    ({"rope_type": "yarn", "factor": 4.0, "beta_fast": 0.0}, r"beta_fast must be a finite number in \(0, 1024\]"),
    ({"rope_type": "yarn", "factor": 4.0, "beta_slow": -1.0}, r"beta_slow must be a finite number in \(0, 1024\]"),
    ({"rope_type": "yarn", "factor": 4.0, "mscale": -1.0}, r"mscale must be a finite number in \[0, 100\]"),
    ({"rope_type": "yarn", "factor": 4.0, "attention_factor": -0.1}, r"attention_factor must be a finite number in \[0, 100\]"),
    ({"rope_type": "yarn", "factor": 4.0, "truncate": "yes"}, r"truncate must be true or false"),
    ({"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 0},
     r"original_max_position_embeddings must be an integer in \[2, 16777216\]"),
    ({"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 1024.5},
     r"original_max_position_embeddings must be an integer"),
    ({"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 4.0, "high_freq_factor": 1.0,
      "original_max_position_embeddings": 8192}, r"high_freq_factor > low_freq_factor"),
    ({"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 0.0, "high_freq_factor": 1.0,
      "original_max_position_embeddings": 8192}, r"low_freq_factor must be a finite number in \(0, 1024\]"),
    # factor lists: one positive number per rotated pair
    (_longrope(p=31), r"short_factor has 31 entries; it needs rotary_dim // 2 = 32"),
    ({**_longrope(), "long_factor": [1.0] * 64}, r"long_factor has 64 entries; it needs rotary_dim // 2 = 32"),
    ({**_longrope(), "long_factor": "1,2"}, r"long_factor must be a list of 32 numbers"),
    ({**_longrope(), "long_factor": 2.0}, r"long_factor must be a list of 32 numbers"),
    ({**_longrope(), "short_factor": [1.0] * 31 + [0.0]}, r"short_factor\[31\] must be a finite number in \[0.001, 1024\]; got 0.0"),
    ({**_longrope(), "short_factor": [1.0] * 31 + [float("nan")]}, r"short_factor\[31\] must be a finite number"),
    ({**_longrope(), "short_factor": [1.0] * 31 + ["x"]}, r"short_factor\[31\] must be a finite number"),
    # magnitudes that overflowed downstream (a traceback from the score moments, ∞ angles in fp32): bounded here
    ({"rope_type": "yarn", "factor": 4.0, "attention_factor": 1e300}, r"attention_factor must be .*\[0, 100\]"),
    ({"rope_type": "yarn", "factor": 4.0, "mscale": 101}, r"mscale must be .*\[0, 100\]"),
    ({"rope_type": "yarn", "factor": 4.0, "mscale_all_dim": 1e300}, r"mscale_all_dim must be"),
    ({**_longrope(), "long_factor": [1e-300] * 32}, r"long_factor\[0\] must be"),
    ({**_longrope(), "short_factor": [1.0] * 31 + [1025.0]}, r"short_factor\[31\] must be"),
    ({"rope_type": "yarn", "factor": 4.0, "beta_fast": 1e300}, r"beta_fast must be"),
    ({"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 1e300,
      "original_max_position_embeddings": 8192}, r"high_freq_factor must be"),
])
def test_bad_scaling(scaling, match):
    with pytest.raises(ValueError, match=match):
        RopeConfig(64, scaling=scaling)


def test_factor_list_length_follows_rotary_dim():
    """With partial rotary the lists have rotary_dim // 2 entries, not head_dim // 2."""
    RopeConfig(64, rotary_fraction=0.5, scaling=_longrope(p=16))
    with pytest.raises(ValueError, match="needs rotary_dim // 2 = 16"):
        RopeConfig(64, rotary_fraction=0.5, scaling=_longrope(p=32))


def test_longrope_implicit_factor_bound():
    with pytest.raises(ValueError, match="exceeds 1024"):
        RopeConfig(64, context_length=1 << 22, scaling=_longrope(original_max_position_embeddings=1024))


@settings(max_examples=60, deadline=None)
@given(st.integers(CONTEXT_MIN, CONTEXT_MAX), st.booleans(), st.sampled_from(preset_names() + [None]))
def test_max_context_length_is_the_largest_valid_context(orig, with_factor, preset):
    """``max_context_length`` is exact: the config is valid at it and invalid one token above (below 2^24)."""
    if preset is None:
        sc = _longrope(original_max_position_embeddings=orig)
        if with_factor:
            sc["factor"] = 4.0
        cfg = RopeConfig(64, context_length=orig, scaling=sc)
    else:
        cfg = get_preset(preset).config
    top = cfg.max_context_length
    assert CONTEXT_MIN <= top <= CONTEXT_MAX
    cfg.replace(context_length=top)
    if top < CONTEXT_MAX:
        with pytest.raises(ValueError, match="exceeds 1024"):
            cfg.replace(context_length=top + 1)
    naive = CONTEXT_MAX
    if cfg.rope_type == "longrope" and "factor" not in cfg.scaling:
        naive = min(CONTEXT_MAX, 1024 * cfg.original_context_length)
    assert top == naive


def test_type_alias_and_normalisation():
    old = RopeConfig(64, scaling={"type": "linear", "factor": 2})
    new = RopeConfig(64, scaling={"rope_type": "linear", "factor": 2.0})
    assert old == new and hash(old) == hash(new) and old.rope_type == "linear"
    assert old.scaling == {"rope_type": "linear", "factor": 2.0} and isinstance(old.scaling["factor"], float)
    # Phi-3's first configs called LongRoPE "su"
    assert RopeConfig(64, scaling={**_longrope(), "rope_type": "su"}).rope_type == "longrope"
    # None-valued optional keys are dropped; lists become tuples
    y = RopeConfig(64, scaling={"rope_type": "yarn", "factor": 4, "mscale": None, "attention_factor": None})
    assert y.scaling == {"rope_type": "yarn", "factor": 4.0}
    lr = RopeConfig(64, scaling=_longrope())
    assert isinstance(lr.scaling["short_factor"], tuple)
    # the caller's dict is not modified
    src = {"type": "linear", "factor": 2}
    RopeConfig(64, scaling=src)
    assert src == {"type": "linear", "factor": 2}


def test_numpy_scalars_accepted():
    cfg = RopeConfig(np.int64(64), base=np.float32(10000.0), rotary_fraction=np.float64(0.5),
                     context_length=np.int32(2048), scaling={"rope_type": "linear", "factor": np.float32(2.0)})
    assert cfg == RopeConfig(64, 10000.0, 0.5, context_length=2048, scaling={"rope_type": "linear", "factor": 2.0})
    assert type(cfg.head_dim) is int and type(cfg.base) is float and type(cfg.context_length) is int
    json.dumps(cfg.to_dict())


def test_bounds_are_inclusive():
    RopeConfig(HEAD_DIM_MAX, base=BASE_MAX, context_length=CONTEXT_MAX)
    RopeConfig(2, base=1.0 + 1e-9, context_length=CONTEXT_MIN)
    RopeConfig(64, scaling={"rope_type": "linear", "factor": FACTOR_MAX})
    RopeConfig(64, scaling={"rope_type": "linear", "factor": 1})


def test_rotary_dim_uses_transformers_rounding():
    """rotary_dim = int(head_dim · fraction), as transformers' ``dim = int(head_dim * partial_rotary_factor)``."""
    for head_dim, frac in [(80, 0.4), (128, 0.25), (96, 0.25), (64, 0.5), (100, 0.3), (2, 1.0)]:
        cfg = RopeConfig(head_dim, rotary_fraction=frac)
        assert cfg.rotary_dim == int(head_dim * frac) and cfg.n_pairs == cfg.rotary_dim // 2
    # 100 · 0.29 = 28.999999999999996: int() gives 28 (valid), round() would give 29 (odd)
    assert RopeConfig(100, rotary_fraction=0.29).rotary_dim == 28


# -- derived properties, hashing, equality, round trips ---------------------------------------------------------------
def test_derived_properties():
    cfg = RopeConfig(128, 5e5, scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                         "high_freq_factor": 4.0, "original_max_position_embeddings": 8192},
                     context_length=131072)
    assert (cfg.rotary_dim, cfg.n_pairs, cfg.rope_type, cfg.original_context_length) == (128, 64, "llama3", 8192)
    plain = RopeConfig(64)
    assert (plain.rope_type, plain.original_context_length, plain.scaling) == ("default", 4096, None)
    assert "d=128" in cfg.label() and "llama3×8" in cfg.label() and "131,072" in cfg.label()
    assert set(SCALING_TYPES) == set(SCALING_KEYS) and set(SCALING_LABELS) == set(SCALING_TYPES) | {None}


def test_frozen_and_hashable():
    cfg = RopeConfig(64)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.base = 5.0
    a = RopeConfig(64, 10000, scaling=_longrope())
    b = RopeConfig(64, 10000.0, scaling={**_longrope(), "short_factor": tuple([1] * P64)})
    assert a == b and hash(a) == hash(b)
    assert len({a, b, RopeConfig(64, 10001.0, scaling=_longrope())}) == 2
    assert a != RopeConfig(64, scaling=_longrope(), layout="interleaved")
    assert RopeConfig(64) != RopeConfig(64, context_length=4097)
    assert a.replace(base=5e5) == RopeConfig(64, 5e5, scaling=_longrope())
    with pytest.raises(ValueError, match="base must be a finite number in"):
        a.replace(base=1.0)


# hypothesis: any valid config survives to_dict → RopeConfig and to_hf_dict → (JSON) → from_hf_config
@st.composite
def any_config(draw):
    head_dim = draw(st.sampled_from([2, 4, 32, 64, 80, 96, 128, 256, 1024]))
    frac = draw(st.sampled_from([1.0, 0.5, 0.25, 0.75, 0.4]))
    r = int(head_dim * frac)
    assume(r >= 2 and r % 2 == 0)
    ctx = draw(st.integers(CONTEXT_MIN, CONTEXT_MAX))
    f = draw(st.floats(1.0, FACTOR_MAX))
    orig = draw(st.one_of(st.none(), st.integers(CONTEXT_MIN, CONTEXT_MAX)))
    kind = draw(st.sampled_from([None, *SCALING_TYPES]))
    sc = None
    if kind in ("linear", "ntk", "dynamic"):
        sc = {"rope_type": kind, "factor": f}
    elif kind == "yarn":
        sc = {"rope_type": "yarn", "factor": f}
        for key, strat in [("beta_fast", st.floats(1, 64)), ("beta_slow", st.floats(0.1, 2)),
                           ("mscale", st.floats(0, 2)), ("mscale_all_dim", st.floats(0, 2)),
                           ("attention_factor", st.floats(0, 2)), ("truncate", st.booleans())]:
            if draw(st.booleans()):
                sc[key] = draw(strat)
    elif kind == "llama3":
        lo = draw(st.floats(0.1, 4))
        sc = {"rope_type": "llama3", "factor": f, "low_freq_factor": lo, "high_freq_factor": lo + 1.0,
              "original_max_position_embeddings": orig or ctx}
    elif kind == "longrope":
        lst = st.lists(st.floats(0.5, 64), min_size=r // 2, max_size=r // 2)
        sc = {"rope_type": "longrope", "short_factor": draw(lst), "long_factor": draw(lst), "factor": f}
    if kind in ("yarn", "longrope", "dynamic") and orig is not None:
        sc["original_max_position_embeddings"] = orig
    return RopeConfig(head_dim, 10 ** draw(st.floats(0.01, 12)), frac, draw(st.sampled_from(["half", "interleaved"])),
                      sc, ctx)


@settings(max_examples=150)
@given(any_config())
def test_round_trips(cfg):
    d = cfg.to_dict()
    assert RopeConfig(**json.loads(json.dumps(d))) == cfg
    hf = cfg.to_hf_dict()
    back = from_hf_config(hf, layout=cfg.layout)
    assert back == cfg
    assert from_hf_config(json.dumps(hf), layout=cfg.layout) == cfg
    assert hash(back) == hash(cfg)


# -- from_hf_config ---------------------------------------------------------------------------------------------------
LLAMA2_7B = {"hidden_size": 4096, "num_attention_heads": 32, "num_key_value_heads": 32, "max_position_embeddings": 4096,
             "rope_theta": 10000.0, "rope_scaling": None, "model_type": "llama"}
LLAMA31_8B = {"hidden_size": 4096, "num_attention_heads": 32, "num_key_value_heads": 8,
              "max_position_embeddings": 131072, "rope_theta": 500000.0, "model_type": "llama",
              "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                               "original_max_position_embeddings": 8192, "rope_type": "llama3"}}
GEMMA_7B = {"hidden_size": 3072, "num_attention_heads": 16, "head_dim": 256, "max_position_embeddings": 8192,
            "rope_theta": 10000.0, "model_type": "gemma"}
GPT_NEOX_20B = {"hidden_size": 6144, "num_attention_heads": 64, "rotary_pct": 0.25, "rotary_emb_base": 10000,
                "max_position_embeddings": 2048, "model_type": "gpt_neox"}
QWEN25_7B_YARN = {"hidden_size": 3584, "num_attention_heads": 28, "max_position_embeddings": 32768,
                  "rope_theta": 1000000.0, "model_type": "qwen2",
                  "rope_scaling": {"factor": 4.0, "original_max_position_embeddings": 32768, "type": "yarn"}}
PHI3_MINI_128K = {"hidden_size": 3072, "num_attention_heads": 32, "max_position_embeddings": 131072,
                  "original_max_position_embeddings": 4096, "rope_theta": 10000.0, "model_type": "phi3",
                  "rope_scaling": {"type": "longrope", "short_factor": [1.05] * 48, "long_factor": [1.5] * 48}}
DEEPSEEK_V2_LITE = {"hidden_size": 2048, "num_attention_heads": 16, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64,
                    "max_position_embeddings": 163840, "rope_theta": 10000, "model_type": "deepseek_v2",
                    "rope_scaling": {"beta_fast": 32, "beta_slow": 1, "factor": 40, "mscale": 0.707,
                                     "mscale_all_dim": 0.707, "original_max_position_embeddings": 4096,
                                     "type": "yarn"}}


def test_llama2_old_schema():
    cfg = from_hf_config(LLAMA2_7B)
    assert cfg == RopeConfig(128, 10000.0, context_length=4096)


def test_llama31_both_schemas():
    old = from_hf_config(LLAMA31_8B)
    assert old.rope_type == "llama3" and old.head_dim == 128 and old.base == 5e5 and old.context_length == 131072
    assert old.scaling == {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                           "original_max_position_embeddings": 8192}
    new = {k: v for k, v in LLAMA31_8B.items() if k not in ("rope_theta", "rope_scaling")}
    new["rope_parameters"] = {**LLAMA31_8B["rope_scaling"], "rope_theta": 500000.0}
    assert from_hf_config(new) == old
    assert from_hf_config(json.dumps(new)) == old
    assert from_hf_config(json.dumps(new).encode()) == old
    assert from_hf_config(LLAMA31_8B, layout="interleaved") == old.replace(layout="interleaved")


def test_head_dim_explicit_wins_over_hidden_size():
    assert from_hf_config(GEMMA_7B).head_dim == 256      # 3072 // 16 = 192, but Gemma sets head_dim = 256
    assert from_hf_config({**GEMMA_7B, "head_dim": None}).head_dim == 192


def test_gpt_neox_rotary_pct():
    cfg = from_hf_config(GPT_NEOX_20B)
    assert (cfg.head_dim, cfg.rotary_fraction, cfg.rotary_dim, cfg.base, cfg.context_length) == (96, 0.25, 24, 1e4,
                                                                                                  2048)


@pytest.mark.parametrize("where", ["top", "rope_parameters", "rope_scaling"])
def test_partial_rotary_factor_locations(where):
    d = {"hidden_size": 2048, "num_attention_heads": 32, "max_position_embeddings": 2048, "rope_theta": 10000.0}
    if where == "top":
        d["partial_rotary_factor"] = 0.5
    elif where == "rope_parameters":
        d["rope_parameters"] = {"rope_type": "default", "rope_theta": 10000.0, "partial_rotary_factor": 0.5}
    else:
        d["rope_scaling"] = {"type": "linear", "factor": 2.0}
        d["partial_rotary_factor"] = 0.5
    cfg = from_hf_config(d)
    assert cfg.rotary_fraction == 0.5 and cfg.rotary_dim == 32


def test_rope_parameters_theta_wins_over_top_level():
    d = {"head_dim": 64, "rope_theta": 1e4, "rope_parameters": {"rope_type": "default", "rope_theta": 5e5}}
    assert from_hf_config(d).base == 5e5


def test_phi3_top_level_original_and_su():
    cfg = from_hf_config(PHI3_MINI_128K)
    assert cfg.rope_type == "longrope" and cfg.original_context_length == 4096 and cfg.head_dim == 96
    assert cfg.scaling["short_factor"] == (1.05,) * 48


def test_phi3_su_alias_in_config_json():
    su = {**PHI3_MINI_128K, "rope_scaling": {**PHI3_MINI_128K["rope_scaling"], "type": "su"}}
    assert from_hf_config(su) == from_hf_config(PHI3_MINI_128K)


def test_gpt_neox_default_rotary_pct():
    """GPTNeoXConfig uses rotary_pct = 0.25 when config.json omits it; other models rotate the whole head."""
    d = {k: v for k, v in GPT_NEOX_20B.items() if k != "rotary_pct"}
    assert from_hf_config(d).rotary_fraction == 0.25
    assert from_hf_config({**d, "model_type": "llama"}).rotary_fraction == 1.0


def test_qwen_yarn_type_alias():
    cfg = from_hf_config(QWEN25_7B_YARN)
    assert cfg.rope_type == "yarn" and cfg.scaling["factor"] == 4.0 and cfg.head_dim == 128
    assert cfg.original_context_length == 32768


def test_deepseek_rope_head_dim():
    cfg = from_hf_config(DEEPSEEK_V2_LITE)
    assert cfg.head_dim == 64 and cfg.rope_type == "yarn" and cfg.scaling["mscale_all_dim"] == 0.707


def test_nested_and_wrapped_configs():
    gemma3 = {"text_config": {"hidden_size": 2560, "num_attention_heads": 8, "head_dim": 256,
                              "max_position_embeddings": 131072,
                              "rope_parameters": {"full_attention": {"rope_type": "linear", "factor": 8.0,
                                                                     "rope_theta": 1e6},
                                                  "sliding_attention": {"rope_type": "default", "rope_theta": 1e4}}},
              "model_type": "gemma3"}
    cfg = from_hf_config(gemma3)
    assert cfg.base == 1e6 and cfg.rope_type == "linear" and cfg.head_dim == 256


def test_default_rope_type_means_no_scaling():
    d = {"head_dim": 64, "rope_scaling": {"rope_type": "default"}}
    assert from_hf_config(d).scaling is None
    assert from_hf_config({"head_dim": 64, "rope_scaling": {}}).scaling is None
    assert from_hf_config({"head_dim": 64}) == RopeConfig(64)


@pytest.mark.parametrize("src,match", [
    ("{not json", r"config.json must be valid JSON; got: .*, at line 1, column 2"),
    ("", r"config.json must be valid JSON"),
    ("[1, 2]", r"config must be an object \(a JSON \{...\} mapping\); got \[1, 2\]"),
    (42, r"config must be an object \(a JSON \{...\} mapping\); got 42"),
    ({"rope_theta": 1e4}, r"config needs head_dim, or hidden_size and num_attention_heads"),
    ({"hidden_size": 4096, "num_attention_heads": 0}, r"num_attention_heads must be an integer in \[1, 65536\]; got 0"),
    ({"hidden_size": "x", "num_attention_heads": 32}, r"hidden_size must be an integer in \[1, \d+\]; got 'x'"),
    ({"head_dim": 64, "rope_scaling": "yarn"}, r"rope_scaling must be an object"),
    ({"head_dim": 64, "rope_parameters": [1]}, r"rope_parameters must be an object"),
    ({"head_dim": 63}, r"head_dim must be even"),
    ({"head_dim": 64, "rope_theta": 0.5}, r"rope_theta must be a finite number in \(1"),
    ({"head_dim": 64, "rope_scaling": {"type": "magic", "factor": 2}},
     r"rope_type must be one of default, .*; got 'magic'"),
    ({"head_dim": 64, "rope_scaling": {"type": "linear"}}, r"needs key\(s\) factor"),
    ({"head_dim": 64, "rotary_pct": 1.5}, r"partial_rotary_factor must be a finite number in \(0, 1\]"),
])
def test_from_hf_config_bad_input(src, match):
    with pytest.raises(ValueError, match=match):
        from_hf_config(src)


# transformers reads the same numbers from the same dicts
transformers = pytest.importorskip("transformers")


@pytest.mark.parametrize("name,cls_name", [("LLAMA31_8B", "LlamaConfig"), ("GEMMA_7B", "GemmaConfig"),
                                           ("GPT_NEOX_20B", "GPTNeoXConfig"), ("QWEN25_7B_YARN", "Qwen2Config"),
                                           ("PHI3_MINI_128K", "Phi3Config"), ("LLAMA2_7B", "LlamaConfig")])
def test_transformers_reads_the_same(name, cls_name):
    transformers.logging.set_verbosity_error()
    d = globals()[name]
    hf = getattr(transformers, cls_name)(**{k: v for k, v in d.items() if k != "model_type"}, vocab_size=8,
                                         num_hidden_layers=1)
    hf.standardize_rope_params()
    params = hf.rope_parameters
    cfg = from_hf_config(d)
    hd = getattr(hf, "head_dim", None) or hf.hidden_size // hf.num_attention_heads
    assert cfg.head_dim == hd
    assert cfg.base == params["rope_theta"]
    assert cfg.rotary_fraction == params.get("partial_rotary_factor", 1.0)
    assert cfg.context_length == hf.max_position_embeddings
    rope_type = {"su": "longrope"}.get(params["rope_type"], params["rope_type"])
    assert cfg.rope_type == rope_type
    if rope_type in ("yarn", "llama3", "longrope"):
        assert cfg.original_context_length == params["original_max_position_embeddings"]
    for key in ("factor", "low_freq_factor", "high_freq_factor"):
        if key in params:
            assert cfg.scaling[key] == params[key]


# -- configs that crashed analyses are rejected here, naming the field -------------------------------------------------
@pytest.mark.parametrize("kwargs,match", [
    # LongRoPE's attention factor √(1 + ln s / ln L0) divided by ln 1 = 0
    (dict(head_dim=64, context_length=4096, scaling={**_longrope(), "original_max_position_embeddings": 1}),
     r"^original_max_position_embeddings must be an integer in \[2, 16777216\]; got 1$"),
    (dict(head_dim=64, context_length=4096, scaling={"rope_type": "yarn", "factor": 4.0,
                                                     "original_max_position_embeddings": 1}),
     r"^original_max_position_embeddings must be an integer in \[2, 16777216\]; got 1$"),
    # a 1-token context has no distance Δ ≥ 1 (the Context-extension score figure divided by zero)
    (dict(head_dim=64, context_length=1, scaling={"rope_type": "linear", "factor": 4.0}),
     r"^context_length must be an integer in \[2, 16777216\]; got 1$"),
    (dict(head_dim=64, context_length=1), r"^context_length must be an integer in \[2, 16777216\]; got 1$"),
])
def test_configs_that_crashed_analyses_are_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RopeConfig(**kwargs)
    hf = {"head_dim": kwargs["head_dim"], "max_position_embeddings": kwargs["context_length"],
          "rope_scaling": kwargs.get("scaling") and dict(kwargs["scaling"])}
    with pytest.raises(ValueError, match=match.replace("context_length", "max_position_embeddings")):
        from_hf_config(hf)


def test_smallest_accepted_configs_work_in_every_analysis():
    """At the new lower bounds (context 2, original context 2) the frequencies and the attention factor are finite."""
    from rope_viz.frequencies import effective_parameters
    for cfg in (RopeConfig(64, context_length=2, scaling={"rope_type": "linear", "factor": 4.0}),
                RopeConfig(64, context_length=16, scaling={**_longrope(), "original_max_position_embeddings": 2}),
                RopeConfig(64, context_length=16, scaling={"rope_type": "yarn", "factor": 8.0,
                                                           "original_max_position_embeddings": 2})):
        inv, af = effective_parameters(cfg)
        assert np.all(np.isfinite(inv)) and np.isfinite(af) and af > 0


def test_scaling_is_an_immutable_hashable_mapping():
    cfg = RopeConfig(64, scaling={"rope_type": "linear", "factor": 2})
    sc = cfg.scaling
    assert sc["factor"] == 2.0 and sc.get("missing") is None and dict(sc) == {"rope_type": "linear", "factor": 2.0}
    assert {**sc, "factor": 4.0}["factor"] == 4.0 and sc == {"rope_type": "linear", "factor": 2.0}
    assert hash(sc) == hash(RopeConfig(64, scaling={"factor": 2.0, "type": "linear"}).scaling)
    with pytest.raises(TypeError):
        sc["factor"] = 3.0
    with pytest.raises(AttributeError):
        sc._items = {}
    import pickle
    assert pickle.loads(pickle.dumps(cfg)) == cfg and {cfg: 1}[RopeConfig(**cfg.to_dict())] == 1
    assert json.loads(json.dumps(cfg.to_dict()))["scaling"] == {"rope_type": "linear", "factor": 2.0}


@given(st.floats(min_value=1.0001, max_value=1e12, allow_nan=False))
def test_format_base_reads_back_and_has_no_plus_exponent(b):
    """Bases are shown as 10000, 500000, 1e6, 1e9 — never Python's "1e+09" (the sidebar slider, every figure title
    through RopeConfig.label, the Context extension page); the text reads back to the base at its precision."""
    from rope_viz.config import format_base

    for digits in (2, 3, 4, 6):
        text = format_base(b, digits)
        assert "+" not in text and "e0" not in text and "e-0" not in text and "," not in text
        assert float(text) == pytest.approx(b, rel=10.0 ** (1 - digits))
        assert ("e" in text) == (float(text) >= 1e6)          # one notation per magnitude: 27200, never 2.7e4
    assert RopeConfig(128, base=1e9).label().startswith("d=128 base=1e9 ")
    assert RopeConfig(128, base=5e5).label().startswith("d=128 base=500000 ")


@given(st.floats(1.0001, 1e12), st.integers(2, 8))
def test_a_minimum_base_is_written_rounded_up(x, digits):
    """"needs base ≥ 26950" for an exact bound of 26,952.4 (and 4.869e6 for 4.8691e6): the base written fails its
    own bound. The written value is ≥ the bound and within one unit of its last significant digit."""
    from rope_viz.config import format_min_base
    text = format_min_base(x, digits)
    shown = float(text)
    assert shown >= x, (x, text)
    assert shown - x <= 10 ** (math.floor(math.log10(x)) - digits + 1) * (1 + 1e-9), (x, text)
    assert "e+" not in text and "," not in text
