/**
 * Header-block editing for messages that cross a service import (nats-server 2.9.10
 * `client.go` setHeader, getHeader, removeHeaderIfPresent).
 *
 * @module
 */
const encoder = new TextEncoder();

const HDR_LINE = encoder.encode("NATS/1.0\r\n");
const EMPTY_HDR_LEN = "NATS/1.0\r\n\r\n".length;

function indexOf(hay: Uint8Array, needle: Uint8Array, from = 0): number {
  outer: for (let i = from; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

const CRLF = encoder.encode("\r\n");

/** Go's removeHeaderIfPresent (first occurrence only, as the reference). */
function removeHeaderIfPresent(hdr: Uint8Array, key: Uint8Array): Uint8Array | null {
  const start = indexOf(hdr, key);
  if (start < 1 || hdr[start - 1] !== 10) return hdr;
  const index = start + key.length;
  if (index >= hdr.length || hdr[index] !== 58) return hdr;
  const end = indexOf(hdr, CRLF, start);
  if (end < 0) return hdr;
  const out = new Uint8Array(hdr.length - (end + 2 - start));
  out.set(hdr.subarray(0, start));
  out.set(hdr.subarray(end + 2), start);
  return out.length <= EMPTY_HDR_LEN ? null : out;
}

/** Go's getHeader: the value of `key` in a header block, or null. */
export function getHeader(key: string, hdr: Uint8Array): string | null {
  const k = encoder.encode(key);
  let index = indexOf(hdr, k);
  if (index < 2 || hdr[index - 1] !== 10 || hdr[index - 2] !== 13) return null;
  index += k.length;
  if (index >= hdr.length || hdr[index] !== 58) return null;
  index++;
  while (index < hdr.length && hdr[index] === 32) index++;
  let end = index;
  while (end < hdr.length && !(hdr[end] === 13 && hdr[end + 1] === 10)) end++;
  return new TextDecoder().decode(hdr.subarray(index, end));
}

/**
 * Go's client.setHeader: replaces `key` in the message's header block (adding one when there
 * is none). Returns the new message and header length.
 */
export function setHeader(
  key: string,
  value: string,
  msg: Uint8Array,
  hdrLen: number,
): { msg: Uint8Array; hdrLen: number } {
  let base: Uint8Array = HDR_LINE;
  let omi = 0;
  if (hdrLen > 2) {
    omi = hdrLen;
    const h = removeHeaderIfPresent(msg.subarray(0, hdrLen - 2), encoder.encode(key));
    if (h !== null && h.length > 0) base = h;
  }
  const line = encoder.encode(`${key}: ${value.replace(/[\r\n]/g, " ")}\r\n\r\n`);
  const rest = msg.subarray(omi);
  const out = new Uint8Array(base.length + line.length + rest.length);
  out.set(base);
  out.set(line, base.length);
  out.set(rest, base.length + line.length);
  return { msg: out, hdrLen: base.length + line.length };
}
