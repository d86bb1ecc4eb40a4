/**
 * Cross-account stream and service imports declared in account JWTs (public exports, a private
 * service export opened by an activation token, a private stream export without one), run with
 * real clients against ours and nats-server 2.9.10.
 */
import { createAccount, encodeActivation } from "@nats-io/jwt";
import { connect, jwtAuthenticator, type NatsConnection } from "nats";
import { assertEquals } from "../helpers/assert.ts";
import { withEachServer } from "../helpers/each_server.ts";
import { accountJwt, makeTrust, makeUser, operatorConfig, seedOf } from "./jwt_fixture.ts";

const enc = new TextEncoder();

Deno.test("jwt imports: stream and service imports by JWT, activation tokens, private exports", async () => {
  const t = await makeTrust();
  const b = createAccount();
  const a = createAccount();
  const bJwt = await accountJwt(t, "B", b, {
    exports: [
      { name: "events", subject: "events.>", type: "stream" },
      { name: "echo", subject: "svc.echo", type: "service", token_req: true },
      { name: "secret", subject: "secret.>", type: "stream", token_req: true },
      { name: "private", subject: "svc.private", type: "service", token_req: true },
    ],
  });
  const token = await encodeActivation("act", a, b, "service", { subject: "svc.echo" });
  const aJwt = await accountJwt(t, "A", a, {
    imports: [
      { name: "events", subject: "events.>", account: b.getPublicKey(), type: "stream" },
      {
        name: "echo",
        subject: "svc.echo",
        account: b.getPublicKey(),
        type: "service",
        token,
        local_subject: "echo",
      },
      { name: "secret", subject: "secret.>", account: b.getPublicKey(), type: "stream" },
      // No activation token: the import is not added, so nobody answers.
      {
        name: "private",
        subject: "svc.private",
        account: b.getPublicKey(),
        type: "service",
        local_subject: "private",
      },
    ],
  });
  const extra = [`  ${a.getPublicKey()}: "${aJwt}"`, `  ${b.getPublicKey()}: "${bJwt}"`];
  const ua = await makeUser(t, {}, { account: a });
  const ub = await makeUser(t, {}, { account: b });
  await withEachServer(operatorConfig(t, extra), async (name, port) => {
    const open = (u: typeof ua) =>
      connect({
        port,
        authenticator: jwtAuthenticator(u.jwt, enc.encode(seedOf(u.user))),
        reconnect: false,
      });
    const ncB: NatsConnection = await open(ub);
    const ncA: NatsConnection = await open(ua);
    try {
      ncB.subscribe("svc.echo", {
        callback: (_e, m) => m.respond(enc.encode(`echo:${m.string()}`)),
      });
      ncB.subscribe("svc.private", { callback: (_e, m) => m.respond(enc.encode("leak")) });
      await ncB.flush();
      const denied = await ncA.request("private", enc.encode("x"), { timeout: 1000 }).then(
        (m) => m.string(),
        (e) => String(e?.code ?? e),
      );
      assertEquals(denied, "503", name);
      const got: string[] = [];
      const sub = ncA.subscribe(">", {
        callback: (_e, m) => got.push(`${m.subject}=${m.string()}`),
      });
      await ncA.flush();
      await ncB.flush();
      const r = await ncA.request("echo", enc.encode("hi"), { timeout: 2000 });
      assertEquals(r.string(), "echo:hi", name);

      ncB.publish("events.x", enc.encode("1"));
      ncB.publish("secret.x", enc.encode("2"));
      ncB.publish("other", enc.encode("3"));
      await ncB.flush();
      await ncA.request("echo", enc.encode("sync"), { timeout: 2000 });
      sub.unsubscribe();
      const fromB = got.filter((g) =>
        !g.startsWith("_INBOX") && !g.startsWith("echo=") && !g.startsWith("private=")
      );
      assertEquals(fromB, ["events.x=1"], name);
    } finally {
      await ncA.close();
      await ncB.close();
    }
  });
});
