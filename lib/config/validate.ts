/**
 * Startup validation: what nats-server 2.9.10 checks in NewServer (`validateOptions`), not at
 * parse time. `nats-server -t` does not run these. The CLI prints each as `nats-server: <err>`.
 */
import { formatGoDuration, joinHostPort } from "../core/gofmt.ts";
import { goUrlParse, utf8ByteString } from "../core/gourl.ts";
import type { ServerOptions } from "./options.ts";
import { validateRemotes } from "./blocks/leafnode_remotes.ts";
import { peekClaims } from "./blocks/operator.ts";

const msToNs = (ms: number) => BigInt(Math.round(ms * 1e6));

/**
 * Returns every problem found (the reference stops at the first one, in this same order).
 * An empty array means the options can be used to start a server.
 */
export function validateOptions(opts: ServerOptions): string[] {
  const out: string[] = [];
  // Ports: the reference fails when it listens, with its fatal texts around Go's net error
  // (which names only the port).
  const bad = (p: number) => !Number.isInteger(p) || p < -1 || p > 65535;
  const netErr = (p: number) => `listen tcp: address ${p}: invalid port`;
  if (bad(opts.port)) {
    out.push(
      `Error listening on port: ${joinHostPort(opts.host, opts.port)}, "${netErr(opts.port)}"`,
    );
  }
  if (opts.monitor.port !== 0 && bad(opts.monitor.port)) {
    out.push(
      `Can't start monitoring: can't listen to the monitor port: ${netErr(opts.monitor.port)}`,
    );
  }
  if (opts.websocket.port !== 0 && bad(opts.websocket.port)) {
    out.push(`Unable to listen for websocket connections: ${netErr(opts.websocket.port)}`);
  }
  if (opts.leafnodes.port !== 0 && bad(opts.leafnodes.port)) {
    out.push(
      `Error listening on leafnode port: ${opts.leafnodes.port} - ${netErr(opts.leafnodes.port)}`,
    );
  }

  if (opts.lameDuckDurationMs > 0 && opts.lameDuckGracePeriodMs >= opts.lameDuckDurationMs) {
    out.push(
      `lame duck grace period (${
        formatGoDuration(msToNs(opts.lameDuckGracePeriodMs))
      }) should be strictly lower than lame duck duration (${
        formatGoDuration(msToNs(opts.lameDuckDurationMs))
      })`,
    );
  }
  if (opts.maxPayload > opts.maxPending) {
    out.push(
      `max_payload (${opts.maxPayload}) cannot be higher than max_pending (${opts.maxPending})`,
    );
  }

  out.push(...validateTrustedOperators(opts));

  // validateLeafNode: accounts named by leafnode authorization must exist.
  const accNames = new Set<string>(["$G", "", "$SYS"]);
  for (const a of opts.auth.accounts) accNames.add(a.name);
  const la = opts.leafnodes.authorization;
  if (la) {
    const check = (name: string | undefined) => {
      if (!accNames.has(name ?? "")) {
        out.push(`cannot find local account "${name}" specified in leafnode authorization`);
        return false;
      }
      return true;
    };
    if (check(la.account)) {
      for (const u of la.users ?? []) if (u.account !== undefined && !check(u.account)) break;
    }
  }

  out.push(...validateRemotes(opts.leafnodes.remotes, accNames));

  // validateAuth: the top-level no_auth_user.
  const noAuth = noAuthUserError(opts, opts.auth.noAuthUser);
  if (noAuth) out.push(noAuth);

  // validateWebsocketOptions (only when websocket is enabled).
  const ws = opts.websocket;
  if (ws.port !== 0) {
    if (!ws.tls && !ws.noTls) out.push("websocket requires TLS configuration");
    for (const ao of ws.allowedOrigins) {
      const parsed = goUrlParse(utf8ByteString(ao));
      if (!parsed.ok) {
        out.push(`unable to parse allowed origin: ${parsed.error}`);
        break;
      }
    }
    const wsAuth = opts.auth.websocket;
    if (wsAuth?.noAuthUser) {
      const e = noAuthUserError(opts, wsAuth.noAuthUser);
      if (e) out.push(e);
    }
    if (opts.auth.users.length > 0) {
      if (wsAuth?.user) {
        out.push("websocket authentication username not compatible with presence of users/nkeys");
      } else if (wsAuth?.token) {
        out.push("websocket authentication token not compatible with presence of users/nkeys");
      }
    }
    if (ws.jwtCookie && !opts.auth.trustedKeys?.length) {
      out.push(
        `trusted operators or trusted keys configuration is required for JWT authentication via cookie "${ws.jwtCookie}"`,
      );
    }
  }
  return out;
}

/** validateTrustedOperators (the checks config can make; signatures are the server's). */
function validateTrustedOperators(opts: ServerOptions): string[] {
  const op = opts.operator;
  if (op.operatorJwts.length === 0) return [];
  if (!op.resolver) return ["operators require an account resolver to be configured"];
  if (opts.auth.accounts.length > 0) {
    return ["operators do not allow Accounts to be configured directly"];
  }
  if (opts.auth.users.length > 0) {
    return ["operators do not allow users to be configured directly"];
  }
  if (op.trustedKeys.length > 0) {
    return ["conflicting options for 'TrustedKeys' and 'TrustedOperators'"];
  }
  const systems = op.operatorJwts.map((j) => {
    const sys = (peekClaims(j).nats as { system_account?: unknown } | undefined)?.system_account;
    return typeof sys === "string" ? sys : "";
  });
  if (op.systemAccount) {
    if (systems.some((s) => s !== "") && !systems.includes(op.systemAccount)) {
      return ["system_account in config and operator JWT must be identical"];
    }
  } else if (systems[0] === "" && (op.resolver.type === "full" || op.resolver.type === "cache")) {
    return [
      "using nats based account resolver - the system account needs to be specified in configuration or the operator jwt",
    ];
  }
  return [];
}

function noAuthUserError(opts: ServerOptions, name: string | undefined): string | undefined {
  if (!name) return undefined;
  if (opts.operator.operatorJwts.length > 0) {
    return "no_auth_user not compatible with Trusted Operator";
  }
  const users = opts.auth.users.filter((u) => u.user !== undefined);
  if (users.length === 0) {
    return `no_auth_user: "${name}" present, but users are not defined`;
  }
  if (users.some((u) => u.user === name)) return undefined;
  return `no_auth_user: "${name}" not present as user in authorization block or account configuration`;
}
