"""Presets: the RoPE settings of real models, each value with its source.

Every preset is stored as the RoPE-relevant part of the model's ``config.json`` (``hf_config``, the keys and values as
published on the Hugging Face Hub) and turned into a :class:`~rope_viz.config.RopeConfig` by
:func:`~rope_viz.config.from_hf_config` — so the presets double as a test of that reader (both schemas: the older
``rope_theta`` + ``rope_scaling`` with ``type``/``rope_type``, GPT-NeoX's ``rotary_pct``/``rotary_emb_base``, Phi-3's
top-level ``original_max_position_embeddings`` and ``"su"``, transformers ≥ 5 ``rope_parameters``, DeepSeek's
``qk_rope_head_dim``).

``Preset.sources`` maps each ``hf_config`` key to where its value comes from: the model's config.json on the Hub (repo
id + key), or a paper / model card. This project has no internet access, so every source string also says how the
value was checked here:

* "checked against a copy ..." — the value was compared with a copy of that config.json vendored in a public GitHub
  repository (found with a code search), which may be an older revision than the Hub's current file;
* "from memory; not verified" — written from knowledge of the published file and not checked against any copy.
  Treat such values as likely but unconfirmed.

Names are lowercase slugs (``llama-3.1-8b``); :func:`get_preset` also accepts the display title and any case.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Mapping

from .config import RopeConfig, from_hf_config

_MEM = "from memory; not verified"


@dataclass(frozen=True, eq=False)
class Preset:
    """A real model's RoPE setup.

    Attributes:
        name: slug used by the CLI, the URL (``?preset=...``) and the sidebar, e.g. ``"llama-3.1-8b"``.
        config: the RopeConfig built from ``hf_config`` by ``from_hf_config``.
        hf_config: the RoPE-relevant keys of the model's config.json, values as published (read-only by convention;
            ``get_preset`` hands out the shared object, copy before editing).
        sources: ``hf_config`` key → where that value comes from and how it was checked (see the module docstring).
        notes: what is special about this model's RoPE, in a sentence or two.
        title: a display name, e.g. ``"Llama 3.1 8B"``.
        repo_id: the Hugging Face Hub repository whose config.json the values come from.
    """

    name: str
    config: RopeConfig
    hf_config: dict
    sources: dict
    notes: str = ""
    title: str = ""
    repo_id: str = ""

    def summary(self) -> dict[str, Any]:
        """One row for listings (CLI ``presets``, tables): name, title, repo_id, head_dim, rotary_dim, base,
        rope_type, scaling (short text), context_length, original_context_length."""
        cfg = self.config
        return {
            "name": self.name,
            "title": self.title,
            "repo_id": self.repo_id,
            "head_dim": cfg.head_dim,
            "rotary_dim": cfg.rotary_dim,
            "base": cfg.base,
            "rope_type": cfg.rope_type,
            "scaling": scaling_text(cfg),
            "context_length": cfg.context_length,
            "original_context_length": cfg.original_context_length,
        }


def scaling_text(cfg: RopeConfig) -> str:
    """A short description of cfg's scaling, e.g. ``"none"``, ``"llama3 ×8 (from 8,192)"``, ``"longrope ×32 (from
    4,096)"``."""
    if cfg.scaling is None:
        return "none"
    sc = cfg.scaling
    factor = sc.get("factor")
    if factor is None and cfg.rope_type == "longrope":
        factor = cfg.context_length / cfg.original_context_length
    text = cfg.rope_type + (f" ×{factor:g}" if factor is not None else "")
    if "original_max_position_embeddings" in sc:
        text += f" (from {int(sc['original_max_position_embeddings']):,})"
    return text


def _sources(repo: str, hf: Mapping[str, Any], checked: str | None, **overrides: str) -> dict[str, str]:
    """Source strings for every key of ``hf``: ``<repo> config.json `key` `` + how it was checked (``checked`` for
    values compared with a vendored copy, else "from memory; not verified"); ``overrides`` replace single keys."""
    status = checked if checked else _MEM
    out = {k: f"https://huggingface.co/{repo} config.json `{k}` ({status})" for k in hf}
    out.update(overrides)
    missing = set(out) - set(hf)
    if missing:  # a source for a key that is not in the config would be a typo
        raise AssertionError(f"sources for keys not in hf_config: {sorted(missing)}")
    return out


# -- the published values ---------------------------------------------------------------------------------------------
# Phi-3 LongRoPE factor lists (48 = head_dim 96 / 2 entries each), as in the config.json with rope_scaling type "su"
# and transformers_version 4.38.1.
_PHI3_LONG = [
    1.0299999713897705, 1.0499999523162842, 1.0499999523162842, 1.0799999237060547, 1.2299998998641968,
    1.2299998998641968, 1.2999999523162842, 1.4499999284744263, 1.5999999046325684, 1.6499998569488525,
    1.8999998569488525, 2.859999895095825, 3.68999981880188, 5.419999599456787, 5.489999771118164,
    5.489999771118164, 9.09000015258789, 11.579999923706055, 15.65999984741211, 15.769999504089355,
    15.789999961853027, 18.360000610351562, 21.989999771118164, 23.079999923706055, 30.009998321533203,
    32.35000228881836, 32.590003967285156, 35.56000518798828, 39.95000457763672, 53.840003967285156,
    56.20000457763672, 57.95000457763672, 59.29000473022461, 59.77000427246094, 59.920005798339844,
    61.190006256103516, 61.96000671386719, 62.50000762939453, 63.3700065612793, 63.48000717163086,
    63.48000717163086, 63.66000747680664, 63.850006103515625, 64.08000946044922, 64.760009765625,
    64.80001068115234, 64.81001281738281, 64.81001281738281,
]
_PHI3_SHORT = [
    1.05, 1.05, 1.05, 1.1, 1.1, 1.1, 1.2500000000000002, 1.2500000000000002, 1.4000000000000004,
    1.4500000000000004, 1.5500000000000005, 1.8500000000000008, 1.9000000000000008, 2.000000000000001,
    2.000000000000001, 2.000000000000001, 2.000000000000001, 2.000000000000001, 2.000000000000001,
    2.000000000000001, 2.000000000000001, 2.000000000000001, 2.000000000000001, 2.000000000000001,
    2.000000000000001, 2.000000000000001, 2.000000000000001, 2.000000000000001, 2.000000000000001,
    2.000000000000001, 2.000000000000001, 2.000000000000001, 2.1000000000000005, 2.1000000000000005, 2.2,
    2.3499999999999996, 2.3499999999999996, 2.3499999999999996, 2.3499999999999996, 2.3999999999999995,
    2.3999999999999995, 2.6499999999999986, 2.6999999999999984, 2.8999999999999977, 2.9499999999999975,
    3.049999999999997, 3.049999999999997, 3.049999999999997,
]

_LLAMA_7B_SHAPE = {"hidden_size": 4096, "num_attention_heads": 32}


def _specs() -> list[dict[str, Any]]:
    """The preset definitions: name, title, repo, hf_config, sources, notes."""
    specs: list[dict[str, Any]] = []

    def add(name, title, repo, hf, notes, checked=None, **overrides):
        specs.append(dict(name=name, title=title, repo=repo, hf=hf, notes=notes,
                          sources=_sources(repo, hf, checked, **overrides)))

    hf = {"hidden_size": 6144, "num_attention_heads": 64, "rotary_pct": 0.25, "rotary_emb_base": 10000,
          "max_position_embeddings": 2048}
    add("gpt-neox-20b", "GPT-NeoX-20B", "EleutherAI/gpt-neox-20b", hf,
        "Partial rotary: only 25% of each 96-dim head (24 channels, 12 pairs) is rotated, in the half layout "
        "(rotate_half; pairs (i, i + 12) of the rotary part); the other 72 channels carry no position. "
        "Black et al. 2022, arXiv:2204.06745 §2.1.",
        checked="checked against a copy of the GPT-NeoX-20B config.json (model_type gpt_neox, vocab 50432, "
                "transformers 4.19.0.dev0) vendored in a public GitHub repository",
        rotary_pct="https://huggingface.co/EleutherAI/gpt-neox-20b config.json `rotary_pct` = 0.25; Black et al. "
                   "2022 (arXiv:2204.06745) §2.1: rotary embeddings on the first 25% of the embedding vector "
                   "dimensions (checked against a vendored copy of the config.json)")

    hf = {**_LLAMA_7B_SHAPE, "rope_theta": 10000.0, "max_position_embeddings": 4096, "rope_scaling": None}
    add("llama-2-7b", "Llama 2 7B", "meta-llama/Llama-2-7b-hf", hf,
        "Plain RoPE, base 10,000, 4K context (Touvron et al. 2023, arXiv:2307.09288, Table 1: context length 4k).",
        checked="checked against copies of meta-llama/Llama-2-7b-hf's config.json (transformers 4.31.0.dev0) "
                "vendored in public GitHub repositories",
        rope_theta="not in the original https://huggingface.co/meta-llama/Llama-2-7b-hf config.json (transformers "
                   "4.31.0.dev0): LlamaConfig's default `rope_theta` = 10000.0 applies, and later transformers "
                   "versions write it out as `rope_theta`: 10000.0 (checked against vendored copies of the file "
                   "and of LlamaConfig dumps of this model); RoFormer's base (arXiv:2104.09864)",
        max_position_embeddings="https://huggingface.co/meta-llama/Llama-2-7b-hf config.json "
                                "`max_position_embeddings` = 4096 (checked against vendored copies); Llama 2 paper "
                                "(arXiv:2307.09288) Table 1: 4k context")

    hf = {**_LLAMA_7B_SHAPE, "rope_theta": 1000000.0, "max_position_embeddings": 16384, "rope_scaling": None}
    add("code-llama-7b", "Code Llama 7B", "codellama/CodeLlama-7b-hf", hf,
        "Llama 2 with the base raised from 10,000 to 1,000,000 for long-context fine-tuning on 16K sequences "
        "(Rozière et al. 2023, arXiv:2308.12950 §2.4).",
        checked="checked against a copy of the config.json of codellama/CodeLlama-7b-Instruct-hf (same values; "
                "transformers 4.38.2) vendored in a public GitHub repository; for the base -hf repo " + _MEM,
        rope_theta="https://huggingface.co/codellama/CodeLlama-7b-hf config.json `rope_theta` = 1000000; "
                   "Code Llama paper (arXiv:2308.12950) §2.4: base period increased from 10,000 to 1,000,000 "
                   "(checked against a vendored copy of the CodeLlama-7b-Instruct-hf config.json)")

    hf = {**_LLAMA_7B_SHAPE, "rope_theta": 500000.0, "max_position_embeddings": 8192}
    add("llama-3-8b", "Llama 3 8B", "meta-llama/Meta-Llama-3-8B", hf,
        "Plain RoPE with base 500,000 over 8K tokens (Llama 3 herd paper, arXiv:2407.21783 §3.2: RoPE base "
        "frequency 500,000).",
        checked="checked against copies of the meta-llama/Meta-Llama-3-8B config.json (transformers 4.38.2) "
                "vendored in public GitHub repositories")

    hf = {**_LLAMA_7B_SHAPE, "rope_theta": 500000.0, "max_position_embeddings": 131072,
          "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                           "original_max_position_embeddings": 8192, "rope_type": "llama3"}}
    add("llama-3.1-8b", "Llama 3.1 8B", "meta-llama/Llama-3.1-8B", hf,
        "Llama 3.1 scaling (rope_type llama3): wavelengths above 8192 tokens are divided by 8, below 2048 kept, "
        "blended in between (Meta's llama-models apply_scaling: scale_factor 8, low_freq_factor 1, "
        "high_freq_factor 4, old_context_len 8192).",
        checked="checked against a LlamaConfig dump of meta-llama/Meta-Llama-3.1-8B-Instruct (same RoPE values as "
                "the base model) vendored in a public GitHub repository",
        rope_scaling="https://huggingface.co/meta-llama/Llama-3.1-8B config.json `rope_scaling` (checked against a "
                     "LlamaConfig dump of Meta-Llama-3.1-8B-Instruct vendored in a public GitHub repository); the "
                     "same constants (8, 1, 4, 8192) are in Meta's reference code meta-llama/llama-models "
                     "models/llama3/model.py apply_scaling (rope-literature.md §5e)")

    hf = {"hidden_size": 2048, "num_attention_heads": 32, "head_dim": 64, "rope_theta": 500000.0,
          "max_position_embeddings": 131072,
          "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                           "original_max_position_embeddings": 8192, "rope_type": "llama3"}}
    add("llama-3.2-1b", "Llama 3.2 1B", "meta-llama/Llama-3.2-1B", hf,
        "Small head (64) with llama3 scaling by 32 from 8K to 128K.",
        checked="checked against copies of the Llama 3.2 1B (Instruct) config.json vendored in public GitHub "
                "repositories")

    hf = {**_LLAMA_7B_SHAPE, "rope_theta": 10000.0, "max_position_embeddings": 32768, "sliding_window": 4096}
    add("mistral-7b-v0.1", "Mistral 7B v0.1", "mistralai/Mistral-7B-v0.1", hf,
        "Base 10,000 with max_position_embeddings 32,768, but sliding-window attention over 4,096 tokens "
        "(Jiang et al. 2023, arXiv:2310.06825 Table 1: window 4096, context 8192): tokens never attend further "
        "than 4,096 back within one layer, so RoPE's far wavelengths are only reached through the window stack.",
        checked="checked against copies of the mistralai/Mistral-7B-v0.1 config.json (transformers 4.37.2) "
                "vendored in public GitHub repositories")

    hf = {**_LLAMA_7B_SHAPE, "rope_theta": 1000000.0, "max_position_embeddings": 32768, "sliding_window": None}
    add("mistral-7b-v0.2", "Mistral 7B Instruct v0.2", "mistralai/Mistral-7B-Instruct-v0.2", hf,
        "v0.2 raised the base to 1e6 and dropped the sliding window (32K context).")

    hf = {**_LLAMA_7B_SHAPE, "rope_theta": 1000000.0, "max_position_embeddings": 32768}
    add("mixtral-8x7b", "Mixtral 8x7B", "mistralai/Mixtral-8x7B-v0.1", hf,
        "Sparse mixture of experts with Mistral's attention: base 1e6, 32K context (Jiang et al. 2024, "
        "arXiv:2401.04088 Table 1: context length 32768).",
        checked="checked against a copy of the mistralai/Mixtral-8x7B-v0.1 config.json (transformers 4.36.0.dev0) "
                "vendored in a public GitHub repository")

    hf = {"hidden_size": 3584, "num_attention_heads": 28, "rope_theta": 1000000.0,
          "max_position_embeddings": 32768}
    add("qwen2.5-7b", "Qwen2.5 7B Instruct", "Qwen/Qwen2.5-7B-Instruct", hf,
        "Base 1e6, 32K native context (head_dim 3584/28 = 128). See qwen2.5-7b-yarn for the long-context setting.",
        checked="checked against copies of the Qwen/Qwen2.5-7B-Instruct config.json (transformers 4.43.3) "
                "vendored in public GitHub repositories")

    hf = {"hidden_size": 3584, "num_attention_heads": 28, "rope_theta": 1000000.0,
          "max_position_embeddings": 131072,
          "rope_scaling": {"factor": 4.0, "original_max_position_embeddings": 32768, "type": "yarn"}}
    add("qwen2.5-7b-yarn", "Qwen2.5 7B Instruct + YaRN ×4", "Qwen/Qwen2.5-7B-Instruct", hf,
        "The model card's recipe for texts longer than 32,768 tokens: add rope_scaling {factor 4, "
        "original_max_position_embeddings 32768, type yarn} to config.json (static YaRN, up to 131,072 tokens). "
        "YaRN defaults apply: beta_fast 32, beta_slow 1, attention factor 0.1·ln 4 + 1 ≈ 1.139.",
        checked="checked against copies of the Qwen/Qwen2.5-7B-Instruct config.json (transformers 4.43.3) "
                "vendored in public GitHub repositories",
        rope_scaling="Qwen/Qwen2.5-7B-Instruct model card (README, 'Processing Long Texts'): add "
                     "\"rope_scaling\": {\"factor\": 4.0, \"original_max_position_embeddings\": 32768, "
                     "\"type\": \"yarn\"} to config.json (" + _MEM + ")",
        max_position_embeddings="131072 = 4 × 32768: the context the model card states for YaRN (\"up to "
                                "131,072 tokens\"); the published config.json keeps 32768, this preset sets the "
                                f"extended length ({_MEM})")

    hf = {"hidden_size": 3584, "num_attention_heads": 16, "head_dim": 256, "rope_theta": 10000.0,
          "max_position_embeddings": 8192}
    add("gemma-2-9b", "Gemma 2 9B", "google/gemma-2-9b", hf,
        "Wide heads (head_dim 256 > hidden/heads = 224), base 10,000, 8K context; local (4096-token sliding "
        "window) and global layers alternate (Gemma Team 2024, arXiv:2408.00118 Table 1).",
        hidden_size="https://huggingface.co/google/gemma-2-9b config.json `hidden_size` = 3584 (checked against "
                    "the 9b text config in transformers' PaliGemma 2 conversion script)",
        num_attention_heads="https://huggingface.co/google/gemma-2-9b config.json `num_attention_heads` = 16 "
                            "(checked against the 9b text config in transformers' PaliGemma 2 conversion script)",
        head_dim="https://huggingface.co/google/gemma-2-9b config.json `head_dim` = 256 (checked against the 9b "
                 "text config in transformers' PaliGemma 2 conversion script)")

    hf = {"hidden_size": 3072, "num_attention_heads": 32, "rope_theta": 10000.0,
          "max_position_embeddings": 131072, "original_max_position_embeddings": 4096,
          "rope_scaling": {"long_factor": list(_PHI3_LONG), "short_factor": list(_PHI3_SHORT), "type": "su"}}
    lists_src = ("48-entry list as in the Phi-3 128k config.json (rope_scaling type \"su\", transformers 4.38.1): "
                 "checked against copies of Phi-3-vision-128k-instruct's config.json vendored in public GitHub "
                 "repositories (diffusers OmniGen tests, mlx-vlm tests); that microsoft/Phi-3-mini-128k-instruct's "
                 "first (April 2024) release ships the same lists is " + _MEM + ". Its June 2024 update "
                 "re-trained the model and ships different lists (rope_scaling type \"longrope\").")
    add("phi-3-mini-128k", "Phi-3 mini 128K", "microsoft/Phi-3-mini-128k-instruct", hf,
        "LongRoPE (Ding et al. 2024, arXiv:2402.13753): per-pair rescale factors found by search; short_factor "
        "below 4,096 tokens, long_factor beyond; scale s = 131072/4096 = 32 gives the attention factor "
        "√(1 + ln 32 / ln 4096) ≈ 1.190.",
        checked="checked against copies of the Phi-3-vision-128k-instruct config.json, which has the same shape "
                "(3072 hidden, 32 heads, 4096 → 131072); for Phi-3-mini-128k-instruct itself " + _MEM,
        rope_scaling="https://huggingface.co/microsoft/Phi-3-mini-128k-instruct config.json `rope_scaling`: "
                     "long_factor and short_factor, " + lists_src)

    hf = {"hidden_size": 2048, "num_attention_heads": 16, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64,
          "max_position_embeddings": 163840, "rope_theta": 10000,
          "rope_scaling": {"beta_fast": 32, "beta_slow": 1, "factor": 40, "mscale": 0.707,
                           "mscale_all_dim": 0.707, "original_max_position_embeddings": 4096, "type": "yarn"}}
    add("deepseek-v2-lite", "DeepSeek-V2-Lite", "deepseek-ai/DeepSeek-V2-Lite", hf,
        "Multi-head latent attention: only a 64-dim part of each query/key head is rotated (decoupled RoPE; "
        "DeepSeek-AI 2024, arXiv:2405.04434 §2.1.3) — the preset models that rope part. YaRN ×40 from 4K to "
        "160K; with mscale = mscale_all_dim = 0.707 transformers' attention factor is exactly 1 (DeepSeek applies "
        "the mscale² to the softmax scale instead).",
        checked="checked against a transformers-5 dump of the DeepSeek-V2-Lite config.json (rope_parameters) and "
                "copies of its rope_scaling vendored in public GitHub repositories")
    return specs


def _build() -> dict[str, Preset]:
    out: dict[str, Preset] = {}
    for s in _specs():
        hf = copy.deepcopy(s["hf"])
        cfg = from_hf_config(hf)
        out[s["name"]] = Preset(name=s["name"], config=cfg, hf_config=hf, sources=s["sources"], notes=s["notes"],
                                title=s["title"], repo_id=s["repo"])
    return out


PRESETS: dict[str, Preset] = _build()


def preset_names() -> list[str]:
    """The preset names (slugs), in a fixed order (roughly by release date)."""
    return list(PRESETS)


def _norm(s: str) -> str:
    return "".join(ch for ch in s.lower() if ch.isalnum() or ch == ".")


def get_preset(name: str) -> Preset:
    """The preset called ``name``: exact slug, else case-insensitive, else matching the title or the Hub repo id
    ignoring case, spaces, dashes and underscores. ValueError listing the names when none matches."""
    if not isinstance(name, str):
        raise ValueError(f"preset name must be a string, got {type(name).__name__}")
    if name in PRESETS:
        return PRESETS[name]
    key = _norm(name)
    for p in PRESETS.values():
        if key and key in (_norm(p.name), _norm(p.title), _norm(p.repo_id)):
            return p
    raise ValueError(f"unknown preset {name!r}; available: {', '.join(PRESETS)}")
