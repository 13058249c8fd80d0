import { parseEntityKey, type EntityService } from "@entity/domain";
import { describe, expect, it } from "vitest";
import { fuzzHandler, memoryTarget, type FuzzReport } from "./testing/fuzz/index.ts";

// The CI-sized fuzz on the in-memory adapters (`pnpm fuzz` runs 100,000 of these); fuzz.int.test.ts
// runs a sample against Postgres. The sabotaged handlers below prove the oracle notices what it must.

const explain = (report: FuzzReport): string =>
  report.failure
    ? `seed ${report.seed}, path ${report.failure.path}\n${report.failure.message}\n${report.failure.counterexample}`
    : `passed ${report.runs} runs (seed ${report.seed})`;

describe("fuzzing the handler on the in-memory adapters", () => {
  it("never crashes, stores exactly what it accepts and sets everything else aside with a reason", async () => {
    const report = await fuzzHandler(memoryTarget(), { runs: 2000 });
    expect(report.ok, explain(report)).toBe(true);
    expect(report.runs).toBe(2000);
  }, 60_000);
});

describe("the fuzz's oracle", () => {
  it("notices a record that is neither stored nor set aside", async () => {
    const report = await fuzzHandler(
      memoryTarget({
        deadLetters: (real) => ({
          send: (letters) => real.send(letters.filter((letter) => letter.reasonCode !== "MALFORMED_JSON")),
        }),
      }),
      { runs: 2000 },
    );
    expect(report.ok).toBe(false);
    expect(report.failure?.message).toMatch(/must be dead-lettered|neither dead-lettered nor storable/);
  });

  it("notices a key stored other than as given", async () => {
    const upperCasing = (real: EntityService): EntityService => ({
      ...real,
      processEntities: (requests, options) =>
        real.processEntities(
          requests.map((request) => ({ ...request, key: request.key.toUpperCase() })),
          options,
        ),
    });
    const report = await fuzzHandler(memoryTarget({ service: upperCasing }), { runs: 2000 });
    expect(report.ok).toBe(false);
    expect(report.failure?.message).toMatch(
      /is stored, but no accepted record carried it|must be dead-lettered|neither dead-lettered nor storable/,
    );
  });

  it("notices a record stored under the wrong message or not at all", async () => {
    // Claims a batch's last valid key a duplicate, without storing it.
    const droppingLast = (real: EntityService): EntityService => ({
      ...real,
      processEntities: async (requests, options) => {
        const last = requests.at(-1);
        const parsed = last && parseEntityKey(last.key);
        if (!last || !parsed?.ok) return real.processEntities(requests, options);
        const results = await real.processEntities(requests.slice(0, -1), options);
        return [...results, { outcome: "duplicate", messageId: last.messageId, key: parsed.key }];
      },
    });
    const report = await fuzzHandler(memoryTarget({ service: droppingLast }), { runs: 2000 });
    expect(report.ok).toBe(false);
    expect(report.failure?.message).toMatch(/is not stored|observation of/);
  });

  it("shrinks a failure to a small scenario and reports it with its seed", async () => {
    const report = await fuzzHandler(
      memoryTarget({ deadLetters: () => ({ send: () => Promise.resolve({ failed: [] }) }) }),
      { runs: 500, seed: 7 },
    );
    expect(report.seed).toBe(7);
    expect(report.failure?.counterexample).toMatch(/^(standard|FIFO) queue\nbatch 1:\n {2}1\. /);
    expect(
      report.failure?.counterexample.split("\n").filter((line) => /^ {2}\d+\. /.test(line)),
    ).toHaveLength(1);
    expect(report.failure?.path).toMatch(/^\d+(:\d+)*$/);
  });
});
