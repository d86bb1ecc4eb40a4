/** A bcrypt hash for test configs, made with npm:bcryptjs (cost 4: fast, still bcrypt). */
import bcrypt from "bcryptjs";

/** `$2a$04$...` for `password`. */
export function bcryptHash(password: string): Promise<string> {
  return bcrypt.hash(password, 4);
}
