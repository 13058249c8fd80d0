// Every adapter. Entry points that care about load time import a narrower subpath
// (@entity/adapters/postgres, /memory, /sqs, /pglite).
export * from "./memory.ts";
export * from "./postgres.ts";
export * from "./sqs.ts";
export { databaseSecretCredentials, lazySecretsManagerClient } from "./aws/database-secret.ts";
