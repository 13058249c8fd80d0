import { readFileSync, writeFileSync } from "node:fs";
import { UsageError } from "../cli/errors.ts";

/**
 * Writes a copy of a SAM template in which one function has another Timeout, leaving every other line as
 * it is (tags such as !Ref survive, unlike a YAML round trip). A short Timeout lets a local flow use a
 * short visibility timeout (failed records come back soon) while keeping AWS's rule that the queue's
 * visibility timeout is at least the function's Timeout.
 */
export function writeTemplateWithTimeout(
  sourcePath: string,
  targetPath: string,
  logicalId: string,
  timeoutSeconds: number,
): void {
  writeFileSync(
    targetPath,
    withTimeout(readFileSync(sourcePath, "utf8"), logicalId, timeoutSeconds, sourcePath),
  );
}

/** The template text with `logicalId`'s Properties.Timeout set (replaced, or added when absent). */
export function withTimeout(
  text: string,
  logicalId: string,
  timeoutSeconds: number,
  label = "the template",
): string {
  const lines = text.split("\n");
  const start = lines.findIndex((line) => line === `  ${logicalId}:`);
  if (start < 0)
    throw new UsageError(`${label} has no resource ${logicalId} (at two spaces under Resources)`);
  let end = lines.findIndex((line, index) => index > start && /^ {0,2}\S/.test(line));
  if (end < 0) end = lines.length;
  const properties = lines.findIndex(
    (line, index) => index > start && index < end && line === "    Properties:",
  );
  if (properties < 0) throw new UsageError(`${label}: ${logicalId} has no Properties section`);
  const timeout = lines.findIndex(
    (line, index) => index > properties && index < end && /^ {6}Timeout: /.test(line),
  );
  const line = `      Timeout: ${timeoutSeconds}`;
  if (timeout >= 0) lines[timeout] = line;
  else lines.splice(properties + 1, 0, line);
  return lines.join("\n");
}
