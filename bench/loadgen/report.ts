/** Plain-text results table: one row per scenario metric, ours vs nats-server. */
import { fmtRate, type ScenarioResult } from "./suite.ts";

function fmtValue(name: string, v: number): string {
  if (!Number.isFinite(v)) return "-";
  if (name.includes("µs")) return v.toFixed(1);
  if (name.includes("MB/s")) return v.toFixed(1);
  return fmtRate(v);
}

function pad(s: string, w: number, right = false): string {
  const len = [...s].length;
  if (len >= w) return s;
  return right ? " ".repeat(w - len) + s : s + " ".repeat(w - len);
}

/**
 * Render the table. `order` is the scenario order; `a`/`b` are the two target names compared as
 * a/b (normally "ours" and "nats-server").
 */
export function renderTable(
  results: ScenarioResult[],
  order: string[],
  a: string,
  b: string,
): string {
  const find = (scenario: string, target: string) =>
    results.find((r) => r.scenario === scenario && r.target === target);
  const header = ["scenario", "metric", a, b, `ratio ${a}/${b}`, "notes"];
  const rows: string[][] = [];
  for (const id of order) {
    const ra = find(id, a);
    const rb = find(id, b);
    if (!ra && !rb) continue;
    const names: string[] = [];
    for (const m of [...(ra?.metrics ?? []), ...(rb?.metrics ?? [])]) {
      if (!names.includes(m.name)) names.push(m.name);
    }
    const notes: string[] = [];
    for (const r of [ra, rb]) {
      if (!r || r.problems.length === 0) continue;
      const loss = r.problems.some((p) => p.includes("LOSS"));
      notes.push(`${r.target}: ${loss ? "LOSS, " : ""}${r.problems.length} problem(s)`);
    }
    if (names.length === 0) {
      rows.push([id, "-", ra ? "FAILED" : "-", rb ? "FAILED" : "-", "-", notes.join("; ")]);
      continue;
    }
    names.forEach((name, i) => {
      const ma = ra?.metrics.find((m) => m.name === name);
      const mb = rb?.metrics.find((m) => m.name === name);
      const better = (ma ?? mb)!.better;
      let ratio = "-";
      if (ma && mb && Number.isFinite(ma.value) && Number.isFinite(mb.value) && mb.value > 0) {
        ratio = `${(ma.value / mb.value).toFixed(2)}x`;
      }
      const dir = better === "higher" ? "throughput, higher=better" : "latency, lower=better";
      rows.push([
        i === 0 ? id : "",
        name,
        ma ? fmtValue(name, ma.value) : (ra ? "FAILED" : "-"),
        mb ? fmtValue(name, mb.value) : (rb ? "FAILED" : "-"),
        ratio === "-" ? "-" : `${ratio} (${dir})`,
        i === 0 ? notes.join("; ") : "",
      ]);
    });
  }
  const widths = header.map((h, c) =>
    Math.max([...h].length, ...rows.map((r) => [...r[c]].length))
  );
  const line = (cells: string[]) =>
    cells.map((cell, c) => pad(cell, widths[c], c >= 2 && c <= 3)).join("  ").trimEnd();
  const out = [line(header), widths.map((w) => "-".repeat(w)).join("  ")];
  for (const r of rows) out.push(line(r));
  return out.join("\n");
}

/** Every problem, grouped by target and scenario. */
export function renderProblems(results: ScenarioResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    for (const p of r.problems) lines.push(`  [${r.target}] ${r.scenario}: ${p}`);
  }
  return lines.join("\n");
}
