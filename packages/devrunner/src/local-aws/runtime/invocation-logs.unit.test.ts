import { describe, expect, it } from "vitest";
import { InvocationLogSplitter, invocationMarker } from "./invocation-logs.ts";

function split(chunks: readonly string[]): { pieces: [string, string | undefined][]; ended: string[] } {
  const pieces: [string, string | undefined][] = [];
  const ended: string[] = [];
  const splitter = new InvocationLogSplitter(
    (text, requestId) => pieces.push([text.toString(), requestId]),
    (requestId) => ended.push(requestId),
  );
  for (const chunk of chunks) splitter.push(Buffer.from(chunk));
  splitter.flush();
  // Joined per request id, whatever the chunking.
  const joined: [string, string | undefined][] = [];
  for (const [text, id] of pieces) {
    const last = joined.at(-1);
    if (last && last[1] === id) last[0] += text;
    else joined.push([text, id]);
  }
  return { pieces: joined, ended };
}

describe("InvocationLogSplitter", () => {
  const stream = [
    "init line\n",
    invocationMarker("start", "req-1"),
    "first\n",
    invocationMarker("end", "req-1"),
    "timer\n",
    invocationMarker("start", "req-2"),
    "second\n",
    invocationMarker("end", "req-2"),
  ].join("");

  it("gives each piece of output the invocation that wrote it, markers taken out", () => {
    expect(split([stream])).toEqual({
      pieces: [
        ["init line\n", undefined],
        ["first\n", "req-1"],
        ["timer\n", undefined],
        ["second\n", "req-2"],
      ],
      ended: ["req-1", "req-2"],
    });
  });

  it("reads markers cut across chunks, at every cut", () => {
    for (let cut = 1; cut < stream.length; cut += 1) {
      expect(split([stream.slice(0, cut), stream.slice(cut)])).toEqual(split([stream]));
    }
  });

  it("passes on text that only begins like a marker", () => {
    const odd = "\x1fdevrunner:not a marker at all, just the function's own output\x1f\n";
    expect(split([odd, "more\n"]).pieces).toEqual([[`${odd}more\n`, undefined]]);
  });

  it("passes on a marker cut short by the end of the stream as text", () => {
    expect(split(["last\n\x1fdevrun"]).pieces).toEqual([["last\n\x1fdevrun", undefined]]);
  });
});
