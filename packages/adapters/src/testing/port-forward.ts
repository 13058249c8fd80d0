import { connect, createServer, type Server, type Socket } from "node:net";

export interface PortForward {
  /** The local port on 127.0.0.1. */
  readonly port: number;
  /** Connections cut so far (see `cutRate`). */
  cuts(): number;
  /** Holds every chunk the client sends this long before passing it on (a database that hangs). */
  setDelay(milliseconds: number): void;
  /** Stops listening and cuts the open connections, as a dropped tunnel does. */
  close(): Promise<void>;
}

export interface PortForwardOptions {
  /** The local port to listen on; default a free one. */
  readonly listenPort?: number;
  /**
   * Share of the chunks a client sends that end its connection instead of going through (a transient
   * fault: a failover, a dropped tunnel); default 0.
   */
  readonly cutRate?: number;
  /** Where the cuts' chances come from (a seeded generator makes a run repeatable); default Math.random. */
  readonly random?: () => number;
}

/**
 * What `ssh -L` gives you: a local port on 127.0.0.1 whose connections are forwarded byte for byte to a
 * remote host and port; optionally one that cuts connections now and then, or holds what clients send
 * (the tests' tunnels, the soak's connection-cutting proxy in front of Postgres).
 */
export async function startPortForward(
  targetHost: string,
  targetPort: number,
  options: PortForwardOptions = {},
): Promise<PortForward> {
  const cutRate = options.cutRate ?? 0;
  const random = options.random ?? Math.random;
  let cuts = 0;
  let delay = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((local) => {
    const remote = connect(targetPort, targetHost);
    sockets.add(local);
    sockets.add(remote);
    const cut = (): void => {
      local.destroy();
      remote.destroy();
    };
    local.on("data", (chunk: Buffer) => {
      if (cutRate > 0 && random() < cutRate) {
        cuts += 1;
        cut();
        return;
      }
      if (delay > 0) setTimeout(() => remote.write(chunk), delay);
      else remote.write(chunk);
    });
    remote.on("data", (chunk: Buffer) => local.write(chunk));
    local.on("close", () => {
      sockets.delete(local);
      remote.destroy();
    });
    remote.on("close", () => {
      sockets.delete(remote);
      local.destroy();
    });
    local.on("error", cut);
    remote.on("error", cut);
  });
  await new Promise<void>((resolve) => server.listen(options.listenPort ?? 0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("port forward did not bind");
  return {
    port: address.port,
    cuts: () => cuts,
    setDelay: (milliseconds) => {
      delay = milliseconds;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
