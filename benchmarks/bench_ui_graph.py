"""How long the memory browser's graph picture takes in a real browser, by graph size.

It loads the page's own force layout (``memlane/server/ui/layout.js``) into headless Chromium
(Debian's ``/usr/bin/chromium``, or ``--chromium``), then for each size lays out a random graph
of N entities and ``5 * N`` relations (``graph_view``'s bound: at most five relations per entity
drawn) and draws it as SVG (lines and circles, the browser made to lay the picture out), and
prints the median of ``--repeat`` runs in ms for the layout and the drawing. ``graph_view``
returns 150 entities by default: the figure for 150 is what a person waits for. It prints
figures and never asserts them.

    python benchmarks/bench_ui_graph.py
    python benchmarks/bench_ui_graph.py --sizes 150 500 --repeat 3
"""

from __future__ import annotations

import argparse
import statistics
from importlib import resources

_SCRIPT = """([entities, relations]) => {
  const ents = [...Array(entities).keys()].map((i) => ({ id: "e" + i }));
  const rels = [];
  const pick = (below) => "e" + Math.floor(Math.random() * below);
  for (let i = 1; i < entities; i++) rels.push({ source_id: pick(i), destination_id: "e" + i });
  while (rels.length < relations) rels.push({ source_id: pick(entities), destination_id: pick(entities) });
  const started = performance.now();
  const at = layout(ents, rels);
  const laid = performance.now();
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${WIDTH} ${HEIGHT}`);
  for (const r of rels) {
    const a = at.get(r.source_id), b = at.get(r.destination_id);
    const line = document.createElementNS(ns, "line");
    for (const [k, v] of [["x1", a.x], ["y1", a.y], ["x2", b.x], ["y2", b.y]]) line.setAttribute(k, v);
    line.setAttribute("stroke", "#444");
    svg.append(line);
  }
  for (const n of at.values()) {
    const dot = document.createElementNS(ns, "circle");
    dot.setAttribute("cx", n.x); dot.setAttribute("cy", n.y); dot.setAttribute("r", 6);
    svg.append(dot);
  }
  document.body.replaceChildren(svg);
  svg.getBBox();
  document.body.offsetHeight;
  return [laid - started, performance.now() - laid];
}"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 150, 300, 1000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    source = (resources.files("memlane.server") / "ui" / "layout.js").read_text(encoding="utf-8")
    classic = source.replace("export ", "")  # a classic script: its names become globals
    flags = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--no-first-run"]  # fmt: skip
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, args=flags)
        try:
            page = browser.new_page()
            page.set_content("<!doctype html><html><body></body></html>")
            page.add_script_tag(content=classic)
            print(f"{'entities':>8} {'relations':>9} {'layout ms':>10} {'draw ms':>8}")
            for size in args.sizes:
                runs = [page.evaluate(_SCRIPT, [size, 5 * size]) for _ in range(args.repeat)]
                layout_ms = statistics.median(r[0] for r in runs)
                draw_ms = statistics.median(r[1] for r in runs)
                print(f"{size:>8} {5 * size:>9} {layout_ms:>10.1f} {draw_ms:>8.1f}")
        finally:
            browser.close()


if __name__ == "__main__":
    main()
