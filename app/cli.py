"""Flask CLI commands: ``flask --app run create-admin USERNAME --email EMAIL``."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext
from marshmallow import ValidationError

from app.db import get_db
from app.errors import AppError
from app.schemas.auth import RegisterSchema
from app.security import password_hasher
from app.services import auth_service


@click.command("create-admin")
@click.argument("username")
@click.option("--email", help="Email of the new user (not needed to promote an existing one).")
@click.option(
    "--password",
    help="Password of the new user; prompted for (hidden) when omitted, which keeps it out of "
    "the shell history.",
)
@with_appcontext
def create_admin_command(username: str, email: str | None, password: str | None) -> None:
    """Make USERNAME an admin: promote the user if it exists, otherwise create it."""
    db = get_db()
    if auth_service.promote_admin(db=db, username=username) is not None:
        click.echo(f"{username} is now an admin")
        return
    if not email:
        raise click.UsageError(f"no user {username!r} yet: --email is needed to create it")
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        data = RegisterSchema().load({"username": username, "email": email, "password": password})
        auth_service.create_admin(db=db, passwords=password_hasher(), **data)
    except ValidationError as error:
        raise click.ClickException(_one_line(error.normalized_messages())) from error
    except AppError as error:
        raise click.ClickException(error.message) from error
    click.echo(f"admin {username} created")


def _one_line(messages: dict) -> str:
    return "; ".join(
        f"{field}: {' '.join(map(str, problems))}" for field, problems in messages.items()
    )


def register_cli(app: Flask) -> None:
    """Add the project's commands to ``flask``."""
    app.cli.add_command(create_admin_command)
