import assert from "node:assert/strict";
import {
  cidrContains,
  ipInCidrs,
  parseCidr,
  parseIp,
  parseTrustedProxies,
  peerIp,
} from "../../../lib/transport/ws/mod.ts";

const IP_CASES: [string, number[] | null][] = [
  ["127.0.0.1", [127, 0, 0, 1]],
  ["255.255.255.255", [255, 255, 255, 255]],
  ["0.0.0.0", [0, 0, 0, 0]],
  ["256.0.0.1", null],
  ["1.2.3", null],
  ["1.2.3.4.5", null],
  ["01.2.3.4", null], // leading zeros rejected (Go >= 1.17)
  ["1.2.3.4 ", null],
  [" 1.2.3.4", null],
  ["1.2.3.4, 5.6.7.8", null],
  ["not a valid IP", null],
  ["", null],
  ["::", new Array(16).fill(0)],
  ["::1", [...new Array(15).fill(0), 1]],
  ["2001:db8::8a2e:370:7334", [
    0x20,
    0x01,
    0x0d,
    0xb8,
    0,
    0,
    0,
    0,
    0,
    0,
    0x8a,
    0x2e,
    0x03,
    0x70,
    0x73,
    0x34,
  ]],
  ["::ffff:1.2.3.4", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4]],
  ["1:2:3:4:5:6:7:8", [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]],
  ["1:2:3:4:5:6:7::", [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0]],
  ["1:2:3:4:5:6:7:8:9", null],
  ["1:2:3:4:5:6:7:8::", null],
  ["1::2::3", null],
  ["1:", null],
  [":1", null],
  ["12345::", null],
  ["fe80::1%eth0", null],
  ["[::1]", null],
  ["1.2.3.4:80", null],
];

for (const [text, want] of IP_CASES) {
  Deno.test(`ws cidr: parseIp ${JSON.stringify(text)}`, () => {
    const got = parseIp(text);
    assert.deepEqual(got === null ? null : [...got], want);
  });
}

Deno.test("ws cidr: parseCidr masks and normalises", () => {
  const c = parseCidr("10.1.2.3/8")!;
  assert.deepEqual([...c.bytes], [10, 0, 0, 0]);
  assert.equal(c.bits, 8);
  const h = parseCidr("192.168.1.7")!;
  assert.equal(h.bits, 32);
  const v6 = parseCidr("2001:db8::/32")!;
  assert.equal(v6.bytes.length, 16);
  assert.equal(v6.bits, 32);
  const mapped = parseCidr("::ffff:10.0.0.0/104")!;
  assert.deepEqual([...mapped.bytes], [10, 0, 0, 0]);
  assert.equal(mapped.bits, 8);
  assert.equal(parseCidr("10.0.0.0/33"), null);
  assert.equal(parseCidr("::/129"), null);
  assert.equal(parseCidr("10.0.0.0/"), null);
  assert.equal(parseCidr("10.0.0.0/-1"), null);
  assert.equal(parseCidr("nope/8"), null);
});

Deno.test("ws cidr: parseTrustedProxies error text", () => {
  assert.deepEqual(parseTrustedProxies(["10.0.0.0/8", "bad"]), {
    ok: false,
    error: "invalid CIDR address: bad",
  });
  const r = parseTrustedProxies(["10.0.0.0/8", "::1"]);
  assert.ok(r.ok);
  assert.equal(r.cidrs.length, 2);
});

const CONTAINS: [string, string, boolean][] = [
  ["10.0.0.0/8", "10.255.1.2", true],
  ["10.0.0.0/8", "11.0.0.1", false],
  ["10.0.0.0/8", "::ffff:10.1.1.1", true], // IPv4-mapped peer
  ["10.0.0.0/8", "[::ffff:10.1.1.1]", true],
  ["192.168.1.0/25", "192.168.1.127", true],
  ["192.168.1.0/25", "192.168.1.128", false],
  ["127.0.0.1", "127.0.0.1", true],
  ["127.0.0.1", "127.0.0.2", false],
  ["0.0.0.0/0", "8.8.8.8", true],
  ["0.0.0.0/0", "::1", false], // families never mix
  ["::/0", "::1", true],
  ["::/0", "1.2.3.4", false],
  ["::1/128", "::1", true],
  ["::1", "::2", false],
  ["fd00::/8", "fd12:3456::1", true],
  ["fd00::/8", "fe80::1", false],
  ["fe80::/10", "fe80::1%eth0", true], // zone stripped
  ["2001:db8::/33", "2001:db8:7fff::1", true],
  ["2001:db8::/33", "2001:db8:8000::1", false],
  ["::ffff:10.0.0.0/104", "10.9.9.9", true],
  ["10.0.0.0/8", "garbage", false],
];

for (const [cidr, ip, want] of CONTAINS) {
  Deno.test(`ws cidr: ${cidr} contains ${ip} = ${want}`, () => {
    const c = parseCidr(cidr);
    assert.ok(c);
    assert.equal(cidrContains(c, ip), want);
  });
}

Deno.test("ws cidr: ipInCidrs", () => {
  const r = parseTrustedProxies(["10.0.0.0/8", "fd00::/8"]);
  assert.ok(r.ok);
  assert.equal(ipInCidrs("10.0.0.1", r.cidrs), true);
  assert.equal(ipInCidrs("fd00::5", r.cidrs), true);
  assert.equal(ipInCidrs("127.0.0.1", r.cidrs), false);
  assert.equal(ipInCidrs("10.0.0.1", []), false);
  assert.deepEqual([...peerIp("::ffff:127.0.0.1")!], [127, 0, 0, 1]);
  assert.equal(peerIp("localhost"), null);
});
