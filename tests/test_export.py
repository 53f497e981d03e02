"""rope_viz.export: PNG/SVG/PDF through the kaleido server (needs Debian's chromium), standalone HTML, tidy CSV, the
docs style, and the ``python -m rope_viz export`` command. Outputs are parsed back (magic bytes, XML, CSV), not compared
with stored files."""

from __future__ import annotations

import csv
import io
import re
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest

from rope_viz import export
from rope_viz.config import RopeConfig
from rope_viz.figures import _style
from rope_viz.figures.frequencies import freq_angle_map, freq_wavelengths

ROOT = Path(__file__).resolve().parents[1]
HAS_CHROMIUM = any(shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome"))
needs_chromium = pytest.mark.skipif(not HAS_CHROMIUM, reason="static export needs a Chromium browser (kaleido)")


def _simple() -> go.Figure:
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1, 2], y=[0.5, -1.25, 3.0], name="line a"))
    fig.add_trace(go.Bar(x=["p", "q"], y=[2, 4], name="bars"))
    return _style.styled(fig, title="t", x_title="x (tokens)", y_title="y (rad)")


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@needs_chromium
def test_static_formats_are_valid_and_sized():
    fig = freq_wavelengths(RopeConfig(64))
    png = export.export_figure(fig, "png")
    w, h = _png_size(png)
    assert (w, h) == (2 * export.DEFAULT_EXPORT_SIZE[0], 2 * 460)           # 2× density, the app figure's height
    svg = export.export_figure(fig, "svg")
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg") and float(root.get("width")) == export.DEFAULT_EXPORT_SIZE[0]
    assert b"pair index i" in svg                                            # the axis title made it into the file
    pdf = export.export_figure(fig, "pdf")
    assert pdf.startswith(b"%PDF-") and b"%%EOF" in pdf[-1024:]


@needs_chromium
def test_docs_style_is_fixed_size_light_and_larger():
    fig = _simple()
    docs = export.docs_version(fig)
    assert (docs.layout.width, docs.layout.height) == _style.DOCS_SIZE
    assert docs.layout.font.size > fig.layout.font.size and docs.layout.paper_bgcolor == "white"
    assert fig.layout.width is None                                          # the app figure is untouched
    assert _png_size(export.to_png(docs, scale=1)) == _style.DOCS_SIZE


def test_html_is_standalone():
    html = export.to_html(_simple()).decode("utf-8")
    assert html.lstrip().lower().startswith("<html") or html.lstrip().lower().startswith("<!doctype")
    assert "Plotly.newPlot" in html and "plotly.js" in html.lower()
    assert re.findall(r"<script[^>]*\bsrc=", html) == []                     # plotly.js inlined: opens offline
    assert len(html) > 1_000_000


def test_csv_holds_the_trace_data():
    fig = _simple()
    rows = list(csv.DictReader(io.StringIO(export.to_csv(fig).decode("utf-8"))))
    assert [r["trace"] for r in rows] == ["line a"] * 3 + ["bars"] * 2
    assert [float(r["y"]) for r in rows[:3]] == [0.5, -1.25, 3.0]
    assert [r["x"] for r in rows[3:]] == ["p", "q"]


def test_csv_unrolls_heatmaps_exactly():
    cfg = RopeConfig(16, context_length=64)
    fig = freq_angle_map(cfg)
    rows = list(csv.DictReader(io.StringIO(export.to_csv(fig).decode("utf-8"))))
    z = np.asarray(fig.data[0].z)
    assert len(rows) == z.size
    r = rows[3 * z.shape[1] + 5]                                             # row 3, column 5
    assert (float(r["x"]), float(r["y"])) == (5.0, float(fig.data[0].y[3]))
    assert float(r["z"]) == pytest.approx(float(z[3, 5]), rel=1e-7)


def test_csv_includes_animation_frames():
    fig = go.Figure(go.Scatter(x=[0], y=[0], name="v"), frames=[go.Frame(name="f1", data=[go.Scatter(x=[1], y=[2])])])
    rows = list(csv.DictReader(io.StringIO(export.to_csv(fig).decode("utf-8"))))
    assert [(r["frame"], r["x"], r["y"]) for r in rows] == [("", "0", "0"), ("f1", "1", "2")]


def test_csv_drops_curve_gaps_and_keeps_point_labels():
    """Several curves in one trace (NaN-separated, named by per-point text): the gaps are not data rows."""
    fig = go.Figure(go.Scatter(x=[0, 1, np.nan, 0, 1], y=[0, -1, np.nan, 0, -2], name="heads 1–2",
                               text=["h1", "h1", "", "h2", "h2"]))
    rows = list(csv.DictReader(io.StringIO(export.to_csv(fig).decode("utf-8"))))
    assert [(r["label"], float(r["x"]), float(r["y"])) for r in rows] == [
        ("h1", 0, 0), ("h1", 1, -1), ("h2", 0, 0), ("h2", 1, -2)]
    assert "label" not in export.to_csv(_simple()).decode("utf-8").splitlines()[0]


def test_csv_holds_polar_traces():
    """A polar trace has r and theta but no x / y: its points are data rows, not gaps (the freq_polar export was an
    empty CSV, header only)."""
    from rope_viz.figures.frequencies import freq_polar

    fig = freq_polar(RopeConfig(16, context_length=64), pair=1, position=7)
    rows = list(csv.DictReader(io.StringIO(export.to_csv(fig).decode("utf-8"))))
    for tr in fig.data:
        got = [(float(r["r"]), float(r["theta"])) for r in rows if r["trace"] == tr.name]
        assert got == [(float(a), float(b)) for a, b in zip(tr.r, tr.theta)]
    assert len(rows) == sum(len(tr.r) for tr in fig.data) > 0


def test_unknown_format_is_a_value_error():
    with pytest.raises(ValueError, match="format must be one of"):
        export.export_figure(_simple(), "gif")


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rope_viz", "export", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=240)


@needs_chromium
def test_cli_export_svg_from_a_preset(tmp_path):
    out = tmp_path / "ratio.svg"
    r = _cli("ext_ratio", "--preset", "llama-3.1-8b", "--base", "1e6", "--style", "docs", "--format", "svg",
             "--out", str(out))
    assert r.returncode == 0, r.stderr
    root = ET.fromstring(out.read_bytes())
    assert root.tag.endswith("svg") and float(root.get("width")) == _style.DOCS_SIZE[0]
    assert "Traceback" not in r.stderr


def test_cli_export_csv_and_html_without_a_browser(tmp_path):
    out = tmp_path / "w.csv"
    r = _cli("freq_wavelengths", "--head-dim", "32", "--base", "500000", "--context-length", "8192",
             "--scaling-json", '{"rope_type": "linear", "factor": 2}', "--out", str(out))
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    pts = [x for x in rows if x["type"] == "scatter" and x["trace"] in ("full cycle within context",
                                                                          "partial cycle (λ > L)")]
    # both panels (θ and λ) list each of the 16 pairs once: 32 rows; θ = base^(−2i/r)/factor
    assert len(pts) == 32
    thetas = sorted((float(x["x"]), float(x["y"])) for x in pts if float(x["y"]) <= 1.0)[:16]
    for i, th in thetas:
        assert th == pytest.approx(500000.0 ** (-2 * i / 32) / 2, rel=1e-12)
    html = tmp_path / "w.html"
    assert _cli("freq_layout", "--format", "html", "--out", str(html)).returncode == 0
    assert "Plotly.newPlot" in html.read_text()


def test_cli_bad_input_exits_2_with_one_line(tmp_path):
    for args in (["no_such_figure", "--out", str(tmp_path / "x.svg")],
                 ["freq_layout", "--head-dim", "65", "--out", str(tmp_path / "x.csv")],
                 ["freq_layout", "--preset", "no-such-model", "--out", str(tmp_path / "x.csv")],
                 ["freq_layout", "--scaling-json", "{bad", "--out", str(tmp_path / "x.csv")],
                 ["freq_layout", "--out", str(tmp_path / "x.gif")]):
        r = _cli(*args)
        assert r.returncode == 2, (args, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "error" in lines[0] and "Traceback" not in r.stderr, r.stderr
    r = _cli("--list")
    assert r.returncode == 0 and "freq_wavelengths" in r.stdout and "ext_ratio" in r.stdout


def test_export_names_carry_the_figure_and_the_config():
    from rope_viz.presets import get_preset

    llama = get_preset("llama-3.1-8b").config
    assert export.export_filename("distance_curves", llama, "svg", model="llama-3.1-8b") == \
        "distance_curves_llama-3.1-8b_b500000_L131072_llama3x8.svg"
    plain = RopeConfig(64, base=1e6, context_length=2048)
    assert export.export_filename("freq_polar", plain, "csv", docs=True) == "freq_polar_d64_b1000000_L2048_docs.csv"
    odd = export.export_filename("x", plain.replace(base=1.5e9), "png", model="../my model/ config")
    assert odd == "x_my-model-config_b1.5e09_L2048.png" and "/" not in odd
    assert export.export_filename("x", plain, "png") != export.export_filename("x", plain.replace(base=5e5), "png")
    # the rotary fraction and the layout tell apart two configs that share model, base and context
    partial = plain.replace(rotary_fraction=0.25, layout="interleaved")
    assert export.export_filename("x", partial, "svg") == "x_d64_b1000000_L2048_rf0.25_interleaved.svg"
    # a transformers checkpoint's config.json is named after its folder (every one of them is called config.json)
    assert export.config_model_name("/models/Llama-3-8B/config.json") == "Llama-3-8B"
    assert export.config_model_name("phi3.json") == "phi3" and export.config_model_name("a/b/Config.JSON") == "b"


def test_docs_size_is_what_the_docs_export_has():
    from rope_viz.cli import DEFAULT_CONFIG
    from rope_viz.figures import figures

    for name in ("ext_score", "freq_wavelengths", "distance_curves"):
        fig = figures()[name].fn(DEFAULT_CONFIG)
        docs = export.docs_version(fig)
        assert export.docs_size(fig) == (docs.layout.width, docs.layout.height), name
    assert export.docs_size(figures()["ext_score"].fn(DEFAULT_CONFIG)) == (1000, 830)


def test_docs_version_has_the_size_of_the_figure_built_in_the_docs_style():
    """The app's Export menu turns the app figure into its docs version (``docs_version``); the CLI builds the figure
    in the docs style. A legend under the plot adds room to the style's height, and the menu's version was 100 px
    shorter than the CLI's (7 figures: offsets_bias's legend touched its x-axis title). Every figure, both ways."""
    from rope_viz.cli import DEFAULT_CONFIG
    from rope_viz.figures import figures

    for name, spec in figures().items():
        if name.startswith("model_"):
            continue                                    # measured data (tests/test_models_real.py draws them)
        app, docs = spec.fn(DEFAULT_CONFIG, style="app"), spec.fn(DEFAULT_CONFIG, style="docs")
        want = (docs.layout.width, docs.layout.height)
        made = export.docs_version(app)
        assert export.docs_size(app) == want == (made.layout.width, made.layout.height), name


def test_cli_list_shows_options_and_default_out_name(tmp_path):
    r = _cli("--list")
    assert r.returncode == 0, r.stderr
    block = r.stdout.split("freq_polar  [Frequencies]")[1].split("\n")[1]
    assert block.strip().startswith("options:") and "pair=0" in block and "position=" in block
    assert "docs" not in r.stdout.split("\n")[0]                      # sizes only on request (they compute)
    r = subprocess.run([sys.executable, "-m", "rope_viz", "export", "freq_polar", "--preset", "llama-2-7b",
                        "--format", "csv", "--option", "pair=3"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=240)
    assert r.returncode == 0, r.stderr
    [made] = list(tmp_path.iterdir())
    assert made.name == "freq_polar_llama-2-7b_b10000_L4096_docs.csv"


@needs_chromium
def test_cli_export_says_the_size_the_file_has(tmp_path):
    """The help said "1000 px wide" while a PNG is 2000 pixels wide (2× density) and ext_score is 1000×830: the CLI
    says each file's size, the PNG's pixels as its header has them."""
    out = tmp_path / "s.png"
    r = _cli("ext_score", "--preset", "llama-3.1-8b", "--out", str(out))
    assert r.returncode == 0, r.stderr
    w, h = _png_size(out.read_bytes())
    assert f"1000×830 px at 2× pixel density: {w}×{h} pixels" in r.stderr and (w, h) == (2000, 1660), r.stderr
    r = _cli("ext_score", "--preset", "llama-3.1-8b", "--out", str(tmp_path / "s.svg"))
    root = ET.fromstring((tmp_path / "s.svg").read_bytes())
    assert f"{root.get('width')}×{root.get('height')} px" in r.stderr and root.get("height") == "830", r.stderr


def test_csv_rows_of_a_grid_say_their_panel():
    """ext_score's CSV had "original (no scaling)" six times with nothing telling the panels apart. Every figure with
    several panels: each static row names its panel (the subplot's title, tags removed), each panel's rows are its
    traces' points."""
    from rope_viz.cli import DEFAULT_CONFIG
    from rope_viz.figures import figures

    grids = 0
    for name, spec in figures().items():
        if name.startswith(("model_", "kernel_")):
            continue
        fig = spec.fn(DEFAULT_CONFIG, style="app")
        rows = list(csv.DictReader(io.StringIO(export.to_csv(fig).decode())))
        axes = {(t.xaxis or "x", t.yaxis or "y") for t in fig.data if hasattr(t, "xaxis")}
        if len(axes) < 2:
            assert not rows or "panel" not in rows[0], name
            continue
        grids += 1
        titles = {re.sub(r"<[^>]+>", "", re.sub(r"<br\\s*/?>", " · ", a.text)) for a in fig.layout.annotations}
        static = [r for r in rows if not r.get("frame")]
        assert static and all(r["panel"] in titles or "/" in r["panel"] for r in static), name
    assert grids >= 3
    fig = figures()["ext_score"].fn(DEFAULT_CONFIG, style="app")
    rows = list(csv.DictReader(io.StringIO(export.to_csv(fig).decode())))
    orig = [t for t in fig.data if t.name == "original (no scaling)"]
    by_panel = {}
    for r in rows:
        if r["trace"] == "original (no scaling)":
            by_panel[r["panel"]] = by_panel.get(r["panel"], 0) + 1
    assert len(by_panel) == len(orig) > 1 and sorted(by_panel.values()) == sorted(len(t.x) for t in orig)
