import type { DeadLetter, EntityEvent } from "@entity/domain";
import type { Context, SQSBatchResponse } from "aws-lambda";
import type { SqsBatchHandler } from "../../batch-handler.ts";
import { FuzzFailure } from "./failure.ts";
import type { FuzzRecord, Scenario } from "./records.ts";
import { possibleKeys, referenceKey, type ReferenceKey } from "./reference.ts";
import { StoreModel, type StoredState } from "./store-model.ts";

/** One fresh function and store per scenario, and what the fuzz inspects afterwards. */
export interface FuzzSession {
  readonly handler: SqsBatchHandler;
  readonly deadLetters: { readonly letters: readonly DeadLetter[] };
  publishedEvents(): readonly EntityEvent[];
  stored(): Promise<StoredState>;
  /** What changed in the database schema since the fuzz began (Postgres), if anything. */
  schemaChanges?(): Promise<readonly string[]>;
}

const CONTEXT = {
  awsRequestId: "fuzz",
  functionName: "EntityFunction",
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;
const REASON_CODE = /^[A-Z][A-Z0-9_]*$/;

/**
 * Delivers the scenario's batches and checks after each: the handler did not throw and reported nothing
 * failed (nothing can fail here); every record ended as exactly one of stored (as given, trimmed) or
 * dead-lettered (body unchanged, a reason code and a reason, its FIFO group); the store holds exactly
 * what the accepted records say, with each created or updated entity's event published once; the
 * schema is untouched.
 */
export async function checkScenario(session: FuzzSession, scenario: Scenario): Promise<void> {
  const model = new StoreModel();
  for (const [index, batch] of scenario.batches.entries()) {
    const where = `batch ${index + 1}`;
    const lettersBefore = session.deadLetters.letters.length;
    let response: SQSBatchResponse;
    try {
      response = await session.handler({ Records: batch.map((item) => item.record) }, CONTEXT);
    } catch (error) {
      throw new FuzzFailure(`${where}: the handler threw ${describe(error)}`, { cause: error });
    }
    if (!Array.isArray(response?.batchItemFailures)) {
      throw new FuzzFailure(
        `${where}: the handler returned ${JSON.stringify(response)}, not {batchItemFailures}`,
      );
    }
    if (response.batchItemFailures.length > 0) {
      const ids = response.batchItemFailures.map((failure) => failure.itemIdentifier);
      throw new FuzzFailure(
        `${where}: reported ${JSON.stringify(ids)} failed (for a retry), yet nothing can fail here`,
      );
    }
    const stored = await session.stored();
    const lettersByMessage = groupByMessage(session.deadLetters.letters.slice(lettersBefore));
    const storedKeys = new Set(stored.observations.map((observation) => observation.key));
    for (const [position, item] of batch.entries()) {
      const record = `${where}, record ${position + 1} (${JSON.stringify(item.record.messageId)}, ${item.shape})`;
      const letter = lettersByMessage.get(item.record.messageId)?.shift();
      if (letter) checkLetter(letter, item, record);
      else model.accept(acceptedKey(item, storedKeys, record), item.record.messageId, record);
    }
    for (const [messageId, extra] of lettersByMessage) {
      if (extra.length > 0) {
        throw new FuzzFailure(
          `${where}: ${extra.length} dead letter(s) for message ${JSON.stringify(messageId)} beyond its deliveries in the batch`,
        );
      }
    }
    model.compare(stored, session.publishedEvents(), `after ${where}`);
    const schemaChanges = (await session.schemaChanges?.()) ?? [];
    if (schemaChanges.length > 0) {
      throw new FuzzFailure(`after ${where}: the schema changed:\n  ${schemaChanges.join("\n  ")}`);
    }
  }
}

function checkLetter(letter: DeadLetter, item: FuzzRecord, record: string): void {
  if (item.expected.kind === "stored") {
    throw new FuzzFailure(
      `${record}: must be stored as ${JSON.stringify(item.expected.key)}, but was dead-lettered (${letter.reasonCode}: ${letter.reason})`,
    );
  }
  if (letter.body !== item.record.body) {
    throw new FuzzFailure(`${record}: the dead letter's body is not the record's body as received`);
  }
  if (typeof letter.reasonCode !== "string" || !REASON_CODE.test(letter.reasonCode)) {
    throw new FuzzFailure(
      `${record}: dead-lettered with reason code ${JSON.stringify(letter.reasonCode)}, not a stable CODE`,
    );
  }
  if (typeof letter.reason !== "string" || letter.reason.trim().length === 0) {
    throw new FuzzFailure(`${record}: dead-lettered (${letter.reasonCode}) without a reason`);
  }
  const group = item.record.attributes.MessageGroupId;
  if (letter.group !== group) {
    throw new FuzzFailure(
      `${record}: dead letter's group ${JSON.stringify(letter.group)}, the record's MessageGroupId ${JSON.stringify(group)}`,
    );
  }
}

/** The key a record that was not dead-lettered must have been stored under. */
function acceptedKey(item: FuzzRecord, storedKeys: ReadonlySet<string>, record: string): ReferenceKey {
  if (item.expected.kind === "stored") return referenceKey(item.expected.key)!;
  if (item.expected.kind === "dead-lettered") {
    throw new FuzzFailure(
      `${record}: must be dead-lettered (no reading of its body is a valid key), but was not`,
    );
  }
  const readings = possibleKeys(item.record.body);
  const chosen = readings.find((reading) => storedKeys.has(reading.key));
  if (!chosen) {
    throw new FuzzFailure(
      readings.length === 0
        ? `${record}: neither dead-lettered nor storable (no reading of its body is a valid key)`
        : `${record}: not dead-lettered, yet none of its possible keys ${JSON.stringify(readings.map((r) => r.key))} is stored`,
    );
  }
  return chosen;
}

function groupByMessage(letters: readonly DeadLetter[]): Map<string, DeadLetter[]> {
  const byMessage = new Map<string, DeadLetter[]>();
  for (const letter of letters) {
    const list = byMessage.get(letter.messageId) ?? [];
    list.push(letter);
    byMessage.set(letter.messageId, list);
  }
  return byMessage;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
