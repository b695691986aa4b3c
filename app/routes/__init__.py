"""Blueprint registry: each module parses input, calls one service and shapes the JSON."""

from __future__ import annotations

from flask_smorest import Api

from app.routes import admin, anime, auth, health, history, ratings, recommendations, search
from app.routes import list as list_routes

ROOT_BLUEPRINTS = (health.blp,)
API_BLUEPRINTS = (
    auth.blp,
    anime.blp,
    ratings.blp,
    list_routes.blp,
    history.blp,
    search.blp,
    recommendations.blp,
    admin.blp,
)


def register_blueprints(api: Api, api_prefix: str) -> None:
    """Health at the root; every resource under ``API_PREFIX``."""
    for blueprint in ROOT_BLUEPRINTS:
        api.register_blueprint(blueprint)
    for blueprint in API_BLUEPRINTS:
        api.register_blueprint(blueprint, url_prefix=f"{api_prefix}{blueprint.url_prefix}")
