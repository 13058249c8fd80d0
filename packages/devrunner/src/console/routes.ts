import type { LocalFlow } from "../local-aws/flow.ts";
import { MAX_KEYS, sampleKey, type ConsoleActions, type PublishRequest } from "./actions.ts";
import { describe, type DatabaseView } from "./database-view.ts";
import type { FlowMonitor } from "./flow-monitor.ts";
import { entityLookupName } from "./http.ts";

export interface ApiContext {
  readonly monitor: FlowMonitor;
  readonly database: DatabaseView;
  readonly actions: ConsoleActions;
  readonly flow: LocalFlow;
}

export interface ApiAnswer {
  readonly status: number;
  readonly body: unknown;
}

const ok = (body: unknown): ApiAnswer => ({ status: 200, body });
const bad = (error: string): ApiAnswer => ({ status: 400, body: { error } });
const notFound = (error: string): ApiAnswer => ({ status: 404, body: { error } });

/** The JSON API behind the page. Bad input gets a 400 that says what was wrong. */
export async function apiRoute(
  method: string | undefined,
  url: URL,
  body: unknown,
  context: ApiContext,
): Promise<ApiAnswer> {
  const route = `${method} ${url.pathname}`;
  try {
    switch (route) {
      case "GET /api/invocation": {
        const found = context.monitor.invocation(url.searchParams.get("id") ?? "");
        return found ? ok(found) : notFound("no such invocation (the console keeps the last 50)");
      }
      case "GET /api/logs":
        return ok({ lines: context.monitor.otherLogs });
      case "GET /api/entity": {
        const lookup = entityLookupName(url.searchParams.get("name") ?? "");
        if (typeof lookup === "string") return bad(lookup);
        const entity = await context.database.entity(lookup.name);
        const fromKey = lookup.fromKey ? ` (the name of the key ${lookup.fromKey})` : "";
        if (entity) return ok(lookup.fromKey ? { ...entity, lookedUp: lookup.name + fromKey } : entity);
        const hint = lookup.fromKey ? "" : timestampHint(lookup.name);
        return notFound(`no entity named ${lookup.name}${fromKey}${hint}`);
      }
      case "GET /api/outbox":
        return ok({ events: await context.database.outbox() });
      case "POST /api/publish": {
        const request = publishRequest(body);
        if (typeof request === "string") return bad(request);
        const sent = await context.actions.publish(request);
        if (!sent.failure) return ok({ messageIds: sent.messageIds });
        return { status: 502, body: partialPublish(request.keys, sent.messageIds, sent.failure) };
      }
      case "POST /api/sample": {
        const key = sampleKey();
        const sent = await context.actions.publish({ keys: [key], via: "sns", jsonBody: false });
        if (sent.failure)
          return { status: 502, body: { error: `the sample ${key} was not sent: ${sent.failure}` } };
        return ok({ key, messageId: sent.messageIds[0] });
      }
      case "POST /api/redrive": {
        const ids = redriveIds(body);
        if (typeof ids === "string") return bad(ids);
        const outcome = await context.actions.redrive(ids);
        if ("missing" in outcome)
          return notFound(
            `not in the dead-letter queue (nothing was redriven): ${outcome.missing.join(", ")}`,
          );
        return ok(outcome);
      }
      default:
        return notFound(`no ${route}`);
    }
  } catch (error) {
    return { status: 500, body: { error: describe(error) } };
  }
}

/** `{keys: "K1 K2" | ["K1", "K2"], via: "sns" | "queue", jsonBody?: boolean}`, or what is wrong with it. */
export function publishRequest(body: unknown): PublishRequest | string {
  if (!body || typeof body !== "object") return "expected a JSON object {keys, via}";
  const { keys, via, jsonBody } = body as Record<string, unknown>;
  const list =
    typeof keys === "string"
      ? keys.split(/\s+/).filter(Boolean)
      : Array.isArray(keys) && keys.every((key) => typeof key === "string")
        ? keys
        : undefined;
  if (!list) return "keys: expected text (keys separated by spaces or new lines) or a list of texts";
  if (list.length === 0) return "keys: give at least one key";
  // Every key is checked before any is sent: a bad one sends none.
  const blank = list.findIndex((key) => key.trim() === "");
  if (blank >= 0) return `keys[${blank}] (key ${blank + 1} of ${list.length}) is blank`;
  const nul = list.findIndex((key) => key.includes("\0"));
  if (nul >= 0) return `keys[${nul}] (key ${nul + 1} of ${list.length}) contains a NUL character`;
  if (list.length > MAX_KEYS) return `keys: at most ${MAX_KEYS} at once, got ${list.length}`;
  if (via !== "sns" && via !== "queue") return `via: expected "sns" or "queue", got ${JSON.stringify(via)}`;
  if (jsonBody !== undefined && typeof jsonBody !== "boolean") return "jsonBody: expected true or false";
  return { keys: list, via, jsonBody: jsonBody === true };
}

/** `{messageIds?: string[]}`: undefined (all) or the ids, or what is wrong with it. */
function redriveIds(body: unknown): readonly string[] | undefined | string {
  if (!body || typeof body !== "object") return "expected a JSON object {messageIds?}";
  const { messageIds } = body as Record<string, unknown>;
  if (messageIds === undefined) return undefined;
  if (!Array.isArray(messageIds) || !messageIds.every((id) => typeof id === "string"))
    return "messageIds: expected a list of message ids";
  return messageIds;
}

/** A hint when the text looks like a key whose timestamp is malformed: names exclude the timestamp. */
function timestampHint(name: string): string {
  return /_\d{6,}T?\d*$/.test(name) ? " (names exclude the key's _YYYYMMDDTHHMMSS timestamp)" : "";
}

/** A publish that failed partway: what was sent (with its message ids) and what was not. */
export function partialPublish(keys: readonly string[], messageIds: readonly string[], failure: string) {
  const sent = messageIds.length;
  return {
    error: `sent ${sent} of ${keys.length} key(s); key ${sent + 1} (${keys[sent]}) failed: ${failure}; the rest were not sent`,
    sent: keys.slice(0, sent).map((key, index) => ({ key, messageId: messageIds[index] })),
    notSent: keys.slice(sent),
  };
}
