"""A real ``memlane serve`` with two tenants and seeded memories, and a headless Chromium
(Debian's ``/usr/bin/chromium``, driven by Playwright; never a downloaded browser).

Tenant ``alpha`` holds alice's memories (three adds through the scripted FakeLLM, so the graph
and the profile have something to show, then verbatim notes enough for two pages), an agent and
a run; tenant ``beta`` holds carol's. Screenshots go to ``build/ui-screenshots/``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.process import MemlaneServer

CHROMIUM = os.environ.get("MEMLANE_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[3] / "build" / "ui-screenshots"
LAUNCH_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]  # fmt: skip


def _answer(facts: list[str], relations: list[tuple[str, str, str]], replaces: bool = False,
            **slots: str) -> dict[str, Any]:  # fmt: skip
    names = sorted({name for s, _, d in relations for name in (s, d)})
    return {
        "memory": [{"event": "ADD", "id": None, "text": fact} for fact in facts],
        "entities": [{"name": name, "type": "thing"} for name in names],
        "relations": [
            {"source": s, "relationship": r, "destination": d, "replaces": replaces} for s, r, d in relations
        ],
        "profile": [{"key": key, "value": value} for key, value in slots.items()],
    }


SCRIPT = [
    _answer(
        ["Lives in Delhi", "Likes cricket"],
        [("user", "lives_in", "Delhi"), ("user", "likes", "cricket")],
        home_city="Delhi",
    ),
    _answer(
        ["Moved to Bangalore"], [("user", "lives_in", "Bangalore")], replaces=True, home_city="Bangalore"
    ),
    _answer(
        ["Works at Acme as a data engineer", "Acme is based in Berlin"],
        [("user", "works_at", "Acme"), ("Acme", "located_in", "Berlin")],
        employer="Acme",
        occupation="data engineer",
    ),
]
"""The scripted LLM replies of alice's three adds (every tenant's FakeLLM gets the same queue)."""

CONFIG: dict[str, Any] = {
    "embedder": {"provider": "hash", "config": {"embedding_dims": 64}},
    "llm": {"provider": "fake", "config": {"responses": SCRIPT}},
    "enable_graph": True,
    "profile": {"enabled": True},
}

NOTES = [
    "Prefers green tea in the morning", "Allergic to peanuts", "Has a cat called Miso",
    "Plays the violin on weekends", "Is learning Portuguese", "Runs 5 km every Tuesday",
    "Birthday is on 12 May", "Dislikes horror films", "Reads science fiction before bed",
    "Takes the 8:15 train to work", "Favourite food is masala dosa", "Sister lives in Pune",
    "Planning a trip to Lisbon in June", "Uses a standing desk", "Volunteers at the library",
    "Drinks oat milk", "Keeps a bullet journal", "Supports Chennai Super Kings",
    "Grows basil on the balcony", "Prefers window seats on flights", "Bakes sourdough on Sundays",
    "Listens to jazz while coding",
]  # fmt: skip
"""alice's verbatim notes (with her five inferred memories: 27, two pages of 20)."""


@dataclass
class Seeded:
    server: MemlaneServer
    alice: dict[str, str] = field(default_factory=dict)
    """alice's memory ids by text."""
    carol: dict[str, str] = field(default_factory=dict)

    def api(self, tenant: str) -> httpx.Client:
        return httpx.Client(base_url=self.server.url, headers=self.server.headers(tenant), timeout=30)


def _add(client: httpx.Client, body: dict[str, Any]) -> dict[str, str]:
    response = client.post("/memlane/v1/add", json=body)
    assert response.status_code == 200, response.text
    return {item["memory"]: item["id"] for item in response.json()["results"]}


def _seed(seeded: Seeded) -> None:
    with seeded.api("alpha") as alpha:
        said = ["I live in Delhi and I like cricket", "I moved to Bangalore last month",
                "I work at Acme as a data engineer; Acme is in Berlin"]  # fmt: skip
        for text, when in zip(said, ("2026-01-10", "2026-06-02", "2026-09-15"), strict=True):
            seeded.alice.update(_add(alpha, {"messages": text, "user_id": "alice", "timestamp": when}))
        for number, note in enumerate(NOTES):
            kind = "episodic" if number % 4 == 0 else "semantic"
            body = {"messages": note, "user_id": "alice", "infer": False, "memory_type": kind}
            seeded.alice.update(_add(alpha, body))
        _add(alpha, {"messages": "Answers in short sentences", "agent_id": "helper", "infer": False})
        _add(alpha, {"messages": "Booking a table for two", "run_id": "run-42", "infer": False})
    with seeded.api("beta") as beta:
        seeded.carol.update(_add(beta, {"messages": "Carol keeps bees", "user_id": "carol", "infer": False}))


@pytest.fixture(scope="module")
def seeded() -> Iterator[Seeded]:
    folder = Path(tempfile.mkdtemp(prefix="memlane-ui-"))
    try:
        with MemlaneServer.start(folder, keys={"alpha": False, "beta": False}, config=CONFIG) as server:
            state = Seeded(server)
            _seed(state)
            yield state
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright import sync_api

    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    try:
        yield tab
    finally:
        context.close()


def screenshot(tab: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    tab.screenshot(path=str(path), full_page=True)
    return path
