import type { ServerResponse } from "node:http";
import type { DatabaseSummary, DatabaseView } from "./database-view.ts";
import type { FlowMonitor } from "./flow-monitor.ts";
import { flowSnapshot } from "./flow-snapshot.ts";
import { mask } from "./masking.ts";

/** Changes are sent at most this often (a burst of batches is one message). */
const COALESCE_MS = 150;
/** Queue counts also move without a batch (a publish from another terminal, a visibility timeout). */
const QUEUE_CHECK_MS = 1000;
const DATABASE_CHECK_MS = 5000;
const KEEPALIVE_MS = 15_000;
/** A browser that has read nothing for this long is dropped (it reconnects when it reads again). */
export const STALLED_MS = 30_000;

/** What the stream needs of a response (a ServerResponse): writes that say when the buffer is full. */
export type EventsResponse = Pick<ServerResponse, "write" | "end" | "once">;

/**
 * One browser's stream. When its buffer is full (it stopped reading), snapshots are not queued behind
 * it: only the latest is kept and sent on 'drain'; one stalled longer than STALLED_MS is ended.
 */
export class EventsClient {
  private readonly response: EventsResponse;
  private latest: string | undefined;
  private stalledSince: number | undefined;

  constructor(response: EventsResponse) {
    this.response = response;
  }

  /** Sends (or keeps for 'drain') a message; false when the client stalled too long and was ended. */
  send(message: string, now: number = Date.now()): boolean {
    if (this.stalledSince === undefined) {
      if (this.response.write(message)) return true;
      this.stalledSince = now;
      this.response.once("drain", () => this.drained());
      return true;
    }
    this.latest = message;
    if (now - this.stalledSince <= STALLED_MS) return true;
    this.response.end();
    return false;
  }

  private drained(): void {
    this.stalledSince = undefined;
    const latest = this.latest;
    this.latest = undefined;
    if (latest !== undefined) this.send(latest);
  }
}

/**
 * The page's one server-sent-events stream: the whole (small) snapshot, sent when it changed. The
 * server looks at its own in-process emulator for queue counts; the browsers never poll.
 */
export class LiveStream {
  private readonly clients = new Map<ServerResponse, EventsClient>();
  private readonly monitor: FlowMonitor;
  private readonly database: DatabaseView | undefined;
  private databaseSummary: DatabaseSummary | undefined;
  private summarisedAfter = -1;
  private lastSent = "";
  private pending: NodeJS.Timeout | undefined;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(monitor: FlowMonitor, database: DatabaseView | undefined) {
    this.monitor = monitor;
    this.database = database;
    monitor.onChange(() => this.schedule());
    this.timers.push(
      setInterval(() => this.schedule(), QUEUE_CHECK_MS),
      setInterval(() => void this.refreshDatabase(true), DATABASE_CHECK_MS),
      setInterval(() => this.sendAll(": keepalive\n\n"), KEEPALIVE_MS),
    );
    for (const timer of this.timers) timer.unref();
  }

  add(response: ServerResponse): void {
    response.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      connection: "keep-alive",
    });
    const client = new EventsClient(response);
    this.clients.set(response, client);
    response.on("close", () => this.clients.delete(response));
    client.send(this.message(this.snapshotText()));
    void this.refreshDatabase(true);
  }

  close(): void {
    for (const timer of this.timers) clearInterval(timer);
    clearTimeout(this.pending);
    for (const response of this.clients.keys()) response.end();
    this.clients.clear();
  }

  /** After a batch (or on a timer, for the relay's work): the database's counts, when someone looks. */
  async refreshDatabase(always = false): Promise<void> {
    if (!this.database || this.clients.size === 0) return;
    const batches = this.monitor.totals.invocations;
    if (!always && batches === this.summarisedAfter) return;
    this.summarisedAfter = batches;
    this.databaseSummary = await this.database.summary();
    this.schedule();
  }

  private schedule(): void {
    if (this.pending || this.clients.size === 0) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      const text = this.snapshotText();
      if (text !== this.lastSent) {
        this.lastSent = text;
        this.sendAll(this.message(text));
      }
      void this.refreshDatabase();
    }, COALESCE_MS);
  }

  private sendAll(message: string): void {
    for (const [response, client] of this.clients) if (!client.send(message)) this.clients.delete(response);
  }

  private snapshotText(): string {
    return JSON.stringify(mask(flowSnapshot(this.monitor, this.databaseSummary)));
  }

  private message(text: string): string {
    return `event: snapshot\ndata: ${text}\n\n`;
  }
}
