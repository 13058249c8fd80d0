/** Human lines go to stderr when --json owns stdout, so `--json` output is exactly one JSON document. */
export interface Output {
  readonly json: boolean;
  /** A result line (stdout), or nothing in --json mode. */
  readonly line: (text: string) => void;
  /** Context for people (the target, progress): stderr. */
  readonly note: (text: string) => void;
  /** The --json document (stdout). */
  readonly result: (value: unknown) => void;
}

export function createOutput(json: boolean): Output {
  return {
    json,
    line: (text) => {
      if (!json) process.stdout.write(`${text}\n`);
    },
    note: (text) => process.stderr.write(`${text}\n`),
    result: (value) => {
      if (json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    },
  };
}
