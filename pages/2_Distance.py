"""Distance: how the RoPE attention score depends on the relative distance between query and key."""

import streamlit as st

from rope_viz import ui
from rope_viz.figures import distance as FD

ui.page_header("Distance", """
RoPE turns every pair of query/key channels by an angle proportional to the token position, so the score of a query
and a key depends only on their **relative distance** Δ. Does attention fade with distance? It depends on *what* q
and k are:

* **RoFormer's bound** (Su et al. 2021, §3.4.3) and the score of **q = k = all-ones** fall with Δ — that is the
  "long-term decay" usually quoted for RoPE;
* **B_m = Σᵢ cos(m θᵢ)** (Men et al. 2024) is how much more a key *similar to the query* scores than a random one;
  once it turns **negative** (marked ✕), similar tokens that far away are penalised: Men et al. take the first
  negative distance as the context length a base can support;
* for **random Gaussian q, k** the score has mean 0 and the same spread at *every* distance — **no decay at all**
  (Barbero et al. 2024, *Round and Round We Go!*, arXiv:2410.06205). Any decay a trained model shows is learned
  into q and k, not given by RoPE.

Curves are computed at every integer Δ (RoFormer's bound: every Δ ≤ 65,536, then 65,536 sampled distances) and drawn
as min/max bands so that the chart stays light even at 2M tokens.
""")

MAX_D_OPTIONS = sorted({1 << k for k in range(8, 22)})
BASE_CHOICES = (100.0, 1000.0, 10000.0, 50000.0, 100000.0, 500000.0, 1e6, 5e6, 1e7, 1e8, 1e9)


@st.fragment
def distance_section(cfg):
    """Controls, chart and table (a fragment: its widgets rerun only this section)."""
    c1, c2, c3 = st.columns([1, 1, 2])
    with c1:
        log_x = st.toggle("Log distance axis", help="Log scale shows the short and the long range together.",
                          **ui.persist("dlogx", True))
        normalize = st.toggle("Normalise to 1 at Δ = 0",
                              help="Divide each curve by its value at Δ = 0 (the random band by the all-ones score at "
                                   "Δ = 0, i.e. E‖q‖²), so configurations with different head dims compare.",
                              **ui.persist("dnorm", False))
    with c2:
        use_ctx = st.toggle("Up to the context length", help="Otherwise choose the largest distance below.",
                            **ui.persist("dctx", True))
        max_d = st.select_slider("Largest distance Δ (tokens)", options=MAX_D_OPTIONS, disabled=use_ctx,
                                 format_func=lambda v: f"{v:,}", **ui.persist("dmax", 65536, options=MAX_D_OPTIONS))
    with c3:
        quantities = st.multiselect("Curves", FD.QUANTITIES, default=list(FD.QUANTITIES),
                                    format_func=FD.QUANTITY_LABELS.get, key="dist_quantities")
        extra_bases = st.multiselect("Overlay: same config with base … (up to 3 in all with presets)", BASE_CHOICES,
                                     default=[], format_func=lambda b: f"{b:g}", key="dist_bases", max_selections=3)
        try:
            from rope_viz.presets import preset_names
            names = list(preset_names())
        except ImportError:
            names = []
        extra_presets = st.multiselect("Overlay: presets", names, default=[], key="dist_presets", max_selections=3,
                                       disabled=not names)

    max_distance = cfg.context_length if use_ctx else int(max_d)
    compare = [float(b) for b in extra_bases] + list(extra_presets)
    if not quantities:
        st.error("Choose at least one curve.")
        return
    fig = ui.guarded(ui.cached_figure, "distance_curves", cfg, compare=compare, quantities=list(quantities),
                     max_distance=max_distance, log_x=log_x, normalize=normalize)
    ui.show_figure(fig, name="distance_curves", caption=FD.distance_figure.caption)

    rows = ui.guarded(FD.summary_table, cfg, compare, max_distance)
    if rows:
        first = rows[0].pop("first_negative")
        for r in rows[1:]:
            r.pop("first_negative")
        if first is None:
            st.markdown(f"**B_m stays ≥ 0 for every Δ ≤ {max_distance:,}** with {cfg.label()}: by Men et al.'s "
                        "criterion this base supports the whole range shown.")
        else:
            st.markdown(f"**B_m first turns negative at Δ = {first:,}** with {cfg.label()}"
                        + (f" — inside the context of {cfg.context_length:,} tokens: by Men et al.'s criterion "
                           "the base is too small for it." if first < cfg.context_length else
                           " — beyond the context length."))
        st.dataframe(rows, hide_index=True, width="stretch")


cfg = ui.config_sidebar()
if cfg is not None:
    distance_section(cfg)
