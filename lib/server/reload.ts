/**
 * Applying a config reload (SIGHUP, `--signal reload`) as nats-server 2.9.10 does: the new
 * options are diffed with the ones in force ({@link diffOptions}); a refusal, a validation error
 * or unusable TLS material leaves everything as it was. Otherwise the options are swapped in,
 * each change logs its `Reloaded: ...` line, the side effects run (logger, limits, TLS
 * certificates for new handshakes, max_connections, pid and ports files), and every client is
 * re-checked: a client whose user is gone or moved account is closed ("Client Closed"), one whose
 * credentials no longer hold gets `-ERR 'Authorization Violation'`, and subscriptions its new
 * permissions forbid are removed with `-ERR 'Permissions Violation for Subscription to ...'`.
 *
 * @module
 */
import { Closed } from "../core/close_reasons.ts";
import { goQuote } from "../core/gofmt.ts";
import type { ServerOptions } from "../config/options.ts";
import { validateOptions } from "../config/validate.ts";
import type { ClientConnection } from "../protocol/client.ts";
import type { Logger } from "../protocol/context.ts";
import { Err } from "../protocol/errors.ts";
import { diffOptions, type LoadedMaterial, type ReloadChange, tlsIdentity } from "./reload_diff.ts";
import type { ServerLogger } from "./log.ts";

/** Where reloaded options come from: the config file again, with the command-line flags. */
export type ReloadSource = () => { options: ServerOptions; errors: string[] };

/** What a reload drives. */
export interface ReloadTarget {
  readonly options: ServerOptions;
  readonly log: Logger | ServerLogger;
  /** What was loaded from files for the options in force (updated by a reload). */
  loaded: LoadedMaterial;
  /** Installs the new options (derived state rebuilt). */
  swapOptions(next: ServerOptions): void;
  /** Prepares TLS material for new handshakes; throws when unusable. Returns the installer. */
  prepareTls(next: ServerOptions): Promise<() => void>;
  /** The same for the WebSocket listener's certificates. */
  prepareWsTls(next: ServerOptions): Promise<() => void>;
  /** Open client connections. */
  clients(): ClientConnection[];
  /** Writes the pid file / rewrites the ports file (after the swap). */
  writePidFile(): void;
  rewritePortsFile(previousDir: string | undefined): void;
}

/** {@link LoadedMaterial} for `o`, read now. */
export function loadedMaterial(o: ServerOptions): LoadedMaterial {
  return {
    tls: tlsIdentity(o.tls, readOrUndefined),
    wsTls: tlsIdentity(o.websocket.tls, readOrUndefined),
  };
}

/** Reads a file as text, undefined when it cannot be read. */
function readOrUndefined(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Reloads; resolves with the error text (nothing changed) or undefined on success. The caller
 * logs `Failed to reload server configuration: <error>`.
 */
export async function reloadOptions(
  target: ReloadTarget,
  next: ServerOptions,
): Promise<string | undefined> {
  const old = target.options;
  const diff = diffOptions(old, next, readOrUndefined, target.loaded);
  if (!diff.ok) return diff.error;
  if (Boolean(old.tls) !== Boolean(next.tls)) {
    return "config reload not supported for TLSConfig: enabling or disabling TLS on the client " +
      "port needs a restart (this server serves the two on different listeners)";
  }
  const problems = validateOptions(next);
  if (problems.length) return problems.join("\n");
  const effects = new Set(diff.changes.map((c) => c.effect));
  const installers: (() => void)[] = [];
  try {
    if (effects.has("tls") && next.tls) installers.push(await target.prepareTls(next));
    if (effects.has("wsTls")) installers.push(await target.prepareWsTls(next));
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  target.swapOptions(next);
  target.loaded = { ...loadedMaterial(next), wsTlsSwappable: target.loaded.wsTlsSwappable };
  for (const install of installers) install();
  const log = target.log;
  for (const change of diff.changes) applyChange(target, change, old);
  if (effects.has("logging") && "configure" in log) {
    log.configure({
      debug: next.debug,
      trace: next.trace,
      logtime: next.logtime,
      logFile: next.logFile,
    });
  }
  const clients = target.clients();
  for (const c of clients) c.refreshSettings();
  await Promise.all(clients.map((c) => recheckClient(c, next, log)));
  log.info("Reloaded server configuration");
  return undefined;
}

function applyChange(target: ReloadTarget, change: ReloadChange, old: ServerOptions): void {
  const log = target.log;
  const next = target.options;
  if (change.effect === "maxConnections") {
    const open = target.clients();
    const max = next.maxConnections;
    if (max > 0 && open.length > max) {
      const excess = open.slice(0, open.length - max);
      for (const c of excess) {
        log.error(`${c.logName} - ${Err.maxConnections}`);
        c.sendErr(Err.maxConnections);
        c.close(Closed.maxConnections);
      }
      log.info(`Closed ${excess.length} connections to fall within max_connections`);
    }
  }
  if (change.effect === "pidFile" && !next.pidFile) return; // the reference logs nothing
  if (change.effect === "pidFile") {
    try {
      target.writePidFile();
    } catch (err) {
      log.error(`Failed to write pidfile: ${err instanceof Error ? err.message : err}`);
    }
  }
  if (change.effect === "portsFile") target.rewritePortsFile(old.portsFileDir);
  if (change.line) log.info(change.line);
}

/**
 * The reference's re-check of one client after a reload (`reloadAuthorization`): users are
 * looked up by name or nkey first (gone or in another account → closed as "Client Closed";
 * a single `authorization { user }` is not in that list, so such clients are always closed),
 * then the CONNECT credentials are verified again and the permissions applied.
 */
async function recheckClient(c: ClientConnection, o: ServerOptions, log: Logger): Promise<void> {
  if (c.isClosed || !c.identity) return;
  const connect = c.connectOpts;
  if (connect?.nkey || connect?.user) {
    const user = connect.nkey
      ? o.auth.users.find((u) => u.nkey === connect.nkey)
      : o.auth.users.find((u) => u.user === connect.user);
    if (!user || user.account !== c.account.name) {
      c.close(Closed.clientClosed);
      return;
    }
  }
  const id = await c.reauthenticate();
  if (c.isClosed) return;
  if (!id) {
    log.error(`${c.logName} - authentication error${authUserSuffix(c, o)}`);
    c.sendErr(Err.authViolation);
    c.close(Closed.authViolation);
    return;
  }
  for (const sub of c.rebindAfterReload(id)) {
    log.info(
      `Removed sub ${goQuote(sub.subject)} (sid ${goQuote(sub.sid)}) for ${authUser(c)} - ` +
        "not authorized",
    );
  }
}

/** `authViolation`'s log suffix: ` - Nkey "U..."` / ` - User "x"` when such users exist. */
function authUserSuffix(c: ClientConnection, o: ServerOptions): string {
  if (o.auth.users.some((u) => u.nkey)) return ` - Nkey ${goQuote(c.connectOpts?.nkey ?? "")}`;
  if (o.auth.users.length) return ` - User ${goQuote(c.connectOpts?.user ?? "")}`;
  return "";
}

/** The reference's getAuthUser. */
function authUser(c: ClientConnection): string {
  const o = c.connectOpts;
  if (o?.nkey) return `Nkey ${goQuote(o.nkey)}`;
  if (o?.user) return `User ${goQuote(o.user)}`;
  return `User "N/A"`;
}
