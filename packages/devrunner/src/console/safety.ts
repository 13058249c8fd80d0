// The console's guards. It binds 127.0.0.1 only, but a page on any site can still make the browser
// send it requests: DNS rebinding (a site's name re-pointed at 127.0.0.1: the Host header gives it
// away) and cross-site posts (the Origin header, and a token the other site cannot read). Reads are
// checked too: the page shows the flow's messages and the database's rows.
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

const LOCAL_NAMES = ["127.0.0.1", "localhost", "[::1]"];
export const TOKEN_HEADER = "x-console-token";

/** A per-session secret the page gets in its HTML and sends back with every state-changing POST. */
export function sessionToken(): string {
  return randomBytes(32).toString("base64url");
}

/** Why a request is refused, or undefined when it comes from the console's own page (or a local tool). */
export function refusal(request: IncomingMessage, port: number): string | undefined {
  const host = request.headers.host ?? "";
  if (!LOCAL_NAMES.some((name) => host === `${name}:${port}`))
    return `Host '${host.slice(0, 100)}' is not this console's (http://127.0.0.1:${port})`;
  const origin = request.headers.origin;
  if (origin !== undefined && !LOCAL_NAMES.some((name) => origin === `http://${name}:${port}`))
    return `Origin '${origin.slice(0, 100)}' is not this console's`;
  const site = request.headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin" && site !== "none")
    return `a request from another site (Sec-Fetch-Site: ${site})`;
  return undefined;
}

/** Why a state-changing request is refused: not a JSON POST carrying the session's token. */
export function postRefusal(request: IncomingMessage, token: string): string | undefined {
  if (!(request.headers["content-type"] ?? "").startsWith("application/json"))
    return "state-changing requests are JSON POSTs";
  const given = request.headers[TOKEN_HEADER];
  if (typeof given !== "string" || !sameSecret(given, token))
    return "missing or wrong session token (reload the console's page)";
  return undefined;
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Headers every answer carries: no framing (clickjacking), no sniffing, no caching, only own scripts. */
export const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
  "cross-origin-resource-policy": "same-origin",
} as const;
