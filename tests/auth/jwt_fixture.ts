/**
 * Operator/account/user JWTs generated per test with @nats-io/jwt and @nats-io/nkeys, and the
 * server config that trusts them (memory resolver with preloads).
 */
import {
  createAccount,
  createOperator,
  createUser,
  encodeAccount,
  encodeOperator,
  encodeUser,
  type KeyPair,
} from "@nats-io/jwt";
import type { Account, SigningKeys, User } from "@nats-io/jwt";
import { signNonce } from "../../lib/auth/creds.ts";

const dec = new TextDecoder();

/** The seed of a key pair as text. */
export function seedOf(kp: KeyPair): string {
  return dec.decode(kp.getSeed());
}

/** One operator with a system account and an account A (with a signing key). */
export interface Trust {
  operator: KeyPair;
  operatorJwt: string;
  sys: KeyPair;
  sysJwt: string;
  account: KeyPair;
  accountSigner: KeyPair;
  accountJwt: string;
}

/** The limits nsc writes for a new account (no limits). An account JWT without them allows 0. */
export const UNLIMITED = {
  subs: -1,
  data: -1,
  payload: -1,
  imports: -1,
  exports: -1,
  wildcards: true,
  conn: -1,
  leaf: -1,
};

/**
 * Builds the operator, the system account and account A (`accountData` merged into A; A's
 * signing keys are `accountSigner` and `extraSigningKeys`).
 */
export async function makeTrust(
  accountData: Partial<Account> = {},
  extraSigningKeys: SigningKeys = [],
): Promise<Trust> {
  const operator = createOperator();
  const sys = createAccount();
  const operatorJwt = await encodeOperator("OP", operator, {
    system_account: sys.getPublicKey(),
  });
  const sysJwt = await encodeAccount("SYS", sys, { limits: UNLIMITED }, { signer: operator });
  const account = createAccount();
  const accountSigner = createAccount();
  const accountJwt = await encodeAccount("A", account, {
    signing_keys: [accountSigner.getPublicKey(), ...extraSigningKeys],
    limits: UNLIMITED,
    ...accountData,
  }, { signer: operator });
  return { operator, operatorJwt, sys, sysJwt, account, accountSigner, accountJwt };
}

/** An account JWT signed by the trust's operator. */
export function accountJwt(t: Trust, name: string, kp: KeyPair, data: Partial<Account> = {}) {
  return encodeAccount(name, kp, { limits: UNLIMITED, ...data }, { signer: t.operator });
}

/** A config trusting `t` with a memory resolver preloading its accounts (and `extra`). */
export function operatorConfig(t: Trust, extra: string[] = [], tail = ""): string {
  const preload = [
    `  ${t.sys.getPublicKey()}: "${t.sysJwt}"`,
    `  ${t.account.getPublicKey()}: "${t.accountJwt}"`,
    ...extra,
  ];
  return [
    `operator: "${t.operatorJwt}"`,
    `system_account: ${t.sys.getPublicKey()}`,
    "resolver: MEMORY",
    "resolver_preload: {",
    ...preload,
    "}",
    tail,
  ].join("\n") + "\n";
}

/** A user of account A signed by `issuer` (default: the account key). */
export async function makeUser(
  t: Trust,
  data: Partial<User> = {},
  opts: {
    exp?: number;
    nbf?: number;
    signer?: KeyPair;
    user?: KeyPair;
    scoped?: boolean;
    account?: KeyPair;
    tags?: string[];
  } = {},
): Promise<{ user: KeyPair; jwt: string }> {
  const user = opts.user ?? createUser();
  const jwt = await encodeUser("u", user, opts.account ?? t.account, data, {
    exp: opts.exp,
    nbf: opts.nbf,
    signer: opts.signer,
    scopedUser: opts.scoped,
  });
  return { user, jwt };
}

/** CONNECT JSON with the user JWT and the nonce signed by `signer` (none for bearers). */
export function connectLine(jwt: string, nonce: string, signer?: KeyPair | null): string {
  const o: Record<string, unknown> = { verbose: false, pedantic: false, protocol: 1, jwt };
  if (signer) o.sig = signNonce(seedOf(signer), nonce);
  return `CONNECT ${JSON.stringify(o)}\r\n`;
}
