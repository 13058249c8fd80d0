import type { DeadLetter, DeadLetterQueue } from "@entity/domain";

/** Keeps the letters it is sent; `failNext(n)` makes the next n sends fail (a DLQ that is down). */
export class InMemoryDeadLetterQueue implements DeadLetterQueue {
  readonly letters: DeadLetter[] = [];
  private failuresLeft = 0;

  failNext(calls: number): void {
    this.failuresLeft = calls;
  }

  send(letters: readonly DeadLetter[]): Promise<{ failed: readonly string[] }> {
    if (this.failuresLeft > 0) {
      this.failuresLeft -= 1;
      return Promise.resolve({ failed: letters.map((letter) => letter.messageId) });
    }
    this.letters.push(...letters);
    return Promise.resolve({ failed: [] });
  }
}
