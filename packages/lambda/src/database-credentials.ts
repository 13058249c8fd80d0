import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { iamAuthCredentials, secretsManagerCredentials, type CredentialSource } from "@entity/adapters";
import type { DatabaseFunctionConfig } from "./config.ts";

export type SecretsClientProvider = () => SecretsManagerClient | Promise<SecretsManagerClient>;

/**
 * Where a function's database password comes from: its Secrets Manager secret (cached, refetched when the
 * database refuses it), an IAM token (DB_IAM_AUTH), or (undefined) the password in its settings.
 */
export function credentialsFor(
  config: DatabaseFunctionConfig,
  secrets: SecretsClientProvider,
): CredentialSource | undefined {
  if (config.dbSecretArn) {
    return secretsManagerCredentials(config.dbSecretArn, {
      client: secrets,
      maxAgeMs: config.secretMaxAgeMs,
    });
  }
  if (config.database.iamAuth) {
    return iamAuthCredentials({
      hostname: config.database.sslHost ?? config.database.host,
      port: config.database.port,
      user: config.database.user ?? "",
      region: config.region,
    });
  }
  return undefined;
}
