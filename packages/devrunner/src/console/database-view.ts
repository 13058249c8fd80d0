import { namesDatabase, parseDatabaseSettings } from "@entity/adapters/postgres";
import type { EntityView, OutboxEntry } from "@entity/domain";
import { mask } from "./masking.ts";
import { openDevApp, type DevApp } from "../root.ts";

/** At most this many outbox events are listed (and counted). */
const OUTBOX_LIMIT = 200;

export interface DatabaseSummary {
  readonly entities: number | null;
  readonly pending: number;
  readonly parked: number;
  /** The outbox has at least OUTBOX_LIMIT unpublished events (the counts stop there). */
  readonly capped: boolean;
  readonly error?: string;
}

/**
 * The function's database as the console reads it: the same connection settings the function gets,
 * opened on first use (so `up` starts as fast without the console being looked at), read only.
 */
export class DatabaseView {
  private readonly env: Readonly<Record<string, string>>;
  private app: Promise<DevApp> | undefined;

  constructor(functionEnv: Readonly<Record<string, string>>) {
    this.env = functionEnv;
  }

  async summary(): Promise<DatabaseSummary> {
    try {
      const app = await this.open();
      const counted = await app.handles.db
        ?.selectFrom("entity")
        .select((eb) => eb.fn.countAll<string>().as("count"))
        .executeTakeFirst();
      const outbox = await app.service.listOutbox({ limit: OUTBOX_LIMIT });
      return {
        entities: counted ? Number(counted.count) : null,
        pending: outbox.filter((entry) => entry.state === "pending").length,
        parked: outbox.filter((entry) => entry.state === "parked").length,
        capped: outbox.length >= OUTBOX_LIMIT,
      };
    } catch (error) {
      return { entities: null, pending: 0, parked: 0, capped: false, error: describe(error) };
    }
  }

  async entity(name: string): Promise<EntityView | undefined> {
    return (await this.open()).service.getEntity(name, { recentObservations: 20 });
  }

  async outbox(): Promise<readonly OutboxEntry[]> {
    return (await this.open()).service.listOutbox({ limit: OUTBOX_LIMIT });
  }

  async close(): Promise<void> {
    const app = this.app;
    this.app = undefined;
    await app?.then((opened) => opened.close()).catch(() => undefined);
  }

  private open(): Promise<DevApp> {
    if (!namesDatabase(this.env))
      return Promise.reject(new Error("the function's environment names no database"));
    this.app ??= openDevApp({
      target: { kind: "postgres", settings: parseDatabaseSettings(this.env, { poolMax: 2 }) },
      // Only the database: events the console would publish go nowhere (it publishes none).
      env: {},
      checkSchema: false,
    });
    this.app.catch(() => (this.app = undefined));
    return this.app;
  }
}

/** An error for the page: its message, with any password in it masked. */
export function describe(error: unknown): string {
  return mask(error instanceof Error ? error.message : String(error)) as string;
}
