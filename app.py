"""rope-viz landing page: RoPE intuition (rotating pairs, relative-position invariance) + links to every page.

Run: ``streamlit run app.py`` (the pages in pages/ are listed in ``rope_viz.ui.PAGES``).
"""

import streamlit as st

from rope_viz import ui
from rope_viz.figures.intuition import default_pairs, invariance_scores

ui.page_header("RoPE intuition", """
**Rotary Position Embeddings (RoPE)** tell attention *where* tokens are by **rotating** the query and key vectors
(Su et al., *RoFormer*, arXiv:2104.09864). The head's channels are grouped in pairs; pair *i* is a little 2-D
vector that is turned by the angle **m·θᵢ** at position *m*, with θᵢ = b^(−2i/r) radians per token (b = the *base*,
r = the rotated width). Fast pairs (small i) turn a lot per token, slow pairs (large i) hardly move — like the hands
of a clock. Pick a real model in the sidebar, or change the head dim and base, and watch.
""")
cfg = ui.config_sidebar()

MAX_PAIRS = 6
STEPS = [1, 2, 5, 10, 50, 100, 1000, 10000]   # tokens per animation frame


@st.fragment
def rotating_pairs(cfg):
    """Section 1 (a fragment: its widgets rerun only this section)."""
    st.subheader("1 · Each pair is a clock hand")
    c1, c2 = st.columns([3, 2])
    pair_opts = list(range(cfg.n_pairs))
    pairs = c1.multiselect("Pairs to show (index i: 0 = fastest)", pair_opts, max_selections=MAX_PAIRS,
                           **ui.persist("pairs", default_pairs(cfg), options=pair_opts, max_items=MAX_PAIRS))
    steps = [s for s in STEPS if s < cfg.context_length]       # every frame's position inside the context
    step = ui.choice_slider(c2, "Tokens per animation frame", steps, name="step", default=1,
                            fixed_label="Tokens per animation frame (the only step a 2-token context allows)")
    if not pairs:
        st.info("Select at least one pair.")
        return
    ui.show_registered("intuition_rotation", cfg, pairs=sorted(pairs), step=step)


@st.fragment
def invariance(cfg):
    """Section 2 (a fragment)."""
    st.subheader("2 · Only the distance matters")
    st.markdown("""
The attention score is the dot product of the rotated query at position *m* and the rotated key at position *n*.
Rotating both by their own angles leaves only the **difference** of angles, (m − n)·θᵢ, in the score: shift both
positions by the same *t* and the score does not change. (Numbers below: one random query and key, float64,
computed with `rope_viz.rotation.apply_rope`.)
""")
    L = cfg.context_length
    c1, c2, c3 = st.columns(3)
    m = c1.slider("Query position m (tokens)", 0, L - 1, **ui.persist("qpos", min(12, L - 1), lo=0, hi=L - 1))
    n = c2.slider("Key position n (tokens)", 0, L - 1, **ui.persist("kpos", min(5, L - 1), lo=0, hi=L - 1))
    t = c3.slider("Shift t added to both (tokens)", 0, L, **ui.persist("shift", min(1000, L), lo=0, hi=L))
    s = ui.guarded(invariance_scores, cfg, m, n, [0, t])
    if s is not None:
        base, together, alone = s["together"][0], s["together"][1], s["query_only"][1]
        k1, k2, k3 = st.columns(3)
        k1.metric(f"score q·k at (m, n) = ({m:,}, {n:,})", ui.format_number(base, 7))
        k2.metric(f"both shifted: ({m + t:,}, {n + t:,})", ui.format_number(together, 7))
        k3.metric(f"query only shifted: ({m + t:,}, {n:,})", ui.format_number(alone, 7))
        past = max(m, n) + t
        st.caption(f"Difference from the unshifted score: both shifted {ui.format_number(together - base, 2, signed=True)}"
                   f" (float64 rounding only), query only shifted {ui.format_number(alone - base, 4, signed=True)}."
                   + (f" The shifted positions reach {past:,}, past this {L:,}-token context: the rotation is the "
                      "same formula there, but a model with this context never saw such positions."
                      if past >= L else ""))
    ui.show_registered("intuition_invariance", cfg, m=m, n=n, max_shift=max(t, 1))


if cfg is not None:
    rotating_pairs(cfg)
    invariance(cfg)

st.subheader("Explore")
for page in ui.available_pages()[1:]:
    st.page_link(page.path, label=f"{page.title} — {page.blurb}", icon=page.icon)
