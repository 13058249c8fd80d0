import { sql, type Kysely } from "kysely";

// Read-only questions to a Postgres server about whether a deploy can work against it (`devrunner
// doctor`). Facts only: judging them is the caller's business. Every query works for an unprivileged role.

/** The tables the function reads and writes. */
export const FUNCTION_TABLES = ["entity", "observation", "outbox"] as const;

export interface ServerIdentity {
  /** `server_version`, e.g. `17.6 (Debian 17.6-1)`. */
  readonly serverVersion: string;
  readonly user: string;
  readonly database: string;
  /** Whether this session is encrypted, and with which protocol (`TLSv1.3`). */
  readonly tls: { readonly inUse: boolean; readonly version: string | undefined };
}

export async function readServerIdentity<DB>(db: Kysely<DB>): Promise<ServerIdentity> {
  const { rows } = await sql<{
    server_version: string;
    user: string;
    database: string;
    ssl: boolean | null;
    ssl_version: string | null;
  }>`
    select current_setting('server_version') as server_version, current_user as "user",
      current_database() as database, s.ssl, s.version as ssl_version
    from (select 1) as one left join pg_stat_ssl as s on s.pid = pg_backend_pid()
  `.execute(db);
  const row = rows[0]!;
  return {
    serverVersion: row.server_version,
    user: row.user,
    database: row.database,
    tls: { inUse: row.ssl === true, version: row.ssl_version ?? undefined },
  };
}

export interface ConnectionCapacity {
  readonly maxConnections: number;
  readonly superuserReservedConnections: number;
  /** `reserved_connections` (PostgreSQL 16+); undefined before. */
  readonly reservedConnections: number | undefined;
  /** Client sessions open now, this one excluded. */
  readonly inUse: number;
}

export async function readConnectionCapacity<DB>(db: Kysely<DB>): Promise<ConnectionCapacity> {
  const settings = await sql<{ name: string; setting: string }>`
    select name, setting from pg_settings
    where name in ('max_connections', 'superuser_reserved_connections', 'reserved_connections')
  `.execute(db);
  const setting = (name: string): number | undefined => {
    const row = settings.rows.find((candidate) => candidate.name === name);
    return row ? Number(row.setting) : undefined;
  };
  // Background processes (checkpointer, walwriter, ...) hold no connection slot. A role without
  // pg_read_all_stats sees no backend_type for other users' sessions: a process attached to a database
  // is then counted as a client (it may be a short-lived autovacuum worker, so this errs high).
  const activity = await sql<{ in_use: string }>`
    select count(*) as in_use from pg_stat_activity
    where pid <> pg_backend_pid()
      and (backend_type = 'client backend' or (backend_type is null and datname is not null))
  `.execute(db);
  return {
    maxConnections: setting("max_connections") ?? 0,
    superuserReservedConnections: setting("superuser_reserved_connections") ?? 0,
    reservedConnections: setting("reserved_connections"),
    inUse: Number(activity.rows[0]?.in_use ?? 0),
  };
}

export interface TablePrivileges {
  readonly table: string;
  readonly exists: boolean;
  readonly select: boolean;
  readonly insert: boolean;
  readonly update: boolean;
  readonly owner: string | undefined;
  /** The role owns the table or inherits its owner's rights (and so may alter or drop it). */
  readonly actsAsOwner: boolean;
}

export interface RolePrivileges {
  readonly role: string;
  readonly superuser: boolean;
  /** Member of RDS's `rds_superuser` (RDS has no real superuser). */
  readonly rdsSuperuser: boolean;
  readonly createRole: boolean;
  readonly createDatabase: boolean;
  /** The schema the tables live in (or the current schema when they do not exist yet). */
  readonly schema: string;
  readonly createOnSchema: boolean;
  readonly createOnDatabase: boolean;
  /** Whether the role can read the migration table (the function's schema check at start). */
  readonly readsMigrations: boolean | undefined;
  readonly tables: readonly TablePrivileges[];
}

/** What the current role may do to the function's tables and the schema around them. */
export async function readRolePrivileges<DB>(
  db: Kysely<DB>,
  tables: readonly string[] = FUNCTION_TABLES,
): Promise<RolePrivileges> {
  const role = await sql<{
    role: string;
    superuser: boolean;
    rds_superuser: boolean;
    create_role: boolean;
    create_database: boolean;
    schema: string;
    create_on_schema: boolean;
    create_on_database: boolean;
    reads_migrations: boolean | null;
  }>`
    with target as (
      select coalesce(
        (select n.nspname from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where c.oid = to_regclass(${tables[0] ?? "entity"})),
        current_schema()) as schema
    )
    select r.rolname as role, r.rolsuper as superuser,
      case when exists (select 1 from pg_roles where rolname = 'rds_superuser')
        then pg_has_role('rds_superuser', 'MEMBER') else false end as rds_superuser,
      r.rolcreaterole as create_role, r.rolcreatedb as create_database, target.schema,
      has_schema_privilege(target.schema, 'CREATE') as create_on_schema,
      has_database_privilege(current_database(), 'CREATE') as create_on_database,
      has_table_privilege(to_regclass('kysely_migration'), 'SELECT') as reads_migrations
    from pg_roles r, target where r.rolname = current_user
  `.execute(db);
  const privileges = await sql<{
    table: string;
    exists: boolean;
    select: boolean | null;
    insert: boolean | null;
    update: boolean | null;
    owner: string | null;
    acts_as_owner: boolean | null;
  }>`
    select t.name as "table", c.oid is not null as "exists",
      has_table_privilege(c.oid, 'SELECT') as "select",
      has_table_privilege(c.oid, 'INSERT') as "insert",
      has_table_privilege(c.oid, 'UPDATE') as "update",
      pg_get_userbyid(c.relowner) as owner,
      pg_has_role(c.relowner, 'USAGE') as acts_as_owner
    from unnest(${[...tables]}::text[]) with ordinality as t(name, position)
      left join pg_class c on c.oid = to_regclass(t.name)
    order by t.position
  `.execute(db);
  const row = role.rows[0]!;
  return {
    role: row.role,
    superuser: row.superuser,
    rdsSuperuser: row.rds_superuser,
    createRole: row.create_role,
    createDatabase: row.create_database,
    schema: row.schema,
    createOnSchema: row.create_on_schema,
    createOnDatabase: row.create_on_database,
    readsMigrations: row.reads_migrations ?? undefined,
    tables: privileges.rows.map((table) => ({
      table: table.table,
      exists: table.exists,
      select: table.select === true,
      insert: table.insert === true,
      update: table.update === true,
      owner: table.owner ?? undefined,
      actsAsOwner: table.acts_as_owner === true,
    })),
  };
}
