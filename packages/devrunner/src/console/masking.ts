// The console shows no password, secret or token, ever: everything it sends (the live stream and every
// /api answer) goes through `mask` on its way out. Masking too much is the safe side.

export const MASK = "[hidden]";
/** Deeper than this, a value is hidden whole rather than walked (nothing deep gets out unmasked). */
const MAX_DEPTH = 16;

/** Field names that hold secrets: passwords (pwd, pw), secrets, tokens, keys, sessions, credentials. */
const SECRET_NAME =
  /pass(word|wd|phrase)?|pwd|(^|[_\-.])pw$|[a-z]Pw$|secret|token|authori[sz]ation|api[-_]?key|private[-_]?key|session[-_]?id|credential|cookie|signature/i;
/** The same words where a `name=value` or `name: value` in text names a secret (DB_PASSWORD, client_secret). */
const SECRET_WORD =
  "[\\w.-]*(?:pass(?:word|wd|phrase)?|pwd|secret|token|authori[sz]ation|api[-_]?key|private[-_]?key|session[-_]?id|credential|cookie)[\\w.-]*";
const NAMED_SECRET = new RegExp(
  // name, optionally quoted (JSON, JS), then = or :, then a quoted value or one word
  `(["']?\\b${SECRET_WORD}["']?\\s*[:=]\\s*)("(?:[^"\\\\]|\\\\.)*"|'(?:[^'\\\\]|\\\\.)*'|[^\\s&;,'"}\\]]+)`,
  "gi",
);
/** `scheme://user:password@host`: the password may hold any character but @ and spaces (even /). */
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#\s@]*:)[^@\s]+@/gi;
/** An Authorization header's credentials. */
const AUTH_SCHEME = /\b(bearer|basic|digest)\s+[\w.~+/=-]+/gi;

/** A copy of any value (text, object, list) with everything that looks like a secret masked. */
export function mask(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return maskText(value);
  if (value instanceof Date) return value.toISOString();
  if (value === null || typeof value !== "object") return value;
  if (depth >= MAX_DEPTH) return `${MASK} (nested too deep to show)`;
  if (Array.isArray(value)) return value.map((item) => mask(item, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([name, field]) => [
      name,
      SECRET_NAME.test(name) && field !== null && field !== "" && field !== undefined
        ? MASK
        : mask(field, depth + 1),
    ]),
  );
}

function maskText(text: string): string {
  return text
    .replace(URL_PASSWORD, `$1${MASK}@`)
    .replace(AUTH_SCHEME, `$1 ${MASK}`)
    .replace(NAMED_SECRET, (_whole, name: string, secret: string) =>
      secret.startsWith("[hidden") ? `${name}${secret}` : `${name}${quoted(secret)}`,
    );
}

/** The mask in the value's own quotes, so JSON in text stays JSON. */
function quoted(secret: string): string {
  const quote = secret[0] === '"' || secret[0] === "'" ? secret[0] : "";
  return `${quote}${MASK}${quote}`;
}
