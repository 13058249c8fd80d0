import { cpSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

export const REPOSITORY_ROOT = resolve(import.meta.dirname, "../../../..");
const COPIED = ["packages/domain", "packages/adapters", "packages/lambda"];
const ROOT_FILES = ["Makefile", "template.yaml", "package.json", "pnpm-workspace.yaml", "pnpm-lock.yaml"];

/**
 * A copy of the repository's function sources, Makefile and template in `target`, its node_modules linked
 * to the repository's (the packages' own node_modules hold relative links, copied as they are): a
 * project whose sources a test or the bench may edit while a flow rebuilds it.
 */
export function copyProject(target: string): string {
  for (const folder of COPIED)
    cpSync(join(REPOSITORY_ROOT, folder), join(target, folder), {
      recursive: true,
      verbatimSymlinks: true,
      filter: (source) => !/\/(dist|coverage|\.devrunner)$/.test(source),
    });
  for (const file of ROOT_FILES) cpSync(join(REPOSITORY_ROOT, file), join(target, file));
  symlinkSync(join(REPOSITORY_ROOT, "node_modules"), join(target, "node_modules"));
  return target;
}

const HANDLER_EXPORT =
  "export const handler: SqsBatchHandler = container.get<SqsBatchHandler>(TOKENS.handler);";

/**
 * Rewrites the copy's EntityFunction entry so that each invocation logs `code version VERSION: BODY`
 * before the real handler runs; a record whose body contains `HOLD` first waits until the file
 * `releaseFile` exists (an invocation kept in flight for as long as a test needs).
 */
export function writeHandlerVersion(projectRoot: string, version: string, releaseFile: string): void {
  const entry = join(projectRoot, "packages/lambda/src/index.ts");
  const source = readFileSync(entry, "utf8");
  const start =
    source.indexOf(HANDLER_EXPORT) >= 0 ? source.indexOf(HANDLER_EXPORT) : source.indexOf("// version:");
  if (start < 0) throw new Error(`${entry}: the handler export to wrap is not there`);
  writeFileSync(
    entry,
    `${source.slice(0, start)}// version: ${version}
import { existsSync as versionProbeExists } from "node:fs";
const realHandler = container.get<SqsBatchHandler>(TOKENS.handler);
export const handler: SqsBatchHandler = async (event, context) => {
  const bodies = event.Records.map((record) => record.body).join(" ");
  console.log(\`code version ${version}: \${bodies}\`);
  while (bodies.includes("HOLD") && !versionProbeExists(${JSON.stringify(releaseFile)}))
    await new Promise((resolve) => setTimeout(resolve, 50));
  const response = await realHandler(event, context);
  console.log(\`code version ${version} done: \${bodies}\`);
  return response;
};
`,
  );
}
