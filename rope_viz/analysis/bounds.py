"""Context-length bounds that follow from the RoPE base (float64, numpy only).

Two papers, three kinds of quantity:

* **Men et al. 2024**, "Base of RoPE Bounds Context Length" (arXiv:2405.14591), Theorem 1 / Eq. (the "long-term
  decay of the ability to attend more to similar tokens than to random ones"):

      B_m(b) = Σ_{i=0}^{p−1} cos(m·θ_i),   θ_i = b^(−2i/d),   p = d/2,

  and a model with head dim d can only use a context L if B_m(b) ≥ 0 for every integer 0 ≤ m < L. The base lower
  bound is b*(L) = inf{b > 1 : min_{0≤m<L} B_m(b) ≥ 0}. ``min_similarity`` evaluates min_m B_m at one base;
  ``base_lower_bound`` finds b*. Mind that the feasible set of bases is **not an interval** (Su Jianlin,
  kexue.fm/archives/10122, re-computing the paper's table): feasible windows just above b* are ~1e-4 relative wide
  and infeasible bases exist far above b*, so neither a bisection nor a coarse grid finds b*, and "above the
  bound" does not mean "satisfies the condition". ``base_lower_bound`` certifies infeasibility of every base below
  its answer (method and guarantee in its docstring).

* **Liu et al. 2023**, "Scaling Laws of RoPE-based Extrapolation" (arXiv:2310.05209; equation numbers as in the
  paper and in the authors' README, github.com/OpenLMLab/scaling-rope):

      critical dimension (Eq. 13)   d_extra = 2·⌈(d/2)·log_b(T_train / 2π)⌉        (paper: b = 10000)
      critical base      (Eq. 16a)  β0 = b^(log_{T_train/2π}(T_tune/2π))
      extrapolation bound (Eq. 16b) T_extra = 2π·β^(d_extra/d)                    (β: the base used after tuning)
      small-base thresholds (16d)   β1 = 2·T_tune/π,  β2 = T_tune/π,  β3 = T_tune/(2π)

  ``critical_dim``, ``critical_base``, ``extrapolation_bound``, ``small_base_thresholds``. The paper derives them
  for pre-training base 10000; here the pre-training base is a parameter (the formula is the same with log_b).

Shapes: d = head dim (for a RopeConfig: its rotary_dim r, because only rotated channels have a frequency), p = d/2
pairs, L = context length in tokens. Nothing here builds an L×L (or L×p) array: every B_m comes from
``_phasor`` (angle addition, in blocks of bounded memory, with its error bound (E)).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from .. import validate as V
from ..config import BASE_MAX, CONTEXT_MAX, HEAD_DIM_MAX, RopeConfig
from ..frequencies import default_inv_freq, effective_inv_freq
from . import _phasor as P

__all__ = [
    "min_similarity",
    "base_lower_bound",
    "base_lower_bound_info",
    "critical_dim",
    "critical_base",
    "extrapolation_bound",
    "small_base_thresholds",
    "liu_min_base",
    "men_condition",
    "base_bound_curve",
    "men_table",
]

# Witness tracking (see base_lower_bound): tracks, half-window in m, u-points evaluated per batch.
_TRACKS, _WINDOW, _BATCH = 8, 24, 4


def _atol(theta: np.ndarray, L: int) -> float:
    """Rounding allowance on an evaluated B_m, m < L: the phasor-sum error bound (E) of ``_phasor``."""
    return P.error_bound(theta, L)


# -- validation ----------------------------------------------------------------------------------------------------
def _head_dim(head_dim) -> int:
    d = V.integer("head_dim", head_dim, 2, HEAD_DIM_MAX, text=False)
    if d % 2:
        raise ValueError(f"head_dim must be even (channels are rotated in pairs); got {d}")
    return d


def _context(name: str, value) -> int:
    return V.integer(name, value, 1, CONTEXT_MAX, text=False)


def _base(name: str, value) -> float:
    return V.real(name, value, 1.0, BASE_MAX, lo_open=True, text=False)


# -- B_m over a contiguous range of m ------------------------------------------------------------------------------
def _theta(u: float, k: np.ndarray) -> np.ndarray:
    """θ_i = b^(−2i/d) = exp(−k_i·u) with u = ln b, k_i = 2i/d. Shape (p,)."""
    return np.exp(-k * u)


def _min_b(theta: np.ndarray, L: int) -> tuple[float, int]:
    best, arg = math.inf, 0
    for m0, blk in P.cos_sum_blocks(theta, L):
        j = int(np.argmin(blk))
        if blk[j] < best:
            best, arg = float(blk[j]), m0 + j
    return best, arg


def min_similarity(head_dim: int, base: float, context_length: int) -> tuple[float, int]:
    """min_{0 ≤ m < L} B_m and the first m attaining it, B_m = Σ_{i<d/2} cos(m·b^(−2i/d)) (Men et al. 2024,
    arXiv:2405.14591, Theorem 1: the similar-minus-random attention gap, in units of 2σ²).

    The quantity ``base_lower_bound`` is about: the context L is "supported" by base b iff the returned minimum is
    ≥ 0. B_0 = d/2, so the minimum is ≤ d/2 and argmin is 0 only when nothing is smaller.

    Args:
        head_dim: d, even, 2 … 1024 (the rotary width for partial rotary).
        base: b in (1, 1e12].
        context_length: L in 1 … 2**24; m runs over 0 … L−1.

    Returns:
        (min_B, argmin_m) as (float, int).

    Cost: O(L·d) multiply-adds and O(√L·d) phasors (``_phasor.cos_sum_blocks``, angle addition), in blocks of
    bounded memory; error (E) of ``_phasor``.
    """
    d = _head_dim(head_dim)
    b = _base("base", base)
    L = _context("context_length", context_length)
    k = np.arange(d // 2, dtype=np.float64) * (2.0 / d)
    return _min_b(_theta(math.log(b), k), L)


# -- certified search for b* ----------------------------------------------------------------------------------------
class _Scan:
    """State of the certified upward scan in u = ln b (see ``base_lower_bound``)."""

    def __init__(self, d: int, L: int):
        self.p = d // 2
        self.L = L
        self.k = np.arange(self.p, dtype=np.float64) * (2.0 / d)      # k_i = 2i/d, shape (p,)
        self.k2 = self.k * self.k
        self.n_full = 0           # all-m evaluations
        self.n_local = 0          # track-window evaluations
        self.n_gaps = 0           # uncertified steps of width rtol (zero crossings)

    def steps(self, theta: np.ndarray, m: np.ndarray, B: np.ndarray, D: np.ndarray | None = None) -> np.ndarray:
        """Certified step lengths h ≥ 0 in u: B_m < 0 on all of [u, u + h) (h = 0: m is no witness at u).

        theta (K, p) for K values of u (or (p,)); m (n,) integers ≥ 1; B, D (K, n) (or (n,)) with
        B = B_m(u) and D = Σ_i k_i θ_i sin(m θ_i). Returns h of B's shape.

        With φ_i = m·θ_i and k_i = 2i/d: ∂B_m/∂u = Σ_i k_i φ_i sin φ_i = m·D and |∂²B_m/∂u²| ≤ Σ_i k_i² (φ_i + φ_i²)
        =: M2, both at the left end u; θ_i only decrease as u grows, so M2 and m·S (S = Σ_i k_i θ_i) bound the
        derivatives on all of [u, ∞). Two certificates, the larger one is used:
            first order:  h1 = −B_m / (m·S)                              (|∂B_m/∂u| ≤ m·S)
            second order: h2 = largest h with B_m + h·B'_m + h²·M2/2 ≤ 0  (Taylor with the M2 remainder bound).
        B_m is taken as B_m + atol (rounding allowance, ``_atol``), so a certified B_m is < −atol.
        """
        theta2 = np.atleast_2d(theta)                                          # (K, p)
        mf = m.astype(np.float64)[None, :]                                     # (1, n)
        Bk = np.atleast_2d(B)                                                  # (K, n)
        if D is None:
            D = np.einsum("knp,kp->kn", np.sin(mf[..., None] * theta2[:, None, :]), self.k * theta2)
        Bp = mf * np.atleast_2d(D)                                             # ∂B/∂u, (K, n)
        S = (theta2 @ self.k)[:, None]                                         # (K, 1)
        M2 = mf * (theta2 @ self.k2)[:, None] + mf * mf * ((theta2 * theta2) @ self.k2)[:, None]
        Be = Bk + _atol(theta2[0], self.L)
        with np.errstate(divide="ignore", invalid="ignore"):
            h1 = -Be / (mf * S)
            root = np.sqrt(Bp * Bp - 2.0 * Be * M2)                            # ≥ |B'| where Be < 0
            # both forms of the positive root of M2/2·h² + B'·h + Be, each free of cancellation on its side
            h2 = np.where(Bp > 0, -2.0 * Be / (root + Bp), (root - Bp) / M2)  # M2 > 0 for m ≥ 1, p ≥ 2
            h = np.where(Be < 0, np.fmax(h1, h2), 0.0)
        return h.reshape(np.shape(B))

    def full(self, u: float, n_tracks: int, window: int):
        """All m < L at u: min B, and the best certified step with its witnesses (track centres)."""
        self.n_full += 1
        theta = _theta(u, self.k)
        best_B, cand_m, cand_B = math.inf, [], []
        for m0, blk in P.cos_sum_blocks(theta, self.L):
            best_B = min(best_B, float(blk.min()))
            if m0 == 0:
                blk = blk.copy()
                blk[0] = math.inf                                      # B_0 = p is never a witness
            m = np.arange(m0, m0 + blk.size, dtype=np.float64)
            with np.errstate(divide="ignore"):
                score1 = np.where(blk < 0, -blk / np.maximum(m, 1.0), -np.inf)   # ∝ first-order step
            # candidates: the deepest and the best first-order ones of this block
            for score in (score1, -blk):
                n = min(4 * n_tracks, blk.size)
                idx = np.argpartition(-score, n - 1)[:n]
                idx = idx[blk[idx] < 0]
                cand_m.append(idx + m0)
                cand_B.append(blk[idx])
        if best_B >= _atol(theta, self.L):
            return best_B, 0.0, np.zeros(0, dtype=np.int64)
        cm = np.concatenate(cand_m).astype(np.int64)
        cB = np.concatenate(cand_B)
        cm, first = np.unique(cm, return_index=True)
        cB = cB[first]
        if cm.size == 0:                                               # only |B| ≤ atol values: a zero crossing
            return best_B, 0.0, np.zeros(0, dtype=np.int64)
        h = self.steps(theta, cm, cB)
        order = np.argsort(-h)
        centres: list[int] = []
        for j in order:                                                # distinct track centres, best first
            if h[j] <= 0 or len(centres) >= n_tracks:
                break
            if all(abs(int(cm[j]) - c) > window for c in centres):
                centres.append(int(cm[j]))
        return best_B, float(h[order[0]]), np.array(centres, dtype=np.int64)

    def local(self, us: np.ndarray, centres: np.ndarray, window: int):
        """Certified steps at K values of u (us, (K,)) from the m within ±window of the track centres (T,).

        Angle addition again, m = c + j: for each u, [cos cθ | −sin cθ] (T × 2p) @ [cos jθ | sin jθ]ᵀ (2p × (2w+1))
        gives B and [sin cθ | cos cθ]·kθ @ the same gives D (see ``steps``): only K·(T + 2w + 1)·p cos/sin calls.
        Returns (h (K,), witness m (K,), re-centred tracks at each u (K, T)).
        """
        self.n_local += len(us)
        theta = np.exp(-us[:, None] * self.k[None, :])                         # (K, p)
        offs = np.arange(-window, window + 1)
        pc = centres.astype(np.float64)[None, :, None] * theta[:, None, :]     # (K, T, p)
        po = np.arange(window + 1, dtype=np.float64)[None, :, None] * theta[:, None, :]   # (K, w+1, p), j ≥ 0
        cc, sc = np.cos(pc), np.sin(pc)
        cp, sp = np.cos(po), np.sin(po)
        co = np.concatenate([cp[:, :0:-1], cp], axis=1)                        # (K, W, p): cos is even in j
        so = np.concatenate([-sp[:, :0:-1], sp], axis=1)                       # sin is odd
        kt = (self.k * theta)[:, None, :]                                      # (K, 1, p)
        B = cc @ co.transpose(0, 2, 1) - sc @ so.transpose(0, 2, 1)            # (K, T, W)
        D = (sc * kt) @ co.transpose(0, 2, 1) + (cc * kt) @ so.transpose(0, 2, 1)
        m = centres[:, None] + offs[None, :]                                   # (T, W)
        B = np.where((m >= 1) & (m < self.L), B, np.inf)
        K, T, W = B.shape
        h = self.steps(theta, m.reshape(-1), B.reshape(K, -1), D.reshape(K, -1)).reshape(K, T, W)
        jt = h.argmax(axis=2)                                                  # best member per track, (K, T)
        tracks = np.take_along_axis(np.broadcast_to(m, (K, T, W)), jt[..., None], axis=2)[..., 0]
        flat = h.reshape(K, -1)
        jb = flat.argmax(axis=1)
        return flat[np.arange(K), jb], m.reshape(-1)[jb], tracks


@lru_cache(maxsize=256)
def _search(d: int, L: int, rtol: float, max_evals: int | None) -> tuple[float, float, int, int, int]:
    """-> (b̂ or nan if the budget ran out, certified lower end reached, n_full, n_local, n_gaps)."""
    p = d // 2
    if L <= 2:
        return 1.0, 1.0, 0, 0, 0             # B_0 = p, B_1 = Σ cos θ_i > 0 for every b > 1 (θ_i ≤ 1)
    if p == 1:
        return math.inf, math.inf, 0, 0, 0   # d = 2: B_m = cos m whatever b; B_2 = cos 2 < 0
    scan = _Scan(d, L)
    u, u_max = 0.0, math.log(BASE_MAX)
    n_tracks, window, batch = _TRACKS, _WINDOW, _BATCH
    centres = np.zeros(0, dtype=np.int64)
    h_ref = delta = 0.0
    while u <= u_max:
        if max_evals is not None and scan.n_full + scan.n_local >= max_evals:
            return math.nan, math.exp(u), scan.n_full, scan.n_local, scan.n_gaps
        advanced = 0.0
        if centres.size:
            # Evaluate the tracks at u, u + δ, …, u + (K−1)δ at once and chain the certified intervals
            # [u_j, u_j + h_j): they prove B < 0 up to the first point not covered.
            us = u + delta * np.arange(batch)
            h, _, tracks = scan.local(us, centres, window)
            reach, last = u, -1
            for j in range(batch):
                if us[j] > reach or h[j] <= 0:
                    break
                reach, last = max(reach, us[j] + h[j]), j
            advanced = reach - u
            if last >= 0:
                centres = np.unique(tracks[last])
            delta = delta * (1.5 if last == batch - 1 else 0.6 if last < batch // 2 else 1.0)
        if advanced < 0.3 * h_ref or advanced <= 0.0:
            fmin, h0, new = scan.full(u, n_tracks, window)
            if fmin >= _atol(_theta(u, scan.k), L):
                return math.exp(u), math.exp(u), scan.n_full, scan.n_local, scan.n_gaps
            if h0 < rtol:                    # at a zero crossing of the witnesses: step over it unproven
                h0 = rtol
                scan.n_gaps += 1
            h_ref = h0
            if new.size:
                centres = new
            delta = 0.7 * h0 if delta <= 0 else min(delta, 0.7 * h0) if advanced <= 0 else delta
            advanced = max(advanced, h0)
        u += advanced
    return math.inf, math.inf, scan.n_full, scan.n_local, scan.n_gaps


def base_lower_bound_info(head_dim: int, context_length: int, rtol: float = 1e-9,
                          max_evals: int | None = None) -> dict:
    """``base_lower_bound`` with its work counts, and optionally a partial answer within a budget.

    Args:
        head_dim, context_length, rtol: as in ``base_lower_bound``.
        max_evals: stop after this many evaluations (all-m ones plus track-window ones; a window evaluation is
            O(W·d) for a window of W = 49 integers, an all-m one ~L·d·4 flops); None = run to the end. The budget
            is deterministic, so partial results are cacheable too.

    Returns:
        dict(base, lower, complete, n_full, n_local, n_gaps): ``base`` = b̂ (nan if the budget ran out);
        ``lower`` = the scan position reached: every base in (1, lower) is proven infeasible (up to the rtol gaps
        described in ``base_lower_bound``), so b* ≥ lower — a partial result a page can show while it waits;
        equal to ``base`` when complete; ``n_full``/``n_local`` = all-m / window evaluations; ``n_gaps`` = unproven
        rtol steps.
    """
    d = _head_dim(head_dim)
    L = _context("context_length", context_length)
    rtol = V.real("rtol", rtol, 1e-12, 1e-3, text=False)
    if max_evals is not None:
        max_evals = V.integer("max_evals", max_evals, 1, 10**9, text=False)
    b, lower, nf, nl, ng = _search(d, L, float(rtol), max_evals)
    return {"base": b, "lower": lower, "complete": not math.isnan(b), "n_full": nf, "n_local": nl, "n_gaps": ng}


def base_lower_bound(head_dim: int, context_length: int, rtol: float = 1e-9) -> float:
    """The smallest RoPE base b with B_m(b) = Σ_{i<d/2} cos(m·b^(−2i/d)) ≥ 0 for every integer 0 ≤ m < L
    (Men et al. 2024, arXiv:2405.14591, "Base of RoPE Bounds Context Length", Theorem 1 and Table of base lower
    bounds). d = 128, L = 1K … 1M → 4293.4 … 6.5375e7 (``men_table`` sets them beside the paper's printed row).

    Args:
        head_dim: d, even, 2 … 1024 (for partial rotary: the rotary width).
        context_length: L in 1 … 2**24 tokens.
        rtol: relative resolution in b of the answer, in [1e-12, 1e-3].

    Returns:
        b̂ as a float. 1.0 for L ≤ 2 (every base > 1 works: B_0 = d/2, B_1 = Σ cos θ_i > 0); ``math.inf`` if no base
        ≤ 1e12 works (always so for d = 2, where B_2 = cos 2 < 0 for every base).

    Method: a certified upward scan in u = ln b from b = 1. At each u some integer m < L with B_m(u) < 0 (a
    *witness*) is found and u is advanced by a step on which that B_m provably stays negative: with k_i = 2i/d,
    |∂B_m/∂u| ≤ m·Σ_i k_i θ_i and |∂²B_m/∂u²| ≤ Σ_i k_i² (mθ_i + m²θ_i²), evaluated at the left end (θ_i only shrink
    as b grows, so the bounds hold on the whole step), giving a first-order and a Taylor-with-remainder step
    (``_Scan.steps``). Witnesses are taken from an all-m evaluation (``min_similarity``'s angle-addition matrix
    product) and then *tracked*: the good witnesses drift slowly in m as b grows, so the next steps evaluate ±24
    integers around the last 8 witnesses at 4 values of u at once and chain the certified intervals, falling back to
    the all-m evaluation when that advances less than 0.3× the last all-m step. The scan stops at the first u where
    the all-m evaluation gives min_m B_m ≥ atol.

    Guarantee: B_m(b̂) ≥ atol for all m < L, where atol = (E) of ``_phasor`` = 4e-15·(d/2 + L·Σθ_i) bounds the
    float64 rounding of B, and every b in (1, b̂) is proven infeasible except inside "gaps": where the best step
    falls below rtol (the witnesses are within ~rtol of a zero crossing) the scan steps rtol without proof. So b̂ is
    the true b* to a relative rtol unless a feasible window narrower than rtol (relative) sits at one of those
    crossings (the narrow windows next to b* are ~1e-4 wide; B itself is only known to ±atol). The number of gaps
    is returned by ``base_lower_bound_info``.

    Cost: the work grows like L·ln b*: a witness m stays negative only over a u-range ~1/(m·Σ k_iθ_i), and the
    useful witnesses have m ~ L; for d = 128 the scan takes 207 all-m and 12,740 window evaluations at L = 128K and
    910 + 54,036 at 1M. It is NOT interactive for long contexts: pages
    show ``base_bound_curve`` (a verified grid bound, fast up to 2M tokens) or the proven partial lower bound of
    ``base_lower_bound_info(..., max_evals=N)``. Results are cached in-process per (d, L, rtol).
    """
    return base_lower_bound_info(head_dim, context_length, rtol)["base"]


# -- Liu et al. 2023 -----------------------------------------------------------------------------------------------
def _critical_dim(d: int, base: float, train_length: int) -> int:
    x = (d / 2) * math.log(train_length / (2 * math.pi)) / math.log(base)
    # ceil with a 1e-9 guard so that an exact integer (up to float rounding) is not pushed up by one
    return int(min(d, max(0, 2 * math.ceil(x - 1e-9))))


def critical_dim(cfg: RopeConfig, train_length: int) -> int:
    """Liu et al. 2023 (arXiv:2310.05209) Eq. 13, generalised from base 10000 to the config's base b:
    d_extra = 2·⌈(r/2)·log_b(T_train / 2π)⌉, clamped to [0, r], with r = cfg.rotary_dim.

    The first d_extra/2 pairs have a wavelength 2π·b^(2i/r) ≤ T_train (Lemma 1, Eq. 12): they saw every phase
    during pre-training; the remaining r − d_extra dimensions are "the root of the extrapolation problem".
    cfg.base is read as the pre-training base; scaling in cfg is ignored. Examples (d = 128):
    Llama 2 (4096, 1e4) → 92, Llama 1 (2048, 1e4) → 82, Llama 3 (8192, 5e5) → 70, (32768, 1e6) → 80.
    """
    V.config("cfg", cfg)
    T = _context("train_length", train_length)
    return _critical_dim(cfg.rotary_dim, cfg.base, T)


def extrapolation_bound(cfg: RopeConfig, train_length: int, pretrain_base: float | None = None) -> float:
    """Liu et al. 2023 (arXiv:2310.05209) Theorem 3, Eq. 16b: T_extra = 2π·β^(d_extra / r), in tokens.

    β = cfg.base is the base the model runs with (after fine-tuning with a new base); d_extra is the critical
    dimension (Eq. 13, ``critical_dim``) of **pre-training**: length train_length at ``pretrain_base`` (default
    cfg.base, i.e. an un-tuned model, for which T_extra ≥ train_length). The paper's setting is pretrain_base = 1e4,
    e.g. Llama 2 (r = 128, 4096) tuned with β = 1e6 → 2π·1e6^(92/128) ≈ 129,027.

    This is the raw 16b expression; the theorem applies it for β > β0 (``critical_base``); for β ≤ β0 it says the
    bound is the tuning length instead (Eq. 16c).
    """
    V.config("cfg", cfg)
    T = _context("train_length", train_length)
    b0 = cfg.base if pretrain_base is None else _base("pretrain_base", pretrain_base)
    r = cfg.rotary_dim
    return 2 * math.pi * cfg.base ** (_critical_dim(r, b0, T) / r)


def critical_base(train_length: int, tune_length: int, pretrain_base: float = 10000.0) -> float:
    """Liu et al. 2023 (arXiv:2310.05209) Eq. 16a: β0 = b^(log_{T_train/2π}(T_tune/2π)), b = pretrain_base.

    Tuning with a base above β0 extrapolates to T_extra (Eq. 16b) beyond the tuning length; at or below it the bound is
    the tuning length. Independent of the head dim. Llama 2 (4096 → 16384, b = 1e4): 71,738.
    """
    T = _context("train_length", train_length)
    Tt = _context("tune_length", tune_length)
    b = _base("pretrain_base", pretrain_base)
    if T <= 2 * math.pi:
        raise ValueError(f"train_length must exceed 2π ≈ 6.28 tokens (log base T_train/2π), got {T}")
    return b ** (math.log(Tt / (2 * math.pi)) / math.log(T / (2 * math.pi)))


def small_base_thresholds(tune_length: int) -> tuple[float, float, float]:
    """Liu et al. 2023 (arXiv:2310.05209) Eq. 16d: (β1, β2, β3) = (2·T_tune/π, T_tune/π, T_tune/(2π)).

    Bases below these extrapolate markedly better (the README's "2608 to 652" for T_tune = 4096).
    """
    Tt = _context("tune_length", tune_length)
    return 2 * Tt / math.pi, Tt / math.pi, Tt / (2 * math.pi)


def liu_min_base(rotary_dim: int, context_length: int, train_length: int,
                 pretrain_base: float = 10000.0) -> tuple[float | None, int]:
    """Liu et al. 2023 (arXiv:2310.05209) Eq. 16b solved for the base: the smallest β with T_extra ≥ L.

    A model with rotary width r pre-trained at T = ``train_length`` tokens with base ``pretrain_base`` has critical
    dimension d_extra (Eq. 13, ``critical_dim``); tuned with base β its extrapolation bound is
    T_extra = 2π·β^(d_extra/r) (Eq. 16b), so T_extra ≥ L = ``context_length`` needs β ≥ (L/2π)^(r/d_extra).

    Returns (β, d_extra). β is None when T ≥ L (nothing to extrapolate) or d_extra = 0 (no pair completes a period
    in pre-training: no base reaches L); it may exceed BASE_MAX = 1e12, which the caller should say.
    """
    r = _head_dim(rotary_dim)
    L = _context("context_length", context_length)
    T = _context("train_length", train_length)
    d_extra = _critical_dim(r, _base("pretrain_base", pretrain_base), T)
    if T >= L or d_extra <= 0:
        return None, d_extra
    return (L / (2 * math.pi)) ** (r / d_extra), d_extra


# -- Men et al.'s condition for a config, and the bound curve --------------------------------------------------------
def men_condition(cfg: RopeConfig, context_length: int | None = None) -> dict:
    """Does ``cfg`` satisfy Men et al.'s condition (arXiv:2405.14591, Theorem 1) over its own context?

    B_m = Σ_{i<r/2} cos(m·θ_i) + (d − r)/2 ≥ 0 for every integer 0 ≤ m < L, where θ = ``effective_inv_freq(cfg, L)``
    (the frequencies in effect over L tokens: LongRoPE's long factors past its original context, dynamic NTK's base
    at L, every other scaling included) and the (d − r)/2 pairs a partial-rotary head leaves unrotated count
    cos 0 = 1 each. L = ``context_length`` or cfg.context_length.

    This is the classification to use: feasibility is not monotone in the base, so a config "above" a bound curve
    can fail (d = 128, base 1e6: B_m < 0 at m = 27,115 < 32,768, although Men et al.'s bound for 32K is 6.3e5).

    Returns dict(holds: bool, first_negative: the first m < L with B_m < 0, or None; context_length: L;
    head_dim; rotary_dim). Exact: values within the error bound of 0 are decided by direct float64 evaluation
    (``_phasor.first_negative``). O(L·r) at most, usually far less (it stops at the first negative)."""
    V.config("cfg", cfg)
    L = cfg.context_length if context_length is None else _context("context_length", context_length)
    theta = effective_inv_freq(cfg, L)
    m = P.first_negative(theta, (cfg.head_dim - cfg.rotary_dim) // 2, L)
    return {"holds": m is None, "first_negative": m, "context_length": L, "head_dim": cfg.head_dim,
            "rotary_dim": cfg.rotary_dim}


BOUND_CONTEXTS = tuple(1 << k for k in range(10, 22))   # 1K … 2M tokens
BOUND_GRID_PER_DECADE = 100
_WIN_OFFSETS = np.arange(-64.0, 65.0)                   # m ± 64 around each remembered witness
_PROBE = 1 << 16                                        # m values probed just below the context before a full scan


@lru_cache(maxsize=32)
def _grid_bound(d: int, r: int, contexts: tuple[int, ...], per_decade: int) -> tuple[float, ...]:
    """The smallest grid base satisfying the condition for each context (ascending tuple), NaN where none ≤ 1e12.

    One upward sweep. A base fails for the smallest unresolved context L if some m < L has B_m < 0: the integers
    within ±64 of the last 16 witnesses found at earlier bases are tried first (direct evaluation; negative values
    drift slowly in m as the base grows), then the 65,536 integers just below L and around L/2 (negative values are
    common there when the base is too small), and only when none of these shows a negative value is the first negative m searched from
    0 (``_phasor.first_negative``). A value counts as negative only when it is below −(E), so either way the
    decision is exact."""
    n_pass = (d - r) // 2
    out = [math.nan] * len(contexts)
    i = 0
    while i < len(contexts) and contexts[i] <= 2:
        out[i] = 1.0                                       # B_0 = d/2, B_1 = Σ cos θ_i + n_pass > 0 (θ_i ≤ 1)
        i += 1
    L_max = contexts[-1]
    witnesses = np.zeros(0)                                # (w,) recent m with B_m < 0, as floats
    j = 1
    while i < len(contexts):
        b = 10.0 ** (j / per_decade)
        j += 1
        if b > BASE_MAX:
            break
        theta = default_inv_freq(b, r)                                     # (r/2,) θ_i = b^(−2i/r)
        w = (witnesses[:, None] + _WIN_OFFSETS).reshape(-1)                 # (w·(2W + 1),) near old witnesses
        w = w[(w >= 1) & (w < contexts[i])]
        if w.size and np.any(P.cos_sum_direct(theta, w) + n_pass < 0):
            continue                                                       # fails for contexts[i] and beyond
        tol = P.error_bound(theta, contexts[i])
        if any(np.min(P.cos_sum_range(theta, min(_PROBE, contexts[i] - lo), lo)) + n_pass < -tol
               for lo in (max(1, contexts[i] - _PROBE), max(1, contexts[i] // 2 - _PROBE // 2))):
            continue                                                       # a sure negative there: fails too
        m = P.first_negative(theta, n_pass, L_max)
        if m is not None:
            witnesses = np.concatenate([[float(m)], witnesses[:8 * _TRACKS - 1]])
        supported = L_max if m is None else m                              # B ≥ 0 on [0, supported)
        while i < len(contexts) and contexts[i] <= supported:
            out[i] = b
            i += 1
    return tuple(out)


def base_bound_curve(head_dim: int, contexts=BOUND_CONTEXTS, *, rotary_dim: int | None = None,
                     per_decade: int = BOUND_GRID_PER_DECADE) -> dict:
    """Men et al.'s minimum base vs context length for a head of width d rotating r channels, fast up to 2M tokens.

    For each context L: the smallest base b on the grid {10^(j/N)}, N = ``per_decade``, such that
    B_m(b) = Σ_{i<r/2} cos(m·b^(−2i/r)) + (d − r)/2 ≥ 0 for every integer 0 ≤ m < L (Men et al., arXiv:2405.14591,
    Theorem 1; partial rotary's unrotated pairs count 1 each), found by one upward sweep over the grid that computes
    each base's first negative m (``_phasor.first_negative``, exact, stopping early).

    What it is: every returned base verifiably satisfies the condition, so it is an upper bound on Men et al.'s
    infimum b*(L) (``base_lower_bound``, certified, whose work grows like L·ln b*). It can exceed b*
    by more than the grid step 10^(1/N): b* may sit in a feasible window narrower than the step, followed by
    infeasible bases (tests/test_bounds.py measures the ratio against the certified b* for d = 128). What it is
    not: a threshold. Bases above the curve can fail (the feasible set is not an interval); classify a config with
    ``men_condition``.

    Args:
        head_dim: d, even, 2 … 1024.
        contexts: context lengths L (tokens), 1 … 2**24; default 1K, 2K, …, 2M.
        rotary_dim: r, even, 2 … d (default d: full rotary).
        per_decade: grid points per decade of base, 10 … 1000.

    Returns dict(context (n,) int64, base (n,) float64 — NaN where no grid base ≤ 1e12 satisfies the condition;
    no_base (n,) bool — those contexts; every_base bool — True when r ≤ d/2, where B_m ≥ (d − r)/2 − r/2 ≥ 0 for
    every base (base is then 1.0, the infimum over b > 1); head_dim, rotary_dim, per_decade). Cached per arguments.
    """
    d = _head_dim(head_dim)
    r = d if rotary_dim is None else _head_dim(rotary_dim)
    if r > d:
        raise ValueError(f"rotary_dim must be ≤ head_dim = {d}; got {r}")
    n = V.integer("per_decade", per_decade, 10, 1000, text=False)
    ctx = V.float_array("contexts", contexts, ndim=1)
    if ctx.size == 0 or np.any(ctx != np.round(ctx)) or ctx.min() < 1 or ctx.max() > CONTEXT_MAX:
        raise ValueError(f"contexts must be a non-empty list of integers in [1, {CONTEXT_MAX}]; got "
                         f"{V.shorten(contexts)}")
    ctx = ctx.astype(np.int64)
    every = d - r >= r
    if every:
        base = np.ones(ctx.size)
    else:
        uniq = np.unique(ctx)
        vals = np.array(_grid_bound(d, r, tuple(int(c) for c in uniq), n))
        base = vals[np.searchsorted(uniq, ctx)]
    return {"context": ctx, "base": base, "no_base": np.isnan(base), "every_base": every, "head_dim": d,
            "rotary_dim": r, "per_decade": n}


# Men et al. (arXiv:2405.14591), table of the lower bound of the base for head dim d = 128, as printed (the values as
# reproduced by Su Jianlin, kexue.fm/archives/10122, who also re-computed them).
MEN_TABLE_CONTEXTS = tuple(1 << k for k in range(10, 21))           # 1K … 1M tokens
MEN_TABLE_PRINTED = (4.3e3, 1.6e4, 2.7e4, 8.4e4, 3.1e5, 6.4e5, 2.1e6, 7.8e6, 3.6e7, 6.4e7, 5.1e8)
MEN_TABLE_EXACT_MAX = 1 << 15                                         # certified b* computed up to 32K by default


def men_table(exact_max: int = MEN_TABLE_EXACT_MAX, per_decade: int = BOUND_GRID_PER_DECADE) -> dict:
    """Men et al.'s printed table of minimum bases (d = 128, L = 1K … 1M; arXiv:2405.14591) beside our computation.

    Columns, each (11,) over ``context`` (tokens):
      printed       the paper's values (``MEN_TABLE_PRINTED``)
      exact         the certified infimum b*(L) (``base_lower_bound``, work ∝ L·ln b*) for L ≤ ``exact_max``,
                    NaN beyond
      grid          the smallest base of a ``per_decade`` log grid that satisfies the condition (``base_bound_curve``,
                    fast up to 2M): an upper bound on b*
      printed_min_b min_{0≤m<L} B_m at the printed base (``min_similarity``); < 0 means the printed base itself
                    violates B_m ≥ 0 somewhere below L
      printed_holds printed_min_b ≥ 0
    and citation (str).

    Why they differ, most from 128K on: the set of bases satisfying B_m ≥ 0 on [0, L) is not an interval. The
    infimum b* sits in feasible windows ~1e-4 relative wide, separated by infeasible bases, and the windows get
    rarer as L grows (the supported length is far from monotone in the base: for d = 128, base 6.54e7 supports
    1,125,680 tokens while 2e8 supports 566,721). Su reports that the authors computed the inverse (the longest
    context a given base supports) on a set of bases; any such search over discrete bases lands on the first
    sampled base inside a window, which from 128K on is well above b* — our ``grid`` column shows the same kind of
    overshoot (d = 128, 100 per decade: 1M → 4.2e8 against b* = 6.54e7; printed 5.1e8). Rounding a base to two
    digits can also move it out of its narrow window, which is why several printed values fail the condition at
    their own L (``printed_holds``)."""
    exact_max = _context("exact_max", exact_max)
    ctx = np.array(MEN_TABLE_CONTEXTS, dtype=np.int64)
    printed = np.array(MEN_TABLE_PRINTED)
    exact = np.array([base_lower_bound(128, int(L)) if L <= exact_max else math.nan for L in ctx])
    grid = base_bound_curve(128, ctx, per_decade=per_decade)["base"]
    mins = np.array([min_similarity(128, b, int(L))[0] for b, L in zip(printed, ctx)])
    return {"context": ctx, "printed": printed, "exact": exact, "grid": grid, "printed_min_b": mins,
            "printed_holds": mins >= 0,
            "citation": "Men et al., Base of RoPE Bounds Context Length, arXiv:2405.14591 (table of base lower "
                        "bounds, d = 128)"}
