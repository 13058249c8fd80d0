import { PostgreSqlContainer, type StartedPostgreSqlContainer } from "@testcontainers/postgresql";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresTestImage } from "../testing/postgres-image.ts";
import { startPortForward } from "../testing/port-forward.ts";
import { createTestCertificates } from "../testing/tls-fixtures.ts";
import { parseDatabaseSettings } from "./connection-config.ts";
import { createPostgresDatabase } from "./database.ts";

const RDS_HOST = "mydb.cluster-abc.eu-west-1.rds.amazonaws.com";

describe("DB_SSL=verify-full through a tunnel to 127.0.0.1", () => {
  let container: StartedPostgreSqlContainer;
  let forward: { port: number; close: () => Promise<void> };
  let caCert: string;

  beforeAll(async () => {
    const certificates = createTestCertificates(RDS_HOST);
    caCert = certificates.caCert;
    container = await new PostgreSqlContainer(postgresTestImage())
      .withSSL(certificates.serverCert, certificates.serverKey)
      .start();
    forward = await startPortForward(container.getHost(), container.getPort());
  });
  afterAll(async () => {
    await forward?.close();
    await container?.stop();
  });

  function tunnelledEnv(extra: Record<string, string>): Record<string, string> {
    return {
      DB_HOST: "127.0.0.1",
      DB_PORT: String(forward.port),
      DB_NAME: container.getDatabase(),
      DB_USER: container.getUsername(),
      DB_PASSWORD: container.getPassword(),
      DB_SSL: "verify-full",
      DB_SSL_CA: caCert,
      ...extra,
    };
  }

  async function sslInUse(env: Record<string, string>): Promise<boolean> {
    const { db } = createPostgresDatabase(parseDatabaseSettings(env));
    try {
      const result = await sql<{
        ssl: boolean;
      }>`select ssl from pg_stat_ssl where pid = pg_backend_pid()`.execute(db);
      return result.rows[0]?.ssl ?? false;
    } finally {
      await db.destroy();
    }
  }

  it("connects, encrypted and verified, when DB_SSL_HOST names the certificate's host", async () => {
    expect(await sslInUse(tunnelledEnv({ DB_SSL_HOST: RDS_HOST }))).toBe(true);
  });

  it("fails with a certificate name error without DB_SSL_HOST", async () => {
    await expect(sslInUse(tunnelledEnv({}))).rejects.toThrow(
      /Hostname\/IP does not match certificate's altnames: IP: 127\.0\.0\.1/,
    );
  });

  it("fails when the certificate's name is not the one in DB_SSL_HOST", async () => {
    await expect(
      sslInUse(tunnelledEnv({ DB_SSL_HOST: "other.cluster-abc.eu-west-1.rds.amazonaws.com" })),
    ).rejects.toThrow(
      /Host: other\.cluster-abc\.eu-west-1\.rds\.amazonaws\.com\. is not in the cert's altnames/,
    );
  });

  it("fails when the server's CA is not trusted (no DB_SSL_CA)", async () => {
    const env = tunnelledEnv({ DB_SSL_HOST: RDS_HOST });
    delete env.DB_SSL_CA;
    await expect(sslInUse(env)).rejects.toThrow(
      /unable to verify the first certificate|self-signed certificate in certificate chain|unable to get local issuer/,
    );
  });
});
