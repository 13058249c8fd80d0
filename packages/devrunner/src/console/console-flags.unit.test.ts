import { describe, expect, it } from "vitest";
import { UsageError } from "../cli/errors.ts";
import { parseCommand } from "../cli/flags.ts";
import { UP_SPEC } from "../commands/up.ts";
import { consolePortFlag } from "./index.ts";

describe("up's console flags, checked before anything starts", () => {
  it("takes a port from 0 to 65535, none for the default, or --no-console", () => {
    expect(consolePortFlag({ "console-port": "0" })).toBe(0);
    expect(consolePortFlag({ "console-port": "65535" })).toBe(65535);
    expect(consolePortFlag({})).toBeUndefined();
    expect(consolePortFlag({ "no-console": true })).toBeNull();
  });

  it("refuses a port out of range, a negative one, and both flags at once as usage errors", () => {
    expect(() => consolePortFlag({ "console-port": "70000" })).toThrow(
      new UsageError("--console-port must be a port number (0-65535), not '70000'"),
    );
    expect(() => consolePortFlag({ "console-port": "-1" })).toThrow(UsageError);
    expect(() => consolePortFlag({ "console-port": "1", "no-console": true })).toThrow(/one or the other/);
    expect(() => parseCommand(UP_SPEC, ["--console-port", "-1"])).toThrow(
      /--console-port -1: a negative number is not a value --console-port takes/,
    );
  });
});
