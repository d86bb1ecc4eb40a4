/**
 * Accounts from JWTs in the registry (nats-server 2.9.10 `updateAccountClaimsWithRefresh`):
 * each verified account JWT becomes an account definition with its exports and imports.
 * Private exports (`token_req`) admit the importers whose activation token is valid (issued by
 * the exporter or one of its signing keys, for that importer and subject, not expired, not
 * revoked by the export). Accounts named by imports are fetched so the imports can bind.
 *
 * @module
 */
import { subjectIsSubsetOf } from "../core/subject.ts";
import {
  type ActivationClaims,
  isRevoked,
  type JwtExport,
  type JwtImport,
} from "../auth/jwt/claims.ts";
import { decodeActivationClaims, timeCheck } from "../auth/jwt/decode.ts";
import type { JwtAccount, JwtAccountStore } from "../auth/jwt/store.ts";
import type { ExportConfig, ImportConfig } from "../auth/types.ts";
import type { AccountRegistry } from "./registry.ts";
import type { AccountDefinition } from "./source.ts";

function responseType(x: JwtExport): ExportConfig["responseType"] {
  const t = (x.response_type ?? "").toLowerCase();
  return t === "stream" || t === "chunked" ? t : undefined;
}

/** The activation claims of an import's token when it admits `importer`, else null. */
export function validActivation(
  im: JwtImport,
  importer: string,
  exporter: JwtAccount | undefined,
): ActivationClaims | null {
  if (!im.token || !exporter) return null;
  let act: ActivationClaims;
  try {
    act = decodeActivationClaims(im.token);
  } catch {
    return null;
  }
  if (timeCheck(act)) return null;
  if (act.sub !== importer && act.sub !== "*") return null;
  const issuedBy = act.iss === exporter.name ||
    (act.nats.issuer_account === exporter.name && exporter.signingKeys.has(act.iss));
  if (!issuedBy) return null;
  const subject = act.nats.subject ?? "";
  if (!subject || !subjectIsSubsetOf(im.subject, subject)) return null;
  return act;
}

function exportsOf(acc: JwtAccount, approved: (x: JwtExport) => string[]): ExportConfig[] {
  const out: ExportConfig[] = [];
  for (const x of acc.claims.nats.exports ?? []) {
    const e: ExportConfig = x.type === "service" ? { service: x.subject } : { stream: x.subject };
    if (x.token_req) e.accounts = approved(x);
    const rt = responseType(x);
    if (rt) e.responseType = rt;
    out.push(e);
  }
  return out;
}

function importsOf(acc: JwtAccount): ImportConfig[] {
  const out: ImportConfig[] = [];
  for (const im of acc.claims.nats.imports ?? []) {
    const from = { account: im.account, subject: im.subject };
    if (im.type === "service") {
      const c: ImportConfig = { service: from };
      const to = im.local_subject || im.to;
      if (to) c.to = to;
      out.push(c);
    } else {
      const c: ImportConfig = { stream: from };
      if (im.local_subject) c.to = im.local_subject;
      else if (im.to) c.prefix = im.to;
      out.push(c);
    }
  }
  return out;
}

/** Keeps the registry's definitions of JWT accounts in step with the JWT store. */
export class JwtAccountDefinitions {
  constructor(
    private readonly store: JwtAccountStore,
    private readonly registry: AccountRegistry,
    private readonly onError: (msg: string) => void = () => {},
  ) {
    store.onUpdate((acc) => this.apply(acc));
    for (const acc of store.all()) this.apply(acc);
  }

  /** The importers admitted to a private export of `exporter` by their activation tokens. */
  private approvedFor(exporter: JwtAccount, x: JwtExport): string[] {
    const out: string[] = [];
    for (const other of this.store.all()) {
      for (const im of other.claims.nats.imports ?? []) {
        if (im.account !== exporter.name || im.type !== x.type) continue;
        if (!subjectIsSubsetOf(im.subject, x.subject)) continue;
        const act = validActivation(im, other.name, exporter);
        if (act && !isRevoked(x.revocations, act.sub, act.iat ?? 0)) out.push(other.name);
      }
    }
    return out;
  }

  /** The registry definition of a JWT account. */
  definition(acc: JwtAccount): AccountDefinition {
    return {
      name: acc.name,
      exports: exportsOf(acc, (x) => this.approvedFor(acc, x)),
      imports: importsOf(acc),
    };
  }

  private apply(acc: JwtAccount): void {
    // Exporters whose private exports this account's tokens open are redefined first.
    for (const im of acc.claims.nats.imports ?? []) {
      const exporter = this.store.get(im.account);
      if (exporter && exporter !== acc && im.token) this.define(exporter);
    }
    this.define(acc);
    for (const im of acc.claims.nats.imports ?? []) {
      if (!this.store.get(im.account)) void this.store.lookup(im.account);
    }
  }

  private define(acc: JwtAccount): void {
    for (const e of this.registry.define(this.definition(acc))) this.onError(e);
  }
}
