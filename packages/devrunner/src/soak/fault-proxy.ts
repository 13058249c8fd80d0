import { connect, createServer, type Server, type Socket } from "node:net";

export interface FaultProxy {
  readonly port: number;
  /** Connections cut so far. */
  faults(): number;
  /** Holds every chunk the client sends this long before passing it on (a database that hangs). */
  setDelay(milliseconds: number): void;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of Postgres that cuts a connection now and then (a transient fault: a failover, a
 * dropped tunnel): each chunk the client sends is, with probability `faultRate`, the last.
 */
export async function startFaultProxy(
  targetHost: string,
  targetPort: number,
  faultRate: number,
  random: () => number = Math.random,
): Promise<FaultProxy> {
  let faults = 0;
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
      if (random() < faultRate) {
        faults += 1;
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
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    faults: () => faults,
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
