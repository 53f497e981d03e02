"""The one validation layer: every value that enters rope_viz from outside (function arguments, widgets, URL
parameters, CLI arguments, config.json text) goes through these checks.

Each check returns the value in its canonical type, or raises
``ValueError("<field> must be <allowed range>; got <shortened value>")``: the message names the field and the
allowed range, and shows the offending value through ``shorten`` (repr-escaped, at most ~60 characters), so a
hostile value can never blow a message up or smuggle markup into it unescaped. Nothing here raises anything but
``ValueError`` for bad input (no ``OverflowError``, ``TypeError`` or ``RecursionError``).

Numbers given as text (URL parameters, CLI arguments) are accepted by ``integer`` and ``real`` only with
``text=True`` (at most 64 characters, parsed before any conversion); library arguments and config.json numbers must
be numbers.
"""

from __future__ import annotations

import json
import math
import numbers
import re
import reprlib
from typing import Any, Iterable, Mapping

import numpy as np

TEXT_NUMBER_MAX_CHARS = 64      # longer numeric text is rejected before parsing
INT_MAX_DIGITS = 30             # config.json integers with more digits are rejected (no RopeConfig field needs them)
MESSAGE_MAX = 200               # the longest message a check produces (characters)

_repr = reprlib.Repr()
_repr.maxlevel, _repr.maxdict, _repr.maxlist, _repr.maxtuple, _repr.maxset = 2, 4, 6, 6, 6
_repr.maxstring, _repr.maxother, _repr.maxlong = 70, 70, 40


def shorten(value: Any, limit: int = 60) -> str:
    """``repr(value)`` for an error message, escaped (newlines, quotes, control characters appear as escapes) and cut
    to at most ``limit`` characters with "…" . Never raises, however large, deep or odd the value (huge integers are
    described by their digit count, not converted to text)."""
    try:
        if isinstance(value, bool) or value is None:
            text = repr(value)
        elif isinstance(value, numbers.Integral) and not isinstance(value, np.integer):
            n = int(value)
            bits = abs(n).bit_length()
            text = repr(n) if bits <= 200 else f"<integer with ~{int(bits * 0.30103) + 1} digits>"
        elif isinstance(value, (str, bytes, bytearray)):
            text = repr(value[: limit + 8])
            if len(value) > limit + 8:
                text += f"… ({len(value):,} characters)"
        else:
            text = _repr.repr(value)
    except Exception:  # noqa: BLE001 - a value whose repr fails still gets a message
        text = f"<{type(value).__name__}>"
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def _fail(field: str, allowed: str, value: Any) -> ValueError:
    msg = f"{field} must be {allowed}; got {shorten(value)}"
    if len(msg) > MESSAGE_MAX:
        msg = f"{shorten(field, 40)} must be {allowed[:90]}…; got {shorten(value)}"
    return ValueError(msg)


def _fmt(x: float) -> str:
    return str(x) if isinstance(x, int) else f"{x:g}"


def _text_number(value: str) -> float | int | None:
    s = value.strip().replace("_", "")
    if not s or len(s) > TEXT_NUMBER_MAX_CHARS:
        return None
    try:
        return int(s)
    except ValueError:
        pass
    try:
        return float(s)
    except ValueError:
        return None


def integer(field: str, value: Any, lo: int | None = None, hi: int | None = None, *, text: bool = False) -> int:
    """``value`` as an int in [lo, hi] (either bound may be None). Accepts Python / numpy integers, floats with an
    integer value (2048.0), and — with ``text=True`` — their decimal text ("2048", "1e3"). Rejects bool."""
    allowed = ("an integer" if lo is None and hi is None else
               f"an integer ≥ {_fmt(lo)}" if hi is None else
               f"an integer ≤ {_fmt(hi)}" if lo is None else f"an integer in [{_fmt(lo)}, {_fmt(hi)}]")
    v = value
    if isinstance(v, str) and text:
        v = _text_number(v)
    if isinstance(v, bool) or v is None or isinstance(v, (str, bytes)):
        raise _fail(field, allowed, value)
    if isinstance(v, numbers.Integral):
        n = int(v)
    elif isinstance(v, numbers.Real):
        f = float(v)
        if not math.isfinite(f) or not f.is_integer():
            raise _fail(field, allowed, value)
        n = int(f)
    else:
        raise _fail(field, allowed, value)
    if (lo is not None and n < lo) or (hi is not None and n > hi):
        raise _fail(field, allowed, value)
    return n


def real(field: str, value: Any, lo: float | None = None, hi: float | None = None, *, lo_open: bool = False,
         hi_open: bool = False, text: bool = False) -> float:
    """``value`` as a finite float in [lo, hi] (``lo_open`` / ``hi_open``: the bound itself excluded; either bound
    may be None). Accepts Python / numpy reals and — with ``text=True`` — their decimal text. Rejects bool, NaN,
    ±inf and integers too large for a float."""
    if lo is None and hi is None:
        allowed = "a finite number"
    elif hi is None:
        allowed = f"a finite number {'>' if lo_open else '≥'} {_fmt(lo)}"
    elif lo is None:
        allowed = f"a finite number {'<' if hi_open else '≤'} {_fmt(hi)}"
    else:
        allowed = f"a finite number in {'(' if lo_open else '['}{_fmt(lo)}, {_fmt(hi)}{')' if hi_open else ']'}"
    v = value
    if isinstance(v, str) and text:
        v = _text_number(v)
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise _fail(field, allowed, value)
    try:
        f = float(v)
    except (OverflowError, ValueError, TypeError):
        raise _fail(field, allowed, value) from None
    if not math.isfinite(f):
        raise _fail(field, allowed, value)
    if lo is not None and (f < lo or (lo_open and f == lo)):
        raise _fail(field, allowed, value)
    if hi is not None and (f > hi or (hi_open and f == hi)):
        raise _fail(field, allowed, value)
    return f


def choice(field: str, value: Any, options: Iterable[Any]) -> Any:
    """``value`` if it equals one of ``options`` (compared with ==, so unhashable values are simply rejected)."""
    options = tuple(options)
    for option in options:
        if isinstance(value, bool) != isinstance(option, bool):
            continue
        try:
            if (value == option) is True or (value == option) is np.True_:
                return option
        except Exception:  # noqa: BLE001 - odd objects whose == raises are not an option
            continue
    raise _fail(field, "one of " + ", ".join(str(o) for o in options), value)


def choices(field: str, value: Any, options: Iterable[Any]) -> list:
    """``value`` as a list of distinct items, each equal to one of ``options`` (``choice``), in the order given.
    Accepts a list or tuple; text is not taken for a list of its letters, a number not for a list of one."""
    options = tuple(options)
    if not isinstance(value, (list, tuple)):
        raise _fail(field, "a list of items among " + ", ".join(str(o) for o in options), value)
    out: list = []
    for item in value:
        c = choice(field, item, options)
        if c not in out:
            out.append(c)
    return out


def float_array(field: str, x: Any, ndim: int | tuple[int, ...] | None = None) -> np.ndarray:
    """``x`` as a float64 ndarray of finite values (booleans and integers converted); ``ndim``: the number of
    dimensions required (an int or a tuple of allowed ones), None for any."""
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError, OverflowError):          # ragged nested lists, huge ints
        raise _fail(field, "an array of real numbers", x) from None
    if arr.dtype.kind not in "biuf":
        raise _fail(field, "an array of real numbers", x)
    try:
        arr = arr.astype(np.float64, copy=False)
    except OverflowError:  # pragma: no cover - numpy ints always fit a float64
        raise _fail(field, "an array of real numbers", x) from None
    if not np.all(np.isfinite(arr)):
        raise _fail(field, "finite (no NaN or inf)", x)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            dims = " or ".join(f"{n}-D" for n in allowed)
            raise ValueError(f"{field} must be a {dims} array; got shape {arr.shape}")
    return arr


def config(field: str, cfg: Any):
    """``cfg`` if it is a ``RopeConfig`` (already validated on construction)."""
    from .config import RopeConfig
    if not isinstance(cfg, RopeConfig):
        raise _fail(field, "a RopeConfig", cfg)
    return cfg


# -- JSON documents ---------------------------------------------------------------------------------------------------
class _Huge:
    """Placeholder for a number json.loads must not build (NaN / Infinity literal, integer of too many digits)."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text if len(self.text) <= 20 else f"<integer with {len(self.text.lstrip('-'))} digits>"


def _parse_int(s: str):
    return _Huge(s) if len(s.lstrip("-")) > INT_MAX_DIGITS else int(s)


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_BRACKET = re.compile(r"[\[\]{}]")


def _depth(text: str) -> int:
    """Deepest [ / { nesting of a JSON text, strings skipped. Linear time, no recursion."""
    depth = deepest = 0
    for m in _BRACKET.finditer(_STRING.sub('""', text)):
        depth += 1 if m.group() in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _check_numbers(node: Any, path: str, field: str, depth: int = 0) -> None:
    """Reject non-finite or over-long numbers; the error names the key path, or ``field`` for a top-level value."""
    if isinstance(node, dict):
        for k, v in node.items():
            _check_numbers(v, f"{path}.{k}" if path else str(k), field, depth + 1)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            _check_numbers(v, f"{path}[{i}]", field, depth + 1)
    elif isinstance(node, _Huge) or (isinstance(node, float) and not math.isfinite(node)):
        where = shorten(path, 60).strip("'\"") or field
        raise _fail(where, f"a finite number with at most {INT_MAX_DIGITS} digits", node)


def json_document(text: str | bytes | bytearray, *, max_bytes: int = 1_000_000, max_depth: int = 64,
                  field: str = "config.json") -> Any:
    """Parse a JSON text from outside: at most ``max_bytes`` bytes (checked before parsing), at most ``max_depth``
    levels of [ / { nesting (checked before parsing, so no RecursionError), UTF-8; every number finite (``NaN``,
    ``Infinity``, ``1e400`` rejected) and integers of at most 30 digits. The error names the offending key path
    (e.g. ``rope_scaling.factor``)."""
    if isinstance(text, (bytes, bytearray)):
        if len(text) > max_bytes:
            raise ValueError(f"{field} must be at most {max_bytes:,} bytes; got {len(text):,} bytes")
        try:
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise ValueError(f"{field} must be UTF-8 text; got an invalid byte at offset {e.start}") from None
    if not isinstance(text, str):
        raise _fail(field, "JSON text", text)
    size = len(text) if len(text) > max_bytes else len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise ValueError(f"{field} must be at most {max_bytes:,} bytes; got {size:,} bytes")
    depth = _depth(text)
    if depth > max_depth:
        raise ValueError(f"{field} must nest at most {max_depth} levels of [ and {{; got {depth}")
    try:
        doc = json.loads(text, parse_int=_parse_int, parse_constant=_Huge)
    except json.JSONDecodeError as e:
        raise ValueError(f"{field} must be valid JSON; got: {e.msg[:80]}, at line {e.lineno}, "
                         f"column {e.colno}") from None
    except RecursionError:  # pragma: no cover - the depth check above comes first
        raise ValueError(f"{field} must nest at most {max_depth} levels of [ and {{") from None
    _check_numbers(doc, "", field)
    return doc


def read_capped(field: str, source: Any, max_bytes: int = 1_000_000) -> bytes:
    """The bytes of a file path or binary file object (an upload), reading at most ``max_bytes`` + 1 bytes, so
    endless sources (/dev/zero, /dev/urandom, a pipe) cannot exhaust memory. ValueError when the source is larger,
    is not a readable regular file (missing, a directory, no permission), or is not a path or file object."""
    try:
        if hasattr(source, "read"):
            data = source.read(max_bytes + 1)
        elif isinstance(source, (str, bytes)) or hasattr(source, "__fspath__"):
            with open(source, "rb") as f:
                data = f.read(max_bytes + 1)
        else:
            raise _fail(field, "a file path or a binary file", source)
    except OSError as e:
        name = str(source) if len(str(source)) <= 56 else "…" + str(source)[-55:]    # keep the file name
        raise ValueError(f"{field} must be a readable file; got {shorten(name, 60)} "
                         f"({shorten(e.strerror or type(e).__name__, 40).strip(chr(39))})") from None
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    if len(data) > max_bytes:
        raise ValueError(f"{field} must be at most {max_bytes:,} bytes; got more")
    return bytes(data)


def mapping(field: str, value: Any) -> Mapping:
    """``value`` if it is a Mapping (a JSON object)."""
    if not isinstance(value, Mapping):
        raise _fail(field, "an object (a JSON {...} mapping)", value)
    return value
