import { describe, expect, it } from "vitest";
import type { LocalAwsError } from "./errors.ts";
import {
  findProductionName,
  namesProduction,
  productionPatternFrom,
  refuseProduction,
  type EnvironmentName,
} from "./production.ts";

const defaults = productionPatternFrom({ name: "entity-lambda" }, "package.json");

describe("production environment names", () => {
  it.each(["prod", "production", "prd", "PROD", "Production", " prod ", "prod-eu", "PRD-us-east-1"])(
    "the default counts %j as production",
    (name) => {
      expect(namesProduction(name, defaults)).toBe(true);
    },
  );

  it.each(["dev", "staging", "preprod", "nonprod", "product", "prodx", "test", ""])(
    "the default does not count %j",
    (name) => {
      expect(namesProduction(name, defaults)).toBe(false);
    },
  );

  it("takes the project's own pattern from package.json, case-insensitively", () => {
    const pattern = productionPatternFrom(
      { devrunner: { productionEnvironments: "^(live|prod)$" } },
      "/repo/package.json",
    );
    expect(pattern.origin).toBe("/repo/package.json: devrunner.productionEnvironments");
    expect(namesProduction("LIVE", pattern)).toBe(true);
    expect(namesProduction("prd", pattern)).toBe(false);
  });

  it.each([
    [{ devrunner: { productionEnvironments: "(" } }, /is not a valid regular expression/],
    [{ devrunner: { productionEnvironments: ["prod"] } }, /must be a regular expression in a string/],
    [{ devrunner: { productionEnvironments: " " } }, /must be a regular expression in a string/],
  ])("refuses a malformed setting %j as bad usage", (packageJson, message) => {
    expect(() => productionPatternFrom(packageJson, "package.json")).toThrow(
      expect.objectContaining({ code: "PRODUCTION_PATTERN_INVALID" }) as LocalAwsError,
    );
    expect(() => productionPatternFrom(packageJson, "package.json")).toThrow(message);
  });

  it("finds the first production name and says where it came from when refusing", () => {
    const names: EnvironmentName[] = [
      { variable: "ENV", value: "dev", origin: "the environment" },
      { variable: "ENV", value: "prod", origin: "env-vars file f.json (EntityFunction)" },
    ];
    expect(findProductionName(names, defaults)?.origin).toBe("env-vars file f.json (EntityFunction)");
    const refuse = (): void => refuseProduction(names, { allowed: false, pattern: defaults });
    expect(refuse).toThrow(expect.objectContaining({ code: "PRODUCTION_REFUSED" }) as LocalAwsError);
    expect(refuse).toThrow(
      /^ENV=prod from env-vars file f\.json \(EntityFunction\) is production \(.*, the default\): refusing to write\. Pass --allow-prod/,
    );
    expect(() => refuseProduction(names, { allowed: true, pattern: defaults })).not.toThrow();
    expect(() => refuseProduction(names.slice(0, 1), { allowed: false, pattern: defaults })).not.toThrow();
  });
});
