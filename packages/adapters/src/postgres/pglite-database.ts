import { Kysely, PGliteDialect } from "kysely";
import { queryLog } from "./database.ts";
import type { EntityDatabase } from "./schema.ts";

/**
 * The embedded database: PGlite (Postgres in WASM) keeping its data in `dataDir` (memory when omitted).
 * Loaded lazily, so code that never uses it never pays for it.
 */
export async function createPgliteDatabase(
  dataDir?: string,
  options: { log?: (sqlText: string) => void } = {},
): Promise<Kysely<EntityDatabase>> {
  const { PGlite } = await import("@electric-sql/pglite");
  const pglite = dataDir ? await PGlite.create(dataDir) : await PGlite.create();
  return new Kysely<EntityDatabase>({
    dialect: new PGliteDialect({ pglite }),
    ...queryLog(options.log),
  });
}
