import type { SamFunctionDefinition } from "../template/sam-template.ts";

/** Lambda's names for Node's `process.arch` values. */
const LAMBDA_ARCHITECTURE: Readonly<Record<string, string>> = { x64: "x86_64", arm64: "arm64" };

/**
 * What to say when the template's `Architectures` is not this machine's: the function runs in a Node
 * process here, on the host's architecture (native modules and performance may differ from Lambda's).
 */
export function architectureNote(definition: SamFunctionDefinition, hostArch: string): string | undefined {
  const architectures = definition.properties.Architectures;
  const declared: unknown = Array.isArray(architectures) ? (architectures as unknown[])[0] : "x86_64";
  const host = LAMBDA_ARCHITECTURE[hostArch] ?? hostArch;
  if (typeof declared !== "string" || declared === host) return undefined;
  return `note: ${definition.logicalId} declares Architectures: [${declared}]; it runs here on this machine's architecture (${host})`;
}

const noted = new Set<string>();

/** The architecture note, once per function and process (a watch re-runs the invoke on every save). */
export function noteArchitectureOnce(
  definition: SamFunctionDefinition,
  note: (text: string) => void,
  hostArch: string = process.arch,
): void {
  const text = architectureNote(definition, hostArch);
  if (text === undefined || noted.has(definition.logicalId)) return;
  noted.add(definition.logicalId);
  note(text);
}
