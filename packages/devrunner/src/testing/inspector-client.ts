// A minimal debugger for tests, speaking the inspector protocol over Node's global WebSocket, that sets
// breakpoints in TypeScript sources the way VS Code's js-debug does: it pauses before every script that
// has a source map (an instrumentation breakpoint), reads the map, and sets the breakpoint on the bundle's
// line and column that the source line maps to.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  TraceMap,
  generatedPositionFor,
  originalPositionFor,
  LEAST_UPPER_BOUND,
} from "@jridgewell/trace-mapping";

interface ProtocolMessage {
  readonly id?: number;
  readonly method?: string;
  readonly params?: Record<string, unknown>;
  readonly result?: Record<string, unknown>;
  readonly error?: { message: string };
}

interface ParsedScript {
  readonly url: string;
  readonly map: TraceMap | undefined;
}

/** Where a breakpoint stopped, in the TypeScript source. */
export interface SourcePause {
  readonly source: string;
  /** 1-based, as editors count. */
  readonly line: number;
}

export interface InspectorClient {
  /** Sets a breakpoint at `line` (1-based) of the TypeScript file `source`, in every script mapping it. */
  breakAt(source: string, line: number): Promise<void>;
  /** Lets a process waiting for a debugger (`invoke -d`) run. */
  run(): Promise<void>;
  /** Resolves at the next pause on one of the breakpoints set with `breakAt`, mapped back to the source. */
  nextPause(): Promise<SourcePause>;
  resume(): Promise<void>;
  close(): void;
}

/** Attaches to the inspector listening on 127.0.0.1:`port` (its first target, found as DevTools does). */
export async function attachInspector(port: number): Promise<InspectorClient> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as {
    webSocketDebuggerUrl: string;
  }[];
  const socket = new WebSocket(targets[0]!.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.addEventListener("open", resolve, { once: true });
    socket.addEventListener("error", () => reject(new Error(`cannot attach to 127.0.0.1:${port}`)));
  });
  const session = new Session(socket);
  await session.call("Runtime.enable");
  await session.call("Debugger.enable");
  await session.call("Debugger.setInstrumentationBreakpoint", {
    instrumentation: "beforeScriptWithSourceMapExecution",
  });
  return session;
}

class Session implements InspectorClient {
  private nextId = 1;
  private readonly pending = new Map<number, (message: ProtocolMessage) => void>();
  private readonly scripts = new Map<string, ParsedScript>();
  private readonly wanted: { source: string; line: number }[] = [];
  private readonly breakpoints = new Set<string>();
  /** url:line:column already asked for: a breakpoint by URL covers every script parsed with that URL. */
  private readonly locations = new Set<string>();
  private readonly pauses: SourcePause[] = [];
  private pauseWaiter: { resolve: (pause: SourcePause) => void; reject: (error: Error) => void } | undefined;
  private failure: Error | undefined;
  // Events are handled one after the other: a script's breakpoints are set before it may run.
  private handling: Promise<void> = Promise.resolve();

  private readonly socket: WebSocket;

  constructor(socket: WebSocket) {
    this.socket = socket;
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(String(event.data)) as ProtocolMessage;
      if (message.id !== undefined) this.pending.get(message.id)?.(message);
      else if (message.method) {
        const { method, params = {} } = message;
        this.handling = this.handling
          .then(() => this.onEvent(method, params))
          .catch((error: unknown) => this.fail(error as Error));
      }
    });
  }

  call(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, (message) => {
        this.pending.delete(id);
        if (message.error) reject(new Error(`${method}: ${message.error.message}`));
        else resolve(message.result ?? {});
      });
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  async breakAt(source: string, line: number): Promise<void> {
    this.wanted.push({ source, line });
    for (const script of this.scripts.values()) await this.setBreakpoints(script);
  }

  async run(): Promise<void> {
    await this.call("Runtime.runIfWaitingForDebugger");
  }

  nextPause(): Promise<SourcePause> {
    const pause = this.pauses.shift();
    if (pause) return Promise.resolve(pause);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => (this.pauseWaiter = { resolve, reject }));
  }

  async resume(): Promise<void> {
    await this.call("Debugger.resume");
  }

  close(): void {
    this.socket.close();
  }

  private async onEvent(method: string, params: Record<string, unknown>): Promise<void> {
    if (method === "Debugger.scriptParsed") {
      const script = { url: String(params.url), map: loadSourceMap(params) };
      this.scripts.set(String(params.scriptId), script);
      await this.setBreakpoints(script);
    } else if (method === "Debugger.paused") {
      // An instrumentation pause: the script's breakpoints were set when it was parsed.
      if (params.reason === "instrumentation") return void (await this.resume());
      const hit = (params.hitBreakpoints as string[] | undefined) ?? [];
      if (!hit.some((id) => this.breakpoints.has(id))) return void (await this.resume());
      this.paused(this.sourceLocation(params));
    }
  }

  private async setBreakpoints(script: ParsedScript): Promise<void> {
    if (!script.map) return;
    for (const { source, line } of this.wanted) {
      const mapped = script.map.resolvedSources.find((resolved) => resolved.endsWith(source));
      if (!mapped) continue;
      const generated = generatedPositionFor(script.map, {
        source: script.map.sources[script.map.resolvedSources.indexOf(mapped)]!,
        line,
        column: 0,
        bias: LEAST_UPPER_BOUND,
      });
      if (generated.line === null) throw new Error(`${source}:${line} maps to no code in ${script.url}`);
      const location = `${script.url}:${generated.line}:${generated.column}`;
      if (this.locations.has(location)) continue;
      this.locations.add(location);
      const { breakpointId } = await this.call("Debugger.setBreakpointByUrl", {
        url: script.url,
        lineNumber: generated.line - 1,
        columnNumber: generated.column,
      });
      this.breakpoints.add(String(breakpointId));
    }
  }

  private sourceLocation(params: Record<string, unknown>): SourcePause {
    const [frame] = params.callFrames as {
      location: { scriptId: string; lineNumber: number; columnNumber: number };
    }[];
    const { scriptId, lineNumber, columnNumber } = frame!.location;
    const map = this.scripts.get(scriptId)?.map;
    if (!map) return { source: this.scripts.get(scriptId)?.url ?? scriptId, line: lineNumber + 1 };
    const original = originalPositionFor(map, { line: lineNumber + 1, column: columnNumber });
    return { source: original.source ?? "?", line: original.line ?? 0 };
  }

  private paused(pause: SourcePause): void {
    const waiter = this.pauseWaiter;
    this.pauseWaiter = undefined;
    if (waiter) waiter.resolve(pause);
    else this.pauses.push(pause);
  }

  private fail(error: Error): void {
    this.failure = error;
    this.pauseWaiter?.reject(error);
    this.pauseWaiter = undefined;
  }
}

/** The source map of a parsed script: a file next to the bundle (`//# sourceMappingURL=index.mjs.map`). */
function loadSourceMap(params: Record<string, unknown>): TraceMap | undefined {
  const scriptUrl = String(params.url);
  const mapUrl = typeof params.sourceMapURL === "string" ? params.sourceMapURL : "";
  if (!mapUrl || !scriptUrl.startsWith("file:")) return undefined;
  const resolved = new URL(mapUrl, scriptUrl);
  if (resolved.protocol !== "file:") return undefined;
  return new TraceMap(readFileSync(fileURLToPath(resolved), "utf8"), resolved.href);
}
