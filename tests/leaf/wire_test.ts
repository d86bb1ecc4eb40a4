/**
 * The leafnode wire protocol byte for byte, ours next to nats-server 2.9.10 in the same test:
 * - the accepting side's INFO (field order, omitempty, fixed values);
 * - the soliciting side: a raw hub (this test) sends the INFO a 2.9.10 hub sends, and the
 *   leaf's CONNECT, its loop-detection `LS+ $LDS.…`, the `LS+`/`LS-` of a local plain and queue
 *   subscription (queue weights 1, 2, 1, then `LS- work q`), and the `LMSG`/`HMSG` of messages
 *   published on the leaf are compared (one of them on a non-ASCII subject with a queue).
 */
import { connect, headers } from "nats";
import { createUser, fromPublic } from "@nats-io/nkeys";
import { formatCreds } from "../../lib/auth/creds.ts";
import { assertEquals } from "../helpers/assert.ts";
import { haveNatsServer, startReference } from "../helpers/reference.ts";
import { startOurs } from "../helpers/server.ts";
import { freePort, leafConfig, leafPortOf, until } from "./harness.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A raw TCP peer collecting what it reads. */
class Raw {
  buf = "";
  closed = false;
  constructor(readonly conn: Deno.Conn) {
    (async () => {
      const b = new Uint8Array(65536);
      try {
        for (;;) {
          const n = await conn.read(b);
          if (n === null) break;
          this.buf += dec.decode(b.subarray(0, n));
        }
      } catch { /* closed */ }
      this.closed = true;
    })();
  }
  async send(s: string) {
    await this.conn.write(enc.encode(s));
  }
  /** Waits until the buffer has a line matching `re`, removes everything up to it, returns it. */
  async line(re: RegExp, what: string): Promise<string> {
    await until(() => this.buf.split("\r\n").some((l) => re.test(l)), 5000, what);
    const lines = this.buf.split("\r\n");
    const i = lines.findIndex((l) => re.test(l));
    const l = lines[i];
    this.buf = lines.slice(i + 1).join("\r\n");
    return l;
  }
  close() {
    try {
      this.conn.close();
    } catch { /* closed */ }
  }
}

const VOLATILE_INFO = [
  "server_id",
  "server_name",
  "go",
  "host",
  "port",
  "ip",
  "nonce",
  "client_id",
];

function infoShape(line: string) {
  const j = JSON.parse(line.replace(/^INFO /, "").trim());
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(j)) out[k] = VOLATILE_INFO.includes(k) ? typeof v : v;
  if (Array.isArray(j.leafnode_urls)) out.leafnode_urls = j.leafnode_urls.length;
  return out;
}

Deno.test({
  name: "leaf wire: the accepting side's INFO matches nats-server's (order, fields, values)",
  ignore: !haveNatsServer(),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const conf = `leafnodes { listen: "127.0.0.1:-1" }`;
    const ours = await startOurs(conf);
    const ref = await startReference(conf);
    try {
      const refPort = leafPortOf(ref.stderr());
      const got: string[] = [];
      for (const port of [ours.handle.ports.leafnode!, refPort]) {
        const r = new Raw(await Deno.connect({ hostname: "127.0.0.1", port }));
        got.push(await r.line(/^INFO /, "INFO"));
        r.close();
      }
      const [mine, theirs] = got.map(infoShape);
      assertEquals(Object.keys(mine), Object.keys(theirs));
      assertEquals({ ...mine, version: "", proto: 0 }, { ...theirs, version: "", proto: 0 });
      assertEquals(got[0].endsWith(" "), got[1].endsWith(" "));
    } finally {
      await ours.stop();
      await ref.stop();
    }
  },
});

/** Everything a leaf sends to a raw hub, normalised. */
async function soliciting(impl: "ours" | "ref", remoteExtra = ""): Promise<string[]> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const hubPort = (listener.addr as Deno.NetAddr).port;
  const conf = leafConfig([`{ url: "nats://127.0.0.1:${hubPort}" ${remoteExtra} }`], "LEAF") +
    "no_system_account: true\n";
  const clientPort = freePort();
  const leaf = impl === "ours"
    ? await startOurs(conf, { port: clientPort })
    : await startReference(conf, ["-p", String(clientPort)]);
  const out: string[] = [];
  const norm = (l: string) => l.replace(/\$LDS\.[A-Za-z0-9]+/, "$LDS.<nuid>");
  let raw: Raw | undefined;
  try {
    raw = new Raw(await listener.accept());
    await raw.send(
      `INFO {"server_id":"NHUB","server_name":"HUB","version":"2.9.10","proto":1,"go":"go1.19.8",` +
        `"host":"127.0.0.1","port":${hubPort},"headers":true,"auth_required":true,` +
        `"max_payload":1048576,"ip":"127.0.0.1:${hubPort}","client_id":4,"nonce":"abcdefghijklmno",` +
        `"info_on_connect":true,"leafnode_urls":["127.0.0.1:${hubPort}"]} \r\n`,
    );
    const c = await raw.line(/^CONNECT /, "CONNECT");
    const cj = JSON.parse(c.slice(8));
    for (const k of ["server_id", "name", "cluster"]) cj[k] = typeof cj[k];
    if (cj.sig !== undefined) {
      // The nonce signed with the creds' seed: verified here, then compared as "ok".
      const pub = fromPublic(CREDS_USER.getPublicKey());
      const sig = Uint8Array.fromBase64(cj.sig, { alphabet: "base64url" });
      cj.sig = pub.verify(enc.encode("abcdefghijklmno"), sig) ? "verified" : "bad";
    }
    out.push(`CONNECT keys ${Object.keys(cj).join(",")}`, `CONNECT ${JSON.stringify(cj)}`);
    await raw.send(
      `INFO {"server_id":"NHUB","server_name":"HUB","version":"2.9.10","proto":1,"go":"go1.19.8",` +
        `"host":"127.0.0.1","port":${hubPort},"headers":true,"auth_required":true,` +
        `"max_payload":1048576,"ip":"127.0.0.1:${hubPort}","client_id":4,"info_on_connect":true,` +
        `"connect_info":true,"leafnode_urls":["127.0.0.1:${hubPort}"],"remote_account":"$G"} \r\n`,
    );
    out.push(norm(await raw.line(/^LS\+ \$LDS\./, "LS+ $LDS")));
    await raw.send("PING\r\n");
    out.push(await raw.line(/^PONG$/, "PONG"));
    // Interest of local clients, with queue weights.
    const a = await connect({ port: clientPort });
    const b = await connect({ port: clientPort });
    a.subscribe("foo.*");
    await a.flush();
    out.push(await raw.line(/^LS\+ foo/, "LS+ foo.*"));
    const q1 = a.subscribe("work", { queue: "q" });
    await a.flush();
    out.push(await raw.line(/^LS\+ work/, "LS+ work q 1"));
    const q2 = b.subscribe("work", { queue: "q" });
    await b.flush();
    out.push(await raw.line(/^LS\+ work/, "LS+ work q 2"));
    q1.unsubscribe();
    await a.flush();
    out.push(await raw.line(/^LS[+-] work/, "LS+ work q 1 again"));
    q2.unsubscribe();
    await b.flush();
    out.push(await raw.line(/^LS- work/, "LS- work q"));
    // Messages the hub is interested in.
    // A non-ASCII subject with a queue: its LMSG names the queue from the key's bytes.
    await raw.send("LS+ bar\r\nLS+ svc q 1\r\nLS+ sübjéct.q qé 1\r\nPING\r\n");
    await raw.line(/^PONG$/, "PONG after LS+");
    a.publish("bar", enc.encode("plain"));
    a.publish("bar", enc.encode("with reply"), { reply: "r.1" });
    const h = headers();
    h.set("X-A", "1");
    a.publish("bar", enc.encode("hdr"), { headers: h });
    a.publish("svc", enc.encode("to queue"));
    a.publish("svc", enc.encode("queue+reply"), { reply: "r.2" });
    a.publish("sübjéct.q", enc.encode("unicode queue"));
    await a.flush();
    for (let i = 0; i < 6; i++) {
      const l = await raw.line(/^[LH]MSG /, "message");
      const size = Number(l.split(" ").pop());
      await until(() => raw!.buf.length >= size + 2, 5000, "payload");
      const payload = raw.buf.slice(0, size);
      raw.buf = raw.buf.slice(size + 2);
      out.push(`${l} | ${JSON.stringify(payload)}`);
    }
    await a.close();
    await b.close();
  } finally {
    raw?.close();
    listener.close();
    await leaf.stop();
  }
  return out;
}

const CREDS_USER = createUser();
const CREDS_JWT = "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.eyJzdWIiOiJ0ZXN0In0.c2ln";

Deno.test({
  name: "leaf wire: credentials send the user JWT and the hub's nonce signed, as nats-server",
  ignore: !haveNatsServer(),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const file = `${dir}/u.creds`;
    await Deno.writeTextFile(
      file,
      formatCreds(CREDS_JWT, new TextDecoder().decode(CREDS_USER.getSeed())),
    );
    try {
      const extra = `, credentials: "${file}"`;
      const mine = (await soliciting("ours", extra)).slice(0, 2);
      const theirs = (await soliciting("ref", extra)).slice(0, 2);
      assertEquals(mine, theirs);
      const cj = JSON.parse(mine[1].slice(8));
      assertEquals(cj.jwt, CREDS_JWT);
      assertEquals(cj.sig, "verified");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "leaf wire: the soliciting side's CONNECT, LS+/LS- with weights, LMSG/HMSG as nats-server",
  ignore: !haveNatsServer(),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const mine = await soliciting("ours");
    const theirs = await soliciting("ref");
    if (Deno.env.get("LEAF_DEBUG")) console.log(mine);
    assertEquals(mine, theirs);
  },
});
