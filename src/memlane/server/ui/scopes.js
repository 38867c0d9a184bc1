// Scopes: the users, agents and runs that have memories, with counts and last activity.

import { call } from "./api.js";
import { scopeLink } from "./app.js";
import { add, h, table, when, put } from "./dom.js";

export async function renderScopes(container) {
  add(container, h("h1", {}, "Scopes"), h("p", { class: "muted" }, "Loading…"));
  const scopes = await call("scopes");
  const rows = scopes.map((scope) => [
    scope.type,
    h("a", { href: scopeLink(scope), class: "scope-link" }, scope.id),
    String(scope.total_memories),
    when(scope.last_activity),
  ]);
  put(container, 
    h("h1", {}, "Scopes"),
    h("p", {}, "Each user, agent and run of this key's tenant that has memories. Pick one to browse it."),
    scopes.length
      ? table(`${scopes.length} scope(s)`, ["Type", "Id", "Memories", "Last activity"], rows, { class: "scopes" })
      : h("p", { class: "empty" }, "No memories yet: add some with the API, the CLI or a client."),
  );
}
