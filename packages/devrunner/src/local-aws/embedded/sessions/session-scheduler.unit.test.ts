import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SessionScheduler } from "./session-scheduler.ts";

const scheduler = (): SessionScheduler => new SessionScheduler({ othersWaitingLimitMs: 1000 });

describe("SessionScheduler: who gets the one session", () => {
  it("serves ready connections one unit at a time, first come first served", () => {
    const s = scheduler();
    s.ready(1, 0);
    s.ready(2, 0);
    s.ready(1, 0);
    expect(s.next()).toBe(1);
    expect(s.next()).toBeUndefined(); // one at a time
    s.finish(1, false, 1);
    s.ready(1, 1);
    expect(s.next()).toBe(2); // 1 came back after 2 was waiting
    s.finish(2, false, 2);
    expect(s.next()).toBe(1);
    s.finish(1, false, 3);
    expect(s.next()).toBeUndefined();
  });

  it("keeps the session for a connection in a transaction until it is idle again", () => {
    const s = scheduler();
    s.ready(1, 0);
    s.ready(2, 0);
    expect(s.next()).toBe(1);
    s.finish(1, true, 1); // BEGIN: status T
    expect(s.next()).toBeUndefined(); // 2 waits although 1 has nothing ready
    s.ready(3, 2);
    s.ready(1, 3);
    expect(s.next()).toBe(1); // the holder goes before the waiting ones
    s.finish(1, false, 4); // COMMIT: status I
    expect(s.next()).toBe(2);
    s.finish(2, false, 5);
    expect(s.next()).toBe(3);
  });

  it("never lets an idle connection without a transaction block anyone", () => {
    const s = scheduler();
    s.ready(1, 0);
    expect(s.next()).toBe(1);
    s.finish(1, false, 1);
    s.ready(2, 2);
    expect(s.next()).toBe(2);
    expect(s.holdDeadline()).toBeUndefined();
  });

  it("gives an idle holder a deadline once others wait, and its own limit in any case", () => {
    const s = scheduler();
    s.ready(1, 0);
    s.next();
    s.finish(1, true, 100);
    expect(s.holdDeadline()).toBeUndefined();
    s.ready(2, 500);
    expect(s.holdDeadline()).toEqual({ connection: 1, at: 1500, limit: "others-waiting", limitMs: 1000 });
    s.setOwnLimit(1, 300);
    expect(s.holdDeadline()).toEqual({ connection: 1, at: 400, limit: "own-limit", limitMs: 300 });
    s.ready(1, 450); // it has work again: it is not idle
    expect(s.holdDeadline()).toBeUndefined();
    expect(s.next()).toBe(1);
    expect(s.holdDeadline()).toBeUndefined(); // running
    s.finish(1, true, 2000);
    expect(s.holdDeadline()).toMatchObject({ at: 2300, limit: "own-limit" });
  });

  it("frees the session of a connection that is gone", () => {
    const s = scheduler();
    s.ready(1, 0);
    s.ready(2, 0);
    s.next();
    s.finish(1, true, 1);
    s.forget(1);
    expect(s.next()).toBe(2);
    expect(s.snapshot()).toEqual({ holder: undefined, running: 2, waiting: [] });
  });

  it("drops withdrawn work", () => {
    const s = scheduler();
    s.ready(1, 0);
    s.ready(2, 0);
    s.withdraw(1);
    expect(s.next()).toBe(2);
  });

  it("never runs two at once, never passes a held session on, and serves everyone in the end", () => {
    type Step = { connection: number; keeps: boolean };
    fc.assert(
      fc.property(
        fc.array(fc.record({ connection: fc.integer({ min: 1, max: 4 }), keeps: fc.boolean() }), {
          maxLength: 60,
        }),
        (steps: Step[]) => {
          const s = scheduler();
          const pending = new Map<number, boolean[]>(); // per connection: the 'keeps' of its units in order
          for (const step of steps) {
            pending.set(step.connection, [...(pending.get(step.connection) ?? []), step.keeps]);
            s.ready(step.connection, 0);
          }
          let holder: number | undefined;
          for (let guard = 0; guard < 1000; guard += 1) {
            const id = s.next();
            if (id === undefined) break;
            expect(s.next()).toBeUndefined();
            if (holder !== undefined) expect(id).toBe(holder);
            const keeps = pending.get(id)!.shift()!;
            s.finish(id, keeps, 0);
            holder = keeps ? id : undefined;
            if (pending.get(id)!.length > 0) s.ready(id, 0);
          }
          // What is left is only what a holder with no more work blocks: everything else ran.
          const left = [...pending.entries()].filter(([, units]) => units.length > 0);
          if (holder === undefined) expect(left).toEqual([]);
          else expect(left.every(([id]) => id !== holder)).toBe(true);
        },
      ),
    );
  });
});
