"""The JSON a figure is drawn from in the browser: the same picture, in a form plotly.js can redraw cheaply.

Streamlit's chart element draws a changed figure once and then calls ``Plotly.react`` twice more with copies of the
same figure (its theme and state hooks). plotly.js skips such a redraw only when it can see that nothing changed, and
it cannot when

* a data array is plotly.py's base64 typed-array form (``{"dtype", "bdata"}``, what ``to_json`` writes for numpy
  arrays): every decoded copy is a new array, so every trace is recomputed;
* ``layout.template`` or ``layout.meta`` is there: values of valType "any", compared by identity, so a copy of them
  replots the whole figure;
* ``layout.datarevision`` is absent: plotly.js then treats every array of a copy as new data.

Measured in headless Chromium (scripts/bench_app.py, issue 12): ``Plotly.react`` with an equal copy of ext_ratio
took ~25 ms and rewrote ~700 DOM nodes; with the spec below it takes ~3 ms and touches none. ``browser_spec``
therefore returns the figure with its template applied explicitly (so it looks the same: tested by comparing the SVG
plotly.js draws from both), arrays that plotly's JSON writer puts out as JSON lists, ``layout.meta`` (read by the
captions, in Python) left out, and a ``datarevision`` that changes whenever the data do.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import numpy as np
import plotly.graph_objects as go

# layout containers a template entry applies to every instance of (xaxis → xaxis, xaxis2, …)
_SUBPLOT_KEYS = ("xaxis", "yaxis", "polar", "ternary", "scene", "geo", "coloraxis")
# layout array entries a template's "<name>defaults" applies to each item of
_ITEM_DEFAULTS = {"annotationdefaults": "annotations", "shapedefaults": "shapes", "imagedefaults": "images",
                  "sliderdefaults": "sliders", "updatemenudefaults": "updatemenus", "selectiondefaults": "selections"}


def _plain(value: Any) -> Any:
    """``value`` in new containers (the input is shared across sessions and is not modified), numpy scalars as
    Python numbers. Numeric arrays stay numpy arrays: plotly's JSON writer hands them to orjson (a requirement),
    which writes them as JSON lists in a few ms (float64 with every digit, float32 in float32's shortest form:
    0.84147096, not 0.8414709568023682; NaN / ±inf as null, a gap); only ``to_dict`` / ``to_json`` of a *figure*
    would turn them into base64 typed arrays."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return np.ascontiguousarray(value) if value.dtype.kind in "fiub" else [_plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _merge_under(default: Any, value: Any) -> Any:
    """Deep merge: ``value`` wins; dicts are merged key by key; anything else (lists included) replaces."""
    if isinstance(default, dict) and isinstance(value, dict):
        out = dict(default)
        for k, v in value.items():
            out[k] = _merge_under(default.get(k), v) if k in default else v
        return out
    return value


def _subplot_ids(kind: str, layout: dict, data: list[dict]) -> set[str]:
    """Layout keys of every ``kind`` container the figure uses: those in the layout plus those its traces refer
    to (a trace on the default axes needs ``xaxis`` / ``yaxis`` styled even when the layout never names them)."""
    ids = {k for k in layout if re.fullmatch(kind + r"\d*", k)}
    for tr in data:
        if kind in ("xaxis", "yaxis"):
            if tr.get("type", "scatter") in _CARTESIAN:
                ref = tr.get(kind[0] + "axis") or kind[0]
                ids.add(kind + ref[1:])
        elif kind == "coloraxis":
            ref = tr.get("coloraxis") or (tr.get("marker") or {}).get("coloraxis")
            if isinstance(ref, str):
                ids.add(ref)
        elif tr.get("type", "") in _SUBPLOT_TRACES.get(kind, ()):
            ids.add(tr.get("subplot") or kind)
    return ids


_CARTESIAN = {"scatter", "scattergl", "bar", "heatmap", "histogram", "histogram2d", "histogram2dcontour", "box",
              "violin", "contour", "image", "waterfall", "funnel", "candlestick", "ohlc", "carpet"}
_SUBPLOT_TRACES = {"polar": ("scatterpolar", "scatterpolargl", "barpolar"), "ternary": ("scatterternary",),
                   "scene": ("scatter3d", "surface", "mesh3d", "cone", "streamtube", "volume", "isosurface"),
                   "geo": ("scattergeo", "choropleth")}


_ORIENTED = {"bar", "box", "violin", "histogram", "funnel", "waterfall"}


def _grid_default(axis_key: str, data: list[dict]) -> bool:
    """plotly.js's default for a cartesian axis's ``showgrid`` and ``zeroline``: on, except on the category axis of
    an oriented trace (bars, boxes, histograms: x for vertical ones, y for horizontal ones)."""
    for tr in data:
        kind = tr.get("type", "scatter")
        if kind not in _ORIENTED:
            continue
        has_x, has_y = tr.get("x") is not None, tr.get("y") is not None
        orient = tr.get("orientation") or (("h" if has_y and not has_x else "v") if kind == "histogram"
                                           else ("h" if has_x and not has_y else "v"))
        letter = "y" if orient == "h" else "x"
        ref = tr.get(letter + "axis") or letter
        if axis_key == letter + "axis" + ref[1:]:
            return False
    return True


def _explicit_flags(axis: dict, user: dict, default: dict, grid: bool) -> dict:
    """An axis with the template merged in, its show-flags made explicit. plotly.js switches a line / the grid / the
    zero line on when the *figure* (not its template) gives its colour or width; once the template's colours sit in
    the figure, the flags the template would have left at their defaults must be written out: ``showline`` off,
    ``showgrid`` and ``zeroline`` as ``grid`` (``_grid_default``)."""
    out = dict(axis)
    implied = {"showline": (("linecolor", "linewidth"), False),
               "showgrid": (("gridcolor", "gridwidth", "griddash"), grid),
               "zeroline": (("zerolinecolor", "zerolinewidth"), grid)}
    for flag, (keys, dflt) in implied.items():
        if flag in user or flag in default:
            continue
        if any(k in default and k not in user for k in keys):
            out[flag] = dflt or any(k in user for k in keys)
    return out


_COLORSCALE_TRACES = {"heatmap", "contour", "histogram2d", "histogram2dcontour", "surface", "choropleth",
                      "contourcarpet", "mesh3d", "densitymap", "choroplethmap", "cone", "streamtube", "volume",
                      "isosurface"}
_COLOR_KEYS = ("colorscale", "showscale", "coloraxis", "cmin", "cmax", "cmid")


def _without_implied_colorbars(default: dict, trace: dict, intrinsic: bool) -> dict:
    """A trace template without the ``colorbar`` entries the trace does not use: plotly.js gives a marker / line a
    colour scale (and draws its colour bar) as soon as the *trace* sets a ``colorbar``, so the template's colour-bar
    style may only be written where the trace really has a colour scale (its own ``colorscale`` / ``coloraxis`` /
    numeric colour array, or a trace type that always has one)."""
    out = {}
    for key, value in default.items():
        if key == "colorbar" and not (intrinsic or _uses_colorscale(trace)):
            continue
        if isinstance(value, dict) and key != "colorbar":
            value = _without_implied_colorbars(value, trace.get(key) if isinstance(trace.get(key), dict) else {},
                                               False)
        out[key] = value
    return out


def _uses_colorscale(container: dict) -> bool:
    if any(k in container for k in _COLOR_KEYS):
        return True
    color = container.get("color")
    if isinstance(color, np.ndarray):
        return color.dtype.kind in "fiu"
    return isinstance(color, (list, tuple)) and any(isinstance(c, (int, float)) and not isinstance(c, bool)
                                                    for c in color)


def _apply_template(layout: dict, data: list[dict], template: dict) -> tuple[dict, list[dict]]:
    """The figure as plotly.js sees it with ``template`` (plotly's template rules: a layout entry is a default for
    the layout, ``xaxis`` etc. for every container of that kind, ``<item>defaults`` for every annotation / shape /
    …; ``data[type][k]`` for the k-th trace of that type, cycling)."""
    tl = dict(template.get("layout") or {})
    out = dict(layout)
    for kind in _SUBPLOT_KEYS:
        if kind in tl:
            default = tl.pop(kind)
            for key in _subplot_ids(kind, layout, data):
                out[key] = _merge_under(default, layout.get(key, {}))
                if kind in ("xaxis", "yaxis"):
                    out[key] = _explicit_flags(out[key], layout.get(key, {}), default, _grid_default(key, data))
    for dkey, items in _ITEM_DEFAULTS.items():
        if dkey in tl:
            default = tl.pop(dkey)
            if items in out:
                out[items] = [_merge_under(default, it) for it in out[items]]
    out = _merge_under(tl, out)
    by_type: dict[str, int] = {}
    traces = []
    for tr in data:
        kind = tr.get("type", "scatter")
        defaults = (template.get("data") or {}).get(kind) or []
        k = by_type.get(kind, 0)
        by_type[kind] = k + 1
        if defaults:
            d = {key: v for key, v in defaults[k % len(defaults)].items() if key != "type"}
            tr = _merge_under(_without_implied_colorbars(d, tr, kind in _COLORSCALE_TRACES), tr)
        traces.append(tr)
    return out, traces


def content_hash(value: Any) -> str:
    """A hex digest of nested mappings / lists / arrays / scalars: arrays by dtype, shape and bytes (no text
    conversion of large arrays), mappings by sorted key, anything else by repr. Used for a figure's
    ``datarevision`` and to key cached figures by measured data (``rope_viz.ui.cached_result_figure``)."""
    h = hashlib.blake2b(digest_size=16)
    _feed(value, h)
    return h.hexdigest()


def _feed(value: Any, h) -> None:
    if isinstance(value, dict):
        for k in sorted(value, key=str):
            h.update(repr(k).encode())
            _feed(value[k], h)
    elif isinstance(value, (list, tuple)):
        h.update(b"[%d" % len(value))
        for v in value:
            _feed(v, h)
    elif isinstance(value, np.ndarray) and value.dtype.kind in "fiub":
        h.update(f"{value.dtype.str}{value.shape}".encode())
        h.update(np.ascontiguousarray(value).tobytes())
    else:
        h.update(repr(value.tolist() if isinstance(value, np.ndarray) else value).encode())


def browser_spec(fig: go.Figure) -> dict:
    """The dict the browser draws ``fig`` from (see the module docstring): {"data": [...], "layout": {...}[,
    "frames": [...]]}, template applied, no ``layout.meta``, numeric arrays as (contiguous) numpy arrays for
    ``plotly.io.to_json`` to write as lists, ``layout.datarevision`` = a hash of the data and frames. A new dict each
    call (arrays may be shared with ``fig``: read-only); ``fig`` is not modified."""
    data = [_plain(tr) for tr in fig._data]
    layout = _plain(fig._layout)
    frames = [_plain(fr._props) for fr in fig._frame_objs]
    template = layout.pop("template", None)
    layout.pop("meta", None)
    if template:
        layout, data = _apply_template(layout, data, template)
    layout["datarevision"] = content_hash([fig._data, [fr._props for fr in fig._frame_objs]])[:16]
    spec = {"data": data, "layout": layout}
    if frames:
        spec["frames"] = frames
    return spec
