/** The config `deno task start` runs with when no `-c` is given: nats-server's defaults. */
export const DEFAULT_CONFIG = `# Embedded default configuration (nats-server defaults).
listen: 0.0.0.0:4222
max_payload: 1MB
`;
