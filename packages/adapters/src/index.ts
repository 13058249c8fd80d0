// Every adapter. Entry points that care about load time import a narrower subpath
// (@entity/adapters/postgres, /memory, /sqs, /pglite).
export * from "./memory.ts";
export * from "./postgres.ts";
export * from "./sqs.ts";
export {
  DEFAULT_SECRET_MAX_AGE_MS,
  lazySecretsManagerClient,
  secretsManagerCredentials,
} from "./aws/database-secret.ts";
export { IAM_TOKEN_MAX_AGE_MS, iamAuthCredentials, type IamAuthTarget } from "./aws/iam-auth.ts";
