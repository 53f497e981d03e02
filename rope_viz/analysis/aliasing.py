"""Aliasing: how alike the rotation codes of two positions are, and which far positions look like near ones.

The *rotation code* of position m is the set of unit vectors (cos mθ_i, sin mθ_i), one per rotated pair i
(i = 0 … p − 1, p = ``cfg.n_pairs``; un-rotated channels of a partial-rotary head are the same at every position and
are left out). Our similarity of two positions is the mean cosine between their codes::

    sim(m, n) = (1/p) Σ_i cos((m − n) θ_i) = B_{m−n} / p                                                  (1)

which depends only on the distance Δ = m − n, is even in Δ, equals 1 at Δ = 0 and lies in [−1, 1].
B_Δ = Σ_i cos(Δθ_i) is the quantity of Men et al. 2024 ("Base of RoPE Bounds Context Length", arXiv:2405.14591,
Theorem 1): the expected extra score a query gives a similar key over a random one, Δ tokens away, up to 2σ².
θ_i is ``effective_inv_freq(cfg, L)`` with L the context length, so every rope_type's scaling is included; the
attention factor is left out (it scales every pair alike and cancels in (1)).

Two different ways a far position can look like a near one (both are visible in ``similarity_matrix``):

* **aliasing** (small base): every pair completes many turns within the context, so the profile sim(Δ) keeps
  oscillating; at some far distance the phases nearly line up again and a far position is *more* similar than
  nearer ones (e.g. position 10,000 looking like position 100).
* **blur** (large base): the slow pairs hardly turn within the context, so every far position keeps a similarity
  close to the fraction of frozen pairs; sim(Δ) decays smoothly, far positions look alike but never more alike
  than nearer ones.

The raw worst-case similarity ``max_{Δ ≥ s} sim(Δ)`` (``aliasing_vs_base(measure="similarity")``) mixes the two, and
over most of the useful range it *grows* with the base (blur dominates; e.g. d = 128, L = 4096, s = 64: 0.19 at
b = 100, 0.51 at b = 1e4, 0.81 at b = 1e9). To isolate aliasing proper we also provide the **excess** (ours)::

    excess(s) = max_{s ≤ Δ' ≤ Δ < L} [ sim(Δ) − sim(Δ') ]                                                  (2)

"how much more similar a position can be to m than a *nearer* one (both at least s tokens from m)". It is exactly 0
when sim is non-increasing on [s, L) (pure blur) and large when the profile rebounds (aliasing). It decreases with
the base on average, but it does not go to 0: pair 0 (θ_0 = 1 rad/token, period 2π) and the other fast pairs wobble
the profile at every base, which sets a floor of a few tenths for d = 128.

Everything is O(L·p) time and O(L) memory at most (one profile over all distances of the context, computed with the
angle-addition identity as one small matrix product, see ``similarity_profile``), never an L×L array; the
similarity matrix is only for S ≤ 1024 sampled positions.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from .. import validate as V
from ..config import BASE_MAX, CONTEXT_MAX, RopeConfig, format_base, format_min_base
from ..frequencies import effective_inv_freq
from . import _phasor as P
from .bounds import base_lower_bound, liu_min_base, men_condition

MAX_MATRIX_POSITIONS = 1024
_CACHE_MAX_N = 1 << 22


# --------------------------------------------------------------------------------------------------------------
# input checks
def _positions(name: str, positions, lo: float | None = None, hi: float | None = None,
               integer: bool = False) -> np.ndarray:
    arr = np.asarray(positions)
    if arr.dtype.kind == "b":
        raise ValueError(f"{name} must be real numbers; got booleans")
    arr = V.float_array(name, arr)
    if integer and not np.all(arr == np.round(arr)):
        raise ValueError(f"{name} must be whole token positions (integers); got {V.shorten(positions)}")
    if lo is not None and arr.size and arr.min() < lo:
        raise ValueError(f"{name} must be ≥ {lo:g}; got min {arr.min():g}")
    if hi is not None and arr.size and arr.max() > hi:
        raise ValueError(f"{name} must be ≤ {hi:g}; got max {arr.max():g}")
    return arr


def _theta(cfg: RopeConfig, context_length: int | None = None) -> np.ndarray:
    """θ_i in effect over the context (``effective_inv_freq``), shape (p,), rad/token."""
    return effective_inv_freq(cfg, context_length)


# --------------------------------------------------------------------------------------------------------------
# the similarity profile sim(Δ) = B_Δ / p (evaluated by ``_phasor``: angle addition, error bound (E) there)
def _cos_mean_range(theta: np.ndarray, n: int, start: int = 0) -> np.ndarray:
    """(1/p) Σ_i cos(Δ θ_i) for Δ = start … start + n − 1, shape (n,)."""
    return P.cos_sum_range(theta, n, start) / theta.size


@lru_cache(maxsize=4)
def _profile_cached(theta_bytes: bytes, n: int) -> np.ndarray:
    theta = np.frombuffer(theta_bytes, dtype=np.float64)
    out = _cos_mean_range(theta, n)
    out.setflags(write=False)
    return out


def _profile(theta: np.ndarray, n: int) -> np.ndarray:
    """The profile, cached for n ≤ 2^22 (32 MiB each, at most 4 kept)."""
    if n > _CACHE_MAX_N:
        return _cos_mean_range(theta, n)
    return _profile_cached(np.ascontiguousarray(theta, dtype=np.float64).tobytes(), int(n))


def similarity_profile(cfg: RopeConfig, context_length: int | None = None) -> np.ndarray:
    """sim(Δ) = B_Δ / p for every distance Δ = 0 … L − 1 of the context (Eq. 1), shape (L,), float64, read-only.

    L defaults to ``cfg.context_length``. O(L·p) via one matrix product (see ``_cos_mean_range``); results for the
    last few (θ, L) are cached.
    """
    V.config("cfg", cfg)
    L = cfg.context_length if context_length is None else V.integer("context_length", context_length, 1, CONTEXT_MAX)
    return _profile(_theta(cfg, L), L)


# --------------------------------------------------------------------------------------------------------------
# pairwise similarity
def position_similarity(cfg: RopeConfig, m, n) -> np.ndarray | float:
    """sim(m, n) = (1/p) Σ_i cos((m − n) θ_i) (Eq. 1). m, n broadcast together; returns their broadcast shape
    (a float for scalars). Positions are in tokens (any real numbers); θ at seq_len = cfg.context_length."""
    V.config("cfg", cfg)
    m = _positions("m", m)
    n = _positions("n", n)
    delta = np.subtract(*np.broadcast_arrays(m, n))                  # broadcast(m, n)
    theta = _theta(cfg)
    out = (P.cos_sum_direct(theta, delta.reshape(-1)) / theta.size).reshape(delta.shape)
    return float(out) if out.ndim == 0 else out


def similarity_matrix(cfg: RopeConfig, positions) -> np.ndarray:
    """(S, S) matrix sim(positions[a], positions[b]) for S ≤ 1024 sampled positions (use ``sample_positions``).

    Computed as C Cᵀ / p with C = [cos(mθ), sin(mθ)] of shape (S, 2p): cos a cos b + sin a sin b = cos(a − b).
    """
    V.config("cfg", cfg)
    pos = _positions("positions", positions)
    if pos.ndim != 1:
        raise ValueError(f"positions must be a 1-D array, got shape {pos.shape}")
    if not 1 <= pos.size <= MAX_MATRIX_POSITIONS:
        raise ValueError(f"similarity_matrix takes 1 … {MAX_MATRIX_POSITIONS} positions (an S×S matrix), got "
                         f"{pos.size}; sample them with sample_positions(context_length, n)")
    theta = _theta(cfg)
    phi = pos[:, None] * theta                                       # (S, p)
    codes = np.concatenate([np.cos(phi), np.sin(phi)], axis=1)       # (S, 2p)
    out = codes @ codes.T / theta.size                               # (S, S)
    np.clip(out, -1.0, 1.0, out=out)
    return out


def sample_positions(context_length: int, n: int, spacing: str = "log") -> np.ndarray:
    """n distinct integer positions in [0, L), sorted, as int64, always including 0 and L − 1.

    spacing ``"linear"``: evenly spaced; ``"log"``: 0 then geometrically spaced from 1 (dense near the start, where
    the similarity changes fastest, sparse far out). n must be in [2, L] (n = L gives every position).
    """
    L = V.integer("context_length", context_length, 2, CONTEXT_MAX)
    n = V.integer("n", n, 2, L)
    if spacing not in ("log", "linear"):
        raise ValueError(f"spacing must be 'log' or 'linear', got {spacing!r}")
    if n == L:
        return np.arange(L, dtype=np.int64)
    if spacing == "linear":
        return np.unique(np.round(np.linspace(0, L - 1, n)).astype(np.int64))
    # log: rounding merges the dense small positions; take more geometric points until n distinct ones remain.
    k = max(n - 1, 2)
    while True:
        cand = np.unique(np.concatenate([[0], np.round(np.geomspace(1, L - 1, k)).astype(np.int64)]))
        if cand.size >= n:
            break
        k = int(k * 1.25) + 1
    if cand.size > n:  # keep 0, L − 1 and an evenly thinned subset (in index) of the rest
        keep = np.round(np.linspace(0, cand.size - 1, n)).astype(np.int64)
        cand = cand[keep]
    return cand


# --------------------------------------------------------------------------------------------------------------
# impostors
def _running_argmax(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each R: (max x[0..R], the first index where it is attained). O(n)."""
    cm = np.maximum.accumulate(x)
    prev = np.concatenate([[-np.inf], cm[:-1]])
    rec = np.where(x > prev, np.arange(x.size), 0)                   # index of each new strict record
    return cm, np.maximum.accumulate(rec)


def nearest_impostor(cfg: RopeConfig, positions, min_separation: int) -> dict:
    """For each position m, the position n in [0, L) with |n − m| ≥ min_separation that is most similar to m.

    Exact over every n of the context (L = cfg.context_length): sim depends only on |n − m| (Eq. 1), so the best n
    is at the distance Δ* maximising sim(Δ) over s ≤ Δ ≤ max(m, L − 1 − m). One profile over all distances
    (O(L·p), cached) and one running argmax (O(L)) answer every position at once.
    Ties go to the smallest distance; if both n = m − Δ* and m + Δ* are in the context, the earlier one (m − Δ*,
    a key in the past) is reported.

    Returns a dict of arrays shaped like ``positions``:
      positions, impostor (int64; −1 where no position is that far from m), distance = |impostor − m|,
      similarity (NaN where no impostor), neighbour_similarity = sim(m, m ± 1) for reference, and
      min_separation (int).
    """
    V.config("cfg", cfg)
    L = cfg.context_length
    if L < 2:
        raise ValueError("nearest_impostor needs context_length ≥ 2")
    s = V.integer("min_separation", min_separation, 1, L - 1)
    pos = _positions("positions", positions, 0, L - 1, integer=True).astype(np.int64)
    prof = _profile(_theta(cfg), L)                                  # (L,)
    best, arg = _running_argmax(prof[s:])                            # (L − s,) over Δ = s … L − 1
    reach = np.maximum(pos, L - 1 - pos)                             # farthest distance available from m
    ok = reach >= s
    r_idx = np.where(ok, reach - s, 0)
    dist = np.where(ok, arg[r_idx] + s, -1)
    sim = np.where(ok, best[r_idx], np.nan)
    imp = np.where(dist <= pos, pos - dist, pos + dist)
    imp = np.where(ok, imp, -1)
    return {
        "positions": pos,
        "impostor": imp.astype(np.int64),
        "distance": np.where(ok, dist, -1).astype(np.int64),
        "similarity": sim,
        "neighbour_similarity": np.full(pos.shape, prof[1]),
        "min_separation": s,
    }


def farthest_lookalikes(cfg: RopeConfig, context_length: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """For every distance k = 1 … L − 1 of the context: sim(k) (``similarity_profile``, shape (L − 1,)) and F(k),
    the farthest distance Δ < L with sim(Δ) ≥ sim(k) (int64, shape (L − 1,), F(k) ≥ k): "a position F(k) tokens away
    looks at least as similar as one k tokens away". sim depends only on the distance, so this is the per-position
    question "what is m's farthest look-alike" answered once for all m. Suffix maximum of the profile, then one
    binary search per k; O(L log L). F(k) = k: nothing farther is as similar; F(k) ≫ k: k cannot be told from
    much farther distances (aliasing when the distances between are less similar, blur when they are not)."""
    prof = np.asarray(similarity_profile(cfg, context_length))[1:]      # (L − 1,) sim(k), k = 1 … L − 1
    suffix_max = np.maximum.accumulate(prof[::-1])[::-1]                # non-increasing: max over Δ ≥ k
    return prof, np.searchsorted(-suffix_max, -prof, side="right").astype(np.int64)


def aliasing_peaks(cfg: RopeConfig, n_peaks: int = 5, context_length: int | None = None) -> dict:
    """The true aliasing peaks of the similarity profile sim(Δ) (Eq. 1) over the context: distances Δ at which a far
    position is *more* similar than some nearer one, ranked by how much (ours).

    sim depends only on Δ, so "which position looks most like m" is a question about the profile, not about m; and
    its maximum beyond a separation s is usually the edge Δ = s of the main lobe (smooth decay, not aliasing).
    This function looks past the main lobe instead:

      lobe_end   the first local minimum of sim(Δ) for Δ ≥ 1 (sim(Δ) ≤ sim(Δ + 1)): where the main lobe around
                 Δ = 0 ends; L − 1 if sim decreases over the whole context.
      peaks      local maxima Δ of sim beyond lobe_end (sim(Δ − 1) < sim(Δ) ≥ sim(Δ + 1), lobe_end < Δ < L − 1),
                 each with its rebound = sim(Δ) − min_{lobe_end ≤ Δ' ≤ Δ} sim(Δ') (> 0 by construction): how much
                 more similar Δ is than the least similar nearer distance past the lobe (Eq. 2's excess, attained
                 at Δ). The ``n_peaks`` largest rebounds are returned, largest first, skipping any peak closer than
                 lobe_end tokens to one already taken (one report per bump; the fast pairs' small wobbles rank
                 last).

    Returns dict(lobe_end int, distance (k,) int64, similarity (k,), rebound (k,), trough (k,) int64 — the nearer
    distance of least similarity, neighbour_similarity = sim(1), context_length L); k ≤ n_peaks, 0 when the profile
    never rebounds past its lobe (pure blur). O(L·p) for the profile (cached) and O(L log L) for the ranking.
    """
    V.config("cfg", cfg)
    n_peaks = V.integer("n_peaks", n_peaks, 1, 1000)
    L = cfg.context_length if context_length is None else V.integer("context_length", context_length, 3, CONTEXT_MAX)
    prof = _profile(_theta(cfg, L), L)                               # (L,) sim(Δ), Δ = 0 … L − 1
    up = np.flatnonzero(prof[1:-1] <= prof[2:]) + 1                  # Δ ≥ 1 with sim(Δ) ≤ sim(Δ + 1)
    lobe = int(up[0]) if up.size else L - 1
    mid = np.arange(lobe + 1, L - 1)                                 # candidate peaks, (n,)
    is_peak = (prof[mid - 1] < prof[mid]) & (prof[mid] >= prof[mid + 1])
    cand = mid[is_peak]
    tail = prof[lobe:]                                               # Δ = lobe … L − 1
    run_min = np.minimum.accumulate(tail)
    first_at = np.maximum.accumulate(np.where(tail == run_min, np.arange(tail.size), 0))   # argmin of tail[:j + 1]
    rebound = prof[cand] - run_min[cand - lobe]
    order = np.lexsort((cand, -rebound))                             # largest rebound first, then nearer
    taken: list[int] = []
    for j in order:
        if len(taken) == n_peaks:
            break
        if all(abs(int(cand[j]) - int(cand[t])) >= max(1, lobe) for t in taken):
            taken.append(int(j))
    sel = np.array(taken, dtype=np.int64)
    dist = cand[sel] if sel.size else np.zeros(0, dtype=np.int64)
    return {"lobe_end": lobe, "distance": dist.astype(np.int64), "similarity": prof[dist],
            "rebound": rebound[sel] if sel.size else np.zeros(0),
            "trough": (first_at[dist - lobe] + lobe).astype(np.int64), "neighbour_similarity": float(prof[1]),
            "context_length": L}


def find_lookalike(cfg: RopeConfig, position: int, min_separation: int) -> dict:
    """The best impostor of one position: ``nearest_impostor`` for a single m, as plain Python numbers
    (keys position, impostor, distance, similarity, neighbour_similarity, min_separation)."""
    r = nearest_impostor(cfg, np.array([position]), min_separation)
    return {"position": int(r["positions"][0]), "impostor": int(r["impostor"][0]),
            "distance": int(r["distance"][0]), "similarity": float(r["similarity"][0]),
            "neighbour_similarity": float(r["neighbour_similarity"][0]), "min_separation": r["min_separation"]}


def lookalike_example(cfg: RopeConfig, position: int = 100, other: int = 10_000) -> dict:
    """How similar are positions ``position`` and ``other`` (default 100 and 10,000)?

    Returns a dict:
      similarity            sim(position, other) (Eq. 1)
      neighbour_similarity  sim(Δ = 1), for scale
      apparent_distance     the smallest Δ' ≥ 1 with sim(Δ') ≤ sim(position, other): "``other`` looks as similar
                            to ``position`` as a position only Δ' tokens away does" (ours; equals |other −
                            position| when the profile is non-increasing, much smaller when aliasing)
      distance              |other − position|
      stronger_nearer       how many nearer distances 1 ≤ Δ' < |other − position| are *less* similar than
                            ``other`` is: 0 for pure decay
    Positions need not be inside the context (θ is still taken at seq_len = context_length).
    O(|other − position|·p).
    """
    V.config("cfg", cfg)
    a = V.integer("position", position, 0, CONTEXT_MAX)
    b = V.integer("other", other, 0, CONTEXT_MAX)
    D = abs(b - a)
    theta = _theta(cfg)
    prof = _profile(theta, D + 1) if D >= 1 else np.ones(1)          # Δ = 0 … D
    sim = float(prof[D])
    if D >= 1:
        below = np.flatnonzero(prof[1:D + 1] <= sim) + 1
        apparent = int(below[0])
        less = int(np.count_nonzero(prof[1:D] < sim))
    else:
        apparent, less = 0, 0
    return {"position": a, "other": b, "distance": D, "similarity": sim,
            "neighbour_similarity": float(P.cos_sum_direct(theta, np.ones(1))[0] / theta.size),
            "apparent_distance": apparent, "stronger_nearer": less}


# --------------------------------------------------------------------------------------------------------------
# base sweep and advisor
MEASURES = ("similarity", "excess")


def default_min_separation(context_length: int) -> int:
    """Our default notion of "far": a 16th of the context, at least 1 and at most L − 1 tokens."""
    return max(1, min(context_length - 1, context_length // 16))


def _worst(prof: np.ndarray, s: int, measure: str) -> float:
    tail = prof[s:]
    if measure == "similarity":
        return float(tail.max())
    return float(np.max(tail - np.minimum.accumulate(tail)))        # Eq. (2)


def aliasing_vs_base(head_dim: int, context_length: int, bases, min_separation: int | None = None,
                     measure: str = "similarity", rotary_fraction: float = 1.0) -> np.ndarray:
    """Worst-case aliasing per base, shape (n_bases,): the base sweep (plain RoPE, no scaling).

    measure ``"similarity"``: max_{s ≤ Δ < L} sim(Δ) (Eq. 1), the most similar position at least s tokens away
    — note that for most bases this grows with the base (blur, see the module docstring);
    ``"excess"``: Eq. (2), how much more similar a far position can be than a nearer one — aliasing proper.
    s = ``min_separation`` (default ``default_min_separation(L)``). Each base costs O(L·p).
    """
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {', '.join(MEASURES)}, got {measure!r}")
    L = V.integer("context_length", context_length, 2, CONTEXT_MAX)
    s = default_min_separation(L) if min_separation is None else V.integer("min_separation", min_separation, 1,
                                                                          L - 1)
    b = _positions("bases", bases)
    if b.ndim != 1 or b.size == 0:
        raise ValueError(f"bases must be a non-empty 1-D list of numbers, got shape {b.shape}")
    out = np.empty(b.size)
    for j, base in enumerate(b):
        cfg = RopeConfig(head_dim=head_dim, base=float(base), rotary_fraction=rotary_fraction, context_length=L)
        out[j] = _worst(_cos_mean_range(_theta(cfg, L), L), s, measure)   # uncached: one-off
    return out


def coarse_clock_base(rotary_dim: int, context_length: int) -> float:
    """Smallest base at which the slowest pair turns by less than half a turn over the context (ours).

    The slowest pair, θ_{p−1} = b^(−(r−2)/r), then has (L − 1)·θ_{p−1} ≤ π, so its contribution cos(Δθ_{p−1}) to
    sim(Δ) decreases strictly over the whole context: one "coarse clock" that orders every distance, in which no
    far position can look closer than a nearer one. Solving (L − 1)·b^(−(r−2)/r) = π:
    b = ((L − 1)/π)^(r/(r−2)). (Same half-turn condition as offsets.one_sign_criterion with α = 0.)
    For r = 2 the only pair has θ = 1 whatever the base: returns inf if L − 1 > π, else 1.
    """
    r = V.integer("rotary_dim", rotary_dim, 2, 1 << 20)
    L = V.integer("context_length", context_length, 1, CONTEXT_MAX)
    if L - 1 <= math.pi:
        return 1.0
    if r == 2:
        return math.inf
    return ((L - 1) / math.pi) ** (r / (r - 2))


def _nice_ceil_candidates(x: float):
    """1-2-5 numbers ≥ x, ascending (1e4, 2e4, 5e4, 1e5, …)."""
    e = math.floor(math.log10(x))
    while True:
        for m in (1.0, 2.0, 5.0):
            v = float(f"{m}e{e}")
            if v >= x * (1 - 1e-12):
                yield v
        e += 1


def men_condition_holds(head_dim: int, base: float, context_length: int, rotary_fraction: float = 1.0) -> bool:
    """Men et al.'s condition B_Δ ≥ 0 for all 0 ≤ Δ < L at this base (plain RoPE): ``bounds.men_condition`` of the
    config (head_dim, base, rotary_fraction, context_length); the un-rotated pairs of a partial-rotary head count
    cos 0 = 1 each. Exact (direct float64 decision near 0). O(L·p) at most."""
    cfg = RopeConfig(head_dim=head_dim, base=base, rotary_fraction=rotary_fraction, context_length=context_length)
    return men_condition(cfg)["holds"]


def base_advisor(head_dim: int, target_context: int, train_length: int | None = None,
                 pretrain_base: float = 10000.0, rotary_fraction: float = 1.0,
                 men_lower_bound: float | None = None) -> dict:
    """Recommend a RoPE base for a head dim and a target context, with the numbers behind it.

    Returns a dict:
      men_lower_bound   Men et al. 2024 (arXiv:2405.14591): the smallest base with B_Δ ≥ 0 for all Δ < L, from
                        ``rope_viz.analysis.bounds.base_lower_bound`` (None, with a note, if the head is
                        partial-rotary — then the condition is only checked on the candidates — or if no base
                        ≤ 1e12 satisfies it).
      liu_min_base      Liu et al. 2023 ("Scaling Laws of RoPE-based Extrapolation", arXiv:2310.05209), only if
                        ``train_length`` < target: a model pre-trained at ``train_length`` with ``pretrain_base``
                        has critical dimension d_extra (Eq. 13, ``bounds.critical_dim``); tuned with base β its
                        extrapolation bound is T_extra = 2π·β^(d_extra/d) (Eq. 16b), so T_extra ≥ target needs
                        β ≥ (target/2π)^(d/d_extra) (``bounds.liu_min_base``). Also ``liu_d_extra``.
      clock_min_base    ours (``coarse_clock_base``): smallest base whose slowest pair turns < half a turn over the
                        target context — the aliasing-based minimum (None if no base achieves it: a single
                        rotated pair, θ = 1, always wraps). We do not use a threshold on the sampled
                        worst similarity here: that measure grows with the base (blur), and its aliasing part
                        (``measure="excess"``) has a floor set by the fast pairs that depends on L, so no fixed
                        threshold means the same thing at 4K and at 1M (see the module docstring).
      recommended       the largest of the available minima, rounded up to a 1-2-5 number (1e4, 2e4, 5e4, …) and
                        then moved up along 1-2-5 numbers until Men's condition B_Δ ≥ 0 on [0, L) actually holds
                        at it (the feasible set is not an interval: a rounded bound can fail); checked directly
                        (``men_condition_holds``). None if no 1-2-5 base ≤ 1e12 satisfies it.
      excess_at_recommended   aliasing excess (Eq. 2, s = default_min_separation) at the recommendation, for
                        information.
      notes             list of strings: what was computed, what was skipped and why.
    ``men_lower_bound``: ``base_lower_bound(head_dim, target_context)`` when the caller already has it (e.g. a
    stored value); computed here when None.
    Cost: a few O(L·p) profiles plus base_lower_bound's own cost (work ∝ L·ln b*: not interactive at long L).
    """
    d = V.integer("head_dim", head_dim, 2, 1 << 20)
    L = V.integer("target_context", target_context, 2, CONTEXT_MAX)
    RopeConfig(head_dim=d, rotary_fraction=rotary_fraction, context_length=L)   # validates head_dim / fraction
    r = int(d * rotary_fraction)
    notes: list[str] = []
    minima: dict[str, float] = {}

    men = None
    if r != d:
        notes.append("Men et al. lower bound (bounds.base_lower_bound, full rotary) not used for a partial-rotary "
                     "head: its un-rotated pairs add (d − r)/2 to B_Δ; the condition is checked directly below")
    else:
        men = float(base_lower_bound(d, L) if men_lower_bound is None else men_lower_bound)
        if math.isfinite(men):
            minima["men"] = men
            notes.append(f"Men et al.: B_Δ ≥ 0 for all Δ < {L:,} needs base ≥ {format_min_base(men)}")
        else:
            men = None
            notes.append(f"Men et al.: no base ≤ {format_base(BASE_MAX)} gives B_Δ ≥ 0 for all Δ < {L:,}")

    liu = d_extra = None
    if train_length is None:
        notes.append("Liu et al. view skipped: give train_length < target_context (the pre-training length) to "
                     "get the base whose extrapolation bound T_extra reaches the target")
    else:
        T = V.integer("train_length", train_length, 1, CONTEXT_MAX)
        if T >= L:
            notes.append(f"Liu et al. view skipped: train_length {T:,} ≥ target {L:,}, nothing to extrapolate")
        else:
            liu, d_extra = liu_min_base(r, L, T, pretrain_base)
            if liu is None:
                notes.append("Liu et al. view: d_extra = 0 (no pair completes a period in pre-training); "
                             "no base reaches the target")
            else:
                if liu > BASE_MAX:
                    notes.append(f"Liu et al.: needs base {format_base(liu, 3)} > {format_base(BASE_MAX)}, "
                                 "out of range; ignored")
                else:
                    minima["liu"] = liu
                notes.append(f"Liu et al.: d_extra = {d_extra} (trained at {T:,}, base {format_base(pretrain_base)}); "
                             f"T_extra = 2π·β^({d_extra}/{r}) ≥ {L:,} needs β ≥ {format_min_base(liu)}")

    clock = coarse_clock_base(r, L)
    if math.isfinite(clock):
        minima["clock"] = clock
        notes.append(f"aliasing (ours): slowest pair under half a turn over {L:,} tokens needs base ≥ "
                     f"{format_min_base(clock)}")
    else:
        clock = None
        notes.append("aliasing (ours): a single rotated pair (θ = 1) always wraps; no base helps")

    start = max([v for v in minima.values() if v <= BASE_MAX] + [2.0])
    recommended = None
    # Men et al.'s bound is the infimum of the bases that keep B_Δ ≥ 0: where none ≤ BASE_MAX does (full rotary; a
    # single pair, θ = 1, for every base), the note above says so and there is no candidate to try
    hopeless = r == d and men is None
    for cand in ([] if hopeless else _nice_ceil_candidates(start)):
        if cand > BASE_MAX:
            notes.append(f"no 1-2-5 base ≤ {format_base(BASE_MAX)} above {format_base(start, 4)} satisfies "
                         f"B_Δ ≥ 0 on [0, {L:,})")
            break
        if men_condition_holds(d, cand, L, rotary_fraction):
            recommended = cand
            break
        notes.append(f"{format_base(cand)} rejected: B_Δ < 0 somewhere below {L:,} (feasible bases are not an "
                     "interval)")
    excess = None
    if recommended is not None:
        excess = float(aliasing_vs_base(d, L, [recommended], measure="excess", rotary_fraction=rotary_fraction)[0])
    return {"head_dim": d, "target_context": L, "men_lower_bound": men, "liu_min_base": liu,
            "liu_d_extra": d_extra, "clock_min_base": clock, "recommended": recommended,
            "excess_at_recommended": excess, "notes": notes}
