/**
 * The one place the integration tests' Postgres image is pinned. `PG_TEST_IMAGE` overrides it, e.g. with
 * the image `.ci/postgres-image.sh` builds offline on machines that reach no image registry.
 */
const DEFAULT_POSTGRES_TEST_IMAGE = "postgres:17";

export function postgresTestImage(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const configured = env.PG_TEST_IMAGE?.trim();
  return configured ? configured : DEFAULT_POSTGRES_TEST_IMAGE;
}

/** A throwaway Postgres container of the test image, for the tools (the soak, the fuzz, the benchmark). */
export interface PostgresContainer {
  readonly image: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** The same as DB_* variables (TLS off: the container is local), e.g. for `parseDatabaseSettings`. */
  readonly env: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

/**
 * Starts one (Docker; the image `postgresTestImage(env)`). testcontainers loads only here: the tools
 * that import this module need it only without a database of their own.
 */
export async function startPostgresContainer(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<PostgresContainer> {
  const { PostgreSqlContainer } = await import("@testcontainers/postgresql");
  const image = postgresTestImage(env);
  const container = await new PostgreSqlContainer(image).start();
  const connection = {
    host: container.getHost(),
    port: container.getPort(),
    user: container.getUsername(),
    password: container.getPassword(),
    database: container.getDatabase(),
  };
  return {
    image,
    ...connection,
    env: {
      DB_HOST: connection.host,
      DB_PORT: String(connection.port),
      DB_NAME: connection.database,
      DB_USER: connection.user,
      DB_PASSWORD: connection.password,
      DB_SSL: "disable",
    },
    stop: async () => {
      await container.stop();
    },
  };
}
