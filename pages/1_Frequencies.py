"""Frequencies: per-pair rotation speed, wavelength, rotations within the context, angle map, polar view, layout."""

import streamlit as st

from rope_viz import ui
from rope_viz.figures.frequencies import critical_pairs, pair_table

ui.page_header("Frequencies: how fast each pair turns", """
Pair *i* turns by **θᵢ = b^(−2i/r)** radians per token, so its **wavelength** — the tokens it takes to come back
to the same angle — is **λᵢ = 2π/θᵢ**. With base b = 10,000 and r = 128 the wavelengths run from 6 tokens to about
54,000 tokens. Pairs whose wavelength is longer than the context never complete a turn during training: they only
ever see a slice of the circle, which is why they are the ones that break when the context grows
(Liu et al., *Scaling Laws of RoPE-based Extrapolation*, arXiv:2310.05209, call the boundary the **critical
dimension**).
""")
cfg = ui.config_sidebar()


@st.fragment
def one_pair(cfg):
    """The polar view (a fragment: its sliders rerun only this section)."""
    st.subheader("One pair, one position")
    c1, c2 = st.columns(2)
    p_max, L = cfg.n_pairs - 1, cfg.context_length
    pair = c1.slider("Pair index i", 0, p_max, **ui.persist("pair", 0, lo=0, hi=p_max))
    pos = c2.slider("Position m (tokens)", 0, L, **ui.persist("pos", min(100, L), lo=0, hi=L))
    ui.show_figure(ui.guarded(ui.cached_figure, "freq_polar", cfg, pair=pair, position=pos), name="freq_polar",
                   caption="The pair's angle wraps every λᵢ tokens, so positions λᵢ apart look identical to this "
                           "pair; only the combination of all pairs is unique.")


if cfg is not None:
    t = ui.guarded(pair_table, cfg)
    if t is not None:
        d_extra = ui.guarded(critical_pairs, cfg)
        c1, c2, c3, c4 = st.columns(4)
        c1.metric("rotated pairs r/2", f"{cfg.n_pairs}")
        c2.metric("full-cycle pairs (λ ≤ L)", f"{int((~t['partial']).sum())}")
        c3.metric("partial-cycle pairs (λ > L)", f"{int(t['partial'].sum())}")
        c4.metric("critical dim d_extra (Liu et al.)", "n/a" if d_extra is None else f"{d_extra}",
                  help="2·⌈(r/2)·log_b(T_train/2π)⌉ channels: pairs below d_extra/2 see a full period within the "
                       "training length T_train (the original context when a scaling is set).")

    ui.show_figure(ui.guarded(ui.cached_figure, "freq_wavelengths", cfg), name="freq_wavelengths",
                   caption="Frequencies fall geometrically with the pair index; every pair whose wavelength sits above "
                           "the context line (orange) never completes a turn inside the context.")
    ui.show_figure(ui.guarded(ui.cached_figure, "freq_rotations", cfg), name="freq_rotations",
                   caption="Rotations each pair completes across the context: pairs below 1 (orange) only ever see "
                           "part of the circle — Liu et al.'s critical dimension marks where that starts.")

    st.subheader("Angle of every pair at every position")
    st.markdown("Each row is a position, each column a pair; the colour is the angle m·θᵢ wrapped to [0, 2π). "
                "Positions are sampled evenly for display (at most 400 rows); the angles are exact.")
    ui.show_figure(ui.guarded(ui.cached_figure, "freq_angle_map", cfg), name="freq_angle_map",
                   caption="Left columns (fast pairs) cycle through every angle and encode fine position; right "
                           "columns (slow pairs) drift smoothly and encode coarse position. With sampled rows the "
                           "fast pairs alias into noise.")

    one_pair(cfg)

    st.subheader("Which channels form a pair?")
    st.markdown("""
Implementations disagree on which two channels rotate together. transformers (GPT-NeoX `rotate_half`) pairs
channel *i* with *i + r/2*; Meta's reference code and GPT-J pair neighbours *2i* and *2i + 1*. The rotation is the
same, so checkpoints convert between the two by permuting the rows of W_q and W_k
(`rope_viz.rotation.layout_permutation`). Switch **Pair layout** in the sidebar; channels past the rotary width
(partial rotary) are not rotated at all.
""")
    ui.show_figure(ui.guarded(ui.cached_figure, "freq_layout", cfg), name="freq_layout",
                   caption="Same pairs, different channels: 'half' pairs channel i with i + r/2 (transformers), "
                           "'interleaved' pairs 2i with 2i + 1 (Meta, GPT-J).")
