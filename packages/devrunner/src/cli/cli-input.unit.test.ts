import { describe, expect, it } from "vitest";
import { DLQ_SPEC } from "../commands/dlq.ts";
import { MIGRATE_SPEC } from "../commands/migrate.ts";
import { PROCESS_SPEC } from "../commands/process.ts";
import { REPL_SPEC } from "../commands/repl.ts";
import { SOAK_SPEC } from "../commands/soak.ts";
import { UP_SPEC } from "../commands/up.ts";
import { portNumber, visibilityTimeoutSeconds } from "./args.ts";
import { UsageError } from "./errors.ts";
import { parseCommand } from "./flags.ts";

function usageMessage(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as UsageError).message;
  }
  throw new Error("expected a UsageError");
}

describe("positional arguments", () => {
  it.each([SOAK_SPEC, DLQ_SPEC, MIGRATE_SPEC, REPL_SPEC])(
    "$name refuses a stray argument instead of ignoring it",
    (spec) => {
      const message = usageMessage(() => parseCommand(spec, ["extra"]));
      expect(message).toContain(`${spec.name}: unexpected argument 'extra' (${spec.name} takes none)`);
      expect(message).toContain(`devrunner ${spec.name} --help`);
    },
  );

  it("up takes one function id, and names the ones beyond it", () => {
    expect(parseCommand(UP_SPEC, ["EntityFunction"]).positionals).toEqual(["EntityFunction"]);
    expect(usageMessage(() => parseCommand(UP_SPEC, ["A", "B", "C"]))).toContain(
      "up: unexpected arguments 'B' 'C' (up takes at most 1)",
    );
  });

  it("process takes any number of keys", () => {
    expect(parseCommand(PROCESS_SPEC, ["K1", "K2", "K3"]).positionals).toEqual(["K1", "K2", "K3"]);
  });
});

describe("portNumber", () => {
  it("takes 0 to 65535", () => {
    expect(portNumber("--port", "0")).toBe(0);
    expect(portNumber("--port", "65535")).toBe(65535);
  });

  it.each(["70000", "65536", "-1", "abc", ""])("refuses '%s' with the flag and the value", (text) => {
    expect(usageMessage(() => portNumber("--port", text))).toBe(
      `--port must be a port number (0-65535), not '${text}'`,
    );
  });
});

describe("visibilityTimeoutSeconds", () => {
  it("takes up to SQS's 43200 seconds", () => {
    expect(visibilityTimeoutSeconds("--visibility-timeout", "43200")).toBe(43200);
  });

  it("refuses more than SQS allows", () => {
    expect(usageMessage(() => visibilityTimeoutSeconds("--visibility-timeout", "99999999"))).toContain(
      "--visibility-timeout must be at most 43200 seconds",
    );
  });
});
