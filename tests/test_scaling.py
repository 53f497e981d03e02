"""rope_viz.scaling.extend against transformers (the equivalent rope_parameters written by hand here) and closed forms.

For each method the extended config's effective frequencies (over its own, longer context) must equal what
transformers computes for a model of pre-training length L0 run on s·L0 tokens. "ntk" is not in transformers: YaRN
Eq. 16's closed form. "dynamic" follows transformers' rule at seq_len = the target context.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rope_viz import METHODS, SCALING_LABELS, RopeConfig, extend, synth_longrope_factors
from rope_viz.config import CONTEXT_MAX, SCALING_TYPES
from rope_viz.frequencies import effective_parameters

from naive import naive_theta  # tests/ is on sys.path (conftest.py)

pytest.importorskip("transformers")
from test_frequencies import check_against_transformers  # noqa: E402


def _hf_equivalent(cfg: RopeConfig, method: str, s: float, L0: int) -> tuple[dict, int]:
    """The transformers config.json (old schema, by hand) of the base model extended with ``method``, and the
    seq_len transformers must be run at."""
    target = int(round(s * L0))
    hf = {"head_dim": cfg.head_dim, "rope_theta": cfg.base, "max_position_embeddings": target}
    if cfg.rotary_fraction != 1.0:
        hf["partial_rotary_factor"] = cfg.rotary_fraction
    p = cfg.n_pairs
    ramp = [1.0] if p == 1 else [1.0 + (s - 1.0) * i / (p - 1) for i in range(p)]
    hf["rope_scaling"] = {
        "none": None,
        "linear": {"type": "linear", "factor": s},
        "dynamic": {"type": "dynamic", "factor": s},
        "yarn": {"type": "yarn", "factor": s, "original_max_position_embeddings": L0},
        "llama3": {"type": "llama3", "factor": s, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                   "original_max_position_embeddings": L0},
        "longrope": {"type": "longrope", "factor": s, "short_factor": [1.0] * p, "long_factor": ramp,
                     "original_max_position_embeddings": L0},
    }[method]
    if method == "dynamic":
        hf["max_position_embeddings"] = L0    # transformers' dynamic rule measures growth against it
    return hf, target


@st.composite
def base_and_factor(draw):
    head_dim = draw(st.sampled_from([32, 64, 96, 128, 256]))
    frac = draw(st.sampled_from([1.0, 0.5, 0.25]))
    assume(int(head_dim * frac) >= 4)
    base = 10 ** draw(st.floats(2.0, 8.0))
    L0 = draw(st.sampled_from([2048, 4096, 8192, 32768]))
    s = draw(st.one_of(st.sampled_from([1.0, 2.0, 4.0, 8.0, 32.0]), st.floats(1.0, 64.0)))
    return RopeConfig(head_dim, base, frac, context_length=L0), s


@pytest.mark.parametrize("method", [m for m in METHODS if m != "ntk"])
@settings(max_examples=25)
@given(bs=base_and_factor())
def test_extend_matches_transformers(method, bs):
    cfg, s = bs
    ext = extend(cfg, method, s)
    hf, target = _hf_equivalent(cfg, method, s, cfg.context_length)
    assert ext.context_length == target
    if method in ("dynamic", "yarn", "llama3", "longrope"):
        assert ext.original_context_length == cfg.context_length
    assert ext.rope_type == ("default" if method == "none" else method)
    check_against_transformers(ext, hf, target, ours=effective_parameters(ext))


@settings(max_examples=25)
@given(bs=base_and_factor())
def test_extend_ntk_closed_form(bs):
    """YaRN Eq. 16: b' = b·s^(r/(r−2)); no dependence on the sequence length."""
    cfg, s = bs
    ext = extend(cfg, "ntk", s)
    r = cfg.rotary_dim
    inv, af = effective_parameters(ext)
    np.testing.assert_allclose(inv, naive_theta(cfg.base * s ** (r / (r - 2)), r), rtol=1e-12)
    assert af == 1.0


@pytest.mark.parametrize("s", [2.0, 4.0, 8.0])
def test_extend_dynamic_slows_the_slowest_pair_by_s2_minus_s_plus_1(s):
    """transformers' rule at seq_len = s·L0: b' = b·(s² − s + 1)^(r/(r−2)), so θ_slowest / θ'_slowest = s² − s + 1
    (13 at s = 4), where PI and NTK slow it by s."""
    cfg = RopeConfig(128, 1e4, context_length=4096)
    ratio = naive_theta(1e4, 128)[-1] / effective_parameters(extend(cfg, "dynamic", s))[0][-1]
    assert ratio == pytest.approx(s * s - s + 1, rel=1e-12)


def test_extend_none_keeps_the_frequencies():
    cfg = RopeConfig(64, 5e5, 0.5, "interleaved", context_length=8192)
    ext = extend(cfg, "none", 4)
    assert ext == cfg.replace(context_length=32768)


def test_extend_uses_the_pre_training_context_of_a_scaled_config():
    """A Llama 3.1-style config (8K pre-training, 128K context) is extended from 8K, with its own scaling dropped."""
    llama31 = RopeConfig(128, 5e5, scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                            "high_freq_factor": 4.0, "original_max_position_embeddings": 8192},
                         context_length=131072)
    ext = extend(llama31, "linear", 16)
    assert ext == RopeConfig(128, 5e5, scaling={"rope_type": "linear", "factor": 16.0}, context_length=131072)
    assert extend(llama31, "yarn", 2, original_context=1000).context_length == 2000
    assert extend(llama31, "llama3", 16) == llama31.replace(scaling={**llama31.scaling, "factor": 16.0})


def test_methods_and_labels():
    assert METHODS == ("none",) + SCALING_TYPES
    assert all(SCALING_LABELS[None if m == "none" else m] for m in METHODS)


@pytest.mark.parametrize("args,match", [
    (("magic", 2.0), r"method must be one of none, linear, .*; got 'magic'"),
    ((["yarn"], 2.0), r"method must be one of"),
    (("yarn", 0.5), r"factor must be a finite number in \[1, 1024\]; got 0.5"),
    (("yarn", float("nan")), r"factor must be a finite number"),
    (("yarn", "2"), r"factor must be a finite number"),
    (("linear", 1024.0), r"factor × original context must be ≤ 16777216 tokens; got 1024 × 32768"),
])
def test_extend_rejects_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        extend(RopeConfig(64, context_length=32768), *args)


def test_extend_rejects_bad_original_context_and_config():
    with pytest.raises(ValueError, match=r"original_context must be an integer in \[2, 16777216\]; got 1"):
        extend(RopeConfig(64), "yarn", 2, original_context=1)
    with pytest.raises(ValueError, match="cfg must be a RopeConfig"):
        extend({"head_dim": 64}, "yarn", 2)


@settings(max_examples=60)
@given(st.integers(1, 512), st.floats(1.0, 1024.0))
def test_synth_longrope_factors(p, s):
    short, long = synth_longrope_factors(p, s)
    assert len(short) == len(long) == p and set(short) == {1.0}
    assert long[0] == (s if p == 1 else 1.0) and long[-1] == pytest.approx(s, rel=1e-15)
    assert all(b >= a for a, b in zip(long, long[1:]))
    if p > 2:  # linear in the pair index
        np.testing.assert_allclose(np.diff(long), (s - 1) / (p - 1), rtol=1e-9, atol=1e-12)


def test_extend_longrope_attention_factor():
    """√(1 + ln s / ln L0) (LongRoPE, arXiv:2402.13753), with the explicit factor s."""
    ext = extend(RopeConfig(96, context_length=4096), "longrope", 32)
    assert effective_parameters(ext)[1] == pytest.approx(math.sqrt(1 + math.log(32) / math.log(4096)), rel=1e-14)
    assert ext.context_length <= CONTEXT_MAX


@given(st.integers(1, 128), st.floats(1.0, 1024.0))
@settings(max_examples=60, deadline=None)
def test_stand_in_longrope_lists_are_recognised_and_searched_ones_are_not(n_pairs, factor):
    """The sidebar's and extend's LongRoPE lists are ``synth_longrope_factors``' ramp; the Context extension caption
    called them "the config's own searched lists". A ramp of any end is a stand-in; a list changed in one place is
    not; other rope types never are."""
    from rope_viz.scaling import has_stand_in_longrope_factors, synth_longrope_factors
    short, long = synth_longrope_factors(n_pairs, factor)
    sc = {"rope_type": "longrope", "short_factor": list(short), "long_factor": list(long),
          "original_max_position_embeddings": 4096}
    cfg = RopeConfig(2 * n_pairs, context_length=8192, scaling=sc)
    assert has_stand_in_longrope_factors(cfg)
    bent = list(long)
    bent[len(bent) // 2] *= 1.01
    if n_pairs > 2 and factor > 1.01:
        assert not has_stand_in_longrope_factors(cfg.replace(scaling={**sc, "long_factor": bent}))
    assert not has_stand_in_longrope_factors(cfg.replace(scaling={**sc, "short_factor": [1.05] * n_pairs}))
    assert not has_stand_in_longrope_factors(RopeConfig(2 * n_pairs))


def test_searched_longrope_lists_are_not_a_stand_in():
    from rope_viz.figures import caption_of, get_figure
    from rope_viz.presets import get_preset
    from rope_viz.scaling import extend, has_stand_in_longrope_factors
    phi = get_preset("phi-3-mini-128k").config
    assert not has_stand_in_longrope_factors(phi)
    assert "the config's own searched lists" in caption_of("ext_ratio", get_figure("ext_ratio").fn(phi))
    ramp = extend(RopeConfig(96, context_length=4096), "longrope", 32)
    text = caption_of("ext_ratio", get_figure("ext_ratio").fn(ramp))
    assert "searched lists" not in text and "a synthetic ramp 1 → s" in text
