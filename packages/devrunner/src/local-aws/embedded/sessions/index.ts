export {
  serveSessions,
  type SessionServer,
  type SessionServerEvent,
  type SessionServerOptions,
} from "./session-server.ts";
export type { SessionDatabase } from "./pglite-session.ts";
export { SessionServerError, type SessionServerErrorCode } from "./errors.ts";
