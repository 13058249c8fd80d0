// The console's HTTP rules that do not need a server: which method each path takes, and how a request
// body is read (a size limit, UTF-8 decoded once, JSON or a clear 400).
import { MAX_NAME_LENGTH, parseEntityKey } from "@entity/domain";

/** The largest request body the console reads. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Paths and the one method each takes (the page's files also answer HEAD). */
const METHODS: Readonly<Record<string, "GET" | "POST">> = {
  "/": "GET",
  "/console.js": "GET",
  "/console.css": "GET",
  "/console-worker.js": "GET",
  "/api/events": "GET",
  "/api/invocation": "GET",
  "/api/logs": "GET",
  "/api/entity": "GET",
  "/api/outbox": "GET",
  "/api/publish": "POST",
  "/api/sample": "POST",
  "/api/redrive": "POST",
};
const HEAD_PATHS = new Set(["/", "/console.js", "/console.css", "/console-worker.js"]);

export interface HttpRefusal {
  readonly status: number;
  readonly error: string;
  readonly allow?: string;
}

/** 404 for a path the console does not have, 405 (with Allow) for a method the path does not take. */
export function methodRefusal(method: string | undefined, path: string): HttpRefusal | undefined {
  const allowed = METHODS[path];
  if (!allowed) return { status: 404, error: `no ${path} here` };
  if (method === allowed || (method === "HEAD" && HEAD_PATHS.has(path))) return undefined;
  const allow = HEAD_PATHS.has(path) ? "GET, HEAD" : allowed;
  return { status: 405, error: `${method ?? "?"} ${path} is not allowed (${allow})`, allow };
}

export type BodyResult =
  { readonly ok: true; readonly value: unknown } | ({ readonly ok: false } & HttpRefusal);

/** A JSON body (empty: `{}`): 413 over the limit, 400 when it is not JSON; decoded once (split characters stay whole). */
export async function readJsonBody(
  chunks: AsyncIterable<Buffer | string>,
  limit: number = MAX_BODY_BYTES,
): Promise<BodyResult> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of chunks) {
    const part = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    size += part.length;
    if (size > limit) return { ok: false, status: 413, error: `the request body is over ${limit} bytes` };
    parts.push(part);
  }
  const text = Buffer.concat(parts).toString("utf8");
  if (text.trim() === "") return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, status: 400, error: `body is not JSON: ${(error as Error).message}` };
  }
}

/** The name to look up: a full key's name (its timestamp dropped), or what is wrong with the text. */
export function entityLookupName(text: string): { name: string; fromKey?: string } | string {
  const given = text.trim();
  if (!given) return "give an entity name, e.g. MY_CRYPTIC_ENTITY_XXX_YYY";
  if (given.includes("\0")) return "the entity name contains a NUL character";
  const parsed = parseEntityKey(given);
  if (parsed.ok) return { name: parsed.key.name, fromKey: given };
  if (given.length > MAX_NAME_LENGTH)
    return `the entity name is ${given.length} characters long; names are at most ${MAX_NAME_LENGTH}`;
  return { name: given };
}
