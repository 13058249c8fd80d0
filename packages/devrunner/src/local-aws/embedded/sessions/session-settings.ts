import type { ClientConnection } from "./client-connection.ts";
import type { PgliteSession } from "./pglite-session.ts";

export type Handover =
  { readonly given: true } | { readonly given: false; readonly code: string; readonly message: string };

/**
 * Whose run-time settings the one session has, and putting a connection's in place when it gets the
 * session: every setting is reset and the connection's own are set, so nothing one connection set ever
 * reaches another. The previous owner's settings are read back first when it may have changed them (SET
 * and the like: Unit.touchesSettings), so it finds them again on its next turn; reading them back costs
 * more than all the rest (pg_settings), so it is skipped when nothing could have changed them.
 */
export class SessionSettings {
  private readonly session: PgliteSession;
  private owner: ClientConnection | undefined;

  constructor(session: PgliteSession) {
    this.session = session;
  }

  /** A unit of `connection` ran on the session. */
  ran(connection: ClientConnection, touchesSettings: boolean): void {
    if (touchesSettings && connection === this.owner) connection.settingsTouched = true;
  }

  /**
   * Puts `connection`'s settings on the session. Startup parameters the database refuses (on the
   * connection's first turn) are reported, not thrown: Postgres would have refused the connection.
   */
  async giveTo(connection: ClientConnection): Promise<Handover> {
    if (this.owner === connection) return { given: true };
    const previous = this.owner;
    if (previous?.settingsTouched && !previous.closed) previous.settings = await this.session.settings();
    if (previous) previous.settingsTouched = false;
    this.owner = undefined;
    try {
      await this.session.replaceSettings(connection.settings);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (connection.settingsAccepted || typeof code !== "string") throw error;
      await this.session.resetSettings();
      return { given: false, code, message: (error as Error).message };
    }
    connection.settingsAccepted = true;
    this.owner = connection;
    return { given: true };
  }
}
