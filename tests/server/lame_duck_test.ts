/**
 * Lame-duck mode (SIGUSR2) with real `npm:nats` clients, against this server and nats-server
 * 2.9.10 in the same test: the clients see the `ldm` status, the closes come after the grace
 * period and within the duration, each client reconnects to a second server, and the server
 * exits 0 with the reference's log lines. Also the raw async INFO bytes.
 */
import { connect, type NatsConnection } from "nats";
import { assert, assertEquals } from "../helpers/assert.ts";
import { RawClient } from "../helpers/raw.ts";
import { startServerProcess } from "../helpers/server_process.ts";
import { normaliseLog, sameOnBoth } from "./_reload_harness.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const GRACE_MS = 1000;
const DURATION_MS = 30_000;
const LDM_CONFIG = `lame_duck_duration: "30s"\nlame_duck_grace_period: "1s"`;

/** ms between the first and the last close. */
function spread(views: ClientView[]): number {
  const at = views.map((v) => v.disconnectedAt);
  return Math.max(...at) - Math.min(...at);
}

interface ClientView {
  sawLdm: boolean;
  /** ms after SIGUSR2 when the client lost the connection. */
  disconnectedAt: number;
  reconnectedTo: string;
}

Deno.test(
  "lame duck: npm:nats clients see ldm, are closed in the window, reconnect elsewhere",
  opts,
  async () => {
    const seen = await sameOnBoth(LDM_CONFIG, async (p, program) => {
      const second = await startServerProcess("", [], program);
      const servers = [`127.0.0.1:${p.port}`, `127.0.0.1:${second.port}`];
      const clients: NatsConnection[] = [];
      const views: Promise<ClientView>[] = [];
      let t0 = 0;
      try {
        for (let i = 0; i < 3; i++) {
          const nc = await connect({
            servers,
            noRandomize: true,
            reconnectTimeWait: 50,
            maxReconnectAttempts: 20,
          });
          clients.push(nc);
          views.push((async () => {
            const v: ClientView = { sawLdm: false, disconnectedAt: -1, reconnectedTo: "" };
            for await (const s of nc.status()) {
              if (s.type === "ldm") v.sawLdm = true;
              if (s.type === "disconnect" && v.disconnectedAt < 0) {
                v.disconnectedAt = performance.now() - t0;
              }
              if (s.type === "reconnect") {
                v.reconnectedTo = String(s.data);
                break;
              }
            }
            return v;
          })());
        }
        // Let each client's first PING/PONG pass, so the server sends it async INFO.
        for (const nc of clients) await nc.flush();
        const mark = p.stderr().length;
        t0 = performance.now();
        p.kill("SIGUSR2");
        const settled = await Promise.race([
          Promise.all(views),
          new Promise<null>((r) => setTimeout(() => r(null), 15_000)),
        ]);
        assert(settled, "every client reconnected");
        const status = await p.stop();
        const log = normaliseLog(p.stderr().slice(mark)).filter((l) => !l.startsWith("DBG"));
        return {
          exitCode: status.code,
          log,
          views: settled!.map((v) => ({
            sawLdm: v.sawLdm,
            inWindow: v.disconnectedAt >= GRACE_MS - 50 && v.disconnectedAt < DURATION_MS,
            reconnectedToSecond: v.reconnectedTo.endsWith(`:${second.port}`),
          })),
          // Three clients over 29s: at most 1s apart, at least half of that (two pauses).
          spreadOk: spread(settled!) >= 900 && spread(settled!) < 2500,
        };
      } finally {
        for (const nc of clients) await nc.close().catch(() => {});
        await second.stop();
      }
    });
    assertEquals(seen.exitCode, 0);
    assertEquals(seen.log, [
      "INF Entering lame duck mode, stop accepting new clients",
      "INF Closing existing clients",
      "INF Initiating Shutdown...",
      "INF Server Exiting..",
    ]);
    for (const v of seen.views) {
      assertEquals(v, { sawLdm: true, inWindow: true, reconnectedToSecond: true });
    }
    assert(seen.spreadOk, "closes spread as the reference spreads them");
  },
);

Deno.test(
  "lame duck: raw async INFO with ldm only for protocol 1 clients; new connects refused",
  opts,
  async () => {
    const seen = await sameOnBoth(LDM_CONFIG, async (p) => {
      const proto1 = await RawClient.connect(p.port);
      const info = await proto1.info();
      await proto1.send('CONNECT {"verbose":false,"protocol":1}\r\nPING\r\n');
      await proto1.readUntil((t) => t.includes("PONG"));
      const proto0 = await RawClient.connect(p.port);
      await proto0.info();
      await proto0.send('CONNECT {"verbose":false,"protocol":0}\r\nPING\r\n');
      await proto0.readUntil((t) => t.includes("PONG"));
      proto1.text = proto0.text = "";
      p.kill("SIGUSR2");
      await proto1.readUntil((t) => t.includes("\r\n"), 5000);
      const line = proto1.text;
      let refused = false;
      try {
        const late = await RawClient.connect(p.port);
        await late.readUntil(() => false, 1000).catch(() => {});
        refused = late.closed && late.text === "";
        late.close();
      } catch {
        refused = true;
      }
      await proto0.readUntil(() => false, 10_000).catch(() => {});
      const ldmInfo = JSON.parse(line.slice(5));
      proto1.close();
      proto0.close();
      return {
        ldm: ldmInfo.ldm,
        sameFields: Object.keys(ldmInfo).join(",") === [...Object.keys(info), "ldm"].join(","),
        clientId: ldmInfo.client_id === info.client_id,
        proto0Saw: proto0.text,
        proto0Closed: proto0.closed,
        refused,
      };
    });
    assertEquals(seen, {
      ldm: true,
      sameFields: true,
      clientId: true,
      proto0Saw: "",
      proto0Closed: true,
      refused: true,
    });
  },
);
