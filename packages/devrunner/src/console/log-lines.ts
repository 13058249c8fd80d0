// The function's output as the console shows it: Powertools' JSON lines taken apart (level, time,
// message, the other fields), anything that looks like a secret masked first.
import { mask } from "./masking.ts";

export interface LogLine {
  readonly stream: "stdout" | "stderr";
  readonly level: string | undefined;
  readonly time: string | undefined;
  readonly message: string;
  /** The line's other fields (JSON lines), secrets masked. */
  readonly fields: Record<string, unknown> | undefined;
  /** Set on lines kept outside an invocation the console saw (a schedule's run). */
  readonly requestId?: string | undefined;
}

/** Fields every Powertools line carries: noise in a list of one function's lines. */
const ROUTINE_FIELDS = new Set([
  "level",
  "message",
  "timestamp",
  "time",
  "service",
  "sampling_rate",
  "function_arn",
  "function_memory_size",
  "function_name",
  "function_request_id",
  "xray_trace_id",
  "cold_start",
]);

export function prettyLogLine(text: string, stream: "stdout" | "stderr"): LogLine {
  const trimmed = text.trimEnd();
  if (trimmed.startsWith("{")) {
    try {
      const parsed = JSON.parse(trimmed) as unknown;
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return fromJson(parsed, stream);
    } catch {
      // not JSON after all: shown as text
    }
  }
  return { stream, level: undefined, time: undefined, message: mask(trimmed) as string, fields: undefined };
}

function fromJson(parsed: object, stream: "stdout" | "stderr"): LogLine {
  const masked = mask(parsed) as Record<string, unknown>;
  const fields: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(masked)) if (!ROUTINE_FIELDS.has(name)) fields[name] = value;
  const level = masked.level ?? masked.levelName;
  const time = masked.timestamp ?? masked.time;
  const message = masked.message ?? masked.msg;
  return {
    stream,
    level: typeof level === "string" ? level.toUpperCase() : undefined,
    time: typeof time === "string" ? time : undefined,
    message: typeof message === "string" ? message : "",
    fields: Object.keys(fields).length > 0 ? fields : undefined,
  };
}

/** A record's body in one short line: an SNS envelope's message, a JSON body's entity, or the text. */
export function summariseBody(body: string): string {
  try {
    const parsed = JSON.parse(body) as { Message?: unknown; entity?: unknown };
    if (typeof parsed.Message === "string") return `sns: ${parsed.Message.slice(0, 160)}`;
    if (typeof parsed.entity === "string") return parsed.entity.slice(0, 160);
  } catch {
    // a plain key
  }
  return body.slice(0, 160);
}
