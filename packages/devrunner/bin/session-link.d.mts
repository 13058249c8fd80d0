/** What a client sends: the command line as typed, where, and with which environment. */
export interface LinkRequest {
  readonly command: string;
  readonly argv: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** What the session answers, one JSON document a line: output, then the exit code; or a refusal. */
export type LinkReply =
  | { readonly stream: "out" | "err"; readonly text: string }
  | { readonly exit: number }
  | { readonly declined: string };

/** The commands a session may take over. */
export declare const LINKED_COMMANDS: readonly string[];

export declare function linkSocketPath(
  env: Readonly<Record<string, string | undefined>>,
  repositoryRoot: string,
): string;

export declare function handOffToSession(
  request: LinkRequest,
  socketPath: string,
): Promise<number | undefined>;
