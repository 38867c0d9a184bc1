"""The hash embedder: the deterministic fake the unit tests stand on."""

from __future__ import annotations

import numpy as np
import pytest

from memlane.embed.base import Embedder, check_vectors, normalize_rows
from memlane.embed.hash import HashEmbedder
from memlane.errors import EmbedderError
from memlane.registry import Registry

TEXTS = ["I moved to Bangalore", "I like pizza", "Bangalore is in India", "où est la gare?"]


def test_it_is_an_embedder() -> None:
    assert isinstance(HashEmbedder(), Embedder)


def test_shape_and_dtype() -> None:
    vectors = HashEmbedder(32).embed(TEXTS)
    assert vectors.shape == (4, 32)
    assert vectors.dtype == np.float32


def test_rows_are_unit_length() -> None:
    norms = np.linalg.norm(HashEmbedder(64).embed(TEXTS), axis=1)
    assert np.allclose(norms, 1.0, atol=1e-6)


def test_deterministic_across_instances_and_batches() -> None:
    a = HashEmbedder(64).embed(TEXTS)
    b = HashEmbedder(64).embed(list(reversed(TEXTS)))[::-1]
    single = np.vstack([HashEmbedder(64).embed([t]) for t in TEXTS])
    assert np.array_equal(a, b)
    assert np.array_equal(a, single)


def test_purpose_does_not_change_vectors() -> None:
    e = HashEmbedder(64)
    assert np.array_equal(e.embed(TEXTS, purpose="add"), e.embed(TEXTS, purpose="search"))


def test_case_is_ignored() -> None:
    e = HashEmbedder(64)
    assert np.array_equal(e.embed(["Hello World"]), e.embed(["hello world"]))


def test_shared_words_mean_higher_similarity() -> None:
    q, near, far = HashEmbedder(256).embed(["where in Bangalore", "I moved to Bangalore", "I like pizza"])
    assert float(q @ near) > float(q @ far)
    assert float(near @ near) == pytest.approx(1.0, abs=1e-6)


def test_empty_text_is_a_zero_row() -> None:
    vectors = HashEmbedder(16).embed(["", "   ", "word"])
    assert not vectors[0].any() and not vectors[1].any()
    assert np.linalg.norm(vectors[2]) == pytest.approx(1.0, abs=1e-6)


def test_no_texts() -> None:
    assert HashEmbedder(16).embed([]).shape == (0, 16)


def test_registered_with_mem0_dims_alias() -> None:
    reg = Registry(discover=False)
    built = reg.create("embedder", "hash", {"embedding_dims": 24})
    assert isinstance(built, HashEmbedder) and built.dimension == 24
    assert reg.create("embedder", "hash", {"dims": 12}).dimension == 12
    assert reg.create("embedder", "hash", {}).dimension == 384


def test_normalize_rows_keeps_zero_rows() -> None:
    out = normalize_rows([[3.0, 4.0], [0.0, 0.0]])
    assert np.allclose(out, [[0.6, 0.8], [0.0, 0.0]])
    assert normalize_rows([1.0, 0.0]).shape == (1, 2)


def test_check_vectors() -> None:
    good = np.zeros((2, 3), dtype=np.float32)
    assert check_vectors(good, 2, 3, "x") is good
    with pytest.raises(EmbedderError, match="shape"):
        check_vectors(good, 3, 3, "x")
    with pytest.raises(EmbedderError, match="shape"):
        check_vectors(good, 2, 4, "x")
    bad = good.copy()
    bad[0, 0] = np.nan
    with pytest.raises(EmbedderError, match="non-finite"):
        check_vectors(bad, 2, 3, "x")
