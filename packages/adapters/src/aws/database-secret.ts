import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { TransientPortError } from "@entity/domain";
import type { DatabaseCredentials } from "../postgres/database.ts";

/**
 * Database credentials from a Secrets Manager secret (the JSON RDS writes: `username`, `password`),
 * fetched once and cached for the life of the process; a failed fetch is retried on the next call.
 * Errors name the secret and the missing fields, never a value.
 */
export function databaseSecretCredentials(
  secretArn: string,
  client: () => SecretsManagerClient | Promise<SecretsManagerClient> = lazySecretsManagerClient(),
): () => Promise<DatabaseCredentials> {
  let cached: Promise<DatabaseCredentials> | undefined;
  return () => {
    cached ??= Promise.resolve(client())
      .then((resolved) => fetchCredentials(resolved, secretArn))
      .catch((error: unknown) => {
        cached = undefined;
        throw error;
      });
    return cached;
  };
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
    throw new TransientPortError(`cannot read the database secret ${secretArn} (DB_SECRET_ARN): ${reason}`, {
      cause: error,
      code: "DB_SECRET_UNAVAILABLE",
    });
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

function invalidSecret(secretArn: string, problem: string): TransientPortError {
  // Retryable on purpose: a wrong secret is fixed by an operator, and messages must not be lost meanwhile.
  return new TransientPortError(`the database secret ${secretArn} (DB_SECRET_ARN) is unusable: ${problem}`, {
    code: "DB_SECRET_INVALID",
  });
}
