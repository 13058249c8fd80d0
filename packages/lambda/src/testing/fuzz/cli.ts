import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs, parseEnv } from "node:util";
import { randomSeed, fuzzHandler, type FuzzReport } from "./run.ts";
import { withScratchDatabase } from "./scratch-database.ts";
import { memoryTarget, postgresTarget, type FuzzTarget } from "./targets.ts";

export const FUZZ_HELP = `pnpm fuzz [--runs N] [--pg-runs N] [--seed S] [--path P] [--env-file FILE] [--allow-prod]

Drives random SQS batches (bodies, keys near the grammar's edges, SNS envelopes, record and message
attributes, huge bodies, FIFO groups, duplicates and redeliveries) through the Lambda's handler and
checks every record: stored exactly as given, or dead-lettered with a reason code and a reason; never
both, never neither; no crash; the store holds nothing else; the schema is untouched.

  --runs N      scenarios on the in-memory adapters (default 100,000; 0 skips them)
  --pg-runs N   scenarios against Postgres (default runs/100, at least 200; 0 skips them). Postgres: a
                scratch database on the server DATABASE_URL / DB_HOST names (environment or --env-file),
                created and dropped by the fuzz, else a throwaway container (Docker; PG_TEST_IMAGE)
  --seed S      reproduce a run (the seed is printed at the start)
  --path P      with --seed: replay one counterexample (as printed on failure)
  --allow-prod  fuzz against a server even when ENV is prod or production
Exit code 0 when every record ended as it must, 1 otherwise, 2 for bad arguments.`;

class UsageError extends Error {}

interface FuzzArguments {
  readonly runs: number;
  readonly pgRuns: number;
  readonly seed: number;
  readonly path: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly allowProd: boolean;
}

/** `pnpm fuzz`: returns the exit code. */
export async function fuzzCommand(argv: readonly string[]): Promise<number> {
  let args: FuzzArguments | "help";
  try {
    args = parseFuzzArguments(argv);
  } catch (error) {
    if (!(error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")))
      throw error;
    process.stderr.write(`fuzz: ${(error as Error).message}\n\n${FUZZ_HELP}\n`);
    return 2;
  }
  if (args === "help") {
    process.stdout.write(`${FUZZ_HELP}\n`);
    return 0;
  }
  const { runs, pgRuns, seed, path, env } = args;
  say(`seed ${seed} (reproduce with --seed ${seed}); ${runs} runs in memory, ${pgRuns} against Postgres`);
  const reports: FuzzReport[] = [];
  const finished = (report: FuzzReport): void => {
    printReport(report, runs, pgRuns);
    reports.push(report);
  };
  if (runs > 0) finished(await fuzzWithProgress(memoryTarget(), runs, seed, path, "memory"));
  let postgresProblem: string | undefined;
  if (pgRuns > 0) {
    try {
      refuseProduction(env, args.allowProd);
      finished(
        await withScratchDatabase(env, say, async (db, where) => {
          say(`postgres: in ${where}`);
          return fuzzWithProgress(await postgresTarget(db), pgRuns, seed, path, "postgres");
        }),
      );
    } catch (error) {
      postgresProblem = error instanceof Error ? error.message : String(error);
    }
  }
  if (postgresProblem) process.stdout.write(`FAIL postgres: could not run: ${postgresProblem}\n`);
  return !postgresProblem && reports.every((report) => report.ok) ? 0 : 1;
}

function refuseProduction(env: Readonly<Record<string, string | undefined>>, allowProd: boolean): void {
  const name = env.ENV?.trim().toLowerCase();
  if ((name === "prod" || name === "production") && !allowProd) {
    throw new Error(
      `ENV=${env.ENV} names production: refusing to fuzz its database server (pass --allow-prod if you mean it)`,
    );
  }
}

function parseFuzzArguments(argv: readonly string[]): FuzzArguments | "help" {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      runs: { type: "string", default: "100000" },
      "pg-runs": { type: "string" },
      seed: { type: "string" },
      path: { type: "string" },
      "env-file": { type: "string" },
      "allow-prod": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return "help";
  const runs = wholeNumber("--runs", values.runs);
  const pgRuns =
    values["pg-runs"] === undefined
      ? Math.max(200, Math.round(runs / 100))
      : wholeNumber("--pg-runs", values["pg-runs"]);
  const seed = values.seed === undefined ? randomSeed() : wholeNumber("--seed", values.seed);
  if (values.path !== undefined && values.seed === undefined)
    throw new UsageError("--path replays a counterexample of a given --seed");
  const envFile = values["env-file"] && resolve(process.env.INIT_CWD ?? process.cwd(), values["env-file"]);
  const env = envFile ? { ...process.env, ...parseEnv(readFileSync(envFile, "utf8")) } : { ...process.env };
  return { runs, pgRuns, seed, path: values.path, env, allowProd: values["allow-prod"] };
}

function wholeNumber(flag: string, text: string): number {
  const value = Number(text.replaceAll("_", "").replaceAll(",", ""));
  if (!Number.isSafeInteger(value) || value < 0)
    throw new UsageError(`${flag} must be a whole number, not '${text}'`);
  return value;
}

async function fuzzWithProgress(
  target: FuzzTarget,
  runs: number,
  seed: number,
  path: string | undefined,
  label: string,
): Promise<FuzzReport> {
  say(`${label}: ${runs.toLocaleString("en")} runs`);
  const started = performance.now();
  let lastReport = started;
  const report = await fuzzHandler(target, {
    runs,
    seed,
    ...(path ? { path } : {}),
    onScenario: ({ executed, shrinking }) => {
      const now = performance.now();
      if (now - lastReport < 2000) return;
      lastReport = now;
      const rate = executed / ((now - started) / 1000);
      say(
        shrinking
          ? `${label}: shrinking a failure (${executed.toLocaleString("en")} scenarios run)`
          : `${label}: ${executed.toLocaleString("en")}/${runs.toLocaleString("en")} runs, ${rate.toFixed(0)} runs/s`,
      );
    },
  });
  return { ...report, target: label };
}

function printReport(report: FuzzReport, runs: number, pgRuns: number): void {
  if (report.ok) {
    const rate = report.runs / report.seconds;
    process.stdout.write(
      `PASS ${report.target}: ${report.runs.toLocaleString("en")} runs in ${report.seconds.toFixed(1)} s (${rate.toFixed(0)} runs/s), seed ${report.seed}\n`,
    );
    return;
  }
  const summary = `${report.target}: run ${report.runs.toLocaleString("en")} failed, seed ${report.seed}`;
  const failure = report.failure!;
  const memory = report.target === "memory";
  const replay = `pnpm fuzz --seed ${report.seed} --path ${failure.path} ${memory ? `--runs ${runs} --pg-runs 0` : `--runs 0 --pg-runs ${pgRuns}`}`;
  process.stdout.write(
    [
      `FAIL ${summary}`,
      `  ${failure.message.replaceAll("\n", "\n  ")}`,
      `counterexample (shrunk in ${failure.shrinks} steps):`,
      `  ${failure.counterexample.replaceAll("\n", "\n  ")}`,
      `replay: ${replay}`,
      "",
    ].join("\n"),
  );
}

function say(line: string): void {
  process.stderr.write(`fuzz: ${line}\n`);
}
