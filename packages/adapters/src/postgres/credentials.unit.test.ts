import { describe, expect, it } from "vitest";
import { cachedCredentials } from "./credentials.ts";

describe("cachedCredentials", () => {
  it("fetches at most once per lifetime, again after it expires or is invalidated, and never caches a failure", async () => {
    let clock = 0;
    let fetches = 0;
    let fail = false;
    const source = cachedCredentials(
      () => {
        fetches += 1;
        return fail ? Promise.reject(new Error("down")) : Promise.resolve({ password: `p${fetches}` });
      },
      1000,
      () => clock,
    );
    await Promise.all([source.get(), source.get()]);
    expect(fetches).toBe(1);
    clock = 999;
    expect(await source.get()).toEqual({ password: "p1" });
    clock = 1000;
    expect(await source.get()).toEqual({ password: "p2" });
    source.invalidate();
    fail = true;
    await expect(source.get()).rejects.toThrow("down");
    fail = false;
    expect(await source.get()).toEqual({ password: "p4" });
    expect(fetches).toBe(4);
  });
});
