/**
 * `node:*` modules loaded on first use. A static `import … from "node:x"` starts Deno's Node
 * compatibility layer at process start, about 5 MB of RSS for the first such module and ~6.5 MB
 * for the set this server uses (bench/experiments/idle_floor.ts, bench/README.md "Idle RSS"),
 * even when the configuration never reaches the code that needs it (TLS, WebSocket compression,
 * NKEY signatures, bcrypt, the memory reclaimer). `process.getBuiltinModule` loads a builtin
 * synchronously, so the code paths that use one stay synchronous.
 *
 * @module
 */
import type * as crypto from "node:crypto";
import type * as net from "node:net";
import type * as tls from "node:tls";
import type * as zlib from "node:zlib";
import type * as v8 from "node:v8";
import type * as vm from "node:vm";
import type * as buffer from "node:buffer";
import type * as nodeProcess from "node:process";

/** The builtins loaded through {@link nodeBuiltin}. */
export interface NodeBuiltins {
  "node:crypto": typeof crypto;
  "node:net": typeof net;
  "node:tls": typeof tls;
  "node:zlib": typeof zlib;
  "node:v8": typeof v8;
  "node:vm": typeof vm;
  "node:buffer": typeof buffer;
  "node:process": typeof nodeProcess;
}

const loaded = new Map<string, unknown>();

/** The `node:*` module `id`, loaded (synchronously) the first time it is asked for. */
export function nodeBuiltin<K extends keyof NodeBuiltins>(id: K): NodeBuiltins[K] {
  let m = loaded.get(id);
  if (m === undefined) {
    // The `process` global itself is a lazy getter that starts the compatibility layer.
    const p = (globalThis as { process?: { getBuiltinModule(id: string): unknown } }).process;
    m = p?.getBuiltinModule(id);
    if (m === undefined) throw new Error(`${id} is not available`);
    loaded.set(id, m);
  }
  return m as NodeBuiltins[K];
}
