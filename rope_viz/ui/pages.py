"""The app's one page list and page header. Everything that names a page reads ``PAGES``: the sidebar's page list,
the landing page's "Explore" links, the figure registry's ``page=`` strings (checked by the tests) and the browser
scripts (``scripts/appserver.py``).

Pages stay in Streamlit's ``pages/`` folder (``pages/N_Name.py``: Streamlit serves it at ``/Name``; the number sets
the order), and each page draws the shared sidebar with ``config_sidebar``. ``st.navigation`` in app.py would draw it
once, but only with the page scripts outside ``pages/``: with that folder present, a session that opens a sub-page
URL directly runs the page script alone, without app.py (checked with Streamlit 1.67; with the scripts elsewhere,
the "page not found" deep-link bug, streamlit issue 9992, no longer shows).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parents[2]      # the app's folder (app.py, pages/)
_CURRENT = "_rv_page"


@dataclass(frozen=True)
class Page:
    path: str       # script, relative to the app's folder
    title: str      # page title: the sidebar label and the figure registry's ``page=``
    icon: str       # a Streamlit material icon
    blurb: str      # what the page answers (the landing page's "Explore" list)

    @property
    def url_path(self) -> str:
        """The page's URL path ("" for the landing page): Streamlit drops the number prefix of pages/N_Name.py."""
        stem = Path(self.path).stem
        return "" if self.path == "app.py" else re.sub(r"^\d+[_ -]*", "", stem)


PAGES: tuple[Page, ...] = (
    Page("app.py", "Intuition", ":material/rotate_right:",
         "rotating pairs, and why only the distance between tokens matters"),
    Page("pages/1_Frequencies.py", "Frequencies", ":material/speed:",
         "how fast each pair turns, and which never finish a turn"),
    Page("pages/2_Distance.py", "Distance", ":material/straighten:", "does attention decay with distance?"),
    Page("pages/3_Aliasing.py", "Aliasing", ":material/blur_on:", "when a base is too small for the context"),
    Page("pages/4_Offset_dimensions.py", "Offset dimensions", ":material/horizontal_rule:",
         "slow pairs as constant biases"),
    Page("pages/5_Context_extension.py", "Context extension", ":material/open_in_full:",
         "PI, NTK, YaRN, Llama 3, LongRoPE"),
    Page("pages/6_Encodings_compared.py", "Encodings compared", ":material/compare_arrows:",
         "sinusoidal, ALiBi, RoPE"),
    Page("pages/7_Kernel.py", "Kernel", ":material/memory:", "the torch / Triton implementation"),
    Page("pages/8_Real_model.py", "Real model", ":material/neurology:",
         "what a trained checkpoint does with its rotary pairs"),
)


def available_pages() -> list[Page]:
    """The pages of ``PAGES`` whose script is present (an optional page may be absent from a checkout)."""
    return [p for p in PAGES if (ROOT / p.path).exists()]


def page_header(title: str, intro_markdown: str, *, icon: str | None = None) -> None:
    """Page config (wide layout, browser tab title) + the title + a short explanation for someone learning RoPE.
    Call it first on every page; ``title`` also names the page for its URL parameters (``persist``)."""
    st.set_page_config(page_title=f"{title} · rope-viz", page_icon=icon, layout="wide")
    st.session_state[_CURRENT] = title
    st.title(title)
    st.markdown(intro_markdown)


def current_page() -> str:
    """The title the running page gave ``page_header`` ("" before it is called)."""
    return st.session_state.get(_CURRENT, "")
