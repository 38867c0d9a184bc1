"""Reads over a whole tenant that ``Memory`` has no single call for: every memory, every entity.

Both page through ``get_all`` once per kind of id (``{"user_id": {"exists": True}}``...), so
they cost a read of the tenant's memories: fine for the admin listing and the entities route,
not for a hot path.
"""

from __future__ import annotations

from typing import Any

from memlane import Memory

__all__ = ["ENTITY_KINDS", "all_memories", "entities"]

ENTITY_KINDS = {"user": "user_id", "agent": "agent_id", "run": "run_id"}
_PAGE = 1000


def _every(memory: Memory, key: str, limit: int | None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    page = 1
    while limit is None or len(out) < limit:
        result = memory.get_all(filters={key: {"exists": True}}, page=page, page_size=_PAGE)
        items = [dict(item) for item in result["results"]]
        out.extend(items)
        if len(items) < _PAGE:
            break
        page += 1
    return out if limit is None else out[:limit]


def all_memories(memory: Memory, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` memories of any user, agent or run, newest first."""
    seen: dict[str, dict[str, Any]] = {}
    for key in ENTITY_KINDS.values():
        for item in _every(memory, key, limit):
            seen.setdefault(str(item["id"]), item)
    items = sorted(seen.values(), key=lambda item: str(item.get("created_at") or ""), reverse=True)
    return items[:limit]


def entities(memory: Memory) -> list[dict[str, Any]]:
    """Each user, agent and run that has memories: ``{id, name, type, total_memories, created_at,
    updated_at}``."""
    out: list[dict[str, Any]] = []
    for kind, key in ENTITY_KINDS.items():
        found: dict[str, dict[str, Any]] = {}
        for item in _every(memory, key, None):
            name = str(item[key])
            entry = found.setdefault(
                name,
                {
                    "id": name,
                    "name": name,
                    "type": kind,
                    "total_memories": 0,
                    "created_at": None,
                    "updated_at": None,
                },
            )
            entry["total_memories"] += 1
            created, updated = item.get("created_at"), item.get("updated_at") or item.get("created_at")
            if created and (entry["created_at"] is None or created < entry["created_at"]):
                entry["created_at"] = created
            if updated and (entry["updated_at"] is None or updated > entry["updated_at"]):
                entry["updated_at"] = updated
        out.extend(sorted(found.values(), key=lambda entry: str(entry["name"])))
    return out
