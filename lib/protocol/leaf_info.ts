/**
 * The leafnode INFO and CONNECT JSON of nats-server 2.9.10: field names, order and omitempty
 * rules (`Info` in server.go, `leafConnectInfo` in leafnode.go).
 *
 * @module
 */

/** The CONNECT a soliciting server sends (`leafConnectInfo`). */
export interface LeafConnectInfo {
  version?: string;
  jwt?: string;
  sig?: string;
  user?: string;
  pass?: string;
  tls_required: boolean;
  compression?: boolean;
  server_id?: string;
  domain?: string;
  name?: string;
  is_hub?: boolean;
  cluster?: string;
  headers?: boolean;
  jetstream?: boolean;
  deny_pub?: string[];
  /** Set by gateways that dial the leafnode port by mistake. */
  gateway?: string;
  /** Set by clients that dial the leafnode port by mistake (leafnodes never send it). */
  lang?: string;
  /** Client CONNECT fields (a client on the websocket /leafnode path, say). */
  auth_token?: string;
  nkey?: string;
}

/** Encodes a leaf CONNECT line with the reference's field order and omitempty rules. */
export function leafConnectLine(c: LeafConnectInfo): string {
  const o: Record<string, unknown> = {};
  const put = (k: keyof LeafConnectInfo, always = false) => {
    const v = c[k];
    if (
      always || (v !== undefined && v !== "" && v !== false && !(Array.isArray(v) && !v.length))
    ) {
      o[k] = v ?? false;
    }
  };
  put("version");
  put("jwt");
  put("sig");
  put("user");
  put("pass");
  put("tls_required", true);
  put("compression");
  put("server_id");
  put("domain");
  put("name");
  put("is_hub");
  put("cluster");
  put("headers");
  put("jetstream");
  put("deny_pub");
  return `CONNECT ${JSON.stringify(o)}\r\n`;
}

/** Parses a CONNECT argument as a leaf CONNECT; throws on bad JSON. */
export function parseLeafConnect(text: string): LeafConnectInfo {
  const v = JSON.parse(text);
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new Error("not an object");
  return { ...v, tls_required: !!v.tls_required };
}

/** The fields of a leafnode INFO this server reads. */
export interface LeafInfo {
  server_id?: string;
  server_name?: string;
  version?: string;
  headers?: boolean;
  auth_required?: boolean;
  tls_required?: boolean;
  max_payload?: number;
  client_id?: number;
  nonce?: string;
  cluster?: string;
  info_on_connect?: boolean;
  connect_info?: boolean;
  leafnode_urls?: string[];
  ws_connect_urls?: string[];
  remote_account?: string;
}

/** Parses an INFO argument; throws on bad JSON. */
export function parseLeafInfo(text: string): LeafInfo {
  const v = JSON.parse(text);
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new Error("not an object");
  return v as LeafInfo;
}
