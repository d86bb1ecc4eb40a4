/**
 * A config `system_account` (no operator): its users reach the system services — server PING,
 * PING.<endpoint>, account CONNZ — and see CONNECT/DISCONNECT events of other accounts, compared
 * with nats-server 2.9.10 (same client bytes; the JSON compared by shape and counts).
 */
import { connect, type NatsConnection } from "nats";
import { assertEquals } from "../helpers/assert.ts";
import { withEachServer } from "../helpers/each_server.ts";
import { transcript } from "../helpers/raw.ts";
import { startOurs } from "../helpers/server.ts";

const CONFIG = `
system_account: SYS
accounts {
  SYS { users: [ { user: sys, password: sys } ] }
  APP { users: [ { user: app, password: app } ] }
}
`;

const dec = new TextDecoder();

Deno.test("system account from config: PING, endpoints and connect/disconnect events", async () => {
  const shapes: Record<string, unknown> = {};
  await withEachServer(CONFIG, async (name, port) => {
    const sys: NatsConnection = await connect({ port, user: "sys", pass: "sys", reconnect: false });
    try {
      const events: {
        subject: string;
        type: string;
        acc: string;
        user: string;
        reason?: string;
      }[] = [];
      sys.subscribe("$SYS.ACCOUNT.*.*", {
        callback: (_e, m) => {
          const j = JSON.parse(dec.decode(m.data));
          // The reference sends events from a queue: its own sys login may come late.
          if (j.client.acc !== "APP") return;
          events.push({
            subject: m.subject.split(".").slice(0, 2).concat("<acc>", m.subject.split(".")[3])
              .join("."),
            type: j.type,
            acc: j.client.acc,
            user: j.client.user,
            reason: j.reason,
          });
        },
      });
      await sys.flush();
      const ping = JSON.parse(dec.decode((await sys.request("$SYS.REQ.SERVER.PING")).data));
      const connz = JSON.parse(
        dec.decode((await sys.request("$SYS.REQ.SERVER.PING.CONNZ", "{}")).data),
      );
      const accz = JSON.parse(dec.decode((await sys.request("$SYS.REQ.ACCOUNT.SYS.CONNZ")).data));
      const app = await connect({ port, user: "app", pass: "app", reconnect: false });
      await app.flush();
      await app.close();
      await sys.request("$SYS.REQ.SERVER.PING.HEALTHZ");
      // Events are asynchronous on the reference: wait (bounded) for the disconnect.
      for (let i = 0; i < 50 && events.length < 2; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      shapes[name] = {
        ping: Object.keys(ping),
        statsz: Object.keys(ping.statsz).filter((k) => k !== "active_servers"),
        connections: ping.statsz.connections,
        connz: [Object.keys(connz), connz.data.num_connections],
        accConnz: accz.data.num_connections,
        events,
      };
    } finally {
      await sys.close();
    }
  });
  assertEquals((shapes.ours as { events: unknown[] }).events, [
    {
      subject: "$SYS.ACCOUNT.<acc>.CONNECT",
      type: "io.nats.server.advisory.v1.client_connect",
      acc: "APP",
      user: "app",
      reason: undefined,
    },
    {
      subject: "$SYS.ACCOUNT.<acc>.DISCONNECT",
      type: "io.nats.server.advisory.v1.client_disconnect",
      acc: "APP",
      user: "app",
      reason: "Client Closed",
    },
  ]);
  if (shapes["nats-server"]) assertEquals(shapes.ours, shapes["nats-server"]);
});

Deno.test("system account from config: missing account, and the only-account rule", async () => {
  // A system_account naming no account refuses to start.
  let err = "";
  try {
    const s = await startOurs("system_account: FOO\n");
    await s.stop();
  } catch (e) {
    err = (e as Error).message;
  }
  assertEquals(err, "error resolving system account: account missing");
  // When the system account is the only account, clients without credentials go to $G.
  const config = "system_account: SYS\naccounts { SYS { users: [ { user: s, password: s } ] } }\n";
  await withEachServer(config, async (name, port) => {
    const r = await transcript(
      port,
      [`CONNECT {"verbose":false}\r\nSUB x 1\r\nPUB x 2\r\nhi\r\n`],
      "pong",
    );
    assertEquals([r.info.auth_required, r.text], [true, "MSG x 1 2\r\nhi\r\nPONG\r\n"], name);
  });
});
