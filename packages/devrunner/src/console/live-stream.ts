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

/**
 * The page's one server-sent-events stream: the whole (small) snapshot, sent when it changed. The
 * server looks at its own in-process emulator for queue counts; the browsers never poll.
 */
export class LiveStream {
  private readonly clients = new Set<ServerResponse>();
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
      setInterval(() => this.clients.forEach((client) => client.write(": keepalive\n\n")), KEEPALIVE_MS),
    );
    for (const timer of this.timers) timer.unref();
  }

  add(response: ServerResponse): void {
    response.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      connection: "keep-alive",
    });
    this.clients.add(response);
    response.on("close", () => this.clients.delete(response));
    response.write(this.message(this.snapshotText()));
    void this.refreshDatabase(true);
  }

  close(): void {
    for (const timer of this.timers) clearInterval(timer);
    clearTimeout(this.pending);
    for (const client of this.clients) client.end();
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
        const message = this.message(text);
        for (const client of this.clients) client.write(message);
      }
      void this.refreshDatabase();
    }, COALESCE_MS);
  }

  private snapshotText(): string {
    return JSON.stringify(mask(flowSnapshot(this.monitor, this.databaseSummary)));
  }

  private message(text: string): string {
    return `event: snapshot\ndata: ${text}\n\n`;
  }
}
