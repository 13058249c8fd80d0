import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { localAwsConfig } from "./config.ts";

describe("localAwsConfig: where up keeps its queues between runs", () => {
  const repositoryRoot = "/repo";

  it("next to the state file by default, so a test's own state file gives it its own queues", () => {
    expect(localAwsConfig({}, { repositoryRoot }).localCloudDir).toBe(
      join("/repo", ".devrunner/local-cloud"),
    );
    expect(localAwsConfig({ DEVRUNNER_UP_STATE: "/tmp/t1/up.json" }, { repositoryRoot }).localCloudDir).toBe(
      "/tmp/t1/local-cloud",
    );
  });

  it("DEVRUNNER_LOCAL_CLOUD_DIR moves it (relative to the repository)", () => {
    expect(localAwsConfig({ DEVRUNNER_LOCAL_CLOUD_DIR: "queues" }, { repositoryRoot }).localCloudDir).toBe(
      join("/repo", "queues"),
    );
    expect(localAwsConfig({ DEVRUNNER_LOCAL_CLOUD_DIR: "/var/q" }, { repositoryRoot }).localCloudDir).toBe(
      "/var/q",
    );
  });
});
