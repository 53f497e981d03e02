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
    random_score_moments  exact mean (0) and std of the score for Gaussian q, k (Barbero et al.,
                          arXiv:2410.06205: no decay in expectation); random_score_band: a sample of it
    decay_bound           RoFormer §3.4.3's relative upper bound (1/(d/2)) Σ_j |S_j| (not of this form: it needs
                          every prefix sum S_j, so it is O(n·p); on a lattice the phasors are still built by angle
                          addition, one complex product each instead of an exp)

Every one is evaluated by ``_phasor.phasor_sum`` / ``_phasor.cos_sum`` (angle addition on dense distance lattices,
direct evaluation otherwise; its docstring has the one error analysis, (E)); ``decay_bound`` builds its phasors from
``_phasor.phasor_tables``.

Frequencies: every function takes ``seq_len`` (default the config's context length) and uses the frequencies and
attention factor in effect over that many tokens (``frequencies.effective_parameters``), as transformers does.

Shapes: ``...`` leading batch dims, d = head_dim, r = rotary_dim, p = r/2 pairs, n = number of distances.
Nothing here builds an n × n array.
"""

from __future__ import annotations

import math

import numpy as np

from .. import validate as V
from ..config import RopeConfig
from ..frequencies import effective_parameters
from ..rotation import to_complex
from . import _phasor as P

__all__ = ["score_vs_distance", "pair_products", "phasor_sum", "similarity_sum", "first_negative_distance",
           "decay_bound", "random_score_moments", "random_score_band", "envelope"]

LIMIT_MAX = 10 ** 9           # first_negative_distance scans at most this far
N_SAMPLES_MAX = 10_000        # random_score_band


def _vectors(x, cfg: RopeConfig, name: str) -> np.ndarray:
    arr = V.float_array(name, x)
    if arr.ndim == 0 or arr.shape[-1] != cfg.head_dim:
        raise ValueError(f"{name} must have shape (..., head_dim={cfg.head_dim}); got shape {arr.shape}")
    return arr


def _distances(distances) -> np.ndarray:
    return V.float_array("distances", distances, ndim=1)


def phasor_sum(h, theta, distances) -> np.ndarray:
    """Re Σ_i h[..., i] e^{iΔ_j θ_i} for every distance Δ_j: the form of every curve in this module, for callers
    elsewhere (e.g. ``analysis.offsets.offset_bias``). h: (..., p) complex, theta: (p,) rad/token, distances: (n,)
    → (..., n) float64 (``_phasor.phasor_sum``: angle addition on dense lattices, error (E))."""
    h = np.asarray(h, dtype=np.complex128)
    theta = np.asarray(theta, dtype=np.float64)
    if h.shape[-1:] != theta.shape:
        raise ValueError(f"h must have shape (..., {theta.size}) to match theta; got shape {h.shape}")
    d = _distances(distances)
    lead = h.shape[:-1]
    if theta.size == 0:                                            # an empty sum
        return np.zeros(lead + (d.size,))
    out = P.phasor_sum(np.ascontiguousarray(h).reshape(-1, theta.size), theta, d)
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
    V.config("cfg", cfg)
    q = _vectors(q, cfg, "q")
    k = _vectors(k, cfg, "k")
    try:
        lead = np.broadcast_shapes(q.shape[:-1], k.shape[:-1])
    except ValueError:
        raise ValueError(f"q {q.shape} and k {k.shape} do not broadcast (leading dims must match or be 1)") from None
    _, af = effective_parameters(cfg, seq_len)
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
        seq_len: the sequence length whose frequencies are in effect (``effective_parameters``; default the
            config's context length: LongRoPE's long factors past its original context, dynamic NTK's base).
    Returns:
        (..., n) float64. Dense integer (or evenly spaced) distances take the angle-addition fast path
        (``_phasor``; error bound (E) there, ≈ 5e-10·Σ|h_i| at |Δ| = 1e6 for d = 128, base 1e4).
    """
    h, c = pair_products(q, k, cfg, seq_len)
    d = _distances(distances)
    theta, _ = effective_parameters(cfg, seq_len)
    lead, p = h.shape[:-1], h.shape[-1]
    out = P.phasor_sum(np.ascontiguousarray(h).reshape(-1, p), theta, d)   # (M, n)
    out += np.reshape(c, (-1, 1))
    return out.reshape(lead + (d.size,))


def similarity_sum(cfg: RopeConfig, distances, seq_len: int | None = None) -> np.ndarray:
    """Men et al.'s B_m = Σ_{i<d/2} cos(m θ_i) at each m in distances (arXiv:2405.14591, Theorem 1): the expected
    extra score a key similar to the query gets over a random key, over 2σ². Shape (n,).

    Pairs left unrotated by partial rotary have θ = 0 and contribute cos 0 = 1 each, i.e. B_m = Σ_{rotated}
    cos(m θ_i) + (d − r)/2 (this is why rotating at most half of the channels keeps B_m ≥ 0, as Su remarks in
    kexue.fm/archives/10122).
    The attention factor is not included (B_m is a property of the frequencies). Uses the frequencies in effect, scaling
    included. B_0 = d/2 (64 for d = 128)."""
    V.config("cfg", cfg)
    d = _distances(distances)
    theta, _ = effective_parameters(cfg, seq_len)
    return P.cos_sum(theta, d) + _pass_pairs(cfg)


def first_negative_distance(cfg: RopeConfig, limit, seq_len: int | None = None) -> int | None:
    """The first integer m in [0, limit] with B_m < 0 (see ``similarity_sum``), or None if B_m ≥ 0 throughout.

    Men et al. (arXiv:2405.14591) require B_m ≥ 0 on the whole context, so this is the context length the base
    "supports" by their criterion. Reference (d = 128): base 1e4 → 1707, 5e5 → 18438, 1e6 → 27115. The answer is
    the one of direct float64 evaluation (``_phasor.first_negative``: angle addition in growing chunks, values within
    the error bound of 0 re-evaluated directly). limit: integer 0 … 1e9."""
    V.config("cfg", cfg)
    limit = V.integer("limit", limit, 0, LIMIT_MAX, text=False)
    theta, _ = effective_parameters(cfg, seq_len)
    return P.first_negative(theta, _pass_pairs(cfg), limit + 1)


def decay_bound(cfg: RopeConfig, distances, seq_len: int | None = None) -> np.ndarray:
    """RoFormer's relative upper bound of the score vs distance (Su et al., arXiv:2104.09864, §3.4.3):

        f(Δ) = (1/p) Σ_{j=1}^{p} |S_j(Δ)|,   S_j(Δ) = Σ_{i<j} e^{iΔθ_i},   p = r/2 rotated pairs,

    from Abel summation: |Σ_i h_i e^{iΔθ_i}| ≤ max_i |h_{i+1} − h_i| · Σ_j |S_j|. f(0) = (p + 1)/2 (32.5 for
    d = 128); for d = 128, base 1e4: f(10) ≈ 17.954, f(100) ≈ 10.227. Uses the frequencies in effect
    (scaling included); pass-through channels do not enter. Shape (n,). Cost O(n·p), in chunks of bounded memory.

    The phasors e^{iΔθ_i} come from the angle-addition tables of ``_phasor.phasor_tables`` (one complex product
    per term instead of an exp) on dense lattices and on sparse integer distances (tables over their span), and
    from ``np.exp`` of every phase otherwise."""
    V.config("cfg", cfg)
    d = _distances(distances)
    theta, _ = effective_parameters(cfg, seq_len)
    lat = P.lattice(d)
    if lat is None or lat[3] < P.FAST_MIN:
        if d.size >= P.FAST_MIN and np.all(np.abs(d) < 2.0 ** 40) and np.all(d == np.rint(d)):
            lo = float(d.min())
            k = (d - lo).astype(np.int64)                          # sparse integers (e.g. sampled distances)
            return _decay_from_tables(theta, lo, 1.0, k, int(k.max()) + 1)
        return _decay_direct(theta, d)
    start, step, k, R = lat
    return _decay_from_tables(theta, start, step, np.arange(R) if k is None else k, R)


def _decay_direct(theta: np.ndarray, d: np.ndarray) -> np.ndarray:
    """decay_bound term by term: e^{iΔθ_i} from exp for every (Δ, i), in chunks. (n,) → (n,)."""
    out = np.empty(d.size)
    chunk = max(1, P.CHUNK_ELEMS // theta.size)
    for s in range(0, d.size, chunk):
        e = np.exp(1j * (d[s:s + chunk, None] * theta))            # (c, p): e^{iΔθ_i}
        out[s:s + chunk] = _mean_abs_prefix(e)
    return out


def _decay_from_tables(theta: np.ndarray, start: float, step: float, k: np.ndarray, R: int) -> np.ndarray:
    """decay_bound at Δ_j = start + k_j·step (k (n,) integers in [0, R)): e^{iΔθ} = outer[k // B]·inner[k % B]
    (``_phasor.phasor_tables`` of the lattice), in chunks. (n,)."""
    outer, inner = P.phasor_tables(theta, start, step, R)
    a_idx, b_idx = np.divmod(k, inner.shape[0])
    out = np.empty(k.size)
    chunk = max(1, P.CHUNK_ELEMS // theta.size)
    for s in range(0, k.size, chunk):
        e = outer[a_idx[s:s + chunk]] * inner[b_idx[s:s + chunk]]  # (c, p): e^{iΔθ_i}
        out[s:s + chunk] = _mean_abs_prefix(e)
    return out


def _mean_abs_prefix(e: np.ndarray) -> np.ndarray:
    """(1/p) Σ_j |S_j| with S_j = Σ_{i<j} e[:, i]. e: (c, p) complex, overwritten. → (c,)."""
    np.cumsum(e, axis=1, out=e)                                    # (c, p): S_1 … S_p
    re, im = e.real, e.imag
    return np.sqrt(re * re + im * im).sum(axis=1) / e.shape[1]


def random_score_moments(cfg: RopeConfig, distances, seq_len: int | None = None) -> dict:
    """Exact mean and std of the score at each Δ for random q, k with iid N(0, 1) channels (closed form).

    Barbero et al. (arXiv:2410.06205) point out that RoFormer's decay (``decay_bound``) is for a fixed q = k; for
    random Gaussian q and k there is no decay in expectation. With pair i of q = (a, b), of k = (c, e), all iid
    N(0, 1), the pair's contribution is

        af² · Re[(a + ib)(c − ie) e^{iφ}] = af² · [(ac + be) cos φ − (ae − bc) sin φ],   φ = Δθ_i.

    U = ac + be and V = ae − bc have mean 0, variance 2 (each product of independent N(0,1) has variance 1) and
    E[UV] = E[a²]E[ce] − … = 0, so the term has mean 0 and variance af⁴·2(cos²φ + sin²φ) = 2·af⁴ for every Δ.
    Different pairs and the pass-through channels use disjoint, independent coordinates, and each pass-through
    product q_j k_j adds variance 1. Hence, at every Δ,

        E[score(Δ)] = 0,     std[score(Δ)] = √(p · 2af⁴ + (d − r)) = √(r·af⁴ + d − r)   (= √d when af = 1).

    Returns dict(mean=(n,) zeros, std=(n,) that constant), float64; af from ``effective_parameters(cfg, seq_len)``
    (default: over the config's context)."""
    V.config("cfg", cfg)
    d = _distances(distances)
    _, af = effective_parameters(cfg, seq_len)
    r = cfg.rotary_dim
    return {"mean": np.zeros(d.size), "std": np.full(d.size, math.sqrt(r * af ** 4 + (cfg.head_dim - r)))}


def random_score_band(cfg: RopeConfig, distances, n_samples: int = 64, seed: int | None = 0,
                      seq_len: int | None = None) -> dict:
    """Score vs distance for a sample of random q, k ~ N(0, I_d): the sample mean and std at each Δ over
    ``n_samples`` draws, beside the exact values of ``random_score_moments`` (mean 0, std √(r·af⁴ + d − r)).

    Returns dict(mean=(n,) sample mean, std=(n,) sample std with ddof=1, analytic_std=float (the exact std),
    n_samples=int). The samples are drawn once (``np.random.default_rng(seed)``, q then k, shape
    (n_samples, d)) and evaluated in batches of at most 2^23 curve values, so the memory is bounded for 1M
    distances; the cost is about n_samples single curves."""
    V.config("cfg", cfg)
    d = _distances(distances)
    n_samples = V.integer("n_samples", n_samples, 2, N_SAMPLES_MAX, text=False)
    if seed is not None:
        seed = V.integer("seed", seed, 0, 2 ** 63 - 1, text=False)
    theta, af = effective_parameters(cfg, seq_len)
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((n_samples, cfg.head_dim))
    k = rng.standard_normal((n_samples, cfg.head_dim))
    h, c = pair_products(q, k, cfg, seq_len)                        # (S, p), (S,)
    h = np.ascontiguousarray(h)
    n = d.size
    lat = P.lattice(d)
    batch = max(1, P.GRID_ELEMS // max(n, 1))
    count, mean, m2 = 0, np.zeros(n), np.zeros(n)
    for s in range(0, n_samples, batch):
        vals = P.phasor_sum(h[s:s + batch], theta, d, lat)         # (b, n)
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
    return {
        "mean": mean,
        "std": np.sqrt(m2 / (count - 1)),
        "analytic_std": float(random_score_moments(cfg, [0.0], seq_len)["std"][0]),
        "n_samples": n_samples,
    }


def envelope(x, y, n_bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Min/max envelope of a curve for display: downsample y(x) to at most n_bins points without aliasing away its
    oscillations (plot y_min and y_max as a band, or both lines).

    x, y: (n,) finite, x ascending (e.g. distances). Bins are n_bins runs of consecutive samples whose counts differ
    by at most one; x_ds is the middle of each run's x range. Returns (x_ds, y_min, y_max), each
    (min(n, n_bins),); when n ≤ n_bins they are x, y, y (copies) exactly."""
    xa = V.float_array("x", x)
    ya = V.float_array("y", y)
    if xa.ndim != 1 or ya.shape != xa.shape:
        raise ValueError(f"x and y must be 1-D arrays of the same length, got shapes {xa.shape} and {ya.shape}")
    n_bins = V.integer("n_bins", n_bins, 1, 2 ** 31, text=False)
    n = xa.size
    if n <= n_bins:
        return xa.copy(), ya.copy(), ya.copy()
    edges = (np.arange(n_bins + 1, dtype=np.int64) * n) // n_bins   # (n_bins + 1,), strictly increasing as n > n_bins
    starts, last = edges[:-1], edges[1:] - 1
    return (0.5 * (xa[starts] + xa[last]),
            np.minimum.reduceat(ya, starts),
            np.maximum.reduceat(ya, starts))
