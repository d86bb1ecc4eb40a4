/**
 * Wire behaviour around CONNECT, each case against this server and nats-server 2.9.10 in the
 * same run: before CONNECT a client is verbose and pedantic (`+OK` for PUB/SUB/UNSUB, `-ERR` for
 * a wildcard publish subject); the CONNECT JSON is decoded as Go's `encoding/json` does (keys
 * folded with Unicode simple folding, a later key wins, strict types: `"protocol": 1.0` closes);
 * a CR in a control line drops the byte before the LF (`UNSUB 0 4\r*` is `UNSUB 0 4`).
 */
import { assertEquals } from "../helpers/assert.ts";
import { transcript } from "../helpers/raw.ts";
import { withEachServer } from "../helpers/each_server.ts";

/** [what is sent (a PING follows), what comes back, whether the server closes]. */
type Case = [string, string, boolean];

const PONG = "PONG\r\n";
const OK = "+OK\r\n";
const QUIET = 'CONNECT {"verbose":false}\r\n';

const CASES: Case[] = [
  // Before CONNECT: verbose and pedantic.
  [
    "SUB foo 1\r\nPUB foo 2\r\nhi\r\nPUB > 2\r\nhi\r\nPUB foo.* 1\r\nx\r\nUNSUB 1\r\nSUB foo.> bar 2\r\nSUB a..b 3\r\n",
    `${OK}${OK}MSG foo 1 2\r\nhi\r\n-ERR 'Invalid Publish Subject'\r\n${OK}` +
    `-ERR 'Invalid Publish Subject'\r\n${OK}${OK}${OK}-ERR 'Invalid Subject'\r\n${PONG}`,
    false,
  ],
  // A CR anywhere in the line drops the byte before the LF.
  ["SUB foo 1\r\nUNSUB 0 4\r*\n", `${OK}${OK}${PONG}`, false],
  [`${QUIET}UNSUB 0 4\r*\n`, PONG, false],
  // ...and in PUB the size token then keeps its CR: a parse error.
  [`${QUIET}SUB x 1\r*\nPUB x 2\r*\nhi\r\n`, "", true],
  // Types as encoding/json decodes them into ClientOpts.
  ['CONNECT {"protocol": 1.0}\r\n', "", true],
  ['CONNECT {"verbose":false,"protocol":1e0}\r\n', "", true],
  ['CONNECT {"protocol": 1}\r\n', `${OK}${PONG}`, false],
  ['CONNECT {"verbose":false,"protocol":"1"}\r\n', "", true],
  ['CONNECT {"verbose":false,"protocol":-1}\r\n', "-ERR 'invalid client protocol'\r\n", true],
  ['CONNECT {"verbose":false,"protocol":2}\r\n', "-ERR 'invalid client protocol'\r\n", true],
  ['CONNECT {"verbose":"true"}\r\n', "", true],
  ['CONNECT {"verbose":1}\r\n', "", true],
  ['CONNECT {"verbose":false,"name":5}\r\n', "", true],
  ['CONNECT {"echo":null,"verbose":false}\r\n', PONG, false],
  ['CONNECT {"verbose":false,"import":5}\r\n', "", true],
  ['CONNECT {"verbose":false,"export":{"allow":"x"}}\r\n', "", true],
  ['CONNECT {"verbose":false,"export":{"Allow":["x"],"other":1}}\r\n', PONG, false],
  // Keys: case-insensitive with Unicode simple folding; later members win.
  ['CONNECT {"uſer":"a","verbose":false}\r\n', PONG, false],
  ['CONNECT {"VERBOSE":true}\r\n', `${OK}${PONG}`, false],
  ['CONNECT {"Verbose":true,"verbose":false}\r\n', PONG, false],
  ['CONNECT {"verbose":false,"Verbose":true}\r\n', `${OK}${PONG}`, false],
  ['CONNECT {"verbose":false,"\\u0076erbose":true}\r\n', `${OK}${PONG}`, false],
  ['CONNECT {"ver\u212Aose":true}\r\n', `${OK}${PONG}`, false],
  ['CONNECT {"ver\u212Aose":false,"verbo\u017Fe":true}\r\n', `${OK}${PONG}`, false],
  ['CONNECT {"verbose":false,"ſ":1}\r\n', PONG, false],
  // Not JSON, or not an object.
  ['CONNECT {"verbose":false} x\r\n', "", true],
  ['CONNECT {"verbose":false,}\r\n', "", true],
  ["CONNECT [1]\r\n", "", true],
  ["CONNECT null\r\n", `${OK}${PONG}`, false],
  // Pedantic after CONNECT.
  [
    'CONNECT {"verbose":false,"pedantic":true}\r\nPUB > 1\r\nx\r\n',
    "-ERR 'Invalid Publish Subject'\r\n" + PONG,
    false,
  ],
];

Deno.test("CONNECT and the state before it: transcripts as nats-server", async () => {
  await withEachServer("", async (name, port) => {
    for (const [send, text, closed] of CASES) {
      const r = await transcript(port, [send], closed ? "close" : "pong", 3000);
      assertEquals(
        { text: r.text, closed: r.closed },
        { text, closed },
        `${name}: ${JSON.stringify(send)}`,
      );
    }
  });
});
