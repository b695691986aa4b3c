"""Machinery the k-NN models share: similarities, rating lookup, batched aggregation."""
