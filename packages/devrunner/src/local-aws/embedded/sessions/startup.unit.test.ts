import { describe, expect, it } from "vitest";
import {
  durationMs,
  mayChangeServerKept,
  partitionSettings,
  readOptions,
  readStartupParameters,
  settingValue,
} from "./startup.ts";

describe("startup parameters", () => {
  it("keeps the run-time parameters, not who connects to what", () => {
    const request = readStartupParameters(
      new Map([
        ["user", "postgres"],
        ["database", "postgres"],
        ["application_name", "EntityFunction"],
        ["statement_timeout", "30000"],
        ["idle_in_transaction_session_timeout", "30000"],
        ["client_encoding", "UTF8"],
      ]),
    );
    expect(request).toEqual({
      kind: "accepted",
      settings: [
        ["application_name", "EntityFunction"],
        ["statement_timeout", "30000"],
        ["idle_in_transaction_session_timeout", "30000"],
        ["client_encoding", "UTF8"],
      ],
      unknownProtocolOptions: [],
    });
  });

  it("reads -c and -- switches of options, before the parameters (which win)", () => {
    const request = readStartupParameters(
      new Map([
        ["options", "-c search_path=app\\ schema --lock-timeout=5s -cwork_mem=8MB"],
        ["search_path", "public"],
      ]),
    );
    expect(request.kind === "accepted" && request.settings).toEqual([
      ["search_path", "app schema"],
      ["lock_timeout", "5s"],
      ["work_mem", "8MB"],
      ["search_path", "public"],
    ]);
  });

  it("refuses what Postgres would refuse or this server cannot do", () => {
    expect(readStartupParameters(new Map([["replication", "database"]]))).toMatchObject({
      kind: "refused",
      code: "0A000",
    });
    expect(readStartupParameters(new Map([["replication", "false"]])).kind).toBe("accepted");
    expect(readOptions("-d 5")).toMatch(/invalid command-line argument in the options parameter: "-d"/);
    expect(readOptions("-c")).toMatch(/invalid command-line argument/);
  });

  it("names protocol options it does not know, for NegotiateProtocolVersion", () => {
    const request = readStartupParameters(new Map([["_pq_.compression", "on"]]));
    expect(request).toEqual({ kind: "accepted", settings: [], unknownProtocolOptions: ["_pq_.compression"] });
  });

  it("finds a setting's last value, whatever its case", () => {
    const settings = [
      ["Application_Name", "a"],
      ["application_name", "b"],
    ] as const;
    expect(settingValue(settings, "application_name")).toBe("b");
    expect(settingValue(settings, "statement_timeout")).toBeUndefined();
  });

  it("reads durations as Postgres does (a bare number is milliseconds; 0 is no limit)", () => {
    expect(durationMs("30000")).toBe(30_000);
    expect(durationMs("30s")).toBe(30_000);
    expect(durationMs("1 min")).toBe(60_000);
    expect(durationMs("1.5h")).toBe(5_400_000);
    expect(durationMs("0")).toBeUndefined();
    expect(durationMs("soon")).toBeUndefined();
    expect(durationMs(undefined)).toBeUndefined();
  });

  it("keeps the session timeouts PGlite cannot take for the server, whatever their case", () => {
    expect(
      partitionSettings([
        ["statement_timeout", "30000"],
        ["Idle_In_Transaction_Session_Timeout", "30000"],
        ["idle_session_timeout", "1"],
        ["transaction_timeout", "1"],
      ]),
    ).toEqual({
      applied: [["statement_timeout", "30000"]],
      kept: [
        ["Idle_In_Transaction_Session_Timeout", "30000"],
        ["idle_session_timeout", "1"],
        ["transaction_timeout", "1"],
      ],
    });
    expect(mayChangeServerKept(Buffer.from("Q...SET IDLE_SESSION_TIMEOUT = 5"))).toBe(true);
    expect(mayChangeServerKept(Buffer.from("Q...SELECT set_config('transaction_timeout', '1', false)"))).toBe(
      true,
    );
    expect(mayChangeServerKept(Buffer.from("Q...SET statement_timeout = 5"))).toBe(false);
  });
});
