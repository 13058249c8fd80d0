import { defineConfig } from "vitest/config";
import { containerRuntimeProblem } from "./packages/adapters/src/testing/container-runtime.ts";

// Two projects, named by cost: `unit` never does I/O; `int` gets one Postgres container per run.
// Without a container runtime the int project is left out locally (one line says so) but fails in CI.
const runtimeProblem = await containerRuntimeProblem();
const skipIntegration = runtimeProblem !== undefined && !process.env.CI;
if (skipIntegration) {
  console.log(`integration tests skipped: no container runtime reachable (${runtimeProblem})`);
}

const resultsFile = process.env.VITEST_RESULTS_FILE;

export default defineConfig({
  test: {
    reporters: resultsFile ? ["default", ["json", { outputFile: resultsFile }]] : ["default"],
    projects: [
      {
        test: {
          name: "unit",
          include: ["packages/*/src/**/*.unit.test.ts"],
        },
      },
      ...(skipIntegration
        ? []
        : [
            {
              test: {
                name: "int",
                include: ["packages/*/src/**/*.int.test.ts", ".ci/**/*.int.test.ts"],
                globalSetup: ["packages/adapters/src/testing/postgres-container.global-setup.ts"],
                testTimeout: 60_000,
                hookTimeout: 120_000,
              },
            },
          ]),
    ],
  },
});
