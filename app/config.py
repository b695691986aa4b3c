"""Configuration: one object per environment, every value read from the environment (.env too).

In app/, only this module reads settings from the environment; everything else gets them from the
config object (``app.config``). Entry points outside app/ (scripts/, ``ml.training.train``,
gunicorn.conf.py) read the few variables they need themselves.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from dotenv import load_dotenv

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MIN_SECRET_BYTES = 32
PLACEHOLDER_MARKERS = ("change", "placeholder", "your-", "your_", "example", "secret-key", "dev-")
DEV_SECRET = "dev-only-insecure-secret-key-change-me-0123456789"


class ConfigError(RuntimeError):
    """A setting is missing or unsafe; the message is one line meant for the operator."""


def _as_bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _as_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _project_path(value: str) -> str:
    path = Path(value)
    return str(path if path.is_absolute() else PROJECT_ROOT / path)


class Config:
    """Settings shared by every environment. Subclasses change defaults, never the names."""

    ENV_NAME = "base"
    DEBUG = False
    TESTING = False
    DEFAULT_MONGODB_URI = "embedded"
    DEFAULT_CORS_ORIGINS = ""
    DEFAULT_RATELIMIT_STORAGE_URI = "memory://"
    SECURITY_HEADERS = False
    # Argon2id cost: OWASP's minimum (19 MiB, 2 passes, 1 lane); only TestingConfig goes lower.
    DEFAULT_ARGON2_TIME_COST = 2
    DEFAULT_ARGON2_MEMORY_COST = 19456

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self.SECRET_KEY: str = env.get("SECRET_KEY", self._default_secret())
        self.JWT_SECRET_KEY: str = env.get("JWT_SECRET_KEY", self._default_secret())
        self.JWT_ACCESS_TOKEN_EXPIRES = timedelta(
            seconds=int(env.get("JWT_ACCESS_TOKEN_EXPIRES", "3600"))
        )
        self.MONGODB_URI: str = env.get("MONGODB_URI", "") or self.DEFAULT_MONGODB_URI
        self.MONGODB_DB: str = env.get("MONGODB_DB", "anime_recommender")
        self.API_PREFIX: str = env.get("API_PREFIX", "/api").rstrip("/")
        self.MODELS_DIR: str = _project_path(env.get("MODELS_DIR", "ml/saved_models"))
        self.FAISS_INDEX_PATH: str = _project_path(
            env.get("FAISS_INDEX_PATH", "ml/saved_models/faiss/anime.index")
        )
        self.EMBEDDING_MODEL: str = env.get("EMBEDDING_MODEL", "bundled:all-MiniLM-L6-v2")
        self.EMBEDDING_DIM: int = int(env.get("EMBEDDING_DIM", "384"))
        self.FAISS_THREADS: int = int(env.get("FAISS_THREADS", "1"))
        self.EMBEDDED_DB_PATH: str = _project_path(env.get("EMBEDDED_DB_PATH", "instance/anime.db"))
        self.PORT: int = int(env.get("PORT", "5000"))
        self.LOG_LEVEL: str = env.get("LOG_LEVEL", "INFO").upper()
        self.CORS_ORIGINS: list[str] = _as_list(env.get("CORS_ORIGINS", self.DEFAULT_CORS_ORIGINS))
        self.MAX_CONTENT_LENGTH: int = int(env.get("MAX_CONTENT_LENGTH", str(1024 * 1024)))
        # A MyAnimeList export (POST /list/import) may be larger than any JSON body.
        self.IMPORT_MAX_CONTENT_LENGTH: int = int(
            env.get("IMPORT_MAX_CONTENT_LENGTH", str(10 * 1024 * 1024))
        )
        self.RATELIMIT_ENABLED: bool = _as_bool(env.get("RATELIMIT_ENABLED", "true"))
        self.RATELIMIT_STORAGE_URI: str = (
            env.get("RATELIMIT_STORAGE_URI", "") or self.DEFAULT_RATELIMIT_STORAGE_URI
        )
        self.RATELIMIT_DEFAULT: str = env.get("RATELIMIT_DEFAULT", "300/minute")
        self.RATELIMIT_AUTH: str = env.get("RATELIMIT_AUTH", "10/minute")
        # Reverse proxies in front of the app whose X-Forwarded-For/-Proto are trusted (0: none).
        self.TRUSTED_PROXIES: int = int(env.get("TRUSTED_PROXIES", "0"))
        self.STATS_CACHE_SECONDS: int = int(env.get("STATS_CACHE_SECONDS", "30"))
        self.MODEL_CHECK_SECONDS: float = float(env.get("MODEL_CHECK_SECONDS", "2"))
        self.ANIME_CACHE_SECONDS: int = int(env.get("ANIME_CACHE_SECONDS", "300"))
        self.TRAINING_STALE_SECONDS: int = int(env.get("TRAINING_STALE_SECONDS", "120"))
        self.ARGON2_TIME_COST: int = int(
            env.get("ARGON2_TIME_COST", str(self.DEFAULT_ARGON2_TIME_COST))
        )
        self.ARGON2_MEMORY_COST: int = int(
            env.get("ARGON2_MEMORY_COST", str(self.DEFAULT_ARGON2_MEMORY_COST))
        )
        self.ARGON2_PARALLELISM: int = int(env.get("ARGON2_PARALLELISM", "1"))

    def _default_secret(self) -> str:
        return DEV_SECRET

    def validate(self) -> None:
        """Raise ConfigError when a setting would make this environment unsafe."""

    def as_flask_config(self) -> dict[str, Any]:
        """The settings as the upper-case mapping Flask and its extensions read."""
        settings = {key: value for key, value in vars(self).items() if key.isupper()}
        settings.update(
            ENV_NAME=self.ENV_NAME,
            DEBUG=self.DEBUG,
            TESTING=self.TESTING,
            SECURITY_HEADERS=self.SECURITY_HEADERS,
        )
        return settings


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    DEBUG = False
    DEFAULT_CORS_ORIGINS = (
        "http://localhost:3000,http://localhost:5173,http://127.0.0.1:3000,http://127.0.0.1:5173"
    )


class TestingConfig(Config):
    __test__ = False  # not a pytest test class despite the name
    ENV_NAME = "testing"
    TESTING = True
    DEFAULT_MONGODB_URI = "mongomock://localhost"
    DEFAULT_CORS_ORIGINS = "http://localhost:5173"
    # Cheap hashes keep the many registrations of the test suite fast; never used outside tests.
    DEFAULT_ARGON2_TIME_COST = 1
    DEFAULT_ARGON2_MEMORY_COST = 1024

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        super().__init__({} if environ is None else environ)


class ProductionConfig(Config):
    ENV_NAME = "production"
    SECURITY_HEADERS = True
    # Counts shared by every worker, in the app's own MongoDB (embedded server included).
    DEFAULT_RATELIMIT_STORAGE_URI = "database://"

    def _default_secret(self) -> str:
        return ""

    def validate(self) -> None:
        for name in ("SECRET_KEY", "JWT_SECRET_KEY"):
            value: str = getattr(self, name)
            if not value:
                raise ConfigError(f"{name} is not set; production needs a random secret")
            if any(marker in value.lower() for marker in PLACEHOLDER_MARKERS):
                raise ConfigError(f"{name} looks like a placeholder; set a random secret")
            if len(value.encode()) < MIN_SECRET_BYTES:
                raise ConfigError(f"{name} must be at least {MIN_SECRET_BYTES} bytes long")
        if (
            self.ARGON2_TIME_COST < Config.DEFAULT_ARGON2_TIME_COST
            or self.ARGON2_MEMORY_COST < Config.DEFAULT_ARGON2_MEMORY_COST
        ):
            raise ConfigError("ARGON2_TIME_COST/ARGON2_MEMORY_COST are below OWASP's minimum")


CONFIG_CLASSES: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def load_config(environ: Mapping[str, str] | None = None) -> Config:
    """Pick the config class from APP_ENV or FLASK_ENV (default development) and build it."""
    if environ is None:
        load_dotenv(PROJECT_ROOT / ".env")
        environ = os.environ
    name = (environ.get("APP_ENV") or environ.get("FLASK_ENV") or "development").lower()
    if name not in CONFIG_CLASSES:
        raise ConfigError(f"APP_ENV={name!r} is not one of {', '.join(CONFIG_CLASSES)}")
    return CONFIG_CLASSES[name](environ)
