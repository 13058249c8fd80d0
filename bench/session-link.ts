// `process KEY` while a `watch process` session of the same checkout holds the embedded database: the
// command hands its work to the session over the local socket (packages/devrunner/src/session-link).
import { spawn } from "node:child_process";
import { sample, timeCommand, type Sample } from "./measure.ts";

export async function linkedProcess(options: {
  readonly node: string;
  readonly cli: string;
  readonly env: NodeJS.ProcessEnv;
  readonly runs: number;
  readonly freshKey: () => string;
}): Promise<Sample> {
  const { node, cli, env } = options;
  const session = spawn(node, ["--", cli, "watch", "process", options.freshKey()], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  session.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  session.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => session.once("exit", () => resolve()));
  try {
    const deadline = Date.now() + 60_000;
    while (!/watching packages/.test(output)) {
      if (Date.now() > deadline || session.exitCode !== null)
        throw new Error(`watch did not start: ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await timeCommand(node, ["--", cli, "process", options.freshKey()], env);
    return await sample(options.runs, () =>
      timeCommand(node, ["--", cli, "process", options.freshKey()], env),
    );
  } finally {
    session.kill("SIGINT");
    // The embedded folder is free again for what runs next.
    await exited;
  }
}
