import { networkInterfaces } from "node:os";
import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { startSqsEmulator } from "./emulator.ts";

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

describe("the SQS emulator", () => {
  it("listens on 127.0.0.1 only, not on the machine's other addresses", async () => {
    const emulator = await startSqsEmulator();
    try {
      expect(emulator.server.address).toBe(`http://127.0.0.1:${emulator.server.port}`);
      expect(await reachable("127.0.0.1", emulator.server.port)).toBe(true);
      const external = Object.values(networkInterfaces())
        .flat()
        .find((address) => address && address.family === "IPv4" && !address.internal);
      if (external) expect(await reachable(external.address, emulator.server.port)).toBe(false);
    } finally {
      await emulator.server.stop();
    }
  });
});
