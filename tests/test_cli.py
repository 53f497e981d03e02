"""The CLI (`python -m rope_viz ...`): run for real in a subprocess and in-process through main(); --json output
compared with rope_viz.frequencies and with the closed form base^(−2i/r); bad input → exit 2, one line on stderr,
no traceback."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rope_viz import cli
from rope_viz.config import from_hf_config
from rope_viz.frequencies import attention_factor, inv_freq
from rope_viz.presets import get_preset, preset_names

try:
    from naive import naive_theta
except ImportError:  # tests/ run as a package
    from tests.naive import naive_theta

ROOT = Path(__file__).resolve().parents[1]

LLAMA_LIKE = {"architectures": ["LlamaForCausalLM"], "hidden_size": 256, "num_attention_heads": 4,
              "rope_theta": 50000.0, "max_position_embeddings": 2048, "rope_scaling": None}


def run_module(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "rope_viz", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=120)


def run_main(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def config_file(tmp_path):
    def write(obj, name="config.json"):
        p = tmp_path / name
        p.write_text(obj if isinstance(obj, str) else json.dumps(obj), encoding="utf-8")
        return str(p)
    return write


# -- real subprocess runs ------------------------------------------------------------------------------------------
def test_subprocess_freqs_json(config_file):
    path = config_file(LLAMA_LIKE)
    r = run_module("freqs", "--config", path, "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    cfg = from_hf_config(LLAMA_LIKE)
    np.testing.assert_array_equal(data["inv_freq"], inv_freq(cfg))                      # exact: JSON round trip
    np.testing.assert_allclose(data["inv_freq"], naive_theta(50000.0, 64), rtol=1e-15)   # closed form
    np.testing.assert_allclose(data["wavelength"], [2 * math.pi / t for t in naive_theta(50000.0, 64)], rtol=1e-14)
    assert data["attention_factor"] == 1.0
    assert (data["rope_type"], data["head_dim"], data["rotary_dim"], data["base"], data["context_length"]) == \
           ("default", 64, 64, 50000.0, 2048)


def test_subprocess_presets_and_table():
    r = run_module("presets")
    assert r.returncode == 0, r.stderr
    for name in preset_names():
        assert name in r.stdout
    r = run_module("freqs", "--preset", "gpt-neox-20b")
    assert r.returncode == 0, r.stderr
    assert "attention factor 1" in r.stdout
    table = [ln for ln in r.stdout.splitlines() if ln.strip()[:1].isdigit() and "(" in ln]
    assert len(table) == 12                    # rotary_dim 24 → 12 pairs
    assert table[0].split()[:3] == ["0", "(0,", "12)"]    # half layout of the rotary part


@pytest.mark.parametrize("args,needle", [
    (["freqs", "--config", "/nonexistent/config.json"], "--config must be a readable file"),
    (["freqs", "--preset", "no-such-model"], "preset must be a preset name"),
    (["freqs"], "--config"),
    (["no-such-command"], "invalid choice"),
])
def test_subprocess_errors(args, needle):
    r = run_module(*args)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rope-viz: error:") and needle in lines[0], r.stderr
    assert r.stdout == ""


# -- in-process main() ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["llama-3.1-8b", "phi-3-mini-128k", "deepseek-v2-lite", "qwen2.5-7b-yarn"])
def test_freqs_preset_json(capsys, name):
    cfg = get_preset(name).config
    for seq in (None, cfg.context_length):
        args = ["freqs", "--preset", name, "--json"] + ([] if seq is None else ["--seq-len", str(seq)])
        code, out, err = run_main(capsys, *args)
        assert code == 0, err
        data = json.loads(out)
        # the frequencies in effect over the sequence (the context when no --seq-len): transformers at seq_len
        np.testing.assert_array_equal(data["inv_freq"], inv_freq(cfg, seq or cfg.context_length))
        assert data["attention_factor"] == attention_factor(cfg, seq or cfg.context_length)
        assert data["rope_type"] == cfg.rope_type and data["scaling"]["rope_type"] == cfg.rope_type
        assert data["seq_len"] == (seq or cfg.context_length)
        np.testing.assert_allclose(data["rotations"], np.asarray(data["inv_freq"]) * data["seq_len"] / (2 * math.pi),
                                   rtol=1e-15)


def test_freqs_seq_len_dynamic(capsys, config_file):
    conf = {**LLAMA_LIKE, "rope_scaling": {"type": "dynamic", "factor": 2.0}}
    path = config_file(conf)
    code, out, _ = run_main(capsys, "freqs", "--config", path, "--seq-len", "8192", "--json")
    assert code == 0
    data = json.loads(out)
    # dynamic NTK at l = 8192 > L = 2048: b' = b·(s·l/L − (s − 1))^(r/(r−2)) (transformers' closed form)
    b = 50000.0 * (2.0 * 8192 / 2048 - 1.0) ** (64 / 62)
    np.testing.assert_allclose(data["inv_freq"], naive_theta(b, 64), rtol=1e-12)
    code, out, _ = run_main(capsys, "freqs", "--config", path, "--json")
    np.testing.assert_allclose(json.loads(out)["inv_freq"], naive_theta(50000.0, 64), rtol=1e-15)


def test_freqs_layout(capsys, config_file):
    path = config_file(LLAMA_LIKE)
    for layout, pair3 in (("half", [3, 35]), ("interleaved", [6, 7])):
        code, out, _ = run_main(capsys, "freqs", "--config", path, "--layout", layout, "--json")
        assert code == 0
        data = json.loads(out)
        assert data["layout"] == layout and data["channels"][3] == pair3
    code, out, _ = run_main(capsys, "freqs", "--preset", "llama-2-7b", "--layout", "interleaved", "--json")
    assert json.loads(out)["channels"][1] == [2, 3]


def test_freqs_table_readable(capsys):
    code, out, _ = run_main(capsys, "freqs", "--preset", "llama-3.1-8b")
    assert code == 0
    assert "inv_freq" in out and "wavelength" in out and "rotations" in out and "scaled/unscaled" in out
    rows = [ln.split() for ln in out.splitlines() if ln.strip()[:1].isdigit() and "(" in ln]
    assert len(rows) == 64
    ratios = [float(r[-1]) for r in rows]
    assert ratios[0] == 1.0 and ratios[-1] == 0.125     # llama3: high frequencies kept, low ones divided by 8


def test_presets_json(capsys):
    code, out, _ = run_main(capsys, "presets", "--json")
    assert code == 0
    data = json.loads(out)
    assert [d["name"] for d in data] == preset_names()
    for d in data:
        cfg = get_preset(d["name"]).config
        assert (d["head_dim"], d["base"], d["context_length"]) == (cfg.head_dim, cfg.base, cfg.context_length)
        assert d["sources"] and "scaling" in d
    code, out, _ = run_main(capsys, "presets", "Phi-3-mini-128k", "--json")
    one = json.loads(out)
    assert one["name"] == "phi-3-mini-128k" and len(one["config"]["scaling"]["long_factor"]) == 48
    assert set(one["sources"]) == set(one["hf_config"])
    code, out, _ = run_main(capsys, "presets", "deepseek-v2-lite")
    assert code == 0 and "source:" in out and "qk_rope_head_dim" in out


@pytest.mark.parametrize("content,needle", [
    ('{"hidden_size": 64,', "must be valid JSON"),
    ('[1, 2]', "must be an object"),
    ('{"head_dim": 7}', "head_dim must be even"),
    ('{"head_dim": 64, "rope_theta": 0.5}', "rope_theta must be a finite number in (1, "),
    ('{"head_dim": 64, "rope_scaling": {"type": "magic", "factor": 2}}', "rope_type must be one of"),
    ('{"head_dim": 64, "rope_scaling": {"rope_type": "llama3", "factor": 8}}', "needs key"),
    (b"\xff\xfe\x00garbage", "UTF-8"),
])
def test_bad_config_files(capsys, tmp_path, content, needle):
    p = tmp_path / "config.json"
    if isinstance(content, bytes):
        p.write_bytes(content)
    else:
        p.write_text(content)
    code, out, err = run_main(capsys, "freqs", "--config", str(p))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("rope-viz: error:") and needle in err, err
    assert "Traceback" not in err


@pytest.mark.parametrize("args,needle", [
    (["freqs", "--config", "a.json", "--preset", "llama-2-7b"], "not allowed with"),
    (["freqs", "--preset", "llama-2-7b", "--seq-len", "0"], "--seq-len"),
    (["freqs", "--preset", "llama-2-7b", "--seq-len", "abc"], "--seq-len must be an integer in [2, "),
    (["freqs", "--preset", "llama-2-7b", "--layout", "diagonal"], "invalid choice"),
    (["presets", "nope"], "preset must be a preset name"),
    ([], "choose a command"),
])
def test_usage_errors(capsys, args, needle):
    code, out, err = run_main(capsys, *args)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("rope-viz: error:") and needle in err, err


def test_directory_as_config(capsys, tmp_path):
    code, _, err = run_main(capsys, "freqs", "--config", str(tmp_path))
    assert code == 2 and err.startswith("rope-viz: error: --config must be a readable file")


def test_help_exits_zero(capsys):
    code, out, _ = run_main(capsys, "--help")
    assert code == 0 and "freqs" in out and "presets" in out


def test_parser_and_registration_hook(capsys, monkeypatch):
    parser = cli.build_parser()
    assert parser.parse_args(["freqs", "--preset", "llama-2-7b"]).func is cli.run_freqs

    def register_hello(sub):
        p = sub.add_parser("hello")
        p.add_argument("--fail", action="store_true")

        def run(args):
            if args.fail:
                raise ValueError("hello failed")
            print("hi")
            return 0
        p.set_defaults(func=run)
        return p

    monkeypatch.setattr(cli, "SUBCOMMANDS", dict(cli.SUBCOMMANDS))
    cli.register_subcommand("hello", register_hello)
    assert run_main(capsys, "hello")[:2] == (0, "hi\n")
    code, _, err = run_main(capsys, "hello", "--fail")
    assert code == 2 and err == "rope-viz: error: hello failed\n"
