import fc from "fast-check";
import { checkScenario } from "./oracle.ts";
import { scenario, type Scenario } from "./records.ts";
import type { FuzzTarget } from "./targets.ts";

export interface FuzzOptions {
  readonly runs: number;
  /** fast-check's seed; random when absent (the report says which). */
  readonly seed?: number;
  /** A counterexample's path (with its seed): replays that one case. */
  readonly path?: string;
  /** Called after every scenario, shrinking ones included. */
  readonly onScenario?: (progress: { readonly executed: number; readonly shrinking: boolean }) => void;
}

export interface FuzzReport {
  readonly target: string;
  readonly ok: boolean;
  /** Scenarios run before the first failure (or all of them). */
  readonly runs: number;
  readonly seed: number;
  readonly seconds: number;
  readonly failure?: {
    readonly message: string;
    /** The shrunk scenario, readable (long bodies cut short). */
    readonly counterexample: string;
    readonly path: string;
    readonly shrinks: number;
  };
}

/** Runs random scenarios through the handler on `target` and judges each record (oracle.ts). */
export async function fuzzHandler(target: FuzzTarget, options: FuzzOptions): Promise<FuzzReport> {
  const seed = options.seed ?? randomSeed();
  let executed = 0;
  let shrinking = false;
  const started = performance.now();
  const property = fc.asyncProperty(scenario, async (planned) => {
    executed += 1;
    try {
      await checkScenario(await target.begin(), planned);
    } catch (error) {
      shrinking = true;
      throw error;
    } finally {
      options.onScenario?.({ executed, shrinking });
    }
  });
  const details = await fc.check(property, {
    numRuns: options.runs,
    seed,
    ...(options.path ? { path: options.path } : {}),
  });
  const seconds = (performance.now() - started) / 1000;
  const base = { target: target.name, runs: details.numRuns, seed: details.seed, seconds };
  if (!details.failed) return { ...base, ok: true };
  if (details.counterexample === null) {
    return {
      ...base,
      ok: false,
      failure: {
        message: details.interrupted ? "interrupted" : "no failing case",
        counterexample: "",
        path: "",
        shrinks: 0,
      },
    };
  }
  const error = details.errorInstance;
  return {
    ...base,
    ok: false,
    failure: {
      message: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      counterexample: describeScenario(details.counterexample[0]),
      path: details.counterexamplePath,
      shrinks: details.numShrinks,
    },
  };
}

export function randomSeed(): number {
  return Math.floor(Math.random() * 0x7fffffff);
}

const SHOWN_BODY = 300;

/** A scenario as text: one line per record, bodies JSON-escaped and cut short. */
export function describeScenario(planned: Scenario): string {
  const lines = [`${planned.fifo ? "FIFO" : "standard"} queue`];
  planned.batches.forEach((batch, index) => {
    lines.push(`batch ${index + 1}:`);
    batch.forEach((item, position) => {
      const { record } = item;
      const expected =
        item.expected.kind === "stored"
          ? `stored as ${JSON.stringify(item.expected.key)}`
          : item.expected.kind;
      const group = record.attributes.MessageGroupId;
      lines.push(
        `  ${position + 1}. ${JSON.stringify(record.messageId)}${group === undefined ? "" : ` group ${JSON.stringify(group)}`}` +
          ` receive count ${record.attributes.ApproximateReceiveCount ?? "(no attributes)"}, ${item.shape}, expected ${expected}`,
        `     body ${showText(record.body)}`,
      );
      const attributes = Object.keys(record.messageAttributes);
      if (attributes.length > 0)
        lines.push(`     message attributes ${showText(JSON.stringify(record.messageAttributes))}`);
    });
  });
  return lines.join("\n");
}

function showText(text: string): string {
  if (text.length <= SHOWN_BODY) return JSON.stringify(text);
  return `${JSON.stringify(text.slice(0, SHOWN_BODY / 2))}…${JSON.stringify(text.slice(-SHOWN_BODY / 4))} (${text.length} characters)`;
}
