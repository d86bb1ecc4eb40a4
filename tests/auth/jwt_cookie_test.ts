/**
 * `jwt_cookie` over raw WebSocket bytes, against ours and nats-server 2.9.10: the upgrade's
 * cookie supplies the user JWT when CONNECT has none; a `jwt` in CONNECT overrides the cookie.
 */
import { createUser } from "@nats-io/jwt";
import { assertEquals } from "../helpers/assert.ts";
import { RawWs } from "../helpers/ws_raw.ts";
import { haveNatsServer, startReference } from "../helpers/reference.ts";
import { startOurs } from "../helpers/server.ts";
import { signNonce } from "../../lib/auth/creds.ts";
import { makeTrust, makeUser, operatorConfig, seedOf } from "./jwt_fixture.ts";

const VIOLATION = "-ERR 'Authorization Violation'\r\n";

Deno.test("jwt_cookie: cookie JWT when CONNECT has none; CONNECT jwt overrides it", async () => {
  const t = await makeTrust();
  const good = await makeUser(t);
  const other = await makeUser(t, {}, { user: createUser() });
  const config = operatorConfig(
    t,
    [],
    "websocket { listen: '127.0.0.1:-1', no_tls: true, jwt_cookie: nats_jwt }",
  );
  const cases = [
    {
      name: "cookie only, nonce signed by its user",
      cookie: good.jwt,
      jwt: undefined,
      signer: good.user,
      want: "PONG\r\n",
    },
    {
      name: "cookie only, signed by another key",
      cookie: good.jwt,
      jwt: undefined,
      signer: other.user,
      want: VIOLATION,
    },
    {
      name: "CONNECT jwt overrides a garbage cookie",
      cookie: "garbage",
      jwt: other.jwt,
      signer: other.user,
      want: "PONG\r\n",
    },
    {
      name: "CONNECT jwt overrides the cookie (signed for the cookie user)",
      cookie: good.jwt,
      jwt: other.jwt,
      signer: good.user,
      want: VIOLATION,
    },
    {
      name: "no cookie, no jwt",
      cookie: undefined,
      jwt: undefined,
      signer: good.user,
      want: VIOLATION,
    },
  ];
  const run = async (server: string, wsPort: number) => {
    for (const c of cases) {
      const headers: Record<string, string> = {};
      if (c.cookie) headers.Cookie = `other=1; nats_jwt=${c.cookie}`;
      const ws = await RawWs.open({ port: wsPort }, { headers });
      try {
        await ws.readUntil((w) => w.text.includes("\r\n"));
        const info = JSON.parse(ws.text.slice(5, ws.text.indexOf("\r\n")));
        ws.text = "";
        const connect: Record<string, unknown> = {
          verbose: false,
          protocol: 1,
          sig: signNonce(seedOf(c.signer), info.nonce),
        };
        if (c.jwt) connect.jwt = c.jwt;
        await ws.send(`CONNECT ${JSON.stringify(connect)}\r\nPING\r\n`);
        await ws.readUntil((w) => w.text.includes("PONG") || w.text.includes("-ERR"));
        assertEquals(ws.text.startsWith(c.want) ? c.want : ws.text, c.want, `${server}: ${c.name}`);
      } finally {
        ws.conn.close();
      }
    }
  };
  const ours = await startOurs(config);
  try {
    await run("ours", ours.wsPort!);
  } finally {
    await ours.stop();
  }
  if (!haveNatsServer()) return;
  const ref = await startReference(config);
  try {
    await run("nats-server", ref.wsPort!);
  } finally {
    await ref.stop();
  }
});
