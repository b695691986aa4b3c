"""Latency of semantic search with the whole catalogue (12,294 anime, synopses) indexed.

    nice .venv/bin/python -m bench.semantic_latency              # uses the embedding cache
    nice .venv/bin/python -m bench.semantic_latency --encode     # also times a full encode

Measures (one client, FAISS on 1 thread as in a gunicorn worker):
- catalogue encode: every passage of the catalogue through the real model (--encode), else a
  seeded sample of 1,024 passages and the catalogue time it implies;
- FAISS search call: ``index.search`` for one query vector (the k nearest passages);
- query encoding: one query through MiniLM;
- whole request: GET /api/search?type=semantic through the Flask app, query encoding, FAISS,
  BM25 fusion and the anime documents read from the embedded MongoDB server included.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import pandas as pd

from bench.semantic_quality import ANIME_CSV, QUERIES_FILE, ROOT, SYNOPSES_CSV, make_encoder
from ml.services.embedding_service import DEFAULT_MODEL, EmbeddingService
from ml.services.faiss_service import FAISSService, SearchSettings
from scripts.build_faiss_index import read_catalogue_csv

log = logging.getLogger("semantic_latency")
REQUESTS = 300
THREADS = 1
ENCODE_SAMPLE = 1024


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = np.sort(np.asarray(samples_ms))
    return {
        "median": round(float(np.median(ordered)), 2),
        "p95": round(float(np.percentile(ordered, 95)), 2),
        "p99": round(float(np.percentile(ordered, 99)), 2),
        "n": len(ordered),
    }


def timed(function: Any, *args: Any) -> float:
    started = time.perf_counter()
    function(*args)
    return (time.perf_counter() - started) * 1000


def time_encode(
    catalogue: pd.DataFrame, settings: SearchSettings, sample: int | None = None
) -> dict[str, Any]:
    """Encode every passage of the catalogue (or a seeded random ``sample`` of them)."""
    service = FAISSService(encoder=EmbeddingService(DEFAULT_MODEL), settings=settings)
    texts = [text for record in catalogue.to_dict("records") for text in service._texts(record)]
    total = len(texts)
    if sample:
        picked = np.random.default_rng(0).choice(total, sample, replace=False)
        texts = [texts[i] for i in picked]
    started = time.perf_counter()
    service.encoder.encode(texts, show_progress_bar=True)
    seconds = time.perf_counter() - started
    return {
        "texts": len(texts),
        "seconds": round(seconds, 1),
        "per_s": round(len(texts) / seconds, 1),
        "catalogue_texts": total,
        "catalogue_seconds_estimate": round(total / (len(texts) / seconds)),
    }


def bench_request(index_path: Path, catalogue: pd.DataFrame, queries: list[str]) -> dict[str, Any]:
    from app import create_app
    from app.config import TestingConfig
    from app.db.client import connect

    with tempfile.TemporaryDirectory() as tmp:
        db_path = str(Path(tmp) / "bench.db")
        db = connect("embedded", "bench", db_path)
        documents = json.loads(catalogue.to_json(orient="records"))
        db.anime.insert_many(documents)
        config = TestingConfig(
            {
                "RATELIMIT_ENABLED": "false",
                "MONGODB_URI": "embedded",
                "EMBEDDED_DB_PATH": db_path,
                "MONGODB_DB": "bench",
                "FAISS_INDEX_PATH": str(index_path),
            }
        )
        client = create_app(config).test_client()
        url = "/api/search"
        first = timed(client.get, url + "?type=semantic&q=first+request+loads+the+model")
        samples = []
        for i in range(REQUESTS):
            query = queries[i % len(queries)]
            started = time.perf_counter()
            response = client.get(url, query_string={"q": query, "type": "semantic", "limit": 20})
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.get_json()
        from app.db.embedded import stop_embedded_server

        stop_embedded_server(db_path)
    return {"first_request_ms": round(first), **percentiles(samples)}


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser(description="Semantic search latency.")
    parser.add_argument("--encode", action="store_true", help="time a full catalogue encode")
    parser.add_argument("--plain-text", action="store_true", help="one plain vector per anime")
    parser.add_argument("--skip-encode", action="store_true", help="no encode timing")
    args = parser.parse_args()
    faiss.omp_set_num_threads(1)
    catalogue = read_catalogue_csv(ANIME_CSV, SYNOPSES_CSV if SYNOPSES_CSV.exists() else None)
    queries = [item["query"] for item in json.loads(QUERIES_FILE.read_text())["queries"]]
    results: dict[str, Any] = {}
    settings = SearchSettings(plain_text=args.plain_text)
    if not args.skip_encode:
        name, sample = (
            ("catalogue_encode", None) if args.encode else ("sample_encode", ENCODE_SAMPLE)
        )
        results[name] = time_encode(catalogue, settings, sample)
        log.info("%s: %s", name, results[name])
    index_path = ROOT / "bench" / "results" / "latency_index" / "anime.index"
    service = FAISSService(index_path, encoder=make_encoder(), settings=settings)
    service.build_index(catalogue, show_progress_bar=True)
    service.save()
    # as in a gunicorn worker: the real model, 1 torch thread, 1 FAISS thread
    served = FAISSService(index_path, DEFAULT_MODEL, threads=THREADS).load()
    model = served.encoder
    vectors = model.encode(queries)
    results["query_encode_ms"] = percentiles([timed(model.encode, [q]) for q in queries * 5])
    fetch = served.settings.candidates * 4
    results["faiss_search_ms"] = percentiles(
        [timed(served.index.search, v.reshape(1, -1), fetch) for v in np.tile(vectors, (20, 1))]
    )
    results["faiss_search_ms"]["k"] = fetch
    search_ms = [timed(served.search, q, 20) for q in queries * 5]
    results["service_search_ms"] = percentiles(search_ms)
    results["request_ms"] = bench_request(index_path, catalogue, queries)
    results["indexed"] = {"anime": len(service), "vectors": int(service.index.ntotal)}
    for key, value in results.items():
        log.info("%-20s %s", key, value)
    out = ROOT / "bench" / "results" / "semantic_latency.json"
    out.write_text(json.dumps(results, indent=2))
    log.info("written %s", out)


if __name__ == "__main__":
    main()
