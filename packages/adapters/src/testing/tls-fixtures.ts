import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, connect, type Server, type Socket } from "node:net";
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

/** What `ssh -L` gives you: a local port on 127.0.0.1 that forwards bytes to a remote host and port. */
export async function startPortForward(
  targetHost: string,
  targetPort: number,
  listenPort = 0,
): Promise<{ port: number; close: () => Promise<void> }> {
  const server: Server = createServer((local) => {
    const remote = connect(targetPort, targetHost);
    local.pipe(remote).pipe(local);
    local.on("error", () => remote.destroy());
    remote.on("error", () => local.destroy());
  });
  const sockets = new Set<Socket>();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(listenPort, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("port forward did not bind");
  return {
    port: address.port,
    // Closing also cuts open connections, as a dropped tunnel does.
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
