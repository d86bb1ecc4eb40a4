/**
 * The runtime's floor per idle connection, for each of our engines, next to nats-server in the
 * same run. Each holder is the least a server can do and still satisfy the bench client
 * (CONNECT + SUB + PING, wait for PONG; `bench/loadgen/ws.ts` for WebSocket):
 *
 * | holder       | what it is                                                                     |
 * | ------------ | ------------------------------------------------------------------------------ |
 * | `native-ws`  | `Deno.serve` + `Deno.upgradeWebSocket`, answers a message with PING by `PONG`  |
 * | `listen-ws`  | `Deno.listen`, a 1 KiB read buffer, a bare 101 and unmasking (the codec floor) |
 * | `listen-tcp` | `Deno.listen`, a 1 KiB read buffer, answers PING by PONG (the TCP floor)       |
 * | `nats-ws`    | `nats-server` with `websocket { no_tls: true }`                                |
 * | `nats-tcp`   | `nats-server`                                                                  |
 *
 * RSS is read from /proc/<pid>/status before and 1 s after N connections are open, as the
 * `mem-*` rows do (`KiB/conn`). For the Deno holders it is read once more after they ran one
 * memory-reducing collection on SIGUSR2 (`reduced`: what lib/server/memory_reclaim.ts does once
 * a rise settles, giving back the young generation V8 grew while the connections were set up);
 * nats-server gets no signal (its `reduced` is its first reading).
 *
 * ```sh
 * deno run -A bench/experiments/ws_native_floor.ts [--n 2000] [--holders native-ws,listen-ws,...]
 * ```
 */
import v8 from "node:v8";
import vm from "node:vm";
import { encoder } from "../loadgen/proto.ts";
import { tcpDialer } from "../loadgen/stream.ts";
import { wsDialer } from "../loadgen/ws.ts";
import { openIdleClients } from "../loadgen/idle.ts";
import { freePort, portOpen, rssKiB } from "../loadgen/targets.ts";
import { flagValue } from "./args.ts";

const PONG = encoder.encode("PONG\r\n");
const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** True when `b` holds "PING". */
function hasPing(b: Uint8Array): boolean {
  for (let i = 0; i + 3 < b.length; i++) {
    if (b[i] === 0x50 && b[i + 1] === 0x49 && b[i + 2] === 0x4e && b[i + 3] === 0x47) return true;
  }
  return false;
}

/** The `native-ws` holder on `port`. */
export function nativeWs(port: number): void {
  Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req, { idleTimeout: 0 });
    socket.binaryType = "arraybuffer";
    socket.onmessage = (e) => {
      if (e.data instanceof ArrayBuffer && hasPing(new Uint8Array(e.data))) socket.send(PONG);
    };
    return response;
  });
}

async function writeAll(conn: Deno.Conn, b: Uint8Array): Promise<void> {
  for (let off = 0; off < b.length;) off += await conn.write(b.subarray(off));
}

/** Unmasks every client frame in `b` in place (assumes whole frames per read, as here). */
function unmaskFrames(b: Uint8Array): void {
  let p = 0;
  while (p + 6 <= b.length) {
    let len = b[p + 1] & 0x7f;
    let h = 2;
    if (len === 126) {
      len = (b[p + 2] << 8) | b[p + 3];
      h = 4;
    }
    const key = b.subarray(p + h, p + h + 4);
    const body = b.subarray(p + h + 4, p + h + 4 + len);
    for (let i = 0; i < body.length; i++) body[i] ^= key[i & 3];
    p += h + 4 + len;
  }
}

async function holdTcp(conn: Deno.Conn, ws: boolean): Promise<void> {
  const buf = new Uint8Array(1024);
  let upgraded = !ws;
  try {
    while (true) {
      const n = await conn.read(buf);
      if (n === null) break;
      const b = buf.subarray(0, n);
      if (!upgraded) {
        const text = new TextDecoder().decode(b);
        const key = /sec-websocket-key:\s*(\S+)/i.exec(text)?.[1] ?? "";
        const sha = new Uint8Array(
          await crypto.subtle.digest("SHA-1", encoder.encode(key + GUID)),
        );
        const accept = btoa(String.fromCharCode(...sha));
        await writeAll(
          conn,
          encoder.encode(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
              `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
          ),
        );
        upgraded = true;
        continue;
      }
      if (ws) unmaskFrames(b);
      if (hasPing(b)) await writeAll(conn, ws ? new Uint8Array([0x82, 6, ...PONG]) : PONG);
    }
  } catch { /* reset */ }
  try {
    conn.close();
  } catch { /* closed */ }
}

/** The `listen-ws` (`ws`) or `listen-tcp` holder on `port`. */
export async function listenHolder(port: number, ws: boolean): Promise<void> {
  for await (const conn of Deno.listen({ hostname: "127.0.0.1", port })) holdTcp(conn, ws);
}

/** The holder's RSS in KiB; NaN when /proc cannot tell. */
async function holderRss(pid: number): Promise<number> {
  return (await rssKiB(pid)) ?? NaN;
}

function spawnHolder(holder: string, port: number): Deno.ChildProcess {
  if (holder.startsWith("nats-")) {
    const args = ["-a", "127.0.0.1", "-p", String(holder === "nats-tcp" ? port : freePort())];
    if (holder === "nats-ws") {
      const conf = Deno.makeTempFileSync({ suffix: ".conf" });
      Deno.writeTextFileSync(
        conf,
        `websocket { listen: "127.0.0.1:${port}", no_tls: true, compression: true }\n`,
      );
      args.push("-c", conf);
    }
    return new Deno.Command("nats-server", { args, stdout: "null", stderr: "null" }).spawn();
  }
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", import.meta.filename!, "--hold", holder, String(port)],
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
}

async function main(): Promise<void> {
  const args = Deno.args;
  const at = (flag: string) => flagValue(flag, args);
  const hold = at("--hold");
  if (hold) {
    Deno.addSignalListener("SIGUSR2", () => {
      const { setFlagsFromString } = v8;
      setFlagsFromString("--expose-gc");
      const gc = vm.runInNewContext("gc") as (o: unknown) => void;
      gc({ type: "major", execution: "sync", flavor: "last-resort" });
    });
    const port = Number(args[args.indexOf("--hold") + 2]);
    if (hold === "native-ws") nativeWs(port);
    else await listenHolder(port, hold === "listen-ws");
    return;
  }
  const n = Number(at("--n") ?? 2000);
  const holders = (at("--holders") ?? "native-ws,listen-ws,nats-ws,listen-tcp,nats-tcp")
    .split(",");
  console.log(`holder      N      RSS before MiB  RSS after MiB  KiB/conn  reduced KiB/conn`);
  for (const holder of holders) {
    const port = freePort();
    const child = spawnHolder(holder, port);
    try {
      if (!(await portOpen(port, 10_000))) throw new Error(`port ${port} did not open`);
      await new Promise((r) => setTimeout(r, 1000));
      const before = await holderRss(child.pid);
      const dial = holder.endsWith("-ws")
        ? wsDialer(port, { readBufSize: 4096, timeoutMs: 20_000 })
        : tcpDialer(port);
      const clients = await openIdleClients(dial, n);
      await new Promise((r) => setTimeout(r, 1000));
      const ok = (await Promise.all(clients.map((c) => c.ping(5000)))).every(Boolean);
      const after = await holderRss(child.pid);
      let reduced = after;
      if (!holder.startsWith("nats-")) {
        Deno.kill(child.pid, "SIGUSR2");
        await new Promise((r) => setTimeout(r, 500));
        reduced = await holderRss(child.pid);
      }
      const perConn = (x: number) => ((x - before) / n).toFixed(1);
      console.log(
        `${holder.padEnd(11)} ${String(n).padEnd(6)} ${(before / 1024).toFixed(1).padStart(14)}  ${
          (after / 1024).toFixed(1).padStart(13)
        }  ${perConn(after).padStart(8)}  ${perConn(reduced).padStart(16)}${
          ok ? "" : "  (some PINGs failed)"
        }`,
      );
      await Promise.all(clients.map((c) => c.shutdown()));
    } finally {
      child.kill("SIGTERM");
      await child.status;
    }
  }
}

if (import.meta.main) await main();
