"""Deliberately naive reference implementations: the oracle for every fast path in rope_viz.

Everything here is written from the definitions, one pair or one distance at a time, with Python loops and
``math``: no vectorisation, no shared code with rope_viz beyond reading RopeConfig fields. Slow on purpose; tests call
it on small sizes. Sources: RoFormer (arXiv:2104.09864) §3.2–3.4; Men et al. (arXiv:2405.14591) Theorem 1.
"""

from __future__ import annotations

import math

import numpy as np


def naive_theta(base: float, rotary_dim: int) -> list[float]:
    """θ_i = base^(−2i/r), i = 0 … r/2 − 1."""
    return [base ** (-2.0 * i / rotary_dim) for i in range(rotary_dim // 2)]


def naive_pairs(rotary_dim: int, layout: str) -> list[tuple[int, int]]:
    p = rotary_dim // 2
    if layout == "half":
        return [(i, i + p) for i in range(p)]
    return [(2 * i, 2 * i + 1) for i in range(p)]


def naive_rotate(x, position: float, theta: list[float], rotary_dim: int, layout: str,
                 factor: float = 1.0) -> np.ndarray:
    """Rotate one vector x (d,) at one position: each pair (a, b) → factor·(a cos φ − b sin φ, a sin φ + b cos φ)."""
    out = [float(v) for v in x]
    for i, (ia, ib) in enumerate(naive_pairs(rotary_dim, layout)):
        phi = position * theta[i]
        a, b = float(x[ia]), float(x[ib])
        out[ia] = factor * (a * math.cos(phi) - b * math.sin(phi))
        out[ib] = factor * (a * math.sin(phi) + b * math.cos(phi))
    return np.array(out)


def naive_score(q, k, delta: float, theta: list[float], rotary_dim: int, layout: str, factor: float = 1.0,
                key_position: float = 0.0) -> float:
    """rotate(q, p + Δ) · rotate(k, p), literally."""
    rq = naive_rotate(q, key_position + delta, theta, rotary_dim, layout, factor)
    rk = naive_rotate(k, key_position, theta, rotary_dim, layout, factor)
    return float(sum(float(a) * float(b) for a, b in zip(rq, rk)))


def naive_similarity_sum(theta: list[float], m: float) -> float:
    """B_m = Σ_i cos(m θ_i) (Men et al. 2024)."""
    return sum(math.cos(m * t) for t in theta)


def naive_phasor_sum(h, theta: list[float], m: float) -> float:
    """Re Σ_i h_i e^{i m θ_i}, one term at a time: Re(h)·cos(mθ) − Im(h)·sin(mθ)."""
    return sum(complex(hi).real * math.cos(m * t) - complex(hi).imag * math.sin(m * t) for hi, t in zip(h, theta))


def naive_decay_bound(theta: list[float], m: float) -> float:
    """RoFormer §3.4.3: (1/(d/2)) Σ_{j=1}^{d/2} |S_j|, S_j = Σ_{i<j} e^{i m θ_i}."""
    total, s = 0.0, 0j
    for t in theta:
        s += complex(math.cos(m * t), math.sin(m * t))
        total += abs(s)
    return total / len(theta)


def chunked_numpy_scores(h: np.ndarray, theta: np.ndarray, distances: np.ndarray, chunk: int = 65536) -> np.ndarray:
    """The straightforward numpy way: Re Σ_i h_i e^{iΔθ_i}, evaluating cos/sin of every (Δ, i), in chunks.
    The baseline the benchmark compares the fast path with."""
    out = np.empty(len(distances))
    for s in range(0, len(distances), chunk):
        phi = distances[s:s + chunk, None] * theta[None, :]
        out[s:s + chunk] = np.cos(phi) @ h.real - np.sin(phi) @ h.imag
    return out
