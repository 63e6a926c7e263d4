"""MiniLM embedder precisions: bf16/auto stay interchangeable with fp32 vectors; bad settings are refused."""
from __future__ import annotations

import numpy as np
import pytest

TEXTS = ["Holdover rent is 150% of the Base Rent then in effect.",
         "Tenant shall not assign this Lease or sublet the Premises without Landlord's consent.",
         "what is the holdover rent?"]


def test_auto_precision_vectors_match_fp32(minilm):
    from pipeline.adapters.minilm_embedder import MiniLMEmbedder

    fp32 = np.asarray(MiniLMEmbedder(precision="fp32").embed(TEXTS), dtype=np.float32)
    auto = np.asarray(minilm.embed(TEXTS), dtype=np.float32)
    single = np.asarray(minilm.embed(TEXTS[2:]), dtype=np.float32)  # the one-thread query path
    assert auto.shape == (3, 384) and auto.dtype == np.float32
    assert np.allclose(np.linalg.norm(auto, axis=1), 1.0, atol=1e-3)
    assert (fp32 * auto).sum(axis=1).min() > 0.99
    assert float(single[0] @ auto[2]) > 0.99
    # the question is nearer its answer than the unrelated clause, in either precision
    assert auto[2] @ auto[0] > auto[2] @ auto[1]


def test_unknown_precision_is_refused():
    from pipeline.adapters.minilm_embedder import MiniLMEmbedder

    with pytest.raises(ValueError):
        MiniLMEmbedder(precision="fp8")
