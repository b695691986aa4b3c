"""Response headers for production (SECURITY_HEADERS) and no-store for credentials."""

from __future__ import annotations

from flask import Flask, Response, request

# JSON needs no scripts, styles, frames or forms: deny everything.
JSON_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# The Swagger UI page loads its assets from the CDN configured in create_app.
DOCS_CSP = (
    "default-src 'none'; script-src 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: "
    "https://cdn.jsdelivr.net; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)
PRODUCTION_HEADERS = {
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def register_security_headers(app: Flask) -> None:
    """Add the headers to every response (errors included)."""
    enabled = bool(app.config.get("SECURITY_HEADERS"))

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        # Tokens and profiles must not sit in a shared or browser cache.
        if request.authorization is not None or request.path.startswith(_auth_prefix(app)):
            response.headers["Cache-Control"] = "no-store"
        if enabled:
            for name, value in PRODUCTION_HEADERS.items():
                response.headers.setdefault(name, value)
            csp = DOCS_CSP if response.mimetype == "text/html" else JSON_CSP
            response.headers.setdefault("Content-Security-Policy", csp)
        return response


def _auth_prefix(app: Flask) -> str:
    return f"{app.config.get('API_PREFIX', '')}/auth/"
