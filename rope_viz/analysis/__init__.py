"""rope_viz.analysis: pure-numpy, float64 analyses of a RopeConfig (no plotting, no streamlit, no O(L²) arrays).

One module per topic, each citing its paper: ``distance`` (score vs relative distance, RoFormer's decay bound,
Men et al.'s B_m), ``bounds``, ``aliasing``, ``offsets``, ``encodings``. Import from the submodules; this package
deliberately re-exports nothing so that importing one analysis never drags in the others.
"""
