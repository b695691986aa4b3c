"""EmbeddingService with the bundled MiniLM model (loaded from the package, no network)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from ml.services import embedding_service
from ml.services.embedding_service import DEFAULT_MODEL, EmbeddingService, resolve_model_path


def test_bundled_name_resolves_to_the_packaged_model_directory() -> None:
    path = resolve_model_path(DEFAULT_MODEL)
    assert os.path.isfile(os.path.join(path, "model.safetensors"))
    assert resolve_model_path("sentence-transformers/x") == "sentence-transformers/x"


@pytest.fixture(scope="module")
def service() -> EmbeddingService:
    return EmbeddingService(DEFAULT_MODEL, batch_size=2)


def test_real_model_encodes_normalised_vectors_by_meaning(service: EmbeddingService) -> None:
    texts = [
        "A pirate crew sails the ocean looking for treasure.",
        "Sailors on a ship search the seas for hidden gold.",
        "A high school girl joins the volleyball club.",
        "Giant robots fight alien invaders.",
        "Students play music in a light music club.",
    ]
    vectors = service.encode(texts)
    assert vectors.shape == (5, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similarities = vectors @ vectors[0]
    assert similarities[1:].argmax() == 0  # the other sea story is the nearest
    assert service.dim == 384
    np.testing.assert_allclose(service.encode_one(texts[3]), vectors[3], atol=1e-5)
    assert service.encode([]).shape == (0, 384)


def test_one_model_per_process_loaded_offline(service: EmbeddingService) -> None:
    other = EmbeddingService(DEFAULT_MODEL)
    assert other.model is service.model
    assert embedding_service.load_model(DEFAULT_MODEL) is service.model
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
