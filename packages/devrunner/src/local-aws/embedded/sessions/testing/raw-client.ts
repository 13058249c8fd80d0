import { connect, type Socket } from "node:net";
import { PROTOCOL_3_0, cString, message } from "../protocol.ts";

/** A backend message as the raw client reads it. */
export interface BackendMessage {
  readonly type: string;
  readonly body: Buffer;
}

/**
 * A Postgres client at the message level, for tests that need what pg never does on its own: to stop
 * half-way through an extended-protocol sequence, to interleave exactly, to vanish without a Terminate.
 */
export class RawClient {
  private readonly socket: Socket;
  private buffered = Buffer.alloc(0);
  private received: BackendMessage[] = [];
  private wake: (() => void) | undefined;
  private closed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      while (this.buffered.length >= 5) {
        const length = this.buffered.readInt32BE(1);
        if (this.buffered.length < 1 + length) break;
        this.received.push({
          type: String.fromCharCode(this.buffered[0]!),
          body: this.buffered.subarray(5, 1 + length),
        });
        this.buffered = this.buffered.subarray(1 + length);
      }
      this.wake?.();
    });
    socket.on("close", () => {
      this.closed = true;
      this.wake?.();
    });
    socket.on("error", () => undefined);
  }

  /** Connects and completes the startup (up to the first ReadyForQuery). */
  static async connect(port: number, parameters: Record<string, string> = {}): Promise<RawClient> {
    const socket = connect(port, "127.0.0.1");
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    const client = new RawClient(socket);
    const pairs = Object.entries({ user: "postgres", database: "postgres", ...parameters }).flatMap(
      ([name, value]) => [cString(name), cString(value)],
    );
    const body = Buffer.concat([...pairs, Buffer.from([0])]);
    const head = Buffer.alloc(8);
    head.writeInt32BE(8 + body.length, 0);
    head.writeInt32BE(PROTOCOL_3_0, 4);
    client.send(Buffer.concat([head, body]));
    await client.untilReady();
    return client;
  }

  send(...messages: Buffer[]): void {
    this.socket.write(Buffer.concat(messages));
  }

  /** Messages up to and including the next ReadyForQuery (or all there are when the server closes). */
  async untilReady(): Promise<BackendMessage[]> {
    return this.until((messages) => messages.findIndex((m) => m.type === "Z"));
  }

  /** Messages up to and including the first of type `type`. */
  async until(find: (messages: BackendMessage[]) => number): Promise<BackendMessage[]> {
    for (;;) {
      const index = find(this.received);
      if (index !== -1) return this.received.splice(0, index + 1);
      if (this.closed) return this.received.splice(0);
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** Gone without a Terminate, as a killed process goes. */
  kill(): void {
    this.socket.destroy();
  }

  get isClosed(): boolean {
    return this.closed;
  }
}

export const parse = (name: string, sql: string): Buffer =>
  message("P", Buffer.concat([cString(name), cString(sql), Buffer.from([0, 0])]));
export const bindNoParameters = (portal: string, statement: string): Buffer =>
  message("B", Buffer.concat([cString(portal), cString(statement), Buffer.alloc(6)]));
export const execute = (portal: string): Buffer =>
  message("E", Buffer.concat([cString(portal), Buffer.alloc(4)]));
export const describePortal = (name: string): Buffer =>
  message("D", Buffer.concat([Buffer.from("P"), cString(name)]));
export const flush = (): Buffer => message("H");
export const syncMessage = (): Buffer => message("S");
export const query = (sql: string): Buffer => message("Q", cString(sql));

/** The text values of the DataRow messages among `messages` (one array per row). */
export function rowsOf(messages: readonly BackendMessage[]): (string | null)[][] {
  return messages
    .filter((m) => m.type === "D")
    .map((m) => {
      const values: (string | null)[] = [];
      let offset = 2;
      for (let i = 0; i < m.body.readInt16BE(0); i += 1) {
        const length = m.body.readInt32BE(offset);
        offset += 4;
        values.push(length === -1 ? null : m.body.toString("utf8", offset, offset + length));
        offset += Math.max(0, length);
      }
      return values;
    });
}

/** The SQLSTATE of the first ErrorResponse among `messages`, if any. */
export function errorCodeOf(messages: readonly BackendMessage[]): string | undefined {
  const error = messages.find((m) => m.type === "E");
  if (!error) return undefined;
  for (let offset = 0; offset < error.body.length && error.body[offset] !== 0;) {
    const end = error.body.indexOf(0, offset + 1);
    if (error.body[offset] === 0x43 /* C */) return error.body.toString("utf8", offset + 1, end);
    offset = end + 1;
  }
  return undefined;
}
