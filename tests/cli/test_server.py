"""``memlane keys`` (create, list, revoke) and ``memlane serve``'s refusals (no key, no auth off
loopback), through the real command line; the running server is tested in tests/server/."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner, Result

from memlane.cli import cli
from memlane.server.keys import KeyStore


def memlane(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_keys_create_prints_the_key_last_and_stores_only_its_hash(tmp_path: Path) -> None:
    keys = str(tmp_path / "keys.db")
    created = memlane("keys", "create", "--tenant", "acme", "--keys", keys)
    assert created.exit_code == 0
    secret = created.stdout.strip().splitlines()[-1]
    info = KeyStore(keys).verify(secret)
    assert info is not None and info.tenant == "acme" and not info.admin
    assert secret.encode() not in (tmp_path / "keys.db").read_bytes()

    as_json = memlane("keys", "create", "--tenant", "acme", "--admin", "--keys", keys, "--json")
    body = json.loads(as_json.stdout.strip().splitlines()[-1])
    assert body["admin"] and KeyStore(keys).verify(body["key"]) is not None


def test_keys_list_and_revoke(tmp_path: Path) -> None:
    keys = str(tmp_path / "keys.db")
    assert "No keys" in memlane("keys", "list", "--keys", keys).stdout
    secret = memlane("keys", "create", "--tenant", "acme", "--keys", keys).stdout.strip().splitlines()[-1]
    [listed] = json.loads(memlane("--json", "keys", "list", "--keys", keys).stdout)
    assert listed["tenant"] == "acme" and secret.startswith(listed["prefix"]) and listed["revoked_at"] is None
    table = memlane("keys", "list", "--keys", keys).stdout
    assert listed["id"] in table and secret not in table
    revoked = memlane("keys", "revoke", listed["id"], "--keys", keys)
    assert revoked.exit_code == 0 and listed["id"] in revoked.stdout
    assert KeyStore(keys).verify(secret) is None
    unknown = memlane("keys", "revoke", "key_nope", "--keys", keys)
    assert unknown.exit_code == 1 and "key_nope" in unknown.output


def test_keys_path_from_the_environment(tmp_path: Path) -> None:
    env = {"MEMLANE_KEYS": str(tmp_path / "env-keys.db")}
    memlane("keys", "create", "--tenant", "acme", env=env)
    assert [k.tenant for k in KeyStore(tmp_path / "env-keys.db").list()] == ["acme"]


def test_a_bad_tenant_name_is_refused(tmp_path: Path) -> None:
    result = memlane("keys", "create", "--tenant", "Not Valid", "--keys", str(tmp_path / "k.db"))
    assert result.exit_code == 1 and "invalid tenant name" in result.output
    assert KeyStore(tmp_path / "k.db").list() == []


def test_serve_refuses_to_start_without_a_key(tmp_path: Path) -> None:
    result = memlane("serve", "--keys", str(tmp_path / "keys.db"), "--db", str(tmp_path / "m.db"))
    assert result.exit_code == 1
    assert (
        "no API key" in result.output
        and "memlane keys create" in result.output
        and "--no-auth" in result.output
    )


def test_serve_without_auth_refuses_any_host_but_loopback(tmp_path: Path) -> None:
    result = memlane("serve", "--no-auth", "--host", "0.0.0.0", "--db", str(tmp_path / "m.db"))
    assert result.exit_code == 1 and "127.0.0.1 only" in result.output


def test_serve_reports_bad_settings_from_the_environment(tmp_path: Path) -> None:
    env = {"MEMLANE_PORT": "not-a-port", "MEMLANE_KEYS": str(tmp_path / "keys.db")}
    result = memlane("serve", "--no-auth", env=env)
    assert result.exit_code == 1 and "invalid server settings" in result.output and "port" in result.output


def test_serve_help_runs_without_starting_anything() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "memlane.cli", "serve", "--help"], capture_output=True, text=True, timeout=60
    )
    assert shown.returncode == 0 and "--no-auth" in shown.stdout and "--workers" in shown.stdout
