// The adapters a deployed function uses: in memory, Postgres, SQS and its credential sources. PGlite and
// the SAM template reader have their own subpaths (/pglite, /sam), so the Lambda bundle never pulls them in;
// the devrunner imports the narrower /postgres, /memory and /sqs to load only what a command needs.
export * from "./memory.ts";
export * from "./postgres.ts";
export * from "./sqs.ts";
export {
  DEFAULT_SECRET_MAX_AGE_MS,
  lazySecretsManagerClient,
  secretsManagerCredentials,
} from "./aws/database-secret.ts";
export { IAM_TOKEN_MAX_AGE_MS, iamAuthCredentials, type IamAuthTarget } from "./aws/iam-auth.ts";
