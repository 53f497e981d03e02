"""check_rope: a conformance check for your own RoPE implementation, for use in your test suite.

    from rope_viz import RopeConfig
    from rope_viz.testing import check_rope

    def my_rope(x, positions):              # x (seq, head_dim), positions (seq,) ints → rotated x (numpy or torch)
        return model.rotary(x[None, None], positions[None])[0, 0]

    report = check_rope(my_rope, head_dim=128, expected=RopeConfig(128, base=5e5))
    assert report.ok, report                # str(report) explains every mismatch

How it works. RoPE at position m is a linear map x ↦ M_m x (RoFormer Eq. 13: a block-diagonal rotation, scaled by the
attention factor). Feeding the identity matrix as ``seq = head_dim`` rows at one position reads M_m off directly, so
a few calls at positions 0, 1, 2, 4, …, max_position − 1 reveal everything:

* pass-through channels (M_m e_j = e_j at every m) → the rotary width r (partial rotary);
* which channel each rotated channel mixes with → the pair layout: ``half`` (i, i + r/2: transformers, GPT-NeoX) or
  ``interleaved`` (2i, 2i + 1: Meta, GPT-J);
* the column norm → the attention factor; the angle of each pair φ_i(m) = atan2(M[b, a], M[a, a]) → its sign (the
  rotation direction) and, unwrapped along the doubling ladder of positions, θ_i to ~(phase noise)/max_position;
* θ_i against i → the base (log-linear fit on the high-frequency quarter of the pairs) and the scaling pattern
  (per-pair ratio to plain RoPE at that base: all 1 = none, constant = linear/PI, 1 → 1/s = by-parts (Llama 3.1,
  YaRN), anything else = per-pair factors (LongRoPE)).

With ``expected`` (a RopeConfig) it names the mismatches users actually hit: the Meta ↔ transformers permute (layout),
inv_freq stored in bf16/fp16 (phase drift growing with position; transformers issue #29496), the reversed rotation
direction, a wrong base, a missing attention factor (YaRN/LongRoPE), the wrong rotary width, other frequency
mismatches. numpy only; torch is used only if your function needs torch tensors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from . import validate as V
from .analysis.overhead import round_to_bf16
from .config import HEAD_DIM_MAX, RopeConfig
from .frequencies import default_inv_freq, effective_parameters

__all__ = ["check_rope", "RopeReport", "Problem"]

PROBLEM_CODES = ("not_rope", "nonlinear_phase", "direction", "layout", "rotary_dim", "attention_factor",
                 "bf16_inv_freq", "fp16_inv_freq", "base", "frequencies")


@dataclass(frozen=True)
class Problem:
    code: str       # one of PROBLEM_CODES
    message: str    # what is wrong, the evidence, and the usual cause / fix

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


@dataclass
class RopeReport:
    """What ``check_rope`` found. ``ok`` is True when no problem was found (against ``expected`` when given)."""

    head_dim: int
    rotary_dim: int                      # rotated channels detected
    layout: str                          # "half", "interleaved", "other" or "none"
    pairs: list[tuple[int, int]]         # channel pairs (a, b), a < b, ordered by a
    direction: str                       # "standard" (a → a cos φ + b sin φ) or "reversed"
    attention_factor: float              # median norm of M_m e_j over rotated channels
    theta: np.ndarray                    # fitted θ_i (rad/token, signed: negative = reversed), shape (p,)
    base: float | None                   # from a log-linear fit of the high-frequency pairs
    scaling: str                         # "none", "linear", "by-parts", "per-pair", "unknown"
    scaling_factor: float | None         # 1/ratio for linear, 1/min ratio for by-parts
    positions: np.ndarray                # probed positions
    residual: float                      # max |probe − best per-pair rotation| / attention factor
    max_phase_error: float | None = None  # vs expected, rad, at the largest probed position
    expected: RopeConfig | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def codes(self) -> list[str]:
        return [p.code for p in self.problems]

    def detected_config(self) -> RopeConfig | None:
        """The plain/linear RopeConfig the probes are consistent with (None when not expressible that way)."""
        if self.base is None or self.layout not in ("half", "interleaved") or self.rotary_dim < 2:
            return None
        scaling = None
        if self.scaling == "linear" and self.scaling_factor and self.scaling_factor >= 1:
            scaling = {"rope_type": "linear", "factor": float(self.scaling_factor)}
        elif self.scaling not in ("none", "linear"):
            return None
        try:
            return RopeConfig(self.head_dim, base=float(self.base), rotary_fraction=self.rotary_dim / self.head_dim,
                              layout=self.layout, scaling=scaling)
        except ValueError:
            return None

    def __str__(self) -> str:
        lines = [f"RoPE check: {'OK' if self.ok else 'PROBLEMS FOUND'}"
                 + (f" (expected {self.expected.label()}, layout {self.expected.layout})" if self.expected else "")]
        base = "?" if self.base is None else f"{self.base:.6g}"
        sc = self.scaling + (f" ×{self.scaling_factor:.4g}" if self.scaling_factor and self.scaling != "none" else "")
        lines.append(f"  detected: layout {self.layout}, rotary_dim {self.rotary_dim}/{self.head_dim}, base {base}, "
                     f"scaling {sc}, attention factor {self.attention_factor:.4g}, direction {self.direction}")
        lines.append(f"  probed positions 0 … {int(self.positions.max())}; rotation residual {self.residual:.2e}"
                     + ("" if self.max_phase_error is None
                        else f"; max phase error vs expected {self.max_phase_error:.3g} rad"))
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)

    __repr__ = __str__


# -- helpers ---------------------------------------------------------------------------------------------------------
def _to_numpy(out: Any) -> np.ndarray:
    if hasattr(out, "detach"):                       # torch tensor (any device, any float dtype)
        out = out.detach().to("cpu").double().numpy()
    return np.asarray(out, dtype=np.float64)


def _call(fn: Callable, x: np.ndarray, pos: np.ndarray, mode: str) -> tuple[np.ndarray, str]:
    """Call fn with numpy (float64) or torch (float32) inputs; mode "auto" tries numpy, then torch."""
    errors = []
    for m in (("numpy", "torch") if mode == "auto" else (mode,)):
        try:
            if m == "numpy":
                out = fn(x.copy(), pos.copy())
            else:
                import torch  # only when the user's function needs tensors
                out = fn(torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(pos, dtype=torch.int64))
            arr = _to_numpy(out)
        except Exception as e:  # noqa: BLE001 - the user's code may raise anything; report it
            errors.append(f"{m} inputs: {type(e).__name__}: {e}")
            continue
        if arr.shape != x.shape:
            raise ValueError(f"fn(x, positions) must return an array of x's shape {x.shape}, got {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError("fn(x, positions) returned non-finite values")
        return arr, m
    raise ValueError("calling fn(x, positions) failed with " + "; ".join(errors))


def _ladder(max_position: int) -> np.ndarray:
    pos = [0, 1]
    while pos[-1] * 2 <= max_position - 1:
        pos.append(pos[-1] * 2)
    if pos[-1] != max_position - 1 and max_position - 1 > 1:
        pos.append(max_position - 1)
    return np.array(pos, dtype=np.int64)


def _rotation_model(M: np.ndarray, pairs, phis: np.ndarray, af: float, passthrough: np.ndarray) -> np.ndarray:
    """Predicted M_m (n_pos, d, d) — M[m][:, j] = f(e_j) — for per-pair rotations by phis (n_pos, p)."""
    n, d = M.shape[0], M.shape[1]
    P = np.zeros_like(M)
    P[:, passthrough, passthrough] = 1.0
    for i, (a, b) in enumerate(pairs):
        c, s = af * np.cos(phis[:, i]), af * np.sin(phis[:, i])
        P[:, a, a], P[:, b, a] = c, s          # f(e_a) = af (cos φ e_a + sin φ e_b)
        P[:, a, b], P[:, b, b] = -s, c         # f(e_b) = af (−sin φ e_a + cos φ e_b)
    return P


# -- the check -------------------------------------------------------------------------------------------------------
def check_rope(fn: Callable, head_dim: int, *, expected: RopeConfig | None = None, max_position: int | None = None,
               seq_len: int | None = None, inputs: str = "auto", phase_tol: float = 0.05,
               atol: float = 2e-2) -> RopeReport:
    """Probe ``fn(x, positions)`` (x: (seq, head_dim), positions: (seq,) integers → rotated x) and report what RoPE
    it implements, and every mismatch against ``expected`` (a RopeConfig) when given.

    max_position: largest position probed + 1 (default: expected.context_length, else 4096); inputs: "numpy"
    (float64 arrays), "torch" (float32 tensors) or "auto" (numpy, falling back to torch). seq_len: the sequence length
    the expected frequencies are taken at (``effective_parameters``: LongRoPE's long factors past its original
    context, dynamic NTK's grown base); default max_position, the length of the single probing call. phase_tol: the
    largest accepted |φ − φ_expected| in radians at the largest probed position (fp32 angles drift ~4e-3 rad by 128K, Wang et al.
    arXiv:2411.13476; inv_freq in bf16 drifts by radians). atol: the largest accepted deviation
    of a probe from an exact per-pair rotation, relative to the attention factor (bf16 outputs need ~1e-2).
    """
    d = V.integer("head_dim", head_dim, 2, HEAD_DIM_MAX)
    if d % 2:
        raise ValueError(f"head_dim must be even (channels are rotated in pairs); got {d}")
    if expected is not None:
        V.config("expected", expected)
        if expected.head_dim != d:
            raise ValueError(f"expected.head_dim = {expected.head_dim} differs from head_dim = {d}")
    V.choice("inputs", inputs, ("auto", "numpy", "torch"))
    if max_position is None:
        max_position = expected.context_length if expected is not None else 4096
    max_position = V.integer("max_position", max_position, 2, 1 << 24)
    if seq_len is None:
        seq_len = max_position    # one call sees positions up to max_position − 1, as a model run of that length
    phase_tol = V.real("phase_tol", phase_tol, 0.0, None, lo_open=True)
    atol = V.real("atol", atol, 0.0, None, lo_open=True)
    positions = _ladder(max_position)
    n = len(positions)

    # M[k][:, j] = f(e_j) at positions[k]: one call, identity blocks stacked   (n·d, d) → (n, d, d)
    x = np.tile(np.eye(d), (n, 1))                                    # (n·d, d)
    pos = np.repeat(positions, d)                                     # (n·d,)
    out, _mode = _call(fn, x, pos, inputs)
    M = out.reshape(n, d, d).transpose(0, 2, 1)                       # M[k, :, j] = f(e_j)

    # pass-through channels: f(e_j) = e_j at every position, leaking into no other channel (exactly: a rotated
    # pair with a tiny θ still leaks sin(mθ) ≠ 0)
    eye = np.eye(d)
    dev = np.abs(M - eye[None]).max(axis=(0, 1))                      # (d,) per input channel
    offdiag = np.abs(M * (1 - eye)[None]).max(axis=(0, 1))            # (d,)
    is_pass = (dev < atol) & (offdiag <= 1e-12)
    passthrough = np.flatnonzero(is_pass)
    rotated = np.flatnonzero(~is_pass)

    # partners: the output channel (≠ j) that f(e_j) leaks into the most, summed over positions
    leak = np.abs(M).sum(axis=0)                                      # (d, d): [out, in]
    np.fill_diagonal(leak, -1.0)
    partner = leak.argmax(axis=0)                                     # (d,)
    pairs, seen = [], set()
    consistent = True
    for j in rotated:
        k = int(partner[j])
        if partner[k] != j or k not in set(rotated.tolist()):
            consistent = False
            continue
        if j < k:
            pairs.append((int(j), k))
        seen.update((int(j), k))
    if len(seen) != len(rotated):
        consistent = False
    r = len(rotated)
    p = len(pairs)
    half = [(i, i + p) for i in range(p)]
    inter = [(2 * i, 2 * i + 1) for i in range(p)]
    if r == 0:
        layout = "none"
    elif not consistent:
        layout = "other"
    elif pairs == half:
        layout = "half"
    elif pairs == inter:
        layout = "interleaved"
    else:
        layout = "other"

    problems: list[Problem] = []
    if r == 0 or not consistent:
        what = "leaves every channel unchanged" if r == 0 else "does not rotate channels in pairs"
        rep = RopeReport(d, r, layout, pairs, "standard", 1.0, np.zeros(0), None, "unknown", None, positions,
                         float(dev.max()), None, expected,
                         [Problem("not_rope", f"fn {what} (max |f(e_j) − e_j| = {dev.max():.3g}); it is not RoPE")])
        return rep

    a_idx = np.array([a for a, _ in pairs])
    b_idx = np.array([b for _, b in pairs])
    af = float(np.median(np.linalg.norm(M[:, :, rotated], axis=1)))  # rotation preserves norm: |f(e_j)| = af
    phis = np.arctan2(M[:, b_idx, a_idx], M[:, a_idx, a_idx])         # (n, p) measured angles, wrapped
    residual = float(np.abs(M - _rotation_model(M, pairs, phis, af, passthrough)).max() / max(af, 1e-12))
    if residual > atol:
        problems.append(Problem("not_rope", f"the probes are not per-pair rotations (residual {residual:.3g} > "
                                            f"{atol:g}): fn mixes channels in a way RoPE does not"))

    # θ_i from the doubling ladder: unwrap φ(m) using the estimate from smaller positions
    theta = phis[1].copy()                                            # m = 1: φ = θ (|θ| ≤ 1 < π)
    for k in range(2, n):
        m = positions[k]
        turns = np.round((theta * m - phis[k]) / (2 * np.pi))
        theta = (phis[k] + 2 * np.pi * turns) / m
    pred = np.remainder(positions[:, None] * theta[None, :] - phis + np.pi, 2 * np.pi) - np.pi   # (n, p)
    nonlinear = float(np.abs(pred).max())
    if nonlinear > phase_tol:
        problems.append(Problem("nonlinear_phase", f"the angles are not θ·m (max deviation {nonlinear:.3g} rad): "
                                                   "positions may be rounded (e.g. position ids cast to bf16/fp16) "
                                                   "or the cos/sin cache is wrong"))
    direction = "standard" if np.median(np.sign(theta[theta != 0])) >= 0 else "reversed"
    if direction == "reversed":
        problems.append(Problem("direction", "rotates the wrong way: a → a·cos φ − b·sin φ where RoPE has "
                                             "a·cos φ + b·sin φ (sin sign flipped, or rotate_half written as "
                                             "cat(x2, −x1)); scores then depend on n − m instead of m − n"))
    ath = np.abs(theta)

    # base and scaling pattern
    base, scaling, factor = None, "unknown", None
    if p >= 2 and np.all(ath > 0):
        nf = max(2, p // 4)
        xs = 2.0 * np.arange(p) / r
        slope, icpt = np.polyfit(xs[:nf], np.log(ath[:nf]), 1)
        base = float(f"{math.exp(-slope):.8g}") if slope < 0 else None     # 8 digits: the fit is not better
        if base is not None:
            ratio = ath / default_inv_freq(base, r)                 # (p,) vs plain RoPE at the detected base
            if np.allclose(ratio, 1.0, rtol=2e-3):
                scaling = "none"
            elif np.allclose(ratio, ratio[0], rtol=2e-3):
                scaling, factor = "linear", float(1.0 / ratio[0])
            elif abs(ratio[0] - 1) < 2e-3 and np.all(np.diff(ratio) <= 2e-3) and ratio[-1] < 0.99:
                scaling, factor = "by-parts", float(1.0 / ratio[-1])
            else:
                scaling = "per-pair"
    elif p == 1:
        scaling = "none"

    rep = RopeReport(d, r, layout, pairs, direction, af, theta, base, scaling, factor, positions, residual,
                     None, expected, problems)
    if expected is not None:
        _compare(rep, expected, seq_len, phase_tol)
    return rep


def _compare(rep: RopeReport, exp: RopeConfig, seq_len: int | None, phase_tol: float) -> None:
    probs = rep.problems
    if rep.layout != exp.layout and rep.layout in ("half", "interleaved"):
        pairing = "(2i, 2i+1), Meta / GPT-J" if rep.layout == "interleaved" else "(i, i+r/2), transformers / GPT-NeoX"
        probs.append(Problem("layout", f"pairs channels as {rep.layout} ({pairing}) "
                                       f"but {exp.layout} was expected — the Meta ↔ transformers permute: weights "
                                       "converted for one layout give wrong outputs with the other (fix: match the "
                                       "layout, or permute W_q/W_k rows with rope_viz.layout_permutation)"))
    elif rep.layout == "other":
        probs.append(Problem("layout", f"unusual channel pairs {rep.pairs[:4]}…; expected {exp.layout}"))
    if rep.rotary_dim != exp.rotary_dim:
        probs.append(Problem("rotary_dim", f"rotates {rep.rotary_dim} of {rep.head_dim} channels; expected "
                                           f"{exp.rotary_dim} (rotary_fraction {exp.rotary_fraction:g}): check "
                                           "partial_rotary_factor / rotary_pct"))
        return
    th_exp, af_exp = effective_parameters(exp, seq_len)
    if abs(rep.attention_factor - af_exp) > 1e-2 * af_exp:
        missing = abs(rep.attention_factor - 1.0) < 1e-2 and af_exp != 1.0
        probs.append(Problem("attention_factor",
                             f"attention factor {rep.attention_factor:.4g}, expected {af_exp:.4g}"
                             + (" — it is missing (YaRN / LongRoPE multiply cos and sin by it)" if missing else "")))
    m_max = float(rep.positions.max())
    err = np.abs(np.abs(rep.theta) - th_exp) * m_max                 # phase error at the largest position (rad)
    rep.max_phase_error = float(err.max())
    if rep.max_phase_error <= phase_tol:
        return
    worst = int(err.argmax())
    for name, rounded in (("bf16", round_to_bf16(th_exp)), ("fp16", th_exp.astype(np.float16).astype(np.float64))):
        err_r = np.abs(np.abs(rep.theta) - rounded) * m_max
        if err_r.max() <= phase_tol < err.max():
            first = _first_drift_position(th_exp, rounded, phase_tol)
            probs.append(Problem(f"{name}_inv_freq",
                                 f"the frequencies equal inv_freq rounded to {name}: phase drift grows with position "
                                 f"(> {phase_tol:g} rad from m ≈ {first:,}, {rep.max_phase_error:.3g} rad at "
                                 f"m = {int(m_max):,}); keep inv_freq and the angle computation in fp32 "
                                 "(transformers #29496, PR #29285)"))
            return
    if rep.base is not None and abs(rep.base / exp.base - 1) > 1e-3 and exp.scaling is None and rep.scaling == "none":
        probs.append(Problem("base", f"base {rep.base:.6g}, expected {exp.base:.6g} (rope_theta)"))
        return
    ratio = np.abs(rep.theta) / th_exp
    probs.append(Problem("frequencies",
                         f"θ differs from the expected {exp.rope_type} frequencies: phase error "
                         f"{rep.max_phase_error:.3g} rad at m = {int(m_max):,} (worst pair {worst}: θ = {abs(rep.theta[worst]):.6g}, expected "
                         f"{th_exp[worst]:.6g}); per-pair ratio θ/θ_expected from {ratio.min():.4g} to "
                         f"{ratio.max():.4g}; detected scaling: {rep.scaling}"
                         + (f" ×{rep.scaling_factor:.4g}" if rep.scaling_factor else "")
                         + ("" if rep.base is None else f", base {rep.base:.6g}")))


def _first_drift_position(theta: np.ndarray, rounded: np.ndarray, tol: float) -> int:
    """Smallest m with max_i |θ_i − θ̃_i|·m > tol."""
    d = float(np.abs(theta - rounded).max())
    return int(math.ceil(tol / d)) if d > 0 else 0
