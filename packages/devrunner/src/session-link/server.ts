import { existsSync, rmSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import type { LinkReply, LinkRequest } from "./link.ts";

/** Where a linked command writes: the client's stdout and stderr. */
export interface LinkSink {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

/** Runs one linked command: its exit code, or a reason to decline (the client then runs it itself). */
export type LinkHandler = (request: LinkRequest, sink: LinkSink) => Promise<number | { declined: string }>;

export interface SessionLink {
  readonly socketPath: string;
  close(): Promise<void>;
}

/**
 * Serves linked commands on `socketPath`, one request a connection. Undefined when another live session
 * already serves there (the first one keeps it); a socket file left by a session that died is replaced.
 */
export async function serveSessionLink(
  socketPath: string,
  handle: LinkHandler,
): Promise<SessionLink | undefined> {
  if (process.platform !== "win32" && existsSync(socketPath)) {
    if (await answers(socketPath)) return undefined;
    rmSync(socketPath, { force: true });
  }
  const server = createServer((socket) => void serveOne(socket, handle));
  const listening = await new Promise<boolean>((resolveListen) => {
    server.once("error", () => resolveListen(false));
    server.listen(socketPath, () => resolveListen(true));
  });
  if (!listening) return undefined;
  server.unref();
  return {
    socketPath,
    close: () => closeServer(server, socketPath),
  };
}

async function serveOne(socket: Socket, handle: LinkHandler): Promise<void> {
  const send = (reply: LinkReply): void => {
    if (!socket.destroyed) socket.write(`${JSON.stringify(reply)}\n`);
  };
  socket.on("error", () => undefined);
  try {
    const request = JSON.parse(await firstLine(socket)) as LinkRequest;
    const outcome = await handle(request, {
      out: (text) => send({ stream: "out", text }),
      err: (text) => send({ stream: "err", text }),
    });
    send(typeof outcome === "number" ? { exit: outcome } : outcome);
  } catch (error) {
    send({
      stream: "err",
      text: `devrunner: session: ${error instanceof Error ? error.message : String(error)}\n`,
    });
    send({ exit: 1 });
  } finally {
    socket.end();
  }
}

function firstLine(socket: Socket): Promise<string> {
  return new Promise((resolveLine, reject) => {
    let buffered = "";
    socket.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      const newline = buffered.indexOf("\n");
      if (newline >= 0) resolveLine(buffered.slice(0, newline));
    });
    socket.on("end", () => reject(new Error("the client sent no request")));
  });
}

function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolveAnswer) => {
    const probe = connect(socketPath);
    probe.on("connect", () => {
      probe.destroy();
      resolveAnswer(true);
    });
    probe.on("error", () => resolveAnswer(false));
  });
}

function closeServer(server: Server, socketPath: string): Promise<void> {
  return new Promise((resolveClose) => {
    server.close(() => {
      if (process.platform !== "win32") rmSync(socketPath, { force: true });
      resolveClose();
    });
  });
}
