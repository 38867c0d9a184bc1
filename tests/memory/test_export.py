"""export, import_data and backup: copies of the data (``memlane.memory.export``)."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from memlane import DimensionMismatchError, InvalidInputError, Memory
from memlane.errors import EmbedderMismatchError
from tests.memory.test_erase import hash_memory, set_slot, sqlite


def test_export_import_round_trip(tmp_path: Path) -> None:
    m = hash_memory(tmp_path / "a.db")
    added = m.add(
        [{"role": "user", "content": "I like tea", "name": "ann"}, {"role": "assistant", "content": "ok"}],
        user_id="u",
        metadata={"topic": "drinks"},
        timestamp="2025-01-02T03:04:05Z",
    )["results"]
    m.update(added[0]["id"], text="I like green tea")
    m.delete(added[1]["id"])
    set_slot(m, "u", "diet", "tea only", added[0]["id"])
    set_slot(m, "u", "diet", "green tea only")
    export = tmp_path / "x.jsonl"
    counts = m.export(export)
    assert counts["memory"] == 2 and counts["history"] == 4 and counts["profile"] == 2
    header = json.loads(export.read_text().splitlines()[0])
    assert header["format"] == "memlane-export" and header["version"] == 1

    n = hash_memory(tmp_path / "b.db")
    assert n.import_data(export) == counts
    assert list(sqlite(n).dump()) == list(sqlite(m).dump())
    assert n.get(added[0]["id"]) == m.get(added[0]["id"])
    assert n.history(added[1]["id"]) == m.history(added[1]["id"])
    assert n.profile_history("diet", user_id="u") == m.profile_history("diet", user_id="u")
    assert n.get_profile(user_id="u")["profile"] == {"diet": "green tea only"}
    hit = n.search("green tea", user_id="u")["results"][0]
    assert hit["id"] == added[0]["id"]


def test_import_is_all_or_nothing(tmp_path: Path) -> None:
    m = hash_memory(tmp_path / "a.db")
    m.add("fact one", user_id="u")
    buffer = io.StringIO()
    m.export(buffer)
    lines = buffer.getvalue().splitlines()
    broken = "\n".join([*lines, json.dumps({"kind": "memory", "data": {"id": "x"}})])
    n = hash_memory(tmp_path / "b.db")
    with pytest.raises(InvalidInputError, match="lacks"):
        n.import_data(io.StringIO(broken))
    assert n.get_all(user_id="u")["results"] == []
    with pytest.raises(InvalidInputError, match="conflicts"):
        m.import_data(io.StringIO(buffer.getvalue()))
    assert len(m.get_all(user_id="u")["results"]) == 1


@pytest.mark.parametrize(
    "first_line",
    ['{"format": "other", "version": 1}', '{"format": "memlane-export", "version": 99}', "not json"],
)
def test_import_rejects_foreign_files(tmp_path: Path, first_line: str) -> None:
    n = hash_memory(tmp_path / "b.db")
    with pytest.raises(InvalidInputError):
        n.import_data(io.StringIO(first_line + "\n"))


def test_import_refuses_other_dimension(tmp_path: Path) -> None:
    m = hash_memory(tmp_path / "a.db", dims=64)
    m.add("fact", user_id="u")
    buffer = io.StringIO()
    m.export(buffer)
    n = hash_memory(tmp_path / "b.db", dims=32)
    n.add("other", user_id="v")
    with pytest.raises(DimensionMismatchError):
        n.import_data(io.StringIO(buffer.getvalue()))


def test_online_backup_while_writing(tmp_path: Path) -> None:
    m = hash_memory(tmp_path / "a.db")
    m.add([{"role": "user", "content": f"fact {i}"} for i in range(50)], user_id="u")
    errors: list[BaseException] = []
    stop = threading.Event()

    def writer() -> None:
        try:
            while not stop.is_set():
                m.add("more", user_id="w")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        m.backup(tmp_path / "b.db")
    finally:
        stop.set()
        thread.join()
    assert errors == []
    copy = hash_memory(tmp_path / "b.db")
    got: Mapping[str, Any] = copy.get_all(user_id="u", top_k=100)
    assert len(got["results"]) == 50
    assert sqlite(copy).execute("PRAGMA integrity_check") == [("ok",)]


def test_backup_refuses_an_existing_file_unless_overwrite(tmp_path: Path) -> None:
    m = hash_memory(tmp_path / "a.db")
    m.add("kept in a", user_id="u")
    other = hash_memory(tmp_path / "other.db")
    other.add("another app's memory", user_id="v")
    other.close()
    before = (tmp_path / "other.db").read_bytes()
    with pytest.raises(InvalidInputError, match=r"already exists.*overwrite=True"):
        m.backup(tmp_path / "other.db")
    assert (tmp_path / "other.db").read_bytes() == before
    plain = tmp_path / "notes.txt"
    plain.write_text("mine", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="already exists"):
        m.backup(plain)
    assert plain.read_text(encoding="utf-8") == "mine"
    m.backup(tmp_path / "other.db", overwrite=True)
    copy = hash_memory(tmp_path / "other.db")
    assert [r["memory"] for r in copy.get_all(user_id="u")["results"]] == ["kept in a"]
    assert copy.get_all(user_id="v")["results"] == []
    copy.close()
    m.close()


def test_backup_refuses_the_database_itself(tmp_path: Path) -> None:
    source = tmp_path / "a.db"
    m = hash_memory(source)
    m.add("fact", user_id="u")
    link = tmp_path / "link.db"
    link.symlink_to(source)
    hard = tmp_path / "hard.db"
    hard.hardlink_to(source)
    for target in (source, link, hard, tmp_path / "." / "a.db"):
        for overwrite in (False, True):
            with pytest.raises(InvalidInputError, match="is the database being backed up"):
                m.backup(target, overwrite=overwrite)
    assert [r["memory"] for r in m.get_all(user_id="u")["results"]] == ["fact"]
    assert sqlite(m).execute("PRAGMA integrity_check") == [("ok",)]
    m.close()


def test_backup_into_a_missing_folder_is_a_clean_error(tmp_path: Path) -> None:
    m = hash_memory(tmp_path / "a.db")
    with pytest.raises(InvalidInputError, match="does not exist"):
        m.backup(tmp_path / "missing" / "b.db")
    assert not (tmp_path / "missing").exists()
    m.close()


def test_export_and_import_paths_that_cannot_be_used_are_typed_errors(tmp_path: Path) -> None:
    m = hash_memory(tmp_path / "a.db")
    m.add("fact", user_id="u")
    with pytest.raises(InvalidInputError, match=r"cannot write the export to .*No such file or directory"):
        m.export(tmp_path / "missing" / "x.jsonl")
    with pytest.raises(InvalidInputError, match="cannot write the export to"):
        m.export(tmp_path)  # a folder
    with pytest.raises(InvalidInputError, match="cannot read the export"):
        m.import_data(tmp_path / "missing.jsonl")
    (tmp_path / "bin.jsonl").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InvalidInputError, match="not UTF-8"):
        m.import_data(tmp_path / "bin.jsonl")
    assert len(m.get_all(user_id="u")["results"]) == 1
    m.close()


def export_of(memory: Memory) -> str:
    buffer = io.StringIO()
    memory.export(buffer)
    return buffer.getvalue()


def test_the_export_header_names_the_embedder(tmp_path: Path) -> None:
    m = hash_memory(tmp_path / "a.db", dims=64)
    m.add("fact", user_id="u")
    lines = export_of(m).splitlines()
    header = json.loads(lines[0])
    assert (header["embedder"], header["dimension"]) == ("hash:64", 64)
    assert json.loads(lines[1])["kind"] == "meta"  # checked before any row is written


def test_import_into_a_new_store_of_another_size_is_refused(tmp_path: Path) -> None:
    m = hash_memory(tmp_path / "a.db", dims=384)
    m.add("fact", user_id="u")
    n = hash_memory(tmp_path / "b.db", dims=128)  # never used: nothing recorded yet
    with pytest.raises(DimensionMismatchError, match="the export holds 384-dimensional vectors") as info:
        n.import_data(io.StringIO(export_of(m)))
    assert (info.value.stored, info.value.embedder) == (128, 384)
    assert n.get_all(user_id="u")["results"] == []
    n.add("still works", user_id="v")
    assert n.search("works", user_id="v")["results"]


def test_import_from_another_embedder_of_the_same_size_is_refused(tmp_path: Path) -> None:
    m = hash_memory(tmp_path / "a.db", dims=64)
    m.add("fact", user_id="u")
    exported = export_of(m).replace("hash:64", "local:all-MiniLM-L6-v2")
    n = hash_memory(tmp_path / "b.db", dims=64)
    with pytest.raises(EmbedderMismatchError, match="local:all-MiniLM-L6-v2") as info:
        n.import_data(io.StringIO(exported))
    assert "hash:64" in str(info.value)
    assert sqlite(n).execute("SELECT count(*) FROM memories") == [(0,)]


def test_an_old_export_with_meta_last_is_checked_too(tmp_path: Path) -> None:
    m = hash_memory(tmp_path / "a.db", dims=64)
    m.add("fact", user_id="u")
    header, *records = export_of(m).splitlines()
    old_header = {k: v for k, v in json.loads(header).items() if k not in ("embedder", "dimension")}
    meta = [r for r in records if json.loads(r)["kind"] == "meta"]
    rest = [r for r in records if json.loads(r)["kind"] != "meta"]
    old = "\n".join([json.dumps(old_header), *rest, *meta]).replace("hash:64", "hash:other")
    n = hash_memory(tmp_path / "b.db", dims=64)
    with pytest.raises(EmbedderMismatchError):
        n.import_data(io.StringIO(old))
    assert sqlite(n).execute("SELECT count(*) FROM memories") == [(0,)]
    bigger = hash_memory(tmp_path / "c.db", dims=32)
    with pytest.raises(DimensionMismatchError):
        bigger.import_data(io.StringIO("\n".join([json.dumps(old_header), *rest])))
    assert sqlite(bigger).execute("SELECT count(*) FROM memories") == [(0,)]
