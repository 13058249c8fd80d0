// pnpm fuzz [--runs N] [--pg-runs N] [--seed S] [--path P] [--env-file FILE]: the handler fuzzed at scale
// (in memory, then a sample against Postgres). The logic lives in src/testing/fuzz, where it is
// type-checked and shared with the tests; `--help` says more.
import { fuzzCommand } from "../src/testing/fuzz/cli.ts";

process.exitCode = await fuzzCommand(process.argv.slice(2));
