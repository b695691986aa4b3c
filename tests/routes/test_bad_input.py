"""Bad input against every write endpoint and every list parameter (found from the app).

Each case answers a 4xx JSON error that says what is wrong and leaves every collection's count
unchanged. Cases come from the endpoint's OpenAPI body schema, so new endpoints are covered too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from pymongo.database import Database

from app.db.common import count
from tests.routes.discovery import Route, api_routes

ROUTES = api_routes()
WRITES = [route for route in ROUTES if route.is_write]
BODY_WRITES = [route for route in WRITES if route.body]
PATH_WRITES = [route for route in WRITES if route.arguments]
UPLOAD_WRITES = [
    route
    for route in WRITES
    if "multipart/form-data" in route.operation.get("requestBody", {}).get("content", {})
]
LIST_PARAMS = ("limit", "n", "top_k", "k", "per_page")
INT64_LIMIT = "integers must fit in 64 bits"


class Case:
    """One bad request: raw ``data`` (with ``content_type``), and the text the error must hold."""

    def __init__(self, name: str, data: str, *, mentions: str = "", content_type: str = "") -> None:
        self.name, self.data, self.mentions = name, data, mentions
        self.content_type = content_type or "application/json"

    def __repr__(self) -> str:
        return self.name


def _body(values: dict[str, Any]) -> str:
    return json.dumps(values, ensure_ascii=False)


def raw(name: str, literal: str) -> str:
    """A one-field JSON object whose value is written as is (escapes, NaN, huge literals)."""
    return "{" + json.dumps(name) + ": " + literal + "}"


def _wrong_type(prop: dict[str, Any]) -> Any:
    return {
        "string": 12345,
        "integer": "one",
        "number": "one",
        "boolean": "maybe",
        "array": "not-a-list",
        "object": "not-an-object",
    }.get(prop.get("type", ""), ["unexpected"])


def body_cases(route: Route) -> Iterator[Case]:
    """Every bad body for ``route``: shape, content type, then field by field."""
    schema = route.body or {}
    properties: dict[str, Any] = schema.get("properties", {})
    yield Case("malformed-json", '{"a": ', mentions="JSON")
    yield Case("truncated-unicode", '{"a": "\\ud83d"}', mentions="UTF-8")
    yield Case("array-not-object", "[1, 2]")
    yield Case("string-not-object", '"hello"')
    yield Case("nested-too-deep", "[" * 100_000 + "]" * 100_000, mentions="nested")
    yield Case("form-encoded", "a=1&b=2", content_type="application/x-www-form-urlencoded")
    yield Case("text-plain", "{}", content_type="text/plain", mentions="JSON")
    yield Case("unknown-field", _body({"is_admin": True}), mentions="is_admin")
    for name in schema.get("required", []):
        yield Case(f"missing-{name}", _body({}), mentions=name)
    for name, prop in properties.items():
        yield from field_cases(name, prop)


def field_cases(name: str, prop: dict[str, Any]) -> Iterator[Case]:
    kind = prop.get("type")
    yield Case(f"{name}-wrong-type", _body({name: _wrong_type(prop)}), mentions=name)
    yield Case(f"{name}-list", _body({name: [1, "a"]}), mentions=name if kind != "array" else "")
    if kind != "object":
        yield Case(f"{name}-operator", _body({name: {"$gt": ""}}), mentions=name)
        yield Case(f"{name}-where", _body({name: {"$where": "sleep(1000)"}}), mentions=name)
    if not prop.get("nullable"):
        yield Case(f"{name}-null", _body({name: None}), mentions=name)
    if kind == "string":
        yield Case(f"{name}-lone-surrogate", raw(name, '"x\\udc80y"'), mentions="UTF-8")
        limit = prop.get("maxLength")
        if limit:
            yield Case(f"{name}-too-long", _body({name: "a" * (limit + 1)}), mentions=name)
        if "pattern" in prop:
            yield Case(f"{name}-unicode", _body({name: "ñämé✓🎌"}), mentions=name)
            yield Case(f"{name}-nul", _body({name: "ab\u0000cd"}), mentions=name)
    if kind in ("integer", "number"):
        yield Case(f"{name}-huge", _body({name: 2**63}), mentions="")
        yield Case(f"{name}-bigger-than-float", raw(name, "1e400"), mentions=name)
        yield Case(f"{name}-nan", raw(name, "NaN"), mentions=name)
        yield Case(f"{name}-boolean", _body({name: True}), mentions=name)
        yield Case(f"{name}-4301-digits", raw(name, "1" + "0" * 4300), mentions="large")
        if "minimum" in prop:
            yield Case(f"{name}-below-minimum", _body({name: prop["minimum"] - 1}), mentions=name)
        if "maximum" in prop:
            yield Case(f"{name}-above-maximum", _body({name: prop["maximum"] + 1}), mentions=name)
    if kind == "integer":
        yield Case(f"{name}-fraction", _body({name: 1.5}), mentions=name)


BODY_CASES = [(route, case) for route in BODY_WRITES for case in body_cases(route)]
PATH_VALUES = ["not-an-id", "0" * 24, "$where", "..%2F..%2Fetc", "-1", "9" * 40, "x" * 2000]


def counts(db: Database) -> dict[str, int]:
    return {name: count(db[name]) for name in db.list_collection_names()}


@pytest.fixture
def admin_headers(make_user, token_for) -> dict[str, str]:
    """An admin may call every endpoint, so only the input can be what is refused."""
    return token_for(make_user("root", is_admin=True))


def assert_refused(response: Any, mentions: str = "") -> str:
    assert 400 <= response.status_code < 500, (response.status_code, response.get_data())
    body = response.get_json()
    assert isinstance(body, dict) and isinstance(body.get("error"), str), body
    if mentions:
        assert mentions in body["error"], body["error"]
    return body["error"]


def test_there_are_write_endpoints_to_check() -> None:
    assert {
        "POST /api/auth/register",
        "POST /api/auth/login",
        "PUT /api/list/<int(max=9223372036854775807):anime_id>",
    } <= {str(r) for r in BODY_WRITES}
    assert "POST /api/list/import" in {str(r) for r in UPLOAD_WRITES}


def test_every_string_in_a_body_is_bounded() -> None:
    for route in BODY_WRITES:
        for name, prop in (route.body or {}).get("properties", {}).items():
            if prop.get("type") == "string":
                bounded = "maxLength" in prop or "pattern" in prop or "enum" in prop
                assert bounded, f"{route}: {name} has no maximum length"


@pytest.mark.parametrize(("route", "case"), BODY_CASES, ids=[f"{r}-{c}" for r, c in BODY_CASES])
def test_bad_body_is_refused_and_changes_nothing(
    client: FlaskClient, db: Database, sample_anime, admin_headers, route: Route, case: Case
) -> None:
    before = counts(db)
    response = client.open(
        route.url(),
        method=route.method,
        data=case.data.encode("utf-8", "surrogatepass"),
        content_type=case.content_type,
        headers=admin_headers,
    )
    error = assert_refused(response)
    if case.mentions:
        assert case.mentions in error or INT64_LIMIT in error, error
    assert counts(db) == before


@pytest.mark.parametrize("value", PATH_VALUES)
@pytest.mark.parametrize("route", PATH_WRITES, ids=str)
def test_bad_path_argument_is_refused_and_changes_nothing(
    client, db, sample_anime, admin_headers, route: Route, value: str
) -> None:
    before = counts(db)
    url = route.url(**{name: value for name, _ in route.arguments})
    assert_refused(client.open(url, method=route.method, json={}, headers=admin_headers))
    assert counts(db) == before


# --- file uploads: anything but the expected file is refused ---------------------------------

UPLOAD_CASES = [
    Case("empty", "", mentions="empty"),
    Case("text", "just text", content_type="text/plain"),
    Case("json", '{"anime": [1, 2]}'),
    Case("form-encoded", "file=abc", content_type="application/x-www-form-urlencoded"),
    Case("fake-gzip", "\x1f\x8bnot really gzip", content_type="application/gzip"),
    Case("not-gzip", "<myanimelist/>", content_type="application/gzip", mentions="gzip"),
    Case("multipart-without-file", "--b--\r\n", content_type="multipart/form-data; boundary=b"),
]


@pytest.mark.parametrize("case", UPLOAD_CASES, ids=repr)
@pytest.mark.parametrize("route", UPLOAD_WRITES, ids=str)
def test_bad_upload_is_refused_and_changes_nothing(
    client, db, sample_anime, admin_headers, route: Route, case: Case
) -> None:
    before = counts(db)
    response = client.open(
        route.url(),
        method=route.method,
        data=case.data.encode("latin-1"),
        content_type=case.content_type,
        headers=admin_headers,
    )
    assert_refused(response, case.mentions)
    assert counts(db) == before


# --- list parameters: capped at 100 and validated on every route -----------------------------


def _query_params(route: Route) -> dict[str, dict[str, Any]]:
    return {
        param["name"]: param.get("schema", {})
        for param in route.operation.get("parameters", [])
        if param.get("in") == "query"
    }


LIST_CASES = [
    (route, name)
    for route in ROUTES
    if route.method == "GET"
    for name in _query_params(route)
    if name in LIST_PARAMS or name == "page"
]


@pytest.mark.parametrize(("route", "name"), LIST_CASES, ids=[f"{r}-{n}" for r, n in LIST_CASES])
def test_list_parameters_are_capped_and_validated(
    client, sample_anime, admin_headers, route: Route, name: str
) -> None:
    schema = _query_params(route)[name]
    if name != "page":
        assert schema.get("maximum", 10**9) <= 100, f"{route}: {name} is not capped at 100"
    bad = ["abc", "-1", "0", "1.5", "1e3", "9" * 30, ""]
    if name != "page":
        bad.append("101")
    for value in bad:
        response = client.get(route.url(), query_string={name: value}, headers=admin_headers)
        assert_refused(response, mentions=name)


STRING_QUERY_CASES = [
    (route, name)
    for route in ROUTES
    if route.method == "GET"
    for name, schema in _query_params(route).items()
    if schema.get("type") == "string" and "enum" not in schema
]
REGEX_HOSTILE = ["(", "[", ".*", "\\", "a{99999}", "(a+)+$", "$where", "%00"]


def _required_text(route: Route) -> dict[str, str]:
    """Benign values for the route's required text parameters (e.g. search's ``q``)."""
    required = {
        param["name"]
        for param in route.operation.get("parameters", [])
        if param.get("in") == "query" and param.get("required")
    }
    return {name: "Naruto" for name in required}


def _items(body: Any) -> int:
    return sum(len(value) for value in body.values() if isinstance(value, list))


@pytest.mark.parametrize(
    ("route", "name"), STRING_QUERY_CASES, ids=[f"{r}-{n}" for r, n in STRING_QUERY_CASES]
)
def test_regex_characters_in_text_parameters_are_literal(
    client, sample_anime, admin_headers, route: Route, name: str
) -> None:
    def found(value: str) -> int:
        query = {**_required_text(route), name: value}
        return _items(client.get(route.url(), query_string=query, headers=admin_headers).get_json())

    # Control: a plain value finds something, so finding nothing for ".*" means something.
    assert found("Naruto") or found("Action"), f"{route} ?{name}= finds nothing at all"
    for value in REGEX_HOSTILE:
        query = {**_required_text(route), name: value}
        response = client.get(route.url(), query_string=query, headers=admin_headers)
        assert response.status_code < 500, (value, response.get_data())
        body = response.get_json()
        literal_match = (
            response.status_code == 200 and body.get("search_type", "keyword") == "keyword"
        )
        if literal_match and value == ".*":
            # A literal ".*" is in no sample title or genre; as a pattern it would match them all.
            assert _items(body) == 0, f"{route} ?{name}=.* matched as a pattern: {body}"
