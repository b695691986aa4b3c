"""Use cases: no Flask; dependencies passed as keyword arguments; errors raised as AppError."""
