"""Recommendation models, embeddings and training: no Flask, no HTTP, usable from a notebook."""
