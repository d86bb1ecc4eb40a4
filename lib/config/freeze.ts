/** Deep freeze/clone of options, and the side data the loader keeps about them. */
import type { ServerOptions } from "./options.ts";

export interface OptionsMeta {
  /** The monitoring host was set by `http: "host:port"` (else it follows `host`). */
  monitorHostExplicit: boolean;
}

const metas = new WeakMap<object, OptionsMeta>();

export function setMeta(o: ServerOptions, m: OptionsMeta): void {
  metas.set(o, { ...m });
}

export function getMeta(o: ServerOptions): OptionsMeta {
  return metas.get(o) ?? { monitorHostExplicit: o.monitor.host !== o.host };
}

export function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === "object" && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const k of Object.keys(v as object)) deepFreeze((v as Record<string, unknown>)[k]);
  }
  return v;
}

export function deepClone<T>(v: T): T {
  if (Array.isArray(v)) return v.map(deepClone) as T;
  if (v instanceof Date) return new Date(v.getTime()) as T;
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as object)) out[k] = deepClone(x);
    return out as T;
  }
  return v;
}
