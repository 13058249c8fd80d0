/** Why an idle holder has to give the session up. */
export type HoldLimit = "own-limit" | "others-waiting";

export interface HoldDeadline {
  readonly connection: number;
  /** When it over-stays (same clock as the `now` given to the scheduler). */
  readonly at: number;
  readonly limit: HoldLimit;
  readonly limitMs: number;
}

/**
 * Who gets the database's one session next. Pure state, no I/O, no clock of its own.
 *
 * A connection with work ready waits its turn (first come, first served) and runs one unit (a simple
 * query, or an extended-protocol sequence up to its Sync) at a time. A connection whose unit leaves it
 * inside a transaction or inside an unfinished sequence becomes the holder: only its own units run until
 * it is idle again (ReadyForQuery 'I'). An idle connection holds nothing, so it never blocks others.
 * A holder that sits idle too long has a deadline (`holdDeadline`): its own idle-in-transaction limit,
 * or `othersWaitingLimitMs` after others started waiting on it; the server then ends that connection.
 */
export class SessionScheduler {
  private readonly othersWaitingLimitMs: number;
  private holder: number | undefined;
  private running: number | undefined;
  private idleSince = 0;
  /** Connections with a unit ready, in the order they became ready, with when. */
  private readonly waiting = new Map<number, number>();
  private readonly ownLimits = new Map<number, number>();

  constructor(options: { othersWaitingLimitMs: number }) {
    this.othersWaitingLimitMs = options.othersWaitingLimitMs;
  }

  /** `connection` has a unit ready to run (again: no effect while it waits). */
  ready(connection: number, now: number): void {
    if (!this.waiting.has(connection)) this.waiting.set(connection, now);
  }

  /** `connection` no longer has a unit ready (its work was cancelled). */
  withdraw(connection: number): void {
    this.waiting.delete(connection);
  }

  /** The connection whose unit runs now, taken off the waiting list; undefined when none may run. */
  next(): number | undefined {
    if (this.running !== undefined) return undefined;
    let chosen: number | undefined;
    if (this.holder !== undefined) {
      if (this.waiting.has(this.holder)) chosen = this.holder;
    } else {
      chosen = this.waiting.keys().next().value;
    }
    if (chosen === undefined) return undefined;
    this.waiting.delete(chosen);
    this.running = chosen;
    return chosen;
  }

  /** The running unit is done; `keepsSession` when it left its connection in a transaction or sequence. */
  finish(connection: number, keepsSession: boolean, now: number): void {
    if (this.running === connection) this.running = undefined;
    if (keepsSession) {
      this.holder = connection;
      this.idleSince = now;
    } else if (this.holder === connection) {
      this.holder = undefined;
    }
  }

  /** The connection is gone (and its session state cleaned up): it holds and waits for nothing. */
  forget(connection: number): void {
    this.waiting.delete(connection);
    this.ownLimits.delete(connection);
    if (this.holder === connection) this.holder = undefined;
    if (this.running === connection) this.running = undefined;
  }

  /** The connection's own idle-in-transaction limit (its idle_in_transaction_session_timeout). */
  setOwnLimit(connection: number, limitMs: number | undefined): void {
    if (limitMs === undefined) this.ownLimits.delete(connection);
    else this.ownLimits.set(connection, limitMs);
  }

  runningConnection(): number | undefined {
    return this.running;
  }

  isBusy(connection: number): boolean {
    return this.running === connection || this.holder === connection;
  }

  /** When the idle holder (if there is one) over-stays, by the earliest of its limits. */
  holdDeadline(): HoldDeadline | undefined {
    const holder = this.holder;
    if (holder === undefined || this.running !== undefined || this.waiting.has(holder)) return undefined;
    const candidates: HoldDeadline[] = [];
    const own = this.ownLimits.get(holder);
    if (own !== undefined)
      candidates.push({ connection: holder, at: this.idleSince + own, limit: "own-limit", limitMs: own });
    const firstWaiter = this.waiting.values().next().value;
    if (firstWaiter !== undefined)
      candidates.push({
        connection: holder,
        at: Math.max(this.idleSince, firstWaiter) + this.othersWaitingLimitMs,
        limit: "others-waiting",
        limitMs: this.othersWaitingLimitMs,
      });
    return candidates.sort((a, b) => a.at - b.at)[0];
  }

  /** For diagnostics and tests. */
  snapshot(): { holder: number | undefined; running: number | undefined; waiting: number[] } {
    return { holder: this.holder, running: this.running, waiting: [...this.waiting.keys()] };
  }
}
