import type { InspectorEvent } from "../local-aws/runtime/inspector.ts";
import { UsageError } from "./errors.ts";

/** A debug port flag's value (`invoke -d PORT`, `up --inspect=PORT`). */
export function debugPort(flag: string, text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535)
    throw new UsageError(`${flag} must be a port number (1-65535), not '${text}'`);
  return port;
}

/** Where to attach a debugger, and whether the function waits for one (stderr, as SAM prints it). */
export function describeInspector(event: InspectorEvent, logicalId: string): string {
  if (!event.url)
    return `debugger: ${logicalId}'s inspector could not listen on 127.0.0.1:${event.port} (port in use?)`;
  const attach = `attach a debugger to 127.0.0.1:${event.port} (${event.url}; VS Code: "Attach to Node Process", Chrome: chrome://inspect)`;
  return event.waiting
    ? `debugger: ${logicalId} waits for a debugger: ${attach}`
    : `debugger: ${logicalId}: ${attach}`;
}
