/**
 * Connection kinds, as named by `allowed_connection_types` in nats-server 2.9.10.
 *
 * @module
 */

/** One connection kind (e.g. `"STANDARD"` for a plain NATS client over TCP/TLS). */
export type ConnectionKind =
  | "STANDARD"
  | "WEBSOCKET"
  | "LEAFNODE"
  | "LEAFNODE_WS"
  | "MQTT"
  | "MQTT_WS";

/** Every connection kind the reference knows, in its order. */
export const CONNECTION_KINDS: readonly ConnectionKind[] = [
  "STANDARD",
  "WEBSOCKET",
  "LEAFNODE",
  "LEAFNODE_WS",
  "MQTT",
  "MQTT_WS",
];

const KNOWN: ReadonlySet<string> = new Set(CONNECTION_KINDS);

/** Whether `s` names a connection kind (exact, upper case, as the reference compares). */
export function isConnectionKind(s: string): s is ConnectionKind {
  return KNOWN.has(s);
}

/**
 * The kind of the connection a message came from, in the reference's terms (`client.kind`):
 * a client, a route, a leafnode, or the server itself.
 */
export type ConnKind = "CLIENT" | "ROUTER" | "LEAF" | "SYSTEM";
