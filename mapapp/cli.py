"""The ``mapapp`` command: thin click commands over the working modules."""

from __future__ import annotations

import json

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from werkzeug.serving import run_simple

from . import catalogue, create_app, demo
from .config import ConfigError
from .migrations import SchemaError


def _open_catalogue():
    try:
        return catalogue.connect(current_app.config["DATABASE"])
    except (catalogue.CatalogueError, SchemaError) as e:
        raise click.ClickException(str(e)) from None


def _create_app():
    try:
        return create_app()
    except ConfigError as e:
        raise click.ClickException(str(e)) from None


@click.group(cls=FlaskGroup, create_app=_create_app, load_dotenv=False)
def main() -> None:
    """mapapp: the social and solidarity economy map.

    The catalogue is MAPAPP_DATABASE (default data/mapapp.db).
    """


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create the catalogue, or bring its schema up to date."""
    path = current_app.config["DATABASE"]
    db = _open_catalogue()
    count = catalogue.organisation_count(db)
    click.echo(f"catalogue ready at {path} ({count} organisations)")


@click.command("load-demo")
@with_appcontext
@click.option("--if-empty", is_flag=True,
              help="Load only when the catalogue holds no organisation yet.")
def load_demo_command(if_empty: bool) -> None:
    """Load the fictional demo dataset (safe to run again: nothing is duplicated)."""
    db = _open_catalogue()
    if if_empty and catalogue.organisation_count(db):
        click.echo("catalogue already has organisations; demo data not loaded")
        return
    counts = demo.load_demo(db)
    click.echo("demo data (fictional): " + ", ".join(f"{n} {k}" for k, n in counts.items()))


@click.command("serve")
@with_appcontext
@click.option("--host", default=None, help="Address to listen on [default: MAPAPP_HOST or 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port to listen on [default: MAPAPP_PORT or 5000].")
@click.option("--debug", is_flag=True, help="Reload on code changes and show tracebacks (never in production).")
def serve_command(host: str | None, port: int | None, debug: bool) -> None:
    """Serve the map with Flask's development server (use gunicorn in production)."""
    app = current_app._get_current_object()
    _open_catalogue()
    host = host or app.config["HOST"]
    port = port or app.config["PORT"]
    click.echo(f"serving the map on http://{host}:{port}/ (Ctrl-C to stop)")
    try:
        # app.run() refuses to start inside the flask CLI, so call werkzeug directly.
        app.debug = debug
        run_simple(host, port, app, use_reloader=debug, use_debugger=debug, threaded=True)
    except OSError as e:
        raise click.ClickException(
            f"cannot listen on {host}:{port}: {e.strerror or e}; choose another port with "
            "--port or MAPAPP_PORT") from None


@click.command("stats")
@with_appcontext
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def stats_command(as_json: bool) -> None:
    """Show what the catalogue holds: organisations by status and country, projects, visits."""
    figures = catalogue.stats(_open_catalogue())
    if as_json:
        click.echo(json.dumps(figures, indent=2))
        return
    click.echo(f"organisations: {figures['organisations']}")
    for status, n in figures["by_status"].items():
        click.echo(f"  {status}: {n}")
    click.echo(f"  located: {figures['located']}, not located: {figures['not_located']}")
    click.echo("by country: " + ", ".join(f"{c} {n}" for c, n in figures["by_country"].items()))
    click.echo(f"projects: {figures['projects']}, visits: {figures['visits']}")


COMMANDS = (init_command, load_demo_command, serve_command, stats_command)


def register(app: Flask) -> None:
    """Add the commands to ``app.cli`` (the ``mapapp`` group and ``flask`` both see them)."""
    for command in COMMANDS:
        app.cli.add_command(command)
