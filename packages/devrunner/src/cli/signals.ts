/** Resolves on Ctrl-C (SIGINT) or SIGTERM: how the long-running commands (up, watch) stop. */
export function untilStopped(): Promise<void> {
  return new Promise<void>((resolveStop) => {
    process.once("SIGINT", resolveStop);
    process.once("SIGTERM", resolveStop);
  });
}
