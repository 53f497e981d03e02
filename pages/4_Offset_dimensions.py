"""Offset dimensions: slow pairs, and the content-independent bias a constant q/k offset there creates."""

import numpy as np
import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from rope_viz import ui
from rope_viz.analysis import offsets as O
from rope_viz.config import CONTEXT_MAX, SCALING_LABELS
from rope_viz.figures import offsets as FO
from rope_viz.scaling import fits

ui.page_header("Offset dimensions", """
The slowest RoPE pairs turn so little over the context that they never complete a rotation: a **partial cycle**.
Jonasson (2025, *Rotary Offset Features in Large Language Models*, arXiv:2503.01832) finds that trained models put
large, nearly constant query/key activations — **rotary offset features** — exactly in such pairs, in many layers,
heads and architectures.

Why they matter: a constant offset o_q in the query and o_k in the key of pair i add
**|o_q||o_k| cos(Δθᵢ + α)** to the score of *every* query–key pair at distance Δ, whatever the tokens are. If the
angle Δθᵢ + α never crosses ±90° over the context, that term keeps **one sign**: a content-independent bias (for
example towards or away from far tokens). **The criterion is derived by us** (not the paper's bound; the derivation is
in `rope_viz/analysis/offsets.py`): some offset angle α gives a one-sign bias over a context of L tokens exactly when
**(L − 1)·θᵢ < π**, i.e. the pair turns less than **half a turn** — stricter than "less than one turn".
""")


@st.fragment
def bias_section(main_label, main_cfg, compare):
    """Section 2 (a fragment: its widgets rerun only this section)."""
    st.subheader("The content-independent bias of a constant offset")
    n_one = int(O.pair_cycles(main_cfg)["one_sign"].sum())
    b1, b2, b3 = st.columns(3)
    use_one = b1.toggle("Offsets in one-sign pairs", help="On: each configuration gets offsets in its own one-sign "
                        "pairs. Off: in its k lowest-frequency pairs.", **ui.persist("oone", True))
    k_label, k_max = "k lowest-frequency pairs with an offset", min(16, main_cfg.n_pairs)
    if use_one:   # the count in use, greyed out (it showed the hidden k = 4 while every one-sign pair had an offset)
        b1.slider(k_label, 0, max(k_max, n_one), value=n_one, disabled=True,
                  help=f"The {n_one} one-sign pairs of the first configuration (the slowest pairs); each compared "
                       "configuration uses its own.")
        k = None
    elif k_max > 1:
        k = b1.slider(k_label, 1, k_max, **ui.persist("ok", 4, lo=1, hi=k_max))
    else:   # one rotated pair (d = 2, or a small rotary fraction): a slider from 1 to 1 is a Streamlit error
        k = b1.number_input(k_label + " (the only pair)", value=1, disabled=True)
    mag = b2.slider("Offset size |o_q| = |o_k|", 0.5, 10.0, step=0.5, **ui.persist("omag", 2.0, lo=0.5, hi=10.0))
    aligned = b3.toggle("Aligned offsets (α = 0)",
                        help="Otherwise each pair uses the centred angle α = −(L − 1)θᵢ/2, the most robust "
                             "one-sign choice.", **ui.persist("oal", False))
    log_x = b3.toggle("Log distance axis", **ui.persist("olog", False))
    if use_one and n_one == 0:
        st.warning(f"No pair of {main_label} turns less than half a turn over its {main_cfg.context_length:,} "
                   "tokens, so no constant offset gives a one-sign bias there: the curve is 0. Switch off the "
                   "toggle to place offsets in the slowest pairs anyway.")
    ui.show_registered("offsets_bias", main_cfg, compare=compare, n_offset_pairs=None if k is None else int(k),
                       magnitude=float(mag), alpha=0.0 if aligned else None, log_x=log_x)


cfg = ui.config_sidebar()
OFFSET_FACTORS = (2.0, 4.0, 8.0, 16.0, 32.0)   # the extension factors offered beside the sidebar config
try:
    st.page_link("pages/8_Real_model.py", label="See these pairs in a trained model: the Real model page",
                 icon=":material/neurology:")
except StreamlitPageNotFoundError:  # run outside the app (AppTest.from_string)
    pass

@st.fragment
def offsets_section(cfg):
    """Everything below the header (a fragment: the method, factor and comparison rerun only this part, not the
    sidebar: ~10 % off each redraw, scripts/bench_ab.py). The sidebar reruns it."""
    # -- comparison set --------------------------------------------------------------------------------------
    if cfg.scaling is not None:
        st.info(f"The sidebar uses **{SCALING_LABELS[cfg.rope_type]}** scaling: it is compared with the same model "
                "without scaling at the same context.")
        method, factor = None, 1.0
    elif not (factors := [f for f in OFFSET_FACTORS if fits(cfg.context_length, f)]):
        st.info(f"No context-extension method to compare with: the context L = {cfg.context_length:,} tokens leaves "
                f"no room (×{OFFSET_FACTORS[0]:g} would pass {CONTEXT_MAX:,} tokens, the longest context this tool "
                "handles).")
        method, factor = None, 1.0
    else:
        c1, c2 = st.columns(2)
        method = c1.selectbox("Compare with a context-extension method", ["(none)"] + list(FO.METHODS),
                              format_func=lambda m: m if m == "(none)" else SCALING_LABELS[m],
                              help="Treat the sidebar config as the pre-trained model and extend its context by "
                                   "the factor with this method.",
                              **ui.persist("om", "yarn", options=["(none)"] + list(FO.METHODS)))
        fit_help = None if len(factors) == len(OFFSET_FACTORS) else \
            f"Only factors with s·L ≤ {CONTEXT_MAX:,} tokens (the longest context this tool handles)."
        factor = ui.choice_slider(c2, "Extension factor s", factors, name="of",
                                  default=4.0 if 4.0 in factors else factors[-1],
                                  fixed_label="Extension factor s (the only one that fits)",
                                  format_func=lambda v: f"×{v:g}", disabled=method == "(none)", help=fit_help)
        method = None if method == "(none)" else method
    others = ui.compare_select("ocmp", cfg, label="Also compare with",
                               note="Here: each beside the rows above, with its own pairs over its own context.")
    variants = ui.guarded(FO.comparison_configs, cfg, method, factor)
    if variants:
        variants += others

    if variants:
        main_label, main_cfg = variants[0]
        compare = [list(v) for v in variants[1:]]
        # -- 1. rotations per pair vs the criterion ---------------------------------------------------------
        st.subheader("Rotations completed within the context")
        ui.show_registered("offsets_cycles", main_cfg, compare=compare)
        rows = []
        for label, c in variants:
            pc = O.pair_cycles(c)
            one = np.flatnonzero(pc["one_sign"])
            part = np.flatnonzero(~pc["completes_cycle"])
            rows.append({"configuration": label, "context L": f"{c.context_length:,}",
                         "partial-cycle pairs (< 1 turn)": f"{part.size}" + (f" ({part[0]}–{part[-1]})"
                                                                             if part.size else ""),
                         "one-sign pairs (< ½ turn, ours)": f"{one.size}" + (f" ({one[0]}–{one[-1]})"
                                                                             if one.size else ""),
                         "slowest pair: turns": ui.format_number(pc['rotations'][-1], 3)})
        ui.table(rows)

        bias_section(main_label, main_cfg, compare)
        st.markdown(
            "**Does scaling create or remove them?** Scaling changes only the frequencies θᵢ. Position "
            "interpolation, YaRN and Llama 3.1 divide the *low* frequencies by the factor, so over the extended "
            "context those pairs turn as little as they did in pre-training: the one-sign pairs are kept. Plain "
            "RoPE pushed to the longer context turns them further and can remove them — compare the rows of the "
            "table above.")


if cfg is not None:
    offsets_section(cfg)
