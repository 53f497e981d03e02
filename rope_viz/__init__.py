"""rope_viz: see, teach and check Rotary Position Embeddings (RoPE) at the scale of real model configs.

The numpy core is float64 and never imports torch or streamlit. The names below are the public API; each lives in the
submodule named in the comment (see the README for a tour).
"""

# configuration (rope_viz.config) and real-model presets (rope_viz.presets)
from .config import SCALING_LABELS, SCALING_TYPES, RopeConfig, Scaling, from_hf_config
from .presets import PRESETS, Preset, get_preset, preset_names
# frequencies per rope_type (rope_viz.frequencies)
from .frequencies import (attention_factor, effective_attention_factor, effective_inv_freq, frequency_ratio, inv_freq,
                          rope_parameters, wavelengths)
# context extension: a base config extended with each method (rope_viz.scaling)
from .scaling import METHODS, extend, synth_longrope_factors
# rotation, layouts, complex form (rope_viz.rotation)
from .rotation import (apply_rope, apply_rope_complex, freqs_cis, layout_permutation, pair_indices, rope_angles,
                       to_complex)
# analysis (rope_viz.analysis.*)
from .analysis.distance import (decay_bound, envelope, first_negative_distance, pair_products, random_score_band,
                                score_vs_distance, similarity_sum)
from .analysis.bounds import (base_lower_bound, base_lower_bound_info, critical_base, critical_dim,
                              extrapolation_bound, min_similarity, small_base_thresholds)
from .analysis.aliasing import (aliasing_vs_base, base_advisor, find_lookalike, lookalike_example, nearest_impostor,
                                position_similarity, sample_positions, similarity_matrix)
from .analysis.offsets import (offset_bias, one_sign_alpha_interval, one_sign_criterion, pair_cycles,
                               simulate_offset_scores)
from .analysis.encodings import alibi_bias, alibi_slopes, rope_signal, sinusoidal_dot, sinusoidal_pe
from .analysis.overhead import layer_flops, rope_flops_share

__all__ = [
    "RopeConfig", "Scaling", "from_hf_config", "SCALING_TYPES", "SCALING_LABELS",
    "PRESETS", "Preset", "get_preset", "preset_names",
    "inv_freq", "attention_factor", "rope_parameters", "frequency_ratio", "wavelengths",
    "effective_inv_freq", "effective_attention_factor", "METHODS", "extend", "synth_longrope_factors",
    "apply_rope", "apply_rope_complex", "freqs_cis", "layout_permutation", "pair_indices", "rope_angles", "to_complex",
    "score_vs_distance", "decay_bound", "similarity_sum", "first_negative_distance", "random_score_band", "envelope",
    "pair_products",
    "base_lower_bound", "base_lower_bound_info", "min_similarity", "critical_dim", "critical_base",
    "extrapolation_bound", "small_base_thresholds",
    "similarity_matrix", "nearest_impostor", "aliasing_vs_base", "position_similarity", "sample_positions",
    "find_lookalike", "lookalike_example", "base_advisor",
    "pair_cycles", "one_sign_criterion", "one_sign_alpha_interval", "offset_bias", "simulate_offset_scores",
    "alibi_slopes", "alibi_bias", "sinusoidal_pe", "sinusoidal_dot", "rope_signal",
    "layer_flops", "rope_flops_share",
]
__version__ = "0.1.0"
