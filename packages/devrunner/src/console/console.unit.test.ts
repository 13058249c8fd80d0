import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { sampleKey } from "./actions.ts";
import { prettyLogLine } from "./log-lines.ts";
import { publishRequest } from "./routes.ts";
import { postRefusal, refusal } from "./safety.ts";
import { parseEntityKey } from "@entity/domain";

function requestWith(headers: Record<string, string>): IncomingMessage {
  return { headers } as unknown as IncomingMessage;
}

describe("the console's guards", () => {
  it("takes requests to its own local address, with no Origin or its own", () => {
    expect(refusal(requestWith({ host: "127.0.0.1:9740" }), 9740)).toBeUndefined();
    expect(refusal(requestWith({ host: "localhost:9740", origin: "http://localhost:9740" }), 9740)).toBe(
      undefined,
    );
  });

  it("refuses a rebound name, another port, another site's Origin or fetch", () => {
    expect(refusal(requestWith({ host: "attacker.example:9740" }), 9740)).toMatch(/Host 'attacker/);
    expect(refusal(requestWith({ host: "127.0.0.1:80" }), 9740)).toMatch(/Host/);
    expect(refusal(requestWith({ host: "127.0.0.1:9740", origin: "http://attacker.example" }), 9740)).toMatch(
      /Origin/,
    );
    expect(refusal(requestWith({ host: "127.0.0.1:9740", origin: "null" }), 9740)).toMatch(/Origin/);
    expect(refusal(requestWith({ host: "127.0.0.1:9740", "sec-fetch-site": "cross-site" }), 9740)).toMatch(
      /another site/,
    );
  });

  it("takes a state-changing request only as JSON with the session's token", () => {
    const json = { "content-type": "application/json" };
    expect(postRefusal(requestWith({ ...json, "x-console-token": "t0ken" }), "t0ken")).toBeUndefined();
    expect(postRefusal(requestWith({ ...json, "x-console-token": "other" }), "t0ken")).toMatch(/token/);
    expect(postRefusal(requestWith(json), "t0ken")).toMatch(/token/);
    expect(
      postRefusal(requestWith({ "content-type": "text/plain", "x-console-token": "t0ken" }), "t0ken"),
    ).toMatch(/JSON/);
  });
});

describe("log lines and secrets", () => {
  it("takes a Powertools line apart, routine fields left out", () => {
    const line = prettyLogLine(
      JSON.stringify({
        level: "INFO",
        message: "entity created",
        timestamp: "2026-11-27T08:00:00.000Z",
        service: "entity-function",
        function_request_id: "r",
        entity: "E",
      }),
      "stdout",
    );
    expect(line).toEqual({
      stream: "stdout",
      level: "INFO",
      time: "2026-11-27T08:00:00.000Z",
      message: "entity created",
      fields: { entity: "E" },
    });
    expect(prettyLogLine("plain text", "stderr").message).toBe("plain text");
  });
});

describe("the publish box's request", () => {
  it("takes keys as text or a list, through the topic or to the queue", () => {
    expect(publishRequest({ keys: "A_1 \n B_2", via: "sns" })).toEqual({
      keys: ["A_1", "B_2"],
      via: "sns",
      jsonBody: false,
    });
    expect(publishRequest({ keys: ["A_1"], via: "queue", jsonBody: true })).toMatchObject({ via: "queue" });
  });

  it("says what is wrong with a bad one", () => {
    expect(publishRequest({ keys: " ", via: "sns" })).toBe("keys: give at least one key");
    expect(publishRequest({ keys: "A", via: "sqs" })).toMatch(/via: expected "sns" or "queue"/);
    expect(publishRequest({ keys: [1], via: "sns" })).toMatch(/^keys:/);
    expect(publishRequest("A")).toMatch(/JSON object/);
  });

  it("makes sample keys the domain accepts", () => {
    expect(parseEntityKey(sampleKey(new Date("2026-11-27T08:09:10.123Z")))).toMatchObject({ ok: true });
  });
});
