"""Distance: how the RoPE attention score depends on the relative distance between query and key."""

import streamlit as st

from rope_viz import ui
from rope_viz.figures import distance as FD

ui.page_header("Distance", """
RoPE turns every pair of query/key channels by an angle proportional to the token position, so the score of a query
and a key depends only on their **relative distance** Δ. Does attention fade with distance? It depends on *what* q
and k are:

* **RoFormer's bound** (Su et al., arXiv:2104.09864, §3.4.3): |score| ≤ maxᵢ |hᵢ₊₁ − hᵢ| · Σⱼ |Sⱼ(Δ)|, with hᵢ the
  pair products of q and k; the curve is (1/(d/2))·Σⱼ |Sⱼ(Δ)|, the "long-term decay" usually quoted for RoPE — a
  bound, not a score;
* **B_m = Σᵢ cos(m θᵢ)** (Men et al., arXiv:2405.14591) is how much more a key *similar to the query* scores than a
  random one; once it turns **negative** (marked ✕), similar tokens that far away are penalised: Men et al. take the
  first negative distance as the context length a base can support. The score of **q = k = all-ones** is
  2·af²·B_m + (1 − af²)(d − r) — exactly 2·B_m when the attention factor af is 1 — so it follows B_m;
* for **random Gaussian q, k** the score has mean exactly 0 and the same spread √(r·af⁴ + d − r) at *every*
  distance — **no decay at all** (Barbero et al., *Round and Round We Go!*, arXiv:2410.06205). Any decay a trained
  model shows is learned into q and k, not given by RoPE.

Curves are computed at every integer Δ (RoFormer's bound: every Δ ≤ 65,536, then 65,536 sampled distances) with the
frequencies in effect over each configuration's context, and drawn as min/max bands so that the chart stays light
even at 2M tokens.
""")

MAX_D_OPTIONS = sorted({1 << k for k in range(8, 22)})


@st.fragment
def distance_section(cfg):
    """Controls, chart and table (a fragment: its widgets rerun only this section)."""
    c1, c2 = st.columns(2)          # labels in full ("Up to the context…" was cut), curves' chips below in full
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
        if use_ctx:   # the value in use, greyed out (it showed the hidden 65,536 while the context was drawn)
            st.select_slider("Largest distance Δ (tokens)", options=sorted({*MAX_D_OPTIONS, cfg.context_length}),
                             value=cfg.context_length, disabled=True, format_func=lambda v: f"{v:,}")
            max_d = None
        else:
            max_d = st.select_slider("Largest distance Δ (tokens)", options=MAX_D_OPTIONS,
                                     format_func=lambda v: f"{v:,}",
                                     **ui.persist("dmax", 65536, options=MAX_D_OPTIONS))
    quantities = st.multiselect("Curves", FD.QUANTITIES, format_func=FD.QUANTITY_SHORT.get,
                                **ui.persist("dq", list(FD.QUANTITIES), options=list(FD.QUANTITIES)))
    compare = ui.compare_select("dcmp", cfg, label="Overlay")          # full width: saved configs' chips are long

    max_distance = cfg.context_length if use_ctx else int(max_d)
    if not quantities:
        st.info("Choose at least one curve.")
        return
    ui.show_registered("distance_curves", cfg, compare=compare, quantities=list(quantities),
                       max_distance=max_distance, log_x=log_x, normalize=normalize)

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
        ui.table(rows)


cfg = ui.config_sidebar()
if cfg is not None:
    distance_section(cfg)
