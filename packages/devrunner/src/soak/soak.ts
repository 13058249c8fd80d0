import { Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import { migrateToLatest, type EntityDatabase } from "@entity/adapters/postgres";
import { startLocalFlow } from "../local-aws/flow.ts";
import { startFaultProxy } from "./fault-proxy.ts";

export interface SoakOptions {
  readonly messages: number;
  /** Share of database round trips cut short (a transient fault), e.g. 0.05. */
  readonly faultRate: number;
  readonly database: { host: string; port: number; user: string; password: string; database: string };
  readonly templatePath: string;
  readonly dataDir: string;
  readonly concurrency?: number;
  readonly batchSize?: number;
  readonly timeoutSeconds?: number;
  readonly progress: (text: string) => void;
}

export interface SoakCounts {
  readonly entities: number;
  readonly observations: number;
  readonly outboxPublished: number;
  readonly outboxPending: number;
  readonly outboundMessages: number;
  readonly deadLettered: number;
}

export interface SoakReport {
  readonly ok: boolean;
  readonly problems: readonly string[];
  readonly published: number;
  readonly distinctKeys: number;
  readonly poisonKeys: number;
  readonly names: number;
  readonly faultsInjected: number;
  readonly batches: number;
  readonly failedRecords: number;
  readonly seconds: number;
  readonly messagesPerSecond: number;
  readonly counts: SoakCounts;
}

/** The keys to publish: duplicates (at-least-once delivery), out-of-order stamps, and 1 % poison keys. */
export function soakKeys(
  messages: number,
  random: () => number,
): { published: string[]; valid: Set<string>; poison: Set<string> } {
  const names = Math.max(1, Math.floor(messages / 8));
  const published: string[] = [];
  const valid = new Set<string>();
  const poison = new Set<string>();
  while (published.length < messages) {
    const roll = random();
    if (roll < 0.01) {
      const key = `soak_poison_${published.length}`;
      poison.add(key);
      published.push(key);
    } else if (roll < 0.11 && valid.size > 0) {
      const keys = [...valid];
      published.push(keys[Math.floor(random() * keys.length)]!);
    } else {
      const name = `SOAK_ENTITY_${Math.floor(random() * names)}`;
      const day = 1 + Math.floor(random() * 28);
      const second = Math.floor(random() * 60);
      const key = `${name}_202201${String(day).padStart(2, "0")}T0000${String(second).padStart(2, "0")}`;
      valid.add(key);
      published.push(key);
    }
  }
  return { published, valid, poison };
}

/**
 * Publishes keys through the local SNS -> SQS -> EntityFunction flow with faults injected between the
 * function and Postgres, waits until everything has settled, and checks nothing was lost or doubled.
 */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const started = Date.now();
  const random = seededRandom(42);
  const proxy = await startFaultProxy(
    options.database.host,
    options.database.port,
    options.faultRate / 5,
    random,
  );
  const db = new Kysely<EntityDatabase>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ ...options.database, max: 2 }) }),
  });
  await migrateToLatest(db);
  let batches = 0;
  let failedRecords = 0;
  const flow = await startLocalFlow({
    templatePath: options.templatePath,
    functionEnv: {
      LOG_LEVEL: "ERROR",
      DB_HOST: "127.0.0.1",
      DB_PORT: proxy.port,
      DB_NAME: options.database.database,
      DB_USER: options.database.user,
      DB_PASSWORD: options.database.password,
      DB_SSL: "disable",
      DB_SECRET_ARN: "",
      DB_CONNECT_TIMEOUT_MS: 2000,
    },
    // The schema migration the flow runs first goes straight to the database: the faults are for the function.
    envVars: {
      MigrationFunction: { DB_HOST: options.database.host, DB_PORT: options.database.port },
    },
    dataDir: options.dataDir,
    concurrency: options.concurrency ?? 4,
    batchSize: options.batchSize ?? 10,
    visibilityTimeoutSeconds: 1,
    onBatch: (outcome) => {
      batches += 1;
      failedRecords += outcome.failed.size;
    },
    note: options.progress,
  });
  const { cloud } = flow;
  const topic = cloud.topics.get("EntityTopic")!;

  const { published, valid, poison } = soakKeys(options.messages, random);
  for (const key of published) cloud.server.publish(topic.name, key);
  options.progress(
    `published ${published.length} keys (${valid.size} distinct valid, ${poison.size} poison) through SNS`,
  );

  const expectedNames = new Set([...valid].map((key) => key.replace(/_\d{8}T\d{6}$/, "")));
  const deadline = Date.now() + (options.timeoutSeconds ?? Math.max(120, options.messages / 20)) * 1000;
  let counts = await settle();
  while (!done(counts) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    counts = await settle();
    options.progress(
      `${counts.observations}/${valid.size} keys stored, ${counts.deadLettered}/${poison.size} dead-lettered, ${counts.outboxPending} pending, ${proxy.faults()} faults injected, ${Math.round((batches * (options.batchSize ?? 10)) / ((Date.now() - started) / 1000))} records/s`,
    );
  }
  await flow.stop();

  const problems: string[] = [];
  const storedKeys = new Set(
    (await db.selectFrom("observation").select("key").execute()).map((row) => row.key),
  );
  const lost = [...valid].filter((key) => !storedKeys.has(key));
  if (lost.length > 0) problems.push(`${lost.length} key(s) lost, e.g. ${lost.slice(0, 3).join(", ")}`);
  if (counts.observations !== storedKeys.size || storedKeys.size !== valid.size)
    problems.push(`observations ${counts.observations}, distinct keys ${valid.size}`);
  if (counts.entities !== expectedNames.size)
    problems.push(`entities ${counts.entities}, distinct names ${expectedNames.size}`);
  const wrongState = await sql<{ name: string }>`
    select e.name from entity e join (select name, max(observed_at) as latest, count(*)::int as n from observation group by name) o using (name)
    where e.latest_observed_at <> o.latest or e.observation_count <> o.n`.execute(db);
  if (wrongState.rows.length > 0)
    problems.push(`${wrongState.rows.length} entities whose state does not match their observations`);
  const eventIds = new Set(
    (await db.selectFrom("outbox").select("event_id").execute()).map((row) => row.event_id),
  );
  const delivered = new Set(
    flow.bodies("OutboundEventsQueue").map((body) => (JSON.parse(body) as { eventId: string }).eventId),
  );
  const unpublished = [...eventIds].filter((id) => !delivered.has(id));
  if (unpublished.length > 0) problems.push(`${unpublished.length} committed event(s) never delivered`);
  const deadKeys = new Set(
    flow.bodies("EntityDeadLetterQueue").map((body) => (JSON.parse(body) as { Message: string }).Message),
  );
  if (deadKeys.size !== poison.size || [...poison].some((key) => !deadKeys.has(key)))
    problems.push(`DLQ holds ${deadKeys.size} keys, expected exactly the ${poison.size} poison keys`);
  if (!done(counts)) problems.push("did not settle before the deadline");

  const seconds = (Date.now() - started) / 1000;
  const report: SoakReport = {
    ok: problems.length === 0,
    problems,
    published: published.length,
    distinctKeys: valid.size,
    poisonKeys: poison.size,
    names: expectedNames.size,
    faultsInjected: proxy.faults(),
    batches,
    failedRecords,
    seconds,
    messagesPerSecond: published.length / seconds,
    counts: { ...counts, outboundMessages: delivered.size },
  };
  await proxy.close();
  await db.destroy();
  return report;

  async function settle(): Promise<SoakCounts> {
    const row = await sql<{ entities: number; observations: number; published: number; pending: number }>`
      select (select count(*)::int from entity) as entities, (select count(*)::int from observation) as observations,
             (select count(*)::int from outbox where published_at is not null) as published,
             (select count(*)::int from outbox where published_at is null) as pending`.execute(db);
    const stats = row.rows[0]!;
    const inFlight = flow.bodies("EntityQueue").length;
    return {
      entities: stats.entities,
      observations: stats.observations,
      outboxPublished: stats.published,
      outboxPending: stats.pending + inFlight,
      outboundMessages: 0,
      deadLettered: flow.bodies("EntityDeadLetterQueue").length,
    };
  }

  function done(c: { observations: number; outboxPending: number; deadLettered: number }): boolean {
    return c.observations >= valid.size && c.deadLettered >= poison.size && c.outboxPending === 0;
  }
}

/** mulberry32: a small seeded generator, so a soak run can be repeated exactly. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
