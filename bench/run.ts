// pnpm bench [--quick]: every speed of the loop against its floor, measured in one run (machines are
// noisy, so each figure is compared with a baseline taken in the same run). Writes
// bench/results/latest.json and latest.svg and prints a table.
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { createPostgresDatabase, migrateToLatest, parseDatabaseSettings } from "@entity/adapters";
import {
  postgresTestImage,
  startPostgresContainer,
  startTestFauxqs,
  testPgClient,
} from "@entity/adapters/testing";
import { peakRss, progress, sample, timeCommand, type Sample } from "./measure.ts";
import { barChart } from "./svg.ts";
import { sameIoThroughput } from "./same-io-floor.ts";
import { linkedInvoke, linkedProcess } from "./session-link.ts";
import { throughputFigure } from "./throughput.ts";
import { saveToLiveFigure, upLoopFigures } from "./up-loop.ts";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    // --only up-loop: the hot reload's figure alone (save -> new code live), --runs times (default 5).
    only: { type: "string" },
    runs: { type: "string" },
  },
});
if (values.only !== undefined && values.only !== "up-loop")
  throw new Error(`--only: unknown scenario ${values.only} (known: up-loop)`);
const quick = values.quick;
const runs = quick ? 3 : 7;
const root = resolve(import.meta.dirname, "..");
const cli = join(root, "packages/devrunner/bin/devrunner.mjs");
const scratch = mkdtempSync(join(tmpdir(), "bench-"));
const node = process.execPath;
const started = Date.now();

type Handler = (event: unknown, context: unknown) => Promise<{ batchItemFailures: unknown[] }>;
let handler: Handler | undefined;

interface Figure {
  readonly figure: string;
  readonly value: Sample | number | undefined;
  readonly unit: string;
  readonly baseline?: Sample | number;
  readonly target: string;
  readonly met: boolean | undefined;
  readonly note?: string;
}
const figures: Figure[] = [];
const record = (figure: Figure): void => {
  figures.push(figure);
  const shown =
    typeof figure.value === "number"
      ? figure.value.toFixed(0)
      : figure.value
        ? figure.value.median.toFixed(0)
        : "-";
  progress(
    `${figure.figure}: ${shown} ${figure.unit} (${figure.met === undefined ? "report" : figure.met ? "target met" : "TARGET MISSED"})`,
  );
};

process.stderr.write(`bench (${quick ? "quick" : "full"}): starting Postgres 17 (${postgresTestImage()})\n`);
const container = await startPostgresContainer();
const dbConfig = {
  host: container.host,
  port: container.port,
  user: container.user,
  password: container.password,
  database: container.database,
};
const { db } = createPostgresDatabase(parseDatabaseSettings(container.env, { poolMax: 2 }));
await migrateToLatest(db);
const dbEnv = container.env;
const baseEnv: NodeJS.ProcessEnv = {
  ...process.env,
  DEVRUNNER_BUILD_DIR: join(scratch, "build"),
  DEVRUNNER_DATA_DIR: join(scratch, "pglite"),
  DEVRUNNER_UP_STATE: join(scratch, "up.json"),
};
for (const name of Object.keys(baseEnv))
  if (/^(DB_|DATABASE_URL|OUTBOUND_QUEUE_URL|DLQ_URL)/.test(name)) delete baseEnv[name];
if (values.only === "up-loop") {
  const envVars = join(scratch, "env.json");
  writeFileSync(
    envVars,
    JSON.stringify({ EntityFunction: { ...container.env, DB_SECRET_ARN: "", LOG_LEVEL: "WARN" } }),
  );
  const runs = Number(values.runs ?? 5);
  const figure = await saveToLiveFigure({ node, root, scratch, baseEnv, envVars, runs });
  const { median, min, max } = figure.value as Sample;
  console.log(
    `${figure.figure}: ${median.toFixed(0)} ms (${min.toFixed(0)}-${max.toFixed(0)}, ${runs} runs), target ${figure.target}${figure.met ? "" : " MISSED"}; ${figure.note}`,
  );
  await db.destroy();
  await container.stop();
  rmSync(scratch, { recursive: true, force: true });
  process.exit(0);
}
let keyNumber = 0;
const freshKey = (prefix: string): string => `${prefix}_${(keyNumber += 1)}_20220608T043249`;

// Baselines.
progress("baselines");
const nodeEmpty = await sample(runs, () => timeCommand(node, ["-e", ""], baseEnv));
const nodePgQuery = await sample(runs, () =>
  timeCommand(
    node,
    [
      "--input-type=module",
      "-e",
      `import pg from "pg"; const c = new pg.Client(${JSON.stringify(dbConfig)}); await c.connect(); await c.query("select 1"); await c.end();`,
    ],
    { ...baseEnv, NODE_PATH: join(root, "node_modules") },
  ),
);

// 1. process on the embedded database (warm folder) vs PGlite opening that folder alone.
progress("devrunner process, embedded");
await timeCommand(node, ["--", cli, "process", freshKey("WARMUP")], baseEnv);
const pgliteOpen = await sample(runs, () =>
  timeCommand(
    node,
    [
      "--input-type=module",
      "-e",
      `import { PGlite } from "@electric-sql/pglite"; const db = await PGlite.create(${JSON.stringify(join(scratch, "pglite"))}); await db.query("select 1"); await db.close();`,
    ],
    baseEnv,
  ),
);
const processEmbedded = await sample(runs, () =>
  timeCommand(node, ["--", cli, "process", freshKey("EMBEDDED")], baseEnv),
);
record({
  figure: "devrunner process KEY, embedded (warm folder)",
  value: processEmbedded,
  unit: "ms",
  baseline: pgliteOpen,
  target: "<= 1.15x baseline",
  met: processEmbedded.median <= 1.15 * pgliteOpen.median,
});

// 1b. process through a running session (it holds the embedded database).
const processLinked = await linkedProcess({
  node,
  cli,
  env: baseEnv,
  runs,
  freshKey: () => freshKey("LINKED"),
});
record({
  figure: "devrunner process KEY, through a running session",
  value: processLinked,
  unit: "ms",
  baseline: nodeEmpty,
  target: "<= 100 ms",
  met: processLinked.median <= 100,
});

// 2. process against Postgres.
progress("devrunner process, Postgres");
const pgEnv = { ...baseEnv, ...dbEnv };
const processPostgres = await sample(runs, () =>
  timeCommand(node, ["--", cli, "process", freshKey("POSTGRES")], pgEnv),
);
record({
  figure: "devrunner process KEY, Postgres",
  value: processPostgres,
  unit: "ms",
  baseline: nodePgQuery,
  target: "<= 1.3x baseline",
  met: processPostgres.median <= 1.3 * nodePgQuery.median,
});

// 3. invoke of the built bundle on an SQS event.
progress("devrunner invoke");
const envVars = join(scratch, "env.json");
writeFileSync(
  envVars,
  JSON.stringify({ EntityFunction: { ...dbEnv, DB_SECRET_ARN: "", LOG_LEVEL: "WARN" } }),
);
const eventFile = (): string => {
  const path = join(scratch, `event-${keyNumber}.json`);
  writeFileSync(path, execFileSync(node, ["--", cli, "event", "sqs", freshKey("INVOKED")], { env: baseEnv }));
  return path;
};
await timeCommand(node, ["--", cli, "invoke", "--env-vars", envVars, "--event", eventFile()], baseEnv);
const invoke = await sample(runs, async () => {
  const file = eventFile();
  return timeCommand(node, ["--", cli, "invoke", "--env-vars", envVars, "--event", file], baseEnv);
});
record({
  figure: "devrunner invoke (built bundle, SQS event)",
  value: invoke,
  unit: "ms",
  baseline: nodePgQuery,
  target: "<= 300 ms",
  met: invoke.median <= 300,
});
const invokeLinked = await linkedInvoke({ node, cli, env: baseEnv, runs, envVars, eventFile });
record({
  figure: "devrunner invoke, through a running up",
  value: invokeLinked,
  unit: "ms",
  baseline: nodeEmpty,
  target: "report",
  met: undefined,
});

// 4. watch: save -> result printed.
progress("devrunner watch");
const watchDelay = await measureWatch();
record({
  figure: "watch: save -> result printed",
  value: watchDelay,
  unit: "ms",
  target: "<= 300 ms",
  met: watchDelay.median <= 300,
});

// 5. up: publish -> committed in Postgres.
progress("devrunner up");
const upDelay = await measureUp();
record({
  figure: "up: publish KEY -> committed in Postgres",
  value: upDelay,
  unit: "ms",
  target: "<= 1000 ms",
  met: upDelay.median <= 1000,
});

// 6. cold init and 7. bundle size.
progress("bundle: cold init and size");
const bundle = join(scratch, "build", "EntityFunction", "index.mjs");
const initEnv = {
  ...baseEnv,
  ...dbEnv,
  ENV: "dev",
  OUTBOUND_QUEUE_URL: "http://127.0.0.1:1/000000000000/o",
  DLQ_URL: "http://127.0.0.1:1/000000000000/d",
  AWS_REGION: "us-east-1",
};
const coldImport = await sample(runs, () =>
  timeCommand(
    node,
    ["--input-type=module", "-e", `await import(${JSON.stringify(`file://${bundle}`)});`],
    initEnv,
  ),
);
const overhead = coldImport.median - nodeEmpty.median;
record({
  figure: "cold init: import bundle + build container (no I/O)",
  value: coldImport,
  unit: "ms",
  baseline: nodeEmpty,
  target: "<= 60 ms over baseline",
  met: overhead <= 60,
  note: `${overhead.toFixed(0)} ms over node -e ''`,
});
const bundleKb =
  readdirSync(join(scratch, "build", "EntityFunction"))
    .filter((name) => name.endsWith(".mjs"))
    .reduce((sum, name) => sum + statSync(join(scratch, "build", "EntityFunction", name)).size, 0) / 1024;
record({
  figure: "bundle size (minified, no sourcemap)",
  value: bundleKb,
  unit: "KiB",
  target: "<= 1024 KiB",
  met: bundleKb <= 1024,
});

// 8, 9. handler throughput vs raw pg and vs the same-I/O floor.
progress("handler throughput");
for (const [batchSize, batches] of [
  [10, quick ? 30 : 100],
  [1000, quick ? 3 : 8],
] as const)
  record(
    await throughputFigure(batchSize, quick ? 1 : 3, {
      handler: () => handlerThroughput(batchSize, batches),
      sameIoFloor: () =>
        sameIoThroughput({
          db: dbConfig,
          sqs: outboundQueue(),
          batchSize,
          batches,
          freshKey: () => freshKey(`FLOOR_${batchSize}`),
        }),
      rawPg: () => rawThroughput(batchSize, batches),
    }),
  );

// 10. peak RSS.
progress("peak RSS");
const rssPostgres = await peakRss(node, ["--", cli, "process", freshKey("RSS")], pgEnv);
const rssEmbedded = await peakRss(node, ["--", cli, "process", freshKey("RSS")], baseEnv);
record({
  figure: "peak RSS of devrunner process, Postgres",
  value: rssPostgres,
  unit: "MB",
  target: "report",
  met: undefined,
});
record({
  figure: "peak RSS of devrunner process, embedded",
  value: rssEmbedded,
  unit: "MB",
  target: "report",
  met: undefined,
});

// 11, 12. up: save -> new code live, and the embedded default under 2,000 keys (bench/up-loop.ts).
for (const figure of await upLoopFigures({ node, root, scratch, baseEnv, envVars, runs: quick ? 2 : 3 }))
  record(figure);

await db.destroy();
await container.stop();
rmSync(scratch, { recursive: true, force: true });

const machine = `${cpus().length} x ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
const results = {
  date: new Date().toISOString(),
  mode: quick ? "quick" : "full",
  machine,
  durationSeconds: Math.round((Date.now() - started) / 1000),
  figures,
};
mkdirSync(join(root, "bench/results"), { recursive: true });
writeFileSync(join(root, "bench/results/latest.json"), `${JSON.stringify(results, null, 2)}\n`);
const loopBar = (label: string, value: Sample): { label: string; ms: number } => ({
  label,
  ms: value.median,
});
writeFileSync(
  join(root, "bench/results/latest.svg"),
  barChart(`The development loop, ${new Date().toISOString().slice(0, 10)} (${machine})`, [
    loopBar("process KEY (embedded)", processEmbedded),
    loopBar("process KEY (running session)", processLinked),
    loopBar("process KEY (Postgres)", processPostgres),
    loopBar("invoke (built bundle)", invoke),
    loopBar("invoke (running session)", invokeLinked),
    loopBar("watch: save -> result", watchDelay),
    loopBar("up: publish -> committed", upDelay),
    { label: "sam local invoke (with build)", ms: 20_000, reference: true },
    { label: "deploy + trigger via SNS", ms: 420_000, reference: true },
  ]),
);
printTable();
// The imported handler's pool and SQS client, and the emulator, keep the event loop alive.
process.exit(0);

function printTable(): void {
  const cell = (value: Sample | number | undefined, unit: string): string =>
    value === undefined
      ? "n/a"
      : typeof value === "number"
        ? `${value.toFixed(0)} ${unit}`
        : `${value.median.toFixed(0)} ${unit} (${value.min.toFixed(0)}-${value.max.toFixed(0)})`;
  const lines = [
    `| figure | median (min-max) | baseline, same run | target | met |`,
    `|---|---|---|---|---|`,
    ...figures.map(
      (f) =>
        `| ${f.figure} | ${cell(f.value, f.unit)} | ${f.baseline === undefined ? "-" : cell(f.baseline, typeof f.baseline === "number" ? f.unit : "ms")}${f.note ? `; ${f.note}` : ""} | ${f.target} | ${f.met === undefined ? "report" : f.met ? "yes" : "**no**"} |`,
    ),
  ];
  process.stdout.write(
    `\n${lines.join("\n")}\n\n${machine}; ${results.mode} run in ${results.durationSeconds} s; bench/results/latest.json, latest.svg\n`,
  );
}

async function measureWatch(): Promise<Sample> {
  const probe = join(root, "packages/domain/src", `bench-probe-${process.pid}.ts`);
  const child = spawn(node, ["--", cli, "watch", "process", "--db", "memory", freshKey("WATCHED")], {
    env: baseEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const waitFor = async (pattern: RegExp): Promise<void> => {
    const deadline = Date.now() + 30_000;
    while (!pattern.test(output)) {
      if (Date.now() > deadline) throw new Error(`watch: no ${pattern} in ${output}`);
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  try {
    await waitFor(/watching packages/);
    let run = 1;
    return await sample(runs, async () => {
      run += 1;
      const saved = performance.now();
      writeFileSync(probe, `export const probe = ${run};\n`);
      await waitFor(new RegExp(`── run ${run} done`));
      return performance.now() - saved;
    });
  } finally {
    rmSync(probe, { force: true });
    child.kill("SIGINT");
  }
}

async function measureUp(): Promise<Sample> {
  const child = spawn(
    node,
    ["--", cli, "up", "--port", "0", "--env-vars", envVars, "--parameter-overrides", "MaximumConcurrency=2"],
    { env: baseEnv, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", () => undefined);
  try {
    const deadline = Date.now() + 60_000;
    while (!/^ready:/m.test(output)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`up did not start: ${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const state = JSON.parse(readFileSync(join(scratch, "up.json"), "utf8")) as {
      endpoint: string;
      topicArn: string;
    };
    const sns = new SNSClient({
      endpoint: state.endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "l", secretAccessKey: "l" },
    });
    const once = async (): Promise<number> => {
      const key = freshKey("UP");
      const name = key.replace(/_20220608T043249$/, "");
      const sent = performance.now();
      await sns.send(new PublishCommand({ TopicArn: state.topicArn, Message: key }));
      for (;;) {
        const row = await db.selectFrom("entity").select("name").where("name", "=", name).executeTakeFirst();
        if (row) return performance.now() - sent;
        if (performance.now() - sent > 30_000) throw new Error(`up: ${key} never committed`);
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    await once(); // warm the execution environments
    await once();
    const result = await sample(runs, once);
    sns.destroy();
    return result;
  } finally {
    child.kill("SIGINT");
  }
}

async function handlerThroughput(batchSize: number, batches: number): Promise<number> {
  if (!handler) {
    const emulator = await startTestFauxqs();
    Object.assign(process.env, initEnv, {
      LOG_LEVEL: "WARN",
      OUTBOUND_QUEUE_URL: emulator.server.createQueue("outbound").queueUrl,
      DLQ_URL: emulator.server.createQueue("dlq").queueUrl,
      AWS_ENDPOINT_URL_SQS: emulator.endpoint,
      AWS_ACCESS_KEY_ID: "bench",
      AWS_SECRET_ACCESS_KEY: "bench",
    });
    handler = ((await import(`file://${bundle}`)) as { handler: Handler }).handler;
  }
  const context = {
    awsRequestId: "bench",
    functionName: "EntityFunction",
    getRemainingTimeInMillis: () => 900_000,
  };
  const event = (): unknown => ({
    Records: Array.from({ length: batchSize }, (_, i) => ({
      messageId: `m-${keyNumber}-${i}`,
      body: freshKey(`HANDLER_${batchSize}`),
      attributes: {},
    })),
  });
  await handler(event(), context);
  const startedAt = performance.now();
  for (let i = 0; i < batches; i += 1) {
    const response = await handler(event(), context);
    if (response.batchItemFailures.length > 0)
      throw new Error(`handler failed ${response.batchItemFailures.length} records`);
  }
  return (batchSize * batches * 1000) / (performance.now() - startedAt);
}

async function rawThroughput(batchSize: number, batches: number): Promise<number> {
  const client = await testPgClient(dbConfig);
  const startedAt = performance.now();
  for (let b = 0; b < batches; b += 1) {
    const keys = Array.from({ length: batchSize }, () => freshKey(`RAW_${batchSize}`));
    const names = keys.map((key) => key.replace(/_20220608T043249$/, ""));
    const now = new Date().toISOString();
    await client.query("begin");
    await client.query(
      `insert into entity (name, latest_key, latest_observed_at, first_seen_at, updated_at, observation_count)
       select n, k, '2022-06-08T04:32:49Z', $3, $3, 1 from unnest($1::text[], $2::text[]) as t(n, k)
       on conflict (name) do update set latest_key = excluded.latest_key, observation_count = entity.observation_count + 1`,
      [names, keys, now],
    );
    await client.query(
      `insert into observation (key, name, observed_at, message_id, received_at, outcome)
       select k, n, '2022-06-08T04:32:49Z', k, $3, 'created' from unnest($1::text[], $2::text[]) as t(n, k)`,
      [names, keys, now],
    );
    await client.query(
      `insert into outbox (event_id, event_type, entity_name, payload)
       select k, 'entity.created', n, jsonb_build_object('key', k) from unnest($1::text[], $2::text[]) as t(n, k)`,
      [names, keys],
    );
    await client.query("commit");
  }
  const elapsed = performance.now() - startedAt;
  await client.end();
  return (batchSize * batches * 1000) / elapsed;
}

/** The queue the imported handler sends to (set up by handlerThroughput's first call). */
function outboundQueue(): { endpoint: string; queueUrl: string } {
  return { endpoint: process.env.AWS_ENDPOINT_URL_SQS!, queueUrl: process.env.OUTBOUND_QUEUE_URL! };
}
