/**
 * Subscription ids and subjects in MSG lines, against this server and nats-server in the same
 * run: an ASCII sid is written from its characters, any other from its bytes; subjects and sids
 * longer than 12 characters (decoded on another path) come back unchanged.
 */
import { assertEquals } from "../helpers/assert.ts";
import { transcript } from "../helpers/raw.ts";
import { withEachServer } from "../helpers/each_server.ts";

Deno.test("MSG lines carry the SUB's sid and subject byte for byte", async () => {
  const send = 'CONNECT {"verbose":false}\r\n' +
    "SUB a.long.subject.name ü1\r\nSUB b sid-longer-than-twelve\r\nSUB c 7\r\n" +
    "PUB a.long.subject.name 2\r\nhi\r\nPUB b 2\r\nhi\r\nPUB c 0\r\n\r\n";
  const want = "MSG a.long.subject.name ü1 2\r\nhi\r\n" +
    "MSG b sid-longer-than-twelve 2\r\nhi\r\nMSG c 7 0\r\n\r\nPONG\r\n";
  await withEachServer("", async (name, port) => {
    const r = await transcript(port, [send], "pong", 3000);
    assertEquals(r.text, want, name);
  });
});
