"""Export a figure as PNG / SVG / PDF (kaleido 1.x), standalone HTML or tidy CSV, and the ``export`` CLI command.

Static images go through ONE persistent kaleido server (``kaleido.start_sync_server(mathjax=False)``), started lazily
on the first export (~2 s) and reused (~0.2 s per image). kaleido finds Debian's chromium by itself (``BROWSER_PATH``
overrides); this module never downloads a browser. A renderer that died (browser killed, crashed tab) is restarted on
the next export (while kaleido's old server thread has not returned, each export starts a renderer of its own); when
none can run, the error says what to install (``static_export_status``). Waits are bounded and
give up when the server stops, so a dead renderer never holds up SIGTERM. HTML inlines plotly.js (no CDN, works offline). CSV holds the traces' data.

CLI (wired into ``python -m rope_viz``; also ``python -m rope_viz.export``)::

    python -m rope_viz export FIGURE --preset NAME [--head-dim N --base B --context-length L --layout half
        --rotary-fraction f --scaling-json '{"rope_type": "yarn", "factor": 4}' --config config.json]
        [--option KEY=JSON ...] [--style docs|app] [--format svg|png|pdf|html|csv] [--out FILE]
    python -m rope_viz export --list [--sizes]   (each figure's page, options with defaults, caption[, docs size])

It renders the same registered figure function (``rope_viz.figures``) as the app page, from the same config
(``rope_viz.cli.load_config``). Without ``--out`` the file is named after the figure and the config
(``export_filename``), as in the app's export menu. Every argument goes through ``rope_viz.validate``; errors
print one line on stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import atexit
import collections.abc
import copy
import csv
import inspect
import io
import math
import os
import re
import shutil
import signal
import struct
import sys
import threading
import time
import types
import typing
from typing import Any, Sequence

import numpy as np
import plotly.graph_objects as go

from . import validate as V

FORMATS = ("png", "svg", "pdf", "html", "csv")
MIME = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf", "html": "text/html",
        "csv": "text/csv"}
DEFAULT_EXPORT_SIZE = (1000, 560)  # px, for figures that leave the width to the page
APP_DEFAULT_HEIGHT = 460           # px, the app style's height for figures that do not set their own
_TIMEOUT_S = 60.0           # one static export; a renderer that has not answered by then is restarted
_START_TIMEOUT_S = 60.0     # starting the renderer and its first (tiny) image
_PROBE_TIMEOUT_S = 8.0      # the liveness check before each export (a crashed tab leaves the browser process up)
_STOP_WAIT_S = 3.0          # stopping the renderer gracefully, before its processes are killed
_KILLED_WAIT_S = 15.0       # then for kaleido's thread to return once its browser is gone (seconds on a busy CPU)
INSTALL_HINT = ("install Chromium (Debian/Ubuntu: apt-get install chromium) or set BROWSER_PATH to a Chrome or "
                "Chromium executable")

_lock = threading.Lock()
_server: dict[str, Any] = {"state": "idle", "error": None, "pids": []}  # state: idle | running | stuck
_stop = threading.Event()


class _Stopping(RuntimeError):
    """The server is stopping: an export in progress gives up."""


def browser_path() -> str | None:
    """The Chrome / Chromium kaleido would use (``BROWSER_PATH``, else the usual names and places), None if none."""
    env = os.environ.get("BROWSER_PATH")
    if env:
        return env if os.access(env, os.X_OK) else None
    path = None
    try:
        from choreographer.browsers.chromium import Chromium

        path = Chromium.find_browser(skip_local=False)
    except Exception:  # noqa: BLE001 - kaleido's helper moved or failed: look on PATH
        pass
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = path or shutil.which(name)
    return path if path and os.access(path, os.X_OK) else None


def static_export_status() -> tuple[bool, str]:
    """(True, "") if PNG / SVG / PDF export can work on this machine, else (False, what to install). Starts nothing:
    for the app to say why those buttons are missing (HTML and CSV need neither kaleido nor a browser)."""
    try:
        import kaleido  # noqa: F401
    except ImportError:
        return False, "PNG, SVG and PDF export need the kaleido package (pip install kaleido)"
    if browser_path() is None:
        return False, f"PNG, SVG and PDF export need a Chromium browser: {INSTALL_HINT}"
    return True, ""


def _stopping() -> bool:
    """True once the process is exiting or the Streamlit server hosting this module is stopping (looked up, never
    imported): a wait for the renderer then gives up at once, so SIGTERM is not held up by a renderer that died."""
    if _stop.is_set():
        return True
    rt = sys.modules.get("streamlit.runtime")
    try:
        return rt is not None and rt.exists() and rt.get_instance().state.name in ("STOPPING", "STOPPED")
    except Exception:  # noqa: BLE001 - not a Streamlit server (CLI, tests)
        return False


def _run_with_timeout(fn, timeout: float):
    """Run fn() in a daemon thread; its result, TimeoutError after ``timeout`` s (kaleido's sync server blocks forever
    if its browser's renderer died), or RuntimeError as soon as the server is stopping."""
    box: dict[str, Any] = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller
            box["error"] = e

    t = threading.Thread(target=target, daemon=True)
    t.start()
    deadline = time.monotonic() + timeout
    while t.is_alive():
        t.join(0.2)
        if t.is_alive() and _stopping():
            raise _Stopping("static export cancelled: the server is stopping")
        if t.is_alive() and time.monotonic() > deadline:
            raise TimeoutError(f"the export renderer did not answer within {timeout:g} s")
    if "error" in box:
        raise box["error"]
    return box["value"]


def _cause(e: BaseException) -> str:
    """``"ExceptionType: first line of its message"``, for error messages that name what went wrong."""
    return f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"


def _children(pid: int) -> list[int]:
    """Child process ids (Linux /proc; [] where there is none)."""
    out = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return out
    for name in entries:
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", encoding="ascii", errors="replace") as fh:
                    stat = fh.read()
                if int(stat[stat.rindex(")") + 2:].split()[1]) == pid:
                    out.append(int(name))
            except (OSError, ValueError, IndexError):
                pass
    return out


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            stat = fh.read()
        return stat[stat.rindex(")") + 2] not in "ZX"
    except (OSError, ValueError, IndexError):
        return False


def _kill_browser() -> None:
    """SIGKILL the renderer's processes (the launcher kaleido started and everything below it)."""
    todo, seen = list(_server["pids"]), set()
    while todo:
        pid = todo.pop()
        if pid not in seen:
            seen.add(pid)
            todo.extend(_children(pid))
    for pid in seen:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _stop_renderer(grace: float = _STOP_WAIT_S, killed_wait: float = _KILLED_WAIT_S) -> None:
    """Stop kaleido's server without hanging: ask it to close; if it does not within ``grace`` s (its browser died
    or hangs), kill the browser's processes, which unblocks kaleido's thread, and wait again."""
    import kaleido

    t = threading.Thread(target=lambda: kaleido.stop_sync_server(silence_warnings=True), daemon=True)
    t.start()
    t.join(grace)
    if t.is_alive():
        _kill_browser()
        t.join(killed_wait)              # its browser is gone: kaleido's thread returns (slowly on a busy machine)
    if t.is_alive():                     # still stuck: not reused while it lives (``_start`` looks again)
        _server.update(state="stuck", pids=[], error="kaleido's server thread did not stop", stopper=t, waited=False)
    else:
        _server.update(state="idle", pids=[], stopper=None)


def _probe(timeout: float) -> None:
    import kaleido

    probe = go.Figure(go.Scatter(x=[0, 1], y=[0, 1]))
    _run_with_timeout(lambda: kaleido.calc_fig_sync(probe, opts={"format": "svg", "width": 100, "height": 100}),
                      timeout)


def _start() -> bool:
    """Start the persistent kaleido server and render a tiny image with it: True; RuntimeError saying why it cannot.
    False while the previous server's thread is stuck (kaleido keeps one server per process, so no new one can start
    until it returns): the caller renders with a one-shot renderer instead (``_oneshot``)."""
    ok, why = static_export_status()
    if not ok:
        raise RuntimeError(why)
    import kaleido

    if _server["state"] == "stuck":      # a stop that outlasted its wait may have finished since
        stopper = _server.get("stopper")
        if stopper is not None and not _server.get("waited"):
            stopper.join(_KILLED_WAIT_S)
            _server["waited"] = True     # later exports do not wait again: they render one-shot until it returns
        if stopper is None or stopper.is_alive():
            return False
        _server.update(state="idle", error=None, stopper=None, waited=False)
    before = set(_children(os.getpid()))
    kaleido.start_sync_server(mathjax=False, silence_warnings=True)
    atexit.unregister(_at_exit)
    atexit.register(_at_exit)            # runs before kaleido's own exit hook, which would wait on a dead browser
    _server.update(state="running", pids=[])
    try:
        _probe(_START_TIMEOUT_S)
    except _Stopping:
        _server["pids"] = [p for p in _children(os.getpid()) if p not in before]
        _stop_renderer()
        raise
    except Exception as e:  # noqa: BLE001 - reported to the caller with the cause
        _server["pids"] = [p for p in _children(os.getpid()) if p not in before]
        _stop_renderer()
        _server["error"] = _cause(e)
        raise RuntimeError(f"the export renderer ({browser_path()}) did not start: {_server['error']}") from None
    # the browser's launcher: kaleido starts it from its own thread, so it exists once the first image is back
    _server["pids"] = [p for p in _children(os.getpid()) if p not in before]
    return True


def _oneshot(fig: go.Figure, opts: dict) -> bytes:
    """One image from a renderer of its own, started for it and closed after it (kaleido's ``calc_fig``: ~2 s more
    than the persistent server), for when the persistent server cannot be restarted (``_start`` returned False)."""
    import asyncio

    import kaleido

    return _run_with_timeout(lambda: asyncio.run(kaleido.calc_fig(fig, opts=opts, kopts={"mathjax": False})),
                             _START_TIMEOUT_S + _TIMEOUT_S)


def _healthy() -> bool:
    """The running renderer's processes are there and it renders a tiny image in time (~0.05 s when healthy)."""
    if _server["pids"] and not all(_alive(p) for p in _server["pids"]):
        return False
    try:
        _probe(_PROBE_TIMEOUT_S)
    except _Stopping:
        raise
    except Exception:  # noqa: BLE001 - not answering: restart it
        return False
    return True


def shutdown(grace: float = _STOP_WAIT_S) -> None:
    """Stop the kaleido server if this module started it (the CLI does, so the browser exits cleanly before Python
    does; also run at exit). Waits at most ``grace`` s for a graceful close, then kills the browser's processes, so a
    browser that died or hangs never holds up the exit. A later export starts it again."""
    got = _lock.acquire(timeout=1.0)
    try:
        if _server["state"] == "running":
            if not got:                   # an export is stuck holding the lock: end its browser first
                _kill_browser()
            _stop_renderer(grace, killed_wait=grace)    # at exit: never held up for long
    finally:
        if got:
            _lock.release()


def _at_exit() -> None:
    _stop.set()
    shutdown(grace=1.0)


def _size(fig: go.Figure) -> tuple[int, int]:
    w = fig.layout.width or DEFAULT_EXPORT_SIZE[0]
    h = fig.layout.height or DEFAULT_EXPORT_SIZE[1]
    return int(w), int(h)


def _static(fig: go.Figure, fmt: str, scale: float | None = None) -> bytes:
    """PNG / SVG / PDF bytes from the persistent renderer. A renderer that died (its browser killed, a crashed tab)
    is restarted and the export tried once more; RuntimeError says why when it still cannot work."""
    w, h = _size(fig)
    scale = scale if scale is not None else (2.0 if fmt == "png" else 1.0)
    opts = {"format": fmt, "width": w, "height": h, "scale": scale}
    deadline = time.monotonic() + 2 * _TIMEOUT_S + _START_TIMEOUT_S
    while not _lock.acquire(timeout=0.2):  # kaleido's sync server is one request queue: one caller at a time
        if _stopping():
            raise _Stopping("static export cancelled: the server is stopping")
        if time.monotonic() > deadline:
            raise RuntimeError("the export renderer is busy with other exports; try again in a minute")
    try:
        error = None
        for _ in range(2):
            if _stopping():
                raise _Stopping("static export cancelled: the server is stopping")
            if _server["state"] == "running" and not _healthy():
                _stop_renderer()
            if _server["state"] != "running" and not _start():
                try:                             # the old server's thread is stuck: a renderer of its own
                    return _oneshot(fig, opts)
                except _Stopping:
                    raise
                except Exception as e:  # noqa: BLE001 - reported with its cause
                    raise RuntimeError(f"{fmt.upper()} export failed: the export renderer hangs "
                                       f"({_server['error']}) and a renderer of its own failed too "
                                       f"({_cause(e)}); "
                                       "restart the app") from None
            import kaleido

            try:
                out = _run_with_timeout(lambda: kaleido.calc_fig_sync(fig, opts=opts), _TIMEOUT_S)
            except _Stopping:
                raise
            except Exception as e:  # noqa: BLE001 - e.g. ChannelClosedError (browser gone), TimeoutError
                error = _cause(e)
                _stop_renderer()
                continue
            return out
        raise RuntimeError(f"{fmt.upper()} export failed after restarting the renderer: {error}")
    finally:
        _lock.release()


def to_png(fig: go.Figure, scale: float = 2.0) -> bytes:
    """PNG bytes (default 2× pixel density) at the figure's size (DEFAULT_EXPORT_SIZE where unset)."""
    return _static(fig, "png", scale)


def to_svg(fig: go.Figure) -> bytes:
    """SVG bytes (vector)."""
    return _static(fig, "svg")


def to_pdf(fig: go.Figure) -> bytes:
    """PDF bytes (vector)."""
    return _static(fig, "pdf")


def to_html(fig: go.Figure) -> bytes:
    """A standalone HTML page with plotly.js inlined (no CDN: opens offline), UTF-8 bytes."""
    return fig.to_html(include_plotlyjs=True, full_html=True, config={"displaylogo": False}).encode("utf-8")


_CSV_KEYS = ("x", "y", "z", "r", "theta")


def _arr(v) -> np.ndarray | None:
    if v is None:
        return None
    a = np.asarray(v, dtype=object)
    return a if a.size else None


def _trace_rows(trace, frame: str) -> list[dict[str, Any]]:
    name = trace.name if getattr(trace, "name", None) is not None else ""
    kind = trace.type
    cols = {k: _arr(getattr(trace, k, None)) for k in _CSV_KEYS if hasattr(trace, k)}
    cols = {k: v for k, v in cols.items() if v is not None}
    rows: list[dict[str, Any]] = []
    base = {"frame": frame, "trace": name, "type": kind}
    z = cols.get("z")
    if z is not None and z.ndim == 2:                      # heatmap / contour: z[i][j] at (x[j], y[i])
        ny, nx = z.shape
        x = cols.get("x") if cols.get("x") is not None and len(cols["x"]) == nx else np.arange(nx)
        y = cols.get("y") if cols.get("y") is not None and len(cols["y"]) == ny else np.arange(ny)
        for i in range(ny):
            for j in range(nx):
                rows.append({**base, "x": x[j], "y": y[i], "z": z[i, j]})
        return rows
    cols = {k: v.ravel() for k, v in cols.items()}
    n = max((len(v) for v in cols.values()), default=0)
    if "y" in cols and "x" not in cols:
        cols["x"] = np.arange(len(cols["y"]))
    text = getattr(trace, "text", None)
    if text is not None and not isinstance(text, str) and len(text) == n:
        cols["label"] = np.asarray(text, dtype=object)          # per-point names (several curves in one trace)
    for i in range(n):
        row = {k: (v[i] if i < len(v) else "") for k, v in cols.items()}
        coords = [row[k] for k in ("x", "y", "r", "theta") if k in row]
        if coords and all(_is_gap(c) for c in coords):
            continue                                          # a NaN/None gap that separates curves in one trace
        rows.append({**base, **row})
    return rows


def _is_gap(v: Any) -> bool:
    return v is None or (isinstance(v, (float, np.floating)) and math.isnan(v))


def _panel_titles(fig: go.Figure) -> dict[tuple[str, str], str]:
    """(xaxis, yaxis) ids ("x2", "y2") → the title of that subplot in a grid of panels: the paper annotation centred
    over its x domain and sitting on top of its y domain (how ``grid_layout`` and plotly's ``make_subplots`` title
    panels); the axis ids where a panel has no title. Empty for a figure with one panel."""
    pairs = {(getattr(t, "xaxis", None) or "x", getattr(t, "yaxis", None) or "y") for t in fig.data
             if hasattr(t, "xaxis")}
    if len(pairs) < 2:
        return {}
    notes = [a for a in fig.layout.annotations or () if a.xref == "paper" and a.yref == "paper" and a.text]
    out = {}
    for xa, ya in pairs:
        xd = fig.layout["xaxis" + xa[1:]].domain or (0, 1)
        yd = fig.layout["yaxis" + ya[1:]].domain or (0, 1)
        near = [a for a in notes if a.x is not None and a.y is not None and xd[0] <= a.x <= xd[1]
                and abs(a.y - yd[1]) < 0.02]
        text = re.sub(r"<[^>]+>", "", re.sub(r"<br\s*/?>", " · ", near[0].text)) if len(near) == 1 else None
        out[(xa, ya)] = text or f"{xa}/{ya}"
    return out


def _panel_of(panels: dict, trace) -> str:
    return panels.get((getattr(trace, "xaxis", None) or "x", getattr(trace, "yaxis", None) or "y"), "")


def to_csv(fig: go.Figure) -> bytes:
    """The figure's data as tidy CSV: one row per point, columns frame (animation frame name, empty for the static
    traces), panel (the subplot's title, in a grid of panels), trace (its legend name), label (the point's hover
    name, where one trace holds several curves), type, then x, y[, z][, r, theta] as present. Heatmaps are unrolled
    to (x, y, z) rows; the gaps that separate curves inside one trace are left out."""
    panels = _panel_titles(fig)
    rows: list[dict[str, Any]] = []
    for tr in fig.data:
        rows.extend({**r, "panel": _panel_of(panels, tr)} for r in _trace_rows(tr, ""))
    for fr in fig.frames or ():
        for i, tr in enumerate(fr.data or ()):          # a frame's traces update fig.data[fr.traces[i]] (else [i])
            j = fr.traces[i] if fr.traces is not None and i < len(fr.traces) else i
            panel = _panel_of(panels, fig.data[j]) if j < len(fig.data) else ""
            rows.extend({**r, "panel": panel} for r in _trace_rows(tr, str(fr.name)))
    present = [k for k in _CSV_KEYS if any(k in r and r[k] != "" for r in rows)]
    fields = (["frame"] + (["panel"] if panels else []) + ["trace"] + (["label"] if any(r.get("label") for r in rows)
                                                                       else []) + ["type"] + present)
    if not any(r["frame"] for r in rows):
        fields.remove("frame")
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: _cell(r.get(k, "")) for k in fields})
    return buf.getvalue().encode("utf-8")


def _cell(v: Any) -> Any:
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    if isinstance(v, np.integer):
        return int(v)
    return v


def docs_size(fig: go.Figure) -> tuple[int, int]:
    """(width, height) in px of ``fig``'s docs version, the size the figure has when built in the docs style:
    DOCS_SIZE's width; a figure that sets its own height keeps it (e.g. a grid of panels), one at the app's default
    height gets DOCS_SIZE's height; the room ``legend_below`` added for a legend under the plot comes on top."""
    from .figures._style import DOCS_SIZE
    from .figures.distance import LEGEND_ROOM_ATTR

    room = getattr(fig, LEGEND_ROOM_ATTR, 0)
    h = fig.layout.height
    base = None if h is None else int(h) - room
    return DOCS_SIZE[0], (DOCS_SIZE[1] if base in (None, APP_DEFAULT_HEIGHT) else base) + room


def docs_version(fig: go.Figure) -> go.Figure:
    """A copy of an app-style figure in the docs style (light, ``docs_size``, larger fonts)."""
    from .figures._style import apply_style

    out = go.Figure(fig)
    out.frames = copy.deepcopy(fig.frames) if fig.frames else out.frames
    return apply_style(out, "docs", height=docs_size(fig)[1])


def export_figure(fig: go.Figure, fmt: str) -> bytes:
    """The figure in ``fmt`` (one of FORMATS) as bytes."""
    fmt = str(fmt).lower()
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    return {"png": to_png, "svg": to_svg, "pdf": to_pdf, "html": to_html, "csv": to_csv}[fmt](fig)


# -- CLI ---------------------------------------------------------------------------------------------------------------
def add_export_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``export`` sub-command to an argparse subparsers object; its handler is ``args.func(args) -> int``."""
    p = subparsers.add_parser("export", help="render a figure (same as the app page) to svg/png/pdf/html/csv",
                              description="Render a registered figure to a file, for reproducible docs.")
    _add_export_args(p)
    p.set_defaults(func=run_export)
    return p


def _add_export_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("figure", nargs="?", help="figure name (see --list)")
    p.add_argument("--list", action="store_true", help="list the figures: page, options (with defaults), caption")
    p.add_argument("--sizes", action="store_true",
                   help="with --list: also each figure's docs-style size (computes every figure once: slower)")
    p.add_argument("--preset", help="start from a preset model (python -m rope_viz presets)")
    p.add_argument("--config", help="start from a model's config.json file (at most 1 MB)")
    p.add_argument("--head-dim", metavar="N")
    p.add_argument("--base", metavar="B")
    p.add_argument("--context-length", metavar="L")
    p.add_argument("--layout", choices=("half", "interleaved"))
    p.add_argument("--rotary-fraction", metavar="F")
    p.add_argument("--scaling-json", help="transformers-style scaling dict as JSON, or 'null' for none")
    p.add_argument("--option", action="append", default=[], metavar="KEY=JSON",
                   help="a figure option, e.g. --option pair=5 --option log_x=true (repeatable; see --list)")
    p.add_argument("--style", choices=("app", "docs"), default="docs",
                   help="docs (default): light background, larger fonts, 1000 px wide at the figure's own height "
                        "(--list --sizes gives each figure's size; a PNG has 2× pixel density: 2000 pixels wide); "
                        "app: the page's look")
    p.add_argument("--format", choices=FORMATS, help="output format (default: from the --out suffix, else svg)")
    p.add_argument("--out", help="output file (default: FIGURE_MODEL_bBASE_LCONTEXT[_SCALING][_docs].FORMAT)")


OPTION_MAX_CHARS = 100_000
_JSONISH = re.compile(r'\s*([-+0-9.\[{"]|true\b|false\b|null\b|NaN\b|Infinity\b)')


def build_config(args: argparse.Namespace):
    """The RopeConfig an export command describes: ``rope_viz.cli.load_config`` (--config or --preset, else the
    default config) with the overrides, every value checked by rope_viz.validate / RopeConfig."""
    from .cli import load_config

    def given(check, flag, value):
        return None if value is None else check(flag, value, text=True)

    scaling = "keep"
    if args.scaling_json is not None:
        scaling = V.json_document(args.scaling_json, max_bytes=OPTION_MAX_CHARS, max_depth=4, field="--scaling-json")
    return load_config(args.config, args.preset, args.layout, scaling=scaling,
                       head_dim=given(V.integer, "--head-dim", args.head_dim),
                       base=given(V.real, "--base", args.base),
                       context_length=given(V.integer, "--context-length", args.context_length),
                       rotary_fraction=given(V.real, "--rotary-fraction", args.rotary_fraction))


def _options(items: Sequence[str]) -> dict[str, Any]:
    """--option KEY=VALUE items → figure options: VALUE is JSON when it looks like JSON (numbers, true / false,
    lists, objects, quoted strings; checked by ``validate.json_document``: finite numbers, bounded size and
    nesting), else plain text."""
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"--option must be KEY=VALUE; got {V.shorten(item)}")
        k, v = item.split("=", 1)
        key = k.strip().replace("-", "_")
        if not key.isidentifier():
            raise ValueError(f"--option KEY must be a figure option name (see --list); got {V.shorten(k)}")
        if _JSONISH.match(v):
            out[key] = V.json_document(v, max_bytes=OPTION_MAX_CHARS, max_depth=8, field=f"--option {key}")
        else:
            out[key] = v
    return out


# options that carry measured data for a figure to draw (a real model's run, a kernel timing), not settings
DATA_OPTIONS = ("result", "runs")
OPTION_INT_MAX = (1 << 31) - 1     # counts, positions, seeds: none beyond this (the core's positions stop at 2^24)
OPTION_REAL_MAX = 1e12             # factors, magnitudes, thresholds
OPTION_LIST_MAX = 64               # items in a list option (compare entries, methods, pairs, layers, ...)


def _option_kinds(hint: Any, default: Any) -> tuple[set[str], bool]:
    """The kinds of value an option takes ({"bool", "int", "float", "str", "list", "mapping"}) and whether null is
    allowed, from its annotation (``typing.get_type_hints``), else from its default (None: a list, as for the
    unannotated list options)."""
    if hint is None:
        if default is None:
            return {"list"}, True
        hint = type(default)
    args = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else (hint,)
    kinds, nullable = set(), default is None
    for h in args:
        if h is type(None):
            nullable = True
            continue
        o = typing.get_origin(h) or h
        kinds.add("bool" if o is bool else "int" if o is int else "float" if o is float else "str" if o is str else
                  "list" if o in (list, tuple, collections.abc.Sequence) else "mapping")
    return kinds, nullable


def check_options(fn, options: dict[str, Any], name: str = "") -> dict[str, Any]:
    """The ``--option`` values checked against the figure function's parameters (one rule for every figure): each
    must be a known option of the kind its annotation (else its default) gives — true / false, an integer in
    [0, OPTION_INT_MAX], a finite number in [0, OPTION_REAL_MAX], a string, or a list of at most OPTION_LIST_MAX
    numbers / strings; null where the default is null. Measured data (``DATA_OPTIONS``) cannot be given on the
    command line. Returns the values in their canonical types; ValueError naming the option otherwise. Ranges within
    these bounds are the figure function's to check (with the option's name)."""
    known = figure_options(fn)
    try:
        hints = typing.get_type_hints(fn)
    except Exception:  # noqa: BLE001 - an annotation that does not resolve: fall back to the defaults
        hints = {}
    out: dict[str, Any] = {}
    for key, value in options.items():
        field = f"--option {key}"
        if key not in known:
            raise ValueError(f"{field} is not an option of {name or fn.__name__}; options: "
                             f"{', '.join(known) or '(none)'}")
        if key in DATA_OPTIONS:
            raise ValueError(f"{field} is measured data, not a setting: export this figure from its page's Export "
                             "menu")
        kinds, nullable = _option_kinds(hints.get(key), known[key])
        if value is None:
            if not nullable:
                raise ValueError(f"{field} must not be null (default: {known[key]!r})")
            out[key] = None
        elif "bool" in kinds:
            if not isinstance(value, bool):
                raise ValueError(f"{field} must be true or false; got {V.shorten(value)}")
            out[key] = value
        elif "int" in kinds and "float" not in kinds:
            out[key] = V.integer(field, value, 0, OPTION_INT_MAX)
        elif "float" in kinds:
            out[key] = V.real(field, value, 0, OPTION_REAL_MAX)
        elif "str" in kinds:
            if not isinstance(value, str):
                raise ValueError(f"{field} must be a string; got {V.shorten(value)}")
            out[key] = value
        elif "list" in kinds:
            ok = (isinstance(value, list) and len(value) <= OPTION_LIST_MAX and
                  all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value))
            if not ok:
                raise ValueError(f"{field} must be a JSON list of at most {OPTION_LIST_MAX} numbers or strings; got "
                                 f"{V.shorten(value)}")
            out[key] = value
        else:
            raise ValueError(f"{field} cannot be given on the command line")
    return out


def figure_options(fn) -> dict[str, Any]:
    """A figure function's options and their defaults (its keyword parameters after cfg, except ``style``)."""
    params = list(inspect.signature(fn).parameters.values())[1:]
    return {p.name: p.default for p in params if p.name != "style" and p.kind != p.VAR_KEYWORD}


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", str(text)).strip("-._")[:60] or "x"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e7 else f"{x:.3g}".replace("+", "")


def export_filename(name: str, cfg, fmt: str, *, model: str | None = None, docs: bool = False) -> str:
    """The default file name of an exported figure: it carries the figure and the config, so exports of two models
    or bases never collide: ``FIGURE_MODEL_bBASE_LCONTEXT[_rfFRACTION][_interleaved][_TYPExFACTOR][_docs].FMT``,
    e.g. ``distance_curves_llama-3.1-8b_b500000_L131072_llama3x8.svg`` (MODEL: the preset or config file name
    (``config_model_name``), else ``dHEAD_DIM``; the rotary fraction when below 1, the layout when interleaved).
    Only ``[A-Za-z0-9._-]``."""
    parts = [_slug(name), _slug(model) if model else f"d{cfg.head_dim}", f"b{_num(cfg.base)}",
             f"L{cfg.context_length}"]
    if cfg.rotary_fraction != 1.0:
        parts.append(f"rf{_num(cfg.rotary_fraction)}")
    if cfg.layout != "half":
        parts.append(cfg.layout)
    if cfg.scaling is not None:
        f = cfg.scaling.get("factor")
        parts.append(cfg.rope_type + (f"x{_num(f)}" if f else ""))
    if docs:
        parts.append("docs")
    return "_".join(parts) + "." + fmt


def config_model_name(path: str) -> str:
    """The model name a config.json path stands for in file names: its folder's name for a file called
    config.json (``models/llama-3-8b/config.json`` → ``llama-3-8b``: every transformers checkpoint's file has that
    name), else the file name without ``.json``."""
    stem = re.sub(r"\.json$", "", os.path.basename(path), flags=re.IGNORECASE)
    folder = os.path.basename(os.path.dirname(os.path.abspath(path)))
    return folder if stem.lower() == "config" and folder else stem


def _figure_size(spec) -> str:
    """A figure's docs-style export size at its defaults (the default config), as "W×H px"."""
    from .cli import DEFAULT_CONFIG

    try:
        w, h = docs_size(spec.fn(DEFAULT_CONFIG, style="app"))
    except Exception as e:  # noqa: BLE001 - a figure that needs more (e.g. torch, a model) is still listed
        return f"(size: needs {type(e).__name__})"
    return f"{w}×{h} px"


def run_export(args: argparse.Namespace) -> int:
    """Handler of ``export``: 0 on success; 2 with a one-line stderr message on bad input or a failed render."""
    from .figures import figures, get_figure

    out = None
    try:
        if args.list:
            for name, spec in figures().items():
                opts = ", ".join(f"{k}={v!r}" for k, v in figure_options(spec.fn).items()) or "(none)"
                size = f"  docs {_figure_size(spec)}" if args.sizes else ""
                print(f"{name}  [{spec.page}]{size}\n    options: {opts}\n    {spec.caption_for()}")
            return 0
        if not args.figure:
            raise ValueError("give a FIGURE name (see --list)")
        fmt = args.format or (args.out.rsplit(".", 1)[-1].lower() if args.out and "." in args.out else "svg")
        fmt = V.choice("--format (or the --out suffix)", fmt, FORMATS)
        if args.figure not in figures():
            raise ValueError(f"FIGURE must be a figure name (see --list); got {V.shorten(args.figure)}")
        spec = get_figure(args.figure)
        cfg = build_config(args)
        options = check_options(spec.fn, _options(args.option), spec.name)
        fig = spec.fn(cfg, style=args.style, **options)
        data = export_figure(fig, fmt)
        model = args.preset or (config_model_name(args.config) if args.config else None)
        out = args.out or export_filename(spec.name, cfg, fmt, model=model, docs=args.style == "docs")
        with open(out, "wb") as fh:
            fh.write(data)
    except (ValueError, TypeError, RuntimeError, OSError, TimeoutError) as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        print(f"rope-viz: error: {msg}", file=sys.stderr)
        return 2
    finally:
        shutdown()
    print(f"wrote {out} ({len(data):,} bytes, {fmt}{_size_note(fig, fmt, data)})", file=sys.stderr)
    return 0


def _size_note(fig: go.Figure, fmt: str, data: bytes) -> str:
    """What size the file has: ", W×H px" (SVG, PDF), and for a PNG its pixels read from the file (2× density)."""
    if fmt == "png" and data[12:16] == b"IHDR":
        pw, ph = struct.unpack(">II", data[16:24])
        w, h = _size(fig)
        return f", {w}×{h} px at {pw / w:g}× pixel density: {pw}×{ph} pixels"
    if fmt in ("svg", "pdf"):
        w, h = _size(fig)
        return f", {w}×{h} px"
    return ""


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m rope_viz.export ...`` (the same as ``python -m rope_viz export ...``)."""
    p = argparse.ArgumentParser(prog="python -m rope_viz.export", description=__doc__.splitlines()[0])
    _add_export_args(p)
    try:
        args = p.parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    return run_export(args)


if __name__ == "__main__":
    sys.exit(main())
