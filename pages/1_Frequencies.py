"""Frequencies: per-pair rotation speed, wavelength, rotations within the context, angle map, polar view, layout."""

import streamlit as st

from rope_viz import ui
from rope_viz.analysis.offsets import pair_table
from rope_viz.figures import frequencies as FF

ui.page_header("Frequencies: how fast each pair turns", """
Pair *i* turns by **θᵢ = b^(−2i/r)** radians per token, so its **wavelength** — the tokens it takes to come back
to the same angle — is **λᵢ = 2π/θᵢ**; a scaling method (PI, NTK, YaRN, Llama 3, LongRoPE) changes the θᵢ. Pairs
whose wavelength is longer than the context never complete a turn: they only ever see a slice of the circle, which is
why they are the ones that break when the context grows (Liu et al., *Scaling Laws of RoPE-based Extrapolation*,
arXiv:2310.05209, call the boundary at the training length the **critical dimension**). Every number on this page
uses the frequencies in effect over the sidebar's context (as transformers computes them for a sequence that long).
""")
cfg = ui.config_sidebar()


@st.fragment
def one_pair(cfg):
    """The polar view (a fragment: its sliders rerun only this section)."""
    st.subheader("One pair, one position")
    c1, c2 = st.columns(2)
    p_max, last = cfg.n_pairs - 1, cfg.context_length - 1
    pair = (c1.slider("Pair index i", 0, p_max, **ui.persist("pair", 0, lo=0, hi=p_max)) if p_max > 0 else
            c1.number_input("Pair index i (the only pair)", value=0, disabled=True))
    pos = c2.slider("Position m (tokens)", 0, last, **ui.persist("pos", FF.default_position(cfg), lo=0, hi=last))
    ui.show_registered("freq_polar", cfg, pair=pair, position=pos)


def wavelengths(cfg):
    st.subheader("Frequency, wavelength and turns of each pair")
    compare = ui.compare_select("fcmp", cfg)
    ui.show_registered("freq_wavelengths", cfg, compare=compare)
    ui.show_registered("freq_rotations", cfg)


def angle_map(cfg):
    st.subheader("Angle of every pair at every position")
    st.markdown("Each row is a position, each column a pair; the colour is the angle m·θᵢ wrapped to [0, 2π). Long "
                "contexts are drawn twice: the first positions token by token, and the whole context at evenly "
                "spaced rows, where a pair that turns more than half a turn between rows is left grey.")
    ui.show_registered("freq_angle_map", cfg)


def channel_pairs(cfg):
    st.subheader("Which channels form a pair?")
    st.markdown("""
Implementations disagree on which two channels rotate together. transformers (GPT-NeoX `rotate_half`) pairs
channel *i* with *i + r/2*; Meta's reference code and GPT-J pair neighbours *2i* and *2i + 1*. The rotation is the
same, so checkpoints convert between the two by permuting the rows of W_q and W_k
(`rope_viz.rotation.layout_permutation`). Switch **Pair layout** in the sidebar; channels past the rotary width
(partial rotary) are not rotated at all.
""")
    ui.show_registered("freq_layout", cfg)


# one tab per section; only the open one runs (the page loads and reruns one section's charts, not five)
SECTIONS = {"Wavelengths": wavelengths, "Angle map": angle_map, "One pair": one_pair, "Channel pairs": channel_pairs}


if cfg is not None:
    t = ui.guarded(pair_table, cfg)
    if t is not None:
        c1, c2, c3, c4 = st.columns(4)
        c1.metric("rotated pairs r/2", f"{cfg.n_pairs}")
        c2.metric("full-cycle pairs (λ ≤ L)", f"{int((~t['partial']).sum())}")
        c3.metric("partial-cycle pairs (λ > L)", f"{int(t['partial'].sum())}")
        c4.metric("critical dim d_extra (Liu et al.)", f"{FF.critical_pairs(cfg)}",
                  help="2·⌈(r/2)·log_b(T_train/2π)⌉ channels with the unscaled base b: pairs below d_extra/2 see a "
                       "full period within the training length T_train (the original context when a scaling is "
                       "set).")

    label, tab = ui.sections(list(SECTIONS), name="ftab")
    with tab:
        SECTIONS[label](cfg)
