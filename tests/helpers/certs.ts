/**
 * Test PKI generated with `openssl` once per test process in a temp dir: a CA, a server cert for
 * 127.0.0.1/localhost, v3 client certs (good, second user, rogue CA, expired, serverAuth-only),
 * a v1 client cert (no extensions, rejected by rustls/webpki) and an intermediate chain.
 *
 * EC P-256 keys keep generation fast. Every openssl call is bounded by a timeout. Tests that need
 * certificates call {@link haveOpenssl} first and skip with a printed reason when it is absent.
 *
 * @module
 */

/** PEM material of one certificate and its key. */
export interface CertPair {
  certPem: string;
  keyPem: string;
  certFile: string;
  keyFile: string;
}

/** DER of the first certificate in a PEM text. */
export function pemToDer(pem: string): Uint8Array {
  const m = /-----BEGIN CERTIFICATE-----([^-]+)-----END CERTIFICATE-----/.exec(pem);
  if (!m) throw new Error("no certificate in PEM");
  const b64 = m[1].replace(/\s+/g, "");
  return Uint8Array.fromBase64(b64);
}

/** Everything the TLS tests use. */
export interface TestPki {
  dir: string;
  ca: CertPair;
  /** Second, unrelated CA. */
  rogueCa: CertPair;
  /** SAN IP:127.0.0.1, DNS:localhost; EKU serverAuth. */
  server: CertPair;
  /**
   * v3, EKU clientAuth, subject `/C=US/O=Synadia/OU=NATS.io/CN=alice`,
   * SAN email:alice@example.com, DNS:alice.example.com, URI:nats://alice.
   */
  client: CertPair;
  /** v3 client cert without SANs, subject `/OU=NATS.io/CN=example.com`. */
  clientDn: CertPair;
  /** v3 client cert with domain components: `/DC=org/DC=nats/CN=bob`. */
  clientDc: CertPair;
  /** v3 client cert whose subject has an emailAddress and a comma: `/O=Acme, Inc./CN=carol/emailAddress=…`. */
  clientEmail: CertPair;
  /** Signed by the rogue CA. */
  rogue: CertPair;
  /** Signed by the CA, validity in 2020 (expired). */
  expired: CertPair;
  /** Signed by the CA, no extensions at all (X.509 v1). */
  v1: CertPair;
  /** v3, EKU serverAuth only. */
  serverAuthOnly: CertPair;
}

const OPENSSL_TIMEOUT_MS = 20_000;
let cached: Promise<TestPki> | undefined;
let haveIt: boolean | undefined;
let nextSerial = 0x2000;

/** Whether `openssl` can be run here (prints a reason when not). */
export function haveOpenssl(): boolean {
  if (haveIt !== undefined) return haveIt;
  try {
    haveIt = new Deno.Command("openssl", { args: ["version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    haveIt = false;
  }
  if (!haveIt) console.log("openssl not on PATH: TLS tests are skipped");
  return haveIt;
}

async function openssl(dir: string, args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", {
    args,
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(OPENSSL_TIMEOUT_MS),
  }).output();
  if (!out.success) {
    throw new Error(
      `openssl ${args.join(" ")} failed:\n${new TextDecoder().decode(out.stderr)}`,
    );
  }
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

async function pair(dir: string, name: string): Promise<CertPair> {
  const certFile = `${dir}/${name}.pem`;
  const keyFile = `${dir}/${name}-key.pem`;
  return {
    certFile,
    keyFile,
    certPem: await Deno.readTextFile(certFile),
    keyPem: await Deno.readTextFile(keyFile),
  };
}

async function makeCa(dir: string, name: string, cn: string): Promise<CertPair> {
  await openssl(dir, [
    "req",
    "-x509",
    ...EC,
    "-keyout",
    `${name}-key.pem`,
    "-out",
    `${name}.pem`,
    "-days",
    "3650",
    "-subj",
    `/CN=${cn}`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  return pair(dir, name);
}

/** A key and a certificate signing request (`<name>-key.pem`, `<name>.csr`). */
function makeCsr(dir: string, name: string, subj: string): Promise<void> {
  const args = ["req", "-new", ...EC, "-keyout", `${name}-key.pem`, "-out", `${name}.csr`];
  return openssl(dir, [...args, "-subj", subj]);
}

/** CSR + signature by `ca`; `ext` = extension lines (none → a v1 certificate). */
async function makeLeaf(
  dir: string,
  name: string,
  subj: string,
  ca: string,
  ext: string[] | null,
): Promise<CertPair> {
  await makeCsr(dir, name, subj);
  const args = [
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    `${ca}.pem`,
    "-CAkey",
    `${ca}-key.pem`,
    "-set_serial",
    String(nextSerial++),
    "-out",
    `${name}.pem`,
    "-days",
    "825",
  ];
  if (ext) {
    await Deno.writeTextFile(`${dir}/${name}.ext`, ext.join("\n") + "\n");
    args.push("-extfile", `${name}.ext`);
  }
  await openssl(dir, args);
  return pair(dir, name);
}

/** An expired cert: `openssl ca` is the only 3.0 tool that takes explicit start/end dates. */
async function makeExpired(dir: string, name: string, ca: string): Promise<CertPair> {
  await makeCsr(dir, name, "/CN=expired");
  await Deno.mkdir(`${dir}/newcerts`, { recursive: true });
  await Deno.writeTextFile(`${dir}/index.txt`, "");
  await Deno.writeTextFile(`${dir}/serial`, "1000\n");
  await Deno.writeTextFile(
    `${dir}/ca.cnf`,
    [
      "[ca]",
      "default_ca = testca",
      "[testca]",
      `dir = ${dir}`,
      "database = $dir/index.txt",
      "new_certs_dir = $dir/newcerts",
      "serial = $dir/serial",
      `certificate = $dir/${ca}.pem`,
      `private_key = $dir/${ca}-key.pem`,
      "default_md = sha256",
      "policy = anything",
      "copy_extensions = none",
      "[anything]",
      "commonName = supplied",
      "[ext]",
      "basicConstraints = CA:FALSE",
      "extendedKeyUsage = clientAuth",
      "",
    ].join("\n"),
  );
  await openssl(dir, [
    "ca",
    "-batch",
    "-config",
    "ca.cnf",
    "-extensions",
    "ext",
    "-startdate",
    "20200101000000Z",
    "-enddate",
    "20200201000000Z",
    "-notext",
    "-in",
    `${name}.csr`,
    "-out",
    `${name}.pem`,
  ]);
  return pair(dir, name);
}

async function generate(): Promise<TestPki> {
  const dir = await Deno.makeTempDir({ prefix: "natsd-pki" });
  const clientExt = (san?: string) => [
    "basicConstraints=CA:FALSE",
    "keyUsage=critical,digitalSignature",
    "extendedKeyUsage=clientAuth",
    ...(san ? [`subjectAltName=${san}`] : []),
  ];
  const ca = await makeCa(dir, "ca", "natsd test CA");
  const rogueCa = await makeCa(dir, "rogue-ca", "rogue CA");
  const [server, client, clientDn, clientDc, clientEmail, rogue, expired, v1, serverAuthOnly] =
    await Promise.all([
      makeLeaf(dir, "server", "/CN=localhost", "ca", [
        "basicConstraints=CA:FALSE",
        "keyUsage=critical,digitalSignature",
        "extendedKeyUsage=serverAuth",
        "subjectAltName=IP:127.0.0.1,DNS:localhost",
      ]),
      makeLeaf(
        dir,
        "client",
        "/C=US/O=Synadia/OU=NATS.io/CN=alice",
        "ca",
        clientExt("email:alice@example.com,DNS:alice.example.com,URI:nats://alice"),
      ),
      makeLeaf(dir, "client-dn", "/OU=NATS.io/CN=example.com", "ca", clientExt()),
      makeLeaf(dir, "client-dc", "/DC=org/DC=nats/CN=bob", "ca", clientExt()),
      makeLeaf(
        dir,
        "client-email",
        "/O=Acme, Inc./CN=carol/emailAddress=carol@example.com",
        "ca",
        clientExt(),
      ),
      makeLeaf(dir, "rogue", "/CN=mallory", "rogue-ca", clientExt()),
      makeExpired(dir, "expired", "ca"),
      makeLeaf(dir, "v1", "/CN=v1client", "ca", null),
      makeLeaf(dir, "server-auth-only", "/CN=srvonly", "ca", [
        "basicConstraints=CA:FALSE",
        "extendedKeyUsage=serverAuth",
      ]),
    ]);
  return {
    dir,
    ca,
    rogueCa,
    server,
    client,
    clientDn,
    clientDc,
    clientEmail,
    rogue,
    expired,
    v1,
    serverAuthOnly,
  };
}

/**
 * The test PKI (generated on first call, then shared by the whole test process). The temp dir is
 * removed at process exit.
 */
export function testPki(): Promise<TestPki> {
  if (!cached) {
    cached = generate();
    cached.then((p) => {
      globalThis.addEventListener("unload", () => {
        try {
          Deno.removeSync(p.dir, { recursive: true });
        } catch { /* gone */ }
      });
    }, () => {});
  }
  return cached;
}
