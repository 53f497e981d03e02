"""rope_viz: see, teach and check Rotary Position Embeddings (RoPE) at the scale of real model configs.

The numpy core is float64 and never needs torch or streamlit. Public API:
"""

from .config import SCALING_LABELS, SCALING_TYPES, RopeConfig, from_hf_config
from .frequencies import attention_factor, frequency_ratio, inv_freq, rope_parameters, wavelengths
from .rotation import (apply_rope, apply_rope_complex, freqs_cis, layout_permutation, pair_indices, rope_angles,
                       to_complex)

__all__ = [
    "RopeConfig", "from_hf_config", "SCALING_TYPES", "SCALING_LABELS",
    "inv_freq", "attention_factor", "rope_parameters", "frequency_ratio", "wavelengths",
    "apply_rope", "apply_rope_complex", "freqs_cis", "layout_permutation", "pair_indices", "rope_angles", "to_complex",
]
__version__ = "0.1.0"
