// A tiny NATS client for browsers over WebSocket: CONNECT, PING/PONG, SUB, UNSUB, PUB and MSG,
// in about 100 lines, no dependencies and no build step. Enough for a quick start; for real
// applications use the official client (npm: @nats-io/nats-core, `wsconnect`).
//
// A classic script (not a module) so the page also works opened straight from disk (file://):
//   <script src="nats-ws.js"></script>  defines  globalThis.NatsWs
//
//   const nc = await NatsWs.connect("ws://localhost:8080");
//   nc.subscribe("demo.>", (subject, text) => console.log(subject, text));
//   nc.publish("demo.hello", "hi");

(() => {
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const CRLF = [13, 10];

  function indexOfCrlf(buf, from) {
    for (let i = from; i + 1 < buf.length; i++) {
      if (buf[i] === CRLF[0] && buf[i + 1] === CRLF[1]) return i;
    }
    return -1;
  }

  class NatsWs {
    /** Opens the WebSocket, sends CONNECT and resolves after the server's first PONG. */
    static connect(url, { user, pass, token, name = "browser example" } = {}) {
      const nc = new NatsWs(new WebSocket(url));
      return new Promise((resolve, reject) => {
        nc.ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
        nc.onError = (text) => reject(new Error(text));
        nc.ws.onopen = () => {
          const opts = {
            verbose: false,
            pedantic: false,
            lang: "js-example",
            version: "1",
            protocol: 1,
          };
          Object.assign(opts, { name, user, pass, auth_token: token });
          nc.send(`CONNECT ${JSON.stringify(opts)}\r\nPING\r\n`);
          nc.pongs.push(() => {
            nc.onError = (text) => console.error("nats:", text);
            resolve(nc);
          });
        };
      });
    }

    constructor(ws) {
      this.ws = ws;
      this.ws.binaryType = "arraybuffer";
      this.buf = new Uint8Array(0);
      this.subs = new Map();
      this.nextSid = 1;
      this.pongs = [];
      this.onClose = () => {};
      this.ws.onmessage = (e) => this.receive(new Uint8Array(e.data));
      this.ws.onclose = () => this.onClose();
    }

    send(text) {
      this.ws.send(enc.encode(text));
    }

    /** Calls `callback(subject, text, reply)` for each message on `subject` (wildcards allowed). */
    subscribe(subject, callback) {
      const sid = String(this.nextSid++);
      this.subs.set(sid, callback);
      this.send(`SUB ${subject} ${sid}\r\n`);
      return { unsubscribe: () => (this.subs.delete(sid), this.send(`UNSUB ${sid}\r\n`)) };
    }

    publish(subject, text, reply = "") {
      const payload = enc.encode(text);
      const head = enc.encode(`PUB ${subject}${reply ? " " + reply : ""} ${payload.length}\r\n`);
      const frame = new Uint8Array(head.length + payload.length + 2);
      frame.set(head);
      frame.set(payload, head.length);
      frame.set(CRLF, head.length + payload.length);
      this.ws.send(frame);
    }

    /** Resolves when the server has processed everything sent before (a PING/PONG round trip). */
    flush() {
      return new Promise((resolve) => {
        this.pongs.push(resolve);
        this.send("PING\r\n");
      });
    }

    close() {
      this.ws.close();
    }

    receive(chunk) {
      const all = new Uint8Array(this.buf.length + chunk.length);
      all.set(this.buf);
      all.set(chunk, this.buf.length);
      let pos = 0;
      for (;;) {
        const eol = indexOfCrlf(all, pos);
        if (eol < 0) break;
        const line = dec.decode(all.subarray(pos, eol));
        const [op, ...args] = line.split(" ");
        if (op === "MSG") {
          // MSG <subject> <sid> [reply] <size>
          const size = Number(args.at(-1));
          if (all.length < eol + 2 + size + 2) break; // payload not all here yet
          const text = dec.decode(all.subarray(eol + 2, eol + 2 + size));
          this.subs.get(args[1])?.(args[0], text, args.length === 4 ? args[2] : "");
          pos = eol + 2 + size + 2;
          continue;
        }
        if (op === "PING") this.send("PONG\r\n");
        else if (op === "PONG") this.pongs.shift()?.();
        else if (op === "-ERR") this.onError(line.slice(5));
        pos = eol + 2;
      }
      this.buf = all.slice(pos);
    }
  }

  globalThis.NatsWs = NatsWs;
})();
