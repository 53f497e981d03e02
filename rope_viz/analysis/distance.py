"""Attention score as a function of relative distance, and the distance curves built on it (float64, numpy only).

Every curve here is a sum over rotated pairs of a phasor turning at the pair's frequency. Write pair i of a vector x
as the complex number z_i = a_i + i·b_i (channels (a_i, b_i) from ``rotation.pair_indices``: either layout). RoPE at
position m maps z_i → af·z_i·e^{i m θ_i} (af = ``attention_factor``; transformers multiplies cos and sin by it, so
only the rotated channels are scaled) and leaves channels r … d−1 alone. For a query Δ tokens after its key
(query at p + Δ, key at p) the real dot product of two rotated vectors is (RoFormer, arXiv:2104.09864, §3.4.2)

    score(Δ) = Re Σ_i h_i e^{iΔθ_i} + c,     h_i = af² · z_q,i · conj(z_k,i),     c = Σ_{j ≥ r} q_j k_j,

independent of p. Curves in this module, all of the form Re Σ_i h_i e^{iΔθ_i} for some h:

    score_vs_distance     h as above (one curve per (q, k) in a batch)
    similarity_sum        h_i = 1: Men et al.'s B_m = Σ_i cos(m θ_i) (arXiv:2405.14591, Theorem 1)
    first_negative_distance   the first m ≥ 0 with B_m < 0
    random_score_band     Monte-Carlo mean/std over Gaussian q, k plus the closed form (Barbero et al.,
                          arXiv:2410.06205: no decay in expectation)
    decay_bound           RoFormer §3.4.3's relative upper bound (1/(d/2)) Σ_j |S_j| (not of this form: it needs
                          every prefix sum S_j, so it is O(n·p); on a lattice the phasors are still built by angle
                          addition, one complex product each instead of an exp)

Fast path (angle addition). For distances on an integer lattice Δ = Δ0 + j·s, j = 0 … R−1, split j = a·B + b with
B ≈ √R. Then e^{iΔθ} = e^{i(Δ0 + aBs)θ} · e^{ibsθ}, so with A[a, i] = h_i e^{i(Δ0 + aBs)θ_i} (nA × p) and
C[b, i] = e^{ibsθ_i} (B × p) the whole curve is grid[a, b] = Re Σ_i A[a, i] C[b, i] — one real matrix product
[Re A, −Im A] (nA × 2p) @ [Re C, Im C]ᵀ (2p × B) — instead of R·p cos/sin evaluations. Only O(√R·p) transcendental
calls remain; the phase of every term is still formed from one rounding of a position times θ_i, so the error is that
of the direct float64 evaluation (≈ 1e-16·|Δ|·θ_i rad per term, ≈ 1e-10 of Σ|h_i| at |Δ| = 1e6). Distances that are
integers (any order, repeats allowed, gcd step) or evenly spaced floats use it when the lattice span R is at most
2n + 1024; anything else (sparse or irregular) is evaluated directly, in chunks of bounded memory.

Shapes: ``...`` leading batch dims, d = head_dim, r = rotary_dim, p = r/2 pairs, n = number of distances.
Nothing here builds an n × n array.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..config import RopeConfig
from ..frequencies import rope_parameters
from ..rotation import to_complex

__all__ = ["score_vs_distance", "pair_products", "phasor_sum", "similarity_sum", "first_negative_distance",
           "decay_bound",
           "random_score_band", "envelope"]

_FAST_MIN = 64                # lattice spans shorter than this are evaluated directly
_DENSE_SLACK = (2, 1024)      # fast path when the lattice span R ≤ 2·n + 1024
_CHUNK_ELEMS = 1 << 20        # (distance × pair) elements per chunk of a direct evaluation (16 MiB complex)
_GRID_ELEMS = 1 << 23         # curve values per batch when a caller reduces many curves on the fly (64 MiB)
LIMIT_MAX = 10 ** 9           # first_negative_distance scans at most this far
N_SAMPLES_MAX = 10_000        # random_score_band
_EPS = np.finfo(np.float64).eps
_AMBIGUITY_FLOOR = 1e-12       # first_negative_distance re-checks |B_m| < p·(this + rounding) directly


# ---------------------------------------------------------------------------------------------------------------
# input validation
# ---------------------------------------------------------------------------------------------------------------
def _check_cfg(cfg) -> None:
    if not isinstance(cfg, RopeConfig):
        raise ValueError(f"cfg must be a RopeConfig, got {type(cfg).__name__}")


def _real_array(x, name: str) -> np.ndarray:
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of real numbers") from None
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"{name} must contain real numbers (int or float), got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    return arr


def _vectors(x, cfg: RopeConfig, name: str) -> np.ndarray:
    arr = _real_array(x, name)
    if arr.ndim == 0 or arr.shape[-1] != cfg.head_dim:
        raise ValueError(f"{name} must have shape (..., head_dim={cfg.head_dim}), got {arr.shape}")
    return arr


def _distances(distances) -> np.ndarray:
    d = _real_array(distances, "distances")
    if d.ndim != 1:
        raise ValueError(f"distances must be a 1-D array of relative distances (tokens), got shape {d.shape}")
    return d


def _int_arg(value, name: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, numbers.Real)):
        raise ValueError(f"{name} must be an integer in [{lo}, {hi:,}], got {value!r}")
    if isinstance(value, numbers.Integral):
        v = int(value)
    else:
        fv = float(value)
        if not math.isfinite(fv) or not fv.is_integer():
            raise ValueError(f"{name} must be an integer in [{lo}, {hi:,}], got {value!r}")
        v = int(fv)
    if not lo <= v <= hi:
        raise ValueError(f"{name} must be an integer in [{lo}, {hi:,}], got {v:,}")
    return v


# ---------------------------------------------------------------------------------------------------------------
# the core evaluator: Re Σ_i h[m, i] e^{iΔ_j θ_i}
# ---------------------------------------------------------------------------------------------------------------
def _lattice(d: np.ndarray):
    """Write d_j = start + k_j·step with integers 0 ≤ k_j < R, if d is dense on such a lattice.

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
    max_span = _DENSE_SLACK[0] * n + _DENSE_SLACK[1]
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


def _fast_curve(h: np.ndarray, theta: np.ndarray, start: float, step: float, R: int) -> np.ndarray:
    """Re Σ_i h[m, i] e^{i(start + j·step)θ_i} for j = 0 … R−1 by the angle-addition identity (module docstring).

    h: (M, p) complex; theta: (p,) rad/token. Returns (M, R) float64. Memory: O(M·R + M·√R·p)."""
    M, p = h.shape
    B = math.isqrt(R - 1) + 1                                      # B = ⌈√R⌉ (R ≥ 1)
    nA = -(-R // B)                                                # ceil(R / B)
    pos_b = np.arange(B, dtype=np.float64) * step                  # (B,)   inner offsets b·s
    ph_c = pos_b[:, None] * theta                                  # (B, p)
    cmat = np.concatenate([np.cos(ph_c), np.sin(ph_c)], axis=1)    # (B, 2p) = [Re C, Im C]
    pos_a = start + np.arange(nA, dtype=np.float64) * (B * step)   # (nA,)  block starts Δ0 + aBs
    ea = np.exp(1j * (pos_a[:, None] * theta))                     # (nA, p)
    a = h[:, None, :] * ea[None, :, :]                             # (M, nA, p) = A
    amat = np.concatenate([a.real, -a.imag], axis=-1)              # (M, nA, 2p) = [Re A, −Im A]
    grid = amat.reshape(M * nA, 2 * p) @ cmat.T                    # (M·nA, B): grid[a, b] = curve(aB + b)
    return grid.reshape(M, nA * B)[:, :R]                          # (M, R)


def _direct_curve(h: np.ndarray, theta: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Re Σ_i h[m, i] e^{i d_j θ_i} evaluated term by term (cos/sin of every (Δ, i)), in chunks. (M, p) → (M, n)."""
    M, p = h.shape
    n = d.size
    out = np.empty((M, n))
    chunk = max(1, _CHUNK_ELEMS // max(p, 1))
    hr, hi = np.ascontiguousarray(h.real.T), np.ascontiguousarray(h.imag.T)   # (p, M) each
    for s in range(0, n, chunk):
        ph = d[s:s + chunk, None] * theta                          # (c, p)
        out[:, s:s + chunk] = (np.cos(ph) @ hr - np.sin(ph) @ hi).T   # (c, M) → (M, c)
    return out


def _re_sum(h: np.ndarray, theta: np.ndarray, d: np.ndarray, lat="auto") -> np.ndarray:
    """Re Σ_i h[m, i] e^{i d_j θ_i}: h (M, p) complex, theta (p,), d (n,) → (M, n). Fast path when d is a dense
    lattice, direct evaluation otherwise. ``lat``: ``_lattice(d)`` if the caller already has it."""
    if isinstance(lat, str):
        lat = _lattice(d)
    if lat is None or lat[3] < _FAST_MIN:
        return _direct_curve(h, theta, d)
    start, step, k, R = lat
    grid = _fast_curve(h, theta, start, step, R)                   # (M, R)
    return grid if k is None else grid[:, k]                       # (M, n)


def phasor_sum(h, theta, distances) -> np.ndarray:
    """Re Σ_i h[..., i] e^{iΔ_j θ_i} for every distance Δ_j: the form of every curve in this module, for callers
    elsewhere (e.g. ``analysis.offsets.offset_bias``). h: (..., p) complex, theta: (p,) rad/token, distances: (n,)
    → (..., n) float64, with the angle-addition fast path on dense lattices (module docstring)."""
    h = np.asarray(h, dtype=np.complex128)
    theta = np.asarray(theta, dtype=np.float64)
    if h.shape[-1:] != theta.shape:
        raise ValueError(f"h must have shape (..., {theta.size}) to match theta, got {h.shape}")
    d = _distances(distances)
    lead = h.shape[:-1]
    if theta.size == 0:                                            # an empty sum
        return np.zeros(lead + (d.size,))
    out = _re_sum(np.ascontiguousarray(h).reshape(-1, theta.size), theta, d)
    return out.reshape(lead + (d.size,))


def _pass_pairs(cfg: RopeConfig) -> int:
    """Pairs left unrotated by partial rotary: (d − r)/2 (θ = 0 for them)."""
    return (cfg.head_dim - cfg.rotary_dim) // 2


# ---------------------------------------------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------------------------------------------
def pair_products(q, k, cfg: RopeConfig, seq_len: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(h, c): h_i = af²·z_q,i·conj(z_k,i) of shape (..., p) complex, and c = Σ_{j ≥ r} q_j k_j of shape (...),
    so that score(Δ) = Re Σ_i h_i e^{iΔθ_i} + c. ``...`` = broadcast(q.shape[:-1], k.shape[:-1])."""
    _check_cfg(cfg)
    q = _vectors(q, cfg, "q")
    k = _vectors(k, cfg, "k")
    try:
        lead = np.broadcast_shapes(q.shape[:-1], k.shape[:-1])
    except ValueError:
        raise ValueError(f"q {q.shape} and k {k.shape} do not broadcast (leading dims must match or be 1)") from None
    _, af = rope_parameters(cfg, seq_len)
    r = cfg.rotary_dim
    h = (af * af) * to_complex(q, cfg) * np.conj(to_complex(k, cfg))   # (..., p)
    c = np.sum(q[..., r:] * k[..., r:], axis=-1)                        # (...,) pass-through channels
    return np.broadcast_to(h, lead + (cfg.n_pairs,)), np.broadcast_to(c, lead)


def score_vs_distance(q, k, cfg: RopeConfig, distances, seq_len: int | None = None) -> np.ndarray:
    """RoPE attention logit (unscaled dot product) of query q and key k at each relative distance Δ.

    score(Δ) = apply_rope(q, p + Δ) · apply_rope(k, p) = Re Σ_i h_i e^{iΔθ_i} + c (module docstring; RoFormer
    arXiv:2104.09864 §3.4.2), independent of the key position p; Δ > 0 means the query is after the key.

    Args:
        q, k: (..., head_dim) real, broadcastable against each other.
        cfg: the RoPE setup (layout, partial rotary, scaling and attention factor all taken into account).
        distances: (n,) relative distances in tokens; ints or floats, may be negative, any order.
        seq_len: passed to ``rope_parameters`` (matters for ``dynamic`` and ``longrope``).
    Returns:
        (..., n) float64. Dense integer (or evenly spaced) distances take the angle-addition fast path; for
        d = 128 and all 1,048,576 distances it is > 10× faster than direct evaluation, error ≲ 1e-10·Σ|h_i|.
    """
    h, c = pair_products(q, k, cfg, seq_len)
    d = _distances(distances)
    theta, _ = rope_parameters(cfg, seq_len)
    lead, p = h.shape[:-1], h.shape[-1]
    out = _re_sum(np.ascontiguousarray(h).reshape(-1, p), theta, d)   # (M, n)
    out += np.reshape(c, (-1, 1))
    return out.reshape(lead + (d.size,))


def similarity_sum(cfg: RopeConfig, distances, seq_len: int | None = None) -> np.ndarray:
    """Men et al.'s B_m = Σ_{i<d/2} cos(m θ_i) at each m in distances (arXiv:2405.14591, Theorem 1): the expected
    extra score a key similar to the query gets over a random key, over 2σ². Shape (n,).

    Pairs left unrotated by partial rotary have θ = 0 and contribute cos 0 = 1 each, i.e. B_m = Σ_{rotated}
    cos(m θ_i) + (d − r)/2 (this is why partial rotation keeps B_m ≥ 0, Su's remark in rope-literature.md §2).
    The attention factor is not included (B_m is a property of the frequencies). Uses cfg's inv_freq, scaling
    included. B_0 = d/2 (64 for d = 128)."""
    _check_cfg(cfg)
    d = _distances(distances)
    theta, _ = rope_parameters(cfg, seq_len)
    ones = np.ones((1, theta.size), dtype=np.complex128)
    return _re_sum(ones, theta, d)[0] + _pass_pairs(cfg)


def first_negative_distance(cfg: RopeConfig, limit, seq_len: int | None = None) -> int | None:
    """The first integer m in [0, limit] with B_m < 0 (see ``similarity_sum``), or None if B_m ≥ 0 throughout.

    Men et al. (arXiv:2405.14591) require B_m ≥ 0 on the whole context, so this is the context length the base
    "supports" by their criterion. Reference (d = 128, rope-literature.md §2): base 1e4 → 1707, 5e5 → 18438,
    1e6 → 27115. Scans in growing chunks with the fast path and stops at the first negative; values within the
    fast path's error of 0 are re-checked by direct evaluation, so the answer is the direct float64 one.
    limit: integer 0 … 1e9 (1e8 takes about a second when no negative is found)."""
    _check_cfg(cfg)
    limit = _int_arg(limit, "limit", 0, LIMIT_MAX)
    theta, _ = rope_parameters(cfg, seq_len)
    n_pass, p = _pass_pairs(cfg), theta.size
    if n_pass >= p:
        return None                                   # B_m ≥ n_pass − p ≥ 0 for every m
    ones = np.ones((1, p), dtype=np.complex128)
    tmax = float(np.max(np.abs(theta)))
    m0, chunk = 0, 4096
    while m0 <= limit:
        R = min(chunk, limit - m0 + 1)
        vals = _fast_curve(ones, theta, float(m0), 1.0, R)[0] + n_pass      # (R,) B_{m0 … m0+R−1}
        tol = p * (_AMBIGUITY_FLOOR + 8 * _EPS * (m0 + R) * tmax)            # ≥ the fast path's error
        cand = np.flatnonzero(vals < tol)
        if cand.size:
            sure = cand[vals[cand] < -tol]
            first_sure = int(sure[0]) if sure.size else R
            amb = cand[cand < first_sure]                                    # |B| within the error: check directly
            if amb.size:
                m = (m0 + amb).astype(np.float64)
                exact = np.cos(m[:, None] * theta).sum(axis=1) + n_pass      # (len(amb),)
                neg = amb[exact < 0]
                if neg.size:
                    return int(m0 + neg[0])
            if sure.size:
                return int(m0 + first_sure)
        m0 += R
        chunk = min(2 * chunk, 1 << 22)
    return None


def decay_bound(cfg: RopeConfig, distances, seq_len: int | None = None) -> np.ndarray:
    """RoFormer's relative upper bound of the score vs distance (Su et al., arXiv:2104.09864, §3.4.3):

        f(Δ) = (1/p) Σ_{j=1}^{p} |S_j(Δ)|,   S_j(Δ) = Σ_{i<j} e^{iΔθ_i},   p = r/2 rotated pairs,

    from Abel summation: |Σ_i h_i e^{iΔθ_i}| ≤ max_i |h_{i+1} − h_i| · Σ_j |S_j|. f(0) = (p + 1)/2 (32.5 for
    d = 128); for d = 128, base 1e4: f(10) ≈ 17.954, f(100) ≈ 10.227 (rope-literature.md §1). Uses cfg's inv_freq
    (scaling included); pass-through channels do not enter. Shape (n,). Cost O(n·p), in chunks (~1 s per 1M)."""
    _check_cfg(cfg)
    d = _distances(distances)
    theta, _ = rope_parameters(cfg, seq_len)
    lat = _lattice(d)
    if lat is None or lat[3] < _FAST_MIN:
        if d.size >= _FAST_MIN and np.all(np.abs(d) < 2.0 ** 40) and np.all(d == np.rint(d)):
            return _decay_integers(theta, d)                       # sparse integers (e.g. sampled distances)
        return _decay_direct(theta, d)
    start, step, k, R = lat
    grid = _decay_lattice(theta, start, step, R)                   # (R,)
    return grid if k is None else grid[k]


def _decay_direct(theta: np.ndarray, d: np.ndarray) -> np.ndarray:
    """decay_bound term by term: e^{iΔθ_i} from exp for every (Δ, i), in chunks. (n,) → (n,)."""
    p = theta.size
    out = np.empty(d.size)
    chunk = max(1, _CHUNK_ELEMS // p)
    for s in range(0, d.size, chunk):
        e = np.exp(1j * (d[s:s + chunk, None] * theta))            # (c, p): e^{iΔθ_i}
        out[s:s + chunk] = _mean_abs_prefix(e)
    return out


def _decay_integers(theta: np.ndarray, d: np.ndarray) -> np.ndarray:
    """decay_bound at arbitrary integer distances: Δ − Δmin = a·B + b with B ≈ √span, so e^{iΔθ} =
    e^{i(Δmin + aB)θ}·e^{ibθ} from two tables of ≈ √span rows (angle addition, as ``_decay_lattice``) — one complex
    product per term instead of a cos/sin of a large angle (~4× faster for 65,536 sampled distances up to 2M)."""
    p = theta.size
    lo = float(d.min())
    off = (d - lo).astype(np.int64)                                # (n,) ≥ 0
    B = math.isqrt(int(off.max())) + 1
    nA = int(off.max()) // B + 1
    cmat = np.exp(1j * (np.arange(B, dtype=np.float64)[:, None] * theta))                     # (B, p)
    amat = np.exp(1j * ((lo + np.arange(nA, dtype=np.float64) * B)[:, None] * theta))         # (nA, p)
    a_idx, b_idx = np.divmod(off, B)
    out = np.empty(d.size)
    chunk = max(1, _CHUNK_ELEMS // p)
    for s in range(0, d.size, chunk):
        e = amat[a_idx[s:s + chunk]] * cmat[b_idx[s:s + chunk]]   # (c, p): e^{iΔθ_i}
        out[s:s + chunk] = _mean_abs_prefix(e)
    return out


def _decay_lattice(theta: np.ndarray, start: float, step: float, R: int) -> np.ndarray:
    """decay_bound on the lattice start + j·step, j < R: e^{iΔθ_i} = A[a, i]·C[b, i] (angle addition, one complex
    product per term instead of an exp; ~3.5× faster). (R,)."""
    p = theta.size
    B = math.isqrt(R - 1) + 1                                      # ≈ √R
    nA = -(-R // B)
    cmat = np.exp(1j * ((np.arange(B, dtype=np.float64) * step)[:, None] * theta))              # (B, p)
    amat = np.exp(1j * ((start + np.arange(nA, dtype=np.float64) * (B * step))[:, None] * theta))  # (nA, p)
    out = np.empty(nA * B)
    rows = max(1, _CHUNK_ELEMS // (B * p))
    for a0 in range(0, nA, rows):
        e = amat[a0:a0 + rows, None, :] * cmat[None, :, :]         # (ra, B, p): e^{i(Δ0 + aBs + bs)θ_i}
        out[a0 * B:(a0 + e.shape[0]) * B] = _mean_abs_prefix(e.reshape(-1, p))
    return out[:R]


def _mean_abs_prefix(e: np.ndarray) -> np.ndarray:
    """(1/p) Σ_j |S_j| with S_j = Σ_{i<j} e[:, i]. e: (c, p) complex, overwritten. → (c,)."""
    np.cumsum(e, axis=1, out=e)                                    # (c, p): S_1 … S_p
    re, im = e.real, e.imag
    return np.sqrt(re * re + im * im).sum(axis=1) / e.shape[1]


def random_score_band(cfg: RopeConfig, distances, n_samples: int = 64, seed: int | None = 0,
                      seq_len: int | None = None) -> dict:
    """Score vs distance for random q, k ~ N(0, I_d): Monte-Carlo mean and std at each Δ, and the closed form.

    Barbero et al. (arXiv:2410.06205) point out that RoFormer's decay (``decay_bound``) is for a fixed q = k; for
    random Gaussian q and k there is no decay in expectation. Closed form: with pair i of q = (a, b), of k = (c, e),
    all iid N(0, 1), the pair's contribution is

        af² · Re[(a + ib)(c − ie) e^{iφ}] = af² · [(ac + be) cos φ − (ae − bc) sin φ],   φ = Δθ_i.

    U = ac + be and V = ae − bc have mean 0, variance 2 (each product of independent N(0,1) has variance 1) and
    E[UV] = E[a²]E[ce] − … = 0, so the term has mean 0 and variance af⁴·2(cos²φ + sin²φ) = 2·af⁴ for every Δ.
    Different pairs and the pass-through channels use disjoint, independent coordinates, and each pass-through
    product q_j k_j adds variance 1. Hence E[score(Δ)] = 0 and

        std[score(Δ)] = √(p · 2af⁴ + (d − r)) = √(r·af⁴ + d − r)     (= √d without attention factor),

    flat in Δ. Returns dict(mean=(n,), std=(n,) sample std with ddof=1, analytic_std=float, n_samples=int). The
    samples are drawn once (``np.random.default_rng(seed)``, q then k, shape (n_samples, d)) and evaluated with the
    fast path in batches (≤ 64 MiB of curves at a time), so the memory is bounded for 1M distances; the cost is
    about n_samples single curves (64 × 1M distances: a few seconds on 2 cores)."""
    _check_cfg(cfg)
    d = _distances(distances)
    n_samples = _int_arg(n_samples, "n_samples", 2, N_SAMPLES_MAX)
    if seed is not None:
        seed = _int_arg(seed, "seed", 0, 2 ** 63 - 1)
    theta, af = rope_parameters(cfg, seq_len)
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((n_samples, cfg.head_dim))
    k = rng.standard_normal((n_samples, cfg.head_dim))
    h, c = pair_products(q, k, cfg, seq_len)                        # (S, p), (S,)
    h = np.ascontiguousarray(h)
    n = d.size
    lat = _lattice(d)
    batch = max(1, _GRID_ELEMS // max(n, 1))
    count, mean, m2 = 0, np.zeros(n), np.zeros(n)
    for s in range(0, n_samples, batch):
        vals = _re_sum(h[s:s + batch], theta, d, lat)              # (b, n)
        vals += c[s:s + batch, None]
        nb = vals.shape[0]
        mb = vals.mean(axis=0)                                     # (n,)
        vals -= mb
        vals *= vals
        m2b = vals.sum(axis=0)                                     # (n,) Σ (x − mb)²
        delta = mb - mean                                           # Chan et al.'s pairwise update
        tot = count + nb
        mean = mean + delta * (nb / tot)
        m2 = m2 + m2b + delta * delta * (count * nb / tot)
        count = tot
    r = cfg.rotary_dim
    return {
        "mean": mean,
        "std": np.sqrt(m2 / (count - 1)),
        "analytic_std": float(math.sqrt(r * af ** 4 + (cfg.head_dim - r))),
        "n_samples": n_samples,
    }


def envelope(x, y, n_bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Min/max envelope of a curve for display: downsample y(x) to at most n_bins points without aliasing away its
    oscillations (plot y_min and y_max as a band, or both lines).

    x, y: (n,) finite, x ascending (e.g. distances). Bins are n_bins runs of consecutive samples whose counts differ
    by at most one; x_ds is the middle of each run's x range. Returns (x_ds, y_min, y_max), each
    (min(n, n_bins),); when n ≤ n_bins they are x, y, y (copies) exactly."""
    xa = _real_array(x, "x")
    ya = _real_array(y, "y")
    if xa.ndim != 1 or ya.shape != xa.shape:
        raise ValueError(f"x and y must be 1-D arrays of the same length, got shapes {xa.shape} and {ya.shape}")
    n_bins = _int_arg(n_bins, "n_bins", 1, 2 ** 31)
    n = xa.size
    if n <= n_bins:
        return xa.copy(), ya.copy(), ya.copy()
    edges = (np.arange(n_bins + 1, dtype=np.int64) * n) // n_bins   # (n_bins + 1,), strictly increasing as n > n_bins
    starts, last = edges[:-1], edges[1:] - 1
    return (0.5 * (xa[starts] + xa[last]),
            np.minimum.reduceat(ya, starts),
            np.maximum.reduceat(ya, starts))
