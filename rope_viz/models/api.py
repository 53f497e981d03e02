"""The measurements the page and the CLI ask for, cached on disk by (model, text hash, settings).

``inspect`` and ``perplexity`` return plain dicts (numpy arrays for the per-layer data) and never load the model when
the result is cached: a revisit reads one .npz file.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from .. import validate as V
from ..config import SCALING_TYPES, RopeConfig
from . import sources
from .loader import Progress, _noop

RESULTS_VERSION = "1"
MAX_TOKENS = 65_536
ARRAY_KEYS = ("q_pair_norm", "k_pair_norm", "q_weight", "k_weight", "logit_by_distance", "weight_by_distance",
              "count_by_distance", "sink_share", "nll")


def _check_tokens(tokens) -> int:
    return V.integer("tokens", tokens, 2, MAX_TOKENS)


# -- disk cache -------------------------------------------------------------------------------------------------------
def _cache_path(kind: str, key: Mapping[str, Any]) -> Path:
    h = hashlib.sha256(json.dumps({"v": RESULTS_VERSION, "kind": kind, **key}, sort_keys=True).encode()).hexdigest()
    return sources.cache_dir() / "results" / f"{kind}-{h[:24]}.npz"


def _load(path: Path) -> dict | None:
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            out = json.loads(str(z["meta"]))
            for k in z.files:
                if k != "meta":
                    out[k] = z[k]
        return out
    except (OSError, ValueError, KeyError):
        return None


def _save(path: Path, result: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {k: v for k, v in result.items() if k not in ARRAY_KEYS}
    arrays = {k: np.asarray(v) for k, v in result.items() if k in ARRAY_KEYS}
    tmp = path.with_name(path.stem + f".tmp{os.getpid()}.npz")
    np.savez_compressed(tmp, meta=np.array(json.dumps(meta)), **arrays)
    tmp.replace(path)


# -- text --------------------------------------------------------------------------------------------------------------
def resolve_text(text: str | None) -> tuple[str, str]:
    """(text, label): ``None`` → the default text and its label; otherwise the given text ("text supplied by the
    user"). ValueError for an empty or oversized text."""
    if text is None:
        return sources.default_text(), sources.DEFAULT_TEXT_LABEL
    if not isinstance(text, str) or not text.strip():
        raise ValueError("text must be non-empty")
    if len(text.encode("utf-8")) > sources.MAX_TEXT_BYTES:
        raise ValueError(f"text must be at most {sources.MAX_TEXT_BYTES:,} bytes")
    return text, "text supplied by the user"


def encode_prefix(lm, text: str, tokens: int) -> list[int]:
    """The first ``tokens`` ids of ``text``, as tokenizing the whole text gives them, without tokenizing all of a long
    text: prefixes of 8, 16, 32 … characters per token are tokenized until two successive cuts agree on the first
    ``tokens`` ids and each has an id beyond them (a cut inside a word or a run of spaces changes the ids next to
    it: ``('x' + ' ' * 15) * 2000`` cut after 128 characters ends in a 15-space token where the text has 14 spaces
    and ' x'); the whole text when no two cuts agree first."""
    n, prev = tokens * 8, None
    while n < len(text):
        try:
            ids = lm.encode(text[:n], tokens + 1)[:tokens]
        except ValueError:
            ids = None                                  # this cut holds too few tokens
        if ids is not None and ids == prev:
            return ids
        prev, n = ids, 2 * n
    return lm.encode(text, tokens)


# -- model metadata ----------------------------------------------------------------------------------------------------
def model_info(lm) -> dict:
    """JSON-ready description of a loaded model: layers, heads, kv_heads, head_dim, layer_types, rope (per layer type:
    the RopeConfig as a dict + its attention window), context_length."""
    return {
        "model": lm.name, "model_key": lm.key, "source": lm.source, "model_type": lm.hf_config.get("model_type"),
        "layers": lm.n_layers, "heads": lm.n_heads, "kv_heads": lm.n_kv_heads, "head_dim": lm.head_dim,
        "layer_types": list(lm.layer_types), "main_type": lm.main_type, "context_length": lm.context_length,
        "rope": {t: {"config": c.to_dict(), "window": lm.windows[t]} for t, c in lm.rope.items()},
    }


def rope_of(info: Mapping[str, Any]) -> dict[str, RopeConfig]:
    """RopeConfig per layer type from ``model_info`` (or a cached result)."""
    return {t: RopeConfig(**v["config"]) for t, v in info["rope"].items()}


def _model_key(model: str, models_dir) -> str:
    """A key that identifies the model's weights without loading it (bundled: name + version; local: path + stat)."""
    from . import loader

    if model in sources.BUNDLED:
        ver = sources.SMOLLM2_VERSION if model == "smollm2-135m" else "1.0.0"
        return f"{model}-{ver}-c{loader.CONVERT_VERSION}"
    path = sources.resolve_local(model, sources.models_dir(models_dir))
    return f"{path}-{loader._folder_key(path) if path.is_dir() else loader._file_key(path)}"


def _load_model(model: str, models_dir, progress: Progress):
    from .loader import load_model

    return load_model(model, models_dir=models_dir, progress=progress)


# -- inspect -----------------------------------------------------------------------------------------------------------
def inspect(model: str = sources.DEFAULT_MODEL, text: str | None = None, tokens: int = 512, *,
            distance: bool = True, models_dir=None, progress: Progress | None = None, cache: bool = True) -> dict:
    """Pair norms of q and k as they enter attention over the first ``tokens`` tokens of ``text`` (default text when
    None), the same pair norms of W_q / W_k, and (``distance``) attention vs distance; see
    ``measure.collect_stats`` and ``measure.weight_pair_norms`` for the arrays. Adds ``model_info`` fields,
    ``tokens``, ``text_label``, ``text_hash``, ``pairs``."""
    from . import measure

    progress = progress or _noop
    tokens = _check_tokens(tokens)
    text, label = resolve_text(text)
    key = {"model": _model_key(model, models_dir), "text": sources.text_hash(text), "tokens": tokens,
           "distance": bool(distance)}
    path = _cache_path("inspect", key)
    if cache and (hit := _load(path)) is not None:
        return hit
    lm = _load_model(model, models_dir, lambda f, m: progress(0.3 * f, m))
    ids = encode_prefix(lm, text, tokens)
    stats = measure.collect_stats(lm, ids, distance=distance, progress=lambda f, m: progress(0.3 + 0.7 * f, m))
    result = {**model_info(lm), "tokens": tokens, "text_label": label, "text_hash": key["text"],
              "pairs": int(stats["q_pair_norm"].shape[-1]), **stats, **measure.weight_pair_norms(lm)}
    if cache:
        _save(path, result)
    progress(1.0, "done")
    return result


# -- perplexity --------------------------------------------------------------------------------------------------------
def settings_rope(info: Mapping[str, Any], *, base: float | None = None, scaling: str | None = None,
                  factor: float | None = None, original_context: int | None = None,
                  extra: Mapping[str, Any] | None = None) -> dict[str, RopeConfig] | None:
    """The RoPE per layer type for user settings: the model's main layer type (full attention) gets ``base`` and / or
    ``scaling`` (a rope_type in SCALING_TYPES with ``factor`` and ``extra`` keys; original context = the trained
    context unless given; the context becomes factor × original); other layer types keep theirs. None: the model's
    own RoPE. ValueError naming the field for bad settings."""
    rope = rope_of(info)
    t = info["main_type"]
    cfg = rope[t]
    if base is None and scaling in (None, "none"):
        if extra or factor is not None:
            raise ValueError("factor and scaling keys need --scaling TYPE")
        return None
    if base is not None:
        cfg = cfg.replace(base=float(base))
    if scaling not in (None, "none"):
        V.choice("scaling", scaling, SCALING_TYPES)
        if factor is None:
            raise ValueError(f"scaling {scaling} needs a factor (e.g. --factor 2)")
        from ..scaling import extend

        cfg = extend(cfg, scaling, float(factor), original_context=original_context)
        if extra:
            cfg = cfg.replace(scaling={**dict(cfg.scaling), **dict(extra)})
    out = dict(rope)
    out[t] = cfg
    return out


def bucket_edges(tokens: int, bucket: int) -> list[int]:
    """0, B, 2B, …, tokens (the last bucket may be shorter)."""
    bucket = V.integer("bucket", bucket, 1, tokens)
    return list(range(0, tokens, bucket)) + [tokens]


def _settings(base, scaling, factor, original_context, extra) -> dict:
    """The normalised perplexity settings (also the cache key); ValueError for an unknown scaling."""
    scaling = None if scaling is None else V.choice("scaling", scaling, ("none",) + SCALING_TYPES)
    return {"base": None if base is None else V.real("base", base), "scaling": None if scaling == "none" else scaling,
            "factor": None if factor is None else V.real("factor", factor),
            "original_context": None if original_context is None else V.integer("original_context",
                                                                                original_context, 2),
            "extra": dict(extra or {})}


def perplexity(model: str = sources.DEFAULT_MODEL, text: str | None = None, tokens: int = 512, *,
               bucket: int | None = None, base: float | None = None, scaling: str | None = None,
               factor: float | None = None, original_context: int | None = None,
               extra: Mapping[str, Any] | None = None, models_dir=None, progress: Progress | None = None,
               cache: bool = True) -> dict:
    """Per-position loss of the first ``tokens`` tokens with the RoPE from ``settings_rope`` (one forward pass; loss in
    chunks). Returns model_info fields plus ``nll`` ((tokens − 1,) nats; entry t − 1 is position t), ``buckets``
    ([{"start", "end", "nll", "ppl", "n"}] over ``bucket``-token buckets), ``nll_mean``, ``ppl``, ``settings``,
    ``rope_used`` (the main layer type's RopeConfig dict), ``text_label``, ``text_hash``."""
    from . import measure

    progress = progress or _noop
    tokens = _check_tokens(tokens)
    edges = bucket_edges(tokens, tokens if bucket is None else bucket)
    text, label = resolve_text(text)
    settings = _settings(base, scaling, factor, original_context, extra)
    key = {"model": _model_key(model, models_dir), "text": sources.text_hash(text), "tokens": tokens,
           "settings": settings}
    path = _cache_path("ppl", key)
    hit = _load(path) if cache else None
    if hit is None:
        lm = _load_model(model, models_dir, lambda f, m: progress(0.2 * f, m))
        info = model_info(lm)
        rope = settings_rope(info, **settings)
        ids = encode_prefix(lm, text, tokens)
        nll = measure.token_nll(lm, ids, rope, progress=lambda f, m: progress(0.2 + 0.8 * f, m))
        used = (rope or lm.rope)[lm.main_type]
        hit = {**info, "tokens": tokens, "text_label": label, "text_hash": key["text"], "settings": settings,
               "rope_used": used.to_dict(), "nll": nll}
        if cache:
            _save(path, hit)
    nll = np.asarray(hit["nll"])
    hit["buckets"] = measure.bucket_means(nll, edges)
    hit["nll_mean"] = float(nll.mean())
    hit["ppl"] = float(np.exp(nll.mean()))
    progress(1.0, "done")
    return hit


def perplexity_many(model: str, text: str | None, tokens: int, settings: Mapping[str, Mapping[str, Any]], *,
                    bucket: int | None = None, models_dir=None, progress: Progress | None = None) -> dict:
    """``perplexity`` for each label → settings (keyword arguments of ``perplexity``) in turn, one progress bar over
    all of them. Returns label → result."""
    progress = progress or _noop
    out = {}
    n = max(1, len(settings))
    for i, (label, kw) in enumerate(settings.items()):
        out[label] = perplexity(model, text, tokens, bucket=bucket, models_dir=models_dir, **kw,
                                progress=lambda f, m, i=i, label=label: progress((i + f) / n, f"{label}: {m}"))
    return out


def cached_result(kind: str, model: str, text: str | None, tokens: int, *, models_dir=None,
                  **settings: Any) -> bool:
    """Whether ``inspect`` (kind "inspect", settings: distance) or ``perplexity`` (kind "ppl", settings as its keyword
    arguments) would be answered from the disk cache."""
    text, _ = resolve_text(text)
    key: dict[str, Any] = {"model": _model_key(model, models_dir), "text": sources.text_hash(text), "tokens": tokens}
    if kind == "inspect":
        key["distance"] = bool(settings.get("distance", True))
    else:
        key["settings"] = _settings(settings.get("base"), settings.get("scaling"), settings.get("factor"),
                                    settings.get("original_context"), settings.get("extra"))
    return _cache_path(kind, key).is_file()
