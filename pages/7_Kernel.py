"""Kernel: what RoPE costs — measured time next to attention, analytic memory, and precision on this device."""

import importlib.util

import streamlit as st

from rope_viz import ui
from rope_viz.figures import kernel as FK

ui.page_header("Kernel: what RoPE costs", """
RoPE is cheap arithmetic — a multiply-add or two per query/key element — so whatever it costs is **memory traffic**:
reading q and k, reading a cos/sin table, writing q and k back. This page measures that on the machine running the
app, next to the attention it feeds, and checks two claims often quoted about RoPE ("3.7 % compute overhead",
"12.5 % memory"), then looks at **precision**: angles m·θ computed in fp32 drift at long positions, and bf16 breaks
RoPE's relative-position promise (Wang et al. 2024, arXiv:2411.13476).

rope_viz's own kernel (`rope_viz.torch_backend.apply_rope_qk`) is a fused Triton kernel: one launch rotates q and k,
angles are formed in fp32 registers from the positions (no cos/sin table is read), any (B, H, S, D) or (B, S, H, D)
strides, grouped-query heads. Without a CUDA GPU it falls back to eager torch.
""")
cfg = ui.config_sidebar()

HAS_TORCH = importlib.util.find_spec("torch") is not None
GPU_SIZES, CPU_SIZES = [1 << k for k in range(10, 18)], [1 << k for k in range(6, 12)]

# -- the device (above the sections: every section's numbers are this device's) ---------------------------------
if not HAS_TORCH:
    st.warning("**PyTorch is not installed**, so nothing can be measured here: the benchmark and the precision lab "
               "need it (`pip install torch==2.13.0`, see the README). The Memory section and the fp32 phase-error "
               "chart in the Precision section are analytic and work without it.")
    on_gpu = False
else:
    import torch

    from rope_viz import torch_backend as tb
    on_gpu = torch.cuda.is_available()
    if on_gpu:
        kern = ("Triton kernel available" if tb.triton_available() else
                "triton not importable: the eager torch fallback is measured")
        st.success(f"**GPU: {tb.device_name()}** — {kern}.")
    else:
        st.info(f"**No CUDA GPU — {tb.device_name()}.** What this page measures (the Time benchmark, the "
                "Precision section's invariance test) runs on the **CPU**; the Time section's timings are CPU numbers "
                "at small sizes (the Triton kernel needs CUDA; 'rope_viz kernel' runs its eager torch fallback). Run "
                "`python -m rope_viz.bench gpu` on a GPU machine for the real comparison.")


def time_section(cfg):
    """Measured time of the RoPE variants next to attention (runs only when the button is pressed)."""
    st.subheader("Time: RoPE next to attention")
    st.markdown(FK.flops_statement())
    st.markdown("""
Batch 1, **32 query heads, 8 KV heads, head dim 128** (Llama-3-8B's attention), bf16 — one fixed shape whatever the
sidebar says (the Memory and Precision sections follow the sidebar's config). Each RoPE variant rotates q and
k of one layer; *copy* moves the same bytes (the floor for a memory-bound op); *causal attention* is
`scaled_dot_product_attention(q, k, v, is_causal=True)`. Every measurement is warmed up, then repeated until the middle
half of its timings lies within 10 % of the median or its time budget ends; the table shows the median, the fastest
run and that spread, and flags a measurement that stayed noisy (or ran faster than the copy floor, which only a busy
machine can do).
""")
    if HAS_TORCH:
        from rope_viz.torch_backend.bench import METHODS, run_benchmark

        sizes = GPU_SIZES if on_gpu else CPU_SIZES
        all_methods = [m for m in METHODS if m != "copy"]
        # in the URL (?ks=128,256&km=ours,sdpa); a GPU and a CPU server offer different sizes, so a size the server
        # does not offer is dropped with the page's URL notice
        seq_lens = st.multiselect("Sequence lengths S (tokens)" + ("" if on_gpu else " — CPU: small sizes"), sizes,
                                  format_func=lambda v: f"{v:,}",
                                  **ui.persist("ks", [4096, 32768, 131072] if on_gpu else [128, 256, 512],
                                               options=sizes))
        methods = st.multiselect("Methods", all_methods, format_func=FK.METHOD_LABELS.get,
                                 help="torch.compile takes ~a minute to compile on CPU; Liger runs only if installed.",
                                 **ui.persist("km", ["ours", "hf-eager", "hf-compile", "meta-complex", "liger", "sdpa"]
                                              if on_gpu else ["ours", "hf-eager", "meta-complex", "sdpa"],
                                              options=all_methods))
        if st.button("Run the benchmark", type="primary", disabled=not seq_lens, key="kernel_run"):
            from dataclasses import asdict

            from rope_viz import jobs
            bar = st.progress(0.0, text="starting…")
            key = ("kernel-bench", tuple(sorted(seq_lens)), tuple(methods))     # one run at a time per server, shared
            try:
                res = jobs.wait(jobs.submit(key, run_benchmark, sorted(seq_lens), methods=["copy"] + methods,
                                            compile_on_cpu="hf-compile" in methods),
                                lambda j: bar.progress(min(max(j.progress, 0.0), 1.0), text=j.status_text()))
                st.session_state["kernel_result"] = asdict(res)
            except (jobs.QueueFull, jobs.Cancelled, ValueError) as e:
                ui.show_error(str(e))
            bar.empty()
        result = st.session_state.get("kernel_result")
        if result is None:
            st.caption("Choose sizes and press **Run the benchmark** (CPU: a few seconds at the default sizes).")
        elif cfg is not None:
            from rope_viz.torch_backend.bench import BenchResult, format_table
            ui.show_registered("kernel_timing", cfg, result=result)
            ui.table(FK.timing_table(result))
            with st.expander("As printed by `python -m rope_viz.bench gpu`"):
                st.code(format_table(BenchResult.from_dict(result)), language=None)
    else:
        st.caption("(needs PyTorch)")


MEMORY_MD = """
transformers keeps **cos and sin of shape (T, r)** in the activations' dtype; one layer's **KV cache** is K and V of
shape (T, n_kv, d). One layer's table is therefore **r / (n_kv·d)** of that layer's KV cache — with full rotary and
**8 KV heads exactly 1/8**, the likely source of the "12.5 % memory" claim. But **one table serves every layer**,
so against the whole model's KV cache it is that share divided by the number of layers; a fused kernel keeps none.
We found no published source for the 12.5 % figure.
"""


def memory_section(cfg):
    """The cos/sin table against the KV cache: its explanation, then the fragment with its controls."""
    st.subheader("Memory: the cos/sin table vs the KV cache")
    st.markdown(MEMORY_MD)
    memory_numbers(cfg)


@st.fragment
def memory_numbers(cfg):
    """The memory table and chart (a fragment: its widgets rerun only this section)."""
    c1, c2, c3, c4 = st.columns(4)
    n_layers = c1.number_input("Layers", 1, 512, **ui.persist("klayers", 32, lo=1, hi=512))
    n_kv = c2.number_input("KV heads", 1, 256, **ui.persist("kkvh", 8, lo=1, hi=256))
    dtypes = ["bfloat16", "float16", "float32", "fp8"]
    mem_dtype = c3.selectbox("Dtype", dtypes, **ui.persist("kdt", "bfloat16", options=dtypes))
    use_ctx = c4.toggle("T = context length", help="Otherwise 4,096 tokens.", **ui.persist("kctx", True))
    if cfg is None:
        return
    kw = dict(seq_len=cfg.context_length if use_ctx else 4096, n_layers=int(n_layers), n_kv_heads=int(n_kv),
              dtype=mem_dtype)
    rows = ui.guarded(FK.memory_table, cfg, **kw)
    if rows:
        ui.table(rows)
    ui.show_registered("kernel_memory", cfg, **kw)


PHASE_MD = """
**Phase error.** transformers forms the angle m·θᵢ as an fp32 product; its error against the exact (float64) angle
grows with the position (the chart's caption gives it at this config's positions). An inv_freq buffer left in **bf16**
(transformers issue #29496) keeps only 8 significant bits per frequency, so its phase is lost far sooner (the
caption says from which position). `rope_viz.testing.check_rope` detects that bug in your code.
"""

INVARIANCE_MD = """
**Relative-position invariance** (Wang et al. 2024). A query and a key Δ = 16 tokens apart should give the same
attention logit wherever they sit. Random q, k (logits ~N(0, 1)) are placed at start positions m and rotated in each
precision on this device, the way transformers' eager path does (fp32 angles, cos/sin cast to the dtype, arithmetic in
the dtype); the error is against the exact float64 logit of the same (dtype-rounded) q and k. *bf16, fp32 math*
is the rope_viz kernel's recipe: rotate in fp32, round the output once.
"""


def precision_section(cfg):
    """Phase error and relative-position invariance: the explanation, then the fragment with its slider."""
    st.subheader("Precision lab")
    st.markdown(PHASE_MD)
    precision_charts(cfg)


@st.fragment
def precision_charts(cfg):
    """Phase error and invariance error vs position (a fragment: the position slider reruns only this section)."""
    opts = [1 << k for k in range(12, 25)]
    cover = next((o for o in opts if cfg is not None and o >= cfg.context_length), opts[-1])
    max_pos = st.select_slider("Largest position (tokens)", options=opts, format_func=lambda v: f"{v:,}",
                               **ui.persist("kmaxpos", max(1 << 20, cover), options=opts))
    if cfg is None:
        return
    ui.show_registered("kernel_phase_error", cfg, max_position=int(max_pos))
    st.markdown(INVARIANCE_MD)
    if HAS_TORCH:
        ui.show_registered("kernel_invariance", cfg, max_position=int(min(max_pos, 1 << 22)), n_samples=32)
    else:
        st.caption("(needs PyTorch)")


# one tab per section; only the open one runs (the page loads and reruns one section, not three)
SECTIONS = {"Time": time_section, "Memory": memory_section, "Precision": precision_section}
label, tab = ui.sections(list(SECTIONS), name="ktab")
with tab:
    SECTIONS[label](cfg)
