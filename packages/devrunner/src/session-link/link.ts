// The client side lives in bin/session-link.mjs (plain JavaScript, for the launcher); one source for
// the socket's path and the messages.
export {
  LINKED_COMMANDS,
  handOffToSession,
  linkSocketPath,
  type LinkReply,
  type LinkRequest,
} from "../../bin/session-link.mjs";
