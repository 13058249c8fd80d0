// SQS messaging adapters (the AWS SDK): load only where messages are sent.
export {
  SqsEventPublisher,
  lazySqsClient,
  messageGroupId,
  type SqsClientProvider,
  type SqsEventPublisherOptions,
} from "./sqs/sqs-event-publisher.ts";
export { SqsDeadLetterQueue } from "./sqs/sqs-dead-letter-queue.ts";
