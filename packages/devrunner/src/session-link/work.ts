import { resolve } from "node:path";
import type { SNSClient } from "@aws-sdk/client-sns";
import { namesDatabase, parseDatabaseSettings } from "@entity/adapters/postgres";
import { parseCommand } from "../cli/flags.ts";
import { recordLastCommand } from "../cli/last-command.ts";
import type { Output } from "../cli/output.ts";
import { runProcess } from "../cli/process-report.ts";
import { DEFAULT_PGLITE_DIR, describeTarget, localAwsConfigFor, productionPolicy } from "../cli/target.ts";
import { PROCESS_SPEC } from "../commands/process.ts";
import { PUBLISH_SPEC, checkPublishKeys } from "../commands/publish.ts";
import type { LocalAwsConfig } from "../local-aws/config.ts";
import type { EmbeddedDatabaseServer } from "../local-aws/embedded/embedded-database.ts";
import { hostEnvironmentName, refuseProduction } from "../local-aws/production.ts";
import { openDevApp, type DevApp } from "../root.ts";
import { linkSocketPath, type LinkRequest } from "./link.ts";
import { serveSessionLink, type LinkHandler, type LinkSink, type SessionLink } from "./server.ts";

/** What a running session offers linked commands. */
export interface SessionHost {
  /** The embedded database it holds open, for `process`. */
  readonly database?: SessionDatabase;
  /** Publishes messages to its SNS topic (`up`), for `publish`; their message ids. */
  readonly publish?: (messages: readonly string[]) => Promise<readonly string[]>;
  /** Runs `invoke` of the function it serves (see invoke.ts). */
  readonly invoke?: LinkedInvoker;
}

/** Linked `invoke` runs of the function a session serves. */
export interface LinkedInvoker {
  run(request: LinkRequest, sink: LinkSink): Promise<number | { declined: string }>;
  close(): void;
}

export interface SessionDatabase {
  /** The embedded database's folder; a client's `process` is taken only when it names the same one. */
  readonly dataDir: string;
  /** An app on the open database, to reuse (see `OpenOptions.reuse`). */
  app(): Promise<DevApp>;
  close(): Promise<void>;
}

/** Starts serving linked commands for this checkout (undefined when another session already does). */
export async function linkSession(
  config: LocalAwsConfig,
  host: SessionHost,
): Promise<SessionLink | undefined> {
  const link = await serveSessionLink(
    linkSocketPath(config.hostEnv, config.repositoryRoot),
    linkHandler(host),
  );
  return (
    link && {
      socketPath: link.socketPath,
      close: async () => {
        await link.close();
        host.invoke?.close();
        await host.database?.close();
      },
    }
  );
}

/** The database an `up` (or `invoke`) serves over the wire, reached the way its functions reach it. */
export function servedDatabase(embedded: EmbeddedDatabaseServer, dataDir: string): SessionDatabase {
  let app: Promise<DevApp> | undefined;
  return {
    dataDir,
    app: () =>
      (app ??= openDevApp({
        target: { kind: "postgres", settings: parseDatabaseSettings(embedded.environment, { poolMax: 1 }) },
        env: {},
        checkSchema: false,
      })),
    close: async () => (await app)?.close(),
  };
}

export function linkHandler(host: SessionHost): LinkHandler {
  return async (request, sink) => {
    if (request.command === "process") return linkedProcess(request, sink, host.database);
    if (request.command === "publish") return linkedPublish(request, sink, host.publish);
    if (request.command === "invoke")
      return host.invoke ? host.invoke.run(request, sink) : { declined: "the session runs no function" };
    return { declined: `${request.command} is not taken over by a session` };
  };
}

async function linkedProcess(
  request: LinkRequest,
  sink: LinkSink,
  database: SessionDatabase | undefined,
): Promise<number | { declined: string }> {
  if (!database) return { declined: "the session holds no embedded database" };
  const parsed = parseOrDecline(() => parseCommand(PROCESS_SPEC, request.argv));
  if ("declined" in parsed) return parsed;
  const { values, positionals } = parsed;
  const { env } = request;
  // What the client would open itself must be what the session holds; anything else runs there.
  if (values.help || positionals.length === 0 || values["env-file"] !== undefined)
    return { declined: "not a plain process run" };
  if (values.db === "memory" || values.db === "postgres" || (values.db === "auto" && namesDatabase(env)))
    return { declined: "another database" };
  if (env.OUTBOUND_QUEUE_URL?.trim()) return { declined: "events to a queue: the client's own SQS settings" };
  const dataDir = values["data-dir"]
    ? resolve(env.INIT_CWD ?? request.cwd, values["data-dir"])
    : resolve(request.cwd, env.DEVRUNNER_DATA_DIR ?? DEFAULT_PGLITE_DIR);
  if (dataDir !== database.dataDir) return { declined: "another embedded folder" };
  try {
    refuseProduction(hostEnvironmentName(env, undefined), productionPolicy(values["allow-prod"]));
  } catch {
    return { declined: "a production environment name (the client reports it)" };
  }
  recordLastCommand("process", request.argv, env.INIT_CWD ?? request.cwd);
  const target = { kind: "pglite", dataDir } as const;
  const output = linkOutput(values.json, sink);
  output.note(`target: ${describeTarget(target)} (held by the running session)`);
  const app = await openDevApp({ target, env, reuse: await database.app() });
  return runProcess(app, positionals, output);
}

async function linkedPublish(
  request: LinkRequest,
  sink: LinkSink,
  publish: SessionHost["publish"],
): Promise<number | { declined: string }> {
  if (!publish) return { declined: "the session has no topic" };
  const parsed = parseOrDecline(() => {
    const result = parseCommand(PUBLISH_SPEC, request.argv);
    if (!result.values.help) checkPublishKeys(result.positionals);
    return result;
  });
  if ("declined" in parsed) return parsed;
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) return { declined: "not a plain publish run" };
  const messages = positionals.map((key) => (values["json-body"] ? JSON.stringify({ entity: key }) : key));
  const ids = await publish(messages);
  positionals.forEach((key, index) => sink.out(`published ${ids[index] ?? "?"} ${key}\n`));
  return 0;
}

/** A command line the command itself would refuse: it runs there, to say so with its own exit code. */
export function parseOrDecline<T extends object>(parse: () => T): T | { declined: string } {
  try {
    return parse();
  } catch (error) {
    return { declined: `bad usage: ${error instanceof Error ? error.message : String(error)}` };
  }
}

export function linkOutput(json: boolean, sink: LinkSink): Output {
  return {
    json,
    line: (text) => {
      if (!json) sink.out(`${text}\n`);
    },
    note: (text) => sink.err(`${text}\n`),
    result: (value) => {
      if (json) sink.out(`${JSON.stringify(value, null, 2)}\n`);
    },
  };
}

/** `up`'s topic, for linked `publish` runs: as `publish` sends them, from this process. */
export function topicPublisher(state: {
  readonly endpoint: string;
  readonly region: string;
  readonly topicArn: string;
}): NonNullable<SessionHost["publish"]> {
  let client: SNSClient | undefined;
  return async (messages) => {
    const { PublishCommand, SNSClient } = await import("@aws-sdk/client-sns");
    client ??= new SNSClient({
      endpoint: state.endpoint,
      region: state.region,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    const ids: string[] = [];
    for (const message of messages) {
      const sent = await client.send(new PublishCommand({ TopicArn: state.topicArn, Message: message }));
      ids.push(sent.MessageId ?? "?");
    }
    return ids;
  };
}

/** A `watch process` session on the embedded database lends it to linked `process` runs. */
export async function linkWatchSession(app: DevApp): Promise<SessionLink | undefined> {
  if (app.target.kind !== "pglite") return undefined;
  const database = {
    dataDir: app.target.dataDir,
    app: () => Promise.resolve(app),
    close: () => Promise.resolve(),
  };
  return linkSession(localAwsConfigFor(process.env), { database });
}
