// Memories of a scope: a table with paging and filters by type and date, and a search box whose
// results show why they ranked there (the explain parts of the score, as a small bar).

import { call } from "./api.js";
import { attempt, memoryLink, scopeArgs, scopeLabel } from "./app.js";
import { add, field, h, table, when, put } from "./dom.js";

const PAGE_SIZE = 20;
const SEARCH_TOP_K = 10;
const TYPES = ["semantic", "episodic", "procedural"];

/** The parts of a search score (explain), in the order the bar draws them. */
export const PARTS = [
  ["dense", "dense_part"],
  ["keyword", "keyword_part"],
  ["neighbours", "neighbour_part"],
  ["time", "time_boost"],
  ["graph", "entity_boost"],
  ["profile", "profile_boost"],
  ["recency", "recency_boost"],
];

// what the table shows, kept while the person opens a memory and comes back
const state = { scopeKey: null, page: 1, type: "", from: "", to: "", query: "" };

function dateFilters() {
  const created = {};
  if (state.from) created.gte = state.from;
  if (state.to) created.lte = state.to + "T23:59:59.999999";
  return Object.keys(created).length ? { created_at: created } : null;
}

function typeOf(item) {
  return (item.metadata && item.metadata.memory_type) || "semantic";
}

function sourceOf(item) {
  const parts = [item.attributed_to || item.role, item.actor_id].filter(Boolean);
  return parts.length ? parts.join(" · ") : h("span", { class: "muted" }, "—");
}

/** The explain bar of one search result: each part's share of the highest possible score. */
export function explainBar(details) {
  const top = details.max_possible_score || 1;
  const shown = PARTS.filter(([, key]) => (details[key] || 0) > 0.0005);
  const label = shown.map(([name, key]) => `${name} ${(details[key] / top).toFixed(2)}`).join(", ");
  const bar = h(
    "div",
    { class: "bar", role: "img", "aria-label": `score ${details.final_score.toFixed(2)}: ${label || "no signal"}` },
    shown.map(([name, key]) => h("span", { class: "part part-" + name, style: null, "data-width": (100 * details[key]) / top })),
  );
  for (const span of bar.children) span.style.width = span.dataset.width + "%";
  const legend = h(
    "ul",
    { class: "legend", "aria-hidden": "true" },
    shown.map(([name, key]) => h("li", {}, h("span", { class: "swatch part-" + name }), `${name} ${(details[key] / top).toFixed(2)}`)),
  );
  return h("div", { class: "explain" }, bar, legend);
}

function filtersForm(scope, redraw) {
  const type = h("select", { name: "type" }, h("option", { value: "" }, "any"),
    TYPES.map((t) => h("option", { value: t, selected: state.type === t }, t)));
  const from = h("input", { type: "date", name: "from", value: state.from });
  const to = h("input", { type: "date", name: "to", value: state.to });
  const form = h("form", { class: "filters", "aria-label": "Filters" },
    field("Type", type), field("Created from", from), field("Created until", to),
    h("button", { type: "submit" }, "Apply filters"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    Object.assign(state, { type: type.value, from: from.value, to: to.value, page: 1 });
    redraw();
  });
  return form;
}

function searchForm(redraw) {
  const input = h("input", { type: "search", name: "q", value: state.query, placeholder: "e.g. where does she live?" });
  const clear = h("button", { type: "button", class: "quiet clear", hidden: !state.query }, "Clear search");
  clear.addEventListener("click", () => {
    state.query = "";
    input.value = "";
    input.focus();
    redraw();
  });
  const form = h("form", { role: "search", class: "search", "aria-label": "Search memories" },
    field("Search this scope", input), h("button", { type: "submit" }, "Search"), clear);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    state.query = input.value.trim();
    state.page = 1;
    redraw();
  });
  return form;
}

function rows(items, searching) {
  return items.map((item) => {
    const cells = [
      h("a", { href: memoryLink(item.id), class: "memory-link" }, item.memory),
      typeOf(item),
      when(item.created_at),
      when(item.updated_at),
      sourceOf(item),
    ];
    if (searching) cells.push(item.score.toFixed(2), item.score_details ? explainBar(item.score_details) : "");
    return cells;
  });
}

async function results(scope) {
  const filters = dateFilters();
  const args = { ...scopeArgs(scope), ...(filters ? { filters } : {}), ...(state.type ? { memory_type: state.type } : {}) };
  if (state.query) {
    const found = await call("search", { query: state.query, ...args, explain: true, top_k: SEARCH_TOP_K });
    return { items: found.results, status: `${found.results.length} best match(es) for “${state.query}”` };
  }
  const page = await call("get_all", { ...args, page: state.page, page_size: PAGE_SIZE });
  const pages = Math.max(1, Math.ceil(page.count / PAGE_SIZE));
  return { items: page.results, status: `Page ${page.page} of ${pages} · ${page.count} memories`, page };
}

function pager(page, redraw) {
  const go = (number) => async () => {
    state.page = number;
    await redraw();
    document.querySelector(".results .status").focus(); // the pager was redrawn: keep the place
  };
  return h("nav", { class: "pager", "aria-label": "Pages" },
    h("button", { type: "button", disabled: page.previous === null, onclick: go(page.previous) }, "← Previous page"),
    h("button", { type: "button", disabled: page.next === null, onclick: go(page.next) }, "Next page →"));
}

export async function renderMemories(container, scope) {
  const key = scope.type + ":" + scope.id;
  if (state.scopeKey !== key) Object.assign(state, { scopeKey: key, page: 1, type: "", from: "", to: "", query: "" });
  const list = h("div", { class: "results", "aria-live": "polite" });
  const redraw = () => attempt(async () => {
    const found = await results(scope);
    const headers = ["Memory", "Type", "Created", "Updated", "Source"];
    if (state.query) headers.push("Score", "Why it ranked here");
    put(list, 
      h("p", { class: "status", tabindex: "-1" }, found.status),
      found.items.length
        ? table(state.query ? "Search results, best first" : "Memories, newest first", headers, rows(found.items, Boolean(state.query)), { class: "memories" })
        : h("p", { class: "empty" }, "No memory matches."),
      found.page ? pager(found.page, redraw) : null,
    );
    search.querySelector(".clear").hidden = !state.query;
  });
  const search = searchForm(redraw);
  add(container, 
    h("h1", {}, "Memories of " + scopeLabel(scope)),
    h("div", { class: "toolbar" }, search, filtersForm(scope, redraw)),
    list,
  );
  await redraw();
}
