"""int8 ONNX MiniLM: built locally, agrees with fp32, batches by length, embeds duplicates once, falls back."""
from __future__ import annotations

import numpy as np
import pytest

from fakes import FakeEmbedder

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx", reason="the int8 export needs the onnx package (pinned in pyproject)")

TEXTS = ["Holdover rent is 150% of the Base Rent then in effect.",
         "Tenant shall not assign this Lease or sublet the Premises without Landlord's consent.",
         "what is the holdover rent?",
         "The Term commences on January 1, 2027 and expires on December 31, 2031, unless sooner terminated "
         "as provided herein, and Tenant has two options to extend the Term by five years each."]


@pytest.fixture(scope="session")
def onnx_cache(tmp_path_factory, minilm):
    """One locally built int8 model for the whole session (the build takes a few seconds)."""
    from pipeline.adapters.onnx_embedder import OnnxMiniLMEmbedder

    cache = tmp_path_factory.mktemp("onnx-cache")
    OnnxMiniLMEmbedder(cache).warm()
    return cache


@pytest.fixture
def int8(onnx_cache):
    from pipeline.adapters.onnx_embedder import OnnxMiniLMEmbedder

    return OnnxMiniLMEmbedder(onnx_cache)


def test_int8_vectors_agree_with_fp32(int8):
    from pipeline.adapters.minilm_embedder import MiniLMEmbedder

    fp32 = np.asarray(MiniLMEmbedder(precision="fp32").embed(TEXTS), dtype=np.float32)
    got = np.asarray(int8.embed(TEXTS), dtype=np.float32)
    assert got.shape == (4, 384)
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-4)
    assert (fp32 * got).sum(axis=1).min() >= 0.98
    assert int8.min_cosine_to_fp32 is not None and int8.min_cosine_to_fp32 >= 0.98
    assert got[2] @ got[0] > got[2] @ got[1]  # the question is nearer its answer than the unrelated clause


def test_build_records_its_agreement_and_reference(onnx_cache):
    import json

    (build,) = onnx_cache.glob("minilm-int8-*/build.json")
    info = json.loads(build.read_text())
    assert info["min_cosine"] >= 0.98
    assert np.load(build.with_name("probe_fp32.npy")).shape == (len(info["probe"]), 384)


def test_query_path_matches_batch_path(int8):
    batch = np.asarray(int8.embed(TEXTS))
    single = np.asarray(int8.embed(TEXTS[2:3]))  # one text: the one-thread session
    # Dynamic int8 scales activations per batch, so a text's vector moves slightly with its batch mates.
    assert float(single[0] @ batch[2]) > 0.98
    assert np.array_equal(single, np.asarray(int8.embed(TEXTS[2:3])))  # but the same call repeats exactly


def test_duplicates_are_embedded_once_and_returned_in_order(int8):
    texts = [TEXTS[0], TEXTS[3], TEXTS[0], TEXTS[1], TEXTS[3]]
    got = np.asarray(int8.embed(texts))
    assert int8.duplicates_skipped == 2
    tokens_all = int8.embedded_tokens
    alone = np.asarray(int8.embed([TEXTS[0], TEXTS[3], TEXTS[1]]))
    assert int8.embedded_tokens == 2 * tokens_all  # the same three unique texts again
    assert np.allclose(got[[0, 1, 3]], alone, atol=1e-5)
    assert np.array_equal(got[0], got[2]) and np.array_equal(got[1], got[4])
    assert int8.windowed_texts == 0


def test_a_text_longer_than_the_window_is_embedded_whole(int8):
    head, tail = TEXTS[3] * 4, TEXTS[1] * 8
    int8.warm()
    n_head, n_tail = (len(int8._tokenizer.encode(t).ids) for t in (head, tail))
    assert n_head < 256 and n_tail < 256 < n_head + n_tail
    before = int8.embedded_tokens
    whole, tail_alone, head_alone = np.asarray(int8.embed([head + " " + tail, tail, head]))
    assert int8.windowed_texts == 1
    # every window of the long text ran (each adds its own [CLS]/[SEP]), plus the two halves alone
    assert int8.embedded_tokens - before >= 2 * (n_head + n_tail) - 2
    # A cut text would be its head only; the whole text also leans towards its tail.
    assert whole @ tail_alone > 0.5 and whole @ tail_alone > head_alone @ tail_alone + 0.1


def test_token_budget_batches_do_not_change_vectors(int8):
    from pipeline.adapters.onnx_embedder import _encode

    int8.warm()
    batch_session, _ = int8._sessions
    texts = [t * k for k in (1, 3) for t in TEXTS]  # mixed lengths: several batches under a small budget
    big, tokens, _ = _encode(batch_session, int8._tokenizer, texts, batch_tokens=100_000, max_batch=64)
    small, tokens_small, _ = _encode(batch_session, int8._tokenizer, texts, batch_tokens=64, max_batch=3)
    assert tokens == tokens_small
    assert (big * small).sum(axis=1).min() > 0.98  # batch-dependent int8 activation scales, see above



class _RecordingSession:
    """Stands in for an ONNX session: hidden state = a fixed random vector per token id; records batch shapes."""

    def __init__(self) -> None:
        self.shapes: list[tuple[int, int]] = []
        self.table = np.random.default_rng(3).normal(size=(30522, 384)).astype(np.float32)

    def get_inputs(self):  # type: ignore[no-untyped-def]
        from types import SimpleNamespace

        return [SimpleNamespace(name="input_ids"), SimpleNamespace(name="attention_mask")]

    def run(self, _outputs, feeds):  # type: ignore[no-untyped-def]
        self.shapes.append(feeds["input_ids"].shape)
        return [self.table[feeds["input_ids"]]]


def test_batches_are_length_sorted_within_the_token_budget_and_rows_come_back_in_order(int8):
    from pipeline.adapters.onnx_embedder import _encode

    int8.warm()
    texts = [TEXTS[i % 4] * (1 + i % 5) for i in range(23)]
    session = _RecordingSession()
    got, tokens, windowed = _encode(session, int8._tokenizer, texts, batch_tokens=600, max_batch=8)
    assert len(session.shapes) > 1 and windowed == 0
    assert all(b * w <= 600 or b == 1 for b, w in session.shapes)
    assert [w for _, w in session.shapes] == sorted(w for _, w in session.shapes)
    assert sum(b * w for b, w in session.shapes) <= 1.25 * tokens  # little padding
    one_by_one = np.vstack([_encode(_RecordingSession(), int8._tokenizer, [t], 600, 8)[0] for t in texts])
    assert np.allclose(got, one_by_one, atol=1e-5)  # padding is masked out and rows return to input order


def test_disagreeing_build_falls_back(onnx_cache):
    from pipeline.adapters.onnx_embedder import EmbedderDisagrees, OnnxMiniLMEmbedder

    fake = FakeEmbedder()
    strict = OnnxMiniLMEmbedder(onnx_cache, min_cosine=1.01, fallback=lambda: fake)
    assert strict.embed(TEXTS) == fake.embed(TEXTS)
    assert strict.fallback is fake
    with pytest.raises(EmbedderDisagrees):
        OnnxMiniLMEmbedder(onnx_cache, min_cosine=1.01).embed(TEXTS)


def test_settings_pick_the_runtime(tmp_path):
    from pipeline.adapters.chroma_search import build_embedder
    from pipeline.adapters.minilm_embedder import MiniLMEmbedder
    from pipeline.adapters.onnx_embedder import OnnxMiniLMEmbedder
    from pipeline.settings import load_settings

    built = build_embedder(load_settings(ATLAS_DATA_DIR=tmp_path, ATLAS_EMBED_CACHE_DIR=tmp_path / "models"))
    assert isinstance(built, OnnxMiniLMEmbedder)
    assert built._cache_dir == tmp_path / "models" / "onnx"  # one machine-wide build, not one per data dir
    assert isinstance(build_embedder(load_settings(ATLAS_DATA_DIR=tmp_path, ATLAS_EMBED_RUNTIME="torch")),
                      MiniLMEmbedder)


@pytest.mark.slow
def test_int8_recall_on_the_devset_questions_is_not_lower(int8, tmp_path):
    from bench import search_bench, search_devset

    if not (search_devset.DEVSET / "truth.jsonl").exists():
        pytest.skip(f"shared devset not found at {search_devset.DEVSET}")
    figures = search_bench.measure_recall(int8)
    # torch MiniLM on the same index recipe (2026-12, bench/results/recall_embedders.json): vector 26/28, hybrid 28/28
    assert figures["recall@5_hybrid"] == 1.0
    assert figures["recall@5_vector"] >= round(26 / 28, 3)
