/**
 * The one import/export authorisation check (nats-server 2.9.10 `accounts.go`
 * checkStreamExportApproved / checkServiceExportApproved), used by the config checks at load
 * time and by the account registry when an import is added.
 *
 * @module
 */

/** Who may import an export: the approved account names, or null/undefined for everyone. */
export type ExportApproval = ReadonlySet<string> | readonly string[] | null | undefined;

/** The subject rules the check applies (the one subject module's functions). */
export interface SubjectRules {
  /** Whether `subject` is a valid subject (wildcards allowed). */
  isValidSubject(subject: string): boolean;
  /** Whether every subject matched by `subject` is matched by `pattern`. */
  subjectIsSubsetOf(subject: string, pattern: string): boolean;
}

/**
 * Whether `importer` may import `subject` from an account whose exports of one kind (streams
 * or services) are `exports` (exported subject → approval, in definition order). An exact
 * export decides first, then the first wildcard export covering `subject`.
 *
 * @example
 * ```ts
 * const rules = { isValidSubject: (s: string) => s !== "", subjectIsSubsetOf: () => true };
 * const exports = new Map([["svc.>", ["B"]]]);
 * importAuthorized(exports, "B", "svc.time", rules); // true
 * importAuthorized(exports, "C", "svc.time", rules); // false
 * ```
 */
export function importAuthorized(
  exports: ReadonlyMap<string, ExportApproval>,
  importer: string,
  subject: string,
  rules: SubjectRules,
): boolean {
  if (exports.size === 0 || !rules.isValidSubject(subject)) return false;
  if (exports.has(subject)) return approves(exports.get(subject), importer);
  for (const [exported, approval] of exports) {
    if (rules.subjectIsSubsetOf(subject, exported)) return approves(approval, importer);
  }
  return false;
}

function approves(approval: ExportApproval, importer: string): boolean {
  if (approval === null || approval === undefined) return true;
  return "has" in approval ? approval.has(importer) : approval.includes(importer);
}
