// What makes a `sam local invoke` command line work here unchanged: SAM's template discovery, its config
// file (samconfig.toml) and its Docker-only flags (accepted, with a note).
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parse as parseToml, TomlError } from "smol-toml";
import { readTextFile } from "./args.ts";
import { UsageError } from "./errors.ts";
import { parseCommand, type CommandSpec, type FlagName } from "./flags.ts";
import { displayPath, userPath } from "./paths.ts";

/** The --template default when none is given: SAM's own placeholder for "find it as SAM does". */
export const TEMPLATE_PLACEHOLDER = "template.[yaml|yml|json]";
const TEMPLATE_NAMES = ["template.yaml", "template.yml", "template.json"];

/**
 * The template, as SAM finds it: --template, else SAM_TEMPLATE_FILE, else template.yaml, .yml or .json in
 * the user's folder (SAM's `sam local invoke` would prefer a built .aws-sam/build/template.yaml; the
 * devrunner builds from the source template itself). `label` is the path as the user gave it.
 */
export function discoverTemplate(
  flag: string,
  env: Readonly<Record<string, string | undefined>>,
  exists: (path: string) => boolean = existsSync,
  /** The folder relative paths start from: the user's (a running session passes its client's). */
  base?: string,
): { path: string; label: string } {
  const at = (path: string): string => (base === undefined ? userPath(path) : resolve(base, path));
  const given = flag !== TEMPLATE_PLACEHOLDER ? flag : env.SAM_TEMPLATE_FILE?.trim() || undefined;
  if (given) return { path: at(given), label: given };
  const found = TEMPLATE_NAMES.find((name) => exists(at(name)));
  if (!found)
    throw new UsageError(
      `no template.yaml, template.yml or template.json in ${at(".")}: give one with --template (or SAM_TEMPLATE_FILE)`,
    );
  return { path: at(found), label: found };
}

/** The flags that configure SAM's Docker containers: there is no container here, so they change nothing. */
export const DOCKER_ONLY_FLAGS = [
  "skip-pull-image",
  "docker-network",
  "container-host",
  "container-host-interface",
  "invoke-image",
  "docker-volume-basedir",
  "add-host",
  "mount-symlinks",
  "force-image-build",
  "shutdown",
  "layer-cache-basedir",
  "container-env-vars",
  "no-memory-limit",
] as const satisfies readonly FlagName[];

/** One line naming the Docker-only flags given (from the command line or samconfig.toml), or nothing. */
export function dockerOnlyNote(
  values: Readonly<Partial<Record<(typeof DOCKER_ONLY_FLAGS)[number], string | boolean | undefined>>>,
): string | undefined {
  const given = DOCKER_ONLY_FLAGS.filter((name) => values[name] !== undefined && values[name] !== false);
  if (given.length === 0) return undefined;
  return `note: ${given.map((name) => `--${name}`).join(", ")}: SAM's Docker option${given.length > 1 ? "s" : ""}, no effect here (the function runs in a Node process on this machine)`;
}

/** SAM's config file: which one, and the command's section in it (`[env.<command>.parameters]`). */
export interface SamConfigChoice {
  readonly configFile: string | undefined;
  readonly configEnv: string | undefined;
  /** Where the template is: a samconfig.toml next to it is read by default, as SAM does. */
  readonly templatePath: string;
  /** SAM's name for the command in the file, e.g. `local_invoke`. */
  readonly command: string;
}

/**
 * The flags samconfig.toml sets for this command, as command-line arguments: `[env.global.parameters]`
 * then `[env.<command>.parameters]` (SAM's order), only the keys that are flags of this command (others,
 * like stack_name, belong to other SAM commands). Put before the user's own arguments, which win.
 */
export function samConfigArguments(choice: SamConfigChoice, flags: readonly FlagName[]): string[] {
  const explicitFile = choice.configFile !== undefined;
  const path = explicitFile
    ? userPath(choice.configFile)
    : join(dirname(choice.templatePath), "samconfig.toml");
  if (!explicitFile && !existsSync(path)) return [];
  return samConfigArgumentsOf(readTextFile(path, "SAM config file"), displayPath(path), choice, flags);
}

/** `samConfigArguments` on the file's text (`label` names it in messages). */
export function samConfigArgumentsOf(
  text: string,
  label: string,
  choice: Pick<SamConfigChoice, "configEnv" | "command">,
  flags: readonly FlagName[],
): string[] {
  let document: Record<string, unknown>;
  try {
    document = parseToml(text);
  } catch (error) {
    if (error instanceof TomlError)
      throw new UsageError(
        `SAM config file '${label}' is not valid TOML (line ${error.line}, column ${error.column}): ${error.message.split("\n")[0]?.replace(/^Invalid TOML document: /, "")}`,
      );
    throw error;
  }
  const envName = choice.configEnv ?? "default";
  const environment = document[envName] as
    Record<string, { parameters?: Record<string, unknown> }> | undefined;
  if (environment === undefined) {
    if (choice.configEnv !== undefined)
      throw new UsageError(`SAM config file '${label}' has no environment '${envName}' (--config-env)`);
    return [];
  }
  const args: string[] = [];
  for (const section of ["global", choice.command]) {
    for (const [key, value] of Object.entries(environment[section]?.parameters ?? {}))
      args.push(...configArgument(key, value, flags, `${label} [${envName}.${section}.parameters]`));
  }
  return args;
}

function configArgument(key: string, value: unknown, flags: readonly FlagName[], where: string): string[] {
  const name = key === "template_file" ? "template" : key.replaceAll("_", "-");
  if (!(flags as readonly string[]).includes(name)) return [];
  if (typeof value === "boolean") return value ? [`--${name}`] : [];
  // parameter_overrides may be a list of "K=V" strings, as `sam deploy --save-params` writes it.
  if (Array.isArray(value)) return [`--${name}`, value.map(String).join(" ")];
  if (typeof value === "string" || typeof value === "number") return [`--${name}`, String(value)];
  throw new UsageError(`${where}: ${key} must be a string, a number, a boolean or a list`);
}

/**
 * argv with samconfig.toml's flags for this command first (the user's own follow and win), as SAM
 * applies its config file. Bad usage in argv itself is reported as usual.
 */
export function withSamConfig<F extends FlagName>(
  spec: CommandSpec<F>,
  samCommand: string,
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): readonly string[] {
  const { values } = parseCommand(spec, argv);
  const given = values as Partial<Record<FlagName, string | boolean | undefined>>;
  if (given.help) return argv;
  const configFile = given["config-file"] as string | undefined;
  let templatePath: string;
  try {
    templatePath = discoverTemplate(String(given.template ?? TEMPLATE_PLACEHOLDER), env).path;
  } catch {
    // No template to look beside: without --config-file there is no config either (the missing template
    // is reported when the command resolves it).
    if (configFile === undefined) return argv;
    templatePath = userPath(TEMPLATE_NAMES[0]!);
  }
  const configArgs = samConfigArguments(
    { configFile, configEnv: given["config-env"] as string | undefined, templatePath, command: samCommand },
    spec.flags,
  );
  return [...configArgs, ...argv];
}
