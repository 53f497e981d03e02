"""Aliasing: with a base too small for the context, distant positions get rotation codes that look alike."""

import streamlit as st

from rope_viz import ui
from rope_viz.analysis import aliasing as A
from rope_viz.config import format_base
from rope_viz.figures import aliasing as FA

ui.page_header("Aliasing", """
Each position m gets a **rotation code**: one angle m·θᵢ per channel pair. Two positions are easy to tell apart when
their codes differ; we measure how alike two codes are by the mean cosine of their angle differences,
**sim(m, n) = (1/p) Σᵢ cos((m − n)θᵢ)** (1 for the same position, about 0 for unrelated ones; it is Men et al.'s
B_{m−n} divided by the number of pairs p; Men et al. 2024, arXiv:2405.14591).

With a **small base** every pair turns many times within the context, and at some far distance the angles line up
again: a position thousands of tokens away can look *more* like m than a nearer one (**aliasing**: "position 10,000
looks like position 100"). With a **very large base** the slow pairs hardly move and far positions all look alike
without ever beating nearer ones (**blur**). The bases published models use sit in between; Men et al. (2024) give a
lower bound on the base for a context, Liu et al. (2023, arXiv:2310.05209) an extrapolation bound T_extra.
""")

cfg = ui.config_sidebar()
CTX_OPTIONS = sorted({1 << k for k in range(10, 22)} | {3 << k for k in range(10, 20)})
SWEEP_DEFAULT_MAX = 1 << 18   # the sweep's default context at most 262,144: its first draw stays well under a second
                              # (25 bases × the context; 1M–2M tokens take ~2 s, then cached)


@st.fragment
def similarity_map(cfg):
    """Section 1 (a fragment: its widgets rerun only this section)."""
    st.subheader("Position-similarity map")
    c1, c2 = st.columns(2)
    n_pos = c1.slider("Sampled positions", 32, FA.MAX_MAP_POSITIONS, step=32,
                      help=f"The map shows S × S cells for S sampled positions (at most {FA.MAX_MAP_POSITIONS}).",
                      **ui.persist("an", 256, lo=32, hi=FA.MAX_MAP_POSITIONS))
    spacing = c2.radio("Spacing", FA.SPACINGS, horizontal=True,
                       help="log: dense near the start, where similarity changes fastest.",
                       **ui.persist("asp", "log", options=list(FA.SPACINGS)))
    ui.show_registered("aliasing_map", cfg, n_positions=n_pos, spacing=spacing)


@st.fragment
def impostors(cfg):
    st.subheader("The farthest look-alike of each distance")
    st.markdown("sim depends only on the distance Δ between two positions, so \"which position looks most like m\" "
                "is a question about distances: for each distance k, how far away is the farthest distance that "
                "looks at least as similar? Where nothing farther does, the curve stays on the diagonal; aliasing "
                "(far distances rebounding) and blur (everything far alike) lift it off.")
    ui.show_registered("aliasing_impostors", cfg)


@st.fragment
def two_positions(cfg):
    st.subheader("Two positions: how alike do they look?")
    f1, f2, f3, f4 = st.columns([1, 1, 1, 1])
    example = f4.toggle("Classic example", help="Positions 100 and 10,000 with the small base (among 10 … 5,000) "
                        "at which 10,000 looks most like 100.", **ui.persist("aex", False))
    last = cfg.max_context_length - 1   # the pair is measured over a context of max(m, n) + 1 tokens
    m = f1.number_input("Position m (tokens)", min_value=0, max_value=last, step=1, disabled=example,
                        **ui.persist("am", FA.EXAMPLE_POSITIONS[0], lo=0, hi=last))
    n = f2.number_input("Position n (tokens)", min_value=0, max_value=last, step=1, disabled=example,
                        **ui.persist("ann", FA.EXAMPLE_POSITIONS[1], lo=0, hi=last))
    use_sb = f3.toggle("Use the sidebar's base", disabled=example, **ui.persist("aub", True))
    base = f3.number_input("Base b", min_value=1.01, max_value=1e12, format="%g", disabled=use_sb or example,
                           **ui.persist("ab", float(cfg.base), lo=1.01, hi=1e12))
    if example:
        (m, n), base, use_sb = FA.EXAMPLE_POSITIONS, FA.example_base(cfg.head_dim), False
        st.caption(f"The classic case: positions {m:,} and {n:,} with base {format_base(base)} "
                   f"(d = {cfg.head_dim}).")
    pair_cfg = ui.guarded(lambda: cfg.replace(base=float(cfg.base if use_sb else base)).with_context(
        max(cfg.context_length, int(max(m, n)) + 1)))         # the same model past its context: training length kept
    if pair_cfg is None:
        return
    ex = ui.guarded(A.lookalike_example, pair_cfg, int(m), int(n))
    if ex is not None:
        k1, k2, k3 = st.columns(3)
        k1.metric(f"sim({int(m):,}, {int(n):,})", ui.format_number(ex['similarity'], 3),
                  help="Mean cosine of the angle differences over all pairs.")
        k2.metric("sim of neighbours (Δ = 1)", ui.format_number(ex['neighbour_similarity'], 3))
        k3.metric("looks as close as Δ′ =", ui.format_count(ex["apparent_distance"], "token") if ex["distance"]
                  else "—", help="The first distance whose similarity is no higher than this pair's.")
        st.markdown(
            FA.lookalike_sentence(ex, pair_cfg.label())
            + (f" (Position {int(max(m, n)):,} lies beyond the sidebar's context of {cfg.context_length:,} tokens: "
               f"this pair is measured over {pair_cfg.context_length:,} tokens, by the same model: its training "
               f"length stays {cfg.original_context_length:,}.)"
               if pair_cfg.context_length != cfg.context_length else ""))
    ui.show_registered("aliasing_pair", pair_cfg, position=int(m), other=int(n))


def _ctx(label: str, name: str, default: int, col, cfg, **kw):
    """A context select-slider over CTX_OPTIONS plus the sidebar's context and original context when the sweep and the
    advisor accept them (≥ FA.MIN_SWEEP_CONTEXT tokens; a shorter default falls back to the first option);
    ``persist`` makes a value left at its default follow the config."""
    options = sorted(set(CTX_OPTIONS) | {v for v in (cfg.context_length, cfg.original_context_length)
                                         if v >= FA.MIN_SWEEP_CONTEXT})
    return col.select_slider(label, options=options, format_func=lambda v: f"{v:,}",
                             **kw, **ui.persist(name, int(default), options=options))


@st.fragment
def base_sweep(cfg):
    st.subheader("Aliasing vs base")
    s1, s2 = st.columns(2)
    sweep_ctx = _ctx("Context length for the sweep (tokens)", "asw", min(cfg.context_length, SWEEP_DEFAULT_MAX), s1,
                     cfg, help=f"Default: the sidebar's context, at most {SWEEP_DEFAULT_MAX:,} (the sweep measures "
                               "25 bases over the whole context: from 1M tokens its first draw takes ~2 s).")
    train = _ctx("Pre-training length for Liu et al.'s T_extra (tokens)", "atr", cfg.original_context_length, s2,
                 cfg, help="Default: the sidebar's original context. The model is taken as pre-trained at this length "
                           "with the sidebar's base; the mark is the base whose T_extra reaches the sweep's context "
                           "(shown only when this is shorter).")
    # Men et al.'s bound where it is not stored: minutes, so only on request (a button, like the advisor's: a
    # control that starts minutes of work is not a view setting to flip or to put in the URL)
    flag = f"alias_sweep_men_{cfg.head_dim}_{cfg.rotary_fraction}_{int(sweep_ctx)}"
    on_demand = FA.men_is_quick(cfg, int(sweep_ctx)) or st.session_state.get(flag, False)
    if not on_demand and st.button(f"Also mark Men et al.'s lower bound (minutes to compute above "
                                   f"{FA.MEN_EXACT_MAX:,} tokens, then cached)", key="alias_sweep_men"):
        st.session_state[flag] = on_demand = True
    ui.show_registered("aliasing_base_sweep", cfg, context_length=int(sweep_ctx), train_length=int(train),
                       on_demand=on_demand)


@st.fragment
def advisor(cfg):
    st.subheader("Base advisor")
    a1, a2 = st.columns(2)
    target = _ctx("Target context (tokens)", "atg", cfg.context_length, a1, cfg,
                  help="Default: the sidebar's context.")
    use_train = a2.toggle("Also use Liu et al.'s view", help="A model pre-trained at the length below with the "
                          "sidebar's base, extended to the target by changing its base.", **ui.persist("atl", False))
    train = _ctx("Pre-training length (tokens)", "atl2", cfg.original_context_length, a2, cfg,
                 disabled=not use_train, help="Default: the sidebar's original context.")
    train_length = int(train) if use_train else None
    flag = f"alias_adv_go_{cfg.head_dim}_{cfg.rotary_fraction}_{cfg.base}_{int(target)}_{train_length}"
    ready = FA.men_is_quick(cfg, int(target)) or st.session_state.get(flag, False)
    if not ready:
        st.info(f"For contexts above {FA.MEN_EXACT_MAX:,} tokens Men et al.'s certified lower bound takes minutes "
                "to compute (it is cached afterwards).")
        if st.button(f"Compute the recommendation for {int(target):,} tokens", key="alias_adv_go"):
            st.session_state[flag] = ready = True
    adv = None
    if ready:
        with st.spinner("Searching the base…"):
            adv = ui.guarded(FA.advice, cfg, int(target), train_length)
    if adv is not None:
        if adv["recommended"] is not None:
            st.success(f"Recommended base for d = {cfg.head_dim} and a context of {int(target):,} tokens: "
                       f"**{format_base(adv['recommended'])}** (smallest 1-2-5 number above every minimum that keeps "
                       f"B ≥ 0 on the whole context).")
        else:
            st.warning(f"No base ≤ {format_base(FA.BASE_MAX)} satisfies all the criteria for this target.")
        with st.expander("How it was computed"):
            for note in adv["notes"]:
                st.markdown(f"- {note}")
    ui.show_registered("aliasing_advisor", cfg, target_context=int(target), train_length=train_length,
                       on_demand=bool(ready))


def men_table(cfg):
    st.subheader("Men et al.'s table, recomputed")
    st.markdown("Men et al. (2024) print the minimum base for head dim 128 from 1K to 1M tokens. Beside it: the exact "
                "smallest base b* (certified: every smaller base breaks B ≥ 0 somewhere below L) and the first base "
                "of a fine sampling grid that meets the condition.")
    ui.show_registered("aliasing_men_table", cfg)


def _needs_map_context(section):
    """The map and the look-alikes need three positions: below that, one explanation instead of two errors."""
    def run(cfg):
        if cfg.context_length < FA.MIN_CONTEXT:
            st.info(f"A {cfg.context_length}-token context has a single distance (Δ = 1): no position can look like "
                    f"a farther one, so the map and the look-alikes need at least {FA.MIN_CONTEXT} tokens. The other "
                    "sections choose their own contexts.")
        else:
            section(cfg)
    return run


# one tab per section; only the open one runs (the page loads and reruns one section's charts, not six)
SECTIONS = {"Similarity map": _needs_map_context(similarity_map), "Look-alikes": _needs_map_context(impostors),
            "Two positions": two_positions, "Aliasing vs base": base_sweep, "Base advisor": advisor,
            "Men et al.'s table": men_table}

if cfg is not None:
    label, tab = ui.sections(list(SECTIONS), name="tab")
    with tab:
        SECTIONS[label](cfg)
