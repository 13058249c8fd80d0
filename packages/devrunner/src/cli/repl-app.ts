import { randomUUID } from "node:crypto";
import type { DevApp } from "../root.ts";

/** What `repl` puts in scope as `app`: the use cases, and shorthands for the common calls. */
export function replApp(devApp: DevApp) {
  return {
    service: devApp.service,
    /** Processes one key (or several) and relays their events, as the Lambda does. */
    async process(keys: string | readonly string[]) {
      const list = typeof keys === "string" ? [keys] : keys;
      const results = await devApp.service.processEntities(
        list.map((key) => ({ key, messageId: `repl-${randomUUID()}` })),
      );
      await devApp.service.deliverEvents(results);
      return typeof keys === "string" ? results[0] : results;
    },
    get: (name: string) => devApp.service.getEntity(name),
    published: () => devApp.publishedInMemory(),
  };
}
