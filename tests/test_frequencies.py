"""rope_viz.frequencies against independent references.

1. transformers (5.23) as the oracle, for every rope_type it ships (default, linear, dynamic, yarn, llama3, longrope)
   over hypothesis-drawn configs (partial rotary, base 10 … 1e9, head_dim 32 … 256, factors, every optional key):
     * transformers' own code re-run in float64 (``_float64``: the same function with ``torch.float``/``float32``
       mapped to float64) must match ours to 1e-11 relative on every pair: same formula, exact arithmetic;
     * transformers as shipped (float32) must match ours to 2e-6 relative. transformers rounds to float32 in places
       where a large factor amplifies the rounding (llama3's smooth factor next to the low-frequency edge, YaRN's
       1 − γ at the top of the ramp: rel. error ≈ ε₃₂·s). Such pairs are skipped explicitly — pairs whose float32
       llama3 band differs from the float64 one, and pairs where transformers' float32 output is itself more than
       1e-6 away from its own float64 replay — never by loosening the tolerance; the tests assert that most pairs
       were compared.
   The transformers config is built from ``RopeConfig.to_hf_dict()`` (→ ``LlamaConfig``), and separately by hand in
   the old schema (``rope_theta`` + ``rope_scaling`` with ``type``) to test ``from_hf_config`` on the same dict.
2. "ntk" (not in transformers): the closed form of YaRN Eq. 16 written out here, and the literature's numbers.
3. The papers' numbers, recomputed by hand from their formulas (YaRN arXiv:2309.00071, LongRoPE arXiv:2402.13753,
   Llama 3.1's apply_scaling, transformers' dynamic NTK closed form).
"""

from __future__ import annotations

import math
import types

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rope_viz.config import RopeConfig, from_hf_config
from rope_viz.frequencies import (ROPE_FREQUENCY_FUNCTIONS, attention_factor, default_inv_freq, dynamic_base,
                                  effective_attention_factor, effective_inv_freq, effective_parameters,
                                  frequency_ratio, inv_freq, llama3_smooth, longrope_factor, ntk_base,
                                  rope_parameters, wavelengths, yarn_correction_range, yarn_get_mscale, yarn_ramp)

from naive import naive_theta  # tests/ is on sys.path (conftest.py)

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
from transformers import LlamaConfig  # noqa: E402
from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS  # noqa: E402
from transformers.models.gpt_neox.modeling_gpt_neox import GPTNeoXRotaryEmbedding  # noqa: E402
from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding  # noqa: E402

transformers.logging.set_verbosity_error()  # its config validation warns about e.g. yarn factor ≠ L/L_orig

REL32 = 2e-6     # ours (float64) vs transformers as shipped (float32)
REL64 = 1e-11    # ours vs transformers' code replayed in float64
F32_SELF = 1e-6  # transformers float32 vs its own float64 replay: beyond this, the pair measures its rounding


# -- oracle plumbing ----------------------------------------------------------------------------------------------
class _Torch64:
    """``torch`` with ``torch.float`` / ``torch.float32`` meaning float64: transformers' functions hard-code float32."""
    float = torch.float64
    float32 = torch.float64

    def __getattr__(self, name):
        return getattr(torch, name)


def _float64(fn):
    """The same function (same code object) with its module global ``torch`` replaced by ``_Torch64``, and
    ``Tensor.float()`` meaning ``.double()`` while it runs (longrope calls ``.float()``)."""
    fn = getattr(fn, "__func__", fn)
    g = dict(fn.__globals__)
    g["torch"] = _Torch64()
    replay = types.FunctionType(fn.__code__, g, fn.__name__, fn.__defaults__, fn.__closure__)

    def run(*args, **kwargs):
        original = torch.Tensor.float
        torch.Tensor.float = torch.Tensor.double
        try:
            return replay(*args, **kwargs)
        finally:
            torch.Tensor.float = original
    return run


def _llama_config(hf: dict) -> LlamaConfig:
    head_dim = hf.get("head_dim") or hf["hidden_size"] // hf["num_attention_heads"]
    extra = {"vocab_size": 8, "num_hidden_layers": 1}
    if "hidden_size" not in hf:
        extra.update(hidden_size=2 * head_dim, num_attention_heads=2, num_key_value_heads=2)
    return LlamaConfig(**hf, **extra)


def _hf_fn(rope_type: str, partial: bool):
    if rope_type == "default":
        # LlamaRotaryEmbedding's default ignores partial_rotary_factor (Llama is fully rotary); GPT-NeoX's honours it.
        cls = GPTNeoXRotaryEmbedding if partial else LlamaRotaryEmbedding
        return cls.compute_default_rope_parameters
    return ROPE_INIT_FUNCTIONS[rope_type]


def transformers_params(hf: dict, rope_type: str, partial: bool, seq_len=None):
    """(inv_freq float32→float64, af) and the float64 replay (inv_freq, af) from a fresh LlamaConfig each time
    (transformers' standardisation mutates the config)."""
    fn = _hf_fn(rope_type, partial)
    kw = {} if rope_type == "default" else {"device": None, "seq_len": seq_len}
    inv32, af32 = fn(_llama_config(hf), **kw)
    inv64, af64 = _float64(fn)(_llama_config(hf), **kw)
    assert inv32.dtype == torch.float32 and inv64.dtype == torch.float64
    return (inv32.double().numpy(), float(af32)), (inv64.numpy(), float(af64))


def _llama3_band(wl, sc):
    lo_wl = sc["original_max_position_embeddings"] / sc["low_freq_factor"]
    hi_wl = sc["original_max_position_embeddings"] / sc["high_freq_factor"]
    return np.where(wl < hi_wl, 0, np.where(wl > lo_wl, 2, 1))


def llama3_float32_flips(cfg: RopeConfig) -> np.ndarray:
    """Pairs whose llama3 band (keep / smooth / divide) differs between float64 and transformers' float32
    wavelengths — a wavelength within float32 rounding of a threshold."""
    r = cfg.rotary_dim
    inv32 = 1.0 / (cfg.base ** (torch.arange(0, r, 2, dtype=torch.int64).to(dtype=torch.float) / r))
    wl32 = (2 * math.pi / inv32).double().numpy()
    wl64 = 2 * math.pi / np.array(naive_theta(cfg.base, r))
    return _llama3_band(wl32, cfg.scaling) != _llama3_band(wl64, cfg.scaling)


COMPARED = {"pairs": 0, "skipped": 0}


def check_against_transformers(cfg: RopeConfig, hf: dict, seq_len=None, ours=None):
    """Assert ours == transformers (float64 replay: REL64 on all pairs; float32: REL32 on the well-conditioned pairs).
    Returns the number of pairs skipped in the float32 comparison."""
    ours_inv, ours_af = rope_parameters(cfg, seq_len) if ours is None else ours
    (t32, af32), (t64, af64) = transformers_params(hf, cfg.rope_type, cfg.rotary_fraction != 1.0, seq_len)
    assert ours_inv.shape == t64.shape == (cfg.n_pairs,)
    np.testing.assert_allclose(ours_inv, t64, rtol=REL64, atol=0, err_msg=f"float64 replay, {cfg}")
    assert ours_af == pytest.approx(af64, rel=1e-12, abs=0), cfg
    assert ours_af == pytest.approx(af32, rel=REL32, abs=0), cfg
    keep = np.abs(t32 - t64) <= F32_SELF * np.abs(t64)
    if cfg.rope_type == "llama3":
        keep &= ~llama3_float32_flips(cfg)
    np.testing.assert_allclose(ours_inv[keep], t32[keep], rtol=REL32, atol=0, err_msg=f"float32, {cfg}")
    COMPARED["pairs"] += int(keep.sum())
    COMPARED["skipped"] += int((~keep).sum())
    return int((~keep).sum())


# -- hypothesis strategies ----------------------------------------------------------------------------------------
HEAD_DIMS = [32, 48, 64, 80, 96, 112, 128, 160, 192, 256]
FRACTIONS = [1.0, 1.0, 0.5, 0.25, 0.75, 0.4, 0.625]


@st.composite
def base_config(draw):
    head_dim = draw(st.sampled_from(HEAD_DIMS))
    frac = draw(st.sampled_from(FRACTIONS))
    assume(int(head_dim * frac) % 2 == 0 and int(head_dim * frac) >= 4)
    base = 10 ** draw(st.floats(1.0, 9.0))
    ctx = draw(st.one_of(st.sampled_from([2048, 4096, 8192, 32768, 131072]), st.integers(64, 1 << 20)))
    return head_dim, frac, base, ctx


factors = st.one_of(st.sampled_from([1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 40.0]), st.floats(1.0, 128.0))


@st.composite
def scaled_config(draw, rope_type):
    head_dim, frac, base, ctx = draw(base_config())
    r = int(head_dim * frac)
    seq_len = draw(st.one_of(st.none(), st.integers(1, 8 * ctx)))
    if rope_type == "default":
        sc = None
    elif rope_type in ("linear", "dynamic"):
        sc = {"rope_type": rope_type, "factor": draw(factors)}
        if rope_type == "dynamic":
            seq_len = draw(st.one_of(st.none(), st.sampled_from([ctx, ctx + 1, 2 * ctx, 16 * ctx]),
                                     st.integers(1, ctx - 1) if ctx > 1 else st.none(),
                                     st.integers(ctx + 1, 64 * ctx)))
    elif rope_type == "yarn":
        orig = draw(st.integers(max(2, ctx // 64), ctx))
        sc = {"rope_type": "yarn", "factor": draw(factors), "original_max_position_embeddings": orig}
        if draw(st.booleans()):
            sc["truncate"] = draw(st.booleans())
        if draw(st.booleans()):
            sc["beta_fast"] = draw(st.floats(2.0, 128.0))
            sc["beta_slow"] = draw(st.floats(0.25, 2.0))
        which = draw(st.sampled_from(["none", "mscale", "both", "attention_factor"]))
        if which == "mscale":
            sc["mscale"] = draw(st.floats(0.0, 2.0))
        elif which == "both":  # DeepSeek-V2/V3: mscale = mscale_all_dim = 0.707 or 1
            sc["mscale"] = draw(st.sampled_from([0.707, 1.0, 0.0])) if draw(st.booleans()) else draw(st.floats(0, 2))
            sc["mscale_all_dim"] = draw(st.sampled_from([0.707, 1.0, 0.0])) if draw(st.booleans()) else draw(
                st.floats(0, 2))
        elif which == "attention_factor":
            sc["attention_factor"] = draw(st.floats(0.5, 2.0))
    elif rope_type == "llama3":
        orig = draw(st.integers(max(2, ctx // 64), ctx))
        low = draw(st.floats(0.25, 4.0))
        sc = {"rope_type": "llama3", "factor": draw(factors), "low_freq_factor": low,
              "high_freq_factor": low + draw(st.floats(0.1, 16.0)), "original_max_position_embeddings": orig}
    elif rope_type == "longrope":
        orig = draw(st.integers(max(2, ctx // 64), ctx))
        s = ctx / orig
        lists = st.lists(st.floats(1.0, max(1.0, 1.25 * s)), min_size=r // 2, max_size=r // 2)
        sc = {"rope_type": "longrope", "short_factor": draw(lists), "long_factor": draw(lists),
              "original_max_position_embeddings": orig}
        if draw(st.booleans()):
            sc["factor"] = draw(factors)
        if draw(st.booleans()):
            sc["attention_factor"] = draw(st.floats(0.5, 2.0))
        seq_len = draw(st.one_of(st.none(), st.sampled_from([orig, orig + 1, 1]), st.integers(1, orig),
                                 st.integers(orig + 1, 8 * ctx)))
    else:  # pragma: no cover
        raise AssertionError(rope_type)
    return RopeConfig(head_dim=head_dim, base=base, rotary_fraction=frac, scaling=sc, context_length=ctx), seq_len


HF_TYPES = ["default", "linear", "dynamic", "yarn", "llama3", "longrope"]


def test_registry_covers_transformers():
    """Every rope_type transformers ships (except Gemma-4's "proportional") has a rope_viz counterpart, plus "ntk"."""
    assert set(ROPE_INIT_FUNCTIONS) - {"proportional"} <= set(ROPE_FREQUENCY_FUNCTIONS)
    assert set(ROPE_FREQUENCY_FUNCTIONS) == set(HF_TYPES) | {"ntk"}


@pytest.mark.parametrize("rope_type", HF_TYPES)
@settings(max_examples=50)
@given(data=st.data())
def test_matches_transformers_via_to_hf_dict(rope_type, data):
    cfg, seq_len = data.draw(scaled_config(rope_type))
    check_against_transformers(cfg, cfg.to_hf_dict(), seq_len)
    # the public wrappers agree with rope_parameters
    np.testing.assert_array_equal(inv_freq(cfg, seq_len), rope_parameters(cfg, seq_len)[0])
    assert attention_factor(cfg, seq_len) == rope_parameters(cfg, seq_len)[1]


def test_float32_skips_are_rare():
    """The float32 comparison above skipped only a small share of pairs (runs after it in file order)."""
    if COMPARED["pairs"] == 0:
        pytest.skip("run together with test_matches_transformers_via_to_hf_dict")
    print(COMPARED)
    assert COMPARED["skipped"] <= 0.02 * (COMPARED["pairs"] + COMPARED["skipped"]), COMPARED


def _old_schema(draw, rope_type):
    """A config.json dict written by hand in the pre-v5 schema, independent of RopeConfig.to_hf_dict."""
    head_dim = draw(st.sampled_from(HEAD_DIMS))
    heads = draw(st.sampled_from([1, 2, 4, 8]))
    frac = draw(st.sampled_from(FRACTIONS))
    assume(int(head_dim * frac) % 2 == 0 and int(head_dim * frac) >= 4)
    r = int(head_dim * frac)
    ctx = draw(st.sampled_from([2048, 4096, 16384, 131072]))
    d = {"hidden_size": head_dim * heads, "num_attention_heads": heads, "max_position_embeddings": ctx,
         "rope_theta": 10 ** draw(st.floats(1.0, 9.0))}
    if draw(st.booleans()):
        d["head_dim"] = head_dim
    if frac != 1.0:
        d["partial_rotary_factor"] = frac
    orig = ctx // draw(st.sampled_from([1, 2, 4, 32]))
    f = draw(factors)
    sc = {"linear": {"type": "linear", "factor": f},
          "dynamic": {"type": "dynamic", "factor": f},
          "yarn": {"type": "yarn", "factor": f, "original_max_position_embeddings": orig, "beta_fast": 32,
                   "beta_slow": 1},
          "llama3": {"type": "llama3", "factor": f, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                     "original_max_position_embeddings": orig},
          "longrope": {"type": "longrope", "short_factor": [1.0 + 0.01 * i for i in range(r // 2)],
                       "long_factor": [1.0 + 0.5 * i for i in range(r // 2)],
                       "original_max_position_embeddings": orig},
          "default": None}[rope_type]
    if sc is not None:
        d["rope_scaling"] = sc
    return d


@pytest.mark.parametrize("rope_type", HF_TYPES)
@settings(max_examples=15)
@given(data=st.data())
def test_from_hf_config_old_schema_matches_transformers(rope_type, data):
    hf = _old_schema(data.draw, rope_type)
    cfg = from_hf_config(hf)
    assert cfg.rope_type == rope_type
    assert cfg.head_dim == hf.get("head_dim", hf["hidden_size"] // hf["num_attention_heads"])
    assert cfg.base == hf["rope_theta"] and cfg.context_length == hf["max_position_embeddings"]
    seq_len = data.draw(st.sampled_from([None, 1, cfg.original_context_length, cfg.original_context_length + 1,
                                         4 * cfg.context_length]))
    check_against_transformers(cfg, hf, seq_len)


# -- ntk: no transformers function; closed form and the literature --------------------------------------------------
@settings(max_examples=60)
@given(base_config(), factors)
def test_ntk_closed_form(bc, s):
    """YaRN Eq. 16: b' = b·s^(r/(r−2)), θ'_i = b'^(−2i/r); hence θ'_i/θ_i = s^(−2i/(r−2)): 1 for the fastest pair, 1/s
    (exactly PI) for the slowest."""
    head_dim, frac, base, ctx = bc
    cfg = RopeConfig(head_dim, base, frac, scaling={"rope_type": "ntk", "factor": s}, context_length=ctx)
    r = cfg.rotary_dim
    b2 = base * s ** (r / (r - 2))
    expected = [b2 ** (-2.0 * i / r) for i in range(r // 2)]
    np.testing.assert_allclose(inv_freq(cfg), expected, rtol=1e-12)
    ratio = [s ** (-2.0 * i / (r - 2)) for i in range(r // 2)]
    np.testing.assert_allclose(frequency_ratio(cfg), ratio, rtol=1e-12)
    assert frequency_ratio(cfg)[-1] == pytest.approx(1 / s, rel=1e-12)
    assert attention_factor(cfg) == 1.0
    assert inv_freq(cfg, seq_len=10 * ctx) == pytest.approx(inv_freq(cfg))  # static: no seq_len dependence


@pytest.mark.parametrize("s,expected", [(2, 20221.3), (4, 40889.9), (8, 82684.6), (16, 167198.7)])
def test_ntk_base_literature(s, expected):
    """YaRN Eq. 16 (arXiv:2309.00071) by hand: b = 1e4, d = 128."""
    assert ntk_base(1e4, s, 128) == pytest.approx(expected, abs=0.05)
    cfg = RopeConfig(128, scaling={"rope_type": "ntk", "factor": s})
    np.testing.assert_allclose(inv_freq(cfg), naive_theta(expected, 128), rtol=1e-5)


# -- the papers' numbers ----------------------------------------------------------------------------------------------
def test_dynamic_base_literature():
    """Dynamic NTK (transformers' closed form): base 1e4, d 128, factor 2, max_pos 4096: seq 4096 → 10000,
    8192 → 30527.7."""
    assert dynamic_base(1e4, 2, 128, 4096, 4096) == 1e4
    assert dynamic_base(1e4, 2, 128, 8192, 4096) == pytest.approx(30527.7, abs=0.05)
    cfg = RopeConfig(128, scaling={"rope_type": "dynamic", "factor": 2.0}, context_length=4096)
    np.testing.assert_allclose(inv_freq(cfg, 8192), naive_theta(30527.7368, 128), rtol=1e-6)
    for seq in (None, 1, 100, 4096):  # at or below the context: unscaled
        np.testing.assert_allclose(inv_freq(cfg, seq), naive_theta(1e4, 128), rtol=1e-14)


@pytest.mark.parametrize("L,b,low,high", [(4096, 1e4, 20, 46), (2048, 1e4, 16, 41), (4096, 1e6, 13, 31),
                                          (8192, 5e5, 18, 35), (32768, 1e6, 23, 40)])
def test_yarn_correction_range_literature(L, b, low, high):
    """YaRN (arXiv:2309.00071) reference code: (β_fast, β_slow) = (32, 1), d = 128."""
    assert yarn_correction_range(32, 1, 128, b, L) == (low, high)
    lo, hi = yarn_correction_range(32, 1, 128, b, L, truncate=False)
    assert math.floor(lo) == low and math.ceil(hi) == high
    # the definition: the pair index whose wavelength fits β times into L
    for beta, dim in ((32, lo), (1, hi)):
        assert L / (2 * math.pi * b ** (2 * dim / 128)) == pytest.approx(beta, rel=1e-12)


def test_yarn_correction_dims_exact_literature():
    """YaRN: correction dims 20.944 and 45.027 for d = 128, b = 1e4, L = 4096."""
    lo, hi = yarn_correction_range(32, 1, 128, 1e4, 4096, truncate=False)
    assert (round(lo, 3), round(hi, 3)) == (20.944, 45.027)


def test_yarn_ramp_literature():
    """YaRN: d 128, b 1e4, L 4096, s 16: pairs 0–20 unchanged, 46–63 at 1/16, code-form ratios in between."""
    cfg = RopeConfig(128, scaling={"rope_type": "yarn", "factor": 16.0, "original_max_position_embeddings": 4096},
                     context_length=65536)
    ratio = frequency_ratio(cfg)
    np.testing.assert_allclose(ratio[:21], 1.0, rtol=1e-14)
    np.testing.assert_allclose(ratio[46:], 1 / 16, rtol=1e-14)
    idx = [21, 25, 30, 35, 40, 45]
    np.testing.assert_allclose(ratio[idx], [0.9639, 0.8197, 0.6394, 0.4591, 0.2788, 0.0986], atol=5e-5)
    gamma = yarn_ramp(20, 46, 64)
    np.testing.assert_allclose(gamma[idx], [(i - 20) / 26 for i in idx], rtol=1e-14)
    assert yarn_ramp(5, 5, 8)[5] == 0.0 and yarn_ramp(5, 5, 8)[6] == 1.0  # the zero-width guard


@pytest.mark.parametrize("s,expected", [(2, 1.0693), (4, 1.1386), (8, 1.2079), (16, 1.2773), (32, 1.3466),
                                        (40, 1.3689), (64, 1.4159)])
def test_yarn_mscale_literature(s, expected):
    """YaRN: √(1/t) = 0.1 ln s + 1 (YaRN Eq. 22; App. A.2: s = 8 → 1.208)."""
    assert yarn_get_mscale(s) == pytest.approx(expected, abs=5e-5)
    cfg = RopeConfig(128, scaling={"rope_type": "yarn", "factor": float(s),
                                   "original_max_position_embeddings": 4096})
    assert attention_factor(cfg) == pytest.approx(expected, abs=5e-5)
    # DeepSeek-V2/V3: mscale = mscale_all_dim cancels to exactly 1
    ds = cfg.replace(scaling={**cfg.scaling, "mscale": 0.707, "mscale_all_dim": 0.707})
    assert attention_factor(ds) == 1.0
    assert yarn_get_mscale(1.0) == 1.0 and yarn_get_mscale(0.5) == 1.0


def test_llama31_pair_ranges_literature():
    """Llama 3.1 (Meta apply_scaling): d 128, base 5e5, factor 8, (α, β) = (1, 4), L_orig 8192: pairs 0–28
    unchanged, 29–34 smoothed, 35–63 ÷ 8."""
    cfg = RopeConfig(128, 5e5, scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                        "high_freq_factor": 4.0, "original_max_position_embeddings": 8192},
                     context_length=131072)
    ratio = frequency_ratio(cfg)
    np.testing.assert_allclose(ratio[:29], 1.0, rtol=1e-14)
    np.testing.assert_allclose(ratio[35:], 1 / 8, rtol=1e-14)
    assert len(ratio[35:]) == 29
    np.testing.assert_allclose(llama3_smooth(cfg)[29:35], [0.8036, 0.5928, 0.4212, 0.2813, 0.1673, 0.0745],
                               atol=5e-5)
    np.testing.assert_allclose(ratio[29:35], [0.8282, 0.6437, 0.4935, 0.3711, 0.2714, 0.1902], atol=5e-5)
    assert attention_factor(cfg) == 1.0
    # the (theta, L, α, β) form gives the same weights
    np.testing.assert_array_equal(llama3_smooth(default_inv_freq(5e5, 128), 8192, 1.0, 4.0), llama3_smooth(cfg))


@pytest.mark.parametrize("s,expected", [(2, 1.041), (4, 1.080), (8, 1.118), (16, 1.155), (32, 1.190)])
def test_longrope_attention_factor_literature(s, expected):
    """LongRoPE (arXiv:2402.13753): √(1 + ln s / ln 4096); s from context_length / original, or an explicit factor."""
    p = 64
    sc = {"rope_type": "longrope", "short_factor": [1.0] * p, "long_factor": [2.0] * p,
          "original_max_position_embeddings": 4096}
    implicit = RopeConfig(128, scaling=sc, context_length=4096 * s)
    explicit = RopeConfig(128, scaling={**sc, "factor": float(s)}, context_length=4096)
    for cfg in (implicit, explicit):
        assert longrope_factor(cfg) == s
        assert attention_factor(cfg) == pytest.approx(expected, abs=5e-4)
        assert attention_factor(cfg) == pytest.approx(math.sqrt(1 + math.log(s) / math.log(4096)), rel=1e-14)
        np.testing.assert_allclose(inv_freq(cfg, 4096), naive_theta(1e4, 128), rtol=1e-14)       # short
        np.testing.assert_allclose(inv_freq(cfg, 4097), np.array(naive_theta(1e4, 128)) / 2, rtol=1e-14)  # long
    no_ext = RopeConfig(128, scaling=sc, context_length=4096)
    assert attention_factor(no_ext) == 1.0


@pytest.mark.parametrize("base,over_8k,over_128k", [(1e4, 14, 0), (5e5, 29, 15)])
def test_wavelength_counts_literature(base, over_8k, over_128k):
    """Wavelength counts λ_i = 2π·b^(2i/d), d 128: base 1e4 → 14 of 64 pairs have λ > 8192, none > 131072;
    base 5e5 → 29 and 15."""
    wl = wavelengths(inv_freq(RopeConfig(128, base)))
    assert wl.shape == (64,)
    assert wl[0] == pytest.approx(2 * math.pi)
    assert int((wl > 8192).sum()) == over_8k and int((wl > 131072).sum()) == over_128k


def test_default_matches_naive_loop():
    for base, r in [(1e4, 128), (5e5, 64), (10.0, 32), (1e9, 256)]:
        np.testing.assert_allclose(default_inv_freq(base, r), naive_theta(base, r), rtol=1e-14)
    assert np.isinf(wavelengths(np.array([0.0]))[0])


def test_linear_is_position_interpolation():
    """PI (Chen et al.): θ_i/s, i.e. angle(m) = angle_unscaled(m/s)."""
    cfg = RopeConfig(64, 1e4, scaling={"rope_type": "linear", "factor": 4.0})
    np.testing.assert_allclose(inv_freq(cfg) * 4.0, naive_theta(1e4, 64), rtol=1e-15)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "10"])
def test_seq_len_validation(bad):
    cfg = RopeConfig(64, scaling={"rope_type": "dynamic", "factor": 2.0})
    with pytest.raises(ValueError, match="seq_len"):
        inv_freq(cfg, bad)


# -- the frequencies in effect over a context (issue: LongRoPE past its original context) -----------------------------
@pytest.mark.parametrize("rope_type", HF_TYPES)
@settings(max_examples=25)
@given(data=st.data())
def test_effective_matches_transformers_at_the_context(rope_type, data):
    """effective_*(cfg, n) is transformers' ROPE_INIT_FUNCTIONS[rope_type](config, seq_len=n), n defaulting to the
    config's own context (max_position_embeddings)."""
    cfg, n = data.draw(scaled_config(rope_type))
    ours = effective_parameters(cfg, n)
    check_against_transformers(cfg, cfg.to_hf_dict(), cfg.context_length if n is None else n, ours=ours)
    np.testing.assert_array_equal(effective_inv_freq(cfg, n), ours[0])
    assert effective_attention_factor(cfg, n) == ours[1]


def _phi3_mini_128k_like() -> RopeConfig:
    """Phi-3-mini-128k's shape (head_dim 96, base 1e4, 4,096 → 131,072 tokens) with increasing stand-in lists."""
    p = 48
    return RopeConfig(96, 1e4, scaling={"rope_type": "longrope", "short_factor": [1.0 + 0.02 * i for i in range(p)],
                                        "long_factor": [1.0 + 1.5 * i for i in range(p)],
                                        "original_max_position_embeddings": 4096}, context_length=131072)


def test_effective_longrope_uses_long_factors_past_the_original_context():
    cfg = _phi3_mini_128k_like()
    hf = {"head_dim": 96, "hidden_size": 3072, "num_attention_heads": 32, "max_position_embeddings": 131072,
          "original_max_position_embeddings": 4096, "rope_theta": 1e4,
          "rope_scaling": {"type": "longrope", "short_factor": list(cfg.scaling["short_factor"]),
                           "long_factor": list(cfg.scaling["long_factor"])}}
    assert from_hf_config(hf) == cfg
    theta = default_inv_freq(1e4, 96)
    np.testing.assert_allclose(effective_inv_freq(cfg), theta / np.array(cfg.scaling["long_factor"]), rtol=1e-14)
    np.testing.assert_allclose(inv_freq(cfg), theta / np.array(cfg.scaling["short_factor"]), rtol=1e-14)
    np.testing.assert_allclose(effective_inv_freq(cfg, 4096), inv_freq(cfg), rtol=0)     # within the original
    np.testing.assert_allclose(effective_inv_freq(cfg, 4097), effective_inv_freq(cfg), rtol=0)
    check_against_transformers(cfg, hf, 131072, ours=effective_parameters(cfg))
    assert effective_attention_factor(cfg) == pytest.approx(math.sqrt(1 + math.log(32) / math.log(4096)), rel=1e-14)


def test_effective_dynamic_grows_with_the_context():
    """A dynamic config shown over its own context is unscaled (transformers at init); one whose scaling names a
    shorter pre-training length L is transformers' config with max_position_embeddings = L at seq_len = context."""
    plain = RopeConfig(128, scaling={"rope_type": "dynamic", "factor": 4.0}, context_length=4096)
    np.testing.assert_allclose(effective_inv_freq(plain), naive_theta(1e4, 128), rtol=1e-14)
    np.testing.assert_allclose(effective_inv_freq(plain, 16384), naive_theta(dynamic_base(1e4, 4, 128, 16384, 4096),
                                                                             128), rtol=1e-14)
    longer = plain.replace(context_length=16384, scaling={**plain.scaling, "original_max_position_embeddings": 4096})
    np.testing.assert_allclose(effective_inv_freq(longer), effective_inv_freq(plain, 16384), rtol=1e-14)
    hf = {"head_dim": 128, "max_position_embeddings": 4096, "rope_theta": 1e4,
          "rope_scaling": {"type": "dynamic", "factor": 4.0}}
    check_against_transformers(longer, hf, 16384, ours=effective_parameters(longer))


@pytest.mark.parametrize("bad", [0, -5, 2.5, True, "4096", float("inf"), 10 ** 400])
def test_effective_context_validation(bad):
    with pytest.raises(ValueError, match="context_length must be an integer"):
        effective_inv_freq(RopeConfig(64), bad)
    with pytest.raises(ValueError, match="cfg must be a RopeConfig"):
        effective_inv_freq({"head_dim": 64})
