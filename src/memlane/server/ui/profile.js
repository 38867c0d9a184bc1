// Profile: the scope's slots (who the user is, where they live...) and each slot's history.

import { call } from "./api.js";
import { attempt, memoryLink, scopeArgs, scopeLabel } from "./app.js";
import { add, h, section, short, table, when, put } from "./dom.js";

function memory(id) {
  return id ? h("a", { href: memoryLink(id) }, short(id)) : h("span", { class: "muted" }, "—");
}

async function showHistory(panel, scope, key) {
  const versions = await call("profile_history", { key, ...scopeArgs(scope) });
  put(panel, section(`History of ${key}`, table(`${versions.length} value(s), oldest first`,
    ["Value", "Valid from", "Valid to", "Recorded", "Superseded", "From memory"],
    versions.map((v) => [v.value, when(v.valid_from), when(v.valid_to), when(v.recorded_at),
      v.expired_at ? when(v.expired_at) : "current", memory(v.memory_id)]))));
  panel.querySelector("h2").setAttribute("tabindex", "-1");
  panel.querySelector("h2").focus();
}

export async function renderProfile(container, scope) {
  const result = await call("get_profile", scopeArgs(scope));
  const panel = h("div", { class: "history", "aria-live": "polite" });
  add(container, 
    h("h1", {}, "Profile of " + scopeLabel(scope)),
    h("p", {}, "The slots memlane keeps about this owner; a new value keeps the old one in the slot's history."),
    result.slots.length
      ? table(`${result.slots.length} slot(s)`, ["Slot", "Value", "Valid from", "Recorded", "From memory", "History"],
        result.slots.map((slot) => [slot.key, slot.value, when(slot.valid_from), when(slot.recorded_at), memory(slot.memory_id),
          h("button", { type: "button", class: "quiet", onclick: () => attempt(() => showHistory(panel, scope, slot.key)) },
            `History of ${slot.key}`)]))
      : h("p", { class: "empty" }, "No profile slot (profile extraction is off on this server, or nothing set one yet)."),
    panel,
  );
}
