"""Hostile URLs: generated query strings through the URL decoder (rope_viz.ui.state.decode_query and persist's
parser) and, for a sample, through the app (AppTest). Only a notice, never a crash; user text never rendered as
markdown / HTML. ROPE_VIZ_FUZZ_EXAMPLES raises the number of generated cases (default: the CI budget)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from rope_viz.ui import state as S
from rope_viz.ui.sidebar import _parse_page

ROOT = Path(__file__).resolve().parents[1]
N = int(os.environ.get("ROPE_VIZ_FUZZ_EXAMPLES", "0")) or None
MARK = "EVIL"           # every injected payload carries it: after removing code spans, no rendered text may
PAYLOADS = [
    f"x'.\n\nSession expired. [Log in again](http://{MARK}.example/login)![px](http://{MARK}.example/p.png)",
    f"<img src=x onerror=alert('{MARK}')><script>{MARK}</script>",
    f"**{MARK}** _{MARK}_ :material/home: :red[{MARK}] $\\{MARK}^2$ :smile:",
    f"`{MARK}` ``{MARK}`` ```{MARK}",
    f"javascript:alert('{MARK}')",
    f"# {MARK}\n- {MARK}\n> {MARK}",
    f"{MARK}." * 3000,
]
NUMBERS = ["0", "1", "-1", "2", "3", "7", "65", "128", "0.5", "1e308", "-1e308", "1e400", "nan", "NaN", "inf",
           "-Infinity", "1" * 60, "0x10", "1_000", "", " ", "true", "null", "[1]", "[[1]]", "1,2,3", "1,,2",
           "[1e400]", "1e-320", "4096", "131072", "16777217", "2097152", "1.5e6"]
CONFIG_KEYS = sorted(S.RESERVED_URL_KEYS)
PAGE_KEYS = ["pairs", "step", "qpos", "kpos", "shift", "pair", "pos", "logx", "s_ext", "of", "zz"]
_values = st.one_of(st.sampled_from(NUMBERS), st.sampled_from(PAYLOADS), st.sampled_from(S.SCALING_CHOICES),
                    st.sampled_from(["half", "interleaved", "h", "llama-3.1-8b", "phi-3-mini-128k"]),
                    st.text(max_size=40))
_queries = st.dictionaries(st.sampled_from(CONFIG_KEYS + PAGE_KEYS), _values, max_size=6)


def _rendered_outside_code(text: str) -> str:
    """Markdown text with its code spans removed: what would be rendered as markdown."""
    return re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "", text, flags=re.S)


# -- the decoder directly: many cases ---------------------------------------------------------------------------------
@settings(max_examples=N or 400, derandomize=True, deadline=None)
@given(_queries)
def test_decoder_gives_a_valid_config_and_short_escaped_messages(query):
    preset, state, errors = S.decode_query(query)
    cfg = S.config_from_state(state)                        # the decoded state is always a valid config
    assert preset is None or preset in S.preset_names()
    for e in errors:
        assert e.startswith("URL parameter ") and len(e) <= 400 and "\n" not in e, e
    # what decodes also encodes back to the same config
    again = S.decode_query(S.encode_query(state, preset))
    assert again[2] == [] and S.config_from_state(again[1]) == cfg


@settings(max_examples=N or 300, derandomize=True, deadline=None)
@given(_values, st.sampled_from([0, 1.5, True, "a", [0, 1], [1.0]]), st.booleans())
def test_page_parameter_parser_gives_a_value_or_a_value_error(text, default, with_options):
    options = ([0, 1, 2, 3] if isinstance(default, (int, list)) and not isinstance(default, bool) else None) \
        if with_options else None
    try:
        value = _parse_page("p", text, default, options, 0, 10, 6)
    except ValueError as e:
        assert str(e).startswith("URL parameter p") and len(str(e)) <= 300 and "\n" not in str(e)
        return
    if isinstance(default, list):
        assert isinstance(value, list) and len(value) <= 6
    elif options is not None:
        assert value in options
    else:
        assert type(value) is type(default)


# -- a sample through the app ---------------------------------------------------------------------------------------
KNOWN = [
    (None, {"pairs": "0,1,2,3,4,5,6,7"}),
    (None, {"L": "1", "qpos": "5"}),
    (None, {"L": "2", "qpos": "5", "kpos": "9", "shift": "1e308"}),
    ("pages/1_Frequencies.py", {"d": "2", "pair": "1e308"}),
    (None, {"s": "longrope", "d": "1e308", "rf": "10"}),
    (None, {"preset": PAYLOADS[0]}),
    ("pages/1_Frequencies.py", {"preset": PAYLOADS[1], "d": PAYLOADS[2], "pair": PAYLOADS[3]}),
    (None, {"s": PAYLOADS[5], "f": PAYLOADS[4], "pairs": PAYLOADS[0]}),
    ("pages/5_Context_extension.py", {"s": "yarn", "f": "1e400", "oc": "1" * 60, "af": PAYLOADS[6]}),
    ("pages/2_Distance.py", {"preset": "phi-3-mini-128k", "sh": "1,2", "lo": "[1e400]", "d": "64"}),
]


def _markdown_bodies(at: AppTest) -> list[str]:
    out = []
    for kind in ("markdown", "caption", "error", "warning", "info", "success", "title", "header", "subheader",
                 "toast", "exception"):
        for el in getattr(at, kind, []):
            out.append(str(getattr(el, "value", "")))
    for el in at.metric:
        out.append(str(el.label))
    return out


def _check_page(page, query):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params.update(query)
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, (page, query, [e.value for e in at.exception])
    for body in _markdown_bodies(at):
        assert MARK not in _rendered_outside_code(body), (page, query, body[:300])
    notices = [w.value for w in at.warning if w.value.startswith("Some settings in the page address")]
    assert len(notices) <= 1
    return at


@pytest.mark.parametrize("page, query", KNOWN, ids=[f"known{i}" for i in range(len(KNOWN))])
def test_known_hostile_urls_give_a_notice_not_a_crash(page, query):
    _check_page(page, query)


@settings(max_examples=N // 20 if N else 8, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([None, "pages/1_Frequencies.py", "pages/2_Distance.py", "pages/5_Context_extension.py"]),
       _queries)
def test_generated_urls_through_the_app(page, query):
    _check_page(page, query)


def test_the_notice_shows_the_value_verbatim():
    at = _check_page(None, {"preset": PAYLOADS[0]})
    [notice] = [w.value for w in at.warning]
    assert "Log in again" in notice and "`" in notice                 # shown, but inside a code span


def test_page_lists_of_one_item_round_trip():
    from rope_viz.ui.sidebar import _fmt_page

    opts = ["base 1e6", "phi-3-mini-128k"]
    for value in (["phi-3-mini-128k"], ["base 1e6", "phi-3-mini-128k"], []):
        assert _parse_page("dcmp", _fmt_page(value), [], opts, None, None, 3) == value
    assert _parse_page("dcmp", "[phi-3-mini-128k]", [], opts, None, None, 3) == ["phi-3-mini-128k"]
    assert _parse_page("pairs", _fmt_page([5]), [0, 1], None, None, None, 6) == [5]
