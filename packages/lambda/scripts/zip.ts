import { readFileSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { zipSync, type Zippable } from "fflate";

// A fixed timestamp keeps the artifact byte-for-byte reproducible (zip times start in 1980).
const FIXED_TIME = new Date("1980-01-01T00:00:00Z");

/**
 * Writes a deflate zip of `files` (stored under their base names, Unix mode 0644), as
 * `aws lambda update-function-code --zip-file` takes. fflate writes it; artifact.int.test.ts unzips it.
 */
export function writeZip(zipPath: string, files: readonly string[]): void {
  const entries: Zippable = {};
  for (const file of files) {
    entries[basename(file)] = [
      readFileSync(file),
      { level: 9, os: 3, attrs: 0o100644 << 16, mtime: FIXED_TIME },
    ];
  }
  writeFileSync(zipPath, zipSync(entries));
}
