import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { PortUnavailableError } from "@entity/domain";
import {
  cachedCredentials,
  type CredentialSource,
  type DatabaseCredentials,
} from "../postgres/credentials.ts";

/** How long a fetched secret is trusted before new connections fetch it again (DB_SECRET_MAX_AGE_S). */
export const DEFAULT_SECRET_MAX_AGE_MS = 300_000;

/**
 * Database credentials from a Secrets Manager secret (the JSON RDS writes: `username`, `password`), cached
 * for `maxAgeMs` (as Powertools Parameters' `getSecret` with `maxAge` does) and fetched again sooner when
 * the database refuses them, so a rotation is picked up by the next connection. A failed fetch is not
 * cached. Errors name the secret and the missing fields, never a value.
 */
export function secretsManagerCredentials(
  secretArn: string,
  options: {
    client?: () => SecretsManagerClient | Promise<SecretsManagerClient>;
    maxAgeMs?: number;
  } = {},
): CredentialSource {
  const client = options.client ?? lazySecretsManagerClient();
  return cachedCredentials(
    async () => fetchCredentials(await client(), secretArn),
    options.maxAgeMs ?? DEFAULT_SECRET_MAX_AGE_MS,
  );
}

/** One Secrets Manager client, created (and the SDK loaded) on first use. */
export function lazySecretsManagerClient(): () => Promise<SecretsManagerClient> {
  let client: Promise<SecretsManagerClient> | undefined;
  return () =>
    (client ??= import("@aws-sdk/client-secrets-manager").then(
      ({ SecretsManagerClient: Client }) => new Client({}),
    ));
}

async function fetchCredentials(
  client: SecretsManagerClient,
  secretArn: string,
): Promise<DatabaseCredentials> {
  let secretString: string | undefined;
  try {
    const { GetSecretValueCommand } = await import("@aws-sdk/client-secrets-manager");
    secretString = (await client.send(new GetSecretValueCommand({ SecretId: secretArn }))).SecretString;
  } catch (error) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : "unknown error";
    throw new PortUnavailableError(
      `cannot read the database secret ${secretArn} (DB_SECRET_ARN): ${reason}`,
      {
        cause: error,
        code: "DB_SECRET_UNAVAILABLE",
      },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString ?? "");
  } catch {
    throw invalidSecret(secretArn, "its SecretString is not JSON");
  }
  const fields = (parsed ?? {}) as { username?: unknown; password?: unknown };
  const missing = (["username", "password"] as const).filter(
    (field) => typeof fields[field] !== "string" || !fields[field],
  );
  if (missing.length > 0)
    throw invalidSecret(
      secretArn,
      `its JSON lacks a string ${missing.map((field) => `'${field}'`).join(" and ")}`,
    );
  return { user: fields.username as string, password: fields.password as string };
}

function invalidSecret(secretArn: string, problem: string): PortUnavailableError {
  // Retryable on purpose: a wrong secret is fixed by an operator, and messages must not be lost meanwhile.
  return new PortUnavailableError(
    `the database secret ${secretArn} (DB_SECRET_ARN) is unusable: ${problem}`,
    {
      code: "DB_SECRET_INVALID",
    },
  );
}
