"""Context extension: PI, NTK, dynamic NTK, YaRN, Llama 3 and LongRoPE side by side for one base model."""

import streamlit as st

from rope_viz import ui
from rope_viz.figures.extension import METHOD_LABELS, METHODS, extension_methods

ui.page_header("Context extension: stretching RoPE past its training length", """
A model trained on L₀ tokens has never seen the angles its slow pairs reach beyond L₀. Context-extension methods
change the frequencies so that a longer context maps back onto familiar angles:

- **PI** (linear, Chen et al. 2023) divides every θᵢ by the factor s — fine positions get blurred too.
- **NTK-aware** raises the base (b' = b·s^(r/(r−2))): fast pairs stay, the slowest is slowed by s.
  **Dynamic NTK** does the same with a factor that grows with the running sequence length.
- **YaRN** (Peng et al. 2023) and **Llama 3.1** interpolate only the long-wavelength pairs, keep the short ones,
  and blend in between; YaRN also sharpens attention with a factor 0.1·ln s + 1.
- **LongRoPE** (Ding et al. 2024) searches a separate factor per pair.

The sidebar config is the **base model** (its scaling, if any, is removed and its original context is used as L₀);
every method extends it by the same factor s.
""")
cfg = ui.config_sidebar()



@st.fragment
def score_section(cfg, opts):
    """Score vs distance (a fragment: the log-axis toggle reruns only this chart)."""
    log_x = st.toggle("Log distance axis", **ui.persist("logx_ext", False))
    ui.show_figure(ui.guarded(ui.cached_figure, "ext_score", cfg, log_x=log_x, **opts), name="ext_score",
                   caption="Score of q = k = 1 vs distance (min–max band per bin, exact values underneath): each "
                           "method (colour) against the unscaled model (grey) — scaling stretches the in-context "
                           "pattern out to the target length.")


FACTORS = ["auto", "1.5", "2", "3", "4", "6", "8", "12", "16", "24", "32", "48", "64", "128"]

if cfg is not None:
    c1, c2, c3 = st.columns([2, 2, 3])
    fsel = c1.select_slider("Extension factor s (target = s·L₀)", FACTORS,
                            format_func=lambda v: "auto (from config)" if v == "auto" else f"×{v}",
                            **ui.persist("s_ext", "auto", options=FACTORS))
    factor = None if fsel == "auto" else float(fsel)
    ext0 = ui.guarded(extension_methods, cfg, factor)
    if ext0 is not None:
        target = ext0.target_context
        seq_opts = sorted({ext0.original_context, target // 2, target, 2 * target, 4 * target} - {0})
        seq_opts = [v for v in seq_opts if 1 <= v <= (1 << 24)]
        seq_len = c2.select_slider("Dynamic NTK evaluated at seq_len (tokens)", seq_opts,
                                   format_func=lambda v: f"{v:,}",
                                   **ui.persist("seq_ext", target, options=seq_opts))
        chosen = c3.multiselect("Methods", list(METHODS), format_func=METHOD_LABELS.get,
                                **ui.persist("methods", list(METHODS), options=list(METHODS)))
        ext = ui.guarded(extension_methods, cfg, factor, seq_len)
        if ext is not None and chosen:
            b = ext.base
            st.markdown(f"**Base model:** d = {b.head_dim}, base = {b.base:g}, rotary width {b.rotary_dim}, "
                        f"L₀ = {ext.original_context:,} tokens → **target {ext.target_context:,}** (s = "
                        f"{ext.factor:g}); dynamic NTK at seq_len = {ext.seq_len:,}.")
            if "longrope" in chosen:
                if ext.longrope_source.startswith("preset"):
                    st.info(f"LongRoPE factor lists: from the {ext.longrope_source[7:]} preset (same number of "
                            "pairs); its searched long factors are used, rescaled only through s.")
                else:
                    st.warning("LongRoPE factor lists: no preset with this number of pairs, so a **synthetic** "
                               "monotone ramp is used (short factors 1, long factors rising from 1 for the fastest "
                               "pair to s for the slowest). Real LongRoPE factors come from a search and are not "
                               "monotone; load a Phi-3 preset or import its config.json to see them.")
            opts = dict(factor=ext.factor, seq_len=ext.seq_len, methods=chosen)
            ui.show_figure(ui.guarded(ui.cached_figure, "ext_ratio", cfg, **opts), name="ext_ratio",
                           caption="PI slows every pair by 1/s; NTK leaves fast pairs alone and slows the slowest "
                                   "most; YaRN and Llama 3 switch between the two by wavelength; LongRoPE uses its "
                                   "own factor per pair.")
            ui.show_figure(ui.guarded(ui.cached_figure, "ext_wavelengths", cfg, **opts), name="ext_wavelengths",
                           caption="Wavelengths after scaling against the original (dotted) and the target (solid) "
                                   "context: pairs that never finished a turn in training should stay beyond the "
                                   "target.")
            score_section(cfg, opts)
            ui.show_figure(ui.guarded(ui.cached_figure, "ext_attention_factor", cfg, **opts),
                           name="ext_attention_factor",
                           caption="Only YaRN and LongRoPE rescale attention (cos and sin are multiplied by this "
                                   "factor, so logits by its square) to keep the softmax sharp at long range.")
        elif ext is not None:
            st.info("Select at least one method.")
