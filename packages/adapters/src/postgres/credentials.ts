/** A user and password for new connections (the user is the settings' one when absent). */
export interface DatabaseCredentials {
  readonly user?: string;
  readonly password: string;
}

/**
 * Where new connections get their credentials: a secret that rotates, an IAM token that expires. `get`
 * answers from a cache while it is fresh; `invalidate` is called after the database refused them, so the
 * next `get` fetches afresh.
 */
export interface CredentialSource {
  get(): Promise<DatabaseCredentials>;
  invalidate(): void;
}

/** Fixed credentials (DB_PASSWORD, DATABASE_URL): nothing to refresh. */
export function fixedCredentials(credentials: DatabaseCredentials): CredentialSource {
  return { get: () => Promise.resolve(credentials), invalidate: () => undefined };
}

/**
 * Fetches through a cache that lives `maxAgeMs`: at most one fetch per lifetime in the steady state, one
 * in flight at a time; a failed fetch is not cached.
 */
export function cachedCredentials(
  fetch: () => Promise<DatabaseCredentials>,
  maxAgeMs: number,
  now: () => number = Date.now,
): CredentialSource {
  let cached: { value: Promise<DatabaseCredentials>; fetchedAt: number } | undefined;
  return {
    get() {
      if (cached && now() - cached.fetchedAt < maxAgeMs) return cached.value;
      const entry = {
        fetchedAt: now(),
        value: fetch().catch((error: unknown) => {
          if (cached === entry) cached = undefined;
          throw error;
        }),
      };
      cached = entry;
      return entry.value;
    },
    invalidate() {
      cached = undefined;
    },
  };
}
