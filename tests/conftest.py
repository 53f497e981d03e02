"""Shared test settings.

Hypothesis profile "ci" (loaded by default): no per-example deadline (the 2-core CI machine is slow and its timing
noisy) and derandomized draws, so a run is reproducible and a failure shows up on every run, not one in a hundred.
Set HYPOTHESIS_PROFILE=dev to explore with fresh random draws locally. Per-test ``@settings(max_examples=...)``
still applies on top of the profile.
"""

import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

# tests import the naive oracle as `from naive import ...` (or `tests.naive`): make both work from any cwd.
sys.path.insert(0, str(Path(__file__).resolve().parent))

settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
