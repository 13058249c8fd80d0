import type { TransactionStatus } from "./protocol.ts";

/**
 * Follows the database's answer as it streams out in chunks of any size and keeps the transaction status
 * of the last ReadyForQuery: what says whether the connection still holds the session.
 */
export class ReadyForQueryScanner {
  private header = Buffer.alloc(0);
  private type = 0;
  /** Bytes of the current message's body not seen yet. */
  private remaining = 0;
  private bodyStart = false;
  private status: TransactionStatus | undefined;

  /** The status of the last ReadyForQuery seen, if any; clears it. */
  takeStatus(): TransactionStatus | undefined {
    const status = this.status;
    this.status = undefined;
    return status;
  }

  push(chunk: Uint8Array): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.remaining > 0) {
        if (this.bodyStart && this.type === 0x5a /* Z */) this.status = toStatus(chunk[offset]!);
        this.bodyStart = false;
        const skipped = Math.min(this.remaining, chunk.length - offset);
        this.remaining -= skipped;
        offset += skipped;
        continue;
      }
      const needed = 5 - this.header.length;
      const part = chunk.subarray(offset, offset + needed);
      this.header = Buffer.concat([this.header, part]);
      offset += part.length;
      if (this.header.length < 5) break;
      this.type = this.header[0]!;
      this.remaining = Math.max(0, this.header.readInt32BE(1) - 4);
      this.bodyStart = true;
      this.header = Buffer.alloc(0);
    }
  }
}

function toStatus(byte: number): TransactionStatus | undefined {
  const status = String.fromCharCode(byte);
  return status === "I" || status === "T" || status === "E" ? status : undefined;
}
