/**
 * The one TLS-material loader: reads `cert_file`, `key_file` and `ca_file` and validates them as
 * the reference's GenTLSConfig does (tls.LoadX509KeyPair, x509.CertPool.AppendCertsFromPEM),
 * with its error texts. Config validation and every TLS listener (wired in lib/server) use it.
 *
 * @module
 */
import type { X509Certificate } from "node:crypto";
import { nodeBuiltin } from "../core/node_builtin.ts";

/** Paths of the TLS files (absent = not configured). */
export interface TlsFiles {
  certFile?: string;
  keyFile?: string;
  caFile?: string;
}

/** The PEM texts read (cert and key both present or both absent). */
export interface TlsMaterial {
  certPem?: string;
  keyPem?: string;
  caPem?: string;
}

/** Reads a file: its bytes, or the Go-style error text (e.g. `open x: no such file or directory`). */
export type TlsFileReader = (path: string) => Uint8Array | string;

/** The loaded material, or the reference's error text. */
export type TlsMaterialResult = { ok: true; material: TlsMaterial } | { ok: false; error: string };

interface PemBlock {
  type: string;
  body: string;
}

function pemBlocks(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  const re = /-----BEGIN ([^\n-]*)-----\r?\n([\s\S]*?)-----END \1-----/g;
  for (const m of text.matchAll(re)) out.push({ type: m[1], body: m[0] });
  return out;
}

const decoder = new TextDecoder();

/** Reads and checks the TLS files of `files`. */
export function loadTlsMaterial(files: TlsFiles, read: TlsFileReader): TlsMaterialResult {
  const material: TlsMaterial = {};
  const error = check(files, material, (path) => {
    const r = read(path);
    return typeof r === "string" ? { error: r } : decoder.decode(r);
  });
  return error === undefined ? { ok: true, material } : { ok: false, error };
}

function check(
  t: TlsFiles,
  material: TlsMaterial,
  readText: (path: string) => string | { error: string },
): string | undefined {
  if (t.certFile && !t.keyFile) return "missing 'key_file' in TLS configuration";
  if (!t.certFile && t.keyFile) return "missing 'cert_file' in TLS configuration";
  if (t.certFile && t.keyFile) {
    const pair = "error parsing X509 certificate/key pair: ";
    const certPem = readText(t.certFile);
    if (typeof certPem !== "string") return pair + certPem.error;
    const keyPem = readText(t.keyFile);
    if (typeof keyPem !== "string") return pair + keyPem.error;
    const certBlocks = pemBlocks(certPem);
    const certs = certBlocks.filter((b) => b.type === "CERTIFICATE");
    if (certs.length === 0) {
      if (certBlocks.length === 0) {
        return pair + "tls: failed to find any PEM data in certificate input";
      }
      if (certBlocks.some((b) => b.type.endsWith("PRIVATE KEY"))) {
        return pair +
          "tls: failed to find certificate PEM data in certificate input, but did find a private key; PEM inputs may have been switched";
      }
      return pair +
        `tls: failed to find "CERTIFICATE" PEM block in certificate input after skipping PEM blocks of the following types: [${
          certBlocks.map((b) => b.type).join(" ")
        }]`;
    }
    const keyBlocks = pemBlocks(keyPem);
    const key = keyBlocks.find((b) => b.type === "PRIVATE KEY" || b.type.endsWith(" PRIVATE KEY"));
    if (!key) {
      if (keyBlocks.length === 0) return pair + "tls: failed to find any PEM data in key input";
      if (keyBlocks.some((b) => b.type === "CERTIFICATE")) {
        return pair + "tls: found a certificate rather than a key in the PEM for the private key";
      }
      return pair +
        `tls: failed to find PEM block with type ending in "PRIVATE KEY" in key input after skipping PEM blocks of the following types: [${
          keyBlocks.map((b) => b.type).join(" ")
        }]`;
    }
    const { X509Certificate, createPrivateKey } = nodeBuiltin("node:crypto");
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(certs[0].body);
    } catch {
      return pair + "x509: malformed certificate";
    }
    let pk;
    try {
      pk = createPrivateKey(key.body);
    } catch {
      return pair + "tls: failed to parse private key";
    }
    try {
      if (!cert.checkPrivateKey(pk)) return pair + "tls: private key does not match public key";
    } catch {
      return pair + "tls: private key type does not match public key type";
    }
    material.certPem = certPem;
    material.keyPem = keyPem;
  }
  if (t.caFile) {
    const ca = readText(t.caFile);
    if (typeof ca !== "string") return ca.error;
    const { X509Certificate } = nodeBuiltin("node:crypto");
    let ok = false;
    for (const b of pemBlocks(ca)) {
      if (b.type !== "CERTIFICATE") continue;
      try {
        new X509Certificate(b.body);
        ok = true;
      } catch {
        // skipped like x509.CertPool.AppendCertsFromPEM
      }
    }
    if (!ok) return "failed to parse root ca certificate";
    material.caPem = ca;
  }
  return undefined;
}
