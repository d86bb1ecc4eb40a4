/** INFO as clients see it: field order, omitempty rules and values, compared with nats-server. */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { RawClient } from "../helpers/raw.ts";
import { haveNatsServer, startReference } from "../helpers/reference.ts";
import { startOurs } from "../helpers/server.ts";

const NKEY_USER = "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4";

const CASES: { name: string; config: string }[] = [
  { name: "defaults", config: "" },
  { name: "token auth", config: "authorization { token: abc }" },
  { name: "nkey users get a nonce", config: `authorization { users: [ { nkey: ${NKEY_USER} } ] }` },
  {
    name: "no_auth_user clears auth_required on TCP",
    config: "authorization { users: [ { user: a, password: b } ] }\nno_auth_user: a",
  },
  { name: "client_advertise with port", config: 'client_advertise: "nats.example.com:4333"' },
  { name: "client_advertise without port", config: 'client_advertise: "nats.example.com"' },
  { name: "max_payload and no headers", config: "max_payload: 2KB\nno_header_support: true" },
];

/** The INFO line's raw text and parsed JSON. */
async function infoOf(port: number): Promise<{ raw: string; json: Record<string, unknown> }> {
  const c = await RawClient.connect(port);
  try {
    await c.readUntil((t) => t.includes("\r\n"));
    const raw = c.text.slice(0, c.text.indexOf("\r\n") + 2);
    return { raw, json: JSON.parse(raw.slice(5, -3)) };
  } finally {
    c.close();
  }
}

/** Replaces per-server values so the two INFOs compare by shape and meaning. */
function normalize(info: Record<string, unknown>, port: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(info)) {
    if (k === "server_id" || k === "server_name") out[k] = "<id>";
    else if (k === "go") out[k] = "<runtime>";
    else if (k === "client_id") out[k] = "<cid>";
    else if (k === "nonce") out[k] = `<nonce ${String(v).length}>`;
    else if (k === "port" && v === port) out[k] = "<port>";
    else out[k] = v;
  }
  return out;
}

for (const c of CASES) {
  Deno.test(`INFO: ${c.name}`, async () => {
    const ours = await startOurs(c.config);
    let mine: Record<string, unknown>;
    try {
      const { raw, json } = await infoOf(ours.port);
      assertMatch(raw, /^INFO \{.*\} \r\n$/);
      assertMatch(String(json.server_id), /^N[A-Z2-7]{55}$/);
      assertEquals(json.version, "2.9.10");
      assertEquals(json.client_ip, "127.0.0.1");
      mine = normalize(json, ours.port);
    } finally {
      await ours.stop();
    }
    if (!haveNatsServer()) {
      assert(Object.keys(mine).length > 5);
      return;
    }
    const ref = await startReference(c.config);
    try {
      const { json } = await infoOf(ref.port);
      const theirs = normalize(json, ref.port);
      // Same fields, same order, same values (ids, runtime and ports aside).
      assertEquals(Object.keys(mine), Object.keys(theirs));
      assertEquals(mine, theirs);
    } finally {
      await ref.stop();
    }
  });
}
