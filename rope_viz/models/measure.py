"""Measurements on a loaded model (torch; float32 model, float64 accumulators).

* ``collect_stats``: per layer × head × rotary pair the mean L2 norm of q and k *as they enter attention* (after any
  QK-norm and after RoPE, which does not change a pair's norm), and attention vs distance (mean pre-softmax logit and
  mean attention weight at each query–key distance, share of attention on token 0), through a registered attention
  function that observes q and k and then runs SDPA. Nothing per layer is kept beyond its running sums; the
  distance statistics work in query blocks of at most BLOCK_ELEMENTS scores, so long inputs never hold an L × L
  matrix. A model with attention-logit soft-capping (Gemma 2: c·tanh(score / c)) is measured on the capped logits
  it really uses, and run through its own eager attention (SDPA has no soft-capping).
* ``weight_pair_norms``: the same pair norms of W_q / W_k (Frobenius norm of the two rows of a pair).
* ``token_nll``: per-position next-token loss with the model's RoPE replaced by any RopeConfig (frequencies and
  attention factor from rope_viz.frequencies at the sequence length), logits in chunks (big vocabularies).

Pair convention: the model's own layout (``loader`` reads it off its rotary module): "half" (most transformers
models: pair i is channels i and i + r/2 of the rotary part, the first r channels of a head) or "interleaved" (Cohere,
GLM: channels 2i and 2i + 1); i = 0 fastest.
"""

from __future__ import annotations

import contextlib
import functools
import sys
import threading
from typing import Any, Callable, Mapping

import numpy as np

from ..config import RopeConfig
from ..rotation import pair_indices
from .. import frequencies as _freq
from .loader import LoadedModel, Progress, _noop, _rotary_modules, rotary_emission

ATTN_NAME = "rope_viz_stats"              # observe q, k; then SDPA
ATTN_NAME_EAGER = "rope_viz_stats_eager"  # observe q, k; then the model's own eager attention (soft-capped logits)
_ACTIVE: dict[str, Any] = {}
_RUN_LOCK = threading.Lock()
BLOCK_ELEMENTS = 1 << 22          # query-block size for distance statistics: heads × block × keys ≤ this


def effective_rope(cfg: RopeConfig, length: int) -> tuple[np.ndarray, float]:
    """(θ per pair in rad/token, attention factor) that transformers uses for a ``length``-token sequence."""
    eff = getattr(_freq, "effective_inv_freq", None)
    if eff is not None:
        return np.asarray(eff(cfg, context_length=length), dtype=np.float64), \
            float(_freq.effective_attention_factor(cfg, context_length=length))
    return _freq.inv_freq(cfg, seq_len=length), float(_freq.attention_factor(cfg, seq_len=length))


# -- statistics ------------------------------------------------------------------------------------------------------
class _Collector:
    """Running sums for one forward pass. q, k arrive as (batch, heads, L, d) float tensors."""

    def __init__(self, lm: LoadedModel, distance: bool):
        self.lm, self.distance = lm, distance
        p = _n_pairs(lm)
        self.q = np.zeros((lm.n_layers, lm.n_heads, p))
        self.k = np.zeros((lm.n_layers, lm.n_kv_heads, p))
        self.seen = np.zeros(lm.n_layers, dtype=bool)
        self.logit = self.weight = self.count = self.sink = None
        self.calls = 0

    def observe(self, module, query, key, scaling, window, softcap=None) -> None:
        import torch

        layer = getattr(module, "layer_idx", None)
        layer = self.calls % self.lm.n_layers if layer is None else int(layer)
        self.calls += 1
        cfg = self.lm.rope[self.lm.layer_types[layer]]
        if self.lm.attn_layout:
            cfg = cfg.replace(layout=self.lm.attn_layout)
        a, b = (torch.from_numpy(i + self.lm.rope_offset) for i in pair_indices(cfg))
        with torch.no_grad():
            for arr, x in ((self.q, query), (self.k, key)):
                xd = x[0].double()                                              # (H, L, d)
                norms = torch.sqrt(xd[..., a] ** 2 + xd[..., b] ** 2)            # (H, L, r/2), the model's layout
                arr[layer, :, :len(a)] = norms.mean(dim=1).numpy()
            self.seen[layer] = True
            if self.distance:
                self._distance(layer, query[0], key[0], scaling, window, softcap)

    def _distance(self, layer: int, q, k, scaling: float, window: int | None, softcap: float | None) -> None:
        import torch

        H, L, _ = q.shape
        group = H // k.shape[0]
        kk = k.repeat_interleave(group, dim=0) if group > 1 else k            # (H, L, d)
        if self.logit is None:
            self.logit = np.zeros((self.lm.n_layers, H, L))
            self.weight = np.zeros((self.lm.n_layers, H, L))
            self.count = np.zeros((self.lm.n_layers, L))
            self.sink = np.zeros((self.lm.n_layers, H))
        block = max(1, min(L, BLOCK_ELEMENTS // max(1, H * L)))
        logit = torch.zeros(H, L, dtype=torch.float64)
        weight = torch.zeros(H, L, dtype=torch.float64)
        count = torch.zeros(L, dtype=torch.float64)
        sink = torch.zeros(H, dtype=torch.float64)
        for s in range(0, L, block):
            e = min(L, s + block)
            ok, n_idx, key_ok = _block_index(s, e, window)
            n_idx = n_idx.expand(H, -1, -1)
            scores = torch.matmul(q[:, s:e], kk[:, :e].transpose(-1, -2)) * scaling     # (H, C, e) by key
            if softcap:                                                         # as the model's eager attention
                scores = torch.tanh(scores / softcap) * softcap
            w = torch.softmax(scores.masked_fill(~key_ok, float("-inf")), dim=-1)
            zero = torch.zeros((), dtype=scores.dtype)
            logit[:, :e] += torch.where(ok, torch.gather(scores, 2, n_idx), zero).sum(dim=1).double()
            weight[:, :e] += torch.where(ok, torch.gather(w, 2, n_idx), zero).sum(dim=1).double()
            count[:e] += ok.sum(dim=0).double()
            rows = slice(1 if s == 0 else 0, None)                              # token 0 has only itself
            sink += w[:, rows, 0].sum(dim=1).double()
        c = count.clamp(min=1).numpy()
        self.logit[layer] = logit.numpy() / c
        self.weight[layer] = weight.numpy() / c
        self.count[layer] = count.numpy()
        self.sink[layer] = sink.numpy() / max(1, L - 1)


@functools.lru_cache(maxsize=8)
def _block_index(s: int, e: int, window: int | None):
    """For queries s … e − 1 against keys 0 … e − 1: ``ok`` (C, e) whether distance Δ (column) is attended from query
    s + c (row), ``n_idx`` (C, e) the key position s + c − Δ (clamped to 0), ``key_ok`` (C, e) whether query s + c may
    attend key n (column): causal and, with a window w, s + c − n < w."""
    import torch

    m = torch.arange(s, e)[:, None]
    col = torch.arange(e)[None, :]
    n_idx = m - col
    ok = n_idx >= 0
    key_ok = ok.clone()
    if window:
        ok &= col < window
        key_ok &= n_idx < window
    return ok, n_idx.clamp(min=0), key_ok


def _observe(module, query, key, kw) -> None:
    col = _ACTIVE.get("collector")
    if col is not None:
        scaling = kw.get("scaling")
        scaling = getattr(module, "scaling", query.shape[-1] ** -0.5) if scaling is None else scaling
        window = kw.get("sliding_window") or getattr(module, "sliding_window", None)
        col.observe(module, query, key, float(scaling), window, kw.get("softcap"))


def _attention(module, query, key, value, attention_mask, **kw):
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    _observe(module, query, key, kw)
    return sdpa_attention_forward(module, query, key, value, attention_mask, **kw)


def _attention_eager(module, query, key, value, attention_mask, **kw):
    """For models SDPA cannot run (Gemma 2 soft-caps its attention logits): the eager attention function of the
    module's own modeling file, with an eager (additive) mask."""
    _observe(module, query, key, kw)
    eager = getattr(sys.modules.get(type(module).__module__), "eager_attention_forward", None)
    if eager is None:
        raise ValueError(f"{type(module).__name__} has no eager attention function to run it with")
    return eager(module, query, key, value, attention_mask, **kw)


def _stats_attention(model) -> str:
    """The attention the statistics pass runs: the eager one where the model soft-caps its attention logits or its
    class has no SDPA, else SDPA (faster, same results)."""
    eager = getattr(model.config, "attn_logit_softcapping", None) is not None or not getattr(model, "_supports_sdpa",
                                                                                             True)
    return ATTN_NAME_EAGER if eager else ATTN_NAME


def _register() -> None:
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, eager_mask, sdpa_mask

    AttentionInterface.register(ATTN_NAME, _attention)
    AttentionMaskInterface.register(ATTN_NAME, sdpa_mask)
    AttentionInterface.register(ATTN_NAME_EAGER, _attention_eager)
    AttentionMaskInterface.register(ATTN_NAME_EAGER, eager_mask)


@contextlib.contextmanager
def _attn_impl(model, name: str):
    before = model.config._attn_implementation
    model.set_attn_implementation(name)
    try:
        yield
    finally:
        model.set_attn_implementation(before)


def _layer_progress(lm: LoadedModel, progress: Progress, lo: float, hi: float, what: str):
    """Forward hooks on the decoder layers reporting lo … hi as the layers finish."""
    layers = _decoder_layers(lm)
    n = len(layers)
    handles = []
    for i, layer in enumerate(layers):
        def hook(_m, _a, _o, i=i):
            progress(lo + (hi - lo) * (i + 1) / n, f"{what}: layer {i + 1}/{n}")
        handles.append(layer.register_forward_hook(hook))
    return handles


def _decoder_layers(lm: LoadedModel):
    import torch

    for _, mod in lm.model.named_modules():
        if isinstance(mod, torch.nn.ModuleList) and len(mod) == lm.n_layers:
            return list(mod)
    return []


def _n_pairs(lm: LoadedModel) -> int:
    """Pairs per head in the statistics' arrays: the largest over layer types (narrower layers padded with 0)."""
    return max(cfg.n_pairs for cfg in lm.rope.values())


def collect_stats(lm: LoadedModel, ids, *, distance: bool = True, progress: Progress | None = None) -> dict:
    """One forward pass over token ids, collecting (numpy float64):

      q_pair_norm   (layers, heads, pairs)     mean over tokens of each pair's L2 norm, as q enters attention
      k_pair_norm   (layers, kv_heads, pairs)  the same for k
      and with ``distance``:
      logit_by_distance   (layers, heads, L)   mean pre-softmax logit q·k·scaling at distance Δ = 0 … L − 1
                                           (soft-capped where the model caps: c·tanh(logit / c))
      weight_by_distance  (layers, heads, L)   mean attention weight at distance Δ (causal, window respected)
      count_by_distance   (layers, L)          how many (query, key) pairs each mean is over
      sink_share          (layers, heads)      mean attention weight on token 0 over queries 1 … L − 1
    ``pairs`` is the largest n_pairs over layer types (narrower layers padded with 0). ids: a list of ints."""
    import torch

    progress = progress or _noop
    ids = [int(i) for i in ids]
    if len(ids) < 2:
        raise ValueError(f"tokens must be at least 2; got {len(ids)}")
    _register()
    col = _Collector(lm, distance)
    with _RUN_LOCK, torch.inference_mode(), _attn_impl(lm.model, _stats_attention(lm.model)):
        handles = _layer_progress(lm, progress, 0.0, 1.0, f"{len(ids):,} tokens")
        _ACTIVE["collector"] = col
        try:
            base = lm.model.get_decoder() if hasattr(lm.model, "get_decoder") else lm.model
            base(input_ids=torch.tensor([ids]), use_cache=False)
        finally:
            _ACTIVE.pop("collector", None)
            for h in handles:
                h.remove()
    if not col.seen.all():
        raise RuntimeError("the attention function did not see every layer")
    out = {"q_pair_norm": col.q, "k_pair_norm": col.k}
    if distance:
        out.update(logit_by_distance=col.logit, weight_by_distance=col.weight, count_by_distance=col.count,
                   sink_share=col.sink)
    return out


def weight_pair_norms(lm: LoadedModel) -> dict[str, np.ndarray]:
    """Per layer × head × pair the Frobenius norm of the two rows of W_q (W_k) that produce the pair's channels:
    ``q_weight`` (layers, heads, pairs), ``k_weight`` (layers, kv_heads, pairs). Llama/Gemma-style q_proj/k_proj,
    GPT-NeoX's fused query_key_value and DeepSeek's multi-head latent attention (q_proj, or q_b_proj after a low-rank
    q; the RoPE part of k is one projection, kv_a_proj_with_mqa, shared by every head) are read."""
    d, H, Hk, off = lm.head_dim, lm.n_heads, lm.n_kv_heads, lm.rope_offset
    p = _n_pairs(lm)
    q_out, k_out = np.zeros((lm.n_layers, H, p)), np.zeros((lm.n_layers, Hk, p))
    for layer, mod in enumerate(_decoder_layers(lm)):
        attn = getattr(mod, "self_attn", None) or getattr(mod, "attention", None)
        cfg = lm.rope[lm.layer_types[layer]]

        def rows(lin, heads):
            return lin.weight.detach().double().numpy().reshape(heads, -1, lin.weight.shape[-1])

        k_off = off
        if hasattr(attn, "kv_a_proj_with_mqa"):                      # MLA: q heads [nope | rope]; k's rope rows shared
            wq = rows(attn.q_proj if getattr(attn, "q_proj", None) is not None else attn.q_b_proj, H)
            kr = attn.kv_a_proj_with_mqa.weight.detach().double().numpy()[-cfg.rotary_dim:]
            wk, k_off = np.broadcast_to(kr[None], (Hk, *kr.shape)), 0
        elif hasattr(attn, "q_proj"):
            wq, wk = rows(attn.q_proj, H), rows(attn.k_proj, Hk)
        elif hasattr(attn, "query_key_value"):                      # GPT-NeoX: rows (head, [q|k|v], d)
            w = attn.query_key_value.weight.detach().double().numpy().reshape(H, 3, d, -1)
            wq, wk = w[:, 0], w[:, 1]
        else:
            raise ValueError(f"cannot find the q/k projections of layer {layer} ({type(attn).__name__})")
        a, b = pair_indices(cfg)                                    # the model's layout (half / interleaved)
        for arr, w, o in ((q_out, wq, off), (k_out, wk, k_off)):
            sq = (w ** 2).sum(axis=-1)                              # (heads, rows per head)
            arr[layer, :, : len(a)] = np.sqrt(sq[:, a + o] + sq[:, b + o])
    return {"q_weight": q_out, "k_weight": k_out}


# -- loss with a replaced RoPE -----------------------------------------------------------------------------------------
def _rotary_class():
    import torch

    class FixedRotary(torch.nn.Module):
        """cos/sin from fixed per-layer-type (inv_freq, attention factor), the rotary modules' interface."""

        def __init__(self, table: Mapping[str | None, tuple[np.ndarray, float, str]]):
            super().__init__()
            self.table = {t: (torch.tensor(th, dtype=torch.float32), float(af), layout)
                          for t, (th, af, layout) in table.items()}

        def forward(self, x, position_ids, layer_type=None):
            inv, af, layout = self.table.get(layer_type) or self.table[None]
            freqs = position_ids[..., None].float() * inv.to(x.device)
            emb = (torch.cat((freqs, freqs), dim=-1) if layout == "half"        # θ_i on channels i and i + r/2
                   else torch.repeat_interleave(freqs, 2, dim=-1))              # … or on 2i and 2i + 1
            return (emb.cos() * af).to(x.dtype), (emb.sin() * af).to(x.dtype)

    return FixedRotary


@contextlib.contextmanager
def replaced_rope(lm: LoadedModel, rope: RopeConfig | Mapping[str, RopeConfig] | None, length: int):
    """Within the block the model's rotary modules use ``rope`` (one RopeConfig for every layer type, or one per layer
    type; types not given keep the model's own) at a ``length``-token sequence. None: unchanged."""
    if rope is None:
        yield
        return
    per_type = dict(lm.rope)
    per_type.update({t: rope for t in lm.rope} if isinstance(rope, RopeConfig) else dict(rope))
    for t, cfg in per_type.items():
        if cfg.rotary_dim != lm.rope[t].rotary_dim:
            raise ValueError(f"rope for {t} layers must rotate {lm.rope[t].rotary_dim} channels like the model; "
                             f"got {cfg.rotary_dim}")
        if cfg.layout != lm.rope[t].layout:
            raise ValueError(f"rope layout must be {lm.rope[t].layout!r}, the layout of the model's weights")
    table = {t: (*effective_rope(cfg, length), rotary_emission(lm.model, t)) for t, cfg in per_type.items()}
    table[None] = table[lm.main_type]
    fixed = _rotary_class()(table)
    mods = _rotary_modules(lm.model)
    saved = [(parent, attr, getattr(parent, attr)) for parent, attr in mods]
    for parent, attr in mods:
        setattr(parent, attr, fixed)
    try:
        yield
    finally:
        for parent, attr, orig in saved:
            setattr(parent, attr, orig)


def token_nll(lm: LoadedModel, ids, rope: RopeConfig | Mapping[str, RopeConfig] | None = None, *,
              chunk: int = 1024, progress: Progress | None = None) -> np.ndarray:
    """Next-token negative log-likelihood in nats, shape (L − 1,): entry t − 1 is −log p(ids[t] | ids[:t]), with the
    model's RoPE replaced by ``rope`` (see ``replaced_rope``). The decoder runs once; its final hidden states go
    through the model's own output head ``chunk`` positions at a time (never an L × vocabulary matrix), so whatever
    the model does to its logits (Gemma 2/3's soft-capping, Cohere's logit_scale, Granite's logits_scaling …) is
    applied as transformers applies it."""
    import torch

    progress = progress or _noop
    ids = [int(i) for i in ids]
    if len(ids) < 2:
        raise ValueError(f"tokens must be at least 2; got {len(ids)}")
    x = torch.tensor([ids])
    decoder = lm.model.get_decoder()
    with _RUN_LOCK, torch.inference_mode(), replaced_rope(lm, rope, len(ids)):
        handles = _layer_progress(lm, progress, 0.0, 0.95, f"loss over {len(ids):,} tokens")
        try:
            hidden = decoder(input_ids=x, use_cache=False).last_hidden_state   # (1, L, hidden)
        finally:
            for h in handles:
                h.remove()
        out = np.empty(len(ids) - 1)
        with _decoder_output(decoder) as feed:
            for s in range(0, len(ids) - 1, chunk):
                e = min(len(ids) - 1, s + chunk)
                feed(hidden[:, s:e])
                logits = lm.model(input_ids=x[:, s:e], use_cache=False).logits[0].float()
                out[s:e] = torch.nn.functional.cross_entropy(logits, x[0, s + 1:e + 1],
                                                             reduction="none").double().numpy()
        progress(1.0, "loss done")
    return out


@contextlib.contextmanager
def _decoder_output(decoder):
    """While active, ``decoder`` does not run: it returns the hidden states last given to ``feed`` (1, C, hidden),
    so the model's forward applies only its output head and logit processing to them."""
    from transformers.modeling_outputs import BaseModelOutputWithPast

    class Output(BaseModelOutputWithPast):
        def __getattr__(self, name):            # router logits, extra caches …: absent, as with their flags off
            if name.startswith("__"):
                raise AttributeError(name)
            return None

    given = {}
    decoder.forward = lambda *a, **kw: Output(last_hidden_state=given["h"])
    try:
        yield lambda h: given.__setitem__("h", h)
    finally:
        del decoder.forward


def bucket_means(nll: np.ndarray, edges) -> list[dict]:
    """Mean NLL of the targets at positions start ≤ t < end for consecutive ``edges`` (t = 1 … L − 1 are predicted;
    nll[t − 1] is position t). Returns [{"start", "end", "nll", "ppl", "n"}]."""
    out = []
    edges = [int(e) for e in edges]
    for s, e in zip(edges[:-1], edges[1:]):
        sel = nll[max(s, 1) - 1: e - 1]
        m = float(sel.mean()) if sel.size else float("nan")
        out.append({"start": s, "end": e, "nll": m, "ppl": float(np.exp(m)) if sel.size else float("nan"),
                    "n": int(sel.size)})
    return out


Callback = Callable[[float, str], None]
