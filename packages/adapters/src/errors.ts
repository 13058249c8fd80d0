/** Errors of the adapters package: a base with a stable `code`, one subclass per kind of failure. */
export abstract class AdapterError extends Error {
  abstract readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A configuration variable is missing or malformed. The message names it and never holds a secret. */
export class ConfigError extends AdapterError {
  readonly code = "CONFIG_INVALID";
  readonly variable: string;

  constructor(variable: string, problem: string) {
    super(`${variable}: ${problem}`);
    this.variable = variable;
  }
}

/** The database lacks migrations this code needs (the Lambda never migrates; it refuses to start). */
export class SchemaNotCurrentError extends AdapterError {
  readonly code = "SCHEMA_NOT_CURRENT";
  readonly missingMigrations: readonly string[];

  constructor(missingMigrations: readonly string[]) {
    super(
      `the database schema is not current: missing migration(s) ${missingMigrations.join(", ")}; ` +
        "run `pnpm devrunner migrate` against this database, or deploy the stack (its SchemaMigration " +
        "resource applies them before the function takes traffic)",
    );
    this.missingMigrations = missingMigrations;
  }
}
