"""ui.table_cell: st.table renders Markdown in every cell, so each header and cell is escaped; what a reader sees
must be exactly the text (checked in a real browser by test_browser.py::test_table_cells_show_outside_text_verbatim;
here the escaping is lossless for any text, and the app's number notation is used for numbers)."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st
from page_tools import _unescape

from rope_viz.figures._style import format_number
from rope_viz.ui import table_cell

_MARKDOWN = "\\`*_[]<>~$|!#:()-+.1 /material"


@given(st.text(alphabet=st.sampled_from(list(_MARKDOWN) + ["a", "é", "×", "\n"]), max_size=40))
def test_escaping_is_lossless(text):
    cell = table_cell(text)
    assert _unescape(cell) == " ".join(text.split())
    assert "\n" not in cell and ":material/" not in cell        # Streamlit rewrites that prefix before parsing
    if not cell.startswith("`"):                                  # outside a code span, every special is escaped
        unescaped = re.sub(r"\\.", "", cell.replace("\u2060", ""))
        assert not re.search(r"[`*_\[\]<>~$|!#:\\]", unescaped), cell


@given(st.integers(-10**12, 10**12))
def test_integers_have_thousands_separators(n):
    assert table_cell(n) == f"{n:,}"


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_floats_use_the_app_notation(x):
    assert table_cell(x) == format_number(x) and "e+" not in table_cell(x) and "e-" not in table_cell(x)


def test_block_markers_become_a_code_span():
    for text in ("- item", "1. one", "# h", "> q", "+ x", "2) two"):
        assert table_cell(text).startswith("`") and _unescape(table_cell(text)) == text
