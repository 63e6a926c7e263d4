"""Make the in-memory fakes importable as `core_fakes`."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "unit"))
