// The same-I/O floor: what the handler does per batch, written by hand with no framework (pg's Client and
// the AWS SDK's SQSClient, nothing of the domain, Kysely or inversify). In one transaction: lock and read
// the batch's entity rows, read which keys were observed and which events of these names are pending,
// then one statement upserting the entities and inserting the observations and the outbox rows. After the
// commit: the events sent with SendMessageBatch (10 a request) to the queue the handler sends to, then
// one statement marking them published. The handler's figure against this one is what the framework,
// the domain's rules and the outbox's bookkeeping cost.
import { createHash } from "node:crypto";
import { SendMessageBatchCommand, SQSClient, type SendMessageBatchRequestEntry } from "@aws-sdk/client-sqs";
import pg from "pg";

export interface SameIoFloorOptions {
  readonly db: pg.ClientConfig;
  readonly sqs: { readonly endpoint: string; readonly queueUrl: string };
  readonly batchSize: number;
  readonly batches: number;
  /** A fresh entity key each call. */
  readonly freshKey: () => string;
}

/** SendMessageBatch requests in flight at once that the floor tries; it keeps the fastest. */
const PARALLELISMS = [8, 32, 100] as const;

/**
 * Records per second through the hand-written path, with the best of a few send parallelisms (at batches
 * of 10 there is one request, so one try).
 */
export async function sameIoThroughput(options: SameIoFloorOptions): Promise<number> {
  const client = new pg.Client(options.db);
  await client.connect();
  const sqs = new SQSClient({
    endpoint: options.sqs.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
    useQueueUrlAsEndpoint: false,
  });
  try {
    const tries = options.batchSize <= 10 ? [1] : PARALLELISMS;
    let best = 0;
    for (const parallel of tries) {
      await oneBatch(client, sqs, options, parallel); // warm the connection, the SDK and the plans
      const startedAt = performance.now();
      for (let b = 0; b < options.batches; b += 1) await oneBatch(client, sqs, options, parallel);
      best = Math.max(best, (options.batchSize * options.batches * 1000) / (performance.now() - startedAt));
    }
    return best;
  } finally {
    sqs.destroy();
    await client.end();
  }
}

interface FloorEvent {
  eventId: string;
  type: string;
  entityName: string;
  key: string;
  observedAt: string;
  occurredAt: string;
  messageId: string;
}

async function oneBatch(
  client: pg.Client,
  sqs: SQSClient,
  options: SameIoFloorOptions,
  parallel: number,
): Promise<void> {
  const keys = Array.from({ length: options.batchSize }, () => options.freshKey());
  const names = keys.map((key) => key.replace(/_\d{8}T\d{6}$/, ""));
  const now = new Date().toISOString();
  const events: FloorEvent[] = keys.map((key, i) => ({
    eventId: createHash("sha256").update(key).digest("hex").slice(0, 32),
    type: "entity.created",
    entityName: names[i]!,
    key,
    observedAt: "2022-06-08T04:32:49.000Z",
    occurredAt: now,
    messageId: `floor-${key}`,
  }));
  await client.query("begin");
  await client.query(
    `select name, latest_key, latest_observed_at, first_seen_at, updated_at, observation_count
     from entity where name = any($1::text[]) order by name for update`,
    [names],
  );
  await client.query(
    `select o.key, null::jsonb as payload from observation o where o.key = any($2::text[])
     union all
     select null, x.payload from outbox x
     where x.entity_name = any($1::text[]) and x.published_at is null and x.parked_at is null`,
    [names, keys],
  );
  await client.query(
    `with entities as (
       insert into entity (name, latest_key, latest_observed_at, first_seen_at, updated_at, observation_count)
       select n, k, '2022-06-08T04:32:49Z', $3, $3, 1 from unnest($1::text[], $2::text[]) as t(n, k)
       on conflict (name) do update set latest_key = excluded.latest_key,
         observation_count = entity.observation_count + 1
     ), observations as (
       insert into observation (key, name, observed_at, message_id, received_at, outcome)
       select k, n, '2022-06-08T04:32:49Z', 'floor-' || k, $3, 'created' from unnest($1::text[], $2::text[]) as t(n, k)
     )
     insert into outbox (event_id, event_type, entity_name, payload, created_at, next_attempt_at)
     select id, 'entity.created', n, p, $3, $3 from unnest($1::text[], $4::text[], $5::jsonb[]) as t(n, id, p)`,
    [names, keys, now, events.map((e) => e.eventId), events.map((e) => JSON.stringify(e))],
  );
  await client.query("commit");
  await send(sqs, options.sqs.queueUrl, events, parallel);
  await client.query(
    `update outbox set published_at = $2, attempts = attempts + 1 where event_id = any($1::text[])`,
    [events.map((e) => e.eventId), now],
  );
}

async function send(
  sqs: SQSClient,
  queueUrl: string,
  events: readonly FloorEvent[],
  parallel: number,
): Promise<void> {
  const chunks: SendMessageBatchRequestEntry[][] = [];
  for (let start = 0; start < events.length; start += 10)
    chunks.push(
      events.slice(start, start + 10).map((event, i) => ({
        Id: `e${i}`,
        MessageBody: JSON.stringify(event),
        MessageAttributes: {
          eventType: { DataType: "String", StringValue: event.type },
          eventId: { DataType: "String", StringValue: event.eventId },
        },
      })),
    );
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < chunks.length) {
      const entries = chunks[next]!;
      next += 1;
      const response = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
      if ((response.Failed ?? []).length > 0)
        throw new Error("same-I/O floor: SendMessageBatch failed entries");
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, chunks.length) }, worker));
}
