/**
 * The URL resolver against a small Deno.serve account server, and real clients with a `.creds`
 * file (`npm:nats` credsAuthenticator over TCP, @nats-io/nats-core wsconnect over WebSocket),
 * each against ours and nats-server 2.9.10.
 */
import { createAccount, fmtCreds } from "@nats-io/jwt";
import { connect, credsAuthenticator } from "nats";
import { credsAuthenticator as wsCreds, wsconnect } from "@nats-io/nats-core";
import { assert, assertEquals } from "../helpers/assert.ts";
import { haveNatsServer, startReference } from "../helpers/reference.ts";
import { startOurs } from "../helpers/server.ts";
import { parseCreds } from "../../lib/auth/creds.ts";
import { RawClient } from "../helpers/raw.ts";
import { accountJwt, connectLine, makeTrust, makeUser, operatorConfig } from "./jwt_fixture.ts";

const enc = new TextEncoder();

async function eachServer(
  config: string,
  fn: (name: string, port: number, wsPort?: number) => Promise<void>,
): Promise<void> {
  const ours = await startOurs(config);
  try {
    await fn("ours", ours.port, ours.wsPort);
  } finally {
    await ours.stop();
  }
  if (!haveNatsServer()) return;
  const ref = await startReference(config);
  try {
    await fn("nats-server", ref.port, ref.wsPort);
  } finally {
    await ref.stop();
  }
}

Deno.test("jwt: URL resolver fetches account JWTs from an account server", async () => {
  const t = await makeTrust();
  const acc = createAccount();
  const accJwt = await accountJwt(t, "U", acc);
  const requests: string[] = [];
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    requests.push(path);
    const key = path.split("/").pop()!;
    if (key === acc.getPublicKey()) return new Response(accJwt);
    if (key === t.sys.getPublicKey()) return new Response(t.sysJwt);
    // Both servers check that the base URL answers before they start.
    if (key === "") return new Response("");
    return new Response("not found", { status: 404 });
  });
  const url = `http://127.0.0.1:${http.addr.port}/jwt/v1/accounts/`;
  const config = [
    `operator: "${t.operatorJwt}"`,
    `system_account: ${t.sys.getPublicKey()}`,
    `resolver: URL(${url})`,
  ].join("\n");

  try {
    await eachServer(config, async (name, port) => {
      requests.length = 0;
      const u = await makeUser(t, {}, { account: acc });
      const creds = fmtCreds(u.jwt, u.user);
      const nc = await connect({
        port,
        authenticator: credsAuthenticator(creds),
        reconnect: false,
      });
      try {
        const sub = nc.subscribe("x", { max: 1 });
        nc.publish("x", enc.encode("via url resolver"));
        for await (const m of sub) assertEquals(m.string(), "via url resolver", name);
      } finally {
        await nc.close();
      }
      assert(
        requests.includes(`/jwt/v1/accounts/${acc.getPublicKey()}`),
        `${name}: ${requests}`,
      );
      // An account the server does not know is refused.
      const stranger = await makeUser(t, {}, { account: createAccount() });
      const raw = await RawClient.connect(port);
      const info = await raw.info();
      await raw.send(connectLine(stranger.jwt, String(info.nonce), stranger.user) + "PING\r\n");
      await raw.readUntil((x) => x.includes("-ERR") || x.includes("PONG"));
      const refused = raw.text;
      raw.close();
      assert(/Authorization Violation/i.test(refused), `${name}: ${refused}`);
    });
  } finally {
    await http.shutdown();
  }
});

Deno.test("jwt: a .creds file logs in over TCP (npm:nats) and WebSocket (wsconnect)", async () => {
  const t = await makeTrust();
  const u = await makeUser(t);
  const creds = fmtCreds(u.jwt, u.user);
  assertEquals(parseCreds(new TextDecoder().decode(creds)).jwt, u.jwt);
  const config = operatorConfig(
    t,
    [],
    "websocket { listen: '127.0.0.1:-1', no_tls: true }",
  );
  await eachServer(config, async (name, port, wsPort) => {
    const tcp = await connect({ port, authenticator: credsAuthenticator(creds), reconnect: false });
    const ws = await wsconnect({
      servers: `ws://127.0.0.1:${wsPort}`,
      authenticator: wsCreds(creds),
      reconnect: false,
    });
    try {
      const sub = ws.subscribe("from.tcp", { max: 1 });
      await ws.flush();
      tcp.publish("from.tcp", enc.encode("hello browser side"));
      for await (const m of sub) assertEquals(m.string(), "hello browser side", name);
    } finally {
      await tcp.close();
      await ws.close();
    }
  });
});
