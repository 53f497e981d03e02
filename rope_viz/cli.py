"""The command line: ``python -m rope_viz freqs|presets|export``.

    python -m rope_viz freqs --config config.json [--seq-len N] [--layout half|interleaved] [--json]
    python -m rope_viz freqs --preset llama-3.1-8b [--seq-len N] [--json]
    python -m rope_viz presets [NAME] [--json]
    python -m rope_viz export ...            (rope_viz.export; see ``python -m rope_viz export --help``)

``freqs`` prints, per rotated pair, its channels, θ_i (``inv_freq``, radians per token), the wavelength 2π/θ_i in
tokens and the number of full turns within the context (``--seq-len``, default the model's context length), plus the
attention factor; ``--json`` prints the same as one JSON object (keys ``inv_freq``, ``wavelength``, ``rotations``,
``attention_factor``, ``rope_type``, ``head_dim``, ``rotary_dim``, ``base``, ``context_length``, ``seq_len``, ...).
``presets`` lists the real-model presets; ``presets NAME`` shows one with the source of each value.

Bad input (missing or unreadable file, invalid JSON, an invalid config, an unknown preset, bad arguments) prints one
line ``rope-viz: error: ...`` on stderr and exits with status 2, without a traceback.

Adding a sub-command: write ``registrar(subparsers) -> argparse.ArgumentParser`` that calls
``subparsers.add_parser(name, ...)``, adds its arguments and ``set_defaults(func=handler)`` with
``handler(args) -> int``; then ``register_subcommand(name, registrar)`` (or add it to ``SUBCOMMANDS`` here).
``build_parser()`` calls every registrar, in order.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Callable, Sequence

import numpy as np

from . import validate as V
from .config import CONTEXT_MAX, HF_CONFIG_MAX_BYTES, RopeConfig, format_base, from_hf_config

# What a fresh app session and a command line without --config / --preset start from: Llama 2 7B's RoPE.
DEFAULT_CONFIG = RopeConfig(head_dim=128, base=10000.0, context_length=4096)

PROG = "rope-viz"

Registrar = Callable[[Any], argparse.ArgumentParser]


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose usage errors are one line on stderr (``rope-viz: error: ...``), exit status 2."""

    def error(self, message: str):  # noqa: D401 (argparse API)
        self.exit(2, f"{PROG}: error: {message} (see {self.prog} --help)\n")


def _fail(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 2


# -- loading a config ----------------------------------------------------------------------------------------------
CONFIG_MAX_BYTES = HF_CONFIG_MAX_BYTES        # a config.json file is read up to this size, never more


def read_config_file(path: str) -> bytes:
    """The bytes of a config.json file, read with a bound (``CONFIG_MAX_BYTES``, ``validate.read_capped``): /dev/zero,
    a FIFO of junk or a huge file is refused after that many bytes instead of being read until memory runs out."""
    return V.read_capped("--config", path, CONFIG_MAX_BYTES)


def preset_name(name: str) -> str:
    """The canonical name (slug) of preset ``name``, matched as ``rope_viz.presets.get_preset`` does (also used for
    the app's ``?preset=``); ValueError with the shortened, escaped name if there is none."""
    from .presets import get_preset, preset_names

    try:
        return get_preset(name if isinstance(name, str) and len(name) <= 200 else "").name
    except ValueError:
        raise ValueError(f"preset must be a preset name such as {preset_names()[0]} (list them: python -m rope_viz "
                         f"presets); got {V.shorten(name)}") from None


def preset_config(name: str) -> RopeConfig:
    """The RopeConfig of preset ``name`` (see ``preset_name``)."""
    from .presets import get_preset

    return get_preset(preset_name(name)).config


def load_config(config_path: str | None = None, preset: str | None = None, layout: str | None = None,
                **overrides: Any) -> RopeConfig:
    """The RopeConfig a command line describes, for every command: a config.json file (``read_config_file``, then
    ``from_hf_config``) or a preset — at most one; neither gives ``DEFAULT_CONFIG`` (d = 128, base 1e4, 4K, the
    app's starting point) — then the pair ``layout`` and any RopeConfig field in ``overrides`` (None = keep), each
    checked by RopeConfig. ValueError with a one-line message for anything wrong."""
    if config_path is not None and preset is not None:
        raise ValueError("give at most one of --config FILE or --preset NAME")
    if config_path is not None:
        data = read_config_file(config_path)
        try:
            cfg = from_hf_config(data, layout=layout or "half")
        except ValueError as e:
            raise ValueError(f"{V.shorten(config_path, 80)}: {e}") from None
    elif preset is not None:
        cfg = preset_config(preset)
    else:
        cfg = DEFAULT_CONFIG
    changes = {k: v for k, v in {"layout": layout, **overrides}.items() if v is not None}
    changes = {k: v for k, v in changes.items() if k != "scaling" or v != "keep"}
    return cfg.replace(**changes) if any(getattr(cfg, k) != v for k, v in changes.items()) else cfg


# -- freqs -----------------------------------------------------------------------------------------------------------
def frequency_table(cfg: RopeConfig, seq_len: int | None = None) -> dict[str, Any]:
    """Everything ``freqs`` prints, as plain JSON-ready data.

    Keys: rope_type, label, head_dim, rotary_dim, n_pairs, base, layout, context_length, original_context_length,
    seq_len (the length the rotations are counted over: ``seq_len`` or the context length), scaling (dict or None),
    attention_factor, and per pair (lists of length r/2): pair, channels ([a, b] indices rotated together),
    inv_freq (θ_i, rad/token), unscaled_inv_freq (base^(−2i/r)), wavelength (2π/θ_i, tokens), rotations
    (seq_len·θ_i/2π, full turns within seq_len). The frequencies and the attention factor are those in effect over
    seq_len tokens (``effective_inv_freq``: dynamic NTK's grown base, LongRoPE's long factors past the original
    context); the per-pair columns come from ``analysis.offsets.pair_cycles``."""
    from .analysis.offsets import pair_cycles
    from .frequencies import default_inv_freq, effective_attention_factor
    from .rotation import pair_indices

    length = cfg.context_length if seq_len is None else V.integer("seq_len", seq_len, 2, CONTEXT_MAX)
    t = pair_cycles(cfg, length)                                      # θ = effective_inv_freq(cfg, length), (p,)
    af = effective_attention_factor(cfg, length)
    a_idx, b_idx = pair_indices(cfg)                                  # (p,), (p,)
    return {
        "rope_type": cfg.rope_type,
        "label": cfg.label(),
        "head_dim": cfg.head_dim,
        "rotary_dim": cfg.rotary_dim,
        "n_pairs": cfg.n_pairs,
        "base": cfg.base,
        "layout": cfg.layout,
        "context_length": cfg.context_length,
        "original_context_length": cfg.original_context_length,
        "seq_len": length,
        "scaling": cfg.to_dict()["scaling"],
        "attention_factor": float(af),
        "pair": list(range(cfg.n_pairs)),
        "channels": [[int(a), int(b)] for a, b in zip(np.asarray(a_idx), np.asarray(b_idx))],
        "inv_freq": t["theta"].tolist(),
        "unscaled_inv_freq": default_inv_freq(cfg.base, cfg.rotary_dim).tolist(),
        "wavelength": t["wavelength"].tolist(),
        "rotations": t["rotations"].tolist(),
    }


def _fmt_table(rows: list[list[str]], header: list[str], right: set[int]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]

    def line(cells):
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def format_frequency_table(t: dict[str, Any]) -> str:
    """The human-readable form of ``frequency_table``'s result."""
    scaled = t["scaling"] is not None
    head = [
        f"RoPE  {t['label']}",
        f"  rope_type {t['rope_type']}, head_dim {t['head_dim']}, rotary_dim {t['rotary_dim']} "
        f"({t['n_pairs']} pairs, layout {t['layout']}), base {format_base(t['base'])}",
        f"  context {t['context_length']:,} tokens"
        + (f" (original {t['original_context_length']:,})" if t["original_context_length"] != t["context_length"]
           else "")
        + f"; rotations counted over {t['seq_len']:,} tokens",
        f"  attention factor {t['attention_factor']:.6g} (logits scale by its square, "
        f"{t['attention_factor'] ** 2:.6g})",
    ]
    if scaled:
        head.append("  scaling " + json.dumps({k: v for k, v in t["scaling"].items()
                                               if k not in ("short_factor", "long_factor")})
                    + (" + short/long factor lists" if "short_factor" in t["scaling"] else ""))
    header = ["pair", "channels", "inv_freq (rad/tok)", "wavelength (tok)", "rotations"]
    if scaled:
        header.append("scaled/unscaled")
    rows = []
    for i in t["pair"]:
        a, b = t["channels"][i]
        row = [str(i), f"({a}, {b})", f"{t['inv_freq'][i]:.6e}", f"{t['wavelength'][i]:,.1f}",
               f"{t['rotations'][i]:,.3f}"]
        if scaled:
            row.append(f"{t['inv_freq'][i] / t['unscaled_inv_freq'][i]:.4f}")
        rows.append(row)
    return "\n".join(head) + "\n\n" + _fmt_table(rows, header, right={0, 2, 3, 4, 5})


def _add_source_args(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--config", metavar="FILE", help="a model's config.json (transformers, either schema)")
    src.add_argument("--preset", metavar="NAME", help="a preset model (list them: python -m rope_viz presets)")
    p.add_argument("--layout", choices=("half", "interleaved"),
                   help="pair layout: half = (i, i + r/2) as transformers (default), interleaved = (2i, 2i + 1)")


def _register_freqs(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("freqs", help="per-pair frequencies, wavelengths, rotations and the attention factor",
                       description="Print inv_freq (θ_i), wavelengths, rotations within the context and the "
                                   "attention factor of a config.json or a preset.")
    _add_source_args(p)
    p.add_argument("--seq-len", metavar="N",
                   help=f"sequence length in tokens, 2 … {CONTEXT_MAX:,}: selects the dynamic / LongRoPE "
                        "frequencies in effect and the length the rotations are counted over (default: the context "
                        "length)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.set_defaults(func=run_freqs)
    return p


def run_freqs(args: argparse.Namespace) -> int:
    """Handler of ``freqs``."""
    cfg = load_config(args.config, args.preset, args.layout)
    seq_len = None if args.seq_len is None else V.integer("--seq-len", args.seq_len, 2, CONTEXT_MAX, text=True)
    t = frequency_table(cfg, seq_len)
    print(json.dumps(t, indent=1) if args.json else format_frequency_table(t))
    return 0


# -- presets ---------------------------------------------------------------------------------------------------------
def _register_presets(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("presets", help="list the real-model presets (or show one with its sources)",
                       description="List the presets: name, head_dim, base, scaling, context. With NAME: that "
                                   "preset's config.json values and the source of each.")
    p.add_argument("name", nargs="?", help="show this preset in detail")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run_presets)
    return p


def run_presets(args: argparse.Namespace) -> int:
    """Handler of ``presets``."""
    from .presets import PRESETS, get_preset

    if args.name:
        p = get_preset(preset_name(args.name))
        data = {**p.summary(), "notes": p.notes, "hf_config": p.hf_config, "sources": p.sources,
                "config": p.config.to_dict()}
        if args.json:
            print(json.dumps(data, indent=1))
            return 0
        lines = [f"{p.name}  ({p.title}, https://huggingface.co/{p.repo_id})", f"  {p.config.label()}",
                 f"  scaling: {data['scaling']}", "", p.notes, "", "config.json values and their sources:"]
        for k, v in p.hf_config.items():
            shown = json.dumps(v)
            if len(shown) > 100:
                shown = shown[:97] + "..."
            lines.append(f"  {k} = {shown}")
            lines.append(f"      source: {p.sources.get(k, '(none)')}")
        print("\n".join(lines))
        return 0
    rows = [p.summary() for p in PRESETS.values()]
    if args.json:
        print(json.dumps([{**r, "notes": p.notes, "sources": p.sources}
                          for r, p in zip(rows, PRESETS.values())], indent=1))
        return 0
    header = ["name", "head_dim", "rotary", "base", "scaling", "context", "model"]
    table = [[r["name"], str(r["head_dim"]), str(r["rotary_dim"]), format_base(r["base"]), r["scaling"],
              f"{r['context_length']:,}", r["title"]] for r in rows]
    print(_fmt_table(table, header, right={1, 2, 3, 5}))
    print("\nDetails and sources: python -m rope_viz presets NAME")
    return 0


# -- export (rope_viz.export owns it) ------------------------------------------------------------------------------
def _register_export(sub) -> argparse.ArgumentParser | None:
    try:
        from .export import add_export_parser
    except ModuleNotFoundError as e:  # plotly missing: the other commands still work
        if not e.name or e.name.split(".")[0] == "rope_viz":
            raise
        return None
    return add_export_parser(sub)


# -- registry, parser, main ------------------------------------------------------------------------------------------
def _register_model(sub) -> argparse.ArgumentParser:
    """``model list|inspect|ppl``: real models (rope_viz.models.cli; torch/transformers imported only when run)."""
    from .models.cli import register
    return register(sub)


SUBCOMMANDS: dict[str, Registrar] = {
    "freqs": _register_freqs,
    "presets": _register_presets,
    "export": _register_export,
    "model": _register_model,
}


def register_subcommand(name: str, registrar: Registrar) -> None:
    """Add (or replace) a sub-command: ``registrar(subparsers)`` must call ``subparsers.add_parser(name, ...)`` and
    ``set_defaults(func=handler)`` with ``handler(args) -> int`` (raise ValueError for bad input)."""
    SUBCOMMANDS[name] = registrar


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m rope_viz`` argument parser, with one sub-parser per entry of ``SUBCOMMANDS``."""
    parser = _Parser(prog="python -m rope_viz",
                     description="rope-viz: see, teach and check Rotary Position Embeddings (RoPE).")
    from . import __version__
    parser.add_argument("--version", action="version", version=f"rope-viz {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for registrar in SUBCOMMANDS.values():
        registrar(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 2 bad input). Never raises for bad input."""
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as e:  # --help/--version (0) or a usage error (2, message already printed)
            return e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
        if getattr(args, "func", None) is None:
            return _fail("choose a command: " + ", ".join(SUBCOMMANDS) + " (see python -m rope_viz --help)")
        return int(args.func(args) or 0)
    except BrokenPipeError:  # e.g. piped into `head`: stop quietly (Python docs, "Note on SIGPIPE")
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return 0
    except (ValueError, OSError) as e:
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        return _fail(msg)
