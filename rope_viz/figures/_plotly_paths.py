"""A bounded cache for plotly.py's property-path parser: ~40 % off building a figure.

plotly.py turns every property name it is given with an underscore, dot or bracket ("xaxis_title", "error_y",
"marker.line.color", "annotations[0]") into a key tuple with ``plotly.basedatatypes._str_to_dict_path_full``, a pure
function of the string that splits it character class by character class, and it does so again on every access:
building the Context extension page's figures for a new factor called it ~2,000 times, 40 % of the build (numbers:
scripts/bench_ab.py and tests/test_plotly_paths.py). The parse depends on the string alone, so it is memoized here
(bounded LRU); the original is kept as ``__wrapped__``. Installed once, when rope_viz.figures is imported; if a
plotly release renames the function, nothing is patched and figures are built the slow way.
"""

from __future__ import annotations

import functools

import plotly.basedatatypes as _bdt

CACHE_SIZE = 4096


def install() -> bool:
    """Memoize plotly's path parser (idempotent). Returns whether the cache is in place."""
    original = getattr(_bdt, "_str_to_dict_path_full", None)
    if original is None:
        return False
    if hasattr(original, "cache_info"):
        return True

    @functools.lru_cache(maxsize=CACHE_SIZE)
    def _cached(path: str) -> tuple[tuple, tuple]:
        keys, positions = original(path)
        return tuple(keys), tuple(positions)               # immutable: the cached value is shared

    @functools.wraps(original)
    def parse(path):
        try:
            return _cached(path)
        except TypeError:                                  # an unhashable path: parse it as plotly would
            return original(path)

    parse.cache_info = _cached.cache_info                  # type: ignore[attr-defined]
    parse.cache_clear = _cached.cache_clear                # type: ignore[attr-defined]
    _bdt._str_to_dict_path_full = parse
    return True
