"""Encodings compared: sinusoidal absolute positions, ALiBi and RoPE, measured side by side."""

import streamlit as st

from rope_viz import ui
from rope_viz.figures import encodings as FE

ui.page_header("Encodings compared", """
Three ways to tell attention where tokens are:

* **Sinusoidal absolute position encodings** (Vaswani et al. 2017, arXiv:1706.03762) *add* a vector PE(m) of sines and cosines to each
  token embedding. The positional part of a logit is then about PE(m)·PE(n), which depends only on m − n only if the
  learned projections leave it alone.
* **ALiBi** (Press et al. 2022, arXiv:2108.12409) adds nothing to the embeddings; it subtracts **m_h·Δ** from every logit, with one fixed
  slope m_h per head (a geometric sequence), so each head prefers nearby tokens at its own rate.
* **RoPE** (Su et al. 2021, arXiv:2104.09864) *rotates* q and k by position; the score depends on Δ only, and how it varies with Δ is
  whatever q and k make of the rotation (here q = k = all-ones, RoFormer's example; see the Distance page).

**Normalisation** (one y-axis for all three): RoPE's and the sinusoidal dot product are divided by their value at
Δ = 0, so 1 means "as similar as the same position"; ALiBi's bias b is shown as the factor **e^b** it multiplies the
softmax weight by — also 1 at Δ = 0. When RoPE rotates every channel (no partial rotary) with base 10000 and no
scaling, and d_model = d, the RoPE and sinusoidal curves coincide: both are the mean of cos(Δθᵢ) over the same
frequencies; the caption under the chart says whether they do for the sidebar's config.
""")

cfg = ui.config_sidebar()
HEADS = (1, 2, 4, 6, 8, 12, 16, 24, 32, 48, 64)


@st.fragment
def alibi_section(cfg, dm):
    """The ALiBi heads and the measured table (a fragment: the head count reruns only this section; the signal chart
    above shows Press et al.'s 8 slopes, which do not depend on it)."""
    st.subheader("ALiBi: one slope per head")
    n_heads = st.select_slider("ALiBi heads", options=HEADS, help="Non-powers of two use Press et al.'s "
                               "interleaved slopes.", **ui.persist("eh", 8, options=list(HEADS)))
    ui.show_registered("encodings_alibi", cfg, n_heads=int(n_heads))

    st.subheader("Measured comparison")
    L = cfg.context_length
    end = FE.table_end(L)
    upto = "2L" if end == 2 * L else f"{end:,} (the longest distance this tool evaluates; 2L would be {2 * L:,})"
    st.caption(f"Every cell is computed from the library over the distances Δ = 0 … {upto}, L = {L:,} "
               "(the sidebar's context, taken as the training length), ALiBi with the head count above. \"Unseen "
               "phase\": pairs whose wavelength exceeds L, so beyond L they reach angles never seen in training. "
               f"\"Largest departure\": how far the normalised signal on (L, {FE.table_window(L)}] "
               "leaves the range it took on [0, L].")
    rows = ui.guarded(FE.cached_table, cfg, int(n_heads), dm)
    if rows is not None:
        # one row per measure, one column per encoding (text cells: the columns mix numbers, flags and notes)
        measures = [k for k in rows[0] if k != "encoding"]
        table = [{"measure": k, **{r["encoding"]: ("yes" if r[k] is True else "no" if r[k] is False else str(r[k]))
                                   for r in rows}} for k in measures]
        ui.table(table, index="measure")


if cfg is not None:
    c1, c2 = st.columns(2)
    same_d = c1.toggle("Sinusoidal d_model = head dim", help="Otherwise choose d_model below.",
                       **ui.persist("esd", True))
    if same_d:   # the value in use, greyed out; keyless, so it follows the head dim (a keyed widget keeps its value)
        c1.number_input("Sinusoidal d_model (even)", value=cfg.head_dim, disabled=True)
        dm = None
    else:
        dm = int(c1.number_input("Sinusoidal d_model (even)", min_value=2, max_value=8192, step=2,
                                 **ui.persist("edm", 512, lo=2, hi=8192)))
    log_x = c2.toggle("Log distance axis", **ui.persist("elog", True))

    ui.show_registered("encodings_signal", cfg, d_model=dm, log_x=log_x)
    alibi_section(cfg, dm)
