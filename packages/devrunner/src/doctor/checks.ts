import type {
  DatabaseConnectionSettings,
  MigrationStatus,
  RolePrivileges,
  ServerIdentity,
} from "@entity/adapters/postgres";

// doctor's verdicts: pure judgements of facts read elsewhere, so each rule is unit-tested without a server.

export type Verdict = "ok" | "warn" | "fail" | "n/a";

export type CheckName = "database" | "tls" | "schema" | "role" | "budget";

export interface Check {
  readonly name: CheckName;
  readonly verdict: Verdict;
  /** One line for people: what was found, with the numbers. */
  readonly summary: string;
  /** The facts behind it, for --json. */
  readonly details?: Readonly<Record<string, unknown>>;
}

export function check(
  name: CheckName,
  verdict: Verdict,
  summary: string,
  details?: Record<string, unknown>,
): Check {
  return details ? { name, verdict, summary, details } : { name, verdict, summary };
}

const LOCAL_HOST = /^(localhost|127(\.\d{1,3}){3}|::1|\[::1\])$/i;

export function isLocalHost(host: string): boolean {
  return LOCAL_HOST.test(host);
}

/**
 * TLS as the function would connect: verify-full is the only ok; `require` encrypts without checking
 * who answers; `disable` is a warning on a local address (a local database, or a tunnel whose far side
 * is then unencrypted) and a failure anywhere else.
 */
export function judgeTls(
  settings: Pick<DatabaseConnectionSettings, "ssl" | "host" | "sslHost" | "sslCaPath">,
  session: ServerIdentity["tls"] | undefined,
): Check {
  const observed = session
    ? session.inUse
      ? `; this session: ${session.version ?? "TLS"}`
      : "; this session: unencrypted"
    : "";
  const details = { mode: settings.ssl, host: settings.host, sslHost: settings.sslHost, session };
  switch (settings.ssl) {
    case "verify-full":
      return check(
        "tls",
        "ok",
        `verify-full: the certificate is checked against ${settings.sslHost ?? settings.host} (CA ${settings.sslCaPath ?? "the system's"})${observed}`,
        details,
      );
    case "require":
      return check(
        "tls",
        "warn",
        `DB_SSL=require encrypts without verifying the server's certificate (anyone in the path can pose as it): use verify-full with DB_SSL_CA${observed}`,
        details,
      );
    case "disable":
      return isLocalHost(settings.host)
        ? check(
            "tls",
            "warn",
            `DB_SSL=disable on a local address (${settings.host}): fine for a local database; through a tunnel the far side is unencrypted (use verify-full with DB_SSL_HOST)`,
            details,
          )
        : check(
            "tls",
            "fail",
            `DB_SSL=disable to ${settings.host}: the password and the data cross the network unencrypted; use verify-full with DB_SSL_CA`,
            details,
          );
  }
}

/** Pending migrations fail a deploy: the function refuses to start on a schema that is behind. */
export function judgeSchema(status: readonly MigrationStatus[]): Check {
  const pending = status.filter((migration) => !migration.executedAt).map((migration) => migration.name);
  const details = { applied: status.length - pending.length, pending };
  if (pending.length > 0) {
    return check(
      "schema",
      "fail",
      `${pending.length} migration(s) pending: ${pending.join(", ")}; run \`pnpm devrunner migrate\` under the role that owns the schema`,
      details,
    );
  }
  return check(
    "schema",
    "ok",
    `current: ${status.length} migration(s) applied, the latest ${status.at(-1)?.name ?? "(none)"}`,
    details,
  );
}

/**
 * The function's role may read and write its rows and nothing more: DML on its tables (and a read of the
 * migration table for its schema check at start), no ownership, no CREATE, no superuser.
 */
export function judgeRole(privileges: RolePrivileges): Check {
  const violations: string[] = [];
  if (privileges.superuser) violations.push("is a superuser");
  if (privileges.rdsSuperuser) violations.push("is a member of rds_superuser");
  const owned = privileges.tables.filter((table) => table.actsAsOwner);
  const ownedDirectly = owned.filter((table) => table.owner === privileges.role);
  const ownedThrough = owned.filter((table) => table.owner !== privileges.role && !privileges.superuser);
  if (ownedDirectly.length > 0) violations.push(`owns ${names(ownedDirectly)} (may alter or drop them)`);
  for (const owner of new Set(ownedThrough.map((table) => table.owner))) {
    const tables = ownedThrough.filter((table) => table.owner === owner);
    violations.push(`inherits ${owner}'s ownership of ${names(tables)} (may alter or drop them)`);
  }
  if (privileges.createOnSchema) violations.push(`has CREATE on schema ${privileges.schema}`);
  if (privileges.createOnDatabase) violations.push("has CREATE on the database");
  if (privileges.createDatabase) violations.push("may create databases (CREATEDB)");
  if (privileges.createRole) violations.push("may create roles (CREATEROLE)");

  const missingTables = privileges.tables.filter((table) => !table.exists);
  const missing: string[] = [];
  for (const table of privileges.tables.filter((candidate) => candidate.exists)) {
    const lacks = (["select", "insert", "update"] as const).filter((privilege) => !table[privilege]);
    if (lacks.length > 0) missing.push(`${lacks.join(", ")} on ${table.table}`);
  }
  if (privileges.readsMigrations === false) missing.push("select on kysely_migration");
  const details = { ...privileges, violations, missing };

  const problems = [...violations, ...(missing.length > 0 ? [`lacks ${missing.join("; ")}`] : [])];
  if (problems.length > 0) return check("role", "fail", `${privileges.role} ${problems.join("; ")}`, details);
  if (missingTables.length > 0) {
    return check(
      "role",
      "n/a",
      `${privileges.role}: no DDL rights; table privileges not checked: ${names(missingTables)} do not exist yet (see schema)`,
      details,
    );
  }
  return check(
    "role",
    "ok",
    `${privileges.role}: select, insert, update on ${names(privileges.tables)}; owns none; no CREATE on schema ${privileges.schema} or the database; not a superuser`,
    details,
  );
}

function names(tables: readonly { readonly table: string }[]): string {
  return tables.map((table) => table.table).join(", ");
}

const LABELS: Record<Verdict, string> = { ok: "ok", warn: "warn", fail: "FAIL", "n/a": "n/a" };

/** `ok    schema    current: ...` */
export function formatCheck(entry: Check): string {
  return `${LABELS[entry.verdict].padEnd(5)} ${entry.name.padEnd(9)} ${entry.summary}`;
}
