"""rope_viz.validate (the one validation layer) and from_hf_config on hostile config.json documents.

Properties (hypothesis): every check returns the canonical value for valid input and raises only ValueError, naming
the field, for anything else; messages stay short (≤ 200 characters) and never contain a long user value whole.
The fuzz test feeds ≥ 1,000 generated config.json documents (valid-ish and hostile: NaN / Infinity / 1e400 / huge
integers, wrong types, markdown and HTML payloads, deep nesting, oversized text) to from_hf_config, as dicts and as
JSON text: the only outcomes allowed are a RopeConfig or a ValueError. Draws are derandomized (tests/conftest.py);
set ROPE_VIZ_FUZZ_EXAMPLES to run more.
"""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rope_viz import RopeConfig, from_hf_config
from rope_viz import validate as V

FUZZ_EXAMPLES = int(os.environ.get("ROPE_VIZ_FUZZ_EXAMPLES", "1000"))
PAYLOADS = ["**bold** [link](https://evil.example/x) ![img](https://evil.example/p.png)",
            "<script>alert(1)</script><img src=x onerror=alert(1)>", "Session expired.\n\nLog in again at evil.example",
            "`code` | table | --- |", "x" * 5000, "\u202etxt.exe", "'; DROP TABLE configs; --"]


def _message_ok(err: ValueError, *values) -> str:
    msg = str(err)
    assert 0 < len(msg) <= V.MESSAGE_MAX, msg
    for v in values:
        if isinstance(v, str) and len(v) > 80:
            assert v not in msg
    return msg


# -- shorten --------------------------------------------------------------------------------------------------------
anything = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.binary()
                        | st.sampled_from(PAYLOADS) | st.just(10 ** 500),
                        lambda kids: st.lists(kids, max_size=5) | st.dictionaries(st.text(max_size=20), kids,
                                                                                  max_size=5), max_leaves=30)


@settings(max_examples=300)
@given(anything, st.integers(10, 120))
def test_shorten_is_short_and_never_raises(value, limit):
    text = V.shorten(value, limit)
    assert isinstance(text, str) and len(text) <= limit
    assert "\n" not in text


def test_shorten_extremes():
    deep: list = []
    for _ in range(100_000):           # far past the recursion limit
        deep = [deep]
    assert len(V.shorten(deep)) <= 60
    assert V.shorten(10 ** 5000) == "<integer with ~5001 digits>"       # past int→str's 4,300-digit limit
    huge = "a" * 20_000_000
    assert V.shorten(huge).startswith("'aaaa") and len(V.shorten(huge)) <= 60
    assert V.shorten("line\n**x**") == "'line\\n**x**'"


# -- integer / real / choice ----------------------------------------------------------------------------------------
@settings(max_examples=200)
@given(st.integers(-10 ** 6, 10 ** 6), st.integers(-10 ** 6, 10 ** 6), st.integers(-10 ** 7, 10 ** 7))
def test_integer_range(lo, hi, v):
    if lo <= v <= hi:
        assert V.integer("n", v, lo, hi) == v
        assert V.integer("n", float(v), lo, hi) == v and V.integer("n", np.int64(v), lo, hi) == v
        assert V.integer("n", str(v), lo, hi, text=True) == v
    else:
        with pytest.raises(ValueError, match=rf"^n must be an integer in \[{lo}, {hi}\]; got {v}$"):
            V.integer("n", v, lo, hi)


@pytest.mark.parametrize("bad", [True, None, 1.5, float("nan"), float("inf"), "12", b"1", [1], {}, 10 ** 400,
                                 "9" * 70, object()])
def test_integer_rejects(bad):
    with pytest.raises(ValueError, match=r"^seq_len must be an integer") as e:
        V.integer("seq_len", bad, 1, 1 << 24)
    _message_ok(e.value)


def test_integer_text():
    assert V.integer("n", " 2048 ", 1, None, text=True) == 2048
    assert V.integer("n", "1e3", 1, None, text=True) == 1000
    for bad in ("1e400", "nan", "1.5", "", "9" * 65, "0x10"):
        with pytest.raises(ValueError, match="n must be an integer ≥ 1"):
            V.integer("n", bad, 1, None, text=True)


@settings(max_examples=200)
@given(st.floats(allow_nan=True, allow_infinity=True) | st.integers(-10 ** 400, 10 ** 400))
def test_real(v):
    try:
        finite = math.isfinite(float(v))
    except OverflowError:
        finite = False
    if finite:
        assert V.real("x", v) == float(v)
    else:
        with pytest.raises(ValueError, match="^x must be a finite number; got "):
            V.real("x", v)


def test_real_bounds_and_text():
    assert V.real("base", 2.0, 1.0, 1e12, lo_open=True) == 2.0
    with pytest.raises(ValueError, match=r"^base must be a finite number in \(1, 1e\+12\]; got 1$"):
        V.real("base", 1, 1.0, 1e12, lo_open=True)
    with pytest.raises(ValueError, match=r"^f must be a finite number < 1; got 1.0$"):
        V.real("f", 1.0, None, 1.0, hi_open=True)
    assert V.real("f", "2.5", text=True) == 2.5
    for bad in ("2.5", True, None, "1e400"):
        with pytest.raises(ValueError, match="f must be a finite number"):
            V.real("f", bad, text=bad == "1e400")


def test_choice():
    assert V.choice("layout", "half", ("half", "interleaved")) == "half"
    for bad in (["half"], {"a": 1}, "neox", None, 1, True):
        with pytest.raises(ValueError, match=r"^layout must be one of half, interleaved; got "):
            V.choice("layout", bad, ("half", "interleaved"))
    assert V.choice("n", 1, (0, 1)) == 1
    with pytest.raises(ValueError):
        V.choice("n", True, (0, 1))            # a bool is not the integer 1


# -- float_array / config -------------------------------------------------------------------------------------------
def test_float_array():
    out = V.float_array("x", [[1, 2], [3, 4]], ndim=2)
    assert out.dtype == np.float64 and out.shape == (2, 2)
    assert V.float_array("x", np.array([True, False])).tolist() == [1.0, 0.0]
    for bad, match in [([1, float("nan")], "finite"), ([[1], [1, 2]], "real numbers"), (["a"], "real numbers"),
                       ([10 ** 400], "real numbers"), ([1j], "real numbers")]:
        with pytest.raises(ValueError, match=f"^x must be .*{match}"):
            V.float_array("x", bad)
    with pytest.raises(ValueError, match=r"^x must be a 1-D or 2-D array; got shape \(1, 1, 1\)"):
        V.float_array("x", [[[1.0]]], ndim=(1, 2))


def test_config_check():
    cfg = RopeConfig(64)
    assert V.config("cfg", cfg) is cfg
    with pytest.raises(ValueError, match="^cfg must be a RopeConfig; got "):
        V.config("cfg", {"head_dim": 64})


# -- json_document --------------------------------------------------------------------------------------------------
json_values = st.recursive(st.none() | st.booleans() | st.integers(-10 ** 18, 10 ** 18)
                           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30),
                           lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=10), kids,
                                                                                     max_size=4), max_leaves=25)


@settings(max_examples=200)
@given(json_values)
def test_json_document_reads_what_json_reads(doc):
    text = json.dumps(doc)
    assert V.json_document(text) == json.loads(text)
    assert V.json_document(text.encode()) == json.loads(text)


@pytest.mark.parametrize("text,match", [
    ('{"a": {"factor": NaN}}', r"^a\.factor must be a finite number with at most 30 digits; got NaN$"),
    ('{"rope_scaling": {"factor": Infinity}}', r"^rope_scaling\.factor must be a finite number"),
    ('{"x": [1, -Infinity]}', r"^x\[1\] must be a finite number"),
    ('{"rope_theta": 1e400}', r"^rope_theta must be a finite number .*; got inf$"),
    ('{"head_dim": ' + "9" * 400 + "}", r"^head_dim must be a finite number .*; got <integer with 400 digits>$"),
    ('{"a": ' + "[" * 65 + "]" * 65 + "}", r"^config.json must nest at most 64 levels of \[ and \{; got 66$"),
    ("[" * 100_000, r"^config.json must nest at most 64 levels"),
    ('{"a": 1', r"^config.json must be valid JSON; got: Expecting ',' delimiter, at line 1, column 8$"),
    (b"\xff\xfe{}", r"^config.json must be UTF-8 text"),
    ('{"a": "' + "x" * 1_000_001 + '"}', r"^config.json must be at most 1,000,000 bytes; got 1,000,010 bytes$"),
    (b" " * 1_000_001, r"^config.json must be at most 1,000,000 bytes; got 1,000,001 bytes$"),
])
def test_json_document_rejects(text, match):
    with pytest.raises(ValueError, match=match) as e:
        V.json_document(text)
    _message_ok(e.value)


def test_json_document_depth_ignores_brackets_in_strings():
    assert V.json_document('{"a": "' + "[" * 1000 + '"}') == {"a": "[" * 1000}
    assert V.json_document("[" * 64 + "]" * 64, max_depth=64) is not None


# -- from_hf_config: hostile documents --------------------------------------------------------------------------------
HF_KEYS = ["head_dim", "hidden_size", "num_attention_heads", "max_position_embeddings", "rope_theta",
           "partial_rotary_factor", "rotary_pct", "rotary_emb_base", "qk_rope_head_dim", "model_type",
           "original_max_position_embeddings", "n_positions", "text_config", "rope_scaling", "rope_parameters"]
SCALING_KEYS = ["type", "rope_type", "factor", "original_max_position_embeddings", "low_freq_factor",
                "high_freq_factor", "beta_fast", "beta_slow", "mscale", "mscale_all_dim", "attention_factor",
                "truncate", "short_factor", "long_factor", "rope_theta", "partial_rotary_factor", "full_attention"]
hostile_scalar = st.one_of(
    st.sampled_from([0, 1, 2, 64, 96, 128, 4096, 131072, 1 << 24, 1 << 25, -1, 0.5, 1.0, 8.0, 1e4, 5e5, 1e12, 1e13,
                     True, False, None, "", "128", "yarn", "llama3", "longrope", "su", "linear", "dynamic", "default",
                     "ntk", "gpt_neox", float("nan"), float("inf"), -float("inf"), 10 ** 400, -(10 ** 30),
                     1e308, 5e-324, "1e400"]),
    st.sampled_from(PAYLOADS), st.integers(), st.floats(), st.text(max_size=40))
hostile_value = hostile_scalar | hostile_scalar | st.recursive(
    hostile_scalar, lambda kids: st.lists(kids, max_size=6)
    | st.dictionaries(st.sampled_from(SCALING_KEYS) | st.text(max_size=12), kids, max_size=4), max_leaves=12)


TEMPLATES = [
    {"hidden_size": 4096, "num_attention_heads": 32, "max_position_embeddings": 4096, "rope_theta": 10000.0},
    {"hidden_size": 4096, "num_attention_heads": 32, "max_position_embeddings": 131072, "rope_theta": 500000.0,
     "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                      "original_max_position_embeddings": 8192}},
    {"head_dim": 128, "max_position_embeddings": 32768, "rope_theta": 1e6,
     "rope_scaling": {"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32768}},
    {"hidden_size": 3072, "num_attention_heads": 32, "max_position_embeddings": 131072,
     "original_max_position_embeddings": 4096, "rope_theta": 10000.0,
     "rope_scaling": {"type": "longrope", "short_factor": [1.0] * 48, "long_factor": [1.5] * 48}},
    {"hidden_size": 6144, "num_attention_heads": 64, "rotary_pct": 0.25, "model_type": "gpt_neox",
     "max_position_embeddings": 2048, "rotary_emb_base": 10000},
    {"head_dim": 64, "rope_parameters": {"rope_type": "dynamic", "factor": 2.0, "rope_theta": 1e4,
                                         "partial_rotary_factor": 0.5}},
    {"text_config": {"head_dim": 256, "num_attention_heads": 8, "rope_parameters": {
        "full_attention": {"rope_type": "linear", "factor": 8.0, "rope_theta": 1e6}}}},
]


@st.composite
def hf_documents(draw):
    """A real-looking config.json dict with 0–3 of its fields replaced by hostile values, removed, or added."""
    doc = json.loads(json.dumps(draw(st.sampled_from(TEMPLATES))))
    for _ in range(draw(st.integers(0, 3))):
        target = doc
        for key in ("rope_scaling", "rope_parameters", "text_config"):
            if key in doc and isinstance(doc[key], dict) and draw(st.booleans()):
                target = doc[key]
                break
        key = draw(st.sampled_from(sorted(target) + HF_KEYS + SCALING_KEYS))
        if draw(st.integers(0, 4)) == 0:
            target.pop(key, None)
        else:
            target[key] = draw(hostile_value)
    return doc


OUTCOMES = {"config": 0, "error": 0}


def _only_config_or_value_error(src, payloads=()):
    try:
        out = from_hf_config(src)
    except ValueError as e:
        OUTCOMES["error"] += 1
        return _message_ok(e, *payloads)
    assert isinstance(out, RopeConfig)
    OUTCOMES["config"] += 1
    return out


@settings(max_examples=FUZZ_EXAMPLES)
@given(hf_documents(), st.sampled_from(["dict", "text", "bytes", "mangled"]))
def test_from_hf_config_fuzz(doc, form):
    """≥ 1,000 documents: a RopeConfig or a ValueError (≤ 200 characters, no long payload echoed), nothing else."""
    if form == "dict":
        _only_config_or_value_error(doc, PAYLOADS)
        return
    text = json.dumps(doc, allow_nan=True, default=str)       # NaN / Infinity literals stay in the text
    if form == "mangled":                                     # literal tokens json.dumps cannot write
        text = text.replace("4096", "1e400").replace("8.0", "9" * 400).replace("64", "[" * 70 + "1" + "]" * 70)
    _only_config_or_value_error(text.encode() if form == "bytes" else text, PAYLOADS)


def test_fuzz_reached_both_outcomes():
    """The generated documents are neither all valid nor all rejected (runs after the fuzz test, in file order)."""
    if OUTCOMES["config"] + OUTCOMES["error"] < 100:
        pytest.skip("run together with test_from_hf_config_fuzz")
    print(OUTCOMES)
    assert min(OUTCOMES.values()) >= 0.05 * sum(OUTCOMES.values()), OUTCOMES


@pytest.mark.parametrize("src,match", [
    ('{"head_dim": 128, "rope_theta": Infinity}', r"^rope_theta must be a finite number"),
    ('{"head_dim": 128, "rope_theta": 1e400}', r"^rope_theta must be a finite number"),
    ('{"head_dim": ' + "1" * 400 + "}", r"^head_dim must be a finite number with at most 30 digits"),
    ({"head_dim": 10 ** 400}, r"^head_dim must be an integer in \[2, 1024\]; got <integer with ~401 digits>$"),
    ({"head_dim": 128, "rope_theta": 10 ** 400}, r"^rope_theta must be a finite number"),
    ({"hidden_size": float("inf"), "num_attention_heads": 32}, r"^hidden_size must be an integer"),
    ({"head_dim": 128, "rope_scaling": {"type": ["yarn"], "factor": 2}}, r"^rope_type must be one of default"),
    ({"head_dim": 128, "rope_scaling": {"rope_type": {"a": 1}, "factor": 2}}, r"^rope_type must be one of"),
    ({"head_dim": 128, "rope_scaling": {"type": "x" * 20_000_000}}, r"^rope_type must be one of"),
    ({"head_dim": 128, "rope_scaling": {"type": "yarn", "factor": 2, "x" * 500: 1}},
     r"^rope_type 'yarn' does not take key\(s\) x{29}…; allowed: attention_factor"),
    ('{"head_dim": 128, "rope_scaling": ' + "[" * 2000 + "]" * 2000 + "}", r"^config.json must nest at most 64"),
    ({"head_dim": 128, "max_position_embeddings": 1 << 25}, r"^max_position_embeddings must be an integer in"),
])
def test_from_hf_config_hostile_examples(src, match):
    """The crashes found by hand (OverflowError, TypeError for an unhashable rope_type, RecursionError, 20 MB values
    echoed back) are now ValueErrors naming the field."""
    with pytest.raises(ValueError, match=match) as e:
        from_hf_config(src)
    _message_ok(e.value)


# -- read_capped ------------------------------------------------------------------------------------------------------
def test_read_capped(tmp_path):
    f = tmp_path / "config.json"
    f.write_bytes(b'{"head_dim": 64}')
    assert V.read_capped("--config", f) == b'{"head_dim": 64}'
    assert V.read_capped("--config", str(f)) == b'{"head_dim": 64}'
    with open(f, "rb") as fh:
        assert V.read_capped("upload", fh) == b'{"head_dim": 64}'
    with pytest.raises(ValueError, match=r"^--config must be at most 1,000,000 bytes; got more$"):
        V.read_capped("--config", "/dev/zero")                 # endless: stops after 1 MB + 1 byte
    with pytest.raises(ValueError, match=r"^--config must be at most 8 bytes"):
        V.read_capped("--config", f, max_bytes=8)
    with pytest.raises(ValueError, match=r"^--config must be a readable file; got .*missing.json.*No such file"):
        V.read_capped("--config", tmp_path / "missing.json")
    with pytest.raises(ValueError, match=r"^--config must be a readable file; got .*\(Is a directory\)"):
        V.read_capped("--config", tmp_path)
    with pytest.raises(ValueError, match=r"^--config must be a file path or a binary file; got 42"):
        V.read_capped("--config", 42)


# -- choices: a list of options (figures' ``methods``, the kernel benchmark's methods) -------------------------------
@pytest.mark.parametrize("bad", [5, 1.5, "yarn", b"yarn", None, {"yarn": 1}, float("nan"), True, ["yarn", 5],
                                 ["yarn", ["ntk"]], ["<b>x</b>"], [float("nan")], 10 ** 40])
def test_choices_rejects_with_the_field_named(bad):
    with pytest.raises(ValueError, match=r"^methods must be") as e:
        V.choices("methods", bad, ("ntk", "yarn"))
    assert len(str(e.value)) <= V.MESSAGE_MAX


def test_choices_keeps_order_and_drops_repeats():
    assert V.choices("m", ("yarn", "ntk", "yarn"), ("ntk", "yarn")) == ["yarn", "ntk"]
    assert V.choices("m", [], ("ntk",)) == []


@pytest.mark.parametrize("name", ["ext_ratio", "ext_wavelengths", "ext_score", "ext_attention_factor"])
@pytest.mark.parametrize("bad", [5, "yarn", {"yarn": 1}, ["yarn", None], [["ntk"]], ["nope"]])
def test_every_extension_figure_names_a_bad_methods_option(name, bad):
    from rope_viz.config import RopeConfig
    from rope_viz.figures import get_figure

    with pytest.raises(ValueError, match=r"^methods must be"):
        get_figure(name).fn(RopeConfig(64), methods=bad)


@pytest.mark.parametrize("opt, bad", [("s_max", float("nan")), ("s_max", float("inf")), ("s_max", 1.0),
                                      ("s_max", [3.0]), ("s_max", "8"), ("s_max", 1e300),
                                      ("n_points", [1, 2]), ("n_points", 1.5), ("n_points", 10 ** 30),
                                      ("n_points", True), ("n_points", 1)])
def test_attention_factor_chart_rejects_hostile_numbers_naming_the_field(opt, bad):
    from rope_viz.config import RopeConfig
    from rope_viz.figures import get_figure

    with pytest.raises(ValueError, match=rf"^{opt} must be"):
        get_figure("ext_attention_factor").fn(RopeConfig(64), **{opt: bad})
