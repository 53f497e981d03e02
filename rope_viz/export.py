"""Export a figure as PNG / SVG / PDF (kaleido 1.x), standalone HTML or tidy CSV, and the ``export`` CLI command.

Static images go through ONE persistent kaleido server (``kaleido.start_sync_server(mathjax=False)``), started lazily
on the first export (~2 s) and reused (~0.2 s per image). kaleido finds Debian's chromium by itself (``BROWSER_PATH``
overrides); this module never downloads a browser. If the server cannot start, exports fall back to plotly's one-shot
``fig.to_image`` (a browser per call). HTML inlines plotly.js (no CDN, works offline). CSV holds the traces' data.

CLI (wired into ``python -m rope_viz``; also ``python -m rope_viz.export``)::

    python -m rope_viz export FIGURE --preset NAME [--head-dim N --base B --context-length L --layout half
        --rotary-fraction f --scaling-json '{"rope_type": "yarn", "factor": 4}' --config config.json]
        [--option KEY=JSON ...] [--style docs|app] --format svg|png|pdf|html|csv --out FILE
    python -m rope_viz export --list

It renders the same registered figure function (``rope_viz.figures``) as the app page. Errors print one line on
stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import copy
import csv
import math
import io
import json
import sys
import threading
from typing import Any, Sequence

import numpy as np
import plotly.graph_objects as go

FORMATS = ("png", "svg", "pdf", "html", "csv")
MIME = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf", "html": "text/html",
        "csv": "text/csv"}
DEFAULT_EXPORT_SIZE = (1000, 560)  # px, for figures that leave the width to the page
_TIMEOUT_S = 90.0

_lock = threading.Lock()
_server: dict[str, Any] = {"state": "idle", "error": None}  # idle | running | failed


def _run_with_timeout(fn, timeout: float):
    """Run fn() in a daemon thread; its result, or TimeoutError (kaleido's sync server blocks forever if its browser
    died)."""
    box: dict[str, Any] = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller
            box["error"] = e

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        raise TimeoutError(f"static export did not finish within {timeout:g} s")
    if "error" in box:
        raise box["error"]
    return box["value"]


def _ensure_server() -> bool:
    """Start the persistent kaleido server once; False if it cannot run (then exports use the one-shot path)."""
    if _server["state"] == "running":
        return True
    if _server["state"] == "failed":
        return False
    try:
        import kaleido

        kaleido.start_sync_server(mathjax=False, silence_warnings=True)
        probe = go.Figure(go.Scatter(x=[0, 1], y=[0, 1]))
        _run_with_timeout(lambda: kaleido.calc_fig_sync(probe, opts={"format": "svg", "width": 100, "height": 100}),
                          _TIMEOUT_S)
    except BaseException as e:  # noqa: BLE001 - any failure: remember it and fall back
        _server.update(state="failed", error=f"{type(e).__name__}: {e}")
        try:
            import kaleido

            kaleido.stop_sync_server(silence_warnings=True)
        except BaseException:  # noqa: BLE001
            pass
        return False
    _server["state"] = "running"
    return True


def shutdown() -> None:
    """Stop the kaleido server if this module started it (the CLI does, so the browser exits cleanly before Python
    does). A later export starts it again."""
    with _lock:
        if _server["state"] == "running":
            import kaleido

            kaleido.stop_sync_server(silence_warnings=True)
            _server["state"] = "idle"


def _size(fig: go.Figure) -> tuple[int, int]:
    w = fig.layout.width or DEFAULT_EXPORT_SIZE[0]
    h = fig.layout.height or DEFAULT_EXPORT_SIZE[1]
    return int(w), int(h)


def _static(fig: go.Figure, fmt: str, scale: float | None = None) -> bytes:
    w, h = _size(fig)
    scale = scale if scale is not None else (2.0 if fmt == "png" else 1.0)
    with _lock:  # kaleido's sync server is one request queue: one caller at a time
        if _ensure_server():
            import kaleido

            opts = {"format": fmt, "width": w, "height": h, "scale": scale}
            return _run_with_timeout(lambda: kaleido.calc_fig_sync(fig, opts=opts), _TIMEOUT_S)
        try:
            return fig.to_image(format=fmt, width=w, height=h, scale=scale)
        except Exception as e:
            raise RuntimeError(f"{fmt.upper()} export needs kaleido with a Chromium browser "
                               f"(apt-get install chromium): {e}; server: {_server['error']}") from None


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
        if _is_gap(row.get("x")) and _is_gap(row.get("y")):
            continue                                          # a NaN/None gap that separates curves in one trace
        rows.append({**base, **row})
    return rows


def _is_gap(v: Any) -> bool:
    return v is None or (isinstance(v, (float, np.floating)) and math.isnan(v))


def to_csv(fig: go.Figure) -> bytes:
    """The figure's data as tidy CSV: one row per point, columns frame (animation frame name, empty for the static
    traces), trace (its legend name), label (the point's hover name, where one trace holds several curves), type,
    then x, y[, z][, r, theta] as present. Heatmaps are unrolled to (x, y, z) rows; the gaps that separate curves
    inside one trace are left out."""
    rows: list[dict[str, Any]] = []
    for tr in fig.data:
        rows.extend(_trace_rows(tr, ""))
    for fr in fig.frames or ():
        for tr in fr.data or ():
            rows.extend(_trace_rows(tr, str(fr.name)))
    present = [k for k in _CSV_KEYS if any(k in r and r[k] != "" for r in rows)]
    fields = ["frame", "trace"] + (["label"] if any(r.get("label") for r in rows) else []) + ["type"] + present
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


def docs_version(fig: go.Figure) -> go.Figure:
    """A copy of an app-style figure in the docs style (light, fixed size, larger fonts)."""
    from .figures._style import apply_style

    out = go.Figure(fig)
    out.frames = copy.deepcopy(fig.frames) if fig.frames else out.frames
    h = fig.layout.height
    return apply_style(out, "docs", height=None if h in (None, 460) else h)


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
    p.add_argument("--list", action="store_true", help="list the figure names with their page and caption")
    p.add_argument("--preset", help="start from a preset model (python -m rope_viz presets)")
    p.add_argument("--config", help="start from a model's config.json file")
    p.add_argument("--head-dim", type=int)
    p.add_argument("--base", type=float)
    p.add_argument("--context-length", type=int)
    p.add_argument("--layout", choices=("half", "interleaved"))
    p.add_argument("--rotary-fraction", type=float)
    p.add_argument("--scaling-json", help="transformers-style scaling dict as JSON, or 'null' for none")
    p.add_argument("--option", action="append", default=[], metavar="KEY=JSON",
                   help="a figure option, e.g. --option pair=5 --option log_x=true (repeatable)")
    p.add_argument("--style", choices=("app", "docs"), default="docs")
    p.add_argument("--format", choices=FORMATS, help="output format (default: from the --out suffix)")
    p.add_argument("--out", help="output file")


class _ExportError(Exception):
    pass


def build_config(args: argparse.Namespace):
    """The RopeConfig an export command describes: --config or --preset (else the default d=128, base 1e4, 4K),
    then the overrides. ValueError on bad input."""
    from .config import RopeConfig, from_hf_config

    if args.config and args.preset:
        raise ValueError("give --config or --preset, not both")
    if args.config:
        try:
            with open(args.config, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as e:
            raise ValueError(f"cannot read --config {args.config}: {e.strerror}") from None
        cfg = from_hf_config(text, layout=args.layout or "half")
    elif args.preset:
        try:
            from .presets import get_preset, preset_names
        except ImportError:
            raise ValueError("presets are not available (rope_viz.presets missing)") from None
        if args.preset not in preset_names():
            raise ValueError(f"unknown preset {args.preset!r}; available: {', '.join(preset_names())}")
        cfg = get_preset(args.preset).config
    else:
        cfg = RopeConfig(head_dim=128)
    changes: dict[str, Any] = {}
    for attr in ("head_dim", "base", "context_length", "layout", "rotary_fraction"):
        v = getattr(args, attr)
        if v is not None:
            changes[attr] = v
    if args.scaling_json is not None:
        try:
            sc = json.loads(args.scaling_json)
        except json.JSONDecodeError as e:
            raise ValueError(f"--scaling-json is not valid JSON: {e.msg}") from None
        changes["scaling"] = sc
    return cfg.replace(**changes) if changes else cfg


def _options(items: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"--option needs KEY=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        try:
            out[k.strip().replace("-", "_")] = json.loads(v)
        except json.JSONDecodeError:
            out[k.strip().replace("-", "_")] = v
    return out


def run_export(args: argparse.Namespace) -> int:
    """Handler of ``export``: 0 on success; 2 with a one-line stderr message on bad input or a failed render."""
    from .figures import figures, get_figure

    try:
        if args.list:
            for name, spec in figures().items():
                print(f"{name}\t[{spec.page}]\t{spec.caption}")
            return 0
        if not args.figure:
            raise ValueError("give a FIGURE name (see --list)")
        if not args.out:
            raise ValueError("give --out FILE")
        fmt = args.format or args.out.rsplit(".", 1)[-1].lower()
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)} (use --format), got {fmt!r}")
        spec = get_figure(args.figure)
        cfg = build_config(args)
        fig = spec.fn(cfg, style=args.style, **_options(args.option))
        data = export_figure(fig, fmt)
        with open(args.out, "wb") as fh:
            fh.write(data)
    except (ValueError, TypeError, RuntimeError, OSError, TimeoutError) as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        print(f"rope-viz: error: {msg}", file=sys.stderr)
        return 2
    finally:
        shutdown()
    print(f"wrote {args.out} ({len(data):,} bytes, {fmt})", file=sys.stderr)
    return 0


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
