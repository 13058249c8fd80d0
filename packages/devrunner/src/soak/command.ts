// What `devrunner soak` does once its flags are parsed (commands/soak.ts parses them): the numbers checked,
// the database found or started, the run, and the report printed.
import { UsageError } from "../cli/errors.ts";
import type { LocalAwsConfig } from "../local-aws/config.ts";
import { soakDatabaseFor } from "./database.ts";
import { formatSoakReport } from "./report.ts";
import { runSoak } from "./soak.ts";

/** The soak's numeric flags, as given. */
export interface SoakFlagValues {
  readonly messages: string;
  readonly "fault-rate": string;
  readonly concurrency: string;
  readonly "rotate-every": string;
}

export interface SoakLimits {
  readonly messages: number;
  readonly faultRate: number;
  readonly concurrency: number;
  readonly rotateEverySeconds: number;
}

/** The numeric flags read and checked; a bad one is a UsageError naming the flag and the value given. */
export function soakLimits(values: SoakFlagValues): SoakLimits {
  const messages = Number(values.messages);
  const faultRate = Number(values["fault-rate"]);
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(messages) || messages < 1)
    throw new UsageError(`--messages must be a positive whole number, not '${values.messages}'`);
  if (!(faultRate >= 0 && faultRate < 1))
    throw new UsageError(`--fault-rate must be from 0 to 1, not '${values["fault-rate"]}'`);
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new UsageError(`--concurrency must be a positive whole number, not '${values.concurrency}'`);
  const rotateEverySeconds = Number(values["rotate-every"]);
  if (!(rotateEverySeconds > 0))
    throw new UsageError(
      `--rotate-every must be a positive number of seconds, not '${values["rotate-every"]}'`,
    );
  return { messages, faultRate, concurrency, rotateEverySeconds };
}

export interface SoakRun extends SoakLimits {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly config: LocalAwsConfig;
  readonly templatePath: string;
  readonly dataDir: string;
  readonly cpuHog: boolean;
  readonly json: boolean;
}

/**
 * Runs the soak on the database the environment names (else a container, stopped afterwards), progress
 * on stderr, the report on stdout (as text or JSON). Exit code 0 when every check passed, 1 otherwise.
 */
export async function runSoakCommand(run: SoakRun): Promise<number> {
  const progress = (text: string): void => void process.stderr.write(`soak: ${text}\n`);
  const interruption = releaseOnSignal(progress);
  const { database, release } = await soakDatabaseFor(run.env, progress);
  interruption.holding(release);
  try {
    const report = await runSoak({
      config: run.config,
      messages: run.messages,
      faultRate: run.faultRate,
      concurrency: run.concurrency,
      rotateEverySeconds: run.rotateEverySeconds,
      cpuHog: run.cpuHog,
      database,
      templatePath: run.templatePath,
      dataDir: run.dataDir,
      progress,
    });
    process.stdout.write(run.json ? `${JSON.stringify(report, null, 2)}\n` : formatSoakReport(report));
    return report.ok ? 0 : 1;
  } finally {
    interruption.dispose();
    await release();
  }
}

/**
 * Ctrl-C or SIGTERM mid-run: says so, lets go of the database (the container is removed, not left
 * running) and exits 130 / 143. A signal while the container starts waits for it, to remove it too.
 */
function releaseOnSignal(progress: (text: string) => void): {
  holding(release: () => Promise<void>): void;
  dispose(): void;
} {
  let release: (() => Promise<void>) | undefined;
  let signalled: NodeJS.Signals | undefined;
  const stop = (signal: NodeJS.Signals): void => {
    void (release ?? (() => Promise.resolve()))()
      .catch((error: unknown) => progress(`could not release the database: ${(error as Error).message}`))
      .finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) return;
    signalled = signal;
    progress(`stopping (${signal})${release ? "" : ": once the database has started"}`);
    if (release) stop(signal);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    holding: (held) => {
      release = held;
      if (signalled) stop(signalled);
    },
    dispose: () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}
