import { parseArgs } from "node:util";
import { UsageError } from "./errors.ts";

/** One flag: what node:util parseArgs needs, and its line in --help. */
interface FlagDefinition {
  readonly type: "string" | "boolean";
  readonly short?: string;
  readonly default?: string | boolean;
  /** What the value looks like in --help (FILE, N, ...). */
  readonly value?: string;
  /** The value of the flag given bare (`--inspect` means `--inspect=9229`): its value is then optional. */
  readonly bareValue?: string;
  readonly help: string;
}

/** SAM flags that only configure its Docker containers: accepted, so SAM's command lines work here. */
const DOCKER_ONLY = "SAM's Docker option: accepted, no effect here (no container)";

/** Every flag of every command, defined once: parsing and --help both come from here. */
export const FLAGS = {
  db: {
    type: "string",
    default: "auto",
    value: "memory|pglite|postgres",
    help: "where to write (default: Postgres when DATABASE_URL or DB_HOST is set, else the embedded PGlite folder)",
  },
  "env-file": {
    type: "string",
    value: "FILE",
    help: "dotenv file laid over the devrunner's environment (e.g. personal/dev.env for a tunnelled RDS)",
  },
  "data-dir": {
    type: "string",
    value: "DIR",
    help: "the embedded database's folder (default .devrunner/pglite)",
  },
  "allow-prod": {
    type: "boolean",
    default: false,
    help: "allow a production ENV (prod, production, prd, or the project's)",
  },
  template: {
    type: "string",
    short: "t",
    // SAM's own placeholder: found as SAM finds it (see discoverTemplate in cli/sam-options.ts).
    default: "template.[yaml|yml|json]",
    value: "FILE",
    help: "the SAM template (default: SAM_TEMPLATE_FILE, else template.yaml, .yml or .json here)",
  },
  "env-vars": {
    type: "string",
    short: "n",
    value: "FILE",
    help: 'SAM env-vars JSON ({"Parameters": {...}, "EntityFunction": {...}}; values may be numbers)',
  },
  "parameter-overrides": { type: "string", value: '"K=V ..."', help: "template parameters" },
  event: { type: "string", short: "e", value: "FILE|-", help: "the event (default: {})" },
  port: { type: "string", default: "4566", value: "N", help: "the emulator's port (0 picks a free one)" },
  "visibility-timeout": {
    type: "string",
    value: "S",
    help: "every queue's VisibilityTimeout, in seconds (at least the function's Timeout, as AWS requires)",
  },
  "schedule-period": {
    type: "string",
    value: "S",
    help: "run the template's schedules (the outbox relay, rate(1 minute)) every S seconds",
  },
  status: { type: "boolean", default: false, help: "list migrations and when each ran; change nothing" },
  state: { type: "string", default: "all", value: "pending|parked|all", help: "which events to list" },
  limit: { type: "string", default: "100", value: "N", help: "at most N events" },
  redrive: { type: "boolean", default: false, help: "send back what is set aside (see above)" },
  "json-body": {
    type: "boolean",
    default: false,
    help: 'bodies as {"entity": "KEY"} instead of the bare key',
  },
  out: { type: "string", value: "FILE", help: "write to FILE instead of standard output" },
  messages: { type: "string", default: "100000", value: "N", help: "keys to publish" },
  "fault-rate": {
    type: "string",
    default: "0.05",
    value: "R",
    help: "share of batches whose database connection is cut",
  },
  concurrency: { type: "string", default: "4", value: "C", help: "warm execution environments" },
  "rotate-every": {
    type: "string",
    default: "10",
    value: "S",
    help: "rotate the database password every S seconds",
  },
  "cpu-hog": { type: "boolean", default: false, help: "keep every core busy for the whole run" },
  json: { type: "boolean", default: false, help: "one JSON document on stdout (human lines go to stderr)" },
  help: { type: "boolean", short: "h", default: false, help: "this help" },
  // #14 part 4: a debugger.
  "debug-port": {
    type: "string",
    short: "d",
    value: "PORT",
    help: "open the Node inspector on 127.0.0.1:PORT and wait for a debugger to attach before running (as SAM's -d)",
  },
  inspect: {
    type: "string",
    value: "[=PORT]",
    bareValue: "9229",
    help: "the Node inspector in every execution environment: PORT (default 9229), PORT+1, ...",
  },
  // The local console (#16).
  "console-port": {
    type: "string",
    value: "N",
    help: "the console's port on 127.0.0.1 (default 9740, or a free one when that is taken; 0 picks one)",
  },
  "no-console": { type: "boolean", default: false, help: "do not serve the local console" },
  // #14 part 6: parity with `sam local invoke` (SAM's own flags, same names; see cli/sam-options.ts).
  "no-event": { type: "boolean", default: false, help: "invoke with an empty event ({})" },
  "log-file": { type: "string", short: "l", value: "FILE", help: "append the function's logs to FILE" },
  region: {
    type: "string",
    value: "REGION",
    help: "the region of the local cloud, the function and its ARNs (default AWS_REGION, else us-east-1)",
  },
  profile: { type: "string", value: "NAME", help: "the AWS profile the function's SDK uses" },
  "config-file": {
    type: "string",
    value: "FILE",
    help: "SAM's config file (default samconfig.toml next to the template)",
  },
  "config-env": { type: "string", value: "NAME", help: "its environment (default: default)" },
  "account-id": { type: "string", default: "123456789012", value: "ID", help: "the account in ARNs" },
  "queue-name": {
    type: "string",
    value: "NAME",
    help: "the queue in the eventSourceARN (default entity-queue)",
  },
  "skip-pull-image": { type: "boolean", default: false, help: DOCKER_ONLY },
  "mount-symlinks": { type: "boolean", default: false, help: DOCKER_ONLY },
  "force-image-build": { type: "boolean", default: false, help: DOCKER_ONLY },
  shutdown: { type: "boolean", default: false, help: DOCKER_ONLY },
  "no-memory-limit": { type: "boolean", default: false, help: DOCKER_ONLY },
  "docker-network": { type: "string", value: "X", help: DOCKER_ONLY },
  "container-host": { type: "string", value: "X", help: DOCKER_ONLY },
  "container-host-interface": { type: "string", value: "X", help: DOCKER_ONLY },
  "invoke-image": { type: "string", value: "X", help: DOCKER_ONLY },
  "add-host": { type: "string", value: "X", help: DOCKER_ONLY },
  "layer-cache-basedir": { type: "string", value: "X", help: DOCKER_ONLY },
  "container-env-vars": { type: "string", value: "X", help: DOCKER_ONLY },
  "docker-volume-basedir": { type: "string", short: "v", value: "X", help: DOCKER_ONLY },
  // #14 parts 2 and 3 (up: restart, hot reload)
  fresh: {
    type: "boolean",
    default: false,
    help: "start with empty queues (by default they keep their messages between runs of up)",
  },
  "no-reload": {
    type: "boolean",
    default: false,
    help: "do not rebuild and reload the function when its sources change",
  },
} as const satisfies Record<string, FlagDefinition>;

export type FlagName = keyof typeof FLAGS;

/** A command: its synopsis, what it does, the flags it takes (all from FLAGS) and its exit codes. */
export interface CommandSpec<F extends FlagName> {
  readonly name: string;
  /** After `devrunner`, e.g. `process KEY... [options]`. */
  readonly synopsis: string;
  readonly description: string;
  readonly flags: readonly F[];
  /** Per-command wording of a flag's help line, when the shared one does not fit. */
  readonly flagHelp?: Partial<Record<F, string>>;
  /** Per-command default of a flag, when the shared one does not fit (start-lambda's --port 3001). */
  readonly flagDefaults?: Partial<Record<F, string>>;
  /** How many positional arguments it takes at most ("any": KEY...). Default 0: a stray one is bad usage. */
  readonly positionals?: number | "any";
  readonly exitCodes?: string;
}

type FlagValue<D> = D extends { type: "boolean" }
  ? boolean
  : D extends { default: string }
    ? string
    : string | undefined;

export type FlagValues<F extends FlagName> = { readonly [K in F]: FlagValue<(typeof FLAGS)[K]> };

/** Parses argv for `spec` (unknown flags and bad values are bad usage: exit 2). */
export function parseCommand<F extends FlagName>(
  spec: CommandSpec<F>,
  argv: readonly string[],
): { values: FlagValues<F | "help">; positionals: string[] } {
  const options: Record<string, { type: "string" | "boolean"; short?: string; default?: string | boolean }> =
    {};
  const defaults: Partial<Record<FlagName, string>> = spec.flagDefaults ?? {};
  for (const name of [...spec.flags, "help" as const]) {
    const { type, ...rest } = FLAGS[name] as FlagDefinition;
    const fallback = defaults[name] ?? rest.default;
    options[name] = {
      type,
      ...("short" in rest ? { short: rest.short } : {}),
      ...(fallback !== undefined ? { default: fallback } : {}),
    };
  }
  const args = argv.map((arg) => {
    const name = arg.startsWith("--") ? (arg.slice(2) as FlagName) : undefined;
    const flag = name && spec.flags.includes(name as F) ? (FLAGS[name] as FlagDefinition) : undefined;
    return flag?.bareValue === undefined ? arg : `${arg}=${flag.bareValue}`;
  });
  let parsed: { values: unknown; positionals: string[] };
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    const message = dashedValue(error as Error, argv) ?? (error as Error).message;
    throw new UsageError(
      `${spec.name}: ${message.replace(/\. To specify a positional.*$/s, "")}\nrun \`devrunner ${spec.name} --help\` for usage`,
    );
  }
  const allowed = spec.positionals ?? 0;
  const stray = allowed === "any" ? [] : parsed.positionals.slice(allowed);
  if (stray.length > 0)
    throw new UsageError(
      `${spec.name}: unexpected argument${stray.length === 1 ? "" : "s"} ${stray.map((arg) => `'${arg}'`).join(" ")} (${spec.name} takes ${allowed === 0 ? "none" : `at most ${allowed}`})\nrun \`devrunner ${spec.name} --help\` for usage`,
    );
  return { values: parsed.values as FlagValues<F | "help">, positionals: parsed.positionals };
}

/** `--flag -1`: parseArgs' "argument is ambiguous" said plainly (a negative number is never a value here). */
function dashedValue(error: Error, argv: readonly string[]): string | undefined {
  const flag = /^Option '(--[\w-]+)' argument is ambiguous/.exec(error.message)?.[1];
  const value = flag ? argv[argv.indexOf(flag) + 1] : undefined;
  if (!flag || value === undefined) return undefined;
  return /^-\d/.test(value)
    ? `${flag} ${value}: a negative number is not a value ${flag} takes`
    : `${flag} needs a value, and '${value}' is another option (${flag}=${value} passes it as the value)`;
}

/** --help, generated from the spec and the flags' definitions, so the two cannot drift. */
export function helpText<F extends FlagName>(spec: CommandSpec<F>): string {
  const rows = [...spec.flags, "help" as const].map((name) => {
    const flag = FLAGS[name] as FlagDefinition;
    // An optional value (`--inspect[=PORT]`) is written against the flag's name.
    const value = flag.value ? `${flag.value.startsWith("[") ? "" : " "}${flag.value}` : "";
    const names = `${flag.short ? `-${flag.short}, ` : ""}--${name}${value}`;
    const overrides: Partial<Record<FlagName, string>> = spec.flagHelp ?? {};
    const help = overrides[name] ?? flag.help;
    const defaults: Partial<Record<FlagName, string>> = spec.flagDefaults ?? {};
    const flagDefault = defaults[name] ?? flag.default;
    const fallback =
      typeof flagDefault === "string" && !/default/.test(help) ? ` (default ${flagDefault})` : "";
    return [names, `${help}${fallback}`] as const;
  });
  const width = Math.max(...rows.map(([names]) => names.length)) + 2;
  return [
    `devrunner ${spec.synopsis}`,
    "",
    spec.description,
    "",
    "Options:",
    ...rows.map(([names, help]) => `  ${names.padEnd(width)}${help}`),
    ...(spec.exitCodes ? ["", spec.exitCodes] : []),
  ].join("\n");
}

/** Runs a command: parses argv, prints --help, or calls `run` with the values. */
export async function runCommand<F extends FlagName>(
  spec: CommandSpec<F>,
  argv: readonly string[],
  run: (values: FlagValues<F | "help">, positionals: string[]) => Promise<number>,
): Promise<number> {
  const { values, positionals } = parseCommand(spec, argv);
  if (values.help) {
    process.stdout.write(`${helpText(spec)}\n`);
    return 0;
  }
  return run(values, positionals);
}
