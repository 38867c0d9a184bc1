"""The API key store: created once, stored hashed, verified, listed, revoked."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from memlane.errors import InvalidInputError, NotFoundError
from memlane.server.keys import KEY_PREFIX, KeyNotFoundError, KeyStore, check_tenant, default_keys_path


def test_create_returns_the_secret_once_and_stores_only_its_hash(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys.db")
    info, secret = store.create("acme")
    assert secret.startswith(KEY_PREFIX) and len(secret) >= 40
    assert info.tenant == "acme" and not info.admin and info.active
    assert secret.startswith(info.prefix) and len(info.prefix) < len(secret) // 2
    raw = (tmp_path / "keys.db").read_bytes()
    assert secret.encode() not in raw
    assert secret[len(info.prefix) :].encode() not in raw


def test_verify_answers_the_key_info_for_the_secret_only(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys.db")
    a, secret_a = store.create("acme", admin=True)
    b, secret_b = store.create("beta")
    assert store.verify(secret_a) == a and a.admin
    assert store.verify(secret_b) == b
    for wrong in (
        "",
        secret_a[:-1],
        secret_a + "x",
        "Bearer " + secret_a,
        secret_a.upper(),
        "ml_" + "a" * 500,
    ):
        assert store.verify(wrong) is None


def test_revoke_stops_verification_and_keeps_the_first_time(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys.db")
    info, secret = store.create("acme")
    revoked = store.revoke(info.id)
    assert revoked.revoked_at is not None and not revoked.active
    assert store.verify(secret) is None
    assert store.revoke(info.id).revoked_at == revoked.revoked_at
    assert not store.has_active_keys()


def test_a_revocation_is_seen_by_another_store_on_the_same_file(tmp_path: Path) -> None:
    first, second = KeyStore(tmp_path / "keys.db"), KeyStore(tmp_path / "keys.db")
    info, secret = first.create("acme")
    assert second.verify(secret) == info
    second.revoke(info.id)
    assert first.verify(secret) is None


def test_list_filters_by_tenant_and_state(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys.db")
    a, _ = store.create("acme")
    b, _ = store.create("beta")
    c, _ = store.create("acme")
    store.revoke(c.id)
    assert [k.id for k in store.list()] == [a.id, b.id, c.id]
    assert [k.id for k in store.list("acme")] == [a.id, c.id]
    assert [k.id for k in store.list("acme", include_revoked=False)] == [a.id]
    assert store.tenants() == ["acme", "beta"]
    assert store.list()[2].to_dict()["revoked_at"] is not None


def test_unknown_ids_and_bad_tenants_are_typed_errors_that_change_nothing(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys.db")
    with pytest.raises(KeyNotFoundError, match="key_nope") as caught:
        store.revoke("key_nope")
    assert isinstance(caught.value, NotFoundError)
    for bad in ("", "Acme", "-x", "a" * 64, "a b", "ä", "a/b"):
        with pytest.raises(InvalidInputError, match="tenant"):
            store.create(bad)
    assert store.list() == []
    assert check_tenant("a" * 63) == "a" * 63
    assert check_tenant("team-2_x") == "team-2_x"


def test_keys_from_many_threads_are_all_distinct_and_valid(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys.db")
    secrets: list[str] = []

    def make() -> None:
        for _ in range(10):
            secrets.append(store.create("acme")[1])

    threads = [threading.Thread(target=make) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(secrets)) == 40
    assert all(store.verify(secret) is not None for secret in secrets)
    with sqlite3.connect(tmp_path / "keys.db") as conn:
        assert conn.execute("SELECT count(*) FROM api_keys").fetchone() == (40,)


def test_the_default_path_is_under_memlane_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MEMLANE_DIR", str(tmp_path / "home"))
    assert default_keys_path() == tmp_path / "home" / "keys.db"
    store = KeyStore()
    assert store.path == tmp_path / "home" / "keys.db" and store.path.exists()
