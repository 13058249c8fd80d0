import type { EntityKey } from "./entity-key.ts";
import { sha256, toHex } from "./sha256.ts";

export type EntityEventType = "entity.created" | "entity.updated";

/** What the domain announces when an entity's current state changes. Plain data, JSON-safe. */
export interface EntityEvent {
  /** Deterministic: the same key always yields the same id, so consumers can deduplicate. */
  readonly eventId: string;
  readonly type: EntityEventType;
  readonly entityName: string;
  readonly key: string;
  /** ISO-8601 instant of the key's stamp. */
  readonly observedAt: string;
  /** ISO-8601 instant the change was processed. */
  readonly occurredAt: string;
  /** The id of the message that carried the key. */
  readonly messageId: string;
}

/**
 * A UUID-shaped id (version 8, RFC 9562) from SHA-256 of the key. A key changes state at most once
 * (a redelivery of it is a duplicate), so the key alone identifies its event.
 */
export function eventIdForKey(key: string): string {
  const h = toHex(sha256(`entity-event:${key}`));
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function entityEvent(
  type: EntityEventType,
  key: EntityKey,
  messageId: string,
  occurredAt: Date,
): EntityEvent {
  return Object.freeze({
    eventId: eventIdForKey(key.key),
    type,
    entityName: key.name,
    key: key.key,
    observedAt: key.observedAt.toISOString(),
    occurredAt: occurredAt.toISOString(),
    messageId,
  });
}
