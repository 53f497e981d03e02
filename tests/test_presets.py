"""rope_viz.presets: the published values (written here independently, from the copies of the published config.json
files that the sources name, and from the papers), the reader round trips, the source of every value, and
transformers' own config classes + rope init functions as the oracle."""

from __future__ import annotations

import hashlib
import json
import math
import re

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
    "phi-3-mini-128k-2404": (96, 96, 1e4, 131072, "longrope", {"original_max_position_embeddings": 4096}),
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


@pytest.mark.parametrize("name", ["phi-3-mini-128k", "phi-3-mini-128k-2404"])
def test_phi3_longrope_lists(name):
    sc = get_preset(name).config.scaling
    for key in ("short_factor", "long_factor"):
        f = np.asarray(sc[key])
        assert f.shape == (48,)                      # head_dim 96 / 2
        assert np.all(f >= 1.0)                      # LongRoPE rescales, never speeds up (λ_i ≥ 1)
        assert np.all(np.diff(f) >= 0)               # LongRoPE's monotone constraint λ_i ≤ λ_{i+1}
    assert sc["long_factor"][-1] > 32 > sc["short_factor"][-1]   # long factors reach beyond s = 32 at low freq


def _sha256(values) -> str:
    return hashlib.sha256(json.dumps(values).encode()).hexdigest()


# SHA-256 of json.dumps(list) of each published factor list, computed from the copies the preset sources name (not
# from rope_viz): the June 2024 update from sdpython/onnx-diagnostic's cached Hub config.json, the first release
# from joecummings/torchtune's phi3 builders. Spot values are typed from the same copies.
PHI3_PUBLISHED = {
    "phi-3-mini-128k": {
        "type": "longrope",
        "long_factor": ("df38cbf4debb3a33b4fddd30ae0036b3e7b8eed28372856c8094cf8b4c62e252",
                        {0: 1.0700000524520874, 18: 37.279998779296875, 47: 64.76000213623047}),
        "short_factor": ("43ec4fe76f348f4fdbf1b4f956d2396224be39a4b7dfb818c2a4df92c9f727b9",
                         {0: 1.1, 3: 1.3000000000000003, 47: 3.049999999999997}),
    },
    "phi-3-mini-128k-2404": {
        "type": "su",
        "long_factor": ("80ac7dc63eb7b124a15ba6c34f0c466d37937dabc0bd6a98a8c625cc4bdd2371",
                        {0: 1.0299999713897705, 29: 53.840003967285156, 47: 64.81001281738281}),
        "short_factor": ("3383f5a77934ca74e836e1cd26082c8cbadca1aa5c37d1a68573a08a4f97760d",
                         {5: 1.1500000000000001, 10: 1.5000000000000004, 47: 2.9499999999999975}),
    },
}
# Phi-3-vision-128k-instruct's short_factor list (huggingface/diffusers tests/pipelines/omnigen copy): the list the
# Phi-3-mini preset carried by mistake before (23 of 48 entries differ from Phi-3-mini's first release).
PHI3_VISION_SHORT_SHA256 = "b25a0133859437e20c1b51187fdfffe6022c36d0ee1816bde1ee8db3dc403d53"


@pytest.mark.parametrize("name", sorted(PHI3_PUBLISHED))
def test_phi3_factor_lists_are_the_published_ones(name):
    sc = get_preset(name).hf_config["rope_scaling"]
    want = PHI3_PUBLISHED[name]
    assert sc["type"] == want["type"]
    for key in ("long_factor", "short_factor"):
        digest, spots = want[key]
        assert _sha256(sc[key]) == digest, key
        for i, v in spots.items():
            assert sc[key][i] == v, (key, i)
        assert _sha256(sc[key]) != PHI3_VISION_SHORT_SHA256, "Phi-3-vision's list in a Phi-3-mini preset"


def test_phi3_revisions_differ_where_published():
    # The June 2024 update re-trained with new lists: every long factor and 33 of 48 short factors changed.
    new = get_preset("phi-3-mini-128k").hf_config["rope_scaling"]
    old = get_preset("phi-3-mini-128k-2404").hf_config["rope_scaling"]
    assert sum(a != b for a, b in zip(new["long_factor"], old["long_factor"])) == 48
    assert sum(a != b for a, b in zip(new["short_factor"], old["short_factor"])) == 33
    for name in PHI3_PUBLISHED:
        assert "2024" in get_preset(name).revision


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


# a copy is cited as github.com/<owner>/<repo> <path> @ <12 hex digits of the commit>
COPY_CITATION = re.compile(r"checked against github\.com/[\w.-]+/[\w.-]+ \S+ @ [0-9a-f]{12}")


@pytest.mark.parametrize("name", preset_names())
def test_every_value_has_a_source(name):
    p = get_preset(name)
    assert set(p.sources) == set(p.hf_config)
    for key, src in p.sources.items():
        assert isinstance(src, str) and len(src) > 20, key
        assert p.repo_id in src or "arXiv" in src or "documentation" in src, (key, src)
        # every value was compared with a public copy of the published file, named by repository, path and commit
        assert COPY_CITATION.search(src), (key, src)
        assert "memory" not in src.lower() and "not verified" not in src.lower(), (key, src)
    assert p.title and p.notes and "/" in p.repo_id and p.revision


def test_source_strings_state_the_value():
    # the source of a scalar names the value it vouches for, so an edited value no longer matches its source
    for p in PRESETS.values():
        for key, value in p.hf_config.items():
            if isinstance(value, (int, float, str)) and p.sources[key].startswith("https://huggingface.co/"):
                assert f"`{key}` = {json.dumps(value)}:" in p.sources[key], (p.name, key)


def test_no_unverified_marker_left():
    import rope_viz.presets as module
    text = open(module.__file__, encoding="utf-8").read().lower()
    assert "from memory" not in text and "not verified" not in text


def test_get_preset_lookup():
    assert get_preset("LLAMA-3.1-8B") is PRESETS["llama-3.1-8b"]
    assert get_preset("Llama 3.1 8B Instruct") is PRESETS["llama-3.1-8b"]
    assert get_preset("meta-llama/Llama-3.1-8B-Instruct") is PRESETS["llama-3.1-8b"]
    assert get_preset("microsoft/Phi-3-mini-128k-instruct") is PRESETS["phi-3-mini-128k"]   # the current revision
    assert get_preset("deepseek-ai/DeepSeek-V2-Lite") is PRESETS["deepseek-v2-lite"]
    with pytest.raises(ValueError, match="preset must be one of .*llama-3.1-8b.*; got 'gpt-5'"):
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
MODEL_TYPES = {"gpt-neox-20b": "gpt_neox", "phi-3-mini-128k": "phi3", "phi-3-mini-128k-2404": "phi3",
               "deepseek-v2-lite": "deepseek_v2", "gemma-2-9b": "gemma2", "qwen2.5-7b": "qwen2",
               "qwen2.5-7b-yarn": "qwen2", "mistral-7b-v0.1": "mistral", "mistral-7b-v0.2": "mistral",
               "mixtral-8x7b": "mixtral"}


@pytest.fixture(scope="module")
def hf():
    pytest.importorskip("transformers")
    import hf_reference
    return hf_reference


@pytest.mark.parametrize("name", preset_names())
def test_matches_transformers(name, hf):
    # transformers' config class reads the same hf_config dict; its rope init function, run in float64 (same code),
    # gives rope_viz's inv_freq to 1e-12, and as published (float32) to within its float32 rounding bound.
    p = get_preset(name)
    config = hf.hf_config(p.hf_config, MODEL_TYPES.get(name, "llama"))
    assert config.rope_parameters.get("rope_type", "default") == p.config.rope_type
    orig = p.config.original_context_length
    for seq_len in (None, orig, orig + 1, p.config.context_length + 1000):
        ours = inv_freq(p.config, seq_len)
        t64, af64 = hf.hf_inv_freq(config, seq_len, float64=True)
        t32, af32 = hf.hf_inv_freq(config, seq_len)
        np.testing.assert_allclose(ours, t64, rtol=1e-12, atol=0)
        bound = hf.float32_bound(p.config.rope_type, config.rope_parameters, dim=p.config.rotary_dim,
                                 max_position=config.max_position_embeddings, seq_len=seq_len)
        assert np.all(np.abs(t32 / t64 - 1) <= bound)
        assert attention_factor(p.config, seq_len) == pytest.approx(af64, rel=1e-15) == af32
