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
}

const encoder = new TextEncoder();

/** Writes a line to stderr synchronously (like Go's log to os.Stderr). */
export function stderrWriter(line: string): void {
  const bytes = encoder.encode(line + "\n");
  let off = 0;
  while (off < bytes.length) off += Deno.stderr.writeSync(bytes.subarray(off));
}

/** Appends lines to a file. */
export function fileWriter(path: string): LogWriter {
  const file = Deno.openSync(path, { append: true, create: true });
  return (line) => {
    const bytes = encoder.encode(line + "\n");
    let off = 0;
    while (off < bytes.length) off += file.writeSync(bytes.subarray(off));
  };
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
export function createLogger(opts: LogOptions): Logger {
  const write = opts.writer ?? stderrWriter;
  const prefix = `[${Deno.pid}] `;
  const line = (level: string, msg: string) =>
    write(`${prefix}${opts.logtime ? logTimestamp() + " " : ""}[${level}] ${msg}`);
  return {
    info: (m) => line("INF", m),
    warn: (m) => line("WRN", m),
    error: (m) => line("ERR", m),
    debug: (m) => opts.debug && line("DBG", m),
    trace: (m) => opts.trace && line("TRC", m),
    debugEnabled: opts.debug,
    traceEnabled: opts.trace,
  } as Logger;
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
