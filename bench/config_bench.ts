/**
 * Config parsing benchmark: a generated 10k-line config with 10k users.
 *
 *   deno run -A bench/config_bench.ts
 *
 * Reports the time of the generic parse alone and of the full load (parse + options + freeze),
 * best and median of several runs. Target: < 1 s for the full load.
 */
import { optionsFromText, parseConfigText } from "../lib/config/mod.ts";

const USERS = 10_000;

function generate(): string {
  const lines: string[] = [
    "# generated benchmark config",
    "listen: 127.0.0.1:4222",
    "max_payload: 1MB",
    'ping_interval: "2m"',
    "authorization {",
    "  timeout: 2",
    "  users: [",
  ];
  for (let i = 0; i < USERS; i++) {
    const n = String(i).padStart(5, "0");
    lines.push(
      `    {user: "user${n}", password: "pw-${n}-secret", permissions: {publish: ["app.${n}.>", "_INBOX.>"], subscribe: {allow: "app.${n}.*", deny: ["app.${n}.secret"]}}, allowed_connection_types: ["STANDARD", "WEBSOCKET"]}`,
    );
  }
  lines.push("  ]", "}");
  return lines.join("\n") + "\n";
}

function timeIt(runs: number, fn: () => void): { best: number; median: number } {
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    fn();
    t.push(performance.now() - s);
  }
  t.sort((a, b) => a - b);
  return { best: t[0], median: t[Math.floor(t.length / 2)] };
}

const text = generate();
const lineCount = text.split("\n").length - 1;
console.log(
  `config: ${lineCount} lines, ${(text.length / 1024 / 1024).toFixed(2)} MiB, ${USERS} users`,
);

// Warm up (JIT), and make sure the config is valid.
const check = optionsFromText(text, { file: "bench.conf" });
if (check.errors.length || check.options.auth.users.length !== USERS) {
  console.error("benchmark config did not load:", check.errors.slice(0, 3).map(String));
  Deno.exit(1);
}

const parse = timeIt(7, () => parseConfigText(text, { file: "bench.conf" }));
const load = timeIt(7, () => optionsFromText(text, { file: "bench.conf" }));
const f = (ms: number) => `${ms.toFixed(1)} ms`;
console.log(`parse only (lexer + tree):        best ${f(parse.best)}, median ${f(parse.median)}`);
console.log(`full load (parse + options + freeze): best ${f(load.best)}, median ${f(load.median)}`);
console.log(load.median < 1000 ? "OK: under the 1 s target" : "SLOW: over the 1 s target");
