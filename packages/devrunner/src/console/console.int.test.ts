import { execFileSync } from "node:child_process";
import { request } from "node:http";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isolatedEnv, startCli } from "../testing/cli.ts";

// A real browser (Debian's chromium, which .ci/run installs; playwright-core downloads none) against a
// running `devrunner up`. Every wait is for a state of the page, never for a time.
const CHROMIUM = process.env.CHROMIUM_PATH || systemChromium();
const WAIT_MS = 30_000;
const GOOD_KEY = "CONSOLE_ENTITY_20220608T043249";
const BAD_KEY = "console_bad_key";

let up: ReturnType<typeof startCli>;
let consoleUrl: string;
let browser: Browser;

beforeAll(async () => {
  up = startCli(["up", "--port", "0", "--console-port", "0"], isolatedEnv());
  await up.waitFor(/^ready:/m, 90_000);
  consoleUrl = /^console (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(up.output())![1]!;
  browser = await chromium.launch({ executablePath: CHROMIUM, chromiumSandbox: false });
});
afterAll(async () => {
  await browser?.close();
  expect(await up?.stop()).toBe(0);
});

async function publishFromPage(page: Page, key: string): Promise<void> {
  await page.fill("#publish-keys", key);
  await page.click("#publish");
  await page.locator("#send-status", { hasText: "published 1 message(s) through the topic" }).waitFor();
}

describe("the local console in a browser", () => {
  // Each step waits up to WAIT_MS for its state; the whole takes a few seconds on a quiet machine.
  it(
    "publishes from the page and shows the invocation, the entity, the DLQ and a redrive",
    { timeout: 120_000 },
    async () => {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      page.setDefaultTimeout(WAIT_MS);
      await page.goto(consoleUrl);
      await page.locator("#connection[data-state=live]").waitFor();

      await publishFromPage(page, GOOD_KEY);
      const goodRow = page.locator("#invocations tbody tr", { hasText: GOOD_KEY });
      await goodRow.locator(".chip.ok").waitFor();
      await goodRow.click();
      await page.locator("#invocation-detail .report", { hasText: "REPORT RequestId:" }).waitFor();
      await page.locator("#invocation-detail .log", { hasText: "batch done" }).waitFor();

      await page.fill("#entity-name", "CONSOLE_ENTITY");
      await page.click("#entity-form button");
      await page.locator("#entity-result .observations", { hasText: GOOD_KEY }).waitFor();
      expect(await page.textContent("#entity-result .state")).toContain("observationCount1");

      await publishFromPage(page, BAD_KEY);
      const letter = page.locator("#dead-letters tbody tr", { hasText: BAD_KEY });
      await letter.locator(".reason-code", { hasText: "LOWERCASE_LETTER" }).waitFor();
      await page.locator("#invocations .chip.dead-lettered", { hasText: "DLQ: LOWERCASE_LETTER" }).waitFor();
      const screenshot = process.env.CONSOLE_SCREENSHOT;
      if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });

      await letter.locator("button.redrive").click();
      await page.locator("#dlq-status", { hasText: "redrove 1 message(s)" }).waitFor();
      // Redriven, the bad key is delivered again (a second invocation) and set aside again.
      await page.locator("#invocations tbody tr", { hasText: BAD_KEY }).nth(1).waitFor();
      await page.close();
    },
  );

  it("keeps working with 10 tabs open (one live stream per browser), answers 404 for a redrive of an unknown id", async () => {
    // One context: its tabs share the browser's six connections per host, as a person's tabs do.
    const context = await browser.newContext();
    const pages: Page[] = [];
    for (let tab = 0; tab < 10; tab += 1) {
      const page = await context.newPage();
      page.setDefaultTimeout(WAIT_MS);
      await page.goto(consoleUrl);
      await page.locator("#connection[data-state=live]").waitFor();
      pages.push(page);
    }
    const last = pages[9]!;
    // A full key looks up its entity's name.
    await last.fill("#entity-name", GOOD_KEY);
    await last.click("#entity-form button");
    await last.locator("#entity-result .observations", { hasText: GOOD_KEY }).waitFor();
    const token = await last.getAttribute('meta[name="console-token"]', "content");
    const redrive = await last.evaluate(async (token) => {
      const response = await fetch("/api/redrive", {
        method: "POST",
        headers: { "content-type": "application/json", "x-console-token": token },
        body: JSON.stringify({ messageIds: ["no-such-message"] }),
      });
      return { status: response.status, body: (await response.json()) as { error: string } };
    }, token!);
    expect(redrive).toEqual({
      status: 404,
      body: { error: expect.stringContaining("no-such-message") as unknown },
    });
    await context.close();
  });

  it("refuses another site's Host and Origin, and POSTs without the session token", async () => {
    const port = Number(new URL(consoleUrl).port);
    expect(await status(port, "GET", "/", { host: "attacker.example:80" })).toBe(403);
    expect(await status(port, "GET", "/api/events", { origin: "http://attacker.example" })).toBe(403);
    const json = { "content-type": "application/json" };
    expect(await status(port, "POST", "/api/sample", json)).toBe(403);
    expect(await status(port, "POST", "/api/sample", { ...json, "x-console-token": "guess" })).toBe(403);
    expect(await status(port, "GET", "/api/outbox", {})).toBe(200);
    expect(await status(port, "GET", "/api/publish", {})).toBe(405);
    expect(await status(port, "HEAD", "/", {})).toBe(200);
  });
});

function status(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const sent = request({ host: "127.0.0.1", port, method, path, headers }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    sent.on("error", reject);
    sent.end(method === "POST" ? "{}" : undefined);
  });
}

function systemChromium(): string {
  try {
    return execFileSync("which", ["chromium"]).toString().trim();
  } catch {
    throw new Error(
      "no chromium on PATH: `.ci/run` installs Debian's (apt-get install chromium); or set CHROMIUM_PATH",
    );
  }
}
