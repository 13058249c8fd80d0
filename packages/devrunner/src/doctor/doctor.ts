import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  migrationStatus,
  readConnectionCapacity,
  readRolePrivileges,
  readServerIdentity,
  type DatabaseConnectionSettings,
  type ServerIdentity,
} from "@entity/adapters/postgres";
import { openDatabaseForReading } from "../root.ts";
import { describeTarget } from "../cli/target.ts";
import { judgeBudget } from "./budget.ts";
import { check, judgeRole, judgeSchema, judgeTls, type Check } from "./checks.ts";
import type { DoctorPlan } from "./plan.ts";

export interface DoctorReport {
  readonly target: string;
  readonly function: string;
  readonly environment: string | undefined;
  readonly checks: readonly Check[];
  readonly failed: number;
  readonly warnings: number;
}

/** Runs every check the target allows; reads only. Returns the findings, prints nothing. */
export async function runDoctor(plan: DoctorPlan): Promise<DoctorReport> {
  const { target } = plan;
  let checks: Check[];
  if (target.kind === "invalid") {
    checks = [
      check("database", "fail", `its settings cannot be used: ${target.problem}`),
      ...notChecked(["tls", "schema", "role", "budget"], "the database settings are invalid"),
    ];
  } else if (target.kind === "memory") {
    checks = [
      check("database", "n/a", "the in-memory store: no server"),
      check("tls", "n/a", "no network"),
      check("schema", "ok", "the in-memory store has no schema to migrate"),
      check("role", "n/a", "no roles"),
      check("budget", "n/a", "no connections"),
    ];
  } else if (target.kind === "pglite") {
    checks = await embeddedChecks(target.dataDir);
  } else {
    checks = await postgresChecks(target.settings, plan);
  }
  return {
    target: target.kind === "invalid" ? "invalid database settings" : describeTarget(target),
    function: plan.functionId,
    environment: plan.environmentName,
    checks,
    failed: checks.filter((entry) => entry.verdict === "fail").length,
    warnings: checks.filter((entry) => entry.verdict === "warn").length,
  };
}

async function postgresChecks(settings: DatabaseConnectionSettings, plan: DoctorPlan): Promise<Check[]> {
  const where = `${settings.host}:${settings.port}/${settings.database}`;
  const db = await openDatabaseForReading({ kind: "postgres", settings });
  try {
    const started = performance.now();
    let identity: ServerIdentity;
    try {
      identity = await readServerIdentity(db);
    } catch (error) {
      // Refused, timed out, a bad password, a CA bundle that cannot be read: said as pg or the settings say it.
      return [
        check("database", "fail", `cannot reach ${where}: ${(error as Error).message}`),
        judgeTls(settings, undefined),
        ...notChecked(["schema", "role", "budget"], "the database did not answer"),
      ];
    }
    const connectMs = performance.now() - started;
    const roundTripStarted = performance.now();
    await readServerIdentity(db);
    const roundTripMs = performance.now() - roundTripStarted;
    const database = check(
      "database",
      "ok",
      `PostgreSQL ${identity.serverVersion.split(" ")[0]} at ${where} answers as ${identity.user}: round trip ${roundTripMs.toFixed(1)} ms (first answer, connecting included, ${connectMs.toFixed(0)} ms)`,
      { serverVersion: identity.serverVersion, user: identity.user, roundTripMs, connectMs },
    );
    return [
      database,
      judgeTls(settings, identity.tls),
      await guarded("schema", async () => judgeSchema(await migrationStatus(db))),
      await guarded("role", async () => judgeRole(await readRolePrivileges(db))),
      await guarded("budget", async () => judgeBudget(plan.functions, await readConnectionCapacity(db))),
    ];
  } finally {
    await db.destroy();
  }
}

/** The embedded database migrates itself on first use: only its schema can be reported. */
async function embeddedChecks(dataDir: string): Promise<Check[]> {
  const tls = check("tls", "n/a", "the embedded database: no network");
  const rest = [
    check("role", "n/a", "the embedded database: one superuser"),
    check("budget", "n/a", "the embedded database: one process"),
  ];
  if (!existsSync(join(dataDir, "PG_VERSION"))) {
    return [
      check("database", "n/a", `the embedded PGlite folder ${dataDir} does not exist yet`),
      tls,
      check("schema", "ok", "created and migrated on first use"),
      ...rest,
    ];
  }
  const db = await openDatabaseForReading({ kind: "pglite", dataDir });
  try {
    const identity = await readServerIdentity(db);
    const status = await migrationStatus(db);
    const pending = status.filter((migration) => !migration.executedAt).map((migration) => migration.name);
    return [
      check("database", "ok", `embedded PGlite (PostgreSQL ${identity.serverVersion}) in ${dataDir}`),
      tls,
      pending.length > 0
        ? check(
            "schema",
            "ok",
            `${pending.length} migration(s) pending (${pending.join(", ")}): applied on the next run`,
            { pending },
          )
        : judgeSchema(status),
      ...rest,
    ];
  } finally {
    await db.destroy();
  }
}

/** A check whose query fails (a privilege the role lacks, say) is a failed check, named, not a crash. */
async function guarded(name: Check["name"], run: () => Promise<Check>): Promise<Check> {
  try {
    return await run();
  } catch (error) {
    return check(name, "fail", `could not be checked: ${(error as Error).message}`);
  }
}

function notChecked(names: readonly Check["name"][], reason: string): Check[] {
  return names.map((name) => check(name, "n/a", `not checked: ${reason}`));
}

/** `doctor: 1 failed, 1 warning` */
export function summarise(report: DoctorReport): string {
  const plural = (count: number, word: string): string => `${count} ${word}${count === 1 ? "" : "s"}`;
  return `doctor: ${report.failed === 0 ? "ready" : `${plural(report.failed, "check")} failed`}, ${plural(report.warnings, "warning")}`;
}
