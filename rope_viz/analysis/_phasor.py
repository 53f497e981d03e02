"""Phasor sums: the one evaluator of Re Σ_i h_i e^{iΔθ_i} over many distances Δ (float64, numpy only).

Every RoPE curve of ``rope_viz.analysis`` has this form: the score of two rotated vectors at relative distance Δ
(h_i = af²·z_q,i·conj(z_k,i), RoFormer arXiv:2104.09864 §3.4.2), Men et al.'s B_Δ = Σ_i cos(Δθ_i) (h_i = 1,
arXiv:2405.14591 Theorem 1), the aliasing similarity B_Δ/p, the sinusoidal-APE dot product (Vaswani et al.
arXiv:1706.03762 §3.5) and the bias of constant q/k offsets. This private module owns their evaluation; the modules
that use it state their formulas, it states how they are computed and how accurate that is.

Shapes: h (M, p) complex (None means h_i = 1 for every i, M = 1), θ (p,) rad/token, n distances.

Angle addition (the fast path). For distances on a lattice Δ_j = Δ0 + j·s, j = 0 … R − 1, write j = a·B + b with
B = ⌈√R⌉. Then e^{iΔθ} = e^{i(Δ0 + aBs)θ}·e^{ibsθ}; with A[a, i] = h_i e^{i(Δ0 + aBs)θ_i} (nA × p) and
C[b, i] = e^{ibsθ_i} (B × p) the curve is grid[a, b] = Re Σ_i A[a, i] C[b, i]: one real matrix product
[Re A, −Im A] (nA × 2p) @ [Re C, Im C]ᵀ (2p × B) instead of R·p cosines; only (nA + B)·p = O(√R·p) phasors are
evaluated (``np.exp`` of an imaginary phase). Distances that are integers (any order, repeats, a common step) or
evenly spaced floats are put on a lattice by ``lattice`` when its span R is at most 2n + 1024; anything else is
evaluated directly (``np.cos``/``np.sin`` of every phase, in chunks of bounded memory). No n × n array, no n × p
array larger than one chunk.

Error analysis (the one for every caller). Let m be the largest |Δ| evaluated and u = 2⁻⁵³ the unit roundoff;
θ_i is taken as exact (it is the caller's input). Direct evaluation forms each phase Δ·θ_i with one rounding
(error ≤ u·|Δ|θ_i), then cos/sin (≤ 1 ulp each) and a sum of p products. The fast path forms two phases,
(Δ0 + aBs)·θ_i and bs·θ_i (exact integers times θ_i on integer lattices, one rounding each), two cos/sin pairs,
their product and a dot product of length 2p. Per term that is at most ≈ (2m·θ_i + 6)·u·|h_i|; the length-2p sum
adds ≲ √(2p)·u·Σ|h_i| (the rounding errors of a blocked FMA dot product do not align; the worst case 2p·u·Σ|h_i|
is not approached in practice). Both paths therefore stay within

    |computed − exact| ≤ ERR_UNIT · (Σ_i |h_i| + m · Σ_i |h_i| θ_i),      ERR_UNIT = 4e-15 ≈ 36u          (E)

(``error_bound``): the constant part covers (6 + √(2p))·u up to p ≈ 450 and the m-part has an 18× margin, ample
for every head dim ≤ 1024 at |Δ| ≥ 1. For B at d = 128, base 1e4 (Σθ_i ≈ 7.5) (E) is ≈ 3e-8 at m = 2^20.
tests/test_phasor.py checks (E) against the naive float64 loops of tests/naive.py over random bases, dims and
distance ranges. The fast and the direct value of one sum thus differ by at most twice (E); where a *sign* matters
(``first_negative``; ``bounds.base_lower_bound`` certifies B_m < −(E)) every value within (E) of the threshold is
re-evaluated directly or treated as unknown. The rounding of a position times θ_i is shared by every float64 RoPE
implementation, so (E) is also the distance to what such code computes (transformers computes it in float32: far
larger).
"""

from __future__ import annotations

import math
from typing import Iterator

import numpy as np

ERR_UNIT = 4e-15              # (E) in the module docstring
FAST_MIN = 64                # lattice spans shorter than this are evaluated directly
DENSE_SLACK = (2, 1024)      # the fast path is used when the lattice span R ≤ 2·n + 1024
CHUNK_ELEMS = 1 << 20        # (distance × pair) phases per chunk of a direct evaluation (16 MiB complex)
GRID_ELEMS = 1 << 23         # curve values per matrix product of the fast path (64 MiB); more are done in row blocks
_EPS = np.finfo(np.float64).eps


def error_bound(theta: np.ndarray, max_distance: float, weights: np.ndarray | None = None) -> float:
    """(E): the bound on the float64 error of Re Σ_i h_i e^{iΔθ_i} for |Δ| ≤ max_distance, fast path or direct.
    weights: |h_i| (p,), default 1 (B_Δ). Returns a float ≥ 0 in the units of the sum."""
    t = np.abs(np.asarray(theta, dtype=np.float64))
    m = abs(float(max_distance))
    if weights is None:
        return ERR_UNIT * (t.size + m * float(t.sum()))
    w = np.abs(np.asarray(weights, dtype=np.float64))
    return ERR_UNIT * (float(w.sum()) + m * float((w * t).sum()))


# ------------------------------------------------------------------------------------------------------------------
# lattices and phasor tables
def lattice(d: np.ndarray):
    """Write d_j = start + k_j·step with integers 0 ≤ k_j < R, if the distances d (n,) are dense on such a lattice.

    Returns (start, step, k, R) or None; k is None when d is exactly start + step·arange(n) (the common case, checked
    first because it is cheap), else an (n,) int64 array. Integer distances use step = gcd of their offsets; floats
    are accepted when evenly spaced to within 4 ulp of max|d| (e.g. ``np.linspace`` grids)."""
    n = d.size
    if n == 0:
        return None
    lo, hi = float(d.min()), float(d.max())
    big = max(abs(lo), abs(hi))
    if n >= 2 and big < 2.0 ** 52:
        d0, s0 = float(d[0]), float(d[1] - d[0])
        if s0 > 0 and d0.is_integer() and s0.is_integer() and np.all(np.diff(d) == s0):
            return d0, s0, None, n                                 # integers: d_j = d0 + j·s0 exactly
    max_span = DENSE_SLACK[0] * n + DENSE_SLACK[1]
    if big < 2.0 ** 52 and np.all(d == np.rint(d)):
        di = d.astype(np.int64)
        start = int(di.min())
        off = di - start                                           # (n,) ≥ 0
        step = int(np.gcd.reduce(off)) or 1
        k = off // step
        R = int(k.max()) + 1
        return (float(start), float(step), k, R) if R <= max_span else None
    if n < 2:
        return None
    u = np.unique(d)
    if u.size < 2:
        return None
    span = hi - lo
    nsteps = int(round(span / float(np.diff(u).min())))
    if not 1 <= nsteps < max_span:                                # R = nsteps + 1 ≤ max_span
        return None
    step = span / nsteps
    k = np.rint((d - lo) / step).astype(np.int64)
    if np.max(np.abs(lo + k * step - d)) > 4 * _EPS * big:
        return None
    return lo, step, k, nsteps + 1


def phasor_tables(theta: np.ndarray, start: float, step: float, R: int) -> tuple[np.ndarray, np.ndarray]:
    """The two angle-addition tables of the lattice start + j·step, j < R: (outer (nA, p), inner (B, p)) complex,
    outer[a] = e^{i(start + aBs)θ}, inner[b] = e^{ibsθ}, B = ⌈√R⌉, nA = ⌈R/B⌉, so that
    e^{i(start + (aB + b)s)θ} = outer[a]·inner[b]."""
    B = math.isqrt(R - 1) + 1                                      # B = ⌈√R⌉ (R ≥ 1)
    nA = -(-R // B)                                                # ⌈R / B⌉
    inner = np.exp(1j * ((np.arange(B, dtype=np.float64) * step)[:, None] * theta))             # (B, p)
    outer = np.exp(1j * ((start + np.arange(nA, dtype=np.float64) * (B * step))[:, None] * theta))   # (nA, p)
    return outer, inner


# ------------------------------------------------------------------------------------------------------------------
# evaluation
def _lattice_blocks(h: np.ndarray | None, theta: np.ndarray, start: float, step: float,
                    R: int) -> Iterator[tuple[int, np.ndarray]]:
    """Re Σ_i h[m, i] e^{i(start + j·step)θ_i} for j = 0 … R − 1 by angle addition, as (j0, values (M, c)) blocks
    covering j = 0 … R − 1 in order: one block for M > 1 (the caller bounds M·R), and for M = 1 one block unless
    R exceeds GRID_ELEMS, then blocks of whole grid rows."""
    outer, inner = phasor_tables(theta, start, step, R)
    nA, B = outer.shape[0], inner.shape[0]
    cmat = np.concatenate([inner.real, inner.imag], axis=1)        # (B, 2p) = [Re C, Im C]
    if h is None:
        M, amat = 1, np.concatenate([outer.real, -outer.imag], axis=1)   # (nA, 2p): A = outer (h_i = 1)
    else:
        M = h.shape[0]
        a = h[:, None, :] * outer[None, :, :]                      # (M, nA, p) = A
        amat = np.concatenate([a.real, -a.imag], axis=-1).reshape(M * nA, -1)   # (M·nA, 2p) = [Re A, −Im A]
    rows = M * nA if M > 1 else max(1, GRID_ELEMS // B)
    for a0 in range(0, M * nA, rows):
        grid = amat[a0:a0 + rows] @ cmat.T                         # (rows, B): grid[a, b] = curve(aB + b)
        if M > 1:
            yield 0, grid.reshape(M, nA * B)[:, :R]
            return
        j0 = a0 * B
        yield j0, grid.reshape(1, -1)[:, :R - j0]


def _on_lattice(h, theta, start, step, R) -> np.ndarray:
    """``_lattice_blocks`` gathered: (M, R)."""
    return np.concatenate([blk for _, blk in _lattice_blocks(h, theta, start, step, R)], axis=1)


def _direct(h: np.ndarray, theta: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Re Σ_i h[m, i] e^{i d_j θ_i} term by term (cos/sin of every (Δ, i)), in chunks. (M, p), (n,) → (M, n)."""
    M, p = h.shape
    out = np.empty((M, d.size))
    chunk = max(1, CHUNK_ELEMS // max(p, 1))
    hr, hi = np.ascontiguousarray(h.real.T), np.ascontiguousarray(h.imag.T)   # (p, M) each
    for s in range(0, d.size, chunk):
        ph = d[s:s + chunk, None] * theta                          # (c, p)
        out[:, s:s + chunk] = (np.cos(ph) @ hr - np.sin(ph) @ hi).T   # (c, M) → (M, c)
    return out


def cos_sum_direct(theta: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Σ_i cos(d_j θ_i) term by term with numpy's pairwise summation over i, in chunks of distances: (p,), (n,) →
    (n,). For a few values decided or shown one by one (``first_negative``'s re-checks, single similarities); the
    batch path of ``cos_sum`` sums by a matrix product instead (within (E) of this)."""
    out = np.empty(d.size)
    chunk = max(1, CHUNK_ELEMS // max(theta.size, 1))
    for s in range(0, d.size, chunk):
        out[s:s + chunk] = np.cos(d[s:s + chunk, None] * theta).sum(axis=1)   # (c, p) → (c,)
    return out


def phasor_sum(h: np.ndarray, theta: np.ndarray, d: np.ndarray, lat="auto") -> np.ndarray:
    """Re Σ_i h[m, i] e^{i d_j θ_i}: h (M, p) complex, θ (p,), d (n,) float64 → (M, n). Angle addition when d is a
    dense lattice (``lattice``; pass ``lat`` if already known), direct evaluation otherwise; error (E)."""
    if isinstance(lat, str):
        lat = lattice(d)
    if lat is None or lat[3] < FAST_MIN:
        return _direct(h, theta, d)
    start, step, k, R = lat
    grid = _on_lattice(h, theta, start, step, R)                   # (M, R)
    return grid if k is None else grid[:, k]                       # (M, n)


def cos_sum(theta: np.ndarray, d: np.ndarray) -> np.ndarray:
    """B_Δ = Σ_i cos(Δ θ_i) at the distances d (n,) float64 → (n,): ``phasor_sum`` with h_i = 1; error (E)."""
    if theta.size == 0:
        return np.zeros(d.size)
    lat = lattice(d)
    if lat is None or lat[3] < FAST_MIN:
        return _direct(np.ones((1, theta.size), dtype=np.complex128), theta, d)[0]
    start, step, k, R = lat
    grid = _on_lattice(None, theta, start, step, R)[0]             # (R,)
    return grid if k is None else grid[k]


def cos_sum_range(theta: np.ndarray, n: int, start: int = 0) -> np.ndarray:
    """B_Δ for the n consecutive integers Δ = start … start + n − 1, (n,): the angle-addition path directly."""
    if n < 1:
        return np.zeros(0)
    return _on_lattice(None, theta, float(start), 1.0, n)[0]


def cos_sum_blocks(theta: np.ndarray, n: int, start: int = 0) -> Iterator[tuple[int, np.ndarray]]:
    """``cos_sum_range`` in blocks of bounded memory: yields (Δ of the block's first value, B values (c,)) in order,
    covering Δ = start … start + n − 1."""
    for j0, blk in _lattice_blocks(None, theta, float(start), 1.0, n):
        yield start + j0, blk[0]


def first_negative(theta: np.ndarray, offset: float, stop: int, start: int = 0) -> int | None:
    """The first integer m in [start, stop) with offset + Σ_i cos(m θ_i) < 0, or None.

    offset: a constant added to the sum (e.g. the (d − r)/2 un-rotated pairs of a partial-rotary head). Scans in
    growing chunks (an infeasible base usually fails early) with the angle-addition path; values within (E) of 0
    are re-evaluated directly, so the answer is the one of direct float64 evaluation."""
    p = theta.size
    if offset - p >= 0:
        return None                                                # the sum is ≥ offset − p ≥ 0 for every m
    m0, chunk = start, 4096
    while m0 < stop:
        R = min(chunk, stop - m0)
        vals = cos_sum_range(theta, R, m0) + offset                # (R,) for m = m0 … m0 + R − 1
        tol = error_bound(theta, m0 + R)
        cand = np.flatnonzero(vals < tol)
        if cand.size:
            sure = cand[vals[cand] < -tol]
            first_sure = int(sure[0]) if sure.size else R
            amb = cand[cand < first_sure]                          # |value| within the error: decide directly
            if amb.size:
                neg = amb[cos_sum_direct(theta, (m0 + amb).astype(np.float64)) + offset < 0]
                if neg.size:
                    return int(m0 + neg[0])
            if sure.size:
                return int(m0 + first_sure)
        m0 += R
        chunk = min(2 * chunk, 1 << 22)
    return None
