/** A configuration error or warning with the position it refers to. */
export class ConfigError extends Error {
  /** File the error refers to (as given / as joined for includes, like the reference). */
  readonly file: string;
  /** 1-based line. */
  readonly line: number;
  /**
   * Column as nats-server 2.9.10 reports it: a byte offset counted from the newline that ends
   * the previous line, so it is 0-based on line 1 and 1-based on later lines.
   */
  readonly col: number;
  /**
   * Whether nats-server prints this error with its `file:line:col: ` prefix. Parse errors,
   * variable/include errors and a few option errors are printed bare by the reference (their
   * message often carries the line itself); `formatConfigError` reproduces that.
   */
  readonly showPosition: boolean;

  constructor(file: string, line: number, col: number, message: string, showPosition = true) {
    super(message);
    this.name = "ConfigError";
    this.file = file;
    this.line = line;
    this.col = col;
    this.showPosition = showPosition;
  }

  /** `file:line:col: message`. */
  override toString(): string {
    return `${this.file}:${this.line}:${this.col}: ${this.message}`;
  }
}

/** The line nats-server 2.9.10 prints for this error (without the leading `nats-server: `). */
export function formatConfigError(e: ConfigError): string {
  return e.showPosition ? e.toString() : e.message;
}
