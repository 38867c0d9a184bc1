"""``tenant_config`` (a tenant's whole config from the base one), ``TenantMemories`` and the
server settings (options over MEMLANE_* over the config file's "server" section)."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from memlane import ConfigError, InvalidInputError
from memlane.server.settings import ServerSettings, check_binding, load_settings
from memlane.server.tenants import TenantMemories, tenant_config
from tests.server.process import HASH_CONFIG


def sqlite(path: str | None) -> dict[str, Any]:
    config: dict[str, Any] = {
        "embedder": {"provider": "hash"},
        "vector_store": {"provider": "sqlite", "config": {}},
    }
    if path is not None:
        config["vector_store"]["config"]["path"] = path
    return config


def test_sqlite_tenants_get_a_file_beside_the_base_database(tmp_path: Path) -> None:
    base = sqlite(str(tmp_path / "m.db"))
    assert tenant_config(base, "default")["vector_store"]["config"]["path"] == str(tmp_path / "m.db")
    assert tenant_config(base, "acme")["vector_store"]["config"]["path"] == str(
        tmp_path / "m.db.tenants" / "acme.db"
    )
    assert base["vector_store"]["config"]["path"] == str(tmp_path / "m.db")  # the base is not changed


def test_without_a_path_the_default_database_is_under_memlane_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEMLANE_DIR", str(tmp_path))
    assert tenant_config({}, "acme")["vector_store"] == {
        "provider": "sqlite",
        "config": {"path": str(tmp_path / "memlane.db.tenants" / "acme.db")},
    }


def test_postgres_tenants_set_the_store_tenant() -> None:
    for provider in ("postgres", "pgvector"):
        base = {"vector_store": {"provider": provider, "config": {"url": "postgresql://u:pw@h/db"}}}
        store = tenant_config(base, "acme")["vector_store"]
        assert store == {"provider": provider, "config": {"url": "postgresql://u:pw@h/db", "tenant": "acme"}}
        assert tenant_config(base, "default")["vector_store"]["config"]["tenant"] == "default"


def test_graphs_are_per_tenant() -> None:
    falkor = {**sqlite("/x/m.db"), "graph_store": {"provider": "falkordb", "config": {"graph_name": "g"}}}
    assert tenant_config(falkor, "acme")["graph_store"]["config"]["graph_name"] == "g-acme"
    assert tenant_config(falkor, "default")["graph_store"]["config"]["graph_name"] == "g"
    unnamed = {**sqlite("/x/m.db"), "graph_store": {"provider": "falkordb"}}
    assert tenant_config(unnamed, "acme")["graph_store"]["config"]["graph_name"] == "memlane-acme"
    own_file = {**sqlite("/x/m.db"), "graph_store": {"provider": "sqlite", "config": {"path": "/x/g.db"}}}
    assert tenant_config(own_file, "acme")["graph_store"]["config"]["path"] == "/x/g.db.tenants/acme.db"
    shared = {**sqlite("/x/m.db"), "graph_store": {"provider": "sqlite"}}
    assert tenant_config(shared, "acme")["graph_store"]["config"] == {}  # follows the tenant's store


def test_a_store_that_cannot_keep_tenants_apart_serves_only_the_default_tenant() -> None:
    base = {"vector_store": {"provider": "someone-elses", "config": {}}}
    assert tenant_config(base, "default")["vector_store"]["provider"] == "someone-elses"
    with pytest.raises(ConfigError, match="cannot keep tenants apart"):
        tenant_config(base, "acme")


def test_bad_tenant_names_and_sections_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="tenant"):
        tenant_config({}, "../etc")
    with pytest.raises(ConfigError, match="vector_store"):
        tenant_config({"vector_store": "sqlite"}, "acme")


def test_tenant_memories_are_built_once_apart_and_closed(tmp_path: Path) -> None:
    tenants = TenantMemories(
        {**HASH_CONFIG, "vector_store": {"provider": "sqlite", "config": {"path": str(tmp_path / "m.db")}}}
    )
    built: list[Any] = []

    def get() -> None:
        built.append(tenants.get("acme"))

    threads = [threading.Thread(target=get) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(m) for m in built}) == 1
    acme, other = tenants.get("acme"), tenants.get("other")
    acme.add("acme's fact", user_id="alice", infer=False)
    assert other.get_all(user_id="alice")["results"] == []
    assert tenants.loaded() == ["acme", "other"]
    assert (tmp_path / "m.db.tenants" / "acme.db").exists()
    tenants.close()
    assert tenants.loaded() == []


def test_settings_precedence_options_over_environment_over_file(tmp_path: Path) -> None:
    config = tmp_path / "c.json"
    config.write_text(
        json.dumps({**HASH_CONFIG, "server": {"port": 1111, "max_body_bytes": 2048, "workers": 3}})
    )
    environ = {"MEMLANE_PORT": "2222", "MEMLANE_CORS_ORIGINS": "https://a.example, https://b.example"}
    settings = load_settings({"port": 3333, "host": None}, str(config), environ=environ)
    assert settings.port == 3333 and settings.max_body_bytes == 2048 and settings.workers == 3
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.memory_config == HASH_CONFIG and settings.host == "127.0.0.1"
    assert load_settings({}, str(config), environ=environ).port == 2222
    assert load_settings({}, str(config), environ={}).port == 1111
    assert load_settings({}, None, environ={"MEMLANE_NO_AUTH": "true"}).no_auth


def test_bad_settings_are_config_errors_that_hide_secrets(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="port"):
        load_settings({}, None, environ={"MEMLANE_PORT": "eighty"})
    with pytest.raises(ConfigError, match="unknown"):
        load_settings({"unknown": 1}, None, environ={})
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    with pytest.raises(ConfigError, match="JSON object"):
        load_settings({}, str(bad), environ={})
    with pytest.raises(ConfigError, match="--db applies to the sqlite store"):
        ServerSettings(db="x.db", memory_config={"vector_store": {"provider": "postgres"}}).base_config()


def test_binding_rules(tmp_path: Path) -> None:
    check_binding(ServerSettings(no_auth=True), has_keys=False)
    check_binding(ServerSettings(host="0.0.0.0"), has_keys=True)
    with pytest.raises(ConfigError, match=r"127\.0\.0\.1 only"):
        check_binding(ServerSettings(no_auth=True, host="0.0.0.0"), has_keys=True)
    with pytest.raises(ConfigError, match="no API key"):
        check_binding(ServerSettings(keys=str(tmp_path / "k.db")), has_keys=False)
