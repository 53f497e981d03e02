"""Presets: the RoPE settings of real models, each value with its source.

Every preset is stored as the RoPE-relevant part of the model's ``config.json`` (``hf_config``, the keys and values as
published on the Hugging Face Hub) and turned into a :class:`~rope_viz.config.RopeConfig` by
:func:`~rope_viz.config.from_hf_config` — so the presets double as a test of that reader (both schemas: the older
``rope_theta`` + ``rope_scaling`` with ``type``/``rope_type``, GPT-NeoX's ``rotary_pct``/``rotary_emb_base``, Phi-3's
top-level ``original_max_position_embeddings`` and ``"su"``, transformers ≥ 5 ``rope_parameters``, DeepSeek's
``qk_rope_head_dim``).

``Preset.sources`` maps each ``hf_config`` key to where its value comes from and where it was checked. This project has
no internet access, so every value was compared with a copy of the published file (or of its values) found in a public
GitHub repository: each source string names that repository, the file path and the commit it was read at
(:class:`Copy`). A copy may be an older revision of the Hub file; ``Preset.revision`` says which revision of the model
the preset is. Values that are not in the published config.json (Qwen2.5's YaRN setting, which its documentation tells
users to add) say so and name the document they come from.

Names are lowercase slugs (``llama-3.1-8b``); :func:`get_preset` also accepts the display title and any case.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any, Mapping

from .config import RopeConfig, from_hf_config
from .validate import shorten


@dataclass(frozen=True, eq=False)
class Preset:
    """A real model's RoPE setup.

    Attributes:
        name: slug used by the CLI, the URL (``?preset=...``) and the sidebar, e.g. ``"llama-3.1-8b"``.
        config: the RopeConfig built from ``hf_config`` by ``from_hf_config``.
        hf_config: the RoPE-relevant keys of the model's config.json, values as published (read-only by convention;
            ``get_preset`` hands out the shared object, copy before editing).
        sources: ``hf_config`` key → where that value comes from and the copy it was checked against (see the module
            docstring).
        notes: what is special about this model's RoPE, in a sentence or two.
        title: a display name, e.g. ``"Llama 3.1 8B"``.
        repo_id: the Hugging Face Hub repository whose config.json the values come from.
        revision: which revision of that repository's config.json the values are, e.g. "June 2024 update
            (rope_scaling type longrope, transformers 4.40.2)".
    """

    name: str
    config: RopeConfig
    hf_config: dict
    sources: dict
    notes: str = ""
    title: str = ""
    repo_id: str = ""
    revision: str = ""

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



@dataclass(frozen=True)
class Copy:
    """A public copy of a published config.json (or of the values in it) that preset values were checked against.

    Attributes:
        repo: the GitHub repository, ``owner/name``.
        path: the file inside it.
        commit: the commit the file was read at (40 hex digits).
        where: which part of the file holds the values, e.g. ``'MODEL_PRESETS["llama2_7b"]'``.
    """

    repo: str
    path: str
    commit: str
    where: str = ""

    def cite(self) -> str:
        """``github.com/<repo> <path> @ <commit[:12]> (<where>)``."""
        return f"github.com/{self.repo} {self.path} @ {self.commit[:12]}" + (f" ({self.where})" if self.where else "")


def _show(value: Any) -> str:
    """A value as it reads in config.json; factor lists shortened to their length and end values."""
    if isinstance(value, list):
        return f"[{len(value)} factors, {value[0]!r} … {value[-1]!r}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f'"{k}": {_show(v)}' for k, v in value.items()) + "}"
    return json.dumps(value)


def _sources(repo: str, hf: Mapping[str, Any], copies: tuple[Copy, ...], **overrides: str | tuple[Copy, ...]
             ) -> dict[str, str]:
    """Source strings for every key of ``hf``: ``<Hub config.json URL> `key` = value: checked against <copies>``.

    ``overrides`` replace single keys: a tuple of Copy objects checks that key against other copies, a str is the
    whole source text (it must name the copy it was checked against itself)."""
    def text(key: str, where: tuple[Copy, ...]) -> str:
        return (f"https://huggingface.co/{repo} config.json `{key}` = {_show(hf[key])}: checked against "
                + "; and ".join(c.cite() for c in where))

    out = {k: text(k, copies) for k in hf}
    for key, over in overrides.items():
        if key not in hf:  # a source for a key that is not in the config would be a typo
            raise AssertionError(f"source for a key not in hf_config: {key}")
        out[key] = over if isinstance(over, str) else text(key, over)
    return out


# -- the copies the values were checked against -----------------------------------------------------------------------
def _mlc(entry: str) -> Copy:
    """MLC LLM's built-in model presets: verbatim copies of each model's config.json (plus MLC's own extra keys)."""
    return Copy("mlc-ai/mlc-llm", "python/mlc_llm/model/model_preset.py", "79d603f085f50500e9509fa01785ffa7ecfaaa93",
                f'MODEL_PRESETS["{entry}"]')


_LLM_ENGINE = "scaleapi/llm-engine", "model-engine/tests/unit/domain/test_llm_use_cases.py", \
    "a82369619a365b79a45e49ef6af1045653102615"
_THUNDER = "kevinstephano/thunder_model_blocks"
_NEOX_20B_YML = Copy("EleutherAI/gpt-neox", "configs/20B.yml", "252ddc522fba7e2138d4c08fd05f6d11084567b8",
                     "the GPT-NeoX-20B training config: hidden-size, num-attention-heads, rotary_pct, "
                     "max-position-embeddings")
_NEOX_HF_DEFAULTS = Copy("huggingface/transformers", "src/transformers/models/gpt_neox/configuration_gpt_neox.py",
                         "35aa9bd7c6c1121a4ae03fb9679bcbff6bb75c1b",
                         "GPTNeoXConfig, whose defaults are the EleutherAI/gpt-neox-20b architecture")
_PHI3_2406_COPY = Copy("sdpython/onnx-diagnostic", "onnx_diagnostic/torch_models/hghub/hub_data_cached_configs.py",
                       "cc937c25e830a1195f73090ada9ea6bd8f670a57",
                       "_ccached_microsoft_phi3_mini_128k_instruct, a cached copy of the Hub config.json: "
                       "transformers_version 4.40.2, rope_scaling type longrope")
_PHI3_2404_COPY = Copy("joecummings/torchtune", "torchtune/models/phi3/_model_builders.py",
                       "74cb6d244e5729fd799674f4c343e324914e0c92",
                       "LONG_FACTORS, SHORT_FACTORS and phi3_mini_128k(): embed_dim 3072, num_heads 32, "
                       "original_max_seq_len 4096, max_seq_len 131072, rope_base 10000, rope_scaling_type su")
_PHI3_VISION_COPY = Copy("huggingface/diffusers", "tests/pipelines/omnigen/test_pipeline_omnigen.py",
                         "286990d02accdbaed2df7ebb434c276a46834c7e",
                         "Phi-3-vision-128k-instruct's config.json (transformers 4.38.1, type su): the same 48 "
                         "long factors")
_QWEN25_DOCS = Copy("QwenLM/Qwen2.5", "docs/source/deployment/vllm.md", "4da996c576418cc9ecdff35aeddfcdca814e9568",
                    "'Extended Context Support': add rope_scaling {factor 4.0, original_max_position_embeddings 32768, "
                    "type yarn} to config.json")

# Phi-3-mini-128k-instruct LongRoPE factor lists (48 = head_dim 96 / 2 entries each), as published: the June 2024
# update (_2406) and the first release of April 2024 (_2404).
_PHI3_2404_LONG = [
    1.0299999713897705, 1.0499999523162842, 1.0499999523162842, 1.0799999237060547, 1.2299998998641968,
    1.2299998998641968, 1.2999999523162842, 1.4499999284744263, 1.5999999046325684, 1.6499998569488525,
    1.8999998569488525, 2.859999895095825, 3.68999981880188, 5.419999599456787, 5.489999771118164, 5.489999771118164,
    9.09000015258789, 11.579999923706055, 15.65999984741211, 15.769999504089355, 15.789999961853027,
    18.360000610351562, 21.989999771118164, 23.079999923706055, 30.009998321533203, 32.35000228881836,
    32.590003967285156, 35.56000518798828, 39.95000457763672, 53.840003967285156, 56.20000457763672, 57.95000457763672,
    59.29000473022461, 59.77000427246094, 59.920005798339844, 61.190006256103516, 61.96000671386719, 62.50000762939453,
    63.3700065612793, 63.48000717163086, 63.48000717163086, 63.66000747680664, 63.850006103515625, 64.08000946044922,
    64.760009765625, 64.80001068115234, 64.81001281738281, 64.81001281738281,
]
_PHI3_2404_SHORT = [
    1.05, 1.05, 1.05, 1.1, 1.1, 1.1500000000000001, 1.2000000000000002, 1.2500000000000002, 1.3000000000000003,
    1.3500000000000003, 1.5000000000000004, 2.000000000000001, 2.000000000000001, 2.000000000000001, 2.000000000000001,
    2.000000000000001, 2.000000000000001, 2.000000000000001, 2.000000000000001, 2.000000000000001, 2.000000000000001,
    2.000000000000001, 2.000000000000001, 2.000000000000001, 2.000000000000001, 2.000000000000001, 2.000000000000001,
    2.000000000000001, 2.000000000000001, 2.000000000000001, 2.000000000000001, 2.000000000000001, 2.0500000000000007,
    2.0500000000000007, 2.0500000000000007, 2.1000000000000005, 2.1000000000000005, 2.1000000000000005,
    2.1500000000000004, 2.1500000000000004, 2.3499999999999996, 2.549999999999999, 2.5999999999999988,
    2.5999999999999988, 2.7499999999999982, 2.849999999999998, 2.849999999999998, 2.9499999999999975,
]
_PHI3_2406_LONG = [
    1.0700000524520874, 1.1200000047683716, 1.149999976158142, 1.4199999570846558, 1.5699999332427979,
    1.7999999523162842, 2.129999876022339, 2.129999876022339, 3.009999990463257, 5.910000324249268, 6.950000286102295,
    9.070000648498535, 9.930000305175781, 10.710000038146973, 11.130000114440918, 14.609999656677246,
    15.409998893737793, 19.809999465942383, 37.279998779296875, 38.279998779296875, 38.599998474121094,
    40.12000274658203, 46.20000457763672, 50.940006256103516, 53.66000747680664, 54.9373893737793, 56.89738845825195,
    57.28738784790039, 59.98738479614258, 60.86738586425781, 60.887386322021484, 61.71739196777344, 62.91739273071289,
    62.957393646240234, 63.41739273071289, 63.8173942565918, 63.83739471435547, 63.897396087646484, 63.93739700317383,
    64.06739807128906, 64.11434936523438, 64.12435150146484, 64.15435028076172, 64.19435119628906, 64.24435424804688,
    64.57435607910156, 64.69000244140625, 64.76000213623047,
]
_PHI3_2406_SHORT = [
    1.1, 1.1, 1.1, 1.3000000000000003, 1.3500000000000003, 1.3500000000000003, 1.4000000000000004, 1.5500000000000005,
    2.000000000000001, 2.000000000000001, 2.000000000000001, 2.000000000000001, 2.000000000000001, 2.000000000000001,
    2.000000000000001, 2.000000000000001, 2.000000000000001, 2.000000000000001, 2.000000000000001, 2.000000000000001,
    2.000000000000001, 2.000000000000001, 2.000000000000001, 2.000000000000001, 2.000000000000001, 2.0500000000000007,
    2.0500000000000007, 2.0500000000000007, 2.0500000000000007, 2.0500000000000007, 2.0500000000000007,
    2.1000000000000005, 2.1000000000000005, 2.1500000000000004, 2.25, 2.25, 2.25, 2.25, 2.25, 2.3999999999999995,
    2.4499999999999993, 2.499999999999999, 2.6999999999999984, 2.6999999999999984, 2.7499999999999982,
    2.799999999999998, 2.8999999999999977, 3.049999999999997,
]

_LLAMA_7B_SHAPE = {"hidden_size": 4096, "num_attention_heads": 32}


def _specs() -> list[dict[str, Any]]:
    """The preset definitions: name, title, Hub repo, revision, hf_config, sources, notes."""
    specs: list[dict[str, Any]] = []

    def add(name, title, repo, revision, hf, notes, copies, **overrides):
        specs.append(dict(name=name, title=title, repo=repo, revision=revision, hf=hf, notes=notes,
                          sources=_sources(repo, hf, copies, **overrides)))

    hf = {"hidden_size": 6144, "num_attention_heads": 64, "rotary_pct": 0.25, "rotary_emb_base": 10000,
          "max_position_embeddings": 2048}
    add("gpt-neox-20b", "GPT-NeoX-20B", "EleutherAI/gpt-neox-20b",
        "the Hub's config.json, whose values are those of the GPT-NeoX-20B training config", hf,
        "Partial rotary: only 25% of each 96-dim head (24 channels, 12 pairs) is rotated, in the half layout "
        "(rotate_half; pairs (i, i + 12) of the rotary part); the other 72 channels carry no position. "
        "Black et al. 2022, arXiv:2204.06745 §2.1.",
        (_NEOX_20B_YML, _NEOX_HF_DEFAULTS),
        rotary_emb_base=(_NEOX_HF_DEFAULTS,))

    hf = {**_LLAMA_7B_SHAPE, "max_position_embeddings": 4096, "rope_scaling": None}
    llm_engine_l2 = Copy(*_LLM_ENGINE, 'model_config "_name_or_path": "meta-llama/Llama-2-7b-hf", '
                                       'transformers_version 4.31.0.dev0')
    add("llama-2-7b", "Llama 2 7B", "meta-llama/Llama-2-7b-hf",
        "the config.json with max_position_embeddings 4096 (transformers 4.31.0.dev0); an earlier revision, "
        "copied in mlc-ai/mlc-llm, said 2048", hf,
        "Plain RoPE, base 10,000, 4K context (Touvron et al. 2023, arXiv:2307.09288, Table 1: context length 4k). "
        "The config.json has no rope_theta: LlamaConfig's default 10,000 (RoFormer's base, arXiv:2104.09864) applies.",
        (llm_engine_l2,),
        rope_scaling=(_mlc("llama2_7b"),),
        max_position_embeddings=(llm_engine_l2,))

    hf = {**_LLAMA_7B_SHAPE, "rope_theta": 1000000, "max_position_embeddings": 16384, "rope_scaling": None}
    add("code-llama-7b", "Code Llama 7B", "codellama/CodeLlama-7b-hf", "transformers 4.33.0.dev0", hf,
        "Llama 2 with the base raised from 10,000 to 1,000,000 for long-context fine-tuning on 16K sequences "
        "(Rozière et al. 2023, arXiv:2308.12950 §2.4).",
        (_mlc("codellama_7b"),))

    hf = {**_LLAMA_7B_SHAPE, "rope_theta": 500000.0, "max_position_embeddings": 8192}
    add("llama-3-8b", "Llama 3 8B", "meta-llama/Meta-Llama-3-8B", "transformers 4.40.0.dev0", hf,
        "Plain RoPE with base 500,000 over 8K tokens (Llama 3 herd paper, arXiv:2407.21783 §3.2: RoPE base "
        "frequency 500,000).",
        (Copy(*_LLM_ENGINE, 'model_config of "llama-3-8b": eos_token_id 128001, transformers 4.40.0.dev0'),
         Copy(_THUNDER, "thunder_model_blocks/llama/llama_3_8B_Instruct_config.py",
              "5c083b0e1fc8c408308c6b602bfd4669a36a2901", "Meta-Llama-3-8B-Instruct: the same RoPE values")))

    hf = {**_LLAMA_7B_SHAPE, "rope_theta": 500000.0, "max_position_embeddings": 131072,
          "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                           "original_max_position_embeddings": 8192, "rope_type": "llama3"}}
    add("llama-3.1-8b", "Llama 3.1 8B Instruct", "meta-llama/Llama-3.1-8B-Instruct", "transformers 4.42.3", hf,
        "Llama 3.1 scaling (rope_type llama3): wavelengths above 8192 tokens are divided by 8, below 2048 kept, "
        "blended in between (Meta's llama-models apply_scaling: scale_factor 8, low_freq_factor 1, "
        "high_freq_factor 4, old_context_len 8192).",
        (_mlc("llama3_1_8b"),))

    hf = {"hidden_size": 2048, "num_attention_heads": 32, "head_dim": 64, "rope_theta": 500000.0,
          "max_position_embeddings": 131072,
          "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                           "original_max_position_embeddings": 8192, "rope_type": "llama3"}}
    add("llama-3.2-1b", "Llama 3.2 1B Instruct", "meta-llama/Llama-3.2-1B-Instruct",
        "Hub commit 4e20de362430cd3b72f300e6b0f18e50e7166e08 (transformers 4.45.0.dev0)", hf,
        "Small head (64) with llama3 scaling by 32 from 8K to 128K.",
        (_mlc("llama3_2_1b"), Copy(_THUNDER, "thunder_model_blocks/llama/llama_config.py",
                                   "5c083b0e1fc8c408308c6b602bfd4669a36a2901",
                                   "LLAMA_3_2_1B_CFG, _commit_hash 4e20de362430")))

    hf = {**_LLAMA_7B_SHAPE, "rope_theta": 10000.0, "max_position_embeddings": 32768, "sliding_window": 4096}
    add("mistral-7b-v0.1", "Mistral 7B v0.1", "mistralai/Mistral-7B-v0.1", "transformers 4.34.0.dev0", hf,
        "Base 10,000 with max_position_embeddings 32,768, but sliding-window attention over 4,096 tokens "
        "(Jiang et al. 2023, arXiv:2310.06825 Table 1: window 4096, context 8192): tokens never attend further "
        "than 4,096 back within one layer, so RoPE's far wavelengths are only reached through the window stack.",
        (_mlc("mistral_7b"),),
        sliding_window="https://huggingface.co/mistralai/Mistral-7B-v0.1 config.json `sliding_window` = 4096: checked "
                       "against " + _mlc("mistral_7b").cite() + ", which stores it as sliding_window_size 4096; "
                       "Jiang et al. 2023 (arXiv:2310.06825) Table 1: window_size 4096")

    hf = {**_LLAMA_7B_SHAPE, "rope_theta": 1000000.0, "max_position_embeddings": 32768, "sliding_window": None}
    sophgo = Copy("sophgo/LLM-TPU", "models/Mistral/compile/files/Mistral-7B-Instruct-v0.2/config.json",
                  "da181528333f49d495f9de7ac07ab3cfb045f7cc", "transformers 4.36.0")
    card = Copy("Azure/azureml-assets", "assets/models/system/Mistral-7B-Instruct-v0-2/description.md",
                "9be89f6a01f11aebcb3fc15b8060bff5c311c964",
                "the model card: 32k context window, rope-theta 1e6, no sliding-window attention")
    add("mistral-7b-v0.2", "Mistral 7B Instruct v0.2", "mistralai/Mistral-7B-Instruct-v0.2", "transformers 4.36.0",
        hf, "v0.2 raised the base to 1e6 and dropped the sliding window (32K context).",
        (sophgo, card),
        hidden_size=(sophgo,), num_attention_heads=(sophgo,),
        max_position_embeddings="https://huggingface.co/mistralai/Mistral-7B-Instruct-v0.2 config.json "
                                "`max_position_embeddings` = 32768: checked against " + card.cite() + " (the "
                                "sophgo/LLM-TPU copy sets it to 512 for its own export)")

    hf = {**_LLAMA_7B_SHAPE, "rope_theta": 1000000.0, "max_position_embeddings": 32768}
    add("mixtral-8x7b", "Mixtral 8x7B", "mistralai/Mixtral-8x7B-v0.1", "transformers 4.36.0.dev0", hf,
        "Sparse mixture of experts with Mistral's attention: base 1e6, 32K context (Jiang et al. 2024, "
        "arXiv:2401.04088 Table 1: context length 32768).",
        (_mlc("Mixtral-8x7B-v0.1"), Copy(*_LLM_ENGINE, 'model_config of "mixtral-8x7b"')))

    hf = {"hidden_size": 3584, "num_attention_heads": 28, "rope_theta": 1000000.0,
          "max_position_embeddings": 32768}
    qwen_copy = Copy(_THUNDER, "hf_qwen2/qwen2_lora_mlp_block.py", "7327d0fa4d917dd8614cc10ce8b176a54aee1773",
                     'qwen_cfg_str, "_name_or_path": "Qwen/Qwen2.5-7B-Instruct", transformers 4.43.3')
    add("qwen2.5-7b", "Qwen2.5 7B Instruct", "Qwen/Qwen2.5-7B-Instruct", "transformers 4.43.3", hf,
        "Base 1e6, 32K native context (head_dim 3584/28 = 128). See qwen2.5-7b-yarn for the long-context setting.",
        (qwen_copy,))

    hf = {"hidden_size": 3584, "num_attention_heads": 28, "rope_theta": 1000000.0,
          "max_position_embeddings": 131072,
          "rope_scaling": {"factor": 4.0, "original_max_position_embeddings": 32768, "type": "yarn"}}
    qwen_readme = Copy("QwenLM/Qwen2.5", "README.md", "4da996c576418cc9ecdff35aeddfcdca814e9568",
                       "context length support up to 128K tokens")
    add("qwen2.5-7b-yarn", "Qwen2.5 7B Instruct + YaRN ×4", "Qwen/Qwen2.5-7B-Instruct",
        "transformers 4.43.3, plus the rope_scaling its documentation tells users to add", hf,
        "The documented recipe for texts longer than 32,768 tokens: add rope_scaling {factor 4, "
        "original_max_position_embeddings 32768, type yarn} to config.json (static YaRN, up to 131,072 tokens). "
        "YaRN defaults apply: beta_fast 32, beta_slow 1, attention factor 0.1·ln 4 + 1 ≈ 1.139.",
        (qwen_copy,),
        rope_scaling="not in the published config.json: the value Qwen's documentation tells users to add, "
                     "\"rope_scaling\": {\"factor\": 4.0, \"original_max_position_embeddings\": 32768, "
                     "\"type\": \"yarn\"}: checked against " + _QWEN25_DOCS.cite(),
        max_position_embeddings="131072 = 4 × 32768, the length YaRN ×4 reaches per Qwen's documentation (the "
                                "published config.json keeps 32768; this preset sets the extended length): checked "
                                "against "
                                + _QWEN25_DOCS.cite() + "; and " + qwen_readme.cite())

    hf = {"hidden_size": 3584, "num_attention_heads": 16, "head_dim": 256, "rope_theta": 10000.0,
          "max_position_embeddings": 8192}
    add("gemma-2-9b", "Gemma 2 9B", "google/gemma-2-9b", "transformers 4.42.0.dev0", hf,
        "Wide heads (head_dim 256 > hidden/heads = 224), base 10,000, 8K context; local (4096-token sliding "
        "window) and global layers alternate (Gemma Team 2024, arXiv:2408.00118 Table 1).",
        (_mlc("gemma2_9b"), Copy(_THUNDER, "thunder_model_blocks/gemma2/gemma2_config.py",
                                 "5c083b0e1fc8c408308c6b602bfd4669a36a2901", "google/gemma-2-9b-it: the same values")))

    phi3_notes = ("LongRoPE (Ding et al. 2024, arXiv:2402.13753): per-pair rescale factors found by search; "
                  "short_factor up to 4,096 tokens, long_factor beyond; scale s = 131072/4096 = 32 gives the attention "
                  "factor √(1 + ln 32 / ln 4096) ≈ 1.190.")
    hf = {"hidden_size": 3072, "num_attention_heads": 32, "rope_theta": 10000.0,
          "max_position_embeddings": 131072, "original_max_position_embeddings": 4096,
          "rope_scaling": {"long_factor": list(_PHI3_2406_LONG), "short_factor": list(_PHI3_2406_SHORT),
                           "type": "longrope"}}
    add("phi-3-mini-128k", "Phi-3 mini 128K (June 2024)", "microsoft/Phi-3-mini-128k-instruct",
        "the June 2024 update (re-trained; rope_scaling type longrope, transformers 4.40.2), the Hub's current file",
        hf, phi3_notes + " The June 2024 update re-trained the model with new factor lists; phi-3-mini-128k-2404 is "
        "the first release.",
        (_PHI3_2406_COPY,))

    hf = {"hidden_size": 3072, "num_attention_heads": 32, "rope_theta": 10000.0,
          "max_position_embeddings": 131072, "original_max_position_embeddings": 4096,
          "rope_scaling": {"long_factor": list(_PHI3_2404_LONG), "short_factor": list(_PHI3_2404_SHORT),
                           "type": "su"}}
    add("phi-3-mini-128k-2404", "Phi-3 mini 128K (April 2024)", "microsoft/Phi-3-mini-128k-instruct",
        "the first release of April 2024 (rope_scaling type su), replaced by the June 2024 update", hf,
        phi3_notes + " This is the first release; its long factors are also those of Phi-3-vision-128k-instruct.",
        (_PHI3_2404_COPY,),
        rope_scaling=(_PHI3_2404_COPY, _PHI3_VISION_COPY))

    hf = {"hidden_size": 2048, "num_attention_heads": 16, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64,
          "max_position_embeddings": 163840, "rope_theta": 10000,
          "rope_scaling": {"beta_fast": 32, "beta_slow": 1, "factor": 40, "mscale": 0.707,
                           "mscale_all_dim": 0.707, "original_max_position_embeddings": 4096, "type": "yarn"}}
    add("deepseek-v2-lite", "DeepSeek-V2-Lite", "deepseek-ai/DeepSeek-V2-Lite", "transformers 4.33.1", hf,
        "Multi-head latent attention: only a 64-dim part of each query/key head is rotated (decoupled RoPE; "
        "DeepSeek-AI 2024, arXiv:2405.04434 §2.1.3) — the preset models that rope part. YaRN ×40 from 4K to "
        "160K; with mscale = mscale_all_dim = 0.707 transformers' attention factor is exactly 1 (DeepSeek applies "
        "the mscale² to the softmax scale instead).",
        (_mlc("deepseek_v2_lite"),))
    return specs


def _build() -> dict[str, Preset]:
    out: dict[str, Preset] = {}
    for s in _specs():
        hf = copy.deepcopy(s["hf"])
        cfg = from_hf_config(hf)
        out[s["name"]] = Preset(name=s["name"], config=cfg, hf_config=hf, sources=s["sources"], notes=s["notes"],
                                title=s["title"], repo_id=s["repo"], revision=s["revision"])
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
    raise ValueError(f"preset must be one of {', '.join(PRESETS)}; got {shorten(name)}")
