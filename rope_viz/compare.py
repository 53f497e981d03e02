"""What a page can compare the sidebar config with, in one place: the choices, their labels, the limit, and the
compact text form of a saved config (the app keeps saved configs in the page address).

A "compare with" entry is one of:

* ``"base X"`` (``BASE_CHOICES``, or any number): the config being compared against, with base X — its scaling and
  context kept;
* a preset name (``rope_viz.presets``): that model's published config;
* ``"saved N"``: the N-th saved config (a config.json the user imported for comparison, or a sidebar config kept
  for it), looked up in the ``saved`` mapping slot → RopeConfig that the caller passes;
* a ``RopeConfig``, or a ``(label, RopeConfig)`` pair (what ``resolve`` returns, so resolving twice is harmless).

``resolve(cfg, items, saved)`` turns entries into ``(label, RopeConfig)`` pairs, each drawn over its own context
with its own scaling. Labels: ``cfg.label()`` with the new base for a base entry, the preset name for a preset,
``"saved N: <cfg.label()>"`` for a saved config. Figures take those pairs (plain data: the app's figure cache keys
them as JSON).

``encode_config`` / ``decode_config``: a RopeConfig as base64url (no padding) of its compact JSON (``to_dict``
without the fields at their defaults), at most ``MAX_ENCODED_CHARS`` characters. Decoding is strict: the text, the
JSON (``rope_viz.validate.json_document``: bounded size and depth, finite numbers), the keys (unknown → ValueError
naming the key) and every value (``RopeConfig`` validates each field and names it) — a hostile value gives one
``ValueError``, never another exception.
"""

from __future__ import annotations

import base64
import binascii
import json
import numbers
import re
from dataclasses import fields
from typing import Any, Iterable, Mapping

from . import validate as V
from .config import RopeConfig, format_base

MAX_COMPARE = 3            # choices a page overlays besides its own config (4 curves in all)
MAX_SAVED = 4              # configs saved for comparison per session (and in the URL)
MAX_ENCODED_CHARS = 20_000  # longest encoded config (≤ rope_viz.ui.state.URL_VALUE_MAX_CHARS, one URL value)
BASE_PREFIX = "base "
SAVED_PREFIX = "saved "
BASE_CHOICES = ("100", "1000", "1e4", "5e4", "1e5", "5e5", "1e6", "5e6", "1e7", "1e8", "1e9")

_FIELDS = tuple(f.name for f in fields(RopeConfig))
_DEFAULTS = {f.name: f.default for f in fields(RopeConfig) if f.name != "head_dim"}
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


# -- the choices ------------------------------------------------------------------------------------------------------
def saved_key(slot: int) -> str:
    """The choice naming saved slot ``slot`` (1 … MAX_SAVED): ``"saved 1"``."""
    return f"{SAVED_PREFIX}{int(slot)}"


def saved_label(slot: int, cfg: RopeConfig) -> str:
    """How saved slot ``slot`` is shown (legend, selector, sidebar): ``"saved 1: d=128 base=1e6 L=32,768"``."""
    return f"{saved_key(slot)}: {cfg.label()}"


def options(saved: Mapping[int, RopeConfig] | None = None) -> list[str]:
    """The choices of a "compare with" selector: ``"base X"`` for each of ``BASE_CHOICES``, every preset name, then
    ``"saved N"`` for each saved slot (in slot order)."""
    from .presets import preset_names

    return [BASE_PREFIX + b for b in BASE_CHOICES] + list(preset_names()) + [saved_key(s) for s in sorted(saved or {})]


def option_label(item: str, saved: Mapping[int, RopeConfig] | None = None) -> str:
    """How a choice is shown in the selector: saved slots with their config, a base the way every legend and title
    writes bases (``format_base``: ``"base 1e4"`` → ``"base 10000"``, as the curve's legend says ``base=10000``),
    presets as they are."""
    slot = _saved_slot(item)
    if slot is not None and slot in (saved or {}):
        return saved_label(slot, saved[slot])
    if isinstance(item, str) and item.startswith(BASE_PREFIX):
        try:
            return BASE_PREFIX + format_base(float(item[len(BASE_PREFIX):]))
        except ValueError:
            pass
    return str(item)


def _saved_slot(item: Any) -> int | None:
    if isinstance(item, str) and item.startswith(SAVED_PREFIX) and item[len(SAVED_PREFIX):].isdigit():
        return int(item[len(SAVED_PREFIX):])
    return None


def resolve(cfg: RopeConfig, items: Iterable = (), saved: Mapping[int, RopeConfig] | None = None, *,
            limit: int = MAX_COMPARE) -> list[tuple[str, RopeConfig]]:
    """``(label, RopeConfig)`` for each entry of ``items`` (see the module docstring), at most ``limit`` of them.
    ``cfg`` is the config a base entry changes. ValueError naming the entry for anything else."""
    from .presets import get_preset

    saved = saved or {}
    if items is None:
        items = ()
    if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Iterable):
        raise ValueError(f"compare must be a list of entries ('base <number>', preset names, 'saved <N>'); got "
                         f"{V.shorten(items)}")
    out: list[tuple[str, RopeConfig]] = []
    for item in items:
        if isinstance(item, str) and item.startswith(BASE_PREFIX):
            try:
                item = float(item[len(BASE_PREFIX):])
            except ValueError:
                raise ValueError(f"compare entry {V.shorten(item)} must be 'base <number>'") from None
        slot = _saved_slot(item)
        if slot is not None:
            if slot not in saved:
                raise ValueError(f"compare entry {V.shorten(item)} names no saved config (saved: "
                                 f"{', '.join(saved_key(s) for s in sorted(saved)) or 'none'})")
            out.append((saved_label(slot, saved[slot]), saved[slot]))
        elif isinstance(item, str):
            p = get_preset(item)
            out.append((p.name, p.config))
        elif isinstance(item, numbers.Real) and not isinstance(item, bool):
            c = cfg.replace(base=V.real("compare base", item, 1.0, None, lo_open=True))
            out.append((c.label(), c))
        elif isinstance(item, RopeConfig):
            out.append((item.label(), item))
        elif isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[1], RopeConfig):
            out.append((str(item[0]), item[1]))
        else:
            raise ValueError(f"compare entries must be 'base <number>', a preset name, 'saved <N>' or a RopeConfig; "
                             f"got {V.shorten(item)}")
    if len(out) > limit:
        raise ValueError(f"compare must list at most {limit} configurations; got {len(out)}")
    return out


def with_main(cfg: RopeConfig, items: Iterable = (), saved: Mapping[int, RopeConfig] | None = None, *,
              limit: int = MAX_COMPARE) -> list[tuple[str, RopeConfig]]:
    """What a figure draws: ``(cfg.label(), cfg)`` first, then ``resolve(cfg, items, saved, limit=limit)``."""
    return [(cfg.label(), cfg)] + resolve(cfg, items, saved, limit=limit)


# -- a saved config as URL text -------------------------------------------------------------------------------------
def encode_config(cfg: RopeConfig) -> str:
    """``cfg`` as base64url text (see the module docstring). ValueError if it is longer than MAX_ENCODED_CHARS (a
    LongRoPE config with hundreds of long factors)."""
    d = {k: v for k, v in V.config("config", cfg).to_dict().items() if k not in _DEFAULTS or v != _DEFAULTS[k]}
    raw = json.dumps(d, separators=(",", ":"), allow_nan=False).encode()
    text = base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
    if len(text) > MAX_ENCODED_CHARS:
        raise ValueError(f"this config takes {len(text):,} characters in the page address; at most "
                         f"{MAX_ENCODED_CHARS:,} fit (its factor lists are too long to share)")
    return text


def decode_config(text: Any, field: str = "saved config") -> RopeConfig:
    """The RopeConfig ``encode_config`` wrote. ValueError starting with ``field`` for anything else: not text, too
    long, not base64url, not JSON, not an object, an unknown key, a value RopeConfig rejects (named), or a config
    ``encode_config`` could not write back (so a decoded config always goes back into the URL)."""
    if not isinstance(text, str) or len(text) > MAX_ENCODED_CHARS:
        raise ValueError(f"{field} must be text of at most {MAX_ENCODED_CHARS:,} characters; got {V.shorten(text)}")
    text = text.strip().rstrip("=")
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError(f"{field} must be base64url text (A–Z, a–z, 0–9, - and _); got {V.shorten(text)}")
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{field} must be base64url text; got {V.shorten(text)}") from None
    try:
        doc = V.json_document(raw, max_bytes=MAX_ENCODED_CHARS, max_depth=3, field=field)
        doc = V.mapping(field, doc)
        unknown = sorted(map(str, doc.keys() - set(_FIELDS)))
        if unknown:
            raise ValueError(f"unknown key(s) {V.shorten(', '.join(unknown), 40)}; allowed: {', '.join(_FIELDS)}")
        if "head_dim" not in doc:
            raise ValueError("head_dim is missing")
        cfg = RopeConfig(**doc)
        encode_config(cfg)     # what is read can be written back (1 → 1.0 can make the text longer than the cap)
        return cfg
    except ValueError as e:
        msg = str(e)
        raise ValueError(msg if msg.startswith(field) else f"{field}: {msg}") from None

