import type { ConnectionCapacity } from "@entity/adapters/postgres";
import { resolveTemplateValue, samFunction, type SamTemplate } from "../local-aws/template/sam-template.ts";
import { check, type Check } from "./checks.ts";

// The connection budget: how many connections the template's functions can open at once, against what
// the server has left. Pure: the template and the server's numbers come in, a verdict goes out.

/** What makes a function run, as far as concurrency goes. */
export type Trigger =
  | { readonly kind: "sqs"; readonly event: string; readonly maximumConcurrency: number | undefined }
  | { readonly kind: "schedule"; readonly event: string }
  | { readonly kind: "other"; readonly event: string; readonly type: string };

export interface FunctionConnections {
  readonly logicalId: string;
  readonly poolSize: number;
  readonly triggers: readonly Trigger[];
  readonly reservedConcurrency: number | undefined;
  /** Values that could not be read (an unresolvable MaximumConcurrency, a bad DB_POOL_MAX). */
  readonly problems: readonly string[];
}

export interface FunctionDemand {
  readonly logicalId: string;
  /** Connections at full concurrency; Infinity when nothing bounds it. */
  readonly connections: number;
  /** `SQS 5 x pool 1 = 5` */
  readonly arithmetic: string;
  /** Event sources that could also run it but are not counted (API, streams, ...). */
  readonly uncounted: readonly string[];
}

const DATABASE_VARIABLES = ["DATABASE_URL", "DB_HOST", "DB_SECRET_ARN"];
const SCHEDULE_TYPES = new Set(["Schedule", "ScheduleV2"]);

/**
 * Every function of the template that connects to the database (declares DATABASE_URL, DB_HOST or
 * DB_SECRET_ARN), with its triggers, reserved concurrency and pool size (`poolSizeOf`: the function's
 * resolved DB_POOL_MAX, as it would run).
 */
export function templateConnections(
  template: SamTemplate,
  parameterOverrides: Readonly<Record<string, string>>,
  poolSizeOf: (logicalId: string) => string | undefined,
): FunctionConnections[] {
  const resolve = (value: unknown): string | undefined =>
    resolveTemplateValue(value, parameterOverrides, template);
  const result: FunctionConnections[] = [];
  for (const [logicalId, resource] of Object.entries(template.resources)) {
    if (resource.Type !== "AWS::Serverless::Function") continue;
    const definition = samFunction(template, logicalId);
    if (!DATABASE_VARIABLES.some((name) => name in definition.environment)) continue;
    const problems: string[] = [];
    const whole = (what: string, raw: unknown): number | undefined => {
      if (raw === undefined) return undefined;
      const text = resolve(raw);
      if (text !== undefined && /^\d+$/.test(text.trim())) return Number(text);
      problems.push(`${logicalId}: ${what} ${text ?? JSON.stringify(raw)} is not a whole number`);
      return undefined;
    };
    const triggers: Trigger[] = [];
    const events = (definition.properties.Events ?? {}) as Record<
      string,
      { Type?: unknown; Properties?: Record<string, unknown> }
    >;
    for (const [event, { Type: type, Properties: properties = {} }] of Object.entries(events)) {
      if (type === "SQS") {
        const scaling = properties.ScalingConfig as { MaximumConcurrency?: unknown } | undefined;
        triggers.push({
          kind: "sqs",
          event,
          maximumConcurrency: whole(`${event} MaximumConcurrency`, scaling?.MaximumConcurrency),
        });
      } else if (typeof type === "string" && SCHEDULE_TYPES.has(type)) {
        triggers.push({ kind: "schedule", event });
      } else {
        triggers.push({ kind: "other", event, type: String(type) });
      }
    }
    const pool = poolSizeOf(logicalId)?.trim() || "1";
    if (!/^\d+$/.test(pool) || Number(pool) < 1)
      problems.push(`${logicalId}: DB_POOL_MAX '${pool}' is not a positive whole number`);
    result.push({
      logicalId,
      poolSize: Number(pool) || 1,
      triggers,
      reservedConcurrency: whole(
        "ReservedConcurrentExecutions",
        definition.properties.ReservedConcurrentExecutions,
      ),
      problems,
    });
  }
  return result;
}

/**
 * Concurrency x pool size: each SQS event source runs up to its MaximumConcurrency (unbounded without
 * one), a schedule one at a time; ReservedConcurrentExecutions caps the sum.
 */
export function functionDemand(fn: FunctionConnections): FunctionDemand {
  const counted = fn.triggers.filter((trigger) => trigger.kind !== "other");
  const uncounted = fn.triggers
    .filter((trigger) => trigger.kind === "other")
    .map((trigger) => `${fn.logicalId} ${trigger.event} (${trigger.type})`);
  const terms = counted.map((trigger) =>
    trigger.kind === "sqs" ? `SQS ${trigger.maximumConcurrency ?? "unbounded"}` : "schedule 1",
  );
  const sum = counted.reduce(
    (total, trigger) => total + (trigger.kind === "sqs" ? (trigger.maximumConcurrency ?? Infinity) : 1),
    0,
  );
  const capped = fn.reservedConcurrency !== undefined && fn.reservedConcurrency < sum;
  const concurrency = capped ? (fn.reservedConcurrency ?? sum) : sum;
  const connections = concurrency * fn.poolSize;
  const runs = capped ? `min(${terms.join(" + ")}, reserved ${fn.reservedConcurrency})` : terms.join(" + ");
  return {
    logicalId: fn.logicalId,
    connections,
    arithmetic:
      counted.length === 0
        ? "no SQS or schedule event = 0"
        : `${counted.length > 1 && !capped ? `(${runs})` : runs} x pool ${fn.poolSize} = ${Number.isFinite(connections) ? connections : "unbounded"}`,
    uncounted,
  };
}

/** What is left for the functions: max_connections less the reserved slots and the sessions open now. */
export function connectionsLeft(capacity: ConnectionCapacity): number {
  return (
    capacity.maxConnections -
    capacity.superuserReservedConnections -
    (capacity.reservedConnections ?? 0) -
    capacity.inUse
  );
}

export const BUDGET_WARNING_SHARE = 0.8;

/** FAIL when the demand exceeds what is left (or is unbounded), warn above 80 % of it. */
export function judgeBudget(functions: readonly FunctionConnections[], capacity: ConnectionCapacity): Check {
  const demands = functions.map(functionDemand);
  const demand = demands.reduce((total, entry) => total + entry.connections, 0);
  const left = connectionsLeft(capacity);
  const problems = functions.flatMap((fn) => fn.problems);
  const uncounted = demands.flatMap((entry) => entry.uncounted);
  const supply = [
    `max_connections ${capacity.maxConnections}`,
    `superuser_reserved_connections ${capacity.superuserReservedConnections}`,
    ...(capacity.reservedConnections === undefined
      ? []
      : [`reserved_connections ${capacity.reservedConnections}`]),
    `in use ${capacity.inUse}`,
  ].join(" - ");
  const bounded = Number.isFinite(demand);
  const share = left > 0 && bounded ? Math.round((demand / left) * 100) : undefined;
  const perFunction = demands.map((entry) => `${entry.logicalId}: ${entry.arithmetic}`).join("; ");
  const asked = `demand ${bounded ? demand : "unbounded"} (${perFunction || "no function connects"})`;
  const available = `${left} left (${supply})`;
  const notCounted = uncounted.length > 0 ? `; not counted: ${uncounted.join(", ")}` : "";
  const details = {
    demand: bounded ? demand : null,
    left,
    share: share ?? null,
    capacity,
    functions: demands.map((entry) => ({
      ...entry,
      connections: Number.isFinite(entry.connections) ? entry.connections : null,
    })),
    uncounted,
    problems,
  };
  if (problems.length > 0)
    return check("budget", "fail", `${problems.join("; ")}; ${asked} of ${available}`, details);
  if (!bounded) {
    return check(
      "budget",
      "fail",
      `${asked} exceeds the ${available}: an SQS event source without ScalingConfig.MaximumConcurrency (nor ReservedConcurrentExecutions) opens connections without limit${notCounted}`,
      details,
    );
  }
  if (demand > left)
    return check("budget", "fail", `${asked} exceeds the ${available}${notCounted}`, details);
  const summary = `${asked} of ${available}: ${share ?? 0} %`;
  if (demand > BUDGET_WARNING_SHARE * left)
    return check("budget", "warn", `${summary}, over ${BUDGET_WARNING_SHARE * 100} %${notCounted}`, details);
  if (uncounted.length > 0) return check("budget", "warn", `${summary}${notCounted}`, details);
  return check("budget", "ok", summary, details);
}
