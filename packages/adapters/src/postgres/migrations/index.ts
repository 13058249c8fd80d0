import type { Migration } from "kysely/migration";
import * as entitiesObservationsOutbox from "./2026_11_27_0001_entities_observations_outbox.ts";
import * as outboxDeliveryState from "./2026_11_27_0002_outbox_delivery_state.ts";

/**
 * Every migration, by name, in order. An explicit list (not a folder scan) so the bundled Lambda has the
 * same list as the devrunner: bundlers break file-based discovery (kysely #23).
 */
export const migrations: Readonly<Record<string, Migration>> = Object.freeze({
  "2026_11_27_0001_entities_observations_outbox": entitiesObservationsOutbox,
  "2026_11_27_0002_outbox_delivery_state": outboxDeliveryState,
});
