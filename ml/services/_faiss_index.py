"""FAISS index construction and per-type search parameters for FAISSService."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import faiss
import numpy as np

if TYPE_CHECKING:
    from ml.services.faiss_service import SearchSettings


def new_index(vectors: np.ndarray, n_anime: int, settings: SearchSettings) -> Any:
    """An empty (IVF: trained) inner-product index of the kind the settings choose."""
    dim = vectors.shape[1]
    kind = settings.index_type
    if kind == "auto":
        kind = "flat" if n_anime <= settings.flat_limit else "hnsw"
    if kind == "flat":
        return faiss.IndexFlatIP(dim)
    if kind == "hnsw":
        hnsw = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = 80
        hnsw.hnsw.efSearch = 128
        return hnsw
    if kind == "ivf":
        # about 4 sqrt(n) lists, with the 39 training points per list k-means wants
        nlist = max(1, min(int(4 * np.sqrt(len(vectors))), len(vectors) // 39))
        quantizer = faiss.IndexFlatIP(dim)
        ivf = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        ivf.train(vectors)
        ivf.nprobe = min(16, nlist)
        ivf.make_direct_map()  # reconstruct() for similar() and exact fused scores
        return ivf
    raise ValueError(f"unknown index_type {kind!r}")


def search_parameters(index: Any) -> Any:
    """Parameters of the index's own type, keeping its nprobe / efSearch."""
    if isinstance(index, faiss.IndexIVF):
        ivf = faiss.SearchParametersIVF()
        ivf.nprobe = index.nprobe
        return ivf
    if isinstance(index, faiss.IndexHNSW):
        hnsw = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]
        hnsw.efSearch = index.hnsw.efSearch
        return hnsw
    return faiss.SearchParameters()
