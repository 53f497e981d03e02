"""Context extension: PI, NTK, dynamic NTK, YaRN, Llama 3 and LongRoPE side by side for one base model."""

import streamlit as st

from rope_viz import ui
from rope_viz.config import CONTEXT_MAX, format_base
from rope_viz.figures import extension as FE

ui.page_header("Context extension: stretching RoPE past its training length", """
A model trained on L₀ tokens has never seen the angles its slow pairs reach beyond L₀. Context-extension methods
change the frequencies so that a longer context maps back onto familiar angles:

- **PI** (linear, Chen et al. 2023, arXiv:2306.15595) divides every θᵢ by the factor s — fine positions get blurred
  too.
- **NTK-aware** raises the base (b' = b·s^(r/(r−2))): fast pairs stay, the slowest is slowed by s.
  **Dynamic NTK** raises the base with the running sequence length l instead, as transformers computes it:
  b' = b·(s·l/L₀ − (s − 1))^(r/(r−2)). It equals plain RoPE up to l = L₀, and at the target l = s·L₀ it slows the
  slowest pair by s² − s + 1 (13× at s = 4), far more than static NTK's s.
- **YaRN** (Peng et al. 2023, arXiv:2309.00071) and **Llama 3.1** interpolate only the long-wavelength pairs, keep
  the short ones, and blend in between; YaRN also sharpens attention with a factor 0.1·ln s + 1.
- **LongRoPE** (Ding et al. 2024, arXiv:2402.13753) divides each pair by its own factor, found by a search for one
  target length; the factors do not change with s (only its attention factor does).

The sidebar config is the **base model** (its scaling, if any, is removed and its original context is used as L₀);
every method extends it by the same factor s.
""")
cfg = ui.config_sidebar()

FACTORS = ["auto"] + [f"{f:g}" for f in FE.FACTORS]
DYN_LABELS = {"L0": "L₀ (no growth yet)", "0.5": "½ × target", "1": "the target", "2": "2 × target",
              "4": "4 × target"}


@st.fragment
def score_section(cfg, opts):
    """Score vs distance (a fragment: its panel choice and log-axis toggle rerun only this chart). Its panels are
    chosen here (two by default): every panel costs the browser ~20 ms on each redraw the factor slider triggers."""
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    panels = c1.multiselect("Methods in the score chart (one panel each, among the methods above)", list(FE.METHODS),
                            format_func=FE.METHOD_LABELS.get,
                            **ui.persist("score_ext", list(FE.SCORE_PANELS), options=list(FE.METHODS)))
    log_x = c2.toggle("Log distance axis", **ui.persist("logx_ext", False))
    shown = [m for m in opts["methods"] if m in panels]
    if not shown:
        st.info("Pick at least one of the methods chosen above for the score chart.")
        return
    ui.show_registered("ext_score", cfg, log_x=log_x, **{**opts, "methods": shown})


def explain_factor(cfg, ext) -> None:
    """Say why "auto" gives a target other than the config's own context (e.g. Llama 3.1: factor 8, 16× context)."""
    L0, ctx = ext.original_context, cfg.context_length
    if cfg.scaling is None or ctx == ext.target_context:
        return
    st.info(f"This config's scaling factor is s = {ext.factor:g}, so the target here is s·L₀ = "
            f"{ext.target_context:,} tokens, while the config itself serves {ctx:,} tokens = {ctx / L0:g} × L₀. "
            f"In its rule the factor sets how much the slowest pairs are slowed, not the ratio of the contexts (Llama "
            f"3.1 uses factor 8 for a 16× longer context). Pick ×{ctx / L0:g} to extend to its full context.")


def _factor_label(v: str) -> str:
    return "auto (from config)" if v == "auto" else f"×{v}"


def frequencies(cfg, ext, opts, compare):
    ui.show_registered("ext_ratio", cfg, compare=compare, **opts)
    ui.show_registered("ext_wavelengths", cfg, compare=compare, **opts)


def attention_factor(cfg, ext, opts, compare):
    at = FE.attention_factors(ext, opts["methods"])
    scaled = [f"{FE.METHOD_LABELS[m]} ×{v:.4f}" for m, v in at.items() if abs(v - 1.0) > 1e-12]
    unscaled = len(at) - len(scaled)
    st.markdown(f"**Attention factor at s = {ext.factor:g}:** "
                + (", ".join(scaled) if scaled else "none")
                + ("." if not unscaled else
                   f" — the chosen method{'s leave' if unscaled > 1 else ' leaves'} attention unscaled (1)."
                   if not scaled else
                   f" — the other chosen method{'s leave' if unscaled > 1 else ' leaves'} attention unscaled (1)."))
    ui.show_registered("ext_attention_factor", cfg, methods=opts["methods"])


# one tab per view of the chosen methods; only the open one runs (a factor change redraws the charts in view only)
SECTIONS = {"Frequencies and wavelengths": frequencies,
            "Score vs distance": lambda cfg, ext, opts, compare: score_section(cfg, opts),
            "Attention factor": attention_factor}


@st.fragment
def extension_section(cfg):
    """Everything below the header (a fragment: the factor slider, dynamic-NTK length, methods and comparison
    rerun only this part, not the sidebar: ~10 % off each redraw, scripts/bench_ab.py). The sidebar reruns it."""
    factors = FE.factor_choices(cfg)
    L0 = cfg.original_context_length
    if not factors:
        st.info(f"The base model's context L₀ = {L0:,} tokens leaves no room to extend it: s ≥ {FE.FACTORS[0]:g} "
                f"would pass {CONTEXT_MAX:,} tokens, the longest context this tool handles. Pick a shorter context "
                "(or original context) in the sidebar.")
        return
    c1, c2 = st.columns(2)
    fsel = ui.choice_slider(c1, "Extension factor s (target = s·L₀)", factors, name="s_ext",
                            default="auto" if factors[0] == "auto" else factors[-1],
                            fixed_label="Extension factor s (the only one that fits)", format_func=_factor_label)
    if len(factors) < len(FACTORS):
        auto = FE.default_factor(cfg)
        c1.caption(f"Only factors with s·L₀ ≤ {CONTEXT_MAX:,} tokens (the longest context this tool handles) are "
                   "offered" + ("." if factors[0] == "auto" else
                                f"; “auto” (s = {auto:g}, {'the config’s factor' if cfg.scaling else 'the default'}) "
                                "would pass it."))
    dyn = c2.select_slider("Dynamic NTK evaluated at a running length of", list(FE.DYNAMIC_AT),
                           format_func=DYN_LABELS.get, **ui.persist("dyn_ext", "1", options=list(FE.DYNAMIC_AT)))
    chosen = st.multiselect("Methods", list(FE.METHODS), format_func=FE.METHOD_LABELS.get,
                            **ui.persist("methods", list(FE.METHODS), options=list(FE.METHODS)))
    compare = ui.compare_select("cmp_ext", cfg, note="Here each is drawn as it is (its own scaling, not extended "
                                "by s): a base X keeps the sidebar config's scaling, unlike the methods' base model.")
    ext0 = ui.guarded(FE.extension_methods, cfg, None if fsel == "auto" else float(fsel))
    ext = ext0 and ui.guarded(FE.extension_methods, cfg, ext0.factor,
                              FE.dynamic_seq_len(ext0.original_context, ext0.target_context, dyn))
    if ext is not None and chosen:
        b = ext.base
        st.markdown(f"**Base model:** d = {b.head_dim}, base = {format_base(b.base)}, rotary width {b.rotary_dim}, "
                    f"L₀ = {ext.original_context:,} tokens → **target {ext.target_context:,}** (s = "
                    f"{ext.factor:g}); dynamic NTK at a running length of {ext.seq_len:,} tokens.")
        if fsel == "auto":
            explain_factor(cfg, ext)
        if "longrope" in chosen:
            if ext.longrope_source == "config":
                st.info("LongRoPE factor lists: the sidebar config's own (searched for its target); they are used "
                        "unchanged for every s.")
            else:
                st.warning("LongRoPE factor lists: the sidebar config has no searched ones, so a **synthetic** "
                           "monotone ramp is "
                           "used (short factors 1, long factors rising from 1 for the fastest pair to s for the "
                           "slowest). Real LongRoPE factors come from a search and are not monotone; load a Phi-3 "
                           "preset or import its config.json to see them.")
        opts = dict(factor=ext.factor, seq_len=ext.seq_len, methods=chosen)
        label, tab = ui.sections(list(SECTIONS), name="etab")
        with tab:
            SECTIONS[label](cfg, ext, opts, compare)
    elif ext is not None:
        st.info("Select at least one method.")


if cfg is not None:
    extension_section(cfg)
