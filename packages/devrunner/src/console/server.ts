import { readFileSync, existsSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { LocalFlow } from "../local-aws/flow.ts";
import { ConsoleActions } from "./actions.ts";
import { DatabaseView, describe } from "./database-view.ts";
import type { FlowMonitor } from "./flow-monitor.ts";
import { methodRefusal, readJsonBody } from "./http.ts";
import { LiveStream } from "./live-stream.ts";
import { mask } from "./masking.ts";
import { apiRoute, type ApiContext } from "./routes.ts";
import { postRefusal, refusal, SECURITY_HEADERS, sessionToken } from "./safety.ts";

/** The console's port when none is asked for; when it is taken, any free one. */
export const DEFAULT_CONSOLE_PORT = 9740;

// Next to this module when running from the sources; from the bundle (.bundle/cli.mjs), in the sources.
const STATIC_DIR =
  [join(import.meta.dirname, "static"), join(import.meta.dirname, "..", "src", "console", "static")].find(
    (path) => existsSync(join(path, "index.html")),
  ) ?? join(import.meta.dirname, "static");

const ASSETS: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/console.js": { file: "console.js", type: "text/javascript; charset=utf-8" },
  "/console.css": { file: "console.css", type: "text/css; charset=utf-8" },
  "/console-worker.js": { file: "console-worker.js", type: "text/javascript; charset=utf-8" },
};

export interface RunningConsole {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * The local console: a static page and one script, an events stream and a small JSON API, on
 * 127.0.0.1 only. `port` undefined: DEFAULT_CONSOLE_PORT, or any free port when that one is taken.
 */
export async function startConsole(
  monitor: FlowMonitor,
  flow: LocalFlow,
  options: { port?: number | undefined },
): Promise<RunningConsole> {
  const token = sessionToken();
  const database = new DatabaseView(flow.prepared.env);
  const live = new LiveStream(monitor, database);
  const actions = new ConsoleActions(flow);
  const context: ApiContext = { monitor, database, actions, flow };
  let port = 0;
  const server = createServer((request, response) => {
    void handle(request, response, { token, port, live, context }).catch((error: unknown) =>
      answer(response, 500, { error: describe(error) }),
    );
  });
  port = await listen(server, options.port);
  return {
    url: `http://127.0.0.1:${port}/`,
    stop: async () => {
      live.close();
      actions.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await database.close();
    },
  };
}

async function listen(server: Server, port: number | undefined): Promise<number> {
  const attempt = (on: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(on, "127.0.0.1", () => {
        server.off("error", reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  if (port !== undefined) return attempt(port);
  try {
    return await attempt(DEFAULT_CONSOLE_PORT);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
    return attempt(0);
  }
}

async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  server: { token: string; port: number; live: LiveStream; context: ApiContext },
): Promise<void> {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.setHeader(name, value);
  const refused = refusal(request, server.port);
  if (refused) return answer(response, 403, { error: refused });
  const url = new URL(request.url ?? "/", "http://127.0.0.1");
  const wrongMethod = methodRefusal(request.method, url.pathname);
  if (wrongMethod) {
    if (wrongMethod.allow) response.setHeader("allow", wrongMethod.allow);
    return answer(response, wrongMethod.status, { error: wrongMethod.error });
  }
  const asset = ASSETS[url.pathname];
  if (asset) {
    let text = readFileSync(join(STATIC_DIR, asset.file), "utf8");
    if (asset.file === "index.html") text = text.replace("%SESSION_TOKEN%", server.token);
    response.writeHead(200, { "content-type": asset.type, "content-length": Buffer.byteLength(text) });
    // HEAD: the same headers, no body.
    response.end(request.method === "HEAD" ? undefined : text);
    return;
  }
  if (url.pathname === "/api/events") return server.live.add(response);
  let body: unknown;
  if (request.method === "POST") {
    const wrong = postRefusal(request, server.token);
    if (wrong) return answer(response, 403, { error: wrong });
    const read = await readJsonBody(request);
    if (!read.ok) return answer(response, read.status, { error: read.error });
    body = read.value;
  }
  const result = await apiRoute(request.method, url, body, server.context);
  if (request.method === "POST") void server.live.refreshDatabase(true);
  answer(response, result.status, result.body);
}

function answer(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent) return void response.end();
  response.writeHead(status, { "content-type": "application/json; charset=utf-8" });
  // Every answer goes out masked, whatever route made it.
  response.end(JSON.stringify(mask(body)));
}
