import { SQLSTATE } from "./protocol.ts";

/** A run-time parameter of a connection's session, as SET would take it. */
export type Setting = readonly [name: string, value: string];

export type StartupRequest =
  | {
      readonly kind: "accepted";
      /** The settings the connection's session starts with (its startup parameters and `-c` options). */
      readonly settings: readonly Setting[];
      /** Protocol options (`_pq_.*`) this server does not know: named in NegotiateProtocolVersion. */
      readonly unknownProtocolOptions: readonly string[];
    }
  | { readonly kind: "refused"; readonly code: string; readonly message: string };

// Not run-time parameters: who connects and to what. PGlite has one database and trusts everyone.
const CONNECTION_PARAMETERS = new Set(["user", "database", "replication", "options"]);

/** Reads a startup message's parameters as Postgres does (`options` may carry `-c name=value`). */
export function readStartupParameters(parameters: ReadonlyMap<string, string>): StartupRequest {
  const replication = parameters.get("replication");
  if (replication !== undefined && !/^(false|off|no|0)$/i.test(replication))
    return {
      kind: "refused",
      code: SQLSTATE.featureNotSupported,
      message: "the embedded database does not support replication connections",
    };
  // As Postgres: the `options` switches first, then the other parameters (which win over them).
  const options = readOptions(parameters.get("options") ?? "");
  if (typeof options === "string")
    return { kind: "refused", code: SQLSTATE.protocolViolation, message: options };
  const settings: Setting[] = [...options];
  const unknownProtocolOptions: string[] = [];
  for (const [name, value] of parameters) {
    if (name.startsWith("_pq_.")) unknownProtocolOptions.push(name);
    else if (!CONNECTION_PARAMETERS.has(name)) settings.push([name, value]);
  }
  return { kind: "accepted", settings, unknownProtocolOptions };
}

/** The `-c name=value` / `--name=value` switches of the `options` parameter, or what is wrong with it. */
export function readOptions(options: string): Setting[] | string {
  const words = splitOptions(options);
  const settings: Setting[] = [];
  for (let i = 0; i < words.length; i += 1) {
    const word = words[i]!;
    let assignment: string | undefined;
    if (word === "-c") assignment = words[(i += 1)];
    else if (word.startsWith("-c")) assignment = word.slice(2);
    else if (word.startsWith("--")) assignment = word.slice(2);
    const equals = assignment?.indexOf("=") ?? -1;
    if (assignment === undefined || equals <= 0)
      return `invalid command-line argument in the options parameter: ${JSON.stringify(word)} (only -c name=value and --name=value are taken)`;
    settings.push([assignment.slice(0, equals).replaceAll("-", "_"), assignment.slice(equals + 1)]);
  }
  return settings;
}

/** Splits on unescaped whitespace; a backslash keeps the next character (as libpq's `options`). */
function splitOptions(options: string): string[] {
  const words: string[] = [];
  let current = "";
  let inWord = false;
  for (let i = 0; i < options.length; i += 1) {
    const char = options[i]!;
    if (char === "\\" && i + 1 < options.length) {
      current += options[(i += 1)];
      inWord = true;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(current);
      current = "";
      inWord = false;
    } else {
      current += char;
      inWord = true;
    }
  }
  if (inWord) words.push(current);
  return words;
}

/**
 * Session timeouts PGlite must never be given: it has no backend process to end when one fires, and it
 * hangs instead (the whole database with it). The server keeps them per connection and enforces
 * idle_in_transaction_session_timeout itself (SessionScheduler's own limit); the other two are kept only.
 */
export const SERVER_KEPT_SETTINGS: readonly string[] = [
  "idle_in_transaction_session_timeout",
  "idle_session_timeout",
  "transaction_timeout",
];

const SERVER_KEPT_PATTERN = /idle_in_transaction_session_timeout|idle_session_timeout|transaction_timeout/i;

/** `settings` split into those the database gets and those the server keeps. */
export function partitionSettings(settings: readonly Setting[]): { applied: Setting[]; kept: Setting[] } {
  const applied: Setting[] = [];
  const kept: Setting[] = [];
  for (const setting of settings)
    (SERVER_KEPT_SETTINGS.includes(setting[0].toLowerCase()) ? kept : applied).push(setting);
  return { applied, kept };
}

/** Whether a unit's SQL may set a server-kept setting (SET, set_config): the server then takes it back. */
export function mayChangeServerKept(bytes: Buffer): boolean {
  return SERVER_KEPT_PATTERN.test(bytes.toString("latin1"));
}

/** The value of `name` among `settings` (the last one wins, as repeated SETs do), case-insensitively. */
export function settingValue(settings: readonly Setting[], name: string): string | undefined {
  let found: string | undefined;
  for (const [key, value] of settings) if (key.toLowerCase() === name) found = value;
  return found;
}

const DURATION_UNITS: Readonly<Record<string, number>> = {
  us: 0.001,
  ms: 1,
  s: 1000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * A time setting in milliseconds as Postgres reads it (a bare number is milliseconds; units us, ms, s,
 * min, h, d); undefined when it is not one (the database then refuses it anyway) or is 0 (no limit).
 */
export function durationMs(value: string | undefined): number | undefined {
  const match = value?.trim().match(/^(\d+(?:\.\d+)?)\s*(us|ms|s|min|h|d)?$/);
  if (!match) return undefined;
  const ms = Number(match[1]) * DURATION_UNITS[match[2] ?? "ms"]!;
  return ms > 0 ? ms : undefined;
}
