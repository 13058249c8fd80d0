import { randomUUID } from "node:crypto";
import { ensureBuilt } from "../build.ts";
import type { LocalAwsConfig } from "../config.ts";
import type { PreparedFunction } from "../prepare.ts";
import { companionContextOf, companionEnvironment } from "../runtime/runtime-environment.ts";
import type { EnvVarsFile } from "../template/function-environment.ts";
import {
  resolveTemplateValue,
  samFunction,
  type SamFunctionDefinition,
  type SamTemplate,
} from "../template/sam-template.ts";
import { FunctionWorker, workerBootEnvironment, type InvocationReport } from "../runtime/function-worker.ts";
import { workerSettings } from "../runtime/runtime-environment.ts";

/** A template function run on a schedule (an EventBridge rule), with its rate. */
export interface ScheduledFunction {
  readonly definition: SamFunctionDefinition;
  readonly event: string;
  readonly expression: string;
  /** Undefined for what a local run cannot follow (cron expressions). */
  readonly periodMs: number | undefined;
}

const UNIT_MS: Readonly<Record<string, number>> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/** `rate(5 minutes)` in milliseconds; undefined for cron() and anything else. */
export function ratePeriodMs(expression: string): number | undefined {
  const match = /^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$/.exec(expression.trim());
  if (!match) return undefined;
  const value = Number(match[1]);
  return value > 0 ? value * UNIT_MS[match[2]!.replace(/s$/, "")]! : undefined;
}

/**
 * The template's functions with a Schedule or ScheduleV2 event (SAM's EventBridge rule and scheduler);
 * `resolve` turns a template value (a `!Ref` to a parameter) into its string.
 */
export function scheduledFunctions(
  template: SamTemplate,
  resolve: (raw: unknown) => string | undefined,
): ScheduledFunction[] {
  const found: ScheduledFunction[] = [];
  for (const [logicalId, resource] of Object.entries(template.resources)) {
    if (resource.Type !== "AWS::Serverless::Function") continue;
    const events = (resource.Properties?.Events ?? {}) as Record<
      string,
      {
        Type?: string;
        Properties?: { Schedule?: unknown; ScheduleExpression?: unknown; Enabled?: unknown; State?: unknown };
      }
    >;
    for (const [event, definition] of Object.entries(events)) {
      if (definition.Type !== "Schedule" && definition.Type !== "ScheduleV2") continue;
      const properties = definition.Properties ?? {};
      if (properties.Enabled === false || properties.State === "DISABLED") continue;
      const expression = resolve(properties.Schedule ?? properties.ScheduleExpression) ?? "";
      found.push({
        definition: samFunction(template, logicalId),
        event,
        expression,
        periodMs: ratePeriodMs(expression),
      });
    }
  }
  return found;
}

/** What one scheduled run did. */
export interface ScheduledRun {
  readonly logicalId: string;
  readonly report: InvocationReport;
}

/**
 * One schedule run locally: a warm execution environment invoked with EventBridge's Scheduled Event every
 * period (the first run one period after start, as a new rule fires). A run never overlaps the previous one.
 */
export class LocalSchedule {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly worker: FunctionWorker;
  private readonly schedule: ScheduledFunction;
  private readonly periodMs: number;
  private readonly region: string;
  private readonly onRun: (run: ScheduledRun) => void;

  constructor(options: {
    schedule: ScheduledFunction;
    env: Readonly<Record<string, string>>;
    periodMs: number;
    bootEnv: Readonly<Record<string, string>>;
    logSink: (chunk: Buffer) => void;
    onRun: (run: ScheduledRun) => void;
  }) {
    this.schedule = options.schedule;
    this.periodMs = options.periodMs;
    this.region = options.env.AWS_REGION ?? "us-east-1";
    this.onRun = options.onRun;
    this.worker = new FunctionWorker({
      ...workerSettings(options.schedule.definition, options.env),
      bootEnv: options.bootEnv,
      logSink: options.logSink,
    });
  }

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.runOnce().finally(() => (this.running = undefined));
    }, this.periodMs);
  }

  /** Runs the function now (also what each tick does). */
  async runOnce(): Promise<void> {
    const report = await this.worker.invoke(this.scheduledEvent());
    this.onRun({ logicalId: this.schedule.definition.logicalId, report });
  }

  /** Lets a running run finish for up to `graceMs`, then kills its environment. */
  async stop(graceMs: number): Promise<void> {
    clearInterval(this.timer);
    let graceOver: NodeJS.Timeout | undefined;
    await Promise.race([this.running, new Promise((resolve) => (graceOver = setTimeout(resolve, graceMs)))]);
    clearTimeout(graceOver);
    this.worker.stop();
    await this.running;
  }

  private scheduledEvent(): Record<string, unknown> {
    const rule = `${this.schedule.definition.logicalId}${this.schedule.event}`;
    return {
      version: "0",
      id: randomUUID(),
      "detail-type": "Scheduled Event",
      source: "aws.events",
      account: "123456789012",
      time: new Date().toISOString(),
      region: this.region,
      resources: [`arn:aws:events:${this.region}:123456789012:rule/${rule}`],
      detail: {},
    };
  }
}

/** What the schedules of a flow need to know (a subset of the flow's options). */
export interface ScheduleOptions {
  readonly config: LocalAwsConfig;
  readonly parameterOverrides: Readonly<Record<string, string>>;
  readonly envVars: EnvVarsFile | undefined;
  readonly envVarsPath: string | undefined;
  /** Runs every schedule this often instead of its rate (tests; cron expressions). */
  readonly periodMs: number | undefined;
  readonly logSink: (chunk: Buffer) => void;
  readonly onRun: (run: ScheduledRun) => void;
  readonly note: (text: string) => void;
}

/**
 * The template's schedules (the outbox relay every minute), each in its own warm execution environment
 * with the same database and local cloud as the flow's function, started.
 */
export async function startSchedules(
  template: SamTemplate,
  prepared: PreparedFunction,
  options: ScheduleOptions,
): Promise<LocalSchedule[]> {
  const { note } = options;
  const schedules: LocalSchedule[] = [];
  const resolve = (raw: unknown): string | undefined =>
    resolveTemplateValue(raw, options.parameterOverrides, template, prepared.cloud?.resolveResource);
  for (const schedule of scheduledFunctions(template, resolve)) {
    const periodMs = options.periodMs ?? schedule.periodMs;
    const { logicalId } = schedule.definition;
    if (periodMs === undefined) {
      note(`schedule ${logicalId} ${schedule.expression}: not run locally (only rate() expressions are)`);
      continue;
    }
    const { artifactsDir } = await ensureBuilt(template, logicalId, options.config, note);
    const env = companionEnvironment(
      schedule.definition,
      artifactsDir,
      companionContextOf(template, prepared, options, note),
    );
    const local = new LocalSchedule({
      schedule,
      env,
      periodMs,
      bootEnv: workerBootEnvironment(options.config.hostEnv),
      logSink: options.logSink,
      onRun: options.onRun,
    });
    local.start();
    note(`schedule ${logicalId} (${schedule.expression}) runs every ${Math.round(periodMs / 1000)} s`);
    schedules.push(local);
  }
  return schedules;
}
