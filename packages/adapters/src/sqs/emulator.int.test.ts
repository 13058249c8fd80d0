import { networkInterfaces } from "node:os";
import { request } from "node:http";
import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { ListQueuesCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { emulatorSqsClient, queuedBodies, startSqsEmulator } from "./emulator.ts";

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

  it("refuses what a web page sends it (a cross-site form POST, a rebound Host) and serves the SDK", async () => {
    const emulator = await startSqsEmulator();
    const client = emulatorSqsClient(emulator.endpoint);
    try {
      emulator.server.createQueue("guarded");
      const { topicArn } = emulator.server.createTopic("guarded-topic");
      emulator.server.subscribe({ topic: "guarded-topic", queue: "guarded" });
      // What a page's <form method=post> can send without a preflight: SNS's query protocol.
      const form = new URLSearchParams({ Action: "Publish", TopicArn: topicArn, Message: "FROM_A_PAGE" });
      const post = (headers: Record<string, string>): Promise<{ status: number; body: string }> =>
        formPost(emulator.server.port, form.toString(), headers);
      const fromPage = await post({ origin: "http://evil.example" });
      expect(fromPage.status).toBe(403);
      expect(fromPage.body).toMatch(/web page 'http:\/\/evil.example'/);
      const rebound = await post({ host: `evil.example:${emulator.server.port}` });
      expect(rebound.status).toBe(403);
      expect(rebound.body).toMatch(/Host 'evil.example:\d+' is not this machine/);
      expect(queuedBodies(emulator.server, "guarded")).toEqual([]);
      // Local tools: no Origin and a local Host, or a local page (the devrunner's console).
      expect((await post({})).status).toBe(200);
      expect((await post({ origin: "http://127.0.0.1:9740" })).status).toBe(200);
      expect((await client.send(new ListQueuesCommand({}))).QueueUrls).toHaveLength(1);
      expect(queuedBodies(emulator.server, "guarded")).toHaveLength(2);
    } finally {
      client.destroy();
      await emulator.server.stop();
    }
  });

  it("takes every character SQS takes, those beyond the BMP (an emoji) included", async () => {
    const emulator = await startSqsEmulator();
    const client = emulatorSqsClient(emulator.endpoint);
    try {
      const { queueUrl } = emulator.server.createQueue("wide");
      const body = "UNI_日本_💥_20220608T043249";
      await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
      expect(queuedBodies(emulator.server, "wide")).toEqual([body]);
      await expect(
        client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "BAD_\u0001" })),
      ).rejects.toThrow(/Invalid characters/);
    } finally {
      client.destroy();
      await emulator.server.stop();
    }
  });
});

/** A form POST with exactly these headers (fetch would set Host itself). */
function formPost(
  port: number,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const sent = request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/",
        headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
      },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (text += chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: text }));
      },
    );
    sent.once("error", reject);
    sent.end(body);
  });
}
