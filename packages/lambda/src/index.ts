import { buildLambdaContainer, TOKENS } from "./container.ts";
import { parseLambdaConfig } from "./config.ts";
import type { SqsBatchHandler } from "./batch-handler.ts";

// Module scope: config parsed once (a bad variable fails the init, naming it) and the container built
// once per execution environment, not per invocation (InversifyJS #1277).
const config = parseLambdaConfig(process.env);
const container = buildLambdaContainer(config);

export const handler: SqsBatchHandler = container.get<SqsBatchHandler>(TOKENS.handler);
