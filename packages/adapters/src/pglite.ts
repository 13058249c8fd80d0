// The embedded database, a separate entry point so the Lambda bundle never pulls in PGlite.
export { createPgliteDatabase } from "./postgres/pglite-database.ts";
