// `up` as a developer leaves it running (#14): how soon a saved change is live (hot reload), and the
// embedded default (PGlite) under the template's own concurrency with 2,000 keys.
import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { progress, sample, type Sample } from "./measure.ts";

interface UpLoopFigure {
  readonly figure: string;
  readonly value: Sample | number;
  readonly unit: string;
  readonly target: string;
  readonly met: boolean;
  readonly note?: string;
}

interface UpLoopOptions {
  readonly node: string;
  readonly root: string;
  readonly scratch: string;
  readonly baseEnv: NodeJS.ProcessEnv;
  /** The env-vars file naming the bench's Postgres. */
  readonly envVars: string;
  readonly runs: number;
}

export async function upLoopFigures(options: UpLoopOptions): Promise<UpLoopFigure[]> {
  const reload = await saveToLiveFigure(options);
  progress("up on the embedded default, 2,000 keys");
  const embedded = await embeddedKeys(options, 2000);
  return [
    reload,
    {
      figure: "up on the embedded default, 2,000 keys (concurrency 5)",
      value: embedded.recordsPerSecond,
      unit: "records/s",
      target: "0 failures",
      met: embedded.failures === 0,
      note: `${embedded.failures} failed or timed-out record(s), ${embedded.seconds.toFixed(1)} s`,
    },
  ];
}

/** `pnpm bench --only up-loop` runs this figure alone. */
export async function saveToLiveFigure(options: UpLoopOptions): Promise<UpLoopFigure> {
  progress("up: save -> new code live");
  const { total, build, bundler, init, probe } = await saveToLive(options);
  const ms = (value: Sample): string => `${value.median.toFixed(0)} ms`;
  return {
    figure: "up: save -> new code live (hot reload)",
    value: total,
    unit: "ms",
    target: "<= 300 ms",
    met: total.median <= 300,
    note: `save, up says reloaded, a probe message, the new code starts on it; in up (medians): rebuild ${ms(build)} (the build server's own ${ms(bundler)}), first new environment's init ${ms(init)}, probe sent -> new code started on it ${ms(probe)}`,
  };
}

/**
 * `up` runs from a copy of the project (its CLI finds the copy's sources, so the bench edits those): each
 * run rewrites the function's entry to log a new version when it starts on a message; once `up` says it
 * reloaded, a probe message goes to the queue. The figure is from the save to the new code starting on it.
 */
async function saveToLive(
  options: UpLoopOptions,
): Promise<{ total: Sample; build: Sample; bundler: Sample; init: Sample; probe: Sample }> {
  const project = join(options.scratch, "reload-project");
  for (const folder of ["domain", "adapters", "lambda", "devrunner"])
    cpSync(join(options.root, "packages", folder), join(project, "packages", folder), {
      recursive: true,
      verbatimSymlinks: true,
      filter: (source) => !/\/(dist|\.bundle|\.devrunner)$/.test(source),
    });
  for (const file of ["Makefile", "template.yaml", "package.json", "pnpm-workspace.yaml", "pnpm-lock.yaml"])
    cpSync(join(options.root, file), join(project, file));
  symlinkSync(join(options.root, "node_modules"), join(project, "node_modules"));
  const entry = join(project, "packages/lambda/src/index.ts");
  const exported = "export const handler: SqsBatchHandler = container.get<SqsBatchHandler>(TOKENS.handler);";
  const original = readFileSync(entry, "utf8");
  if (!original.includes(exported)) throw new Error(`${entry}: no \`${exported}\` to wrap`);
  // Logged when that version starts on a message (what comes after is the handler's own time).
  const writeVersion = (version: number): void =>
    writeFileSync(
      entry,
      original.replace(
        exported,
        `const real = container.get<SqsBatchHandler>(TOKENS.handler);
export const handler: SqsBatchHandler = async (event, context) => {
  console.log("code version ${version} received a message");
  return real(event, context);
};`,
      ),
    );
  writeVersion(0);
  const env = { ...options.baseEnv, DEVRUNNER_UP_STATE: join(options.scratch, "reload-up.json") };
  const cli = join(project, "packages/devrunner/src/cli.ts");
  const up = startUp(options.node, [cli, "up", "--port", "0", "--env-vars", options.envVars], env);
  try {
    await up.waitFor(/^ready:/m, 120_000);
    const state = JSON.parse(readFileSync(env.DEVRUNNER_UP_STATE, "utf8")) as {
      endpoint: string;
      queueUrl: string;
    };
    const sqs = new SQSClient({
      endpoint: state.endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "l", secretAccessKey: "l" },
    });
    let version = 0;
    let probe = 0;
    const reloads = (): number => up.output().match(/^reloaded \(/gm)?.length ?? 0;
    // up's own split of each reload: its build and its first new environment's init; the probe's share.
    const lastMs = (pattern: RegExp): number => Number([...up.output().matchAll(pattern)].at(-1)?.[1] ?? NaN);
    const split = {
      build: [] as number[],
      bundler: [] as number[],
      init: [] as number[],
      probe: [] as number[],
    };
    // Probes wait for up's "reloaded" line: probes sent during the build would load the machine it builds on.
    const saveUntilLive = async (): Promise<number> => {
      version += 1;
      const before = reloads();
      const saved = performance.now();
      writeVersion(version);
      while (reloads() <= before) {
        if (performance.now() - saved > 60_000) throw new Error(`up: version ${version} never reloaded`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      split.build.push(lastMs(/^reloaded \(.*\): built in (\d+) ms/gm));
      split.bundler.push(lastMs(/^reloaded \(.*\): built in \d+ ms \(bundler (\d+) ms\)/gm));
      const live = new RegExp(`code version ${version} received`);
      let sent = performance.now();
      while (!live.test(up.output())) {
        if (performance.now() - saved > 60_000) throw new Error(`up: version ${version} never live`);
        probe += 1;
        await sqs.send(
          new SendMessageCommand({
            QueueUrl: state.queueUrl,
            MessageBody: `RELOAD_PROBE_${probe}_20220608T043249`,
          }),
        );
        sent = performance.now();
        while (!live.test(up.output()) && performance.now() - sent < 1000)
          await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const now = performance.now();
      split.probe.push(now - sent);
      // The init may end after the new code started on the probe (the probe waited for it).
      const warmCount = reloads();
      while (
        (up.output().match(/^new code warm:/gm)?.length ?? 0) < warmCount &&
        performance.now() - now < 10_000
      )
        await new Promise((resolve) => setTimeout(resolve, 5));
      split.init.push(lastMs(/^new code warm: init (\d+) ms/gm));
      return now - saved;
    };
    // Unmeasured: the first save also waits for the build server's first (whole) build, begun at start.
    await saveUntilLive();
    for (const values of Object.values(split)) values.length = 0;
    const total = await sample(options.runs, saveUntilLive);
    sqs.destroy();
    return {
      total,
      build: summary(split.build),
      bundler: summary(split.bundler),
      init: summary(split.init),
      probe: summary(split.probe),
    };
  } finally {
    await up.stop();
  }
}

function summary(values: readonly number[]): Sample {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    median: sorted[Math.floor(sorted.length / 2)] ?? NaN,
    min: sorted[0] ?? NaN,
    max: sorted.at(-1) ?? NaN,
    runs: sorted.length,
  };
}

/** 2,000 keys over 250 names (one in ten a duplicate), published by four publishers at once. */
async function embeddedKeys(
  options: UpLoopOptions,
  count: number,
): Promise<{ recordsPerSecond: number; failures: number; seconds: number }> {
  const env = {
    ...options.baseEnv,
    DEVRUNNER_DATA_DIR: join(options.scratch, "embedded-2000"),
    DEVRUNNER_UP_STATE: join(options.scratch, "embedded-up.json"),
  };
  const cli = join(options.root, "packages/devrunner/bin/devrunner.mjs");
  const keys: string[] = [];
  for (let i = 0; i < count; i += 1)
    keys.push(
      i % 10 === 9
        ? keys[i - 1]!
        : `EMBEDDED_${i % 250}_202203${String(1 + (i % 28)).padStart(2, "0")}T${String(i % 24).padStart(2, "0")}${String(i % 60).padStart(2, "0")}00`,
    );
  const up = startUp(
    options.node,
    [cli, "up", "--port", "0", "--no-reload", "--fresh", "--parameter-overrides", "MaximumConcurrency=5"],
    env,
  );
  try {
    await up.waitFor(/^ready:/m, 120_000);
    const started = performance.now();
    const share = count / 4;
    await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        run(options.node, [cli, "publish", ...keys.slice(i * share, (i + 1) * share)], env),
      ),
    );
    const reported = (): { records: number; failed: number } => {
      let records = 0;
      let failed = 0;
      for (const [, size, bad] of up.output().matchAll(/^batch of (\d+) -> \d+ ok, (\d+) failed/gm)) {
        records += Number(size);
        failed += Number(bad);
      }
      return { records, failed };
    };
    while (reported().records - reported().failed < count) {
      if (performance.now() - started > 300_000) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const seconds = (performance.now() - started) / 1000;
    const { records, failed } = reported();
    return {
      recordsPerSecond: (records - failed) / seconds,
      failures: failed + (count - (records - failed)),
      seconds,
    };
  } finally {
    await up.stop();
  }
}

function startUp(
  node: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): {
  output: () => string;
  waitFor: (pattern: RegExp, timeoutMs: number) => Promise<void>;
  stop: () => Promise<void>;
} {
  const child: ChildProcess = spawn(node, ["--", ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return {
    output: () => output,
    waitFor: async (pattern, timeoutMs) => {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(output)) {
        if (Date.now() > deadline || child.exitCode !== null)
          throw new Error(`up: no ${pattern} in:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGINT");
      }),
  };
}

function run(node: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(node, ["--", ...args], { env, stdio: "ignore" });
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`${args.join(" ")} exited ${code}`)),
    );
  });
}
