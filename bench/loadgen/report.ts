/** Plain-text results table: one row per scenario metric, each target vs nats-server. */
import { fmtRate, type ScenarioResult } from "./suite.ts";

function fmtValue(name: string, v: number): string {
  if (!Number.isFinite(v)) return "-";
  if (name.includes("µs")) return v.toFixed(1);
  if (name.includes("MB/s") || name.includes("MiB") || name.includes("KiB")) return v.toFixed(1);
  return fmtRate(v);
}

function pad(s: string, w: number, right = false): string {
  const len = [...s].length;
  if (len >= w) return s;
  return right ? " ".repeat(w - len) + s : s + " ".repeat(w - len);
}

/**
 * Render the table. `order` is the scenario order; `targets` the value columns in order, one of
 * them `ref` (normally "nats-server"): every other target gets a `ratio <target>/<ref>` column.
 * With targets ["ours", "nats-server"] that is one ratio column. The direction label
 * ("throughput, higher=better") follows the row's last ratio. A target without a result for a
 * row shows "-" (not run), one whose runs all failed "FAILED".
 */
export function renderTable(
  results: ScenarioResult[],
  order: string[],
  targets: string[],
  ref: string,
): string {
  const find = (scenario: string, target: string) =>
    results.find((r) => r.scenario === scenario && r.target === target);
  const others = targets.filter((t) => t !== ref);
  const header = [
    "scenario",
    "metric",
    ...targets,
    ...others.map((t) => `ratio ${t}/${ref}`),
    "notes",
  ];
  const rows: string[][] = [];
  for (const id of order) {
    const rs = targets.map((t) => find(id, t));
    if (rs.every((r) => r === undefined)) continue;
    const names: string[] = [];
    for (const r of rs) {
      for (const m of r?.metrics ?? []) if (!names.includes(m.name)) names.push(m.name);
    }
    const notes: string[] = [];
    for (const r of rs) {
      if (!r || r.problems.length === 0) continue;
      const loss = r.problems.some((p) => p.includes("LOSS"));
      notes.push(`${r.target}: ${loss ? "LOSS, " : ""}${r.problems.length} problem(s)`);
    }
    if (names.length === 0) {
      rows.push([
        id,
        "-",
        ...rs.map((r) => r ? "FAILED" : "-"),
        ...others.map(() => "-"),
        notes.join("; "),
      ]);
      continue;
    }
    const refRes = rs[targets.indexOf(ref)];
    names.forEach((name, i) => {
      const ms = rs.map((r) => r?.metrics.find((m) => m.name === name));
      const better = ms.find((m) => m !== undefined)!.better;
      const mb = refRes?.metrics.find((m) => m.name === name);
      const ratios = others.map((t) => {
        const ma = ms[targets.indexOf(t)];
        // (A negative value, e.g. a shrinking RSS slope, has no meaningful ratio.)
        if (
          ma && mb && Number.isFinite(ma.value) && Number.isFinite(mb.value) && mb.value > 0 &&
          ma.value >= 0
        ) {
          return `${(ma.value / mb.value).toFixed(2)}x`;
        }
        return "-";
      });
      const last = ratios.findLastIndex((r) => r !== "-");
      if (last >= 0) {
        const dir = better === "higher"
          ? "throughput, higher=better"
          : name.includes("µs")
          ? "latency, lower=better"
          : "memory, lower=better";
        ratios[last] += ` (${dir})`;
      }
      rows.push([
        i === 0 ? id : "",
        name,
        ...ms.map((m, k) => m ? fmtValue(name, m.value) : (rs[k] ? "FAILED" : "-")),
        ...ratios,
        i === 0 ? notes.join("; ") : "",
      ]);
    });
  }
  const widths = header.map((h, c) =>
    Math.max([...h].length, ...rows.map((r) => [...r[c]].length))
  );
  const lastValue = 1 + targets.length;
  const line = (cells: string[]) =>
    cells.map((cell, c) => pad(cell, widths[c], c >= 2 && c <= lastValue)).join("  ").trimEnd();
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
