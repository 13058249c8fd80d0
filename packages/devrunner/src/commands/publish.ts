import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { DevrunnerError, UsageError } from "../cli/errors.ts";
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
    checkPublishKeys(keys);
    const state = readUpState(localAwsConfigFor(process.env).stateFile);
    const client = new SNSClient({
      endpoint: state.endpoint,
      region: state.region,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    try {
      for (const [index, key] of keys.entries()) {
        const message = values["json-body"] ? JSON.stringify({ entity: key }) : key;
        const sent = await client
          .send(new PublishCommand({ TopicArn: state.topicArn, Message: message }))
          .catch((error: unknown) => {
            throw new PublishError(
              `publish: sending key ${index + 1} ('${key}') failed: ${(error as Error).message}\n${sentAndNot(keys, index)}`,
              { cause: error },
            );
          });
        process.stdout.write(`published ${sent.MessageId ?? "?"} ${key}\n`);
      }
    } finally {
      client.destroy();
    }
    return 0;
  });
}

/** Every key checked before the first is sent: SNS refuses an empty message, after the ones before it went. */
export function checkPublishKeys(keys: readonly string[]): void {
  if (keys.length === 0) throw new UsageError("publish: give at least one KEY");
  const empty = keys.findIndex((key) => key.trim() === "");
  if (empty >= 0)
    throw new UsageError(
      `publish: key ${empty + 1} of ${keys.length} is empty (SNS refuses an empty message); nothing was sent`,
    );
}

function sentAndNot(keys: readonly string[], failedIndex: number): string {
  const sent = keys.slice(0, failedIndex);
  const unsent = keys.slice(failedIndex);
  return `sent: ${sent.length > 0 ? sent.join(" ") : "(none)"}\nnot sent: ${unsent.join(" ")}`;
}

/** A send failed part-way: exit 1, saying which keys went and which did not. */
class PublishError extends DevrunnerError {
  readonly code = "PUBLISH_FAILED";
  readonly exitCode = 1;
}
