import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PostgreSqlContainer, type StartedPostgreSqlContainer } from "@testcontainers/postgresql";
import { createTestCertificates, postgresTestImage } from "@entity/adapters/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isolatedEnv, runCli } from "./testing/cli.ts";

// The team's first speed: the devrunner against an RDS reached through `ssh -N -L`, with TLS verified
// against the RDS host name although the connection goes to 127.0.0.1. Real sshd, real ssh client.
const RDS_HOST = "mydb.cluster-abc.eu-west-1.rds.amazonaws.com";
const SSHD = "/usr/sbin/sshd";
const scratch = mkdtempSync(join(tmpdir(), "tunnel-"));
let container: StartedPostgreSqlContainer;
let sshd: ChildProcess;
let tunnel: ChildProcess;
let localPort: number;
let caCert: string;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((done) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        done(true);
      });
      socket.once("error", () => done(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`port ${port} did not open in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  if (!existsSync(SSHD)) throw new Error(`${SSHD} is missing: install openssh-server (.ci/run does)`);
  const certificates = createTestCertificates(RDS_HOST);
  caCert = certificates.caCert;
  container = await new PostgreSqlContainer(postgresTestImage())
    .withSSL(certificates.serverCert, certificates.serverKey)
    .start();

  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(scratch, "host_key")]);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(scratch, "client_key")]);
  writeFileSync(join(scratch, "authorized_keys"), execFileSync("cat", [join(scratch, "client_key.pub")]));
  chmodSync(join(scratch, "authorized_keys"), 0o600);
  mkdirSync("/run/sshd", { recursive: true });
  const sshPort = await freePort();
  writeFileSync(
    join(scratch, "sshd_config"),
    [
      `Port ${sshPort}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${join(scratch, "host_key")}`,
      `AuthorizedKeysFile ${join(scratch, "authorized_keys")}`,
      "PermitRootLogin prohibit-password",
      "PasswordAuthentication no",
      "StrictModes no",
      "UsePAM no",
      "AllowTcpForwarding yes",
      `PidFile ${join(scratch, "sshd.pid")}`,
      "",
    ].join("\n"),
  );
  sshd = spawn(SSHD, ["-D", "-e", "-f", join(scratch, "sshd_config")], { stdio: "ignore" });
  await waitForPort(sshPort, 10_000);
  localPort = await freePort();
  tunnel = spawn(
    "ssh",
    [
      "-N",
      "-L",
      `${localPort}:${container.getHost() === "localhost" ? "127.0.0.1" : container.getHost()}:${container.getPort()}`,
      "-p",
      String(sshPort),
      "-i",
      join(scratch, "client_key"),
      "-o",
      "StrictHostKeyChecking=no",
      "-o",
      "UserKnownHostsFile=/dev/null",
      "-o",
      "ExitOnForwardFailure=yes",
      "-o",
      "BatchMode=yes",
      `${process.env.USER ?? "root"}@127.0.0.1`,
    ],
    { stdio: "ignore" },
  );
  await waitForPort(localPort, 10_000);
}, 120_000);

afterAll(async () => {
  tunnel?.kill();
  sshd?.kill();
  await container?.stop();
});

describe("devrunner process through an SSH tunnel with verify-full TLS", () => {
  it("migrates and processes with DB_SSL_HOST naming the RDS host, and refuses without it", async () => {
    const envFile = join(scratch, "dev.env");
    const lines = [
      `DB_HOST=127.0.0.1`,
      `DB_PORT=${localPort}`,
      `DB_NAME=${container.getDatabase()}`,
      `DB_USER=${container.getUsername()}`,
      `DB_PASSWORD=${container.getPassword()}`,
      "DB_SSL=verify-full",
      `DB_SSL_CA=${caCert}`,
    ];
    writeFileSync(envFile, [...lines, `DB_SSL_HOST=${RDS_HOST}`, ""].join("\n"));
    const env = isolatedEnv();
    const migrated = await runCli(["migrate", "--env-file", envFile], env);
    expect(migrated.code, migrated.stderr).toBe(0);
    const result = await runCli(["process", "--env-file", envFile, "TUNNELLED_ENTITY_20220608T043249"], env);
    expect(result.stderr).toContain(
      `target: postgres ${container.getUsername()}@127.0.0.1:${localPort}/${container.getDatabase()} (ssl verify-full as ${RDS_HOST})`,
    );
    expect(result.stdout).toMatch(/^created\s+TUNNELLED_ENTITY_20220608T043249/);
    expect(result.code).toBe(0);

    const withoutHost = join(scratch, "no-host.env");
    writeFileSync(withoutHost, [...lines, ""].join("\n"));
    const refused = await runCli(
      ["process", "--env-file", withoutHost, "TUNNELLED_ENTITY_20220609T043249"],
      env,
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/Hostname\/IP does not match certificate's altnames: IP: 127\.0\.0\.1/);
  });
});
