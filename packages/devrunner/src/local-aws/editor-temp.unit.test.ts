import { describe, expect, it } from "vitest";
import { isEditorTemp } from "./hot-reload.ts";

describe("the hot reload's watcher ignores editors' scratch files", () => {
  it.each([
    "src/4913",
    "src/5036",
    "src/.index.ts.swp",
    "src/index.ts.swo",
    "src/index.ts~",
    "src/#index.ts#",
    "src/.#index.ts",
    "src/index.ts___jb_tmp___",
  ])("%s is an editor's scratch file", (path) => expect(isEditorTemp(path)).toBe(true));
  it.each(["src/index.ts", "src/v2/handler.ts", "package.json", "src/parse-4913.ts"])(
    "%s is a source",
    (path) => expect(isEditorTemp(path)).toBe(false),
  );
});
