/**
 * Cookie authentication from a real browser: headless Chromium loads a page whose response set
 * an HttpOnly cookie; the page's WebSocket upgrade carries it and the server authenticates from
 * it, then the page exchanges messages with an npm:nats TCP client.
 *
 * - `jwt_cookie` (operator mode): the cookie holds the user JWT, the page only signs the nonce.
 * - `user_cookie` + `pass_cookie`, `token_cookie` (beyond 2.9.10): credentials from cookies.
 *
 * Skips (with a printed reason) when chromium is not installed.
 */
import { connect, credsAuthenticator } from "nats";
import { fmtCreds } from "@nats-io/jwt";
import { assertEquals } from "../helpers/assert.ts";
import { chromiumTest, runChromiumPage } from "../helpers/chromium.ts";
import { startOurs } from "../helpers/server.ts";
import { makeTrust, makeUser, operatorConfig, seedOf } from "../auth/jwt_fixture.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const WS = "listen: '127.0.0.1:-1', no_tls: true";

interface Case {
  name: string;
  setup: () => Promise<{
    config: string;
    cookies: string[];
    query?: Record<string, string>;
    tcpOpts: Record<string, unknown>;
  }>;
}

const CASES: Case[] = [
  {
    name: "jwt_cookie: the user JWT from an HttpOnly cookie, nonce signed by the page",
    async setup() {
      const t = await makeTrust();
      const u = await makeUser(t);
      const tcpUser = await makeUser(t);
      return {
        config: operatorConfig(t, [], `websocket { ${WS}, jwt_cookie: nats_jwt }`),
        cookies: [`nats_jwt=${u.jwt}; HttpOnly; Path=/`],
        query: { seed: seedOf(u.user) },
        tcpOpts: { authenticator: credsAuthenticator(fmtCreds(tcpUser.jwt, tcpUser.user)) },
      };
    },
  },
  {
    name: "user_cookie + pass_cookie",
    setup: () =>
      Promise.resolve({
        config: `authorization { users: [ { user: alice, password: s3cret } ] }\n` +
          `websocket { ${WS}, user_cookie: nu, pass_cookie: np }`,
        cookies: ["nu=alice; HttpOnly; Path=/", "np=s3cret; HttpOnly; Path=/"],
        tcpOpts: { user: "alice", pass: "s3cret" },
      }),
  },
  {
    name: "token_cookie",
    setup: () =>
      Promise.resolve({
        config: `authorization { token: t0ken }\nwebsocket { ${WS}, token_cookie: nt }`,
        cookies: ["nt=t0ken; HttpOnly; Path=/"],
        tcpOpts: { token: "t0ken" },
      }),
  },
];

for (const c of CASES) {
  chromiumTest(`browser cookies: ${c.name}`, async (chromium) => {
    const { config, cookies, query, tcpOpts } = await c.setup();
    const s = await startOurs(config);
    const tcp = await connect({ servers: `127.0.0.1:${s.port}`, ...tcpOpts });
    try {
      tcp.subscribe("browser.ready", {
        callback: () => tcp.publish("browser.in", enc.encode("from tcp")),
      });
      const fromBrowser: string[] = [];
      tcp.subscribe("browser.out", { callback: (_e, m) => fromBrowser.push(dec.decode(m.data)) });
      tcp.subscribe("svc.tcp", { callback: (_e, m) => m.respond(enc.encode("pong")) });
      await tcp.flush();
      const report = await runChromiumPage(
        chromium,
        { ws: String(s.wsPort), case: "basic", ...query },
        30_000,
        cookies,
      );
      assertEquals(report.error, undefined);
      assertEquals(report.ok, true);
      assertEquals((report.received as { head: string }).head, "from tcp");
      assertEquals(report.reply, "pong");
      await tcp.flush();
      assertEquals(fromBrowser, ["hello from chromium"]);
    } finally {
      await tcp.close();
      await s.stop();
    }
  });
}
