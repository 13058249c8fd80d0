import type { Generated } from "kysely";

/** The tables as Kysely sees them (snake_case, as stored). */
export interface EntityTable {
  name: string;
  latest_key: string;
  latest_observed_at: Date;
  first_seen_at: Date;
  updated_at: Date;
  observation_count: number;
}

export interface ObservationTable {
  key: string;
  name: string;
  observed_at: Date;
  message_id: string;
  received_at: Date;
  outcome: "created" | "updated" | "stale";
}

export interface OutboxTable {
  sequence: Generated<string>;
  event_id: string;
  event_type: string;
  entity_name: string;
  payload: unknown;
  created_at: Generated<Date>;
  published_at: Date | null;
  attempts: Generated<number>;
  last_error: string | null;
  next_attempt_at: Generated<Date>;
  parked_at: Date | null;
}

export interface EntityDatabase {
  entity: EntityTable;
  observation: ObservationTable;
  outbox: OutboxTable;
}
