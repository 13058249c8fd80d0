import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseCommand } from "./flags.ts";
import { userPath } from "./paths.ts";
import {
  DOCKER_ONLY_FLAGS,
  TEMPLATE_PLACEHOLDER,
  discoverTemplate,
  dockerOnlyNote,
  samConfigArgumentsOf,
} from "./sam-options.ts";
import { EVENT_SPEC } from "../commands/event.ts";
import { INVOKE_SPEC } from "../commands/invoke.ts";
import { UP_SPEC } from "../commands/up.ts";
import { withProfile } from "./function-target.ts";

const SAMCONFIG = `
version = 0.1

[default.global.parameters]
stack_name = "entity-function-dev"
region = "eu-west-1"

[default.local_invoke.parameters]
env_vars = "env.json"
parameter_overrides = ["Env=dev", "LogLevel=DEBUG"]
skip_pull_image = true
warm_containers = "EAGER"

[default.deploy.parameters]
capabilities = "CAPABILITY_IAM"

[ci.local_invoke.parameters]
template_file = "other.yaml"
no_event = true
`;

describe("template discovery, as SAM does it", () => {
  const none = (): boolean => false;
  it("--template wins; else SAM_TEMPLATE_FILE; else template.yaml, .yml, .json in the user's folder", () => {
    expect(discoverTemplate("t.yaml", { SAM_TEMPLATE_FILE: "env.yaml" }, none)).toEqual({
      path: userPath("t.yaml"),
      label: "t.yaml",
    });
    expect(discoverTemplate(TEMPLATE_PLACEHOLDER, { SAM_TEMPLATE_FILE: "env.yaml" }, none).label).toBe(
      "env.yaml",
    );
    const onlyYml = (path: string): boolean => path === userPath("template.yml");
    expect(discoverTemplate(TEMPLATE_PLACEHOLDER, {}, onlyYml).label).toBe("template.yml");
    const both = (path: string): boolean => /template\.ya?ml$/.test(path);
    expect(discoverTemplate(TEMPLATE_PLACEHOLDER, {}, both).label).toBe("template.yaml");
  });

  it("none found: says where it looked and how to give one", () => {
    expect(() => discoverTemplate(TEMPLATE_PLACEHOLDER, {}, none)).toThrow(
      /no template\.yaml, template\.yml or template\.json in .*: give one with --template \(or SAM_TEMPLATE_FILE\)/,
    );
  });
});

describe("samconfig.toml, SAM's format", () => {
  const flags = INVOKE_SPEC.flags;
  it("[env.global.parameters] then [env.local_invoke.parameters], only this command's flags", () => {
    const args = samConfigArgumentsOf(
      SAMCONFIG,
      "samconfig.toml",
      { configEnv: undefined, command: "local_invoke" },
      flags,
    );
    // stack_name (deploy's), warm_containers (start-lambda's) and the deploy section are not invoke's.
    expect(args).toEqual([
      "--region",
      "eu-west-1",
      "--env-vars",
      "env.json",
      "--parameter-overrides",
      "Env=dev LogLevel=DEBUG",
      "--skip-pull-image",
    ]);
    // The user's own arguments come after, and win.
    const { values } = parseCommand(INVOKE_SPEC, [...args, "--region", "us-west-2"]);
    expect(values.region).toBe("us-west-2");
    expect(values["env-vars"]).toBe("env.json");
  });

  it("the global region reaches up and event too: one region in every command", () => {
    const choice = (command: string) => ({ configEnv: undefined, command });
    expect(
      samConfigArgumentsOf(SAMCONFIG, "samconfig.toml", choice("local_generate_event"), EVENT_SPEC.flags),
    ).toEqual(["--region", "eu-west-1"]);
    expect(
      samConfigArgumentsOf(SAMCONFIG, "samconfig.toml", choice("local_start_lambda"), UP_SPEC.flags),
    ).toEqual(["--region", "eu-west-1"]);
  });

  it("--config-env picks the environment; template_file is --template", () => {
    expect(
      samConfigArgumentsOf(SAMCONFIG, "samconfig.toml", { configEnv: "ci", command: "local_invoke" }, flags),
    ).toEqual(["--template", "other.yaml", "--no-event"]);
  });

  it("says what is wrong: an environment that is not there, a file that is not TOML", () => {
    expect(() =>
      samConfigArgumentsOf(
        SAMCONFIG,
        "samconfig.toml",
        { configEnv: "prod", command: "local_invoke" },
        flags,
      ),
    ).toThrow("SAM config file 'samconfig.toml' has no environment 'prod' (--config-env)");
    expect(() =>
      samConfigArgumentsOf(
        "[default\nx = 1",
        "cfg.toml",
        { configEnv: undefined, command: "local_invoke" },
        flags,
      ),
    ).toThrow(/SAM config file 'cfg\.toml' is not valid TOML \(line 1, column \d+\): illegal character/);
    expect(
      samConfigArgumentsOf(
        "version = 0.1\n",
        "cfg.toml",
        { configEnv: undefined, command: "local_invoke" },
        flags,
      ),
    ).toEqual([]);
  });
});

describe("SAM's Docker-only flags", () => {
  it("are accepted by invoke (no exit 2), with one line naming them", () => {
    const { values } = parseCommand(INVOKE_SPEC, [
      "--skip-pull-image",
      "--docker-network",
      "lambda-net",
      "--container-host",
      "host.docker.internal",
      "--container-host-interface",
      "0.0.0.0",
      "--invoke-image",
      "public.ecr.aws/lambda/nodejs:24",
      "-v",
      join("some", "dir"),
      "--add-host",
      "db:10.0.0.1",
      "--mount-symlinks",
    ]);
    expect(dockerOnlyNote(values)).toBe(
      "note: --skip-pull-image, --docker-network, --container-host, --container-host-interface, --invoke-image, --docker-volume-basedir, --add-host, --mount-symlinks: SAM's Docker options, no effect here (the function runs in a Node process on this machine)",
    );
    expect(dockerOnlyNote(parseCommand(INVOKE_SPEC, []).values)).toBeUndefined();
    for (const name of DOCKER_ONLY_FLAGS) expect(INVOKE_SPEC.flags).toContain(name);
  });

  it("--no-event, -l/--log-file, --region, --profile, --config-env, --config-file parse as SAM's", () => {
    const { values } = parseCommand(INVOKE_SPEC, [
      "--no-event",
      "-l",
      "out.log",
      "--region",
      "eu-central-1",
      "--profile",
      "dev",
      "--config-env",
      "ci",
      "--config-file",
      "sam.toml",
    ]);
    expect(values).toMatchObject({
      "no-event": true,
      "log-file": "out.log",
      region: "eu-central-1",
      profile: "dev",
      "config-env": "ci",
      "config-file": "sam.toml",
    });
  });
});

describe("--profile", () => {
  it("the function's SDK reads that profile: keys in the environment, which would win, are left out", () => {
    const env = { AWS_ACCESS_KEY_ID: "AKIA", AWS_SECRET_ACCESS_KEY: "s", AWS_SESSION_TOKEN: "t", HOME: "/h" };
    expect(withProfile(env, "dev")).toEqual({ AWS_PROFILE: "dev", HOME: "/h" });
    expect(withProfile(env, undefined)).toBe(env);
  });
});
