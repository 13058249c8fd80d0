import type { DeadLetter, DeadLetterQueue } from "@entity/domain";

/**
 * Keeps the letters it is sent; `failNext(n)` makes the next n sends fail (a DLQ that is down). Like SQS,
 * it refuses a body over 1 MiB (reported as failed, never thrown).
 */
export class InMemoryDeadLetterQueue implements DeadLetterQueue {
  readonly letters: DeadLetter[] = [];
  private failuresLeft = 0;
  private readonly maxBodyBytes = 1_048_576;

  failNext(calls: number): void {
    this.failuresLeft = calls;
  }

  send(letters: readonly DeadLetter[]): Promise<{ failed: readonly string[] }> {
    if (this.failuresLeft > 0) {
      this.failuresLeft -= 1;
      return Promise.resolve({ failed: letters.map((letter) => letter.messageId) });
    }
    const tooLarge = (letter: DeadLetter): boolean =>
      Buffer.byteLength(letter.body, "utf8") > this.maxBodyBytes;
    this.letters.push(...letters.filter((letter) => !tooLarge(letter)));
    return Promise.resolve({ failed: letters.filter(tooLarge).map((letter) => letter.messageId) });
  }
}
