/** The bit-packing loop shared by the base32 (NKEY), base64 and bcrypt-base64 decoders. */

/**
 * Decodes `text[0, end)` where each character carries `bitsPerChar` bits, looked up in `rev`
 * (char code → value, -1 = not in the alphabet). Produces `outLen` bytes; trailing bits are
 * ignored. Returns null on a character outside the alphabet or too few characters.
 */
export function decodeBits(
  text: string,
  end: number,
  rev: ArrayLike<number>,
  bitsPerChar: number,
  outLen: number,
): Uint8Array | null {
  const out = new Uint8Array(outLen);
  let buf = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? rev[c] : -1;
    if (v < 0) return null;
    buf = ((buf << bitsPerChar) | v) & 0xffff;
    bits += bitsPerChar;
    if (bits >= 8) {
      bits -= 8;
      if (o < outLen) out[o++] = (buf >>> bits) & 0xff;
    }
  }
  return o === outLen ? out : null;
}
