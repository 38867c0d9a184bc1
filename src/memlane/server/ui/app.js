// The memory browser: a key asked once, then hash routes, one view at a time.
//   #/scopes                        the users, agents and runs of the key's tenant
//   #/s/<type>/<id>/memories        a scope's memories (table, filters, search with explain bars)
//   #/s/<type>/<id>/graph|profile|context
//   #/memory/<id>                   one memory

import { ApiError, call, forgetKey, saveKey, savedKey } from "./api.js";
import { field, h } from "./dom.js";
import { renderContext } from "./context.js";
import { renderGraph } from "./graph.js";
import { renderMemories } from "./memories.js";
import { renderMemory } from "./memory.js";
import { renderProfile } from "./profile.js";
import { renderScopes } from "./scopes.js";

const VIEWS = [
  ["memories", "Memories", renderMemories],
  ["graph", "Graph", renderGraph],
  ["profile", "Profile", renderProfile],
  ["context", "Context preview", renderContext],
];
const SCOPE_KEY = "memlane.scope";
const main = document.getElementById("view");
const nav = document.getElementById("nav");
const alertBox = document.getElementById("alert");

/** The arguments that name a scope in a call: {user_id: "alice"}. */
export function scopeArgs(scope) {
  return { [scope.type + "_id"]: scope.id };
}

/** The link to a view of a scope. */
export function scopeLink(scope, view = "memories") {
  return `#/s/${encodeURIComponent(scope.type)}/${encodeURIComponent(scope.id)}/${view}`;
}

export function memoryLink(memoryId) {
  return "#/memory/" + encodeURIComponent(memoryId);
}

export function scopeLabel(scope) {
  return `${scope.type} ${scope.id}`;
}

/** The scope a memory item belongs to (its user, else its agent, else its run). */
export function scopeOf(item) {
  for (const type of ["user", "agent", "run"]) {
    if (item && item[type + "_id"]) return { type, id: String(item[type + "_id"]) };
  }
  return null;
}

export function showError(error) {
  if (error instanceof ApiError && error.status === 401) {
    forgetKey();
    render();
    showMessage("The key was refused: " + error.message);
    return;
  }
  showMessage(error instanceof Error ? error.message : String(error));
}

export function showMessage(text) {
  alertBox.textContent = text;
  alertBox.hidden = !text;
}

/** Run an action; its error shown in the alert region. */
export async function attempt(action) {
  try {
    return await action();
  } catch (error) {
    showError(error);
    return undefined;
  }
}

function currentScope() {
  const saved = sessionStorage.getItem(SCOPE_KEY);
  return saved ? JSON.parse(saved) : null;
}

/** Remember the scope the views' links point at. */
export function useScope(scope) {
  if (scope) sessionStorage.setItem(SCOPE_KEY, JSON.stringify(scope));
  drawNav(scope, null);
}

function drawNav(scope, active) {
  const links = [h("a", { href: "#/scopes", "aria-current": active === "scopes" ? "page" : null }, "Scopes")];
  for (const [view, label] of VIEWS) {
    if (!scope) continue;
    links.push(h("a", { href: scopeLink(scope, view), "aria-current": active === view ? "page" : null }, label));
  }
  nav.replaceChildren(h("ul", {}, links.map((link) => h("li", {}, link))));
  nav.hidden = false;
  const who = document.getElementById("who");
  who.textContent = scope ? "Scope: " + scopeLabel(scope) : "No scope picked";
  who.hidden = false;
  document.getElementById("logout").hidden = false;
}

function login() {
  nav.hidden = true;
  document.getElementById("who").hidden = true;
  document.getElementById("logout").hidden = true;
  const input = h("input", { type: "password", name: "key", autocomplete: "off", spellcheck: "false", required: true });
  const form = h(
    "form",
    { class: "card login", "aria-labelledby": "login-title" },
    h("h1", { id: "login-title", tabindex: "-1" }, "Open the memory browser"),
    h("p", {}, "Give an API key of this server (", h("code", {}, "memlane keys create --tenant NAME"),
      " makes one). It is kept for this browser tab only and sent with every call; a key sees only its tenant's memories."),
    field("API key", input),
    h("button", { type: "submit" }, "Open"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    saveKey(input.value.trim());
    try {
      await call("scopes");
    } catch (error) {
      forgetKey();
      showMessage(error instanceof ApiError && error.status === 401 ? "This key was refused: " + error.message : error.message);
      input.focus();
      return;
    }
    showMessage("");
    if (!location.hash || location.hash === "#/") location.hash = "#/scopes";
    else render();
  });
  main.replaceChildren(form);
  input.focus();
}

function parse(hash) {
  const parts = hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  if (parts[0] === "s" && parts.length === 4 && ["user", "agent", "run"].includes(parts[1])) {
    return { view: parts[3], scope: { type: parts[1], id: parts[2] } };
  }
  if (parts[0] === "memory" && parts[1]) return { view: "memory", memoryId: parts[1] };
  return { view: "scopes" };
}

/** Draw the view the address names. */
export async function render() {
  if (savedKey() === null) {
    login();
    return;
  }
  const route = parse(location.hash);
  const scope = route.scope || currentScope();
  if (route.scope) useScope(route.scope);
  drawNav(scope, route.view);
  const container = h("div", { class: "page" });
  main.replaceChildren(container);
  const entry = VIEWS.find(([view]) => view === route.view);
  if (route.view === "memory") await attempt(() => renderMemory(container, route.memoryId));
  else if (entry && route.scope) await attempt(() => entry[2](container, route.scope));
  else await attempt(() => renderScopes(container));
  const title = container.querySelector("h1");
  if (title) {
    title.setAttribute("tabindex", "-1");
    document.title = title.textContent + " · memlane";
  }
}

/** Draw the view and move the focus to its heading (for keyboard and screen reader users). */
async function navigate() {
  showMessage("");
  await render();
  const title = main.querySelector("h1");
  if (title && savedKey() !== null) title.focus();
}

document.getElementById("logout").addEventListener("click", () => {
  forgetKey();
  sessionStorage.removeItem(SCOPE_KEY);
  location.hash = "";
  render();
});
window.addEventListener("hashchange", navigate);
render();
