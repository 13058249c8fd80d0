import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { UsageError } from "../cli/errors.ts";
import { runCommand, type CommandSpec } from "../cli/flags.ts";
import { localAwsConfigFor } from "../cli/target.ts";
import { readUpState } from "../local-aws/cloud/state.ts";

export const PUBLISH_SPEC = {
  name: "publish",
  synopsis: "publish KEY... [--json-body]",
  description: `Sends each key through the running local cloud's SNS topic (\`devrunner up\` in another terminal), as the
producers do in AWS: SNS -> SQS -> EntityFunction.`,
  flags: ["json-body"],
  positionals: "any",
  flagHelp: { "json-body": 'publish {"entity": "KEY"} instead of the bare key' },
} as const satisfies CommandSpec<"json-body">;

export function publishCommand(argv: readonly string[]): Promise<number> {
  return runCommand(PUBLISH_SPEC, argv, async (values, keys) => {
    if (keys.length === 0) throw new UsageError("publish: give at least one KEY");
    const state = readUpState(localAwsConfigFor(process.env).stateFile);
    const client = new SNSClient({
      endpoint: state.endpoint,
      region: state.region,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    try {
      for (const key of keys) {
        const message = values["json-body"] ? JSON.stringify({ entity: key }) : key;
        const sent = await client.send(new PublishCommand({ TopicArn: state.topicArn, Message: message }));
        process.stdout.write(`published ${sent.MessageId ?? "?"} ${key}\n`);
      }
    } finally {
      client.destroy();
    }
    return 0;
  });
}
