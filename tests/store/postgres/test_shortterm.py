"""Short-term memory, memory types and ``as_of`` over PostgreSQL: the same behaviour as on
SQLite, each tenant apart."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from memlane import Memory
from memlane.memory import times
from memlane.models import now_iso
from tests.store.postgres.test_memory import pg_config

pytestmark = pytest.mark.integration


def test_types_ttl_promote_prune_and_as_of(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    m = Memory(pg_config(postgres_url, short_term={"ttl": "1d"}))
    other = Memory(pg_config(postgres_url, tenant="other", short_term={"ttl": "1d"}))
    try:
        event = m.add("Ran the Lisbon half marathon", user_id="u", infer=False, memory_type="episodic")
        event_id = event["results"][0]["id"]
        gate = m.add("Gate B12", user_id="u", run_id="trip", infer=False)["results"][0]["id"]
        seat = m.add("Seat 14C", user_id="u", run_id="trip", infer=False)["results"][0]["id"]
        other.add("Gate B12", user_id="u", run_id="trip", infer=False)
        listed = m.get_all(user_id="u", memory_type="episodic")["results"]
        assert [i["id"] for i in listed] == [event_id]
        found = m.search("gate", user_id="u", run_id="trip", long_term=True)["results"]
        assert found[0]["id"] == gate and event_id in {i["id"] for i in found}
        time.sleep(0.002)
        before = now_iso()
        time.sleep(0.002)
        m.update(event_id, "Ran the Porto half marathon")
        then = m.search("half marathon", user_id="u", as_of=before)["results"]
        assert then[0]["memory"] == "Ran the Lisbon half marathon"
        assert "Ran the Porto half marathon" not in {i["memory"] for i in then}
        assert m.promote(gate)["promoted"] is True
        later = datetime.now(UTC) + timedelta(days=2)
        monkeypatch.setattr(times, "clock", lambda: later)
        assert {i["id"] for i in m.get_all(user_id="u")["results"]} == {event_id, gate}
        assert m.prune(dry_run=True)["ids"] == [seat]
        assert m.prune()["pruned"] == 1 and m.get(seat) is None
        assert other.prune(dry_run=True)["pruned"] == 1  # the other tenant's run is its own
    finally:
        m.close()
        other.close()
