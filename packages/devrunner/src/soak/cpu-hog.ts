import { spawn, type ChildProcess } from "node:child_process";
import { availableParallelism } from "node:os";

// Spins in slices and leaves when its parent is gone (its ppid changes), so a soak killed with SIGKILL
// leaves no busy process behind on a shared machine.
const BUSY_LOOP = `
const parent = process.ppid;
for (;;) {
  const sliceEnds = Date.now() + 100;
  while (Date.now() < sliceEnds) {}
  if (process.ppid !== parent) process.exit(0);
}`;

export interface CpuHog {
  readonly processes: number;
  stop(): Promise<void>;
}

/** A busy loop on every core, each in its own process: the soak on a machine busy with other work. */
export function startCpuHog(processes: number = availableParallelism()): CpuHog {
  const children: ChildProcess[] = Array.from({ length: processes }, () =>
    spawn(process.execPath, ["-e", BUSY_LOOP], { stdio: "ignore" }),
  );
  return {
    processes,
    stop: async () => {
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              child.once("exit", () => resolve());
              child.kill("SIGKILL");
            }),
        ),
      );
    },
  };
}
