// The handler's throughput against its two same-run floors: raw pg (the writes alone, no publishing) and
// the same-I/O floor (bench/same-io-floor.ts: the same statements and sends, written by hand). The three
// are measured in turns, round after round, so a burst of load on a shared machine hits all of them.
import { sample, type Sample } from "./measure.ts";

export interface ThroughputRun {
  readonly handler: () => Promise<number>;
  readonly sameIoFloor: () => Promise<number>;
  readonly rawPg: () => Promise<number>;
}

export interface ThroughputFigure {
  readonly figure: string;
  readonly value: Sample;
  readonly unit: string;
  readonly baseline: number;
  readonly target: string;
  readonly met: boolean;
  readonly note: string;
}

/** Of the same-I/O floor, at every batch size (issue #15). */
const SHARE_OF_SAME_IO_FLOOR = 0.7;
/** Records/s at batches of 1,000: four times the 1,255 measured before the relay at the floor. */
const MIN_AT_1000 = 4 * 1255;

export async function throughputFigure(
  batchSize: number,
  rounds: number,
  run: ThroughputRun,
): Promise<ThroughputFigure> {
  const handler: number[] = [];
  const floor: number[] = [];
  const raw: number[] = [];
  await sample(rounds, async () => {
    handler.push(await run.handler());
    floor.push(await run.sameIoFloor());
    raw.push(await run.rawPg());
    return 0;
  });
  const value = await sample(rounds, () => Promise.resolve(handler.shift()!));
  const sameIo = median(floor);
  const rawPg = median(raw);
  const ofFloor = value.median / sameIo;
  const needsMinimum = batchSize >= 1000;
  return {
    figure: `handler throughput, SQS batches of ${batchSize.toLocaleString("en")}`,
    value,
    unit: "records/s",
    baseline: sameIo,
    target: `>= ${SHARE_OF_SAME_IO_FLOOR * 100} % of same-I/O floor${needsMinimum ? `, >= ${MIN_AT_1000} records/s` : ""}`,
    met: ofFloor >= SHARE_OF_SAME_IO_FLOOR && (!needsMinimum || value.median >= MIN_AT_1000),
    note: `same-I/O floor; ${(ofFloor * 100).toFixed(0)} % of it, ${((value.median / rawPg) * 100).toFixed(0)} % of raw pg (${rawPg.toFixed(0)} records/s, no publishing)`,
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
