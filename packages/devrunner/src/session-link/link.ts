// The fast loop's link to a running session (`up`, `watch`) of the same checkout: `process`, `publish`
// hand their work to it over a local socket instead of opening the embedded database themselves (which
// the session holds open; PGlite's opening is most of a cold run). This file is the client side and is
// imported by the launcher before anything else, so it uses nothing but Node's own modules.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { connect } from "node:net";
import { dirname, isAbsolute, join, resolve } from "node:path";

/** What a client sends: the command line as typed, where, and with which environment. */
export interface LinkRequest {
  readonly command: string;
  readonly argv: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** What the session answers, one JSON document a line: output, then the exit code; or a refusal. */
export type LinkReply =
  | { readonly stream: "out" | "err"; readonly text: string }
  | { readonly exit: number }
  | { readonly declined: string };

/** The commands a session may take over. */
export const LINKED_COMMANDS: readonly string[] = ["process", "publish"];

/**
 * The session's socket, next to `up`'s state file (DEVRUNNER_UP_STATE, default .devrunner/up.json): a
 * unix socket there, a named pipe derived from that folder on Windows.
 */
export function linkSocketPath(
  env: Readonly<Record<string, string | undefined>>,
  repositoryRoot: string,
): string {
  const stateFile = env.DEVRUNNER_UP_STATE?.trim();
  const folder = dirname(
    stateFile
      ? isAbsolute(stateFile)
        ? stateFile
        : resolve(repositoryRoot, stateFile)
      : join(repositoryRoot, ".devrunner/up.json"),
  );
  if (process.platform === "win32")
    return `\\\\.\\pipe\\devrunner-${createHash("sha256").update(folder).digest("hex").slice(0, 16)}`;
  return join(folder, "session.sock");
}

/**
 * Runs the command in the session when one is listening and takes it: its output is written here and
 * its exit code returned. Undefined when there is no session or it declined (then run it here).
 */
export async function handOffToSession(
  request: LinkRequest,
  socketPath: string,
): Promise<number | undefined> {
  if (process.platform !== "win32" && !existsSync(socketPath)) return undefined;
  return new Promise((resolveExit) => {
    const socket = connect(socketPath);
    let buffered = "";
    let answered = false;
    let started = false;
    const finish = (code: number | undefined): void => {
      if (answered) return;
      answered = true;
      socket.destroy();
      resolveExit(code);
    };
    // A session that does not answer at once is not one to wait for.
    socket.setTimeout(2000, () => finish(undefined));
    socket.on("connect", () => {
      socket.setTimeout(0);
      socket.write(`${JSON.stringify(request)}\n`);
    });
    // Cut off once it started: the work may be half done, so it is not run again here.
    const cutOff = (): void => {
      if (answered) return;
      if (started) process.stderr.write("devrunner: the session closed the link before the command ended\n");
      finish(started ? 1 : undefined);
    };
    socket.on("error", cutOff);
    socket.on("close", cutOff);
    socket.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const reply = JSON.parse(buffered.slice(0, newline)) as LinkReply;
        buffered = buffered.slice(newline + 1);
        started = true;
        if ("stream" in reply) (reply.stream === "out" ? process.stdout : process.stderr).write(reply.text);
        else finish("exit" in reply ? reply.exit : undefined);
      }
    });
  });
}
