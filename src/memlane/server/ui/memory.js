// One memory: its text and fields, edit, delete, purge (with a confirmation that says what
// goes), its history as a timeline, its versions, its source messages, its entities and relations.

import { call } from "./api.js";
import { attempt, memoryLink, render, scopeLabel, scopeLink, scopeOf, showMessage } from "./app.js";
import { add, field, h, section, short, table, when, put } from "./dom.js";

export const DELETE_TEXT =
  "Delete hides this memory from reads, search and context. Its versions, its history (with a DELETE row) " +
  "and its source messages are kept, so it still shows here; graph relations it alone supported are removed, " +
  "and profile slots written from it are cleared.";

export const PURGE_TEXT =
  "Purge erases this memory for good (for a GDPR request): its text and every earlier version, its history " +
  "rows, its vectors and full-text index entries, the source messages no other memory came from, and the profile " +
  "slots written from it. Graph relations lose it as support; relations it alone supported are erased, then " +
  "entities left with no relation. No copy of the text remains in the store, and this cannot be undone.";

function confirmDialog(title, text, action, run) {
  const dialog = h("dialog", { class: "confirm", "aria-labelledby": "dialog-title" },
    h("h2", { id: "dialog-title" }, title),
    h("p", {}, text),
    h("div", { class: "actions" },
      h("button", { type: "button", class: "quiet", onclick: () => dialog.close() }, "Cancel"),
      h("button", { type: "button", class: "danger", onclick: async () => { dialog.close(); await run(); } }, action)));
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}

function facts(details) {
  const item = details.memory;
  const scope = item ? scopeOf(item) : null;
  const rows = [
    ["Id", h("code", {}, details.id)],
    ["Scope", scope ? h("a", { href: scopeLink(scope) }, scopeLabel(scope)) : "—"],
    ["Type", item ? (item.metadata && item.metadata.memory_type) || "semantic" : "—"],
    ["Created", item ? when(item.created_at) : "—"],
    ["Updated", item ? when(item.updated_at) : "—"],
    ["Expires", item && item.expiration_date ? when(item.expiration_date) : "never"],
    ["Came from", item ? [item.attributed_to || item.role, item.actor_id].filter(Boolean).join(" · ") || "—" : "—"],
  ];
  return h("dl", { class: "facts" }, rows.map(([name, value]) => [h("dt", {}, name), h("dd", {}, value)]));
}

function editForm(details) {
  const text = h("textarea", { name: "text", rows: "3", required: true });
  text.value = details.memory.memory;
  const form = h("form", { class: "edit" }, field("Text", text, "Saving keeps the current text as an earlier version."),
    h("button", { type: "submit" }, "Save new version"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    attempt(async () => {
      await call("update", { memory_id: details.id, text: text.value });
      showMessage("");
      await render();
      document.querySelector("h1").focus();
      announce("Saved: the memory has a new version.");
    });
  });
  return form;
}

function announce(text) {
  const status = document.getElementById("memory-status");
  if (status) status.textContent = text;
}

function eraseButtons(details) {
  const scope = details.memory ? scopeOf(details.memory) : null;
  const back = () => { location.hash = scope ? scopeLink(scope) : "#/scopes"; };
  const remove = h("button", { type: "button", class: "danger", hidden: details.deleted }, "Delete…");
  remove.addEventListener("click", () => confirmDialog("Delete this memory?", DELETE_TEXT, "Delete memory", () =>
    attempt(async () => {
      await call("delete", { memory_id: details.id });
      await render();
      document.querySelector("h1").focus();
      announce("Deleted. Its history is kept; purge erases it for good.");
    })));
  const purge = h("button", { type: "button", class: "danger" }, "Purge for good…");
  purge.addEventListener("click", () => confirmDialog("Purge this memory for good?", PURGE_TEXT, "Purge for good", () =>
    attempt(async () => {
      await call("purge", { memory_id: details.id });
      back();
    })));
  return h("div", { class: "actions" }, remove, purge);
}

function timeline(details) {
  return h("ol", { class: "timeline" }, details.history.map((event) => h("li", { class: "event-" + event.event.toLowerCase() },
    h("span", { class: "badge" }, event.event), " ", when(event.created_at), " ",
    event.event === "UPDATE" && event.old_memory !== event.new_memory
      ? h("span", {}, h("del", {}, event.old_memory || ""), " → ", h("ins", {}, event.new_memory || ""))
      : h("span", {}, event.new_memory || event.old_memory || ""),
    event.actor_id ? h("span", { class: "muted" }, ` (${event.actor_id})`) : null)));
}

function relationRows(details) {
  return details.relations.map((r) => [
    `${r.source} —${r.relationship}→ ${r.destination}`,
    r.invalidated_at ? h("span", { class: "invalidated" }, "invalidated ", when(r.invalidated_at)) : "current",
    when(r.valid_from),
    h("span", {}, r.memory_ids.map((id, i) => [i ? ", " : "", h("a", { href: memoryLink(id) }, short(id))])),
  ]);
}

export async function renderMemory(container, memoryId) {
  const details = await call("memory_details", { memory_id: memoryId });
  const item = details.memory;
  add(container, 
    h("h1", {}, item ? "Memory" : "Deleted memory"),
    h("p", { class: "memory-text" }, item ? item.memory : (details.versions.at(-1) || {}).text || ""),
    h("p", { id: "memory-status", role: "status", class: "ok" }),
    details.deleted ? h("p", { class: "notice" }, "This memory was deleted: it is kept for its history until purged.") : null,
    facts(details),
    item ? section("Edit", editForm(details)) : null,
    section("Delete or purge", h("p", { class: "muted" }, "Delete hides it and keeps its history; purge erases every copy."),
      eraseButtons(details)),
    section("Timeline", timeline(details)),
    section("Versions", table(`${details.versions.length} version(s), oldest first`,
      ["Version", "Text", "Valid from", "Recorded", "Superseded"],
      details.versions.map((v) => [String(v.version), v.text, when(v.valid_from), when(v.recorded_at),
        v.expired_at ? when(v.expired_at) : "current"]))),
    section("Source messages", details.sources.length
      ? h("ol", { class: "sources" }, details.sources.map((m) => h("li", {}, h("strong", {}, m.name ? `${m.role} (${m.name})` : m.role), ": ", m.content)))
      : h("p", { class: "empty" }, "No source message (imported, or written without one).")),
    section("Entities and relations",
      details.entities.length
        ? h("p", {}, "Entities: ", details.entities.map((e, i) => [i ? ", " : "", h("strong", {}, e.name)]))
        : null,
      details.relations.length
        ? table("Relations this memory supports", ["Relation", "Status", "Valid from", "Memories"], relationRows(details))
        : h("p", { class: "empty" }, "No relation (the graph is off, or none was extracted from it).")),
  );
}
