"""Kernel: what RoPE costs — measured time next to attention, analytic memory, and precision on this device."""

import importlib.util

import streamlit as st

from rope_viz import ui

ui.page_header("Kernel: what RoPE costs", """
RoPE is cheap arithmetic — about **3 FLOPs per query/key element**, ~0.006 % of a layer's FLOPs — so whatever it
costs is **memory traffic**: reading q and k, reading a cos/sin table, writing q and k back. This page measures that
on the machine running the app, next to the attention it feeds, and checks two claims often quoted about RoPE
("3.7 % compute overhead", "12.5 % memory"), then looks at **precision**: angles m·θ computed in fp32 drift at long
positions, and bf16 breaks RoPE's relative-position promise (Wang et al. 2024, arXiv:2411.13476).

rope_viz's own kernel (`rope_viz.torch_backend.apply_rope_qk`) is a fused Triton kernel: one launch rotates q and k,
angles are formed in fp32 registers from the positions (no cos/sin table is read), any (B, H, S, D) or (B, S, H, D)
strides, grouped-query heads. Without a CUDA GPU it falls back to eager torch.
""")
cfg = ui.config_sidebar()

HAS_TORCH = importlib.util.find_spec("torch") is not None
GPU_SIZES = [1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072]
CPU_SIZES = [64, 128, 256, 512, 1024, 2048]

# -- 1 · device -------------------------------------------------------------------------------------------------
st.subheader("1 · Device")
if not HAS_TORCH:
    st.warning("**PyTorch is not installed**, so nothing can be measured here: the benchmark and the precision lab "
               "need it (`pip install torch==2.13.0`, see the README). The memory table and the fp32 phase-error "
               "chart below are analytic and work without it.")
    on_gpu = False
else:
    import torch

    from rope_viz import torch_backend as tb

    on_gpu = torch.cuda.is_available()
    name = tb.device_name()
    if on_gpu:
        kern = ("Triton kernel available" if tb.triton_available() else
                "triton not importable: the eager torch fallback is measured")
        st.success(f"**GPU: {name}** — {kern}.")
    else:
        st.info(f"**No CUDA GPU — {name}.** Timings below are **CPU numbers** at small sizes (the Triton kernel "
                "needs CUDA; 'rope_viz kernel' runs its eager torch fallback). Run `python -m rope_viz.bench gpu` "
                "on a GPU machine for the real comparison.")

# -- 2 · time -------------------------------------------------------------------------------------------------------
st.subheader("2 · Time: RoPE next to attention")
st.markdown("""
Batch 1, **32 query heads, 8 KV heads, head dim 128** (Llama-3-8B's attention), bf16. Each RoPE variant rotates q and
k of one layer; *copy* moves the same bytes (the floor for a memory-bound op); *causal attention* is
`scaled_dot_product_attention(q, k, v, is_causal=True)`. Reference H100 numbers (ENVIRONMENT.md): copy 0.24 ms at
32K; torch.compile 1.8×, Liger 2.8×, eager 9× the copy; eager RoPE ≈ 15 % of flash attention's time at 32K.
""")
if HAS_TORCH:
    sizes = GPU_SIZES if on_gpu else CPU_SIZES
    default_sizes = [4096, 32768, 131072] if on_gpu else [128, 256, 512]
    c1, c2 = st.columns([2, 3])
    seq_lens = c1.multiselect("Sequence lengths S (tokens)" + ("" if on_gpu else " — CPU: small sizes"), sizes,
                              default=default_sizes, format_func=lambda v: f"{v:,}", key="kernel_seq_lens")
    from rope_viz.torch_backend.bench import METHODS
    all_methods = [m for m in METHODS if m != "copy"]
    default_methods = ["ours", "hf-eager", "hf-compile", "meta-complex", "liger", "sdpa"] if on_gpu else \
        ["ours", "hf-eager", "meta-complex", "sdpa"]
    from rope_viz.figures.kernel import METHOD_LABELS
    methods = c2.multiselect("Methods", all_methods, default=default_methods, format_func=METHOD_LABELS.get,
                             key="kernel_methods",
                             help="torch.compile takes ~a minute to compile on CPU; Liger runs only if installed.")
    if st.button("Run the benchmark", type="primary", disabled=not seq_lens, key="kernel_run"):
        from dataclasses import asdict

        from rope_viz.torch_backend.bench import run_benchmark

        bar = st.progress(0.0, text="starting…")
        res = run_benchmark(sorted(seq_lens), methods=["copy"] + methods, compile_on_cpu="hf-compile" in methods,
                            progress=lambda f, msg: bar.progress(min(max(f, 0.0), 1.0), text=msg))
        bar.empty()
        st.session_state["kernel_result"] = asdict(res)
    result = st.session_state.get("kernel_result")
    if result is None:
        st.caption("Choose sizes and press **Run the benchmark** (CPU: a few seconds at the default sizes).")
    else:
        from rope_viz.figures.kernel import kernel_timing
        from rope_viz.torch_backend.bench import BenchResult, format_table

        fig = ui.guarded(kernel_timing, cfg, result=result) if cfg is not None else None
        ui.show_figure(fig, name="kernel_timing", caption=kernel_timing.caption)
        br = BenchResult(**result)
        br.ms = {m: {int(s): t for s, t in v.items()} for m, v in br.ms.items()}
        rows = [{"S (tokens)": r["seq_len"], "method": METHOD_LABELS[r["method"]], "ms": round(r["ms"], 4),
                 "× copy": None if r["x_copy"] is None else round(r["x_copy"], 2),
                 "% of attention": None if r["pct_sdpa"] is None else round(r["pct_sdpa"], 1)}
                for r in br.rows()]
        st.dataframe(rows, hide_index=True, width="stretch")
        with st.expander("As printed by `python -m rope_viz.bench gpu`"):
            st.code(format_table(br), language=None)
else:
    st.caption("(needs PyTorch)")

# -- 3 · memory -----------------------------------------------------------------------------------------------------
st.subheader("3 · Memory: the cos/sin table vs the KV cache")
st.markdown("""
transformers keeps **cos and sin of shape (T, r)** in the activations' dtype; one layer's **KV cache** is K and V of
shape (T, n_kv, d). One layer's table is therefore **r / (n_kv·d)** of that layer's KV cache — with full rotary and
**8 KV heads exactly 12.5 %**, the likely source of the "12.5 % memory" claim. But **one table serves every layer**,
so against the whole model's KV cache it is 12.5 % / n_layers (0.39 % for 32 layers); a fused kernel keeps none.
No published source for the 12.5 % figure was found (rope-literature §8).
""")


@st.fragment
def memory_section(cfg):
    """The memory table and chart (a fragment: its widgets rerun only this section)."""
    c1, c2, c3, c4 = st.columns(4)
    n_layers = c1.number_input("Layers", 1, 512, **ui.persist("klayers", 32, lo=1, hi=512))
    n_kv = c2.number_input("KV heads", 1, 256, **ui.persist("kkvh", 8, lo=1, hi=256))
    mem_dtype = c3.selectbox("Dtype", ["bfloat16", "float16", "float32", "fp8"], key="kernel_mem_dtype")
    use_ctx = c4.toggle("T = context length", value=True, key="kernel_mem_ctx", help="Otherwise 4,096 tokens.")
    if cfg is None:
        return
    from rope_viz.analysis.overhead import rope_memory

    T = cfg.context_length if use_ctx else 4096
    rows = ui.guarded(rope_memory, cfg, seq_len=T, n_layers=int(n_layers), n_kv_heads=int(n_kv), dtype=mem_dtype)
    if rows:
        st.dataframe([{"item": r["item"], "MiB": round(r["bytes"] / 2 ** 20, 4),
                       "% of one layer's KV": round(r["pct_layer_kv"], 3),
                       "% of the model's KV": round(r["pct_model_kv"], 4)} for r in rows],
                     hide_index=True, width="stretch")
    fig = ui.guarded(ui.cached_figure, "kernel_memory", cfg, n_layers=int(n_layers), n_kv_heads=int(n_kv),
                     seq_len=T, dtype=mem_dtype)
    ratio = 100 * cfg.rotary_dim / (int(n_kv) * cfg.head_dim)
    ui.show_figure(fig, name="kernel_memory",
                   caption=f"Table / one layer's KV = r/(n_kv·d) = {cfg.rotary_dim}/({int(n_kv)}·{cfg.head_dim}) = "
                           f"{ratio:.3g} %; against all {int(n_layers)} layers: {ratio / int(n_layers):.3g} %.")


memory_section(cfg)

# -- 4 · precision ----------------------------------------------------------------------------------------------------
st.subheader("4 · Precision lab")
st.markdown("""
**Phase error.** transformers forms the angle m·θᵢ as an fp32 product. Its error against the exact (float64) angle
grows with the position — for base 10⁴: 1.2·10⁻⁴ rad at 4K, 9.7·10⁻⁴ at 32K, 3.9·10⁻³ at 128K, 3.1·10⁻² at 1M
(computed, rope-literature §6c). An inv_freq buffer left in **bf16** (transformers issue #29496) is off by ~0.3 % per
pair: the phase is lost after a few thousand tokens. `rope_viz.testing.check_rope` detects that bug in your code.
""")

INVARIANCE_MD = """
**Relative-position invariance** (Wang et al. 2024). A query and a key Δ = 16 tokens apart should give the same
attention logit wherever they sit. Random q, k (logits ~N(0, 1)) are placed at start positions m and rotated in each
precision on this device, the way transformers' eager path does (fp32 angles, cos/sin cast to the dtype, arithmetic in
the dtype); the error is against the exact float64 logit of the same (dtype-rounded) q and k. *bf16, fp32 math*
is the rope_viz kernel's recipe: rotate in fp32, round the output once.
"""


@st.fragment
def precision_section(cfg):
    """Phase error and invariance error vs position (a fragment: the position slider reruns only this section)."""
    opts = [1 << k for k in range(12, 25)]
    max_pos = st.select_slider("Largest position (tokens)", options=opts, format_func=lambda v: f"{v:,}",
                               **ui.persist("kmaxpos", 1 << 20, options=opts))
    if cfg is None:
        return
    fig = ui.guarded(ui.cached_figure, "kernel_phase_error", cfg, max_position=int(max_pos))
    ui.show_figure(fig, name="kernel_phase_error",
                   caption="Max over pairs of |φ_fp32 − φ_exact|. The error is largest at pair 1, not pair 0: "
                           "θ₀ = 1 is exact in fp32.")
    st.markdown(INVARIANCE_MD)
    if HAS_TORCH:
        fig = ui.guarded(ui.cached_figure, "kernel_invariance", cfg, max_position=int(min(max_pos, 1 << 22)),
                         n_samples=64)
        ui.show_figure(fig, name="kernel_invariance", caption="Measured on " + tb.device_name() + ". "
                       "fp32 stays ~1e-7 at short range and grows with m (the angle's own fp32 error); bf16 and "
                       "fp16 sit orders of magnitude higher.")
    else:
        st.caption("(needs PyTorch)")


precision_section(cfg)
