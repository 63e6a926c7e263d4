"""Deterministic fakes for search tests: a hashing bag-of-words embedder."""
from __future__ import annotations

import hashlib
import math
import re
from typing import Sequence

_WORD = re.compile(r"[a-z0-9]+")


class FakeEmbedder:
    """Embedder port: hashed word counts, L2-normalised (same words → same direction)."""

    def __init__(self, dimension: int = 384) -> None:
        self.dimension = dimension

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One normalised vector per text."""
        out = []
        for text in texts:
            vec = [0.0] * self.dimension
            for word in _WORD.findall(text.lower()):
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "big")
                vec[h % self.dimension] += 1.0 if (h >> 32) & 1 else -1.0
            norm = math.sqrt(sum(v * v for v in vec)) or 1.0
            out.append([v / norm for v in vec])
        return out
