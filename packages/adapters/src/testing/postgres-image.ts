/**
 * The one place the integration tests' Postgres image is pinned. `PG_TEST_IMAGE` overrides it, e.g. with
 * the image `.ci/postgres-image.sh` builds offline on machines that reach no image registry.
 */
const DEFAULT_POSTGRES_TEST_IMAGE = "postgres:17";

export function postgresTestImage(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const configured = env.PG_TEST_IMAGE?.trim();
  return configured ? configured : DEFAULT_POSTGRES_TEST_IMAGE;
}
