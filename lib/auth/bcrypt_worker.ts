/**
 * Worker entry point for bcrypt verification (started by `bcrypt_pool.ts`).
 * Request: `{ id, hash, password }`; reply: `{ id, ok }` (or `{ id, error }`).
 *
 * @module
 */
import { bcryptVerifySync } from "./bcrypt.ts";

interface Request {
  id: number;
  hash: string;
  password: string;
}

// deno-lint-ignore no-explicit-any
const scope = self as any;

scope.onmessage = (e: MessageEvent<Request>) => {
  const { id, hash, password } = e.data;
  try {
    scope.postMessage({ id, ok: bcryptVerifySync(hash, password) });
  } catch (err) {
    scope.postMessage({ id, error: String(err) });
  }
};
