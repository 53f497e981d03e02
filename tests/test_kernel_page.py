"""The Kernel page (AppTest), its figures, and the analytic overhead numbers behind them.

Analytic checks use closed forms and the reference numbers of rope-literature §6c/§8; the page is driven through
Streamlit's AppTest on CPU (the benchmark at a tiny size), and once with torch hidden to check the fallback message.
"""

from __future__ import annotations

import base64
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from page_tools import tables
from streamlit.testing.v1 import AppTest

from rope_viz.analysis.overhead import fp32_phase_error, rope_memory, table_share_of_layer_kv
from rope_viz.config import RopeConfig
from rope_viz.figures._style import format_number

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PAGE = "pages/7_Kernel.py"
TIMEOUT = 60


def _arr(v) -> np.ndarray:
    if isinstance(v, dict) and "bdata" in v:
        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
        if "shape" in v:
            a = a.reshape([int(s) for s in str(v["shape"]).split(",")])
        return a.astype(np.float64)
    return np.asarray(v, dtype=np.float64)


def charts(at: AppTest) -> dict[str, dict]:
    out = {}
    for el in at.get("plotly_chart"):
        spec = json.loads(el.proto.spec)
        out[spec["layout"]["title"]["text"]] = spec
    return out


def chart(at: AppTest, start: str) -> dict:
    found = [c for t, c in charts(at).items() if t.startswith(start)]
    assert len(found) == 1, list(charts(at))
    return found[0]


SECTIONS = ["Time", "Memory", "Precision"]


def open_page(section: str | None = None) -> AppTest:
    """The Kernel page opened the way a user reaches it: the app first, then the page (``section``: that section
    tab, ?ktab=, else the first)."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if section:
        at.query_params["ktab"] = section
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# -- analytic: phase error and memory ------------------------------------------------------------------------------
@pytest.mark.parametrize("m,ref", [(4096, 1.2e-4), (32768, 9.7e-4), (131072, 3.9e-3), (1 << 20, 3.1e-2),
                                   (1 << 22, 0.125)])
def test_fp32_phase_error_matches_literature_base_1e4(m, ref):
    """rope-literature §6c [C]: base 1e4, d = 128, HF-style fp32 angle vs float64."""
    err = float(fp32_phase_error(RopeConfig(128, base=1e4), [m])[0])
    assert err == pytest.approx(ref, rel=0.03)


def test_fp32_phase_error_against_torch_fp32_product():
    torch = pytest.importorskip("torch")
    cfg = RopeConfig(64, base=5e5)
    pos = np.array([0, 1, 1000, 65537, 999_999, 1 << 24])
    theta = 5e5 ** (-np.arange(0, 64, 2) / 64)                          # float64 closed form, not rope_viz
    phi32 = (torch.tensor(pos, dtype=torch.float32)[:, None] * torch.tensor(theta, dtype=torch.float32)).double()
    ref = (phi32.numpy() - pos[:, None] * theta).__abs__().max(axis=1)
    np.testing.assert_allclose(fp32_phase_error(cfg, pos), ref, rtol=1e-12, atol=1e-15)
    bf16 = fp32_phase_error(cfg, [4096], inv_freq_dtype="bfloat16")[0]
    assert bf16 > 1.0                                                    # §6c: bf16 inv_freq ~ random phase at 4K
    with pytest.raises(ValueError, match="integers"):
        fp32_phase_error(cfg, [1.5])
    with pytest.raises(ValueError, match="inv_freq_dtype"):
        fp32_phase_error(cfg, [1], inv_freq_dtype="int8")


def test_memory_table_closed_forms():
    cfg = RopeConfig(128, context_length=2048)
    rows = rope_memory(cfg, n_layers=32, n_kv_heads=8)
    table = [r for r in rope_memory(cfg, n_layers=32, n_kv_heads=8) if r["item"].startswith("cos/sin table (")][0]
    assert table["bytes"] == 2 * 2048 * 128 * 2                          # cos + sin, (T, d) bf16: 1 MiB
    assert table["pct_layer_kv"] == pytest.approx(12.5)                  # the "12.5 %" claim, for 8 KV heads
    assert table["pct_model_kv"] == pytest.approx(12.5 / 32)
    assert table_share_of_layer_kv(cfg, 8) == 0.125
    assert rows[0]["item"] == "KV cache, one layer" and rows[0]["bytes"] == 2 * 2048 * 8 * 128 * 2
    assert rows[1]["bytes"] == 32 * rows[0]["bytes"]
    # rope-literature §8: Llama-2-7B (32 KV heads): table 1 MiB vs 32 MiB of K+V per layer → 1/32
    llama2 = [r for r in rope_memory(cfg, n_layers=32, n_kv_heads=32) if r["item"].startswith("cos/sin table (")][0]
    assert llama2["bytes"] == 1 << 20 and llama2["pct_layer_kv"] == pytest.approx(100 / 32)
    # partial rotary shrinks the table: r / (n_kv·d)
    assert table_share_of_layer_kv(RopeConfig(128, rotary_fraction=0.25), 8) == pytest.approx(0.25 / 8)
    assert rope_memory(cfg)[-1]["bytes"] == 0                            # fused kernel: no table
    with pytest.raises(ValueError, match="n_kv_heads"):
        rope_memory(cfg, n_kv_heads=0)
    with pytest.raises(ValueError, match="dtype"):
        rope_memory(cfg, dtype="int4")


def test_memory_and_phase_figures_are_labelled():
    from rope_viz.figures import get_figure
    cfg = RopeConfig(128, context_length=8192)
    for name in ("kernel_memory", "kernel_phase_error"):
        fig = get_figure(name).fn(cfg)
        assert fig.layout.title.text and fig.layout.xaxis.title.text and fig.layout.showlegend
        assert all(t.name for t in fig.data)
        assert "(" in fig.layout.xaxis.title.text                        # units


# -- the page --------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def page():
    pytest.importorskip("torch")
    return open_page()


def test_page_opens_on_the_benchmark_and_runs_one_section_at_a_time(page):
    """Three section tabs; the first (time) has no chart until the benchmark runs, and neither the memory nor the
    precision section is computed or sent while it is open."""
    from page_tools import section_labels, section_param
    assert section_labels(page) == SECTIONS and section_param(page) == "ktab"
    assert [s.value for s in page.subheader] == ["Time: RoPE next to attention"]
    assert not charts(page) and page.button(key="kernel_run").label == "Run the benchmark"
    assert any("press **Run the benchmark**" in c.value for c in page.caption)
    for section, heading, titles in (("Memory", "Memory: the cos/sin table vs the KV cache", ["Memory: cos/sin"]),
                                     ("Precision", "Precision lab", ["Phase error of fp32", "Relative-position"])):
        at = open_page(section)
        assert [s.value for s in at.subheader] == [heading]
        assert len(charts(at)) == len(titles), list(charts(at))
        assert all(t.startswith(w) for t, w in zip(charts(at), titles)), list(charts(at))


def test_page_shows_device_memory_and_precision(page):
    import torch
    text = " ".join(str(x.value) for x in list(page.info) + list(page.success))
    if torch.cuda.is_available():
        assert "GPU:" in text
    else:
        assert "No CUDA GPU" in text and "CPU numbers" in text
    memory, precision = open_page("Memory"), open_page("Precision")
    mem = chart(memory, "Memory: cos/sin table vs KV cache")
    assert len(mem["data"]) == 6
    # the memory table says 12.5 % for the default config (8 KV heads, full rotary)
    df = [d for d in tables(memory) if "share of one layer's KV" in d.columns][0]
    share = df.set_index("item")["share of one layer's KV"]
    assert share[[i for i in share.index if i.startswith("cos/sin table (")][0]] == "12.5 %"
    # phase error chart: fp32 trace equals the closed form at its own x values
    ph = chart(precision, "Phase error of fp32 angles vs float64")
    tr = [t for t in ph["data"] if t["name"].startswith("inv_freq fp32")][0]
    x, y = _arr(tr["x"]), _arr(tr["y"])
    assert x.max() >= 1 << 20 and np.all(np.diff(x) > 0)
    # invariance chart: one trace per precision; bf16 far above fp32 at short range
    inv = chart(precision, "Relative-position invariance error vs position")
    traces = {t["name"]: _arr(t["y"]) for t in inv["data"]}
    assert set(traces) == {"fp32", "bf16", "fp16", "bf16, fp32 math"}
    assert traces["bf16"][0] > 100 * traces["fp32"][0]
    for spec in (mem, ph, inv):
        assert spec["layout"]["xaxis"]["title"]["text"] and spec["layout"]["yaxis"]["title"]["text"] is not None


def test_page_runs_the_benchmark(page):
    page.multiselect(key="_rvp_ks").set_value([64, 128]).run()
    page.multiselect(key="_rvp_km").set_value(["ours", "hf-eager", "sdpa"])
    page.button(key="kernel_run").click().run()
    assert not page.exception, [e.value for e in page.exception]
    t = chart(page, "RoPE vs attention time")
    names = {d["name"] for d in t["data"]}
    eager = any("eager torch" in n for n in page.session_state["kernel_result"]["notes"])   # CPU, or no triton
    ours = "rope_viz kernel (eager fallback)" if eager else "rope_viz kernel"
    assert {"copy q, k (memory floor)", ours, "transformers eager formula", "causal attention (SDPA)"} <= names
    assert t["layout"]["xaxis"]["title"]["text"] == "sequence length S (tokens)"
    for d in t["data"]:
        assert list(_arr(d["x"])) == [64, 128] and np.all(_arr(d["y"]) > 0)
    rows = [d for d in tables(page) if "× copy" in d.columns][0]
    assert len(rows) == 2 * 4 and set(rows["S (tokens)"]) == {"64", "128"}
    assert {"median ms", "min ms", "spread", "check"} <= set(rows.columns)
    assert not rows.isna().any().any() and "None" not in rows.to_string()
    result = page.session_state["kernel_result"]
    for m, per_s in result["timings"].items():                          # warmed up, repeated, statistics kept
        for t in per_s.values():
            assert t["n"] >= 5 and t["min"] <= t["p25"] <= t["median"] <= t["p75"]


def test_page_without_torch_says_so(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)                     # `import torch` → ImportError
    at = open_page()
    assert not at.exception, [e.value for e in at.exception]
    assert any("PyTorch is not installed" in w.value for w in at.warning)
    assert any("(needs PyTorch)" in c.value for c in at.caption)                 # the benchmark section
    titles = [t for section in SECTIONS[1:] for t in charts(open_page(section))]
    assert any(t.startswith("Memory: cos/sin table") for t in titles)
    assert any(t.startswith("Phase error of fp32 angles") for t in titles)
    assert not any(t.startswith("Relative-position invariance") for t in titles)


def test_measuring_figures_without_torch_raise_valueerror(monkeypatch):
    from rope_viz.figures.kernel import kernel_invariance, kernel_timing
    monkeypatch.setitem(sys.modules, "torch", None)
    for fn in (kernel_invariance, kernel_timing):
        with pytest.raises(ValueError, match="needs PyTorch"):
            fn(RopeConfig(64))


@pytest.mark.parametrize("name", ["kernel_memory", "kernel_phase_error"])
def test_registry_contract_docs_style(name):
    """The figure-registry contract shared by every page: short caption, titled axes with units, docs style size."""
    from rope_viz.figures import get_figure
    from rope_viz.figures import caption_of
    spec = get_figure(name)
    fig = spec.fn(RopeConfig(128, base=5e5, context_length=1 << 20), style="docs")
    assert spec.page == "Kernel" and 0 < len(caption_of(name, fig)) < 300
    assert "(" in fig.layout.xaxis.title.text and "(" in fig.layout.yaxis.title.text
    assert fig.layout.width is not None and len(fig.to_json()) <= 2_000_000


# -- captions state what the figure's data shows (issue 9 item 5) --------------------------------------------------
def test_invariance_caption_states_the_measured_ratios():
    """The old caption said "bf16 errs ~100× more than fp32, more so at long positions": measured, the ratio is
    thousands at m = 1 and shrinks with the position."""
    pytest.importorskip("torch")
    from rope_viz.figures import caption_of
    from rope_viz.figures.kernel import kernel_invariance
    fig = kernel_invariance(RopeConfig(128, context_length=1 << 20), n_samples=32)
    y = {t.name: np.asarray(t.y) for t in fig.data}
    x = np.asarray(fig.data[0].x)
    r_first, r_last = y["bf16"][1] / y["fp32"][1], y["bf16"][-1] / y["fp32"][-1]
    assert r_first > 10 * r_last                                        # the opposite of "more so at long positions"
    cap = caption_of("kernel_invariance", fig)
    assert f"{r_first:,.0f}×" in cap and f"m = {int(x[1]):,}" in cap and f"m = {int(x[-1]):,}" in cap
    assert "narrows" in cap and "~100×" not in cap and "more so at long" not in cap


@pytest.mark.parametrize("head_dim", [2, 128])
def test_invariance_caption_explains_the_trend_with_each_precisions_own_change(head_dim):
    """d = 2 (θ = 1: fp32 angles exact, its error flat): the caption said "the gap narrows as fp32's own angle error
    grows with m" — only bf16's error had moved. Each precision's change between the two ends is stated from the
    traces."""
    pytest.importorskip("torch")
    from rope_viz.figures import caption_of
    from rope_viz.figures.kernel import FLAT_RATIO, kernel_invariance
    fig = kernel_invariance(RopeConfig(head_dim, context_length=1 << 17), n_samples=32)
    y = {t.name: np.asarray(t.y) for t in fig.data}
    cap = caption_of("kernel_invariance", fig)
    for name in ("fp32", "bf16"):
        g = y[name][-1] / y[name][1]
        want = ("grows" if g > FLAT_RATIO else "shrinks" if g < 1 / FLAT_RATIO else "stays flat")
        said = re.search(name + r"'s(?: error)? (grows|shrinks|stays flat)", cap)
        assert said and said.group(1) == want, (name, g, cap)
    assert "own angle error" not in cap                                 # no explanation the data do not show


def test_phase_caption_numbers_come_from_the_traces():
    from rope_viz.figures import caption_of, get_figure
    fig = get_figure("kernel_phase_error").fn(RopeConfig(128, context_length=8192), max_position=1 << 20)
    fp32 = [t for t in fig.data if t.name.startswith("inv_freq fp32")][0]
    bf16 = [t for t in fig.data if "bf16" in t.name][0]
    x = np.asarray(fp32.x)
    i = int(np.flatnonzero(x == 8192)[0])                    # quoted at the config's own context length
    cap = caption_of("kernel_phase_error", fig)
    assert (f"{format_number(fp32.y[i], 2)} rad at m = 8,192 (the context length)" in cap
            and f"{format_number(fp32.y[-1], 2)} rad at m = {int(x[-1]):,}" in cap)
    # a context beyond the default range: the chart reaches it (was cut at 2²⁰ below L = 2²¹)
    big = get_figure("kernel_phase_error").fn(RopeConfig(256, context_length=1 << 21))
    assert max(big.data[0].x) >= 1 << 21 and "m = 2,097,152 (the context length)" in caption_of("kernel_phase_error",
                                                                                                 big)
    i = np.flatnonzero(np.asarray(bf16.y) >= 1.0)[0]                   # the first plotted position past a radian
    said = int(re.search(r"first off by a radian or more at m = ([\d,]+)\.", cap).group(1).replace(",", ""))
    assert int(x[i - 1]) < said <= int(x[i])                            # the exact one lies between grid points


def test_memory_chart_reads_in_gib_and_times():
    """Old: "1µ MiB" for the fused kernel's 0 bytes, "1.64e+04 MiB", "3.2e+03 %"."""
    from rope_viz.figures import caption_of, get_figure
    cfg = RopeConfig(128, context_length=1 << 20)
    fig = get_figure("kernel_memory").fn(cfg, n_layers=32, n_kv_heads=8)
    assert fig.layout.xaxis.title.text == "memory (GiB, log scale)"
    texts = [t.text[0] for t in fig.data]
    assert all("e+" not in s and "µ" not in s for s in texts)
    whole = [t for t in fig.data if t.name.startswith("KV cache, whole model")][0]
    assert whole.x[0] == pytest.approx(rope_memory(cfg)[1]["bytes"] / 2 ** 30) and "32× a layer’s KV" in whole.text[0]
    fused = [t for t in fig.data if t.name.startswith("fused kernel")][0]
    assert fused.x[0] is None and any("0 bytes" in a.text for a in fig.layout.annotations)
    assert "12.5 % of that layer’s KV cache" in caption_of("kernel_memory", fig)


# -- the benchmark: warm-up, repeats until the spread is small, flags, no None (issue 12) ----------------------------
def test_measure_repeats_until_the_spread_is_small_or_the_budget_ends():
    pytest.importorskip("torch")
    from rope_viz.torch_backend.bench import SPREAD_TARGET, Timing, measure
    clock = iter(range(10_000))                                         # one "second" per clock read
    steady = measure(lambda: 1.0, warmup=2, min_repeats=5, budget_s=1e9, clock=lambda: float(next(clock)))
    assert steady.n == 5 and steady.median == 1.0 and not steady.noisy
    noise = iter([1.0, 9.0] * 500)
    calls = []
    t = measure(lambda: calls.append(1) or next(noise), warmup=2, min_repeats=5, budget_s=3, clock=lambda: float(len(calls)))
    assert t.noisy and t.spread > SPREAD_TARGET and 5 <= t.n <= 8 and len(calls) == t.n + 2   # warm-up discarded
    assert Timing.of([1, 2, 3, 4]).min == 1 and Timing.of([1, 2, 3, 4]).median == 2.5


def test_benchmark_table_flags_noise_and_never_says_none():
    pytest.importorskip("torch")
    from rope_viz.figures.kernel import timing_table
    from rope_viz.torch_backend.bench import BenchResult, Timing, format_table
    steady = Timing.of([1.0] * 5)
    res = BenchResult("cpu", "test CPU", "bfloat16", dict(batch=1, n_q_heads=32, n_kv_heads=8, head_dim=128), [128, 256],
                      ms={"copy": {128: 1.0, 256: 2.0}, "ours": {128: 0.5, 256: 4.0}, "hf-eager": {256: 8.0}},
                      timings={"copy": {128: steady, 256: steady}, "ours": {128: steady, 256: Timing.of([1, 4, 9])}})
    rows = timing_table(res)
    assert all(v is not None and v != "None" for r in rows for v in r.values())
    flags = {(r["S (tokens)"], r["method"]): r["check"] for r in rows}
    assert flags[(128, "rope_viz kernel")].startswith("noisy")          # faster than the copy floor
    assert flags[(256, "rope_viz kernel")].startswith("noisy")          # spread above the target
    assert flags[(256, "transformers eager formula")] == "ok"
    assert all(r["% of attention"] == "—" for r in rows)                 # no attention measured
    text = format_table(res)
    assert "None" not in text and "noisy" in text
    # the page's session state holds asdict(); the JSON round trip gives the same table
    from dataclasses import asdict
    assert timing_table(json.loads(json.dumps(asdict(res)))) == rows


def test_a_steady_stall_is_flagged_even_with_no_spread():
    """Under load one run gave the kernel 127.9 ms at S = 64 with 0 % spread and 38 ms at S = 1,024: the table said
    "ok" beside 8,260× copy. A call slower than the same call on a longer sequence is flagged, and so are the rows
    compared with a stalled copy; consistent timings stay "ok"."""
    pytest.importorskip("torch")
    from rope_viz.figures.kernel import timing_table
    from rope_viz.torch_backend.bench import BenchResult, Timing
    shape = dict(batch=1, n_q_heads=32, n_kv_heads=8, head_dim=128)

    def result(ms):
        return BenchResult("cpu", "test CPU", "bfloat16", shape, [64, 256, 1024], ms=ms,
                           timings={m: {s: Timing.of([v] * 5) for s, v in d.items()} for m, d in ms.items()})
    good = {"copy": {64: 0.02, 256: 0.08, 1024: 0.3}, "ours": {64: 0.05, 256: 0.2, 1024: 0.9},
            "sdpa": {64: 0.5, 256: 3.0, 1024: 40.0}}
    assert {r["check"] for r in timing_table(result(good))} == {"ok"}
    stall = {**good, "ours": {64: 127.9, 256: 0.2, 1024: 38.0}}
    flags = {(r["S (tokens)"], r["method"]): r["check"] for r in timing_table(result(stall))}
    assert flags[(64, "rope_viz kernel")].startswith("noisy") and flags[(1024, "rope_viz kernel")] == "ok"
    copy_stall = {**good, "copy": {64: 5.0, 256: 0.08, 1024: 0.3}}
    flags = {(r["S (tokens)"], r["method"]): r["check"] for r in timing_table(result(copy_stall))}
    assert flags[(64, "rope_viz kernel")].startswith("noisy") and flags[(256, "rope_viz kernel")] == "ok"


def test_benchmark_numbers_are_in_the_app_notation():
    """A busy CPU gave 'rope_viz kernel takes 5.81e+03 % of attention's time' in the caption and '8.26e+03' in the
    table's × copy column: large ratios read as the rest of the app writes them (8,260; 58.1× attention's time)."""
    pytest.importorskip("torch")
    from rope_viz.figures import caption_of, get_figure
    from rope_viz.figures.kernel import format_share, timing_table
    from rope_viz.torch_backend.bench import BenchResult, Timing
    ms = {"copy": {64: 0.0155, 2048: 16.0}, "ours": {64: 128.0, 2048: 324.0}, "sdpa": {64: 2.2, 2048: 511.0}}
    res = BenchResult("cpu", "test CPU", "bfloat16", dict(batch=1, n_q_heads=32, n_kv_heads=8, head_dim=128),
                      [64, 2048], ms=ms, timings={m: {s: Timing.of([v] * 5) for s, v in d.items()}
                                                  for m, d in ms.items()})
    rows = timing_table(res)
    cells = [v for r in rows for v in r.values() if isinstance(v, str)]
    assert not any(re.search(r"\d[eE][+-]?\d", c) for c in cells), cells
    ours64 = [r for r in rows if r["S (tokens)"] == 64 and r["method"] == "rope_viz kernel"][0]
    assert ours64["× copy"] == format_number(128.0 / 0.0155) and ours64["median ms"] == "128"
    cap = caption_of("kernel_timing", get_figure("kernel_timing").fn(RopeConfig(128), result=res))
    assert not re.search(r"\d[eE][+-]?\d", cap), cap
    assert f"takes {format_share(100 * 128.0 / 2.2, 'attention’s time')} at S = 64" in cap
    assert f"and {format_share(100 * 324.0 / 511.0)} at S = 2,048" in cap


def test_flops_share_is_computed_not_quoted():
    """The old intro said "~0.006 % of a layer's FLOPs" (no code computed it); Llama-3-8B's shapes give 0.0035 %."""
    from rope_viz.figures.kernel import flops_statement
    h, H, Hkv, d, inter, T = 4096, 32, 8, 128, 14336, 1            # Llama-3-8B, one token, counted by hand
    rope = 3 * T * d * (H + Hkv)
    total = 2 * T * h * (H + 2 * Hkv) * d + 4 * T * T * H * d + 2 * T * H * d * h + 6 * T * h * inter + rope
    text = flops_statement((1, 8192))
    assert f"{100 * rope / total:.2g} % at 1 token" in text and "0.0035 %" in text and "0.006" not in text
    assert "at 8,192 tokens" in text


# -- issue 12: shares in ×, a memory axis that ends at the data, the π label on its line, the benchmark in the URL --
def test_memory_table_writes_shares_as_the_chart_does():
    """The table said 3200 and 400 (% of one layer's KV) where the chart says 32× and 4×: one rule for both."""
    from rope_viz.figures.kernel import format_share, kernel_memory, memory_table
    cfg = RopeConfig(128, context_length=4096)
    rows = memory_table(cfg, n_layers=32, n_kv_heads=8)
    fig = kernel_memory(cfg, n_layers=32, n_kv_heads=8)
    ref = rope_memory(cfg, seq_len=4096, n_layers=32, n_kv_heads=8)
    by_item = {r["item"]: r for r in rows}
    assert by_item["KV cache, whole model (32 layers)"]["share of one layer's KV"] == "32×"
    for r in ref:
        row = by_item[r["item"]]
        layer = r["bytes"] / (2 * 4096 * 8 * 128 * 2) * 100                 # K and V, bf16: independent of rope_memory
        assert row["share of one layer's KV"] == format_share(layer)
        bar = [t for t in fig.data if t.name == r["item"]][0]
        if r["bytes"]:
            assert row["share of one layer's KV"] in bar.text[0] and row["size"] in bar.text[0]


def test_memory_axis_ticks_end_at_the_largest_bar():
    """At default the MiB axis was labelled up to "20k" though the largest bar is 512 MiB."""
    from rope_viz.figures.kernel import kernel_memory
    fig = kernel_memory(RopeConfig(128, context_length=4096), n_layers=32, n_kv_heads=8)
    bars = [t.x[0] for t in fig.data if t.x[0] is not None]
    ticks = list(fig.layout.xaxis.tickvals)
    assert max(bars) == 512 and "MiB" in fig.layout.xaxis.title.text
    assert min(bars) / 1.001 <= min(ticks) and max(ticks) <= max(bars) * 1.001


def test_phase_lost_label_sits_on_its_line():
    """"π: phase lost" sat at the top left, at 10^π on the log axis; "context length" was off the chart."""
    from rope_viz.figures.kernel import kernel_phase_error
    cfg = RopeConfig(128, context_length=4096)
    fig = kernel_phase_error(cfg)
    assert fig.layout.yaxis.type == "log" and fig.layout.xaxis.type == "log"
    notes = {a.text: a for a in fig.layout.annotations}
    pi, ctx = notes["π: phase lost"], notes["context length"]
    assert pi.yref == "y" and pi.y == pytest.approx(np.log10(np.pi)) and pi.yanchor == "bottom"
    assert ctx.xref == "x" and ctx.x == pytest.approx(np.log10(4096))
    lines = {s.line.dash: s for s in fig.layout.shapes}
    assert lines["dot"].y0 == pytest.approx(np.pi) and lines["dash"].x0 == 4096


def test_benchmark_choices_are_in_the_url():
    """Sequence lengths and methods are mirrored in the URL (they were plain keyed widgets): a URL opens with its
    choice, and a changed choice lands in the URL. Light: the precision charts at their smallest position."""
    pytest.importorskip("torch")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update({"ks": "64,128", "km": "ours,sdpa", "kmaxpos": "4096"})
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    seq, meth = at.multiselect(key="_rvp_ks"), at.multiselect(key="_rvp_km")
    assert list(seq.value) == [64, 128] and list(meth.value) == ["ours", "sdpa"]
    seq.set_value([256]).run()
    meth.set_value(["hf-eager"]).run()
    assert not at.exception
    q = {k: (v[-1] if isinstance(v, list) else v) for k, v in dict(at.query_params).items()}
    assert q.get("ks") == "256" and q.get("km") == "hf-eager"


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.just(0.0), st.floats(1, 2.0 ** 70)), st.floats(1e-6, 1e12))
def test_bytes_and_shares_read_back_in_the_app_notation(nbytes, pct):
    """format_bytes stopped at TiB with Python's :g: ALiBi's materialised bias at L = 2^24 read "8.19e+03 TiB", and a
    share of 1e6 % "1e+04×". Both now use format_number (no exponent below 10⁶) and units up to EiB; the text reads
    back to the value (3 significant digits)."""
    from rope_viz.figures.kernel import _UNITS, format_bytes, format_share
    for text in (format_bytes(nbytes), format_share(pct)):
        assert not re.search(r"\de[+-]?\d", text), text
    if nbytes:
        num, unit = format_bytes(nbytes).split(" ")
        back = float(num.replace(",", "")) * dict(_UNITS)[unit]
        assert back == pytest.approx(nbytes, rel=6e-3)
        assert float(num.replace(",", "")) < 1024 or unit == "EiB"


@pytest.mark.parametrize("cfg", [RopeConfig(128), RopeConfig(64, base=1e6), RopeConfig(128, base=5e5,
                                                                                    context_length=131072)])
def test_phase_caption_states_the_first_integer_position_of_bf16_phase_loss(cfg):
    """"off by a radian or more from m = 823" was the first point of a 96-point log grid; the first integer position
    is 818. Recomputed here by scanning every integer with torch's own bf16 rounding of inv_freq."""
    torch = pytest.importorskip("torch")
    from rope_viz.figures import caption_of, get_figure
    fig = get_figure("kernel_phase_error").fn(cfg)
    theta = cfg.base ** (-np.arange(0, cfg.rotary_dim, 2) / cfg.rotary_dim)
    t16 = torch.tensor(theta, dtype=torch.float64).to(torch.bfloat16).to(torch.float32)
    m = torch.arange(0, 20000, dtype=torch.float32)
    err = ((m[:, None] * t16[None, :]).double() - m.double()[:, None] * torch.tensor(theta)[None, :]).abs().amax(1)
    first = int(torch.nonzero(err >= 1.0)[0, 0])
    assert f"first off by a radian or more at m = {first:,}." in caption_of("kernel_phase_error", fig)
