/**
 * `tls { ... }` (parseTLS + GenTLSConfig's file checks), used by the client port, websocket and
 * leafnodes; the top-level `ocsp` and `allow_non_tls` (refused).
 */
import { goQuote, parseGoDuration } from "../../core/gofmt.ts";
import { TLS } from "../keys.ts";
import type { TlsOptions } from "../options.ts";
import type { ConfigNode } from "../parser.ts";
import { type BuildContext, refuseKey, type TopLevelHandlers } from "./context.ts";
import { checkTlsFiles } from "./tls_files.ts";

/** A parsed `tls` block and its configured timeout in seconds (0 = not set). */
export interface TlsBlock {
  tls: TlsOptions;
  timeoutSec: number;
}

/** The top-level keys of this module. */
export const topLevelHandlers: TopLevelHandlers<"tls"> = {
  tls: (n, _k, ctx) => {
    const t = parseTls(ctx, n);
    if (t) {
      ctx.o.tls = t.tls;
      ctx.draft.tlsTimeoutSec = t.timeoutSec;
    }
  },
  ocsp: refuseKey,
  allow_non_tls: (n, _k, ctx) => {
    const b = ctx.bool(n);
    if (b !== undefined) ctx.o.allowNonTls = b;
  },
};

/**
 * What Deno's TLS (rustls, behind node:tls and Deno.serve) negotiates and does not let a server
 * restrict: a `cipher_suites` / `curve_preferences` list that contains all of these is honoured
 * as it stands; one that leaves any out cannot be, and is refused.
 */
const RUSTLS_TLS12_SUITES = [
  "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
  "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
  "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
  "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
  "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
  "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
];
const RUSTLS_CURVES = ["X25519", "CurveP256", "CurveP384"];

/** The reference's cipherMap keys. */
const GO_CIPHERS = new Set([
  "TLS_RSA_WITH_RC4_128_SHA",
  "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
  "TLS_RSA_WITH_AES_128_CBC_SHA",
  "TLS_RSA_WITH_AES_128_CBC_SHA256",
  "TLS_RSA_WITH_AES_256_CBC_SHA",
  "TLS_RSA_WITH_AES_256_GCM_SHA384",
  "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",
  "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
  "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
  "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
  "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
  "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
  "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
  "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
  "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
  ...RUSTLS_TLS12_SUITES,
  "TLS_AES_128_GCM_SHA256",
  "TLS_AES_256_GCM_SHA384",
  "TLS_CHACHA20_POLY1305_SHA256",
]);
const GO_CURVES = new Set([...RUSTLS_CURVES, "CurveP521"]);

/**
 * `cipher_suites` / `curve_preferences`: the reference's parse errors, then the check that the
 * list can be honoured by Deno's TLS (see {@link RUSTLS_TLS12_SUITES}).
 */
function checkTlsList(ctx: BuildContext, v: ConfigNode, key: string, path: string): void {
  const ciphers = key === "cipher_suites";
  if (v.kind !== "array") return void ctx.conv(v, "[]interface {}");
  if (v.value.length === 0) {
    return ctx.err(v, `error parsing tls config, '${key}' cannot be empty`);
  }
  const names: string[] = [];
  for (const e of v.value) {
    const s = ctx.str(e);
    if (s === undefined) return;
    if (!(ciphers ? GO_CIPHERS : GO_CURVES).has(s)) {
      return ctx.err(e, `unrecognized ${ciphers ? "cipher" : "curve preference"} ${s}`);
    }
    names.push(s);
  }
  const needed = ciphers ? RUSTLS_TLS12_SUITES : RUSTLS_CURVES;
  const missing = needed.filter((n) => !names.includes(n));
  if (missing.length) {
    ctx.refuse(
      v,
      `${path} ${key}`,
      `Deno's TLS always offers ${needed.join(", ")} and cannot leave out ${missing.join(", ")}`,
    );
  }
}

const PIN = /^[a-f0-9]{64}$/;

/** parseTLS + the file checks of GenTLSConfig; undefined when anything failed (reported). */
export function parseTls(ctx: BuildContext, n: ConfigNode, path = "tls"): TlsBlock | undefined {
  const m = ctx.map(n);
  if (!m) return undefined;
  const before = ctx.errors.length;
  const t: TlsOptions = { verify: false, verifyAndMap: false, timeoutMs: 0, insecure: false };
  let timeoutSec = 0;
  const fail = (v: ConfigNode, msg: string) => ctx.err(v, `error parsing tls config, ${msg}`);
  for (const [k, v] of m) {
    const key = ctx.keyOf(
      TLS,
      k,
      v,
      (key) => `error parsing tls config, unknown field [${goQuote(key)}]`,
    );
    if (key === undefined) continue;
    switch (key) {
      case "cert_file":
      case "key_file":
      case "ca_file":
        if (v.kind !== "string") fail(v, `expected '${key}' to be filename`);
        else if (key === "cert_file") t.certFile = v.value;
        else if (key === "key_file") t.keyFile = v.value;
        else t.caFile = v.value;
        break;
      case "insecure":
      case "verify":
      case "verify_and_map":
      case "verify_cert_and_check_known_urls":
        if (v.kind !== "bool") {
          fail(v, `expected '${key}' to be a boolean`);
        } else if (key === "insecure") t.insecure = v.value;
        else if (key === "verify") t.verify = v.value;
        else if (key === "verify_and_map") {
          if (v.value) t.verify = true;
          t.verifyAndMap = v.value;
        } else if (v.value) {
          ctx.err(v, "verify_cert_and_check_known_urls not supported in this context");
        }
        break;
      case "timeout":
        if (v.kind === "int") timeoutSec = Number(v.value);
        else if (v.kind === "float") timeoutSec = v.value;
        else if (v.kind === "string") {
          try {
            timeoutSec = Number(parseGoDuration(v.value)) / 1e9;
          } catch (e) {
            fail(v, `'timeout' ${(e as Error).message}`);
          }
        } else fail(v, "'timeout' wrong type");
        break;
      case "connection_rate_limit":
        if (v.kind !== "int") fail(v, "'connection_rate_limit' wrong type");
        else ctx.refuse(v, `${path} ${k}`);
        break;
      case "cipher_suites":
      case "curve_preferences":
        checkTlsList(ctx, v, key, path);
        break;
      case "pinned_certs": {
        if (v.kind !== "array") {
          fail(
            v,
            "expected 'pinned_certs' to be a list of hex-encoded sha256 of DER encoded SubjectPublicKeyInfo",
          );
          break;
        }
        const pins: string[] = [];
        for (const e of v.value) {
          const s = ctx.str(e);
          if (s === undefined) continue;
          const entry = s.toLowerCase();
          if (!PIN.test(entry)) {
            fail(
              e,
              `'pinned_certs' key ${entry} does not look like hex-encoded sha256 of DER encoded SubjectPublicKeyInfo`,
            );
            continue;
          }
          if (!pins.includes(entry)) pins.push(entry);
        }
        if (pins.length) t.pinnedCerts = pins;
        break;
      }
      default:
        key satisfies never;
    }
  }
  if (ctx.errors.length > before) return undefined;
  const genErr = checkTlsFiles(t);
  if (genErr) {
    ctx.err(n, genErr);
    return undefined;
  }
  if (t.certFile) t.certFile = absolute(t.certFile);
  if (t.keyFile) t.keyFile = absolute(t.keyFile);
  if (t.caFile) t.caFile = absolute(t.caFile);
  t.timeoutMs = timeoutSec > 0 ? timeoutSec * 1000 : 2000;
  return { tls: t, timeoutSec };
}

function absolute(p: string): string {
  if (p.startsWith("/")) return p;
  try {
    return Deno.cwd().replace(/\/$/, "") + "/" + p;
  } catch {
    return p;
  }
}
