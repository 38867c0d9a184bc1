"""``memlane serve`` (the REST server) and ``memlane keys`` (its API keys)."""

from __future__ import annotations

import json
from typing import Any

import click

from memlane import MissingDependencyError
from memlane.cli._app import CliContext
from memlane.cli._options import emit, json_option, pass_cli_context
from memlane.cli._tables import format_table

__all__ = ["COMMANDS", "keys", "serve"]

_KEYS_HELP = "Keys database. Default: $MEMLANE_KEYS, else $MEMLANE_DIR/keys.db (~/.memlane/keys.db)."


def _server_modules() -> Any:
    try:
        from memlane.server import app
    except ImportError as exc:  # fastapi / uvicorn missing
        raise MissingDependencyError(exc.name or "fastapi", "server") from None
    return app


@click.command()
@click.option("--host", help="Address to listen on. Default 127.0.0.1 ($MEMLANE_HOST).")
@click.option("--port", type=int, help="Port. Default 8000 ($MEMLANE_PORT).")
@click.option("--db", type=click.Path(dir_okay=False), help="SQLite database of the default tenant.")
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False),
    help='A JSON config file (Memory.from_config\'s dict; its "server" section: these settings).',
)
@click.option("--workers", type=click.IntRange(1, 64), help="Worker processes. Default 1 ($MEMLANE_WORKERS).")
@click.option("--no-auth", is_flag=True, default=None, help="Serve without keys, on 127.0.0.1 only.")
@click.option("--keys", "keys_path", type=click.Path(dir_okay=False), envvar="MEMLANE_KEYS", help=_KEYS_HELP)
@pass_cli_context
def serve(
    context: CliContext,
    host: str | None,
    port: int | None,
    db: str | None,
    config_file: str | None,
    workers: int | None,
    no_auth: bool | None,
    keys_path: str | None,
) -> None:
    """Serve memories over HTTP: mem0's REST routes, and the routes mem0's MemoryClient calls.

    Every API key belongs to a tenant, and a tenant sees only its own memories (tenant
    "default": the --db database; any other: a file beside it, <db>.tenants/<tenant>.db).
    Without a key the server refuses to start, unless --no-auth (then on 127.0.0.1 only).
    The config file may hold a "server" section (max_body_bytes, cors_origins, log_level,
    graceful_timeout...); every setting can come from MEMLANE_<NAME> too.

    \b
    Examples:
      memlane keys create --tenant acme
      memlane serve --db ~/memlane.db --port 8000
      curl -H "Authorization: Bearer $KEY" localhost:8000/memories?user_id=alice
    """
    app = _server_modules()
    from memlane.server.settings import load_settings

    options = {"host": host, "port": port, "db": db or context.db, "workers": workers, "keys": keys_path}
    options["no_auth"] = True if no_auth else None
    settings = load_settings(options, config_file or context.config_file)
    embedder = context.embedder  # public-api: the CLI's own --embedder option, not Memory.embedder
    if embedder is not None:
        memory_config = {**settings.memory_config, "embedder": {"provider": embedder}}
        settings = settings.model_copy(update={"memory_config": memory_config})
    app.serve(settings)


@click.group()
def keys() -> None:
    """Create, list and revoke the server's API keys (each belongs to one tenant)."""


def _store(path: str | None) -> Any:
    from memlane.server.keys import KeyStore

    return KeyStore(path)


keys_option = click.option(
    "--keys", "keys_path", type=click.Path(dir_okay=False), envvar="MEMLANE_KEYS", help=_KEYS_HELP
)


@keys.command("create")
@click.option(
    "--tenant", default="default", show_default=True, help="The tenant whose memories the key reaches."
)
@click.option("--admin", is_flag=True, help="The key may also manage keys and tenants (/admin routes).")
@keys_option
@json_option
@pass_cli_context
def create_key(context: CliContext, tenant: str, admin: bool, keys_path: str | None) -> None:
    """A new key, printed once as the last line (stored only as a hash)."""
    info, secret = _store(keys_path).create(tenant, admin=admin)
    if context.json:
        click.echo(json.dumps({**info.to_dict(), "key": secret}))
        return
    role = "admin key" if info.admin else "key"
    click.echo(f"Created {role} {info.id} for tenant {info.tenant!r}. It is shown only now; store it safely:")
    click.echo(secret)


@keys.command("list")
@click.option("--tenant", help="Only this tenant's keys.")
@keys_option
@json_option
@pass_cli_context
def list_keys(context: CliContext, tenant: str | None, keys_path: str | None) -> None:
    """Every key: id, tenant, admin, prefix, created, revoked (never the secret)."""
    found = [info.to_dict() for info in _store(keys_path).list(tenant)]

    def human() -> None:
        if not found:
            click.echo("No keys. Create one with: memlane keys create --tenant NAME")
            return
        columns = ["id", "tenant", "admin", "prefix", "created_at", "revoked_at"]
        rows = [[str(k[c]) if k[c] is not None else "" for c in columns] for k in found]
        click.echo(format_table(columns, rows))

    emit(context, found, human)


@keys.command("revoke")
@click.argument("key_id", metavar="ID")
@keys_option
@json_option
@pass_cli_context
def revoke_key(context: CliContext, key_id: str, keys_path: str | None) -> None:
    """Revoke a key: the server refuses it from its next request on."""
    info = _store(keys_path).revoke(key_id)
    emit(context, info.to_dict(), lambda: click.echo(f"Revoked {info.id} (tenant {info.tenant!r})."))


COMMANDS = [serve, keys]
