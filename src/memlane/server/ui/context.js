// Context preview: what get_context would hand an LLM for a question, and what each tag cites.

import { call } from "./api.js";
import { attempt, memoryLink, scopeArgs, scopeLabel } from "./app.js";
import { add, field, h, short, table, when, put } from "./dom.js";

function links(ids) {
  return ids.length ? h("span", {}, ids.map((id, i) => [i ? ", " : "", h("a", { href: memoryLink(id) }, short(id))])) : "—";
}

function result(context) {
  const citations = Object.values(context.citations);
  return [
    h("p", { class: "status", tabindex: "-1" }, `${context.tokens} of ${context.max_tokens} tokens (${context.tokenizer}), ${citations.length} citation(s)`),
    h("pre", { class: "context", tabindex: "0", "aria-label": "The packed context" }, context.text || "(empty: nothing in this scope matches)"),
    citations.length
      ? table("Citations", ["Tag", "Kind", "Text", "Memories", "Source messages", "Date"],
        citations.map((c) => [h("code", {}, `[${c.id}]`), c.kind, c.text, links(c.memory_ids), String(c.source_ids.length), when(c.date)]))
      : null,
  ];
}

export async function renderContext(container, scope) {
  const query = h("input", { type: "text", name: "query", required: true, placeholder: "e.g. what should I cook for her?" });
  const budget = h("input", { type: "number", name: "max_tokens", min: "50", max: "100000", step: "50", value: "1000" });
  const out = h("div", { class: "results", "aria-live": "polite" });
  const form = h("form", { class: "context-form" }, field("Question", query), field("Token budget", budget),
    h("button", { type: "submit" }, "Build context"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    attempt(async () => {
      const context = await call("get_context", { query: query.value, ...scopeArgs(scope), max_tokens: Number(budget.value) });
      put(out, ...result(context));
    });
  });
  add(container, 
    h("h1", {}, "Context preview for " + scopeLabel(scope)),
    h("p", {}, "The block get_context would put in a prompt for this question: profile slots, relations and memories, each tagged so an answer can cite it."),
    form,
    out,
  );
}
