/**
 * An in-memory harness for protocol tests: a ServerContext with open auth and a transport that
 * records what the server writes. No sockets.
 */
import type { CloseDescriptor } from "../../lib/core/close_reasons.ts";
import { createPermissionChecker } from "../../lib/auth/permissions.ts";
import type { Authenticator, Permissions } from "../../lib/auth/types.ts";
import { defaultOptions, type ServerOptions } from "../../lib/config/options.ts";
import { ClientConnection } from "../../lib/protocol/client.ts";
import { Account } from "../../lib/accounts/account.ts";
import type { PermissionChecker, ServerContext } from "../../lib/protocol/context.ts";
import type { PeerInfo, Transport } from "../../lib/protocol/transport.ts";
import { silentLogger } from "../../lib/server/log.ts";

const decoder = new TextDecoder();

/** Records writes and the close reason. */
export class RecordingTransport implements Transport {
  readonly peer: PeerInfo = { kind: "STANDARD", hostname: "127.0.0.1", port: 5555 };
  chunks: Uint8Array[] = [];
  closedWith?: string;
  write(data: Uint8Array): Promise<void> {
    this.chunks.push(data.slice());
    return Promise.resolve();
  }
  close(how: CloseDescriptor): void {
    this.closedWith ??= how.text;
  }
  /** Everything written so far, as text. */
  text(): string {
    return this.chunks.map((c) => decoder.decode(c)).join("");
  }
  /** Written text without the INFO line. */
  afterInfo(): string {
    return this.text().replace(/^INFO [^\n]*\n/, "");
  }
}

const openAuth: Authenticator = {
  authRequired: () => false,
  nonceRequired: false,
  timeoutMs: () => 2000,
  authenticate: () => ({ account: "$G" }),
};

/** A ServerContext with open auth and one global account. */
export function fakeContext(overrides: Partial<ServerOptions> = {}): ServerContext {
  const accounts = new Map<string, Account>();
  return {
    options: { ...defaultOptions(), ...overrides },
    authenticator: openAuth,
    log: silentLogger,
    stats: { inMsgs: 0, outMsgs: 0, inBytes: 0, outBytes: 0, slowConsumers: 0 },
    baseInfo: () => ({
      server_id: "NTEST",
      server_name: "test",
      version: "2.9.10",
      proto: 1,
      go: "test",
      host: "127.0.0.1",
      port: 4222,
      headers: true,
      max_payload: 1048576,
    }),
    account(name) {
      let a = accounts.get(name);
      if (!a) accounts.set(name, a = new Account(name));
      return a;
    },
    permissionChecker(p: Permissions): PermissionChecker {
      return createPermissionChecker(p);
    },
    removeClient() {},
  };
}

let nextCid = 1;

/** A started client on a recording transport. */
export function fakeClient(
  ctx: ServerContext,
): { client: ClientConnection; t: RecordingTransport } {
  const t = new RecordingTransport();
  const client = new ClientConnection(ctx, t, nextCid++);
  client.start();
  return { client, t };
}

/** Lets queued microtasks (flushes) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
  await new Promise((r) => setTimeout(r, 0));
}
