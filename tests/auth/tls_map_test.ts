/**
 * verify_and_map: names read from real (openssl-made) certificates and the reference's matching
 * order, as pure functions. The same certificates are checked against nats-server 2.9.10 over
 * wss in tests/transport/ws_codec_tls_test.ts.
 */
import {
  certificateNames,
  dnEqual,
  dnRdnsMatch,
  goSubjectString,
  mapCertificateNames,
  mapCertificateToUser,
  parseDn,
} from "../../lib/auth/tls_map.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { haveOpenssl, pemToDer, testPki } from "../helpers/certs.ts";

Deno.test("tls_map: names of real certificates", async (t) => {
  if (!haveOpenssl()) return;
  const pki = await testPki();
  await t.step("SANs and subject of a v3 client cert", () => {
    const n = certificateNames(pemToDer(pki.client.certPem));
    assertEquals(n.emails, ["alice@example.com"]);
    assertEquals(n.dnsNames, ["alice.example.com"]);
    assertEquals(n.uris, ["nats://alice"]);
    assertEquals(goSubjectString(n.subject), "CN=alice,OU=NATS.io,O=Synadia,C=US");
  });
  await t.step("no SANs", () => {
    const n = certificateNames(pemToDer(pki.clientDn.certPem));
    assertEquals([n.emails, n.dnsNames, n.uris], [[], [], []]);
    assertEquals(goSubjectString(n.subject), "CN=example.com,OU=NATS.io");
  });
  await t.step("domain components are left out of the Go subject string", () => {
    const n = certificateNames(pemToDer(pki.clientDc.certPem));
    assertEquals(goSubjectString(n.subject), "CN=bob");
  });
  await t.step("emailAddress dropped, comma escaped", () => {
    const n = certificateNames(pemToDer(pki.clientEmail.certPem));
    assertEquals(goSubjectString(n.subject), "CN=carol,O=Acme\\, Inc.");
  });
});

/** [certificate, user name, expected match (via) or null]. */
const TABLE: [keyof Awaited<ReturnType<typeof testPki>>, string, string | null][] = [
  ["client", "alice@example.com", "email"],
  ["client", "alice.example.com", "dns"],
  ["client", "nats://alice", "uri"],
  ["client", "CN=alice,OU=NATS.io,O=Synadia,C=US", "dn"],
  ["client", "C=US,O=Synadia,OU=NATS.io,CN=alice", "dn"],
  ["client", "cn=alice, ou=NATS.io, o=Synadia, c=US", "dn"],
  ["client", "CN=alice", null],
  ["client", "alice", null],
  ["clientDn", "CN=example.com,OU=NATS.io", "dn"],
  ["clientDn", "OU=NATS.io,CN=example.com", "dn"],
  ["clientDn", "CN=example.com", null],
  ["clientDc", "CN=bob,DC=nats,DC=org", "dn"],
  ["clientDc", "CN=bob,DC=org,DC=nats", "dn"],
  ["clientDc", "CN=bob", "subject"],
  ["clientEmail", "CN=carol,O=Acme\\, Inc.", "subject"],
  ["clientEmail", "CN=carol", null],
];

Deno.test("tls_map: matching order of checkClientTLSCertSubject", async (t) => {
  if (!haveOpenssl()) return;
  const pki = await testPki();
  for (const [cert, user, via] of TABLE) {
    await t.step(`${cert} as ${JSON.stringify(user)}`, () => {
      const pair = pki[cert] as { certPem: string };
      const m = mapCertificateToUser(pemToDer(pair.certPem), [user]);
      assertEquals(m === null ? null : m.via, via);
      if (m) assertEquals(m.user, user);
    });
  }
  await t.step("emails win over the DN, in config order otherwise", () => {
    const der = pemToDer(pki.client.certPem);
    const m = mapCertificateToUser(der, ["CN=alice,OU=NATS.io,O=Synadia,C=US", "nats://alice"]);
    assertEquals(m, { user: "nats://alice", via: "uri" });
  });
  await t.step("garbage DER maps to nobody", () => {
    assertEquals(mapCertificateToUser(new Uint8Array([1, 2, 3]), ["x"]), null);
  });
});

Deno.test("tls_map: ldap DN parsing quirks", () => {
  assertEquals(parseDn("CN=a\\,b, OU=x"), [[["CN", "a,b"]], [["OU", "x"]]]);
  assertEquals(parseDn("CN=a+OU=b,O=c"), [[["CN", "a"], ["OU", "b"]], [["O", "c"]]]);
  assertEquals(parseDn("CN=\\41\\42"), [[["CN", "AB"]]]);
  assertEquals(parseDn("CN=trailing  "), [[["CN", "trailing"]]]);
  assertEquals(parseDn("CN=escaped\\ "), [[["CN", "escaped "]]]);
  assertEquals(parseDn("alice"), null);
  assertEquals(parseDn("CN=#0101"), null);
  assertEquals(parseDn("=x"), null);
  const a = parseDn("CN=a,OU=b")!;
  const b = parseDn("ou=b,cn=a")!;
  assert(!dnEqual(a, b));
  assert(dnRdnsMatch(a, b));
  assert(dnEqual(parseDn("CN=a+OU=b")!, parseDn("OU=b+cn=a")!));
  assert(!dnEqual(parseDn("CN=A")!, parseDn("CN=a")!), "values are case-sensitive");
});

Deno.test("tls_map: a certificate with nothing to map", () => {
  const empty = { subject: [], emails: [], dnsNames: ["only.dns"], uris: [] };
  assertEquals(mapCertificateNames(empty, ["only.dns"]), null);
});
