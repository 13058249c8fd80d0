import { CANCEL_REQUEST_CODE, GSSENC_REQUEST_CODE, SSL_REQUEST_CODE, readCString } from "./protocol.ts";

/** What a client sends before its first typed message. */
export type StartupPacket =
  | { readonly kind: "ssl-request" }
  | { readonly kind: "gssenc-request" }
  | { readonly kind: "cancel"; readonly processId: number; readonly secretKey: number }
  | {
      readonly kind: "startup";
      readonly major: number;
      readonly minor: number;
      readonly parameters: ReadonlyMap<string, string>;
    };

/** A typed message, whole (type byte and length included). */
export interface FrontendMessage {
  readonly type: string;
  readonly bytes: Buffer;
}

export type FrontendPacket =
  | { readonly kind: "startup-packet"; readonly packet: StartupPacket }
  | { readonly kind: "message"; readonly message: FrontendMessage }
  /** The stream cannot be read on: the connection is to be closed with this reason. */
  | { readonly kind: "invalid"; readonly reason: string };

// Postgres's own bounds: a startup packet over 10,000 bytes is refused, a message over 1 GB too.
const MAX_STARTUP_LENGTH = 10_000;
const MAX_MESSAGE_LENGTH = 0x3fffffff;

/**
 * Splits a client's byte stream into packets: untyped startup packets (SSL and GSS encryption requests,
 * a cancel request, the startup message) until the startup message, typed messages after it. Bytes come
 * in as the socket delivers them; a packet is returned once it is whole.
 */
export class FrontendReader {
  private buffered: Buffer = Buffer.alloc(0);
  private started = false;
  private broken = false;

  push(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
  }

  /** The next whole packet, or undefined until more bytes arrive. After "invalid", always undefined. */
  read(): FrontendPacket | undefined {
    if (this.broken) return undefined;
    const packet = this.started ? this.readMessage() : this.readStartup();
    if (packet?.kind === "invalid") {
      this.broken = true;
      this.buffered = Buffer.alloc(0);
    }
    return packet;
  }

  private take(length: number): Buffer {
    const taken = this.buffered.subarray(0, length);
    this.buffered = this.buffered.subarray(length);
    return taken;
  }

  private readMessage(): FrontendPacket | undefined {
    if (this.buffered.length < 5) return undefined;
    const length = this.buffered.readInt32BE(1);
    if (length < 4 || length > MAX_MESSAGE_LENGTH)
      return { kind: "invalid", reason: `invalid message length ${length}` };
    if (this.buffered.length < 1 + length) return undefined;
    const type = String.fromCharCode(this.buffered[0]!);
    // A copy: the message may outlive the buffer it came in (queued behind other connections).
    return { kind: "message", message: { type, bytes: Buffer.from(this.take(1 + length)) } };
  }

  private readStartup(): FrontendPacket | undefined {
    if (this.buffered.length < 8) return undefined;
    const length = this.buffered.readInt32BE(0);
    if (length < 8 || length > MAX_STARTUP_LENGTH)
      return { kind: "invalid", reason: `invalid startup packet length ${length}` };
    if (this.buffered.length < length) return undefined;
    const packet = this.take(length);
    const code = packet.readInt32BE(4);
    if (code === SSL_REQUEST_CODE && length === 8)
      return { kind: "startup-packet", packet: { kind: "ssl-request" } };
    if (code === GSSENC_REQUEST_CODE && length === 8)
      return { kind: "startup-packet", packet: { kind: "gssenc-request" } };
    if (code === CANCEL_REQUEST_CODE) {
      if (length !== 16) return { kind: "invalid", reason: `invalid cancel request length ${length}` };
      return {
        kind: "startup-packet",
        packet: { kind: "cancel", processId: packet.readInt32BE(8), secretKey: packet.readInt32BE(12) },
      };
    }
    const parameters = readParameters(packet);
    if (parameters === undefined) return { kind: "invalid", reason: "malformed startup packet" };
    this.started = true;
    return {
      kind: "startup-packet",
      packet: { kind: "startup", major: code >>> 16, minor: code & 0xffff, parameters },
    };
  }
}

/** The name/value pairs of a startup message, up to the empty name that ends them. */
function readParameters(packet: Buffer): Map<string, string> | undefined {
  const parameters = new Map<string, string>();
  let offset = 8;
  for (;;) {
    if (offset >= packet.length) return undefined;
    const name = readCString(packet, offset);
    if (name.next === -1) return undefined;
    if (name.value === "") return parameters;
    const value = readCString(packet, name.next);
    if (value.next === -1) return undefined;
    parameters.set(name.value, value.value);
    offset = value.next;
  }
}
