import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { parseCommandArgs } from "../cli/args.ts";
import { readUpState } from "../local-aws/cloud/state.ts";
import { localAwsConfigFor } from "../cli/target.ts";
import { UsageError } from "../cli/errors.ts";

export const PUBLISH_HELP = `devrunner publish KEY... [--json-body]

Sends each key through the running local cloud's SNS topic (\`devrunner up\` in another terminal), as the
producers do in AWS: SNS -> SQS -> EntityFunction.

Options:
  --json-body   publish {"entity": "KEY"} instead of the bare key
  -h, --help`;

export async function publishCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs("publish", argv, {
    "json-body": { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  });
  if (values.help) {
    process.stdout.write(`${PUBLISH_HELP}\n`);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError("publish: give at least one KEY");
  const state = readUpState(localAwsConfigFor(process.env).stateFile);
  const client = new SNSClient({
    endpoint: state.endpoint,
    region: state.region,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  try {
    for (const key of positionals) {
      const message = values["json-body"] ? JSON.stringify({ entity: key }) : key;
      const sent = await client.send(new PublishCommand({ TopicArn: state.topicArn, Message: message }));
      process.stdout.write(`published ${sent.MessageId ?? "?"} ${key}\n`);
    }
  } finally {
    client.destroy();
  }
  return 0;
}
