/**
 * Test certificates: a CA and a server certificate for 127.0.0.1 signed by it,
 * made with openssl in a temp dir that is removed on dispose.
 *
 * ```ts
 * await using certs = await makeTestCertificates();
 * await startNatsServer({ args: ["--tls", "--tlscert", certs.cert, "--tlskey", certs.key] });
 * ```
 */

/** Paths of the files {@linkcode makeTestCertificates} made. */
export interface TestCertificates extends AsyncDisposable {
  readonly dir: string;
  /** The CA certificate (PEM), to trust: `tls: { caFile }`. */
  readonly ca: string;
  /** The server certificate (PEM), valid for 127.0.0.1 and localhost. */
  readonly cert: string;
  /** The server key (PEM). */
  readonly key: string;
}

/** True when the `openssl` command runs here. */
export async function hasOpenssl(): Promise<boolean> {
  try {
    const { success } = await new Deno.Command("openssl", {
      args: ["version"],
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}

/** Make a CA and a server certificate for 127.0.0.1 in a new temp dir. */
export async function makeTestCertificates(): Promise<TestCertificates> {
  const dir = await Deno.makeTempDir({ prefix: "denolecular-tls-" });
  const run = async (...args: string[]) => {
    const out = await new Deno.Command("openssl", {
      args,
      cwd: dir,
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(`openssl ${args[0]}: ${new TextDecoder().decode(out.stderr)}`);
    }
  };
  const key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await run(
    "req",
    "-x509",
    ...key,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "1",
    "-subj",
    "/CN=Denolecular test CA",
  );
  await run("req", ...key, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1");
  await Deno.writeTextFile(
    `${dir}/ext.cnf`,
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
  );
  await run(
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.pem",
    "-days",
    "1",
    "-extfile",
    "ext.cnf",
  );
  return {
    dir,
    ca: `${dir}/ca.pem`,
    cert: `${dir}/server.pem`,
    key: `${dir}/server.key`,
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
