"""The memory browser in a real headless Chromium against a real server: log in with a key,
pick a scope, search (explain bars), open a memory, edit it, delete one, and check the API's
state afterwards; the other tenant sees none of it; the main flow by keyboard alone; no
serious or critical axe-core violation (colour contrast included) on each main view."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.ui.conftest import CHROMIUM, Seeded, screenshot

if not Path(CHROMIUM).exists():
    pytest.skip(
        f"no Chromium at {CHROMIUM}: `make install` installs Debian's chromium and chromium-driver "
        "(or set MEMLANE_CHROMIUM to a Chromium binary)",
        allow_module_level=True,
    )
pytest.importorskip("playwright.sync_api", reason="the test extra installs playwright")
Axe = pytest.importorskip("axe_playwright_python.sync_playwright", reason="the test extra installs it").Axe

pytestmark = pytest.mark.integration

_axe = Axe()


def login(page: Any, seeded: Seeded, tenant: str = "alpha") -> None:
    page.goto(seeded.server.url + "/ui")
    page.get_by_label("API key").fill(seeded.server.keys[tenant])
    page.get_by_role("button", name="Open").click()
    page.get_by_role("heading", name="Scopes", level=1).wait_for()
    page.locator("table.scopes").wait_for()


def check_accessibility(page: Any, view: str) -> None:
    """No serious or critical axe-core violation on the page as it is (contrast included)."""
    results = _axe.run(page, options={"resultTypes": ["violations"]})
    ran = {rule["id"] for kind in ("passes", "violations", "incomplete") for rule in results.response[kind]}
    assert "color-contrast" in ran, f"{view}: axe-core did not check {sorted(ran)}"
    bad = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, f"{view}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}" for v in bad
    )


def test_login_pick_search_open_edit_delete(page: Any, seeded: Seeded) -> None:
    page.goto(seeded.server.url + "/ui")
    check_accessibility(page, "login")
    screenshot(page, "0-login")
    login(page, seeded)
    scopes = page.locator("table.scopes tbody tr")
    assert scopes.count() == 3  # alice, the agent helper, the run run-42
    alice_row = page.locator("table.scopes tr", has_text="alice")
    assert "27" in alice_row.inner_text()
    check_accessibility(page, "scopes")
    screenshot(page, "1-scopes")

    page.get_by_role("link", name="alice").click()
    page.get_by_role("heading", name="Memories of user alice").wait_for()
    page.get_by_text("Page 1 of 2 · 27 memories").wait_for()
    assert page.locator("table.memories tbody tr").count() == 20
    check_accessibility(page, "memories")
    page.get_by_role("button", name="Next page →").click()
    page.get_by_text("Page 2 of 2 · 27 memories").wait_for()
    assert page.locator("table.memories tbody tr").count() == 7
    page.get_by_label("Type").select_option("episodic")
    page.get_by_role("button", name="Apply filters").click()
    page.get_by_text("Page 1 of 1 · 6 memories").wait_for()
    page.get_by_label("Type").select_option("")
    page.get_by_label("Created from").fill("2099-01-01")
    page.get_by_role("button", name="Apply filters").click()
    page.get_by_text("Page 1 of 1 · 0 memories").wait_for()
    page.get_by_label("Created from").fill("")
    page.get_by_label("Created until").fill(datetime.now(UTC).date().isoformat())
    page.get_by_role("button", name="Apply filters").click()
    page.get_by_text("Page 1 of 2 · 27 memories").wait_for()

    page.get_by_label("Search this scope").fill("where does alice live? Bangalore")
    page.get_by_role("button", name="Search", exact=True).click()
    page.get_by_text(re.compile("best match")).wait_for()
    first = page.locator("table.memories tbody tr").first
    assert "Moved to Bangalore" in first.inner_text()
    bars = page.locator("table.memories .explain .bar")
    assert bars.count() == page.locator("table.memories tbody tr").count() > 0
    assert bars.first.is_visible()
    label = bars.first.get_attribute("aria-label") or ""
    assert "dense" in label and "keyword" in label and "graph" in label
    check_accessibility(page, "search")
    screenshot(page, "2-search")

    page.get_by_role("link", name="Likes cricket").click()
    page.get_by_role("heading", name="Memory", exact=True).wait_for()
    assert "Likes cricket" in page.locator(".memory-text").inner_text()
    assert "I live in Delhi and I like cricket" in page.locator("ol.sources").inner_text()
    assert "likes" in page.locator("section", has_text="Entities and relations").inner_text()
    page.get_by_label("Text").fill("Likes cricket and football")
    page.get_by_role("button", name="Save new version").click()
    page.get_by_text("Saved: the memory has a new version.").wait_for()
    assert page.locator("table", has_text="Version").locator("tbody tr").count() == 2
    check_accessibility(page, "memory")
    screenshot(page, "3-memory")
    cricket = seeded.alice["Likes cricket"]

    page.goto(seeded.server.url + "/ui#/memory/" + seeded.alice["Uses a standing desk"])
    page.get_by_role("heading", name="Memory", exact=True).wait_for()
    page.get_by_role("button", name="Delete…").click()
    dialog = page.get_by_role("dialog")
    assert "Its versions, its history" in dialog.inner_text()
    check_accessibility(page, "delete dialog")
    dialog.get_by_role("button", name="Delete memory").click()
    page.get_by_role("heading", name="Deleted memory").wait_for()
    page.get_by_role("button", name="Purge for good…").click()
    assert "No copy of the text remains" in page.get_by_role("dialog").inner_text()
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    assert page.get_by_role("heading", name="Deleted memory").is_visible()
    garden = seeded.alice["Grows basil on the balcony"]
    page.goto(seeded.server.url + "/ui#/memory/" + garden)
    page.get_by_role("heading", name="Memory", exact=True).wait_for()
    page.get_by_role("button", name="Purge for good…").click()
    page.get_by_role("dialog").get_by_role("button", name="Purge for good").click()
    page.get_by_role("heading", name="Memories of user alice").wait_for()

    with seeded.api("alpha") as alpha:
        got = alpha.post("/memlane/v1/get", json={"memory_id": cricket}).json()
        assert got["memory"] == "Likes cricket and football"
        history = alpha.post("/memlane/v1/history", json={"memory_id": cricket}).json()
        assert [h["event"] for h in history] == ["ADD", "UPDATE"]
        desk = seeded.alice["Uses a standing desk"]
        assert alpha.post("/memlane/v1/get", json={"memory_id": desk}).json() is None
        listed = alpha.post("/memlane/v1/get_all", json={"user_id": "alice", "page_size": 100}).json()
        assert listed["count"] == 25  # one deleted, one purged
        assert alpha.post("/memlane/v1/history", json={"memory_id": desk}).json()[-1]["event"] == "DELETE"
        purged = alpha.post("/memlane/v1/memory_details", json={"memory_id": garden})
        assert (
            purged.status_code == 404
            and alpha.post("/memlane/v1/history", json={"memory_id": garden}).json() == []
        )


def test_graph_profile_and_context_views(page: Any, seeded: Seeded) -> None:
    login(page, seeded)
    page.get_by_role("link", name="alice").click()
    page.get_by_role("link", name="Graph").click()
    page.get_by_role("heading", name="Graph of user alice").wait_for()
    edges = page.locator("svg.graph g.edge")
    assert edges.count() == 5 and page.locator("svg.graph g.edge.invalidated").count() == 1
    page.locator("svg.graph g.edge.invalidated").click()
    panel = page.locator(".relation-detail")
    panel.get_by_role("link", name="Lives in Delhi").wait_for()
    assert "Invalidated" in panel.inner_text()
    check_accessibility(page, "graph")
    screenshot(page, "4-graph")

    page.get_by_role("link", name="Profile").click()
    page.get_by_role("heading", name="Profile of user alice").wait_for()
    assert "Bangalore" in page.locator("table").first.inner_text()
    page.get_by_role("button", name="History of home_city").click()
    history = page.locator(".history table tbody tr")
    history.nth(1).wait_for()
    assert "Delhi" in history.nth(0).inner_text() and "Bangalore" in history.nth(1).inner_text()
    check_accessibility(page, "profile")
    screenshot(page, "5-profile")

    page.get_by_role("link", name="Context preview").click()
    page.get_by_label("Question").fill("where does alice work?")
    page.get_by_role("button", name="Build context").click()
    context = page.locator("pre.context")
    context.wait_for()
    assert "Acme" in context.inner_text() and "[m1]" in context.inner_text()
    assert page.locator("table", has_text="Citations").locator("tbody tr").count() >= 3
    check_accessibility(page, "context")
    screenshot(page, "6-context")


def test_another_tenant_sees_none_of_it(page: Any, seeded: Seeded) -> None:
    login(page, seeded, "beta")
    [row] = page.locator("table.scopes tbody tr").all_inner_texts()
    assert row.split("\t")[:3] == ["user", "carol", "1"]
    assert "alice" not in page.locator("main").inner_text()
    page.goto(seeded.server.url + "/ui#/memory/" + seeded.alice["Allergic to peanuts"])
    page.get_by_role("alert").wait_for()
    assert "Allergic" not in page.locator("body").inner_text()
    page.goto(seeded.server.url + "/ui#/s/user/alice/memories")
    page.get_by_text("Page 1 of 1 · 0 memories").wait_for()
    with seeded.api("beta") as beta:
        scopes = beta.post("/memlane/v1/scopes").json()
        assert [(s["type"], s["id"]) for s in scopes] == [("user", "carol")]
    refused = httpx.post(seeded.server.url + "/memlane/v1/scopes", headers={"Authorization": "Bearer nope"})
    assert refused.status_code == 401


def _tab_to(page: Any, selector: str, limit: int = 80) -> None:
    """Press Tab until the focused element matches ``selector``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_the_main_flow_by_keyboard_alone(page: Any, seeded: Seeded) -> None:
    page.goto(seeded.server.url + "/ui")
    key = page.get_by_label("API key")
    key.wait_for()
    assert key.evaluate("(field) => field === document.activeElement")
    page.keyboard.type(seeded.server.keys["alpha"])  # the key field has the focus
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Scopes", level=1).wait_for()
    _tab_to(page, "a.scope-link")
    assert page.evaluate("document.activeElement.textContent") == "alice"
    outline = "(s => s.outlineStyle + ' ' + s.outlineWidth)(getComputedStyle(document.activeElement))"
    assert page.evaluate(outline) == "solid 3px"  # the focus is visible
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Memories of user alice").wait_for()
    _tab_to(page, "input[type=search]")
    page.keyboard.type("tea")
    page.keyboard.press("Enter")
    page.get_by_text(re.compile("best match")).wait_for()
    _tab_to(page, "a.memory-link")
    opened = page.evaluate("document.activeElement.textContent")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Memory", exact=True).wait_for()
    assert page.locator(".memory-text").inner_text() == opened
    _tab_to(page, "textarea")
    page.keyboard.press("End")
    page.keyboard.type(" (by keyboard)")
    _tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")
    page.get_by_text("Saved: the memory has a new version.").wait_for()
    _tab_to(page, "button.danger")
    page.keyboard.press("Enter")
    assert page.get_by_role("dialog").is_visible()
    assert page.evaluate("document.activeElement.textContent") == "Cancel"  # the dialog took the focus
    page.keyboard.press("Enter")
    assert not page.get_by_role("dialog").is_visible()
    assert page.locator(".memory-text").inner_text() == opened + " (by keyboard)"
    _tab_to(page, "nav a[href$='/graph']")  # on past the page's end, round to the top
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Graph of user alice").wait_for()
    _tab_to(page, "g.edge")
    page.keyboard.press("Enter")
    _tab_to(page, ".relation-detail a")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Memory", exact=True).wait_for()


def test_serve_says_where_the_page_is(seeded: Seeded) -> None:
    assert f"memory browser: {seeded.server.url}/ui" in seeded.server.log()
    page = httpx.get(seeded.server.url + "/ui")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    for name, kind in (
        ("app.js", "text/javascript"),
        ("app.css", "text/css"),
        ("layout.js", "text/javascript"),
    ):
        served = httpx.get(f"{seeded.server.url}/ui/static/{name}")
        assert served.status_code == 200 and served.headers["content-type"].startswith(kind), name
    for missing in ("nope.js", "..%2Fapp.py", "%2E%2E%2F%2E%2E%2Fconfig.py"):
        assert httpx.get(f"{seeded.server.url}/ui/static/{missing}").status_code == 404, missing
