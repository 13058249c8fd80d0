// Test support: fuzzes the SQS handler. Never imported by the Lambda's source (dependency-cruiser checks).
export { FuzzFailure } from "./failure.ts";
export { checkScenario, type FuzzSession } from "./oracle.ts";
export { possibleKeys, referenceKey, type ReferenceKey } from "./reference.ts";
export { scenario, type FuzzRecord, type Scenario } from "./records.ts";
export { describeScenario, fuzzHandler, randomSeed, type FuzzOptions, type FuzzReport } from "./run.ts";
export { memoryTarget, postgresTarget, type FuzzTarget, type Sabotage } from "./targets.ts";
