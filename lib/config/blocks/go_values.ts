/** Go renderings of config values (`%T`, `%v`, `%q`) as the reference prints them in errors. */
import { goFloat, goQuote, goTime } from "../../core/gofmt.ts";
import type { ConfigNode } from "../parser.ts";

/** `%T` of a config value in the reference. */
export function goType(n: ConfigNode): string {
  switch (n.kind) {
    case "string":
      return "string";
    case "int":
      return "int64";
    case "float":
      return "float64";
    case "bool":
      return "bool";
    case "date":
      return "time.Time";
    case "array":
      return "[]interface {}";
    case "map":
      return "map[string]interface {}";
  }
}

/** `%v` of a config value (nested values are shown by value, the reference shows pointers). */
export function goValue(n: ConfigNode): string {
  switch (n.kind) {
    case "string":
      return n.value;
    case "int":
      return n.value.toString();
    case "float":
      return goFloat(n.value);
    case "bool":
      return String(n.value);
    case "date":
      return goTime(n.value);
    case "array":
      return "[" + n.value.map(goValue).join(" ") + "]";
    case "map":
      return "map[" +
        [...n.value.entries()].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
          .map(([k, v]) => `${k}:${goValue(v)}`).join(" ") +
        "]";
  }
}

/** Go's `%q` of a config value (strings and times quoted, integers as rune literals). */
export function goPercentQ(n: ConfigNode): string {
  switch (n.kind) {
    case "string":
      return goQuote(n.value);
    case "date":
      return goQuote(goTime(n.value));
    case "int": {
      const v = n.value;
      if (v < 0n || v > 0x10ffffn || (v >= 0xd800n && v <= 0xdfffn)) return `'\ufffd'`;
      const q = goQuote(String.fromCodePoint(Number(v)));
      const inner = q.slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'");
      return `'${inner}'`;
    }
    case "bool":
      return `%!q(bool=${n.value})`;
    case "float":
      return `%!q(float64=${goFloat(n.value)})`;
    default:
      return goValue(n);
  }
}
