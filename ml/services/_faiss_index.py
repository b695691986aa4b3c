"""FAISS index construction, per-type search parameters and index files for FAISSService."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import faiss
import numpy as np

from ml.exceptions import IndexNotBuiltError
from ml.services.lexical import BM25Index

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


def meta_path(path: str | os.PathLike[str]) -> Path:
    """The JSON sidecar of the index at ``path``."""
    return Path(f"{path}.json")


def write_files(path: Path, index: Any, lexical: BM25Index, meta: dict[str, Any]) -> None:
    """``path`` (faiss), ``path.bm25.npz/.json``, then ``path.json``, each replaced atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    faiss.write_index(index, str(tmp))
    os.replace(tmp, path)
    lexical.save(tmp)
    for suffix in (".npz", ".json"):
        os.replace(f"{tmp}{suffix}", f"{path}.bm25{suffix}")
    tmp_meta = path.with_name(path.name + ".json.tmp")
    tmp_meta.write_text(json.dumps(meta))
    os.replace(tmp_meta, meta_path(path))


def read_files(path: Path) -> tuple[Any, BM25Index, dict[str, Any]]:
    """(faiss index, BM25 index, sidecar); IndexNotBuiltError when missing or mid-rewrite."""
    if not path.exists() or not meta_path(path).exists():
        raise IndexNotBuiltError(f"no search index at {path}")
    meta = json.loads(meta_path(path).read_text())
    index = faiss.read_index(str(path))
    if int(index.ntotal) != int(meta["ntotal"]) or len(meta["row_doc"]) != index.ntotal:
        raise IndexNotBuiltError(f"search index at {path} is being rewritten; retry")
    return index, BM25Index.load(f"{path}.bm25"), meta
