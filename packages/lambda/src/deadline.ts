import type { Context } from "aws-lambda";

/** The time budget of one invocation. */
export interface InvocationDeadline {
  /** True once less than the margin is left: take up no new work. */
  timeIsShort(): boolean;
  /**
   * Waits for `work` until the hard stop (half the margin before the Timeout). There it interrupts the
   * database work (the running statement is cancelled and its transaction rolled back) and waits a little
   * for `work` to end, so nothing is left running when the handler returns; "interrupted" if it did not.
   */
  bound<T>(work: Promise<T>): Promise<T | "interrupted">;
}

/**
 * The margin scales with the function's Timeout: a fifth of the time this invocation started with, at most
 * `marginMs` (3 s by default), so a 3 s function is not "out of time" before it starts.
 */
export function invocationDeadline(
  context: Pick<Context, "getRemainingTimeInMillis">,
  options: { marginMs: number; interrupt: (graceMs: number) => Promise<void> },
): InvocationDeadline {
  const margin = Math.min(options.marginMs, context.getRemainingTimeInMillis() / 5);
  // Half the margin is left at the hard stop: most of it for the cancelled statement's rollback (a busy
  // machine takes tens of milliseconds), the rest to answer.
  const grace = margin / 4;
  return {
    timeIsShort: () => context.getRemainingTimeInMillis() < margin,
    async bound<T>(work: Promise<T>): Promise<T | "interrupted"> {
      // The losing side of a race must not become an unhandled rejection.
      work.catch(() => undefined);
      const untilHardStop = context.getRemainingTimeInMillis() - margin / 2;
      const first = await raceTimer(work, untilHardStop);
      if (first !== TIMED_OUT) return first;
      await options.interrupt(grace);
      const second = await raceTimer(work, grace);
      return second === TIMED_OUT ? "interrupted" : second;
    },
  };
}

const TIMED_OUT = Symbol("timed out");

async function raceTimer<T>(work: Promise<T>, millis: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), Math.max(0, millis));
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
