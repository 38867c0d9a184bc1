// The graph's force layout (no library, no DOM): repulsion between all nodes, springs along the
// relations, a pull to the centre, cooling; then the drawing is centred and scaled to fill the
// picture. Deterministic: the starting positions come from the entity ids.

export const WIDTH = 960;
export const HEIGHT = 620;
export const MARGIN = 70;

function seeded(text) {
  let value = 2166136261;
  for (const char of text) value = Math.imul(value ^ char.charCodeAt(0), 16777619);
  return ((value >>> 0) % 10000) / 10000;
}

/** Positions for the nodes: repulsion between all, springs along edges, a pull to the centre. */
export function layout(entities, relations, iterations = 300, seed = "") {
  const nodes = entities.map((e, i) => {
    const angle = 2 * Math.PI * seeded(seed + e.id);
    const radius = 60 + 220 * seeded(seed + e.id + "r") + i * 0.2;
    return { id: e.id, x: WIDTH / 2 + radius * Math.cos(angle), y: HEIGHT / 2 + radius * Math.sin(angle), dx: 0, dy: 0 };
  });
  const at = new Map(nodes.map((n) => [n.id, n]));
  const edges = relations.map((r) => [at.get(r.source_id), at.get(r.destination_id)]).filter(([a, b]) => a && b && a !== b);
  const ideal = Math.max(40, Math.min(120, Math.sqrt((WIDTH * HEIGHT) / Math.max(nodes.length, 1)) * 0.6));
  for (let step = 0; step < iterations; step++) {
    const heat = (WIDTH / 10) * (1 - step / iterations) ** 2 + 0.5;
    for (const n of nodes) { n.dx = (WIDTH / 2 - n.x) * 0.03; n.dy = (HEIGHT / 2 - n.y) * 0.03; }
    for (let i = 0; i < nodes.length; i++) {
      for (let j = i + 1; j < nodes.length; j++) {
        const a = nodes[i], b = nodes[j];
        let x = a.x - b.x, y = a.y - b.y;
        const d2 = Math.max(x * x + y * y, 1);
        const force = (ideal * ideal) / d2;
        x *= force; y *= force;
        a.dx += x; a.dy += y; b.dx -= x; b.dy -= y;
      }
    }
    for (const [a, b] of edges) {
      const x = b.x - a.x, y = b.y - a.y;
      const d = Math.max(Math.sqrt(x * x + y * y), 1);
      const pull = (d - ideal) / d * 0.1;
      a.dx += x * pull; a.dy += y * pull; b.dx -= x * pull; b.dy -= y * pull;
    }
    for (const n of nodes) {
      const d = Math.sqrt(n.dx * n.dx + n.dy * n.dy) || 1;
      const move = Math.min(d, heat);
      n.x = Math.min(WIDTH - MARGIN, Math.max(MARGIN, n.x + (n.dx / d) * move));
      n.y = Math.min(HEIGHT - MARGIN / 2, Math.max(MARGIN, n.y + (n.dy / d) * move));
    }
  }
  fit(nodes);
  return at;
}

/** Centre the drawing and scale it to fill the picture, margins kept for the labels. */
function fit(nodes) {
  if (!nodes.length) return;
  const xs = nodes.map((n) => n.x), ys = nodes.map((n) => n.y);
  const [left, right, top, bottom] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const scale = Math.min((WIDTH - 2 * MARGIN) / Math.max(right - left, 1), (HEIGHT - 2 * MARGIN) / Math.max(bottom - top, 1), 3);
  for (const n of nodes) {
    n.x = WIDTH / 2 + (n.x - (left + right) / 2) * scale;
    n.y = HEIGHT / 2 + (n.y - (top + bottom) / 2) * scale;
  }
}

const TRIES = ["", "a", "b", "c", "d", "e"];
const SMALL = 40;

function crossings(at, relations) {
  const segments = relations.map((r) => [at.get(r.source_id), at.get(r.destination_id)]).filter(([a, b]) => a && b && a !== b);
  const side = (a, b, c) => (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x);
  let count = 0;
  for (let i = 0; i < segments.length; i++) {
    const [a, b] = segments[i];
    for (let j = i + 1; j < segments.length; j++) {
      const [c, d] = segments[j];
      if (a === c || a === d || b === c || b === d) continue;
      if (side(a, b, c) * side(a, b, d) < 0 && side(c, d, a) * side(c, d, b) < 0) count++;
    }
  }
  return count;
}

/** The layout with the fewest crossing relations among a few starts (small graphs: up to
 * SMALL entities; a larger one gets one start, its cost grows with the square of its size). */
export function bestLayout(entities, relations) {
  if (entities.length > SMALL) return layout(entities, relations);
  let best = null;
  let fewest = Infinity;
  for (const seed of TRIES) {
    const at = layout(entities, relations, 300, seed);
    const count = crossings(at, relations);
    if (count < fewest) [best, fewest] = [at, count];
    if (count === 0) break;
  }
  return best;
}
