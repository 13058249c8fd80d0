import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCertificates {
  readonly dir: string;
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
}

/** A throwaway CA and a server certificate it signs for `hostName` (openssl CLI). */
export function createTestCertificates(hostName: string): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), "test-ca-"));
  const path = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => {
    execFileSync("openssl", args, { stdio: "pipe" });
  };
  openssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=Entity Test CA",
    "-keyout",
    path("ca.key"),
    "-out",
    path("ca.crt"),
  );
  openssl(
    "req",
    "-new",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    `/CN=${hostName}`,
    "-keyout",
    path("server.key"),
    "-out",
    path("server.csr"),
  );
  writeFileSync(path("server.ext"), `subjectAltName=DNS:${hostName}\nextendedKeyUsage=serverAuth\n`);
  openssl(
    "x509",
    "-req",
    "-in",
    path("server.csr"),
    "-CA",
    path("ca.crt"),
    "-CAkey",
    path("ca.key"),
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    path("server.ext"),
    "-out",
    path("server.crt"),
  );
  return { dir, caCert: path("ca.crt"), serverCert: path("server.crt"), serverKey: path("server.key") };
}
