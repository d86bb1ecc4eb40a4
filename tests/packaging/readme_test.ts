/**
 * The README's newcomer sections, followed verbatim: the Embedding snippet runs with the command
 * the README gives, and the configs of Container and Browser pass `main.ts -t`.
 */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const README = Deno.readTextFileSync(`${ROOT}README.md`);
const dec = new TextDecoder();

/** The fenced blocks of one `## section`, with their language tag. */
function blocks(section: string): { lang: string; text: string }[] {
  const start = README.indexOf(`\n## ${section}\n`);
  if (start < 0) throw new Error(`README has no section ${section}`);
  const end = README.indexOf("\n## ", start + 1);
  const body = README.slice(start, end < 0 ? undefined : end);
  return [...body.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], text: m[2] }));
}

Deno.test({
  name: "README Embedding: the snippet runs as `deno run --allow-net --allow-read embed.ts`",
  sanitizeResources: false,
  async fn() {
    const section = README.slice(README.indexOf("\n## Embedding\n"));
    assertMatch(section, /run\s+`deno run --allow-net --allow-read embed\.ts`/);
    const code = blocks("Embedding").find((b) => b.lang === "ts")!.text;
    // "Save as embed.ts in this directory": a unique name in the repository root, removed after.
    const file = `${ROOT}embed-readme-${Deno.pid}.ts`;
    await Deno.writeTextFile(file, code);
    try {
      const r = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-net", "--allow-read", file],
        cwd: ROOT,
        stdin: "null",
      }).output();
      const out = dec.decode(r.stdout).split("\n");
      assertEquals(r.code, 0, dec.decode(r.stderr));
      assertMatch(out[0], /^nats:\/\/127\.0\.0\.1:\d+$/);
      assertMatch(out[1], /^ws:\/\/127\.0\.0\.1:\d+$/);
      assertMatch(out[2], /^http:\/\/127\.0\.0\.1:\d+$/);
      assertMatch(out.slice(3).join("\n"), /^0 \{[\s\S]*connections: 0/);
    } finally {
      await Deno.remove(file);
    }
  },
});

Deno.test("README Container and Browser: the configs shown are valid (`main.ts -t`)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "natsreadme" });
  try {
    const container = blocks("Container").find((b) => b.lang === "sh")!.text;
    const heredoc = /<<'CONF'\n([\s\S]*?)\nCONF\n/.exec(container)![1];
    const browser = blocks("Browser").find((b) => b.lang === "")!.text;
    for (const [name, text] of [["container", heredoc], ["browser", browser]]) {
      assert(text.includes("websocket {\n  port: 8080\n  no_tls: true\n}"), name);
      await Deno.writeTextFile(`${dir}/${name}.conf`, text);
      const r = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-read", `${ROOT}main.ts`, "-t", "-c", `${dir}/${name}.conf`],
        stdin: "null",
      }).output();
      assertEquals(
        [r.code, dec.decode(r.stderr)],
        [0, `nats-server: configuration file ${dir}/${name}.conf is valid\n`],
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
