import { buildLambdaContainer, TOKENS } from "./container.ts";
import { parseRelayConfig } from "./config.ts";
import type { RelayHandler } from "./relay-handler.ts";

// OutboxRelayFunction's entry: the same package and container as EntityFunction, its own config (no DLQ),
// parsed once at init; the container is built once per execution environment.
const config = parseRelayConfig(process.env);
const container = buildLambdaContainer(config);

export const handler: RelayHandler = container.get<RelayHandler>(TOKENS.relayHandler);
