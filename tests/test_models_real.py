"""The bundled SmolLM2-135M (installed by dev.sh) on the default public-domain text: its config, perplexity, where its
massive pairs sit; the CLI contract and bad input; the Real model page. Converts the GGUF once into the cache
(~25–35 s on 2 cores), then each load is < 1 s."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("gguf")

from page_tools import tables  # noqa: E402
from rope_viz.cli import main  # noqa: E402
from rope_viz.models import analysis as MA  # noqa: E402
from rope_viz.models import api, loader, measure, sources  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smollm():
    if sources.smollm2_gguf() is None:
        pytest.fail(f"the bundled model is not installed: run `bash dev.sh test` or `{sources.SMOLLM2_INSTALL}`")
    return loader.load_model("smollm2-135m")


@pytest.fixture(scope="module")
def text512(smollm):
    return api.encode_prefix(smollm, sources.default_text(), 512)


def test_smollm2_config(smollm):
    assert (smollm.n_layers, smollm.n_heads, smollm.n_kv_heads, smollm.head_dim) == (30, 9, 3, 64)
    cfg = smollm.rope["full_attention"]
    assert cfg.base == 1e5 and cfg.context_length == 8192 and cfg.scaling is None


def test_smollm2_perplexity_and_massive_pairs(smollm, text512):
    nll = measure.token_nll(smollm, text512)
    assert 8.0 < np.exp(nll.mean()) < 40.0                  # measured 17.6–17.8 (a broken RoPE/permutation: > 150)
    s = measure.collect_stats(smollm, text512, distance=False)
    summary = MA.top_pair_summary(s["q_pair_norm"])
    assert summary["slow_half_share"] >= 0.8
    assert MA.massive_pairs(s["q_pair_norm"], 5.0).any(axis=-1).mean() > 0.3


def _cli(args):
    return subprocess.run([sys.executable, "-m", "rope_viz", "model", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)


def test_cli_json_contract(smollm, tmp_path, capsys):
    f = tmp_path / "t.txt"
    f.write_text(sources.default_text()[:4000], encoding="utf-8")
    r = _cli(["inspect", "--model", "smollm2-135m", "--text-file", str(f), "--tokens", "64", "--json"])
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert (d["layers"], d["heads"], d["kv_heads"], d["head_dim"], d["tokens"]) == (30, 9, 3, 64, 64)
    assert np.array(d["q_pair_norm"]).shape == (30, 9, 32) and np.array(d["k_pair_norm"]).shape == (30, 3, 32)
    capsys.readouterr()
    assert main(["model", "ppl", "--model", "smollm2-135m", "--text-file", str(f), "--tokens", "64", "--bucket", "16",
                 "--scaling", "yarn", "--factor", "2", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert [(b["start"], b["end"]) for b in d["buckets"]] == [(0, 16), (16, 32), (32, 48), (48, 64)]
    assert d["rope_used"]["scaling"]["rope_type"] == "yarn" and all(np.isfinite(b["nll"]) for b in d["buckets"])
    # the JSON's buckets are the means of the per-token losses computed in-process
    ids = api.encode_prefix(smollm, sources.default_text()[:4000], 64)
    rope = api.settings_rope(api.model_info(smollm), scaling="yarn", factor=2.0)
    nll = measure.token_nll(smollm, ids, rope)
    np.testing.assert_allclose([b["nll"] for b in d["buckets"]], [nll[0:15].mean(), nll[15:31].mean(),
                                                                  nll[31:47].mean(), nll[47:63].mean()], rtol=1e-5)


def _one_line_error(args, capsys, match):
    assert main(["model", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and match in err[0] and "Traceback" not in err[0], err


def test_cli_bad_input(smollm, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ROPE_VIZ_MODELS_DIR", str(tmp_path))
    short = tmp_path / "short.txt"
    short.write_text("Only a few words.", encoding="utf-8")
    _one_line_error(["inspect", "--text-file", str(short), "--tokens", "512", "--json"], capsys,
                    "tokens must be at most the text's length")
    _one_line_error(["ppl", "--tokens", "64", "--scaling", "warp", "--factor", "2"], capsys, "scaling must be one of")
    (tmp_path / "empty").mkdir()
    _one_line_error(["inspect", "--model", "empty"], capsys, "has no config.json")
    (tmp_path / "bad.gguf").write_bytes(b"GGUF" + b"\x00" * 64)
    _one_line_error(["inspect", "--model", "bad.gguf"], capsys, "cannot read GGUF file bad.gguf")
    _one_line_error(["inspect", "--model", "nope"], capsys, "not found in the models folder")
    r = _cli(["inspect", "--text-file", str(short), "--tokens", "512"])
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


def test_real_model_page(smollm):
    from streamlit.testing.v1 import AppTest

    sys.path.insert(0, str(ROOT / "tests"))
    from page_tools import open_sections, section_param

    sections = open_sections("pages/8_Real_model.py")
    assert list(sections) == ["Massive pairs", "Attention vs distance", "Perplexity"]
    assert section_param(sections["Perplexity"]) == "rtab"
    for at in sections.values():                   # only the open section runs: one heading, its own charts
        assert not at.exception, [e.value for e in at.exception]
        assert not at.error, [e.value for e in at.error]
    assert [[s.value for s in at.subheader] for at in sections.values()] == [
        ["Which pairs carry the large q / k values?"], ["Attention vs distance on the text"],
        ["Perplexity beyond the training length"]]
    assert [len(at.get("plotly_chart")) for at in sections.values()] == [1, 2, 1]
    for label in ("Massive pairs", "Attention vs distance"):          # measured on the live token count
        assert any("Britannica" in c.value and "512 tokens" in c.value for c in sections[label].caption)
    assert any("trained context 8,192 tokens" in c.value for c in sections["Perplexity"].caption)
    at = sections["Massive pairs"]
    # pasted text is used as literal text; a text shorter than the token count gives the library's message
    next(r for r in at.radio if r.label == "Text").set_value("paste")
    at.run()
    at.text_area(key="rm_paste").set_value("**not markdown** [x](http://e.invalid)").run()
    assert any("tokens must be at most the text's length" in e.value for e in at.error)
    assert not at.exception


def test_real_model_page_runs_perplexity_as_a_background_job(smollm, tmp_path, monkeypatch):
    """Results cached in a fresh folder, so the page must offer the run, queue it and draw it when done."""
    import time

    from streamlit.testing.v1 import AppTest

    from rope_viz import jobs

    cache_path = api._cache_path
    monkeypatch.setattr(api, "_cache_path", lambda kind, key: tmp_path / cache_path(kind, key).name)
    at = AppTest.from_file(str(ROOT / "pages" / "8_Real_model.py"), default_timeout=240)
    at.query_params["rtab"] = "Perplexity"
    at.run()
    at.multiselect(key="_rvp_rmset").set_value(["as trained", "base 1e4"])
    next(s for s in at.select_slider if s.label == "Tokens").set_value(1024)
    at.run()
    assert any("Not measured yet" in i.value for i in at.info)
    at.button(key="rm_run").click().run()
    queue = jobs.default_queue()
    deadline = time.monotonic() + 180
    while (queue.stats()["running"] or queue.stats()["queued"]) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert queue.stats()["results"] >= 1, queue.stats()              # the run finished and its result is shared
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(c.value.startswith("Perplexity per position bucket") for c in at.caption)
    # 1,024 tokens: nothing beyond the training length, so no table of four "untested" claims but what to choose
    assert not any("verdict" in t for t in tables(at))
    train = smollm.context_length                                # 8,192
    assert any(f"stop at 1,024 tokens, inside the training length of {train:,}." in i.value
               and f"choose {2 * train:,} tokens" in i.value for i in at.info)


def test_gemma3_if_installed():
    """Gemma 3 270M is optional (README: one pip command); skipped unless its wheels are installed."""
    if sources.gemma3_parts() is None:
        pytest.skip("gemma3-270m is not installed (optional)")
    lm = loader.load_model("gemma3-270m")
    types = lm.layer_types
    assert len(types) == 18 and [i for i, t in enumerate(types) if t == "full_attention"] == [5, 11, 17]
    assert lm.rope["sliding_attention"].base == 1e4 and lm.rope["full_attention"].base == 1e6
    assert lm.windows["sliding_attention"] == 512 and (lm.n_heads, lm.n_kv_heads, lm.head_dim) == (4, 1, 256)
    ids = api.encode_prefix(lm, sources.default_text(), 768)
    s = measure.collect_stats(lm, ids)
    top = MA.pair_ratio(s["q_pair_norm"]).argmax(axis=-1)                     # (layers, heads)
    glob = np.array([t == "full_attention" for t in types])
    assert np.median(top[glob]) > np.median(top[~glob]) >= 60                # global layers: slower pairs
    assert s["count_by_distance"][~glob][:, 512:].sum() == 0                 # the window is respected
    assert np.exp(measure.token_nll(lm, ids).mean()) < 40


def test_real_model_page_controls_live_in_the_url(smollm):
    """The layers, both head choices and the perplexity settings were plain widgets: a copied address drew other
    layers / heads. They come from the URL, are written back to it, and a fresh session at that URL draws the same
    charts."""
    sys.path.insert(0, str(ROOT / "tests"))
    from page_tools import charts, open_page, query

    page = "pages/8_Real_model.py"
    params = {"rmlayers": "3,7", "rmdhead": "2", "rmhead": "4", "rmset": "as trained,PI ×2", "rmtok": "256"}
    pairs = open_page(page, params)
    assert any("first 256 tokens" in c.value for c in pairs.caption)   # the live count (inside its fragment)
    titles = [c["layout"]["title"]["text"] for c in charts(pairs)]
    assert len(titles) == 1 and "head 4" in titles[0] and "pair norm" in titles[0], titles
    assert open_page(page, {**params, "rtab": "Perplexity"}).multiselect(key="_rvp_rmset").value == \
        ["as trained", "PI ×2"]
    at = open_page(page, {**params, "rtab": "Attention vs distance"})
    assert any("first 256 tokens" in c.value for c in at.caption)
    assert at.multiselect(key="_rvp_rmlayers").value == [3, 7]
    dist = [c for c in charts(at) if "attention vs distance" in c["layout"]["title"]["text"]][0]
    assert "head 2" in dist["layout"]["title"]["text"]
    assert [t["name"] for t in dist["data"] if t["name"].startswith("layer ")] == \
        ["layer 3 (global attention)", "layer 7 (global attention)"]
    at.multiselect(key="_rvp_rmlayers").set_value([1, 29]).run()
    at.selectbox(key="_rvp_rmdhead").set_value("all").run()
    q = query(at)
    assert q["rmlayers"] == "1,29" and "rmdhead" not in q and q["rmhead"] == "4" and q["rmset"] == "as trained,PI ×2"
    assert q["rtab"] == "Attention vs distance"
    again = open_page(page, q)
    assert charts(again) == charts(at)


def test_result_figures_are_cached_by_content_not_by_name(smollm):
    """The Real model page's figures come from ui.cached_result_figure: one build per (data, options); changed data
    (a re-measured model) gives a new figure, never the cached one; equal to the uncached figure function."""
    import plotly.io as pio

    from rope_viz import ui
    from rope_viz.figures import models as FM

    r = api.inspect("smollm2-135m", None, 256)
    a = ui.cached_result_figure("model_pair_heatmap", result=r, which="k", lam=4.0)
    assert ui.cached_result_figure("model_pair_heatmap", result=dict(r), which="k", lam=4.0) is a    # equal content
    assert pio.to_json(a) == pio.to_json(FM.pair_heatmap(None, result=r, which="k", lam=4.0))
    assert ui.cached_result_figure("model_pair_heatmap", result=r, which="q", lam=4.0) is not a      # other options
    changed = {**r, "k_pair_norm": r["k_pair_norm"] * 2.0}
    b = ui.cached_result_figure("model_pair_heatmap", result=changed, which="k", lam=4.0)
    assert b is not a and pio.to_json(b) == pio.to_json(FM.pair_heatmap(None, result=changed, which="k", lam=4.0))
    with pytest.raises(TypeError):
        ui.cached_result_figure("model_sink")


def test_real_model_page_lists_dropped_url_values_in_one_notice(smollm):
    """The page has no config sidebar, so each dropped URL value drew a notice of its own (the second repeating the
    first): one notice, at the top, listing every dropped value."""
    sys.path.insert(0, str(ROOT / "tests"))
    from page_tools import open_page

    at = open_page("pages/8_Real_model.py", {"rmset": "as trained,zzz", "rmlen": "123", "rtab": "Perplexity"})
    notices = [w.value for w in at.warning if w.value.startswith("Some settings in the page address")]
    assert len(notices) == 1 and "URL parameter rmset" in notices[0] and "URL parameter rmlen" in notices[0]


def test_prefix_ids_are_the_whole_texts_with_the_real_tokenizer(smollm):
    """SmolLM2's tokenizer on ('x' + 15 spaces) × 2000: a prefix cut after 8·N characters ended in a 15-space token
    (id 22754) where the whole text has 14 spaces (26717) and ' x'."""
    text = ("x" + " " * 15) * 2000
    for n in (16, 100, 1000):
        assert api.encode_prefix(smollm, text, n) == smollm.encode(text, n)
    assert api.encode_prefix(smollm, sources.default_text(), 512) == smollm.encode(sources.default_text(), 512)
