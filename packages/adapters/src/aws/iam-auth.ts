import type { Signer } from "@aws-sdk/rds-signer";
import { PortUnavailableError } from "@entity/domain";
import { cachedCredentials, type CredentialSource } from "../postgres/credentials.ts";

/** RDS IAM tokens live 15 minutes; a new one is signed after 10, so a connection never gets a stale one. */
export const IAM_TOKEN_MAX_AGE_MS = 10 * 60_000;

export interface IamAuthTarget {
  /** The RDS endpoint the token is signed for (through a tunnel: the real name, not 127.0.0.1). */
  readonly hostname: string;
  readonly port: number;
  readonly user: string;
  readonly region: string;
}

/**
 * IAM database authentication: a token from `@aws-sdk/rds-signer` as the password (the signer and the SDK
 * load on first use). `sign` replaces the signer (tests).
 */
export function iamAuthCredentials(
  target: IamAuthTarget,
  options: { sign?: () => Promise<string>; maxAgeMs?: number } = {},
): CredentialSource {
  let signer: Promise<Signer> | undefined;
  const sign =
    options.sign ??
    (async () => {
      signer ??= import("@aws-sdk/rds-signer").then(
        ({ Signer: RdsSigner }) =>
          new RdsSigner({
            hostname: target.hostname,
            port: target.port,
            username: target.user,
            region: target.region,
          }),
      );
      return (await signer).getAuthToken();
    });
  return cachedCredentials(async () => {
    try {
      return { user: target.user, password: await sign() };
    } catch (error) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new PortUnavailableError(
        `cannot sign an IAM database token for ${target.user}@${target.hostname}:${target.port} (DB_IAM_AUTH): ${reason}`,
        { cause: error, code: "DB_IAM_TOKEN_UNAVAILABLE" },
      );
    }
  }, options.maxAgeMs ?? IAM_TOKEN_MAX_AGE_MS);
}
