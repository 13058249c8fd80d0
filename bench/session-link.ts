// `process KEY` while a `watch process` session of the same checkout holds the embedded database: the
// command hands its work to the session over the local socket (packages/devrunner/src/session-link).
import { spawn, spawnSync } from "node:child_process";
import { sample, timeCommand, type Sample } from "./measure.ts";

/**
 * Runs `work` while a devrunner session (`argv`) runs beside it: started, waited for until its output
 * matches `ready`, and stopped with Ctrl-C afterwards (its embedded folder is then free for what is next).
 */
async function withSession<T>(
  node: string,
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  ready: { pattern: RegExp; withinMs: number },
  work: () => Promise<T>,
): Promise<T> {
  const session = spawn(node, ["--", ...argv], { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  session.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  session.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => session.once("exit", () => resolve()));
  try {
    const deadline = Date.now() + ready.withinMs;
    while (!ready.pattern.test(output)) {
      if (Date.now() > deadline || session.exitCode !== null)
        throw new Error(`${argv[1]} did not start: ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return await work();
  } finally {
    session.kill("SIGINT");
    await exited;
  }
}

export async function linkedProcess(options: {
  readonly node: string;
  readonly cli: string;
  readonly env: NodeJS.ProcessEnv;
  readonly runs: number;
  readonly freshKey: () => string;
}): Promise<Sample> {
  const { node, cli, env } = options;
  const watching = { pattern: /watching packages/, withinMs: 60_000 };
  return withSession(node, [cli, "watch", "process", options.freshKey()], env, watching, async () => {
    await timeCommand(node, ["--", cli, "process", options.freshKey()], env);
    return sample(options.runs, () => timeCommand(node, ["--", cli, "process", options.freshKey()], env));
  });
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
  const invokeArgs = (): string[] => [
    "--",
    cli,
    "invoke",
    "--env-vars",
    envVars,
    "--event",
    options.eventFile(),
  ];
  const up = [cli, "up", "--port", "0", "--no-console", "--env-vars", envVars];
  return withSession(node, up, env, { pattern: /^ready:/m, withinMs: 90_000 }, async () => {
    // The first linked invoke starts the session's environment for them; it stays warm from here on.
    const first = spawnSync(node, invokeArgs(), { env, encoding: "utf8" });
    if (!first.stderr.includes("run by the running session"))
      throw new Error(`invoke was not handed to the session: ${first.stderr}`);
    return sample(options.runs, () => timeCommand(node, invokeArgs(), env));
  });
}
