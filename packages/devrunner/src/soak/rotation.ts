import { randomBytes } from "node:crypto";
import { startFakeSecretsManager } from "@entity/adapters/fault-injection";
import type { EntityDatabase } from "@entity/adapters/postgres";
import { sql, type Kysely } from "kysely";
import { UsageError } from "../cli/errors.ts";

export const SOAK_SECRET_ARN = "arn:aws:secretsmanager:us-east-1:000000000000:secret:soak-function-db-AbCdEf";

export interface RotationFigures {
  readonly rotations: number;
  /** Rotations that moved the secret to the other role (alternating users). */
  readonly userSwitches: number;
  /** The function's sessions ended after a rotation, so the next connections needed the new password. */
  readonly sessionsTerminated: number;
  /** GetSecretValue requests the functions made. */
  readonly secretFetches: number;
}

export interface SecretRotation {
  /** For the functions' SDK (AWS_ENDPOINT_URL_SECRETS_MANAGER). */
  readonly endpoint: string;
  readonly secretArn: string;
  figures(): RotationFigures;
  stop(): Promise<void>;
}

/**
 * The function's database credentials in a fake Secrets Manager, rotated every `everyMs` as AWS's rotation
 * functions do: mostly a new password for the same role (single user); every third rotation the secret
 * moves to the other of two roles and the old one's password is retired (alternating users). After each
 * rotation the roles' sessions are terminated, so the next connections must use the new secret. The roles
 * get the function's grants only (DML on the tables, a read of the migration table).
 */
export async function startSecretRotation(
  db: Kysely<EntityDatabase>,
  options: { everyMs: number; onError: (error: unknown) => void },
): Promise<SecretRotation> {
  const suffix = `${process.pid}_${Date.now().toString(36)}`;
  const roles = [`soak_fn_a_${suffix}`, `soak_fn_b_${suffix}`] as const;
  try {
    for (const role of roles) await createFunctionRole(db, role, newPassword());
  } catch (error) {
    throw new UsageError(
      `the soak rotates the function's database password, so it creates two roles; the database user cannot (${(error as Error).message}): use a container (no database settings) or a user with CREATEROLE`,
      { cause: error },
    );
  }
  let current: 0 | 1 = 0;
  let password = newPassword();
  await alterPassword(db, roles[current], password);
  const secrets = await startFakeSecretsManager({
    [SOAK_SECRET_ARN]: secretString(roles[current], password),
  });
  let rotations = 0;
  let userSwitches = 0;
  let sessionsTerminated = 0;
  let running: Promise<void> = Promise.resolve();

  const rotate = async (): Promise<void> => {
    rotations += 1;
    const switching = rotations % 3 === 0;
    const previous = roles[current];
    if (switching) {
      current = current === 0 ? 1 : 0;
      userSwitches += 1;
    }
    password = newPassword();
    await alterPassword(db, roles[current], password);
    secrets.rotate(SOAK_SECRET_ARN, secretString(roles[current], password));
    if (switching) await alterPassword(db, previous, newPassword());
    const ended = await sql<{ n: number }>`
      select count(pg_terminate_backend(pid))::int as n from pg_stat_activity where usename = any(${[...roles]})`.execute(
      db,
    );
    sessionsTerminated += ended.rows[0]?.n ?? 0;
  };
  const timer = setInterval(() => {
    running = running.then(rotate).catch(options.onError);
  }, options.everyMs);

  return {
    endpoint: secrets.endpoint,
    secretArn: SOAK_SECRET_ARN,
    figures: () => ({ rotations, userSwitches, sessionsTerminated, secretFetches: secrets.requests() }),
    stop: async () => {
      clearInterval(timer);
      await running;
      await secrets.close();
      await sql`select pg_terminate_backend(pid) from pg_stat_activity where usename = any(${[...roles]})`.execute(
        db,
      );
      for (const role of roles) {
        await sql.raw(`drop owned by "${role}"`).execute(db);
        await sql.raw(`drop role "${role}"`).execute(db);
      }
    },
  };
}

async function createFunctionRole(db: Kysely<EntityDatabase>, role: string, password: string): Promise<void> {
  await sql.raw(`create role "${role}" login password '${password}'`).execute(db);
  await sql.raw(`grant select, insert, update on entity, observation, outbox to "${role}"`).execute(db);
  await sql.raw(`grant select on kysely_migration, kysely_migration_lock to "${role}"`).execute(db);
  await sql.raw(`grant usage on all sequences in schema public to "${role}"`).execute(db);
}

async function alterPassword(db: Kysely<EntityDatabase>, role: string, password: string): Promise<void> {
  await sql.raw(`alter role "${role}" password '${password}'`).execute(db);
}

function newPassword(): string {
  return randomBytes(18).toString("base64url");
}

function secretString(username: string, password: string): string {
  return JSON.stringify({ username, password });
}
