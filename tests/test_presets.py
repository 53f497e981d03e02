"""rope_viz.presets: the published values (written here independently, from the issue and the papers), the reader
round trips, the source of every value, and transformers' own config classes + rope init functions as the oracle."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest

from rope_viz.config import from_hf_config
from rope_viz.frequencies import attention_factor, frequency_ratio, inv_freq
from rope_viz.presets import PRESETS, Preset, get_preset, preset_names, scaling_text

# name -> (head_dim, rotary_dim, base, context_length, rope_type, scaling keys that must match)
EXPECTED = {
    "gpt-neox-20b": (96, 24, 1e4, 2048, "default", {}),
    "llama-2-7b": (128, 128, 1e4, 4096, "default", {}),
    "code-llama-7b": (128, 128, 1e6, 16384, "default", {}),
    "llama-3-8b": (128, 128, 5e5, 8192, "default", {}),
    "llama-3.1-8b": (128, 128, 5e5, 131072, "llama3",
                     {"factor": 8, "low_freq_factor": 1, "high_freq_factor": 4,
                      "original_max_position_embeddings": 8192}),
    "llama-3.2-1b": (64, 64, 5e5, 131072, "llama3",
                     {"factor": 32, "low_freq_factor": 1, "high_freq_factor": 4,
                      "original_max_position_embeddings": 8192}),
    "mistral-7b-v0.1": (128, 128, 1e4, 32768, "default", {}),
    "mistral-7b-v0.2": (128, 128, 1e6, 32768, "default", {}),
    "mixtral-8x7b": (128, 128, 1e6, 32768, "default", {}),
    "qwen2.5-7b": (128, 128, 1e6, 32768, "default", {}),
    "qwen2.5-7b-yarn": (128, 128, 1e6, 131072, "yarn", {"factor": 4, "original_max_position_embeddings": 32768}),
    "gemma-2-9b": (256, 256, 1e4, 8192, "default", {}),
    "phi-3-mini-128k": (96, 96, 1e4, 131072, "longrope", {"original_max_position_embeddings": 4096}),
    "deepseek-v2-lite": (64, 64, 1e4, 163840, "yarn",
                         {"factor": 40, "original_max_position_embeddings": 4096, "beta_fast": 32, "beta_slow": 1,
                          "mscale": 0.707, "mscale_all_dim": 0.707}),
}


def test_required_models_present():
    assert set(EXPECTED) <= set(preset_names())
    assert len(preset_names()) >= 10
    assert preset_names() == list(PRESETS)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_published_values(name):
    head_dim, rdim, base, ctx, rope_type, scaling = EXPECTED[name]
    p = get_preset(name)
    cfg = p.config
    assert isinstance(p, Preset) and p.name == name
    assert (cfg.head_dim, cfg.rotary_dim, cfg.base, cfg.context_length, cfg.rope_type) == (head_dim, rdim, base,
                                                                                           ctx, rope_type)
    assert cfg.layout == "half"   # transformers checkpoints
    for k, v in scaling.items():
        assert cfg.scaling[k] == v, k


def test_phi3_longrope_lists():
    sc = get_preset("phi-3-mini-128k").config.scaling
    for key in ("short_factor", "long_factor"):
        f = np.asarray(sc[key])
        assert f.shape == (48,)                      # head_dim 96 / 2
        assert np.all(f >= 1.0)                      # LongRoPE rescales, never speeds up (λ_i ≥ 1)
        assert np.all(np.diff(f) >= 0)               # LongRoPE's monotone constraint λ_i ≤ λ_{i+1}
    assert sc["long_factor"][-1] > 32 > sc["short_factor"][-1]   # long factors reach beyond s = 32 at low freq


def test_attention_factors_closed_form():
    # YaRN default: 0.1 ln s + 1 (YaRN Eq. 22); DeepSeek: mscale(s, .707)/mscale(s, .707) = 1;
    # LongRoPE: sqrt(1 + ln s / ln L), s = 131072/4096 = 32.
    assert attention_factor(get_preset("qwen2.5-7b-yarn").config) == pytest.approx(0.1 * math.log(4) + 1, rel=1e-15)
    assert attention_factor(get_preset("deepseek-v2-lite").config) == 1.0
    af = attention_factor(get_preset("phi-3-mini-128k").config)
    assert af == pytest.approx(math.sqrt(1 + math.log(32) / math.log(4096)), rel=1e-15)


def test_llama31_pair_ranges_from_literature():
    # rope-literature.md §5e (d = 128, base 5e5): pairs 0–28 unchanged, 29–34 blended with ratio θ'/θ =
    # 0.8282, 0.6437, 0.4935, 0.3711, 0.2714, 0.1902, pairs 35–63 divided by 8.
    r = frequency_ratio(get_preset("llama-3.1-8b").config)
    assert np.all(r[:29] == 1.0)
    np.testing.assert_allclose(r[29:35], [0.8282, 0.6437, 0.4935, 0.3711, 0.2714, 0.1902], atol=5e-5)
    np.testing.assert_allclose(r[35:], 1 / 8, rtol=1e-15)


@pytest.mark.parametrize("name", preset_names())
def test_reader_round_trips(name):
    p = get_preset(name)
    assert from_hf_config(json.dumps(p.hf_config)) == p.config          # JSON text path of the reader
    assert from_hf_config(p.config.to_hf_dict()) == p.config            # transformers >= 5 schema
    json.dumps(p.hf_config)                                             # JSON-serialisable as published


@pytest.mark.parametrize("name", preset_names())
def test_every_value_has_a_source(name):
    p = get_preset(name)
    assert set(p.sources) == set(p.hf_config)
    for key, src in p.sources.items():
        assert isinstance(src, str) and len(src) > 20, key
        assert p.repo_id in src or "arXiv" in src or "model card" in src, (key, src)
        # every source says how it was checked here: against a vendored copy, or honestly not at all
        assert "checked against" in src or "not verified" in src, (key, src)
    assert p.title and p.notes and "/" in p.repo_id


def test_get_preset_lookup():
    assert get_preset("LLAMA-3.1-8B") is PRESETS["llama-3.1-8b"]
    assert get_preset("Llama 3.1 8B") is PRESETS["llama-3.1-8b"]
    assert get_preset("deepseek-ai/DeepSeek-V2-Lite") is PRESETS["deepseek-v2-lite"]
    with pytest.raises(ValueError, match="unknown preset 'gpt-5'.*llama-3.1-8b"):
        get_preset("gpt-5")
    with pytest.raises(ValueError):
        get_preset("")
    with pytest.raises(ValueError):
        get_preset(None)


def test_summary_and_scaling_text():
    s = get_preset("llama-3.1-8b").summary()
    assert s["head_dim"] == 128 and s["context_length"] == 131072 and s["original_context_length"] == 8192
    assert scaling_text(get_preset("llama-2-7b").config) == "none"
    assert scaling_text(get_preset("phi-3-mini-128k").config).startswith("longrope ×32")
    json.dumps([p.summary() for p in PRESETS.values()])


# -- transformers as the oracle: its own config classes read each preset's config.json values ------------------
MODEL_TYPES = {"gpt-neox-20b": "gpt_neox", "phi-3-mini-128k": "phi3", "deepseek-v2-lite": "deepseek_v2",
               "gemma-2-9b": "gemma2", "qwen2.5-7b": "qwen2", "qwen2.5-7b-yarn": "qwen2",
               "mistral-7b-v0.1": "mistral", "mistral-7b-v0.2": "mistral", "mixtral-8x7b": "mixtral"}


@pytest.fixture(scope="module")
def hf():
    transformers = pytest.importorskip("transformers")
    from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS
    return transformers.AutoConfig, ROPE_INIT_FUNCTIONS


@pytest.mark.parametrize("name", preset_names())
def test_matches_transformers(name, hf):
    AutoConfig, init_fns = hf
    p = get_preset(name)
    values = copy.deepcopy(p.hf_config)
    sc = values.get("rope_scaling") or {}
    if sc.get("type") == "su":
        # transformers 5.23's Phi3Config renames the legacy "su" to "longrope" only after standardising, so it then
        # misses original_max_position_embeddings; the rename up front is what its converter intends.
        sc["type"] = "longrope"
    config = AutoConfig.for_model(MODEL_TYPES.get(name, "llama"), **values)
    rope_type = config.rope_parameters.get("rope_type", "default")
    assert rope_type == p.config.rope_type
    if rope_type == "default":
        # transformers' 'linear' init with factor 1 is its default inv_freq (partial rotary included); this avoids
        # importing a modeling module just for compute_default_rope_parameters (seconds on the CI machine).
        config.rope_parameters = {**config.rope_parameters, "rope_type": "linear", "factor": 1.0}
        rope_type = "linear"
    for seq_len in (None, p.config.context_length + 1000):
        theirs, their_af = init_fns[rope_type](config, None, seq_len=seq_len)
        ours = inv_freq(p.config, seq_len)
        np.testing.assert_allclose(ours, theirs.double().numpy(), rtol=2e-6)
        assert attention_factor(p.config, seq_len) == pytest.approx(float(their_af), rel=2e-6)
