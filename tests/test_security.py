"""Security headers, CORS, rate limiting (429 JSON with Retry-After), body limits, Argon2 config."""

from __future__ import annotations

from typing import Any

import mongomock
import pytest
from flask import Flask
from limits.storage import MemoryStorage, MongoDBStorage

from app import create_app
from app.config import ConfigError, ProductionConfig, TestingConfig
from app.db import rate_limits
from app.extensions import limiter
from app.rate_limit_storage import DatabaseStorage

STRONG = "k" * 16 + "9f8e7d6c5b4a3210"
LOGIN = "/api/auth/login"
BAD_LOGIN = {"username": "nobody", "password": "wrong-pass"}


def build(config_class: type = TestingConfig, **settings: str) -> Flask:
    """An app of its own (created last, so the shared limiter is bound to its settings)."""
    environ = {"SECRET_KEY": STRONG, "JWT_SECRET_KEY": STRONG[::-1], **settings}
    return create_app(config_class(environ), db=mongomock.MongoClient(tz_aware=True).db)


# --- security headers -----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/health", "/api/no-such-route", LOGIN])
def test_production_sends_security_headers(path: str) -> None:
    client = build(ProductionConfig, RATELIMIT_ENABLED="false").test_client()
    response = client.post(path, json=BAD_LOGIN) if path == LOGIN else client.get(path)
    headers = response.headers
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]


def test_production_docs_page_may_load_its_cdn_assets() -> None:
    response = build(ProductionConfig, RATELIMIT_ENABLED="false").test_client().get("/api/docs")
    assert response.status_code == 200
    assert "https://cdn.jsdelivr.net" in response.headers["Content-Security-Policy"]


def test_development_and_testing_send_no_hsts(client) -> None:
    assert "Strict-Transport-Security" not in client.get("/health").headers


def test_authenticated_responses_are_not_cached(client, make_user, token_for) -> None:
    response = client.get("/api/auth/profile", headers=token_for(make_user()))
    assert response.headers["Cache-Control"] == "no-store"


# --- CORS -----------------------------------------------------------------------------------


def preflight(app: Flask, origin: str) -> Any:
    return app.test_client().options(
        LOGIN,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization, Content-Type",
        },
    )


def test_cors_allows_configured_origins_only() -> None:
    app = build(CORS_ORIGINS="https://app.example.org", RATELIMIT_ENABLED="false")
    allowed = preflight(app, "https://app.example.org")
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example.org"
    assert "authorization" in allowed.headers["Access-Control-Allow-Headers"].lower()
    refused = preflight(app, "https://evil.example.com")
    assert "Access-Control-Allow-Origin" not in refused.headers


def test_cors_in_production_allows_nothing_until_set() -> None:
    app = build(ProductionConfig, RATELIMIT_ENABLED="false")
    for origin in ("http://localhost:5173", "https://evil.example.com"):
        assert "Access-Control-Allow-Origin" not in preflight(app, origin).headers


def test_cors_defaults_to_localhost_in_testing(client) -> None:
    response = client.get("/health", headers={"Origin": "http://localhost:5173"})
    assert "Access-Control-Allow-Origin" not in response.headers  # health is outside /api
    response = client.get("/api/anime/genres", headers={"Origin": "http://localhost:5173"})
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"


# --- rate limiting --------------------------------------------------------------------------


def test_login_is_limited_per_client_with_json_429_and_retry_after() -> None:
    client = build(RATELIMIT_AUTH="3/minute").test_client()
    statuses = [client.post(LOGIN, json=BAD_LOGIN).status_code for _ in range(3)]
    assert statuses == [401, 401, 401]
    response = client.post(LOGIN, json=BAD_LOGIN)
    assert response.status_code == 429
    assert response.is_json
    assert "rate limit exceeded" in response.get_json()["error"]
    assert 1 <= int(response.headers["Retry-After"]) <= 61  # the window, rounded up
    other_client = client.post(LOGIN, json=BAD_LOGIN, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other_client.status_code == 401


def test_register_has_its_own_auth_limit() -> None:
    client = build(RATELIMIT_AUTH="2/minute").test_client()
    bodies = [
        {"username": f"user{i}", "email": f"u{i}@example.com", "password": "p" * 10}
        for i in range(3)
    ]
    statuses = [client.post("/api/auth/register", json=body).status_code for body in bodies]
    assert statuses == [201, 201, 429]


def test_invalid_attempts_count_too() -> None:
    client = build(RATELIMIT_AUTH="2/minute").test_client()
    statuses = [client.post(LOGIN, json={"username": 1}).status_code for _ in range(3)]
    assert statuses == [400, 400, 429]


def test_default_limit_applies_to_other_routes() -> None:
    client = build(RATELIMIT_DEFAULT="2/minute").test_client()
    statuses = [client.get("/api/anime/genres").status_code for _ in range(3)]
    assert statuses[:2] == [200, 200]
    assert statuses[2] == 429
    refused = client.get("/api/anime/genres", headers={"X-Request-ID": "abc"})
    assert refused.headers["Retry-After"]
    assert refused.get_json()["request_id"] == refused.headers["X-Request-ID"]


@pytest.mark.parametrize(("proxies", "separate"), [("0", False), ("1", True)])
def test_forwarded_for_counts_only_behind_trusted_proxies(proxies: str, separate: bool) -> None:
    client = build(RATELIMIT_AUTH="1/minute", TRUSTED_PROXIES=proxies).test_client()
    first = client.post(LOGIN, json=BAD_LOGIN, headers={"X-Forwarded-For": "203.0.113.1"})
    second = client.post(LOGIN, json=BAD_LOGIN, headers={"X-Forwarded-For": "203.0.113.2"})
    assert first.status_code == 401
    assert second.status_code == (401 if separate else 429)


def test_ratelimit_enabled_false_switches_limiting_off() -> None:
    client = build(RATELIMIT_ENABLED="false", RATELIMIT_AUTH="1/minute").test_client()
    statuses = {client.post(LOGIN, json=BAD_LOGIN).status_code for _ in range(5)}
    assert statuses == {401}


@pytest.mark.parametrize(
    ("uri", "storage_class"),
    [
        ("memory://", MemoryStorage),
        ("mongodb://127.0.0.1:9/limits", MongoDBStorage),
        ("database://", DatabaseStorage),
    ],
)
def test_storage_comes_from_ratelimit_storage_uri(uri: str, storage_class: type) -> None:
    build(RATELIMIT_STORAGE_URI=uri)
    storage = limiter.storage
    assert isinstance(storage, storage_class)
    if isinstance(storage, MongoDBStorage):
        # Only the wiring is under test: give it a client that never connects or leaks.
        storage._storage = mongomock.MongoClient()


def test_database_storage_shares_counts_through_the_database() -> None:
    app = build(RATELIMIT_STORAGE_URI="database://", RATELIMIT_AUTH="2/minute")
    workers = [app.test_client(), app.test_client()]
    statuses = [workers[i % 2].post(LOGIN, json=BAD_LOGIN).status_code for i in range(3)]
    assert statuses == [401, 401, 429]
    counter = app.extensions["mongo_db"].rate_limits.find_one()
    assert counter["count"] >= 2 and counter["_id"].startswith("LIMITER/")


def test_database_counter_windows(monkeypatch) -> None:
    db = mongomock.MongoClient().db
    clock = [1000.0]
    monkeypatch.setattr(rate_limits.time, "time", lambda: clock[0])
    assert [rate_limits.incr(db, "k", 60) for _ in range(3)] == [1, 2, 3]
    assert rate_limits.get(db, "k") == 3
    assert rate_limits.get_expiry(db, "k") == 1060.0
    clock[0] = 1061.0  # the window is over: a new one starts at 1
    assert rate_limits.get(db, "k") == 0
    assert rate_limits.incr(db, "k", 60, amount=2) == 2
    assert rate_limits.get_expiry(db, "k") == 1121.0
    rate_limits.incr(db, "other", 1)
    clock[0] = 2000.0
    rate_limits.incr(db, "new", 60)  # opening a new key sweeps counters of gone clients
    assert {doc["_id"] for doc in db.rate_limits.find()} == {"new"}
    rate_limits.clear(db, "new")
    assert rate_limits.reset(db) == 0


def test_production_shares_counts_by_default() -> None:
    config = ProductionConfig({"SECRET_KEY": STRONG, "JWT_SECRET_KEY": STRONG[::-1]})
    assert config.RATELIMIT_STORAGE_URI == "database://"
    assert TestingConfig({"RATELIMIT_STORAGE_URI": ""}).RATELIMIT_STORAGE_URI == "memory://"


# --- request bodies and configuration ------------------------------------------------------


def test_register_body_over_one_mebibyte_is_413(client, db) -> None:
    body = '{"username": "alice", "email": "a@example.com", "password": "' + "p" * (1 << 20) + '"}'
    response = client.post("/api/auth/register", data=body, content_type="application/json")
    assert response.status_code == 413
    assert response.is_json
    assert db.users.find_one() is None


def test_production_refuses_weak_argon2_settings() -> None:
    with pytest.raises(ConfigError, match="ARGON2"):
        build(ProductionConfig, ARGON2_MEMORY_COST="1024")
    with pytest.raises(ConfigError, match="ARGON2"):
        build(ProductionConfig, ARGON2_TIME_COST="1")


def test_owasp_minimum_is_the_default_outside_tests() -> None:
    config = ProductionConfig({"SECRET_KEY": STRONG, "JWT_SECRET_KEY": STRONG[::-1]})
    assert (config.ARGON2_TIME_COST, config.ARGON2_MEMORY_COST) == (2, 19456)
    assert TestingConfig({}).ARGON2_MEMORY_COST < 19456
