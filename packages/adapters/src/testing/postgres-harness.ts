import { sql, type Kysely } from "kysely";
import type { EntityRepositoryHarness } from "../contracts/entity-repository.contract.ts";
import { migrateToLatest } from "../postgres/migrate.ts";
import { KyselyEntityStore } from "../postgres/kysely-entity-store.ts";
import { KyselyOutbox } from "../postgres/kysely-outbox.ts";
import type { EntityDatabase } from "../postgres/schema.ts";

/** Empties every table (and restarts the outbox sequence) so each test starts from a clean database. */
async function resetEntityTables(db: Kysely<EntityDatabase>): Promise<void> {
  await sql`truncate table observation, outbox, entity restart identity cascade`.execute(db);
}

/**
 * A contract-suite factory over one migrated database that lives for the whole test file: each call
 * resets the tables. `second` is an independent connection pool to the same database, when there is one.
 */
export function migratedStoreHarness(
  open: () => Promise<{ db: Kysely<EntityDatabase>; second?: Kysely<EntityDatabase> }>,
): { harness: () => Promise<EntityRepositoryHarness>; close: () => Promise<void> } {
  let opened: Promise<{ db: Kysely<EntityDatabase>; second?: Kysely<EntityDatabase> }> | undefined;
  return {
    harness: async () => {
      opened ??= open().then(async (dbs) => {
        await migrateToLatest(dbs.db);
        return dbs;
      });
      const { db, second } = await opened;
      await resetEntityTables(db);
      return {
        repository: new KyselyEntityStore(db),
        outbox: new KyselyOutbox(db),
        ...(second
          ? { secondRepository: new KyselyEntityStore(second), secondOutbox: new KyselyOutbox(second) }
          : {}),
        close: () => Promise.resolve(),
      };
    },
    close: async () => {
      if (!opened) return;
      const { db, second } = await opened;
      await second?.destroy();
      await db.destroy();
    },
  };
}
