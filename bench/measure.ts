import { spawn } from "node:child_process";

export interface Sample {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly runs: number;
}

export async function sample(runs: number, once: () => Promise<number>): Promise<Sample> {
  const values: number[] = [];
  for (let i = 0; i < runs; i += 1) values.push(await once());
  values.sort((a, b) => a - b);
  return {
    median: values[Math.floor(values.length / 2)]!,
    min: values[0]!,
    max: values[values.length - 1]!,
    runs,
  };
}

/** Wall time of a command, start to exit, in ms; fails loudly when it fails. */
export function timeCommand(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  input?: string,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, {
      env,
      stdio: [input === undefined ? "ignore" : "pipe", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    if (input !== undefined) child.stdin?.end(input);
    child.on("error", reject);
    child.on("exit", (code) => {
      const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
      if (code === 0) resolve(elapsed);
      else reject(new Error(`${command} ${args.join(" ")} exited ${code}: ${stderr.slice(-2000)}`));
    });
  });
}

/** Peak RSS (MB) of a command, from GNU time when it is installed. */
export function peakRss(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<number | undefined> {
  return new Promise((resolve) => {
    const child = spawn("/usr/bin/time", ["-f", "%M", command, ...args], {
      env,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", () => resolve(undefined));
    child.on("exit", () => {
      const kb = Number(stderr.trim().split("\n").pop());
      resolve(Number.isFinite(kb) && kb > 0 ? Math.round(kb / 1024) : undefined);
    });
  });
}

export function progress(text: string): void {
  process.stderr.write(`  ${text}\n`);
}
