// `process KEY` while a `watch process` session of the same checkout holds the embedded database: the
// command hands its work to the session over the local socket (packages/devrunner/src/session-link).
import { spawn, spawnSync } from "node:child_process";
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

/**
 * `invoke` while an `up` of the same checkout runs the same function on the same database: the command
 * hands it to the session (its build, database, local cloud and a warm execution environment).
 */
export async function linkedInvoke(options: {
  readonly node: string;
  readonly cli: string;
  readonly env: NodeJS.ProcessEnv;
  readonly runs: number;
  readonly envVars: string;
  readonly eventFile: () => string;
}): Promise<Sample> {
  const { node, cli, env, envVars } = options;
  const session = spawn(node, ["--", cli, "up", "--port", "0", "--no-console", "--env-vars", envVars], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  session.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  session.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => session.once("exit", () => resolve()));
  const invoke = (): Promise<number> =>
    timeCommand(node, ["--", cli, "invoke", "--env-vars", envVars, "--event", options.eventFile()], env);
  try {
    const deadline = Date.now() + 90_000;
    while (!/^ready:/m.test(output)) {
      if (Date.now() > deadline || session.exitCode !== null) throw new Error(`up did not start: ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // The first linked invoke starts the session's environment for them; it stays warm from here on.
    const first = spawnSync(
      node,
      ["--", cli, "invoke", "--env-vars", envVars, "--event", options.eventFile()],
      { env, encoding: "utf8" },
    );
    if (!first.stderr.includes("run by the running session"))
      throw new Error(`invoke was not handed to the session: ${first.stderr}`);
    return await sample(options.runs, invoke);
  } finally {
    session.kill("SIGINT");
    await exited;
  }
}
