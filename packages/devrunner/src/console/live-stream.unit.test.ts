import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { EventsClient, STALLED_MS, type EventsResponse } from "./live-stream.ts";

/** A response whose buffer fills after `room` writes, until `drain()`. */
function slowResponse(room: number) {
  const emitter = new EventEmitter();
  const written: string[] = [];
  let ended = false;
  const response = {
    write: (text: string) => {
      written.push(text);
      return written.length < room;
    },
    end: () => {
      ended = true;
    },
    once: (event: string, listener: () => void) => emitter.once(event, listener),
  } as unknown as EventsResponse;
  return { response, written, ended: () => ended, drain: () => emitter.emit("drain") };
}

describe("a browser that stops reading the live stream", () => {
  it("gets no queue of snapshots: only the latest, once it reads again", () => {
    const slow = slowResponse(1);
    const client = new EventsClient(slow.response);
    for (let n = 1; n <= 1000; n += 1) client.send(`snapshot ${n}`, 0);
    expect(slow.written).toEqual(["snapshot 1"]);
    slow.drain();
    expect(slow.written).toEqual(["snapshot 1", "snapshot 1000"]);
  });

  it("is dropped when it stalls too long", () => {
    const slow = slowResponse(1);
    const client = new EventsClient(slow.response);
    client.send("a", 0);
    expect(client.send("b", STALLED_MS)).toBe(true);
    expect(client.send("c", STALLED_MS + 1)).toBe(false);
    expect(slow.ended()).toBe(true);
  });
});
