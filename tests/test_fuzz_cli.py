"""Hostile command lines: generated argument sets through ``rope_viz.cli.main`` in-process. Each ends with exit 0, or
exit 2 and exactly one line on stderr (``rope-viz: error: ...``), never a traceback. ROPE_VIZ_FUZZ_EXAMPLES raises
the number of generated cases (default: the CI budget)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rope_viz import cli

N = int(os.environ.get("ROPE_VIZ_FUZZ_EXAMPLES", "0")) or None
_DIR = Path(tempfile.mkdtemp(prefix="rope_viz_fuzz_cli_"))


def _file(name: str, text: str | bytes) -> str:
    p = _DIR / name
    p.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return str(p)


GOOD = {"head_dim": 64, "rope_theta": 10000.0, "max_position_embeddings": 2048}
FILES = [
    "/dev/zero", "/dev/urandom", "/dev/null", str(_DIR), "/nonexistent/config.json",
    _file("good.json", json.dumps(GOOD)),
    _file("nested.json", "[" * 100_000 + "]" * 100_000),
    _file("nested_obj.json", '{"a":' * 5000 + "1" + "}" * 5000),
    _file("bigint.json", '{"head_dim": ' + "9" * 400 + "}"),
    _file("inf.json", '{"head_dim": 64, "rope_theta": Infinity}'),
    _file("e400.json", '{"head_dim": 64, "rope_theta": 1e400}'),
    _file("nan.json", '{"head_dim": 64, "rope_theta": NaN}'),
    _file("list_type.json", json.dumps({**GOOD, "rope_scaling": {"rope_type": ["yarn"], "factor": 2}})),
    _file("obj_type.json", json.dumps({**GOOD, "rope_scaling": {"rope_type": {"a": 1}, "factor": 2}})),
    _file("big_string.json", json.dumps({**GOOD, "rope_scaling": {"rope_type": "x" * 900_000}})),
    _file("too_big.json", " " * 1_100_000 + "{}"),
    _file("latin1.json", b'{"head_dim": 64, "name": "\xe9"}'),
    _file("markdown.json", json.dumps({**GOOD, "rope_scaling": {"rope_type": "[x](http://EVIL)\n\n<img>"}})),
]
HOSTILE = ["0", "-1", "1", "2", "7", "64", "1e308", "1e400", "nan", "inf", "-inf", "1" * 60, "9" * 4000, "",
           "abc", "[1]", "{}", "null", "true", "0x10", "1_000", "4096", "131072", "16777217", "[x](http://EVIL)",
           "\x00", "\n\nerror", "ü" * 100]
OPTION_VALUES = ["1e400", "NaN", "-Infinity", "9" * 400, "[" * 50 + "]" * 50, "true", "5", "0", "-3", "1e308",
                 '"x"', "[1,2,3]", '{"a": 1}', "abc", "", "[[[[1]]]]"]
FIGURES = ["freq_wavelengths", "freq_polar", "intuition_invariance", "distance_curves", "nope", "", "x" * 500]
OPTIONS = ["pair", "position", "m", "n", "max_shift", "log_x", "n_bins", "max_distance", "zz", "1bad", ""]


def _flag(name, values):
    return st.tuples(st.just(name), st.sampled_from(values)).map(list)


_source = st.one_of(_flag("--config", FILES), _flag("--preset", ["llama-3.1-8b", "phi-3-mini-128k", "x" * 300,
                                                                 "[a](http://EVIL)", ""]), st.just([]))
_freqs = st.builds(lambda src, extra: ["freqs", *src, *sum(extra, [])], _source,
                   st.lists(st.one_of(_flag("--seq-len", HOSTILE), _flag("--layout", ["half", "diagonal", ""]),
                                      st.just(["--json"])), max_size=3))
_export = st.builds(
    lambda fig, src, extra, opts: ["export", fig, *src, *sum(extra, []),
                                   *sum((["--option", f"{k}={v}"] for k, v in opts), []),
                                   "--format", "csv", "--out", str(_DIR / "out.csv")],
    st.sampled_from(FIGURES), _source,
    st.lists(st.one_of(_flag("--head-dim", HOSTILE), _flag("--base", HOSTILE), _flag("--context-length", HOSTILE),
                       _flag("--rotary-fraction", HOSTILE),
                       _flag("--scaling-json", ['{"rope_type": "yarn", "factor": 1e400}', "null", "[" * 100,
                                                '{"rope_type": "linear", "factor": 2}', "9" * 400, "{"])),
             max_size=3),
    st.lists(st.tuples(st.sampled_from(OPTIONS), st.sampled_from(OPTION_VALUES)), max_size=2))
_presets = st.builds(lambda name, j: ["presets", *name, *j], st.sampled_from([[], ["llama-3.1-8b"], ["nope"],
                                                                              ["x" * 1000]]),
                     st.sampled_from([[], ["--json"]]))
_junk = st.lists(st.sampled_from(["--config", "--preset", "--seq-len", "--json", "freqs", "export", "-h", "--bogus",
                                  "x", "1e400", "--option"]), max_size=5)
_argv = st.one_of(_freqs, _export, _presets, _junk)


def _run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


def _check(argv):
    code, out, err = _run(argv)
    assert "Traceback" not in err and "Traceback" not in out, (argv, err[-500:])
    assert code in (0, 2), (argv, code, err[-300:])
    if code == 2:
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("rope-viz: error:"), (argv, err[:500])
        assert len(lines[0]) <= 400, (argv, lines[0][:200])


@settings(max_examples=N or 220, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(_argv)
def test_generated_command_lines_exit_0_or_2_with_one_line(argv):
    _check(argv)


@pytest.mark.parametrize("argv", [
    ["freqs", "--config", "/dev/zero"],
    ["freqs", "--config", "/dev/urandom"],
    ["freqs", "--config", FILES[6]],
    ["freqs", "--config", FILES[8]],
    ["freqs", "--preset", "llama-3.1-8b", "--seq-len", "1" * 60],
    ["export", "freq_polar", "--option", "pair=1e400", "--format", "csv", "--out", str(_DIR / "o.csv")],
    ["export", "freq_polar", "--head-dim", "1e308", "--format", "csv", "--out", str(_DIR / "o.csv")],
])
def test_issue_11_command_lines(argv):
    code, _, err = _run(argv)
    assert code == 2 and len(err.splitlines()) == 1 and err.startswith("rope-viz: error:"), err[:300]


# values of the wrong kind for each kind of figure option (``export.check_options``)
WRONG = {"bool": ["maybe", 1, 0, [1, 2], {"a": 1}, "true"],
         "int": ["abc", [1, 2], -1, 2.5, 1e300, True, {"a": 1}, "7"],
         "float": ["x", [1.0], -1.0, 1e13, True, {"a": 1}],
         "str": [5, [1], True, {"a": 1}],
         "list": ["foo", 5, True, {"a": 1}, [[1]], [True], list(range(65))]}


def _option_cases():
    from rope_viz.export import DATA_OPTIONS, _option_kinds, figure_options
    from rope_viz.figures import figures
    import typing

    for name, spec in figures().items():
        hints = typing.get_type_hints(spec.fn)
        for key, default in figure_options(spec.fn).items():
            if key in DATA_OPTIONS:
                continue
            kinds, _ = _option_kinds(hints.get(key), default)
            kind = next(k for k in ("bool", "int", "float", "str", "list") if k in kinds)
            for bad in WRONG[kind]:
                yield name, key, bad


def test_every_figure_option_rejects_a_value_of_the_wrong_kind_naming_the_option():
    """Before one check per option kind, `--option n_bins=abc` gave "invalid literal for int() with base 10",
    `quantities=foo` was read letter by letter, `log_x=maybe` ran as true, `max_position=-1` was clamped and
    `result={"a":1}` raised a KeyError traceback. Every option of every figure, every wrong kind: a ValueError that
    starts with the option's name."""
    from rope_viz.export import check_options
    from rope_viz.figures import figures

    n = 0
    for name, key, bad in _option_cases():
        with pytest.raises(ValueError, match=f"^--option {key} "):
            check_options(figures()[name].fn, {key: bad}, name)
        n += 1
    assert n > 200


@pytest.mark.parametrize("argv,named", [
    (["export", "model_pair_heatmap", "--option", 'result={"a":1}'], "--option result is measured data"),
    (["export", "model_ppl_position", "--option", "runs=abc"], "--option runs is measured data"),
    (["export", "distance_curves", "--option", "log_x=maybe"], "--option log_x must be true or false"),
    (["export", "distance_curves", "--option", "quantities=foo"], "--option quantities must be a JSON list"),
    (["export", "kernel_phase_error", "--option", "max_position=-1"], "--option max_position must be an integer"),
    (["export", "intuition_rotation", "--option", 'pairs=["a"]'], "pair index must be an integer in [0, 63]"),
])
def test_bad_option_values_exit_2_with_one_line_naming_the_option(argv, named):
    code, _, err = _run([*argv, "--format", "csv", "--out", str(_DIR / "o.csv")])
    assert code == 2 and len(err.splitlines()) == 1 and err.startswith(f"rope-viz: error: {named}"), err[:300]


def test_good_option_values_still_draw():
    from rope_viz.export import check_options
    from rope_viz.figures import figures

    got = check_options(figures()["distance_curves"].fn, {"log_x": False, "n_bins": 600.0, "quantities": ["bound"],
                                                          "compare": ["llama-3.1-8b", 50000], "max_distance": None})
    assert got == {"log_x": False, "n_bins": 600, "quantities": ["bound"], "compare": ["llama-3.1-8b", 50000],
                   "max_distance": None} and isinstance(got["n_bins"], int)
    code, _, err = _run(["export", "distance_curves", "--option", "n_bins=600", "--option", 'quantities=["bound"]',
                         "--format", "csv", "--out", str(_DIR / "ok.csv")])
    assert code == 0, err


@pytest.mark.parametrize("config", [["--head-dim", "2"], ["--head-dim", "64", "--context-length", "2"],
                                    ["--scaling-json", '{"rope_type": "yarn", "factor": 1024, "attention_factor": 100}'],
                                    ["--preset", "phi-3-mini-128k"]],
                         ids=["d2", "L2", "yarn-max", "phi3"])
def test_every_figure_at_extreme_configs_exports_or_exits_2(config, tmp_path):
    """Every config-drawn figure exported (CSV) at an extreme config with its default options: a file, or exit 2 with
    one line saying why (e.g. the aliasing map needs 3 tokens). ``freq_polar`` at L = 2 exited 2 ('position must be in
    [0, 2] tokens, got 100'): its default position now follows the context, as on the page."""
    from rope_viz.figures import figures
    ok = 0
    for name in figures():
        if name.startswith(("model", "kernel_bench")):
            continue
        out = tmp_path / f"{name}.csv"
        _check(["export", name, *config, "--format", "csv", "--out", str(out)])
        ok += out.exists()
    assert ok >= 20
    if "2" in config and "--context-length" in config:
        assert (tmp_path / "freq_polar.csv").exists()
