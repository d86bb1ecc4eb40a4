/** Logging in the reference's format: `[pid] yyyy/mm/dd hh:mm:ss.uuuuuu [INF] message`. */
import type { Logger } from "../protocol/context.ts";

/** Where log lines go. */
export type LogWriter = (line: string) => void;

/** Options for the logger. */
export interface LogOptions {
  debug: boolean;
  trace: boolean;
  logtime: boolean;
  /** Defaults to stderr. */
  writer?: LogWriter;
  /** Append to this file instead of the writer (`-l`, `log_file`); reopened by `reopen()`. */
  logFile?: string;
}

/** A logger whose settings change on reload and whose file can be reopened (SIGUSR1). */
export interface ServerLogger extends Logger {
  /** Applies new levels, timestamps and log file (a changed file is opened, the old closed). */
  configure(opts: Omit<LogOptions, "writer">): void;
  /** Reopens the log file (after rotation); false when not logging to a file. */
  reopen(): boolean;
  /** Closes the log file, if any. */
  close(): void;
}

const encoder = new TextEncoder();

/** Writes a line to stderr synchronously (like Go's log to os.Stderr). */
export function stderrWriter(line: string): void {
  const bytes = encoder.encode(line + "\n");
  let off = 0;
  while (off < bytes.length) off += Deno.stderr.writeSync(bytes.subarray(off));
}

/** Appends lines to a file; `close()` releases it. */
export function fileWriter(path: string): LogWriter & { close(): void } {
  const file = Deno.openSync(path, { append: true, create: true });
  const write = (line: string) => {
    const bytes = encoder.encode(line + "\n");
    let off = 0;
    while (off < bytes.length) off += file.writeSync(bytes.subarray(off));
  };
  return Object.assign(write, {
    close: () => {
      try {
        file.close();
      } catch { /* already closed */ }
    },
  });
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, "0");
}

/** `yyyy/mm/dd hh:mm:ss.uuuuuu` in local time. */
export function logTimestamp(now = Date.now()): string {
  const d = new Date(now);
  const micros = Math.floor((performance.timeOrigin + performance.now()) * 1000) % 1_000_000;
  return `${d.getFullYear()}/${pad(d.getMonth() + 1)}/${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(micros, 6)}`;
}

/** Creates a logger; debug/trace lines are dropped unless enabled. */
export function createLogger(opts: LogOptions): ServerLogger {
  const fallback = opts.writer ?? stderrWriter;
  let settings = { ...opts };
  let file = opts.logFile ? fileWriter(opts.logFile) : undefined;
  const prefix = `[${Deno.pid}] `;
  const line = (level: string, msg: string) =>
    (file ?? fallback)(`${prefix}${settings.logtime ? logTimestamp() + " " : ""}[${level}] ${msg}`);
  return {
    info: (m) => line("INF", m),
    warn: (m) => line("WRN", m),
    error: (m) => line("ERR", m),
    debug: (m) => {
      if (settings.debug) line("DBG", m);
    },
    trace: (m) => {
      if (settings.trace) line("TRC", m);
    },
    get debugEnabled() {
      return settings.debug;
    },
    get traceEnabled() {
      return settings.trace;
    },
    configure(next) {
      if (next.logFile !== settings.logFile) {
        const opened = next.logFile ? fileWriter(next.logFile) : undefined;
        file?.close();
        file = opened;
      }
      settings = { ...settings, ...next, logFile: next.logFile };
    },
    reopen() {
      if (!settings.logFile) return false;
      const opened = fileWriter(settings.logFile);
      file?.close();
      file = opened;
      return true;
    },
    close() {
      file?.close();
      file = undefined;
    },
  };
}

/** A logger that discards everything (embedded use). */
export const silentLogger: Logger = {
  info() {},
  warn() {},
  error() {},
  debug() {},
  trace() {},
  debugEnabled: false,
  traceEnabled: false,
};
