// The fault-injection fixtures the devrunner's soak runs with (`@entity/adapters/fault-injection`): only
// node: modules, unlike the rest of the test harness (vitest, testcontainers), which a CLI must not load.
export { startFakeSecretsManager } from "./fake-secrets-manager.ts";
export { startPortForward, type PortForward, type PortForwardOptions } from "./port-forward.ts";
export {
  startSqsFaultProxy,
  type SqsBatchEntry,
  type SqsEntryFault,
  type SqsFaultProxy,
  type SqsFaultProxyCounts,
} from "./sqs-fault-proxy.ts";
