import { writeFileSync } from "node:fs";
import { parseCommandArgs } from "../cli/args.ts";
import { UsageError } from "../cli/errors.ts";
import { sampleSqsEvent } from "../local-aws/sample-events.ts";

export const EVENT_HELP = `devrunner event sqs|sns|fifo KEY... [--json-body] [--out FILE]

Writes an SQS event for \`devrunner invoke --event\` (or \`sam local invoke --event\`) carrying the keys:
  sqs   plain SQS records whose body is the key
  sns   records whose body is an SNS notification envelope (SNS -> SQS without raw delivery)
  fifo  FIFO records, message group = the entity name
Bodies are JSON-escaped correctly, whatever the key holds.

Options:
  --json-body   bodies as {"entity": "KEY"} instead of the bare key
  --out FILE    write to FILE instead of standard output
  -h, --help`;

export function eventCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs("event", argv, {
    "json-body": { type: "boolean", default: false },
    out: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  });
  if (values.help) {
    process.stdout.write(`${EVENT_HELP}\n`);
    return Promise.resolve(0);
  }
  const [kind, ...keys] = positionals;
  if (kind !== "sqs" && kind !== "sns" && kind !== "fifo") {
    throw new UsageError(
      `event: the first argument must be sqs, sns or fifo${kind ? `, not '${kind}'` : ""}\nrun \`devrunner event --help\` for usage`,
    );
  }
  if (keys.length === 0) throw new UsageError("event: give at least one KEY");
  const text = `${JSON.stringify(sampleSqsEvent(kind, keys, { jsonBody: values["json-body"] }), null, 2)}\n`;
  if (values.out) {
    writeFileSync(values.out, text);
    process.stderr.write(
      `wrote ${values.out} (${keys.length} record${keys.length === 1 ? "" : "s"}, ${kind})\n`,
    );
  } else {
    process.stdout.write(text);
  }
  return Promise.resolve(0);
}
