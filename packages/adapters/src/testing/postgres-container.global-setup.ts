import { PostgreSqlContainer } from "@testcontainers/postgresql";
import type { TestProject } from "vitest/node";
import { containerRuntimeProblem } from "./container-runtime.ts";
import { postgresTestImage } from "./postgres-image.ts";

export interface PostgresTestServer {
  host: string;
  port: number;
  user: string;
  password: string;
  /** A database nobody writes to; tests create their own databases next to it. */
  adminDatabase: string;
  image: string;
  containerId: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    postgres: PostgresTestServer;
  }
}

/** One Postgres container for the whole run; each test file makes its own database inside it. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const problem = await containerRuntimeProblem();
  if (problem !== undefined) {
    throw new Error(
      `integration tests need a container runtime (Docker) and none is reachable: ${problem}. ` +
        "Start Docker, or run `pnpm test:unit` for the unit tests alone.",
    );
  }
  const image = postgresTestImage();
  const container = await new PostgreSqlContainer(image)
    .withUsername("entity")
    .withPassword("entity-test-password")
    .withDatabase("entity_admin")
    .withCommand(["postgres", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "max_connections=300"])
    .start();
  project.provide("postgres", {
    host: container.getHost(),
    port: container.getPort(),
    user: container.getUsername(),
    password: container.getPassword(),
    adminDatabase: container.getDatabase(),
    image,
    containerId: container.getId(),
  });
  return async () => {
    await container.stop();
  };
}
