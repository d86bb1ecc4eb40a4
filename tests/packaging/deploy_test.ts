/**
 * Deploy mode (`deploy.ts`): the host gives one port in `PORT` and terminates TLS. WebSocket
 * clients are served there in plain ws with the native engine; the config's client port is not
 * opened.
 */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { spawnServerProcess } from "../helpers/server_process.ts";
import { deployOptions, deployPort } from "../../lib/server/deploy.ts";
import { defaultOptions } from "../../lib/config/options.ts";
import { exchange } from "./exchange.ts";
import { RUN_PERMISSIONS } from "../../tools/permissions.ts";
import { freePort } from "../helpers/ports.ts";

const DEPLOY = new URL("../../deploy.ts", import.meta.url).pathname;

async function refused(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return false;
  } catch (err) {
    return err instanceof Deno.errors.ConnectionRefused;
  }
}

Deno.test({
  name: "deploy mode: WebSocket on $PORT (native engine, no TLS), no TCP client port",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "natsdeploy" });
    const tcpPort = freePort();
    const port = freePort();
    // A config written for a normal host: its TLS websocket and client port are overridden.
    await Deno.writeTextFile(
      `${dir}/nats.conf`,
      `port: ${tcpPort}\nauthorization { token: s3cret }\nwebsocket { port: 443, compression: true }\n`,
    );
    const p = await spawnServerProcess(
      Deno.execPath(),
      ["run", ...RUN_PERMISSIONS, DEPLOY, "-c", `${dir}/nats.conf`],
      {
        env: { PORT: String(port) },
        cleanup: () => Deno.remove(dir, { recursive: true }),
      },
    );
    try {
      const log = p.stderr();
      assertEquals(p.wsPort, port, log);
      assertEquals(p.port, 0, "no client port line");
      assert(!log.includes("Listening for client connections"), log);
      assertMatch(log, /Websocket engine: native/);
      assertMatch(log, /Listening for websocket clients on ws:\/\/0\.0\.0\.0:\d+/);
      assert(await refused(tcpPort), `TCP port ${tcpPort} is not open`);
      assertEquals(
        await exchange({ ws: `ws://127.0.0.1:${port}`, auth: { token: "s3cret" } }),
        ["ws>ws"],
      );
    } finally {
      await p.stop();
    }
  },
});

Deno.test("deploy mode: PORT parsing (default 8080, errors name the variable)", () => {
  assertEquals(deployPort(undefined), 8080);
  assertEquals(deployPort(""), 8080);
  assertEquals(deployPort("8000"), 8000);
  for (const bad of ["0", "65536", "80a", "-1", " 80"]) {
    assertEquals(
      deployPort(bad),
      `PORT must be a port number between 1 and 65535, got ${JSON.stringify(bad)}`,
    );
  }
});

Deno.test("deploy mode: options move the websocket to 0.0.0.0:PORT, plain, native engine", () => {
  const base = defaultOptions();
  base.websocket = { ...base.websocket, host: "10.0.0.1", port: 443, compression: true };
  const o = deployOptions(base, 8000);
  assertEquals(
    [o.websocket.host, o.websocket.port, o.websocket.noTls, o.websocket.engine],
    ["0.0.0.0", 8000, true, "native"],
  );
  assertEquals([o.websocket.compression, o.websocket.tls], [false, undefined]);
  assertEquals(base.websocket.port, 443, "the input is not changed");
});

Deno.test("deploy mode: a bad PORT refuses to start with one line", async () => {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...RUN_PERMISSIONS, DEPLOY],
    env: { PORT: "http" },
    stdin: "null",
  }).output();
  assertEquals(r.code, 1);
  assertEquals(
    new TextDecoder().decode(r.stderr),
    'nats-server: PORT must be a port number between 1 and 65535, got "http"\n',
  );
});
