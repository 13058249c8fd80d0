import { appendFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase, type TestDatabase } from "@entity/adapters/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  localAwsConfig,
  loadProductionPattern,
  startLocalFlow,
  waitUntil,
  type ReloadEvent,
} from "./local-aws/index.ts";
import { copyProject, writeHandlerVersion } from "./testing/project-copy.ts";

// Hot reload in the running flow (#14 part 3), on a copy of the project whose EntityFunction entry the
// test rewrites: each version logs its number; a HOLD record waits for a file, so it is in flight while
// the code changes under it.
const scratch = mkdtempSync(join(tmpdir(), "hot-reload-"));
const project = copyProject(join(scratch, "project"));
const release = join(scratch, "release-hold");
let database: TestDatabase;

beforeAll(async () => {
  writeHandlerVersion(project, "1", release);
  database = await createTestDatabase("hot_reload");
});
afterAll(() => writeFileSync(release, ""));

describe("hot reload in the local flow (up)", () => {
  it("runs the next message on the new code, lets a running invocation finish on the old, and keeps the old code on a build error", async () => {
    let logs = "";
    const reloads: ReloadEvent[] = [];
    const warmed: ReloadEvent[] = [];
    const flow = await startLocalFlow({
      config: localAwsConfig(
        { ...process.env, DEVRUNNER_BUILD_DIR: join(scratch, "build") },
        { repositoryRoot: project },
      ),
      production: { allowed: false, pattern: loadProductionPattern(project) },
      templatePath: join(project, "template.yaml"),
      dataDir: join(scratch, "pglite"),
      functionEnv: {
        LOG_LEVEL: "WARN",
        DB_HOST: String(database.config.host),
        DB_PORT: Number(database.config.port),
        DB_NAME: database.name,
        DB_USER: String(database.config.user),
        DB_PASSWORD: String(database.config.password),
        DB_SSL: "disable",
      },
      concurrency: 2,
      hotReload: true,
      onReload: (event) => (event.status === "warm" ? warmed : reloads).push(event),
      logSink: (chunk) => (logs += chunk.toString()),
    });
    const topic = [...flow.cloud.topics.values()][0]!.name;
    const publish = (key: string): void => void flow.cloud.server.publish(topic, key);
    const logged = (pattern: RegExp, timeoutMs = 30_000): Promise<boolean> =>
      waitUntil(() => pattern.test(logs), timeoutMs, 50);
    try {
      publish("HOLD_ENTITY_20220608T043249");
      expect(await logged(/code version 1: \S*HOLD_ENTITY/)).toBe(true);

      writeHandlerVersion(project, "2", release);
      expect(await waitUntil(() => reloads.length > 0, 60_000)).toBe(true);
      expect(reloads[0]).toMatchObject({
        status: "reloaded",
        reason: "packages/lambda/src/index.ts changed",
      });
      console.log(
        `reload: built and replaced in ${(reloads[0] as { buildMs: number }).buildMs.toFixed(0)} ms`,
      );
      // Pre-warmed: the new code's init runs with no message waiting for it.
      expect(await waitUntil(() => warmed.length > 0, 60_000)).toBe(true);
      expect(warmed[0]).toMatchObject({ status: "warm", generation: 1 });
      publish("NEW_ENTITY_20220608T043249");
      expect(await logged(/code version 2 done: \S*NEW_ENTITY/)).toBe(true);
      // The held invocation is still running, on the old code, in its old environment; released, it ends there.
      expect(logs).not.toMatch(/code version \d done: \S*HOLD_ENTITY/);
      writeFileSync(release, "");
      expect(await logged(/code version 1 done: \S*HOLD_ENTITY/)).toBe(true);
      expect(logs).not.toMatch(/code version 2: \S*HOLD_ENTITY/);

      appendFileSync(join(project, "packages/lambda/src/index.ts"), "\nexport const broken = ;\n");
      expect(await waitUntil(() => reloads.length > 1, 60_000)).toBe(true);
      expect(reloads[1]).toMatchObject({ status: "failed", reason: "packages/lambda/src/index.ts changed" });
      expect((reloads[1] as { error: Error }).error.message).toMatch(
        /building EntityFunction failed:[\s\S]*index\.ts/,
      );
      publish("AFTER_ERROR_ENTITY_20220608T043249");
      expect(await logged(/code version 2 done: \S*AFTER_ERROR_ENTITY/)).toBe(true);
    } finally {
      await flow.stop();
    }
  });
});
