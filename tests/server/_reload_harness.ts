/**
 * Runs one operating scenario (reload, lame duck, signals) against this server's process and,
 * when it is on PATH, nats-server's, and hands back what each showed, so a test can compare
 * them: normalised log lines and what raw clients saw.
 */
import net from "node:net";
import tls from "node:tls";
import { X509Certificate } from "node:crypto";
import { assert, assertEquals } from "../helpers/assert.ts";
import { RawClient } from "../helpers/raw.ts";
import { haveNatsServer } from "../helpers/reference.ts";
import {
  type ServerProcess,
  type ServerProgram,
  startServerProcess,
} from "../helpers/server_process.ts";

/** The programs to run: ours always, nats-server when present. */
export function programs(): ServerProgram[] {
  return haveNatsServer() ? ["ours", "nats-server"] : ["ours"];
}

/**
 * Runs `scenario` on each program and asserts the observations are equal; returns ours.
 * `config` is the initial config text.
 */
export async function sameOnBoth<T>(
  config: string,
  scenario: (p: ServerProcess, program: ServerProgram) => Promise<T>,
  extraArgs: string[] = [],
): Promise<T> {
  const seen = new Map<ServerProgram, T>();
  for (const program of programs()) {
    const p = await startServerProcess(config, extraArgs, program);
    try {
      seen.set(program, await scenario(p, program));
    } finally {
      await p.stop();
    }
  }
  const ours = seen.get("ours")!;
  if (seen.has("nats-server")) assertEquals(ours, seen.get("nats-server")!, "ours vs nats-server");
  return ours;
}

/** Lines only one of the two servers writes (system account, Go runtime), left out. */
const NOISE = [
  /ACCOUNT - Account connection closed/,
  /SYSTEM - System connection closed/,
  /maxprocs/,
  /Client accept loop exiting/,
  /Created system account/,
  /Go build/,
];

/** `[pid] date time [LVL] msg` → `LVL msg`, client addresses → `<client>`, noise removed. */
export function normaliseLog(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split("\n")) {
    const m = /^\[\d+\] (?:\S+ \S+ )?\[(\w+)\] (.*)$/.exec(raw);
    if (!m) continue;
    if (NOISE.some((re) => re.test(m[2]))) continue;
    const msg = m[2].replace(/127\.0\.0\.1:\d+ - cid:\d+/g, "<client>");
    out.push(`${m[1]} ${msg}`);
  }
  return out;
}

/** Rewrites the config file, sends SIGHUP and returns the log lines the reload wrote. */
export async function reloadWith(p: ServerProcess, config: string): Promise<string[]> {
  const mark = p.stderr().length;
  await Deno.writeTextFile(p.configFile, config);
  p.kill("SIGHUP");
  const done = (log: string) =>
    /Reloaded server configuration|Failed to reload server configuration/.test(log.slice(mark));
  assert(
    await p.waitForLog(done, 15_000),
    `no reload outcome logged (exited: ${JSON.stringify(p.exited())}):\n${p.stderr()}`,
  );
  // Lines the re-checks write right after (closed connections) settle within a moment.
  await p.waitForLog(() => false, 150);
  return normaliseLog(p.stderr().slice(mark)).filter((l) => !l.startsWith("DBG Trapped"));
}

/** A raw client that sent CONNECT and got its PONG; `text` holds what came after. */
export async function connected(port: number, connect: string): Promise<RawClient> {
  const c = await RawClient.connect(port);
  await c.info();
  await c.send(`CONNECT ${connect}\r\nPING\r\n`);
  const got = await c.readUntil((t) => t.includes("PONG") || t.includes("-ERR"));
  assert(got.includes("PONG"), `not connected: ${got}`);
  c.text = "";
  return c;
}

/**
 * What a client sees next: sends PING and reads until PONG, `-ERR` + EOF, or EOF, and returns
 * the text plus `<EOF>` when the server closed it.
 */
export async function nextSeen(c: RawClient): Promise<string> {
  await c.send("PING\r\n").catch(() => {});
  await c.readUntil((t) => t.includes("PONG"), 5000).catch(() => "");
  const text = c.text;
  c.text = "";
  return text + (c.closed ? "<EOF>" : "");
}

/** Connects over the INFO-then-TLS upgrade; returns the socket and the server's cert SHA-256. */
export async function tlsClient(
  port: number,
): Promise<{ socket: tls.TLSSocket; fingerprint: string }> {
  const raw = net.connect(port, "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    let buf = "";
    raw.on("data", function onData(d: Uint8Array) {
      buf += new TextDecoder().decode(d);
      if (buf.includes("\r\n")) {
        raw.off("data", onData);
        resolve();
      }
    });
    raw.once("error", reject);
  });
  const socket = tls.connect({ socket: raw, rejectUnauthorized: false });
  await new Promise<void>((resolve, reject) => {
    socket.once("secureConnect", () => resolve());
    socket.once("error", reject);
  });
  const der = socket.getPeerCertificate(false).raw;
  return { socket, fingerprint: new X509Certificate(der).fingerprint256 };
}

/** CONNECT (when `connect`) and PING over an upgraded socket; true once PONG came back. */
export async function pingOverTls(socket: tls.TLSSocket, connect: boolean): Promise<boolean> {
  return await new Promise<boolean>((resolve) => {
    let got = "";
    const timer = setTimeout(() => resolve(false), 3000);
    socket.on("data", (d: Uint8Array) => {
      got += new TextDecoder().decode(d);
      if (got.includes("PONG")) {
        clearTimeout(timer);
        resolve(true);
      }
    });
    socket.write(`${connect ? 'CONNECT {"verbose":false}\r\n' : ""}PING\r\n`);
  });
}
