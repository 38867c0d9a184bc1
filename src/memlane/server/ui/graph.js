// Graph: the scope's entities and relations drawn with a small force layout (layout.js),
// bounded to MAX_ENTITIES. Current relations are solid, invalidated ones dashed and grey.
// Choosing a relation (click, or Enter on it or on its row below) lists the memories behind it.

import { call } from "./api.js";
import { attempt, memoryLink, scopeArgs, scopeLabel } from "./app.js";
import { add, h, s, section, short, table, when, put } from "./dom.js";
import { HEIGHT, WIDTH, bestLayout } from "./layout.js";

const MAX_ENTITIES = 150;
const state = { invalidated: true };

function triple(r) {
  return `${r.source} ${r.relationship.replaceAll("_", " ")} ${r.destination}`;
}

async function showRelation(panel, relation) {
  put(panel, h("p", { class: "muted" }, "Loading…"));
  const memories = await Promise.all(relation.memory_ids.map((id) => call("get", { memory_id: id })));
  put(panel, 
    h("h3", { tabindex: "-1" }, triple(relation)),
    h("p", {}, relation.invalidated_at ? ["Invalidated ", when(relation.invalidated_at), " (a newer fact replaced it)"] : "Current",
      " · valid from ", when(relation.valid_from), relation.valid_to ? [" to ", when(relation.valid_to)] : null,
      ` · stated ${relation.mentions} time(s)`),
    relation.memory_ids.length
      ? h("ul", { class: "behind" }, relation.memory_ids.map((id, i) => h("li", {},
        h("a", { href: memoryLink(id) }, memories[i] ? memories[i].memory : `memory ${short(id)} (deleted)`))))
      : h("p", { class: "empty" }, "No memory behind it (imported without one)."),
  );
  panel.querySelector("h3").focus();
}

function drawing(view, choose) {
  const at = bestLayout(view.entities, view.relations);
  const radius = new Map(view.entities.map((e) => [e.id, 5 + Math.min(e.degree, 10)]));
  const edges = view.relations.filter((r) => at.has(r.source_id) && at.has(r.destination_id)).map((r) => {
    const a = at.get(r.source_id), b = at.get(r.destination_id);
    const length = Math.hypot(b.x - a.x, b.y - a.y) || 1;
    const back = (radius.get(r.destination_id) + 3) / length; // the arrow ends at the circle's edge
    const end = { x: b.x - (b.x - a.x) * back, y: b.y - (b.y - a.y) * back };
    const edge = s("g", { class: "edge" + (r.invalidated_at ? " invalidated" : ""), tabindex: "0", role: "button", "data-id": r.id,
      "aria-label": triple(r) + (r.invalidated_at ? " (invalidated)" : "") },
    s("title", {}, triple(r) + (r.invalidated_at ? " (invalidated)" : "")),
    s("line", { class: "hit", x1: a.x, y1: a.y, x2: b.x, y2: b.y }),
    s("line", { class: "stroke", x1: a.x, y1: a.y, x2: end.x, y2: end.y, "marker-end": "url(#arrow)" }),
    s("text", { class: "edge-label", x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 - 4 }, r.relationship));
    edge.addEventListener("click", () => choose(r));
    edge.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); choose(r); }
    });
    return edge;
  });
  const nodes = view.entities.map((e) => {
    const p = at.get(e.id);
    return s("g", { class: "node" }, s("title", {}, `${e.name}: ${e.degree} relation(s)`),
      s("circle", { cx: p.x, cy: p.y, r: 5 + Math.min(e.degree, 10) }),
      s("text", { x: p.x, y: p.y - 9 - Math.min(e.degree, 10) }, e.name));
  });
  return s("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: "graph", role: "group", "aria-label": "Graph picture: relations are buttons" },
    s("defs", {}, s("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "6", markerHeight: "6", orient: "auto-start-reverse" },
      s("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrow" }))),
    s("g", {}, edges), s("g", {}, nodes));
}

export async function renderGraph(container, scope) {
  const view = await call("graph_view", { ...scopeArgs(scope), max_entities: MAX_ENTITIES, include_invalidated: state.invalidated });
  add(container, h("h1", {}, "Graph of " + scopeLabel(scope)));
  if (!view.enabled) {
    add(container, h("p", { class: "empty" }, "The graph is off on this server (enable_graph, or a graph_store in its config)."));
    return;
  }
  const panel = h("div", { class: "relation-detail", "aria-live": "polite" }, h("p", { class: "muted" }, "Choose a relation to see the memories behind it."));
  const choose = (relation) => {
    for (const edge of container.querySelectorAll("g.edge")) edge.classList.toggle("chosen", edge.dataset.id === relation.id);
    return attempt(() => showRelation(panel, relation));
  };
  const toggle = h("input", { type: "checkbox", id: "show-invalidated", checked: state.invalidated });
  toggle.addEventListener("change", () => attempt(async () => {
    state.invalidated = toggle.checked;
    put(container);
    await renderGraph(container, scope);
    document.getElementById("show-invalidated").focus();
  }));
  const summary = `${view.entities.length} of ${view.total_entities} entities, ${view.relations.length} of ${view.total_relations} relations` +
    (view.truncated ? ` (the ${MAX_ENTITIES} most connected entities are drawn)` : "");
  add(container, 
    h("p", { class: "status" }, summary),
    h("div", { class: "toolbar" },
      h("div", { class: "check" }, toggle, h("label", { for: "show-invalidated" }, "Show invalidated relations")),
      h("ul", { class: "legend", "aria-label": "Legend" },
        h("li", {}, h("span", { class: "line current" }), "current relation"),
        h("li", {}, h("span", { class: "line invalidated" }), "invalidated (replaced or ended)"))),
    view.relations.length ? drawing(view, choose) : h("p", { class: "empty" }, "No relation in this scope yet."),
    panel,
    view.relations.length ? section("Relations", table(`${view.relations.length} relation(s), newest first`,
      ["Relation", "Status", "Recorded", "Memories"],
      view.relations.map((r) => [triple(r), r.invalidated_at ? h("span", { class: "invalidated" }, "invalidated") : "current",
        when(r.created_at), h("button", { type: "button", class: "quiet", "aria-label": `Show the memories behind ${triple(r)}`, onclick: () => choose(r) },
          `Show ${r.memory_ids.length} memory(ies)`)]))) : null,
  );
}
