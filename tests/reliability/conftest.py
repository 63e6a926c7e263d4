"""Fixtures of the reliability suite (helpers live in reliability_support.py)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from reliability_support import Live  # noqa: E402


@pytest.fixture()
def live(tmp_path: Path):
    srv = Live(tmp_path / "data")
    yield srv
    srv.close()
