import { describe, expect, it } from "vitest";
import { mask } from "./masking.ts";

const H = "[hidden]";

describe("mask: the one function every console answer goes through", () => {
  it.each([
    ["password=s3cret host=db", `password=${H} host=db`],
    ["DB_PASSWORD=hunter2", `DB_PASSWORD=${H}`],
    ["PGPASSWORD=hunter2 psql", `PGPASSWORD=${H} psql`],
    ["client_secret=abc&grant=x", `client_secret=${H}&grant=x`],
    ["host=db sslpassword=abc", `host=db sslpassword=${H}`],
    ["{ password: 'x' }", `{ password: '${H}' }`],
    ["password: x", `password: ${H}`],
    ['got {"user":"u","password":"p w"} back', `got {"user":"u","password":"${H}"} back`],
    ["Authorization: Bearer abc.def", `Authorization: ${H} ${H}`],
    ["curl -H 'authorization: Basic dTpw'", `curl -H 'authorization: ${H} ${H}'`],
    ["postgres://app:s3cret@db:5432/entities", `postgres://app:${H}@db:5432/entities`],
    ["postgres://app:pa/ss@db/x", `postgres://app:${H}@db/x`],
    ["apiKey=k1 privateKey=k2 sessionId=s1 token=t", `apiKey=${H} privateKey=${H} sessionId=${H} token=${H}`],
    ["nothing to hide: MY_ENTITY_20220608T043249", "nothing to hide: MY_ENTITY_20220608T043249"],
  ])("text %j", (text, expected) => {
    expect(mask(text)).toBe(expected);
  });

  it.each([
    ["pwd", { pwd: "x" }, { pwd: H }],
    ["pw", { pw: "x", dbPw: "y" }, { pw: H, dbPw: H }],
    ["privateKey", { privateKey: "x" }, { privateKey: H }],
    ["secret*", { secretAccessKey: "x", secrets: ["a"] }, { secretAccessKey: H, secrets: H }],
    ["token*", { tokenValue: "x", refresh_token: "y" }, { tokenValue: H, refresh_token: H }],
    ["sessionId, apiKey", { sessionId: "x", apiKey: "y" }, { sessionId: H, apiKey: H }],
    ["nested", { a: { dbPassword: "x", ok: 1 } }, { a: { dbPassword: H, ok: 1 } }],
    ["empty left as is", { token: "" }, { token: "" }],
    ["a JSON message field", { message: 'login {"password":"x"}' }, { message: `login {"password":"${H}"}` }],
    [
      "an error text",
      { error: "connect postgres://u:p@h failed" },
      { error: `connect postgres://u:${H}@h failed` },
    ],
  ])("object: %s", (_name, value, expected) => {
    expect(mask(value)).toEqual(expected);
  });

  it("hides what is nested too deep to walk instead of passing it through", () => {
    let deep: unknown = { password: "x" };
    for (let level = 0; level < 40; level += 1) deep = { inner: deep };
    expect(JSON.stringify(mask(deep))).not.toContain('"x"');
  });
});
