// The dependency direction of the architecture, checked on every `pnpm lint`. No exemptions:
// an exemption is how such rules rot. `.ci/dependency-rules.int.test.ts` proves each rule fails when broken.

// Production code: what ships or runs for users. Tests, test support (testing/, contracts/), build scripts,
// the benchmark and the soak (a load test that starts containers) are tooling.
const PRODUCTION = "^packages/[^/]+/src/";
const TOOLING =
  "(\\.test\\.ts$|/src/(testing|contracts)/|^packages/devrunner/src/(soak/|commands/soak\\.ts$))";
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "domain-is-pure",
      comment:
        "packages/domain imports nothing outside itself: no npm packages, no node: modules, no other package.",
      severity: "error",
      from: { path: "^packages/domain/", pathNot: "\\.test\\.ts$" },
      to: { pathNot: "^packages/domain/" },
    },
    {
      name: "domain-has-no-builtins",
      comment: "packages/domain does no I/O: node: modules (and bare builtins) are forbidden.",
      severity: "error",
      from: { path: "^packages/domain/", pathNot: "\\.test\\.ts$" },
      to: { dependencyTypes: ["core"] },
    },
    {
      name: "adapters-not-to-roots",
      comment: "Adapters implement ports; they never reach into a composition root.",
      severity: "error",
      from: { path: "^packages/adapters/" },
      to: { path: "^packages/(lambda|devrunner)/" },
    },
    {
      name: "lambda-not-to-devrunner",
      severity: "error",
      from: { path: "^packages/lambda/" },
      to: { path: "^packages/devrunner/" },
    },
    {
      name: "production-has-no-dev-dependencies",
      comment:
        "What production code imports at run time is a runtime dependency of its package, not a devDependency.",
      severity: "error",
      from: { path: PRODUCTION, pathNot: TOOLING },
      to: { dependencyTypes: ["npm-dev"] },
    },
    {
      name: "production-has-no-test-support",
      comment: "Production code never imports test support (testing/, contracts/, @entity/adapters/testing).",
      severity: "error",
      from: { path: PRODUCTION, pathNot: TOOLING },
      to: { path: "^packages/[^/]+/src/(testing|contracts)/" },
    },
    {
      name: "lambda-bundle-has-no-test-support",
      comment:
        "The Lambda's source never imports test support (its own src/testing, the adapters' harness): the bundle stays free of fast-check, vitest and testcontainers.",
      severity: "error",
      from: { path: "^packages/lambda/src/", pathNot: "(\\.test\\.ts$|^packages/lambda/src/testing/)" },
      to: { path: "^packages/(lambda/src/testing|adapters/src/testing)/" },
    },
    {
      name: "devrunner-not-to-lambda",
      comment: "The devrunner runs the built Lambda bundle as a black box; it never imports its source.",
      severity: "error",
      from: { path: "^packages/devrunner/" },
      to: { path: "^packages/lambda/" },
    },
    {
      name: "local-aws-core-stands-alone",
      comment:
        "The devrunner's local-AWS core knows nothing of the CLI: no commands, no CLI helpers, no composition root.",
      severity: "error",
      from: { path: "^packages/devrunner/src/local-aws/" },
      to: {
        path: "^packages/devrunner/src/(commands|cli|doctor|soak)/|^packages/devrunner/src/(cli|root)\\.ts$",
      },
    },
    {
      name: "no-unresolvable",
      comment: "Every import resolves, except packages that exist only as @types (aws-lambda's event types).",
      severity: "error",
      from: {},
      to: { couldNotResolve: true, pathNot: "^aws-lambda$" },
    },
    {
      name: "no-circular",
      severity: "error",
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)(dist|\\.bundle)/" },
    tsPreCompilationDeps: true,
    combinedDependencies: false,
    preserveSymlinks: false,
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".js", ".json"],
    },
    tsConfig: { fileName: "tsconfig.base.json" },
  },
};
