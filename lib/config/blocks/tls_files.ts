/**
 * GenTLSConfig's file checks (tls.LoadX509KeyPair and the CA pool), with the reference's
 * messages, so a `tls` block naming unusable files fails at load time like nats-server.
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import type { TlsOptions } from "../options.ts";
import { readFile } from "../parser.ts";

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

function readText(path: string): string | { error: string } {
  const r = readFile(path);
  if (typeof r === "string") return { error: r };
  return new TextDecoder().decode(r);
}

/** Returns the reference's error text, or undefined when the files are usable. */
export function checkTlsFiles(t: TlsOptions): string | undefined {
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
  }
  if (t.caFile) {
    const ca = readText(t.caFile);
    if (typeof ca !== "string") return ca.error;
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
  }
  return undefined;
}
