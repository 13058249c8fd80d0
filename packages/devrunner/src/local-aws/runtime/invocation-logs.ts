// Which invocation wrote which output. An execution environment's stdout and stderr are pipes that the
// parent reads apart from the IPC channel its results come over, so a result can overtake the last log
// lines; instead the worker brackets each invocation with a marker on both streams (as Lambda's START and
// END lines do), and the parent reads the markers out of the streams: exact, whatever the timing.

const PREFIX = Buffer.from("\x1fdevrunner:");
const CLOSE = 0x1f;
/** Longer than any marker: text that merely begins like one is passed on, not held forever. */
const MAX_MARKER_BYTES = 80;

export type InvocationPhase = "start" | "end";

/** The marker the worker writes to stdout and stderr when an invocation starts and ends. */
export function invocationMarker(phase: InvocationPhase, requestId: string): string {
  return `\x1fdevrunner:${phase}:${requestId}\x1f`;
}

/**
 * Reads one stream of an execution environment: passes its text on, each piece with the request id of the
 * invocation that wrote it (undefined outside invocations: the init phase, a timer of the function's),
 * with the markers taken out; says when an invocation's end marker went by.
 */
export class InvocationLogSplitter {
  private held: Buffer = Buffer.alloc(0);
  private current: string | undefined;
  private readonly emit: (text: Buffer, requestId: string | undefined) => void;
  private readonly onEnd: (requestId: string) => void;

  constructor(
    emit: (text: Buffer, requestId: string | undefined) => void,
    onEnd: (requestId: string) => void = () => undefined,
  ) {
    this.emit = emit;
    this.onEnd = onEnd;
  }

  push(chunk: Buffer): void {
    let data = this.held.length > 0 ? Buffer.concat([this.held, chunk]) : chunk;
    this.held = Buffer.alloc(0);
    for (;;) {
      const at = data.indexOf(PREFIX);
      if (at === -1) {
        const keep = partialPrefixLength(data);
        this.pass(data.subarray(0, data.length - keep));
        this.held = Buffer.from(data.subarray(data.length - keep));
        return;
      }
      this.pass(data.subarray(0, at));
      const close = data.indexOf(CLOSE, at + PREFIX.length);
      const marker = close === -1 ? undefined : parseMarker(data.subarray(at + PREFIX.length, close));
      if (close === -1 && data.length - at < MAX_MARKER_BYTES) {
        this.held = Buffer.from(data.subarray(at));
        return;
      }
      if (!marker) {
        // Text that only looks like the start of a marker: the function's own output.
        this.pass(data.subarray(at, at + PREFIX.length));
        data = data.subarray(at + PREFIX.length);
        continue;
      }
      this.current = marker.phase === "start" ? marker.requestId : undefined;
      if (marker.phase === "end") this.onEnd(marker.requestId);
      data = data.subarray(close + 1);
    }
  }

  /** The stream ended: what was held back (a marker cut short) is passed on as text. */
  flush(): void {
    this.pass(this.held);
    this.held = Buffer.alloc(0);
  }

  private pass(text: Buffer): void {
    if (text.length > 0) this.emit(text, this.current);
  }
}

function parseMarker(body: Buffer): { phase: InvocationPhase; requestId: string } | undefined {
  if (body.length > MAX_MARKER_BYTES) return undefined;
  const match = /^(start|end):([\w-]+)$/.exec(body.toString("latin1"));
  return match ? { phase: match[1] as InvocationPhase, requestId: match[2]! } : undefined;
}

/** How many bytes at the end of `data` could be the beginning of a marker. */
function partialPrefixLength(data: Buffer): number {
  for (let length = Math.min(PREFIX.length - 1, data.length); length > 0; length -= 1) {
    if (data.subarray(data.length - length).equals(PREFIX.subarray(0, length))) return length;
  }
  return 0;
}
