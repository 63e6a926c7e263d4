"""Suite-wide settings: offline, quiet third parties, and tests/ importable so `support.*` helpers can be shared."""
from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

# test folders have no __init__.py (importlib mode); appending keeps installed packages first
sys.path.append(str(Path(__file__).resolve().parent))

from hypothesis import settings as _hypothesis_settings

# CI runs the property tests with a fixed example stream (a red CI must be reproducible);
# locally each run explores new examples.
_hypothesis_settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    _hypothesis_settings.load_profile("ci")
