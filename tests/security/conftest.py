"""Fixtures of the security suite (helpers live in security_support.py)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from security_support import Api, make_api  # noqa: E402


@pytest.fixture()
def api(tmp_path: Path) -> Iterator[Api]:
    yield make_api(tmp_path)
