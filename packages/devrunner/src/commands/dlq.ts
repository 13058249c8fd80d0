import { UsageError } from "../cli/errors.ts";
import { runCommand, type CommandSpec } from "../cli/flags.ts";
import { createOutput } from "../cli/output.ts";
import { localAwsConfigFor } from "../cli/target.ts";
import { drainDeadLetters, type DeadLetter } from "../local-aws/cloud/dead-letters.ts";
import { peekDeadLetters } from "../local-aws/cloud/dead-letter-view.ts";
import { localSqsClient } from "../local-aws/cloud/local-cloud.ts";
import { readUpState } from "../local-aws/cloud/state.ts";

export const DLQ_SPEC = {
  name: "dlq",
  synopsis: "dlq [--redrive] [--json]",
  description: `Lists the messages in the running local cloud's dead-letter queue with why they are there
(--redrive: sends them back to the source queue and removes them from the DLQ).`,
  flags: ["redrive", "json"],
  flagHelp: { redrive: "move every dead-lettered message back to the source queue" },
} as const satisfies CommandSpec<"redrive" | "json">;

export function dlqCommand(argv: readonly string[]): Promise<number> {
  return runCommand(DLQ_SPEC, argv, async (values) => {
    const state = readUpState(localAwsConfigFor(process.env).stateFile);
    if (!state.dlqUrl) throw new UsageError("the source queue has no dead-letter queue in the template");
    const output = createOutput(values.json);
    const client = localSqsClient(state.endpoint, state.region);
    try {
      // Listing peeks (a receive would raise the receive counts it shows); --redrive receives to move them.
      const letters = values.redrive
        ? await drainDeadLetters(client, state.dlqUrl, state.queueUrl)
        : await peekDeadLetters(state.endpoint, state.dlqUrl);
      for (const letter of letters) output.line(describeLetter(letter));
      output.line(
        values.redrive
          ? `redrove ${letters.length} message(s) to ${state.queueUrl}`
          : `${letters.length} message(s) in ${state.dlqUrl}`,
      );
      output.result({ dlqUrl: state.dlqUrl, redriven: values.redrive, messages: letters });
    } finally {
      client.destroy();
    }
    return 0;
  });
}

function describeLetter(letter: DeadLetter): string {
  const why = letter.failureCode
    ? `${letter.failureCode}: ${letter.failureReason}`
    : "(exceeded maxReceiveCount)";
  return `${letter.messageId ?? "?"}  receives=${letter.receiveCount}  ${why}  body=${JSON.stringify((letter.body ?? "").slice(0, 200))}`;
}
