// devrunner: the fast local loop around EntityFunction. `pnpm devrunner <command> --help` for each command.
import { ConfigError } from "@entity/adapters/postgres";
import { DomainError } from "@entity/domain";
import { DevrunnerError, UsageError, exitCodeOf } from "./cli/errors.ts";
import { LocalAwsError } from "./local-aws/errors.ts";

const USAGE = `devrunner <command> [options]

Commands:
  process KEY...         run the domain on keys, straight from the terminal
  invoke [FunctionId]    run the built function on an event file, like \`sam local invoke\`, without Docker
  event sqs|sns|fifo KEY...  write a sample event with those keys
  up                     the local cloud: SNS -> SQS -> EntityFunction, in one process
  start-lambda           the Lambda Invoke API on 127.0.0.1:3001, like \`sam local start-lambda\`
  publish KEY...         send keys through the running local cloud's SNS topic
  dlq [--redrive]        list (or send back) the local cloud's dead-lettered messages
  watch process|invoke ...   re-run on every source change
  repl                   a Node REPL with the wired app
  migrate [--status]     apply (or list) migrations on the target database
  outbox [--redrive [ID...]]  list pending and parked outbox events, or put parked ones back
  doctor                 check the function's database as a deploy needs it: answers, TLS, schema,
                         role privileges, connection budget
  soak [--messages N]    the local flow under load with injected faults, checked for loss and duplicates

Run \`devrunner <command> --help\` for a command's options.`;

type Command = (argv: readonly string[]) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  process: async () => (await import("./commands/process.ts")).processCommand,
  migrate: async () => (await import("./commands/migrate.ts")).migrateCommand,
  outbox: async () => (await import("./commands/outbox.ts")).outboxCommand,
  doctor: async () => (await import("./commands/doctor.ts")).doctorCommand,
  invoke: async () => (await import("./commands/invoke.ts")).invokeCommand,
  event: async () => (await import("./commands/event.ts")).eventCommand,
  up: async () => (await import("./commands/up.ts")).upCommand,
  publish: async () => (await import("./commands/publish.ts")).publishCommand,
  dlq: async () => (await import("./commands/dlq.ts")).dlqCommand,
  watch: async () => (await import("./commands/watch.ts")).watchCommand,
  repl: async () => (await import("./commands/repl.ts")).replCommand,
  soak: async () => (await import("./commands/soak.ts")).soakCommand,
  "start-lambda": async () => (await import("./commands/start-lambda.ts")).startLambdaCommand,
};

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(`${USAGE}\n`);
    return name ? 0 : 2;
  }
  const load = COMMANDS[name];
  if (!load) throw new UsageError(`unknown command '${name}'\n\n${USAGE}`);
  return (await load())(rest);
}

// `watch` loads the project's modules afresh for each run (cli/watcher.ts): an error thrown there is an
// instance of another copy of its class, which `instanceof` does not see. Recognised by its shape instead.
function isReloadedDevrunnerError(error: unknown): error is DevrunnerError {
  const { code, exitCode } = (error ?? {}) as Partial<DevrunnerError>;
  return error instanceof Error && typeof code === "string" && typeof exitCode === "number";
}

function isReloadedLocalAwsError(error: unknown): error is LocalAwsError {
  return error instanceof Error && error.name === "LocalAwsError" && "code" in error;
}

// `devrunner ... | head`: a reader that stops early is normal, not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw error;
});

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof DevrunnerError || isReloadedDevrunnerError(error)) {
    process.stderr.write(`devrunner: ${error.message}\n`);
    process.exitCode = error.exitCode;
  } else if (error instanceof LocalAwsError || isReloadedLocalAwsError(error)) {
    process.stderr.write(`devrunner: ${error.message}\n`);
    process.exitCode = exitCodeOf(error);
  } else if (error instanceof ConfigError) {
    process.stderr.write(`devrunner: configuration: ${error.message}\n`);
    process.exitCode = 2;
  } else if (error instanceof DomainError || error instanceof Error) {
    process.stderr.write(`devrunner: ${error.name}: ${error.message}\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(`devrunner: ${String(error)}\n`);
    process.exitCode = 1;
  }
}
