// The fast loop's link to a running session (`up`, `watch`) of the same checkout: `process`, `publish`
// and `invoke` hand their work to it over a local socket instead of opening the embedded database (and,
// for invoke, building, migrating, starting an environment) themselves. The client side, in plain JavaScript:
// the launcher loads it before anything else, and a .ts file would first load Node's type stripper
// (about 60 ms of CPU). Types: session-link.d.mts; the server: src/session-link/.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { connect } from "node:net";
import { dirname, isAbsolute, join, resolve } from "node:path";

export const LINKED_COMMANDS = ["process", "publish", "invoke"];

/**
 * The session's socket, next to `up`'s state file (DEVRUNNER_UP_STATE, default .devrunner/up.json): a
 * unix socket there, a named pipe derived from that folder on Windows.
 */
export function linkSocketPath(env, repositoryRoot) {
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
export function handOffToSession(request, socketPath) {
  if (process.platform !== "win32" && !existsSync(socketPath)) return Promise.resolve(undefined);
  return new Promise((resolveExit) => {
    const socket = connect(socketPath);
    let buffered = "";
    let answered = false;
    let started = false;
    const finish = (code) => {
      if (answered) return;
      answered = true;
      socket.destroy();
      resolveExit(code);
    };
    // Cut off once it started: the work may be half done, so it is not run again here.
    const cutOff = () => {
      if (answered) return;
      if (started) process.stderr.write("devrunner: the session closed the link before the command ended\n");
      finish(started ? 1 : undefined);
    };
    // A session that does not answer at once is not one to wait for.
    socket.setTimeout(2000, () => finish(undefined));
    socket.on("connect", () => {
      socket.setTimeout(0);
      socket.write(`${JSON.stringify(request)}\n`);
    });
    socket.on("error", cutOff);
    socket.on("close", cutOff);
    socket.on("data", (chunk) => {
      buffered += chunk.toString("utf8");
      let newline;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const reply = JSON.parse(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
        started = true;
        if ("stream" in reply) (reply.stream === "out" ? process.stdout : process.stderr).write(reply.text);
        else finish("exit" in reply ? reply.exit : undefined);
      }
    });
  });
}
