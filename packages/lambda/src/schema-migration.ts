import { migrateToLatest, migrationStatus } from "@entity/adapters/postgres";
import type { Kysely } from "kysely";
import type {
  CustomResourceOutcome,
  CustomResourceProvider,
  CustomResourceRequest,
} from "./custom-resource.ts";

export interface SchemaMigrationDependencies {
  /** A fresh connection to the database for one request, under the migration role; destroyed after it. */
  readonly openDatabase: () => Kysely<unknown>;
  readonly databaseName: string;
  /** The target for people to read (host, port, database, user; never the password). */
  readonly target: string;
  /** Values that must never reach a reason (the configured password): cut out of database errors. */
  readonly secrets: readonly string[];
}

/**
 * The `Custom::SchemaMigration` resource: Create and Update apply pending migrations (a deploy migrates
 * before the new code takes traffic); Delete drops nothing. When nothing is pending it only reads the
 * status, so it neither takes the migration lock nor needs DDL rights.
 */
export function createSchemaMigration(deps: SchemaMigrationDependencies): CustomResourceProvider {
  const redact = (text: string): string =>
    deps.secrets.filter(Boolean).reduce((result, secret) => result.split(secret).join("***"), text);

  return {
    async handle(request: CustomResourceRequest): Promise<CustomResourceOutcome> {
      if (request.requestType === "Delete") {
        return { status: "SUCCESS", reason: "the schema is kept: deleting this resource drops nothing" };
      }
      const physicalResourceId = `schema-${deps.databaseName}`;
      const db = deps.openDatabase();
      // Out of time: close the connection, so Postgres rolls the migration's transaction back.
      const release = (): void => void db.destroy().catch(() => undefined);
      request.signal.addEventListener("abort", release, { once: true });
      try {
        let pending: string[];
        let executed: string[];
        try {
          const status = await migrationStatus(db);
          pending = status.filter((entry) => !entry.executedAt).map((entry) => entry.name);
          executed = status.filter((entry) => entry.executedAt).map((entry) => entry.name);
        } catch (error) {
          return failed(
            physicalResourceId,
            `cannot read the migration status of ${deps.target}: ${redact(describe(error))}`,
          );
        }
        if (pending.length === 0) {
          return {
            status: "SUCCESS",
            physicalResourceId,
            reason: `${deps.target} is current (${executed.length} migrations, the last ${executed.at(-1) ?? "none"}); nothing applied`,
            data: { Applied: "", Latest: executed.at(-1) ?? "" },
          };
        }
        let applied: string[];
        try {
          applied = ((await migrateToLatest(db)).results ?? []).map((result) => result.migrationName);
        } catch (error) {
          return failed(
            physicalResourceId,
            `${redact(describe(error))} (on ${deps.target}; nothing was applied)`,
          );
        }
        const latest = applied.at(-1) ?? executed.at(-1) ?? "";
        return {
          status: "SUCCESS",
          physicalResourceId,
          reason: `applied ${applied.length} migration(s) to ${deps.target}: ${applied.join(", ") || "none (another run applied them)"}`,
          data: { Applied: applied.join(","), Latest: latest },
        };
      } finally {
        request.signal.removeEventListener("abort", release);
        if (!request.signal.aborted) await db.destroy();
      }
    },
  };

  function failed(physicalResourceId: string, reason: string): CustomResourceOutcome {
    return { status: "FAILED", physicalResourceId, reason };
  }
}

/** The error and, for a database error, its SQLSTATE and detail: what an operator needs to act. */
function describe(error: unknown): string {
  const details = error as { message?: unknown; code?: unknown; detail?: unknown; cause?: unknown };
  const cause = details.cause as { code?: unknown; detail?: unknown } | undefined;
  const code =
    typeof cause?.code === "string" ? cause.code : typeof details.code === "string" ? details.code : "";
  const detail =
    typeof cause?.detail === "string"
      ? cause.detail
      : typeof details.detail === "string"
        ? details.detail
        : "";
  const message = typeof details.message === "string" && details.message ? details.message : String(error);
  const codeText = /^[0-9A-Z]{5}$/.test(code) ? `SQLSTATE ${code}` : message.includes(code) ? "" : code;
  const parts = [codeText, detail].filter(Boolean);
  return parts.length > 0 ? `${message} (${parts.join("; ")})` : message;
}
