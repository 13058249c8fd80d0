import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { FlowMonitor } from "./flow-monitor.ts";
import { entityLookupName, methodRefusal, readJsonBody } from "./http.ts";
import { partialPublish, publishRequest } from "./routes.ts";

function chunks(...parts: (Buffer | string)[]): AsyncIterable<Buffer | string> {
  return Readable.from(parts, { objectMode: true });
}

/** A text as two chunks split inside its first multi-byte character. */
function splitInsideCharacter(text: string): Buffer[] {
  const bytes = Buffer.from(text);
  const at = bytes.findIndex((byte) => byte >= 0x80) + 1;
  return [bytes.subarray(0, at), bytes.subarray(at)];
}

describe("the console's methods", () => {
  it("takes each path's method, and HEAD on the page's files", () => {
    expect(methodRefusal("GET", "/")).toBeUndefined();
    expect(methodRefusal("HEAD", "/")).toBeUndefined();
    expect(methodRefusal("POST", "/api/publish")).toBeUndefined();
    expect(methodRefusal("GET", "/api/entity")).toBeUndefined();
  });

  it("answers 405 with Allow for another method, 404 for another path", () => {
    expect(methodRefusal("GET", "/api/publish")).toMatchObject({ status: 405, allow: "POST" });
    expect(methodRefusal("GET", "/api/redrive")).toMatchObject({ status: 405, allow: "POST" });
    expect(methodRefusal("POST", "/")).toMatchObject({ status: 405, allow: "GET, HEAD" });
    expect(methodRefusal("HEAD", "/api/events")).toMatchObject({ status: 405, allow: "GET" });
    expect(methodRefusal("GET", "/nope")).toMatchObject({ status: 404 });
  });
});

describe("a request's body", () => {
  it("is decoded once: a character split across chunks stays whole", async () => {
    const read = await readJsonBody(chunks(...splitInsideCharacter('{"keys":"UNI_日本_💥"}')));
    expect(read).toEqual({ ok: true, value: { keys: "UNI_日本_💥" } });
  });

  it("over the limit is a 413, not JSON a 400 that says so, empty is {}", async () => {
    expect(await readJsonBody(chunks("x".repeat(20), "y".repeat(20)), 32)).toMatchObject({ status: 413 });
    expect(await readJsonBody(chunks("keys=A"))).toMatchObject({
      status: 400,
      error: expect.stringMatching(/^body is not JSON: /) as unknown,
    });
    expect(await readJsonBody(chunks())).toEqual({ ok: true, value: {} });
  });
});

describe("the entity lookup's name", () => {
  it("looks up a full key's name, and says what is wrong with a bad name", () => {
    expect(entityLookupName(" MY_ENTITY ")).toEqual({ name: "MY_ENTITY" });
    expect(entityLookupName("MY_ENTITY_20220608T043249")).toEqual({
      name: "MY_ENTITY",
      fromKey: "MY_ENTITY_20220608T043249",
    });
    expect(entityLookupName("A\0B")).toMatch(/NUL/);
    expect(entityLookupName("A".repeat(201))).toMatch(/201 characters long; names are at most 200/);
    expect(entityLookupName("  ")).toMatch(/give an entity name/);
  });
});

describe("a publish from the page", () => {
  it("checks every key before sending any, naming a blank one's position", () => {
    expect(publishRequest({ keys: ["A_20220608T043249", " ", "B"], via: "sns" })).toBe(
      "keys[1] (key 2 of 3) is blank",
    );
    expect(publishRequest({ keys: ["A\0"], via: "sns" })).toMatch(/keys\[0\].*NUL/);
  });

  it("that failed partway says what was sent and what was not", () => {
    expect(partialPublish(["A", "B", "C"], ["m1"], "connection refused")).toEqual({
      error: "sent 1 of 3 key(s); key 2 (B) failed: connection refused; the rest were not sent",
      sent: [{ key: "A", messageId: "m1" }],
      notSent: ["B", "C"],
    });
  });
});

describe("the function's output", () => {
  it("keeps a character split across chunks whole", () => {
    const monitor = new FlowMonitor();
    const [first, second] = splitInsideCharacter("entity UNI_日本_💥 done\n");
    monitor.log(first!, { requestId: "", stream: "stdout" });
    monitor.log(second!, { requestId: "", stream: "stdout" });
    expect(monitor.otherLogs.map((line) => line.message)).toEqual(["entity UNI_日本_💥 done"]);
  });
});
