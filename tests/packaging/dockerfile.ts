/**
 * A small Dockerfile reader for the packaging tests: instructions with their arguments (comments
 * and line continuations handled), JSON-array (exec form) arguments decoded.
 */

/** One instruction: `FROM`, `COPY`, ... with its argument text. */
export interface Instruction {
  op: string;
  args: string;
  /** 1-based line of the instruction. */
  line: number;
}

/** The instructions of a Dockerfile, in order. */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending: Instruction | undefined;
  text.split("\n").forEach((raw, i) => {
    const line = raw.trimEnd();
    if (!pending && (line.trim() === "" || line.trimStart().startsWith("#"))) return;
    if (pending) {
      if (line.trimStart().startsWith("#")) return;
      pending.args += " " + line.trim();
    } else {
      const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
      if (!m) throw new Error(`Dockerfile line ${i + 1}: not an instruction: ${line}`);
      pending = { op: m[1].toUpperCase(), args: m[2], line: i + 1 };
    }
    if (pending.args.endsWith("\\")) {
      pending.args = pending.args.slice(0, -1).trimEnd();
    } else {
      out.push(pending);
      pending = undefined;
    }
  });
  if (pending) out.push(pending);
  return out;
}

/** The exec-form (JSON array of strings) arguments of `ins`, or null for the shell form. */
export function execForm(ins: Instruction): string[] | null {
  if (!ins.args.trimStart().startsWith("[")) return null;
  const v = JSON.parse(ins.args);
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) return null;
  return v;
}

/** The single instruction named `op` (throws when there is not exactly one). */
export function only(list: Instruction[], op: string): Instruction {
  const found = list.filter((i) => i.op === op);
  if (found.length !== 1) throw new Error(`expected one ${op}, found ${found.length}`);
  return found[0];
}

/** The repository's Dockerfile, parsed. */
export function projectDockerfile(): Instruction[] {
  return parseDockerfile(Deno.readTextFileSync(new URL("../../Dockerfile", import.meta.url)));
}
