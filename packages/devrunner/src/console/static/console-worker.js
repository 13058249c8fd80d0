// One live stream per browser, however many console tabs are open: this shared worker owns the
// EventSource and hands each snapshot to every tab. (A stream per tab would hold one of the browser's
// six connections to the console each: the seventh tab, and every action, would hang.)
const ports = new Set();
let state = "connecting";
let latest;

function post(message) {
  for (const port of ports) port.postMessage(message);
}

const events = new EventSource("/api/events");
events.addEventListener("open", () => post({ state: (state = "live") }));
events.addEventListener("error", () => post({ state: (state = "reconnecting") }));
events.addEventListener("snapshot", (event) => post({ snapshot: (latest = event.data) }));

self.addEventListener("connect", (event) => {
  const port = event.ports[0];
  ports.add(port);
  port.addEventListener("message", (message) => {
    if (message.data === "bye") ports.delete(port);
  });
  port.start();
  port.postMessage({ state });
  if (latest !== undefined) port.postMessage({ snapshot: latest });
});
