"""Errors raised by the ml package (unknown users or items are not errors: they get a fallback)."""


class MLError(Exception):
    """Base class of the ml package's errors."""


class NotFittedError(MLError):
    """A model was used before fit() or load()."""


class UnknownModelError(MLError):
    """A model name or a saved model's class is not in MODEL_CLASSES."""


class DataError(MLError):
    """Ratings data is missing columns, empty or otherwise unusable."""


class IndexNotBuiltError(MLError):
    """A search index was queried before being built or loaded."""
