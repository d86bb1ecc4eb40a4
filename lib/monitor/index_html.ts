/**
 * The monitoring root page: the version and a link per endpoint, relative to the base path as
 * the reference writes them (`href=./varz`, or `href=./base/varz` under `http_base_path`).
 *
 * @module
 */

/** Link text and endpoint path, in the reference's order. */
const LINKS: [string, string][] = [
  ["General", "/varz"],
  ["JetStream", "/jsz"],
  ["Connections", "/connz"],
  ["Accounts", "/accountz"],
  ["Subscriptions", "/subsz"],
  ["Routes", "/routez"],
  ["LeafNodes", "/leafz"],
  ["Gateways", "/gatewayz"],
  ["Health Probe", "/healthz"],
];

/** The page; `path` maps an endpoint to its served path (base path joined). */
export function indexHtml(version: string, path: (p: string) => string): string {
  const links = LINKS.map(([text, p], i) =>
    `    <a href=.${path(p)}${i === LINKS.length - 1 ? " class=last" : ""}>${text}</a>`
  ).join("\n");
  return `<html lang="en">
  <head>
    <title>NATS Server monitoring</title>
    <style type="text/css">
      body { font-family: ui-sans-serif, system-ui, sans-serif; font-size: 18px; margin-left: 32px }
      a { display: block; margin-left: 7px; padding-bottom: 6px; color: rgb(72 72 92); text-decoration: none }
      a:hover { font-weight: 600; color: rgb(59 50 202) }
      a.last { padding-bottom: 16px }
      a.help { display: inline; font-weight: 600; color: rgb(59 50 202) }
      .version { font-size: 14px; color: rgb(72 72 92) }
    </style>
  </head>
  <body>
    <h1>NATS</h1>
    <div class="version">v${version} (natsd, Deno)</div>
    <br/>
${links}
    <a href=https://docs.nats.io/running-a-nats-service/nats_admin/monitoring class="help">Help</a>
  </body>
</html>`;
}
