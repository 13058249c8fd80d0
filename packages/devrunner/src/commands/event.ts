import { writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { UsageError } from "../cli/errors.ts";
import { runCommand, type CommandSpec } from "../cli/flags.ts";
import { userPath } from "../cli/paths.ts";
import { withSamConfig } from "../cli/sam-options.ts";
import { localAwsConfigFor } from "../cli/target.ts";
import { sampleSqsEvent } from "../local-aws/sample-events.ts";

export const EVENT_SPEC = {
  name: "event",
  synopsis:
    "event sqs|sns|fifo KEY... [--json-body] [--out FILE] [--region R] [--account-id ID] [--queue-name Q]",
  description: `Writes an SQS event for \`devrunner invoke --event\` (or \`sam local invoke --event\`) carrying the keys:
  sqs   plain SQS records whose body is the key
  sns   records whose body is an SNS notification envelope (SNS -> SQS without raw delivery)
  fifo  FIFO records, message group = the entity name
Bodies are JSON-escaped correctly, whatever the key holds. The ARNs name the region \`up\` and \`invoke\` use
(--region, else AWS_REGION, else us-east-1), like \`sam local generate-event sqs receive-message\`.`,
  flags: ["json-body", "out", "region", "account-id", "queue-name"],
  positionals: "any",
} as const satisfies CommandSpec<"json-body" | "out" | "region" | "account-id" | "queue-name">;

export function eventCommand(argv: readonly string[]): Promise<number> {
  // samconfig.toml's [default.global.parameters] region, as every command reads it.
  const withConfig = withSamConfig(EVENT_SPEC, "local_generate_event", argv, process.env);
  return runCommand(EVENT_SPEC, withConfig, (values, positionals) => {
    const [kind, ...keys] = positionals;
    if (kind !== "sqs" && kind !== "sns" && kind !== "fifo") {
      throw new UsageError(
        `event: the first argument must be sqs, sns or fifo${kind ? `, not '${kind}'` : ""}\nrun \`devrunner event --help\` for usage`,
      );
    }
    if (keys.length === 0) throw new UsageError("event: give at least one KEY");
    if (!/^\d{12}$/.test(values["account-id"]))
      throw new UsageError(`event: --account-id must be 12 digits, not '${values["account-id"]}'`);
    const origin = {
      region: localAwsConfigFor(process.env, values.region).region,
      accountId: values["account-id"],
      ...(values["queue-name"] === undefined ? {} : { queueName: values["queue-name"] }),
    };
    const event = sampleSqsEvent(kind, keys, origin, { jsonBody: values["json-body"] });
    const text = `${JSON.stringify(event, null, 2)}\n`;
    if (values.out) {
      writeOut(values.out, text);
      process.stderr.write(
        `wrote ${values.out} (${keys.length} record${keys.length === 1 ? "" : "s"}, ${kind})\n`,
      );
    } else {
      process.stdout.write(text);
    }
    return Promise.resolve(0);
  });
}

/** --out FILE: a folder, or a path whose folder is missing, is bad usage (exit 2), named as given. */
function writeOut(path: string, text: string): void {
  try {
    writeFileSync(userPath(path), text);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === "EISDIR"
        ? "it is a folder; give a file name"
        : code === "ENOENT"
          ? `no folder ${dirname(userPath(path))}`
          : (error as Error).message;
    throw new UsageError(`event: cannot write --out '${path}': ${reason}`);
  }
}
