/**
 * Config cases of operator mode (added to the corpus in cases.ts): `operator`, `trusted`,
 * `system_account`, `resolver`, `resolver_preload`, with the reference's parse and startup
 * errors. The JWTs were generated once with @nats-io/jwt (no expiry) and are fixed here so
 * `nats-server -t` sees the same bytes.
 */
import { equal } from "node:assert/strict";
import type { Case } from "./cases.ts";

const L = (...lines: string[]) => lines.join("\n") + "\n";

/** An operator JWT naming a system account. */
const OP =
  "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.eyJhdWQiOiJOQVRTIiwibmFtZSI6Ik9QIiwic3ViIjoiT0M3UFZXNllSTkZIS1o3REI3NVlWRjJUVTQzQ1dTN1JXSFNGQ002U0VIVklJTVk2SUMzRlRGNVciLCJuYXRzIjp7InN5c3RlbV9hY2NvdW50IjoiQUQyUEtIUkpSTjJSV1FFVkRCNFA3RzRBTk9HRUVYTVNGVk43UFdQQkpSR0YyUEVWM0xYUDU0RFMiLCJ0eXBlIjoib3BlcmF0b3IiLCJ2ZXJzaW9uIjoyfSwiaXNzIjoiT0M3UFZXNllSTkZIS1o3REI3NVlWRjJUVTQzQ1dTN1JXSFNGQ002U0VIVklJTVk2SUMzRlRGNVciLCJpYXQiOjE3OTYyNDcwNTAsImp0aSI6IkZEcUc4dlBPZElDajE4TGZNUThQaW0yNVh5dHA4WWtrS09BbkpLSERYOWFBbnZVaDJsT3JrRmZxUzA1UU5nd3hYdzBTSXVTN1BZcDZEOFFDbWI1TTJBPT0ifQ.Eb2lF6S4IaGNP7z1cGVcaAXD4LDnYVJr6RSUP_LkRLMoNkZYZ_oZZiovqEjlZDBjDA5HfOX4coRI_U7NiLSFAw";
/** The same operator without a system account. */
const OP_NO_SYS =
  "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.eyJhdWQiOiJOQVRTIiwibmFtZSI6Ik9QMiIsInN1YiI6Ik9DN1BWVzZZUk5GSEtaN0RCNzVZVkYyVFU0M0NXUzdSV0hTRkNNNlNFSFZJSU1ZNklDM0ZURjVXIiwibmF0cyI6eyJ0eXBlIjoib3BlcmF0b3IiLCJ2ZXJzaW9uIjoyfSwiaXNzIjoiT0M3UFZXNllSTkZIS1o3REI3NVlWRjJUVTQzQ1dTN1JXSFNGQ002U0VIVklJTVk2SUMzRlRGNVciLCJpYXQiOjE3OTYyNDcwNTAsImp0aSI6Ijlza3A0ZUxRY0plZVlXNUxOT2RQRzlBTWxQK3praGZIL1ExQ1Y3UUkwMFd5UTQrZ3B1NDRxUno1SWx0VkQ5WU9PZS84M0tYZjgvY0dQbmZlNkFvTnZnPT0ifQ.Z28EB6dBRBOEgGQHKeDaJdR08GpUBt88-0N2KQIW2Jol5kWsKwfNl_RT8FzPLHrFruNJHQkZW7XWQ_Jbw8gTAQ";
const OP_KEY = "OC7PVW6YRNFHKZ7DB75YVF2TU43CWS7RWHSFCM6SEHVIIMY6IC3FTF5W";
const SYS = "AD2PKHRJRN2RWQEVDB4P7G4ANOGEEXMSFVN7PWPBJRGF2PEV3LXP54DS";
const ACC = "ABEO7XN4SRRQRUV2HF6JRSZOTORZVA2MPICC5UVJRNWNAV6DBVJI73WY";
/** Account ACC signed by the operator. */
const ACC_JWT =
  "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.eyJhdWQiOiJOQVRTIiwibmFtZSI6IkEiLCJzdWIiOiJBQkVPN1hONFNSUlFSVVYySEY2SlJTWk9UT1JaVkEyTVBJQ0M1VVZKUk5XTkFWNkRCVkpJNzNXWSIsIm5hdHMiOnsibGltaXRzIjp7ImNvbm4iOi0xfSwidHlwZSI6ImFjY291bnQiLCJ2ZXJzaW9uIjoyfSwiaXNzIjoiT0M3UFZXNllSTkZIS1o3REI3NVlWRjJUVTQzQ1dTN1JXSFNGQ002U0VIVklJTVk2SUMzRlRGNVciLCJpYXQiOjE3OTYyNDcwNTAsImp0aSI6ImNqOWFzLzF0N2F4UlQ5U0VRZllhV0dMbngreE9jSmZoK0xmYXpUSEFMRTVvenZWamZxcWxOSE51NmNBVmxvTmNqak11ME95bEJhMy9NK00rejNMcWR3PT0ifQ.s9yFHyV0xgieODcRqT5QD2fscCVCK51X3U93cbuLG3XUXCileAowfCl9AQzRWSH2qxFzZsHkQTo4rRFxBudnBA";

export const JWT_CASES: Case[] = [
  {
    name: "operator inline with a memory resolver and a preload",
    conf: L(`operator: "${OP}"`, "resolver: MEMORY", `resolver_preload: { ${ACC}: "${ACC_JWT}" }`),
    expect: (o) => {
      equal(o.operator.systemAccount, SYS);
      equal(o.operator.resolver?.type, "memory");
      equal(o.auth.trustedKeys?.[0], OP_KEY);
      equal(o.operator.resolverPreload[ACC], ACC_JWT);
    },
    ref: "same",
  },
  {
    name: "operator from a file; the system account comes from it",
    conf: L("operator: op.jwt", "resolver: MEM"),
    files: {
      "op.jwt": `-----BEGIN NATS OPERATOR JWT-----\n${OP}\n------END NATS OPERATOR JWT------\n`,
    },
    expect: (o) => equal(o.operator.systemAccount, SYS),
    ref: "same",
  },
  {
    name: "operator file that does not exist",
    conf: L("operator: missing.jwt", "resolver: MEMORY"),
    errors: [
      "case.conf:1:0: error parsing operator JWT: open missing.jwt: no such file or directory",
    ],
    ref: "same",
  },
  {
    name: "operator as an array is a type error in 2.9.10",
    conf: L(`operator: [ "${OP}", "${OP_NO_SYS}" ]`),
    errors: ["case.conf:1:0: error parsing operators: unsupported type []interface {}"],
    ref: "same",
  },
  {
    name: "operators do not allow users (startup)",
    conf: L(
      `operator: "${OP}"`,
      "resolver: MEMORY",
      "authorization { users: [ { user: a, password: b } ] }",
    ),
    validate: ["operators do not allow users to be configured directly"],
    warnings: [],
    ref: "startup",
  },
  {
    name: "operators do not allow accounts (startup)",
    conf: L(`operator: "${OP}"`, "resolver: MEMORY", "accounts { A {} }"),
    validate: ["operators do not allow Accounts to be configured directly"],
    ref: "startup",
  },
  {
    name: "system_account must match the operator's (startup)",
    conf: L(`operator: "${OP}"`, "resolver: MEMORY", `system_account: ${ACC}`),
    validate: ["system_account in config and operator JWT must be identical"],
    ref: "startup",
  },
  {
    name: "a full resolver needs a system account (startup)",
    conf: L(`operator: "${OP_NO_SYS}"`, "resolver { type: full, dir: './jwt' }"),
    validate: [
      "using nats based account resolver - the system account needs to be specified in configuration or the operator jwt",
    ],
    ref: "startup",
  },
  {
    name: "websocket no_auth_user is not compatible with a trusted operator (startup)",
    conf: L(
      `operator: "${OP}"`,
      "resolver: MEMORY",
      "websocket { listen: '127.0.0.1:-1', no_tls: true, no_auth_user: x }",
    ),
    validate: ["no_auth_user not compatible with Trusted Operator"],
    ref: "startup",
  },
  {
    name: "jwt_cookie is accepted in operator mode",
    conf: L(
      `operator: "${OP}"`,
      "resolver: MEMORY",
      "websocket { listen: '127.0.0.1:-1', no_tls: true, jwt_cookie: jwt }",
    ),
    ref: "same",
  },
  ...([
    [
      "resolver: FOO",
      'error parsing account resolver, should be MEM or  URL("url") or a map containing dir and type state=[FULL|CACHE])',
    ],
    [
      "resolver { type: cache, dir: '.', allow_delete: true }",
      "CACHE does not accept allow_delete",
    ],
    ["resolver { type: full, dir: '.', ttl: '1s' }", "FULL does not accept ttl"],
    ["resolver { type: full }", "dir has no value and needs to point to a directory"],
    ["resolver: 5", "error parsing operator resolver, wrong type int64"],
    ["resolver_preload: 5", "preload should be a map of account_public_key:account_jwt"],
  ] as const).map(([conf, err]): Case => ({
    name: `resolver: ${conf}`,
    conf: L(conf),
    errors: [`case.conf:1:0: ${err}`],
    ref: "same",
  })),
  {
    name: "resolver_preload values must be account JWTs",
    conf: L("resolver: MEMORY", "resolver_preload: {", "  A: 5", "  B: notajwt", "}"),
    errors: [
      "case.conf:3:3: preload map value should be a string JWT",
      "case.conf:4:3: invalid account JWT",
    ],
    ref: "same",
  },
  {
    name: "trusted keys must be operator keys",
    conf: L(`trusted: [ "${OP_KEY}", "${ACC}" ]`),
    errors: [`case.conf:1:72: trust key "${ACC}" required to be a valid public operator nkey`],
    ref: "same",
  },
];
