// The devrunner console's page: one events stream in, a few JSON calls out. No framework and no build
// step: the page is small, and `devrunner up` serves these files as they are.
const token = document.querySelector('meta[name="console-token"]').content;
const $ = (selector, root = document) => root.querySelector(selector);
let snapshot = { ready: false };
let selected; // the request id of the invocation shown in detail
let shownDetail = ""; // what the detail showed of it (status, log lines): fetched again when that moves
let shownOutbox = "";

/** An element with attributes and children (text is always set as text, never as HTML). */
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "onclick") element.addEventListener("click", value);
    else if (value !== undefined && value !== false) element.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== undefined && child !== null) element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

async function call(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: method === "POST" ? { "content-type": "application/json", "x-console-token": token } : {},
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (!response.ok) throw new Error(answer.error ?? `HTTP ${response.status}`);
  return answer;
}

function say(where, text, failed = false) {
  const element = $(where);
  element.textContent = text;
  element.dataset.failed = String(failed);
}

// ---- the live stream ----
function onSnapshot(data) {
  snapshot = JSON.parse(data);
  render();
}

/** One stream for all the console's tabs (a shared worker owns it); a stream of its own without one. */
function connect() {
  if (typeof SharedWorker === "function") {
    const worker = new SharedWorker("/console-worker.js", { name: "devrunner-console" });
    worker.port.addEventListener("message", ({ data }) => {
      if (data.state) setConnection(data.state);
      if (data.snapshot) onSnapshot(data.snapshot);
    });
    worker.port.start();
    addEventListener("pagehide", () => worker.port.postMessage("bye"));
    return;
  }
  const events = new EventSource("/api/events");
  events.addEventListener("open", () => setConnection("live"));
  events.addEventListener("error", () => setConnection("reconnecting"));
  events.addEventListener("snapshot", (event) => onSnapshot(event.data));
}

function setConnection(state) {
  const element = $("#connection");
  element.dataset.state = state;
  element.textContent = state === "live" ? "live" : "reconnecting…";
}

function render() {
  if (!snapshot.ready) return;
  $("#function-name").textContent = snapshot.function.name;
  renderFlow();
  renderInvocations();
  renderDeadLetters();
  if (String(snapshot.otherLogLines) !== $("#other-count").textContent) {
    $("#other-count").textContent = String(snapshot.otherLogLines);
    if ($("#other-output").open) void showOtherOutput();
  }
  const summary = snapshot.invocations.find((invocation) => invocation.requestId === selected);
  const detail = summary ? `${selected} ${summary.status} ${summary.logLines}` : "";
  if (selected && detail !== shownDetail) void showInvocation(selected, false);
  const outbox = `${snapshot.database?.pending} ${snapshot.database?.parked}`;
  if (outbox !== shownOutbox) {
    shownOutbox = outbox;
    void refreshOutbox();
  }
}

function setCounts(node, counts) {
  for (const element of node.querySelectorAll("[data-count]")) {
    const value = counts?.[element.dataset.count];
    if (value !== undefined && value !== null) element.textContent = String(value);
  }
}

function renderFlow() {
  const s = snapshot;
  $("#node-topic .name").textContent = s.topic ?? "(none)";
  $("#node-queue .name").textContent = s.queue.name;
  setCounts($("#node-queue"), s.queue);
  $("#node-function .name").textContent = `${s.function.name} (BatchSize ${s.function.batchSize})`;
  setCounts($("#node-function"), s.function);
  $("#node-function .environments").replaceChildren(
    ...s.function.environments.map((state, index) =>
      h("span", { class: `environment ${state}`, title: `environment ${index}: ${state}` }, state),
    ),
  );
  const database = s.database ?? { entities: "–", pending: 0, parked: 0 };
  setCounts($("#node-database"), { ...database, entities: database.entities ?? "–" });
  $("#node-database .error").textContent = database.error ?? "";
  $("#node-outbound .name").textContent = s.outbound?.name ?? "(none)";
  setCounts($("#node-outbound"), s.outbound);
  $("#node-dlq .name").textContent = s.deadLetterQueue?.name ?? "(none)";
  setCounts($("#node-dlq"), {
    ...s.deadLetterQueue,
    visible: s.deadLetters.total,
    maxReceiveCount: s.maxReceiveCount,
  });
  $("#node-queue").dataset.busy = String(s.queue.visible + s.queue.inFlight > 0);
  $("#node-dlq").dataset.busy = String(s.deadLetters.total > 0);
}

const OUTCOME_TEXT = {
  running: "running",
  ok: "ok",
  retried: "failed: retried after the visibility timeout",
  "to-dlq": "failed: goes to the DLQ",
  "dead-lettered": "set aside in the DLQ",
};

function recordChip(record) {
  const text =
    record.outcome === "dead-lettered" && record.reasonCode ? `DLQ: ${record.reasonCode}` : record.outcome;
  return h(
    "span",
    { class: `chip ${record.outcome}`, title: `${record.summary}: ${OUTCOME_TEXT[record.outcome]}` },
    text,
  );
}

function renderInvocations() {
  const rows = snapshot.invocations.map((invocation) =>
    h(
      "tr",
      {
        class: invocation.requestId === selected ? "selected" : undefined,
        "data-request-id": invocation.requestId,
        onclick: () => void showInvocation(invocation.requestId, true),
      },
      h("td", {}, new Date(invocation.startedAt).toLocaleTimeString()),
      h("td", {}, invocation.environment),
      h("td", {}, invocation.records.length),
      h(
        "td",
        { class: "records" },
        invocation.records
          .slice(0, 3)
          .map((record) => h("div", {}, recordChip(record), " ", h("code", {}, record.summary))),
        invocation.records.length > 3 ? h("div", {}, `and ${invocation.records.length - 3} more`) : null,
      ),
      h("td", {}, invocation.report ? `${invocation.report.durationMs.toFixed(1)} ms` : "…"),
      h("td", { class: `status ${invocation.status}` }, invocation.status),
    ),
  );
  $("#invocations tbody").replaceChildren(...rows);
}

async function showInvocation(requestId, clicked) {
  if (clicked) selected = selected === requestId && !$("#invocation-detail").hidden ? undefined : requestId;
  const detail = $("#invocation-detail");
  if (!selected) return void (detail.hidden = true);
  const summary = snapshot.invocations.find((invocation) => invocation.requestId === selected);
  shownDetail = summary ? `${selected} ${summary.status} ${summary.logLines}` : "";
  let invocation;
  try {
    invocation = await call("GET", `/api/invocation?id=${encodeURIComponent(selected)}`);
  } catch (error) {
    detail.replaceChildren(h("p", { class: "error" }, error.message));
    return;
  }
  detail.hidden = false;
  detail.replaceChildren(
    h("h3", {}, `invocation ${invocation.requestId}`),
    h("pre", { class: "report" }, invocation.report?.line ?? "running…"),
    ...(invocation.error ? [h("p", { class: "error" }, invocation.error)] : []),
    h(
      "ul",
      { class: "record-list" },
      invocation.records.map((record) =>
        h(
          "li",
          {},
          recordChip(record),
          " ",
          h("code", {}, record.summary),
          ` receive ${record.receiveCount}: ${OUTCOME_TEXT[record.outcome]}`,
        ),
      ),
    ),
    h(
      "div",
      { class: "logs" },
      invocation.logs.length === 0 ? h("p", {}, "(no log lines)") : invocation.logs.map(logLine),
    ),
  );
  for (const row of document.querySelectorAll("#invocations tbody tr"))
    row.classList.toggle("selected", row.dataset.requestId === selected);
}

function logLine(line) {
  return h(
    "div",
    { class: `log ${line.stream} ${(line.level ?? "").toLowerCase()}` },
    line.time ? h("span", { class: "time" }, line.time.slice(11, 23)) : null,
    line.level ? h("span", { class: "level" }, line.level) : null,
    h("span", { class: "message" }, line.message),
    line.fields ? h("span", { class: "fields" }, JSON.stringify(line.fields)) : null,
  );
}

const UNKNOWN_RECEIVES =
  "set aside by the function itself: the letter is a new message, and the console did not see how often the original was received";

function renderDeadLetters() {
  const { total, shown } = snapshot.deadLetters;
  $("#dlq-count").textContent =
    total > shown.length ? `showing ${shown.length} of ${total}` : `${total} message(s)`;
  const rows = shown.map((letter) =>
    h(
      "tr",
      { "data-message-id": letter.messageId },
      h("td", { title: letter.body }, h("code", {}, letter.summary)),
      h(
        "td",
        {},
        letter.reasonCode
          ? h("span", { class: "reason-code" }, letter.reasonCode)
          : h("span", { class: "reason-code" }, "maxReceiveCount"),
        " ",
        letter.reason || `received ${letter.receiveCount} times without success`,
      ),
      letter.receiveCount === null
        ? h("td", { class: "receives", title: UNKNOWN_RECEIVES }, "—")
        : h("td", { class: "receives" }, letter.receiveCount),
      h(
        "td",
        {},
        h(
          "button",
          { type: "button", class: "redrive", onclick: () => void redrive([letter.messageId]) },
          "Redrive",
        ),
      ),
    ),
  );
  $("#dead-letters tbody").replaceChildren(
    ...(rows.length > 0 ? rows : [h("tr", {}, h("td", { colspan: "4", class: "empty" }, "empty"))]),
  );
  $("#redrive-all").disabled = rows.length === 0;
}

async function redrive(messageIds) {
  say("#dlq-status", "redriving…");
  try {
    const { redriven } = await call("POST", "/api/redrive", messageIds ? { messageIds } : {});
    say("#dlq-status", `redrove ${redriven.length} message(s) to the queue`);
  } catch (error) {
    say("#dlq-status", error.message, true);
  }
}

// ---- the forms ----
$("#publish-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const keys = $("#publish-keys").value;
  const via = $('input[name="via"]:checked').value;
  say("#send-status", "publishing…");
  try {
    const { messageIds } = await call("POST", "/api/publish", {
      keys,
      via,
      jsonBody: $("#publish-json").checked,
    });
    say(
      "#send-status",
      `published ${messageIds.length} message(s) ${via === "sns" ? "through the topic" : "to the queue"}`,
    );
  } catch (error) {
    say("#send-status", error.message, true);
  }
});

$("#sample").addEventListener("click", async () => {
  try {
    const { key } = await call("POST", "/api/sample", {});
    say("#send-status", `published the sample key ${key}`);
    $("#entity-name").value = key.slice(0, key.lastIndexOf("_"));
  } catch (error) {
    say("#send-status", error.message, true);
  }
});

async function showOtherOutput() {
  const { lines } = await call("GET", "/api/logs");
  $("#other-output .logs").replaceChildren(...lines.map(logLine));
}
$("#other-output").addEventListener("toggle", () => {
  if ($("#other-output").open) void showOtherOutput();
});

$("#redrive-all").addEventListener("click", () => void redrive(undefined));

$("#entity-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = $("#entity-name").value.trim();
  const result = $("#entity-result");
  try {
    const entity = await call("GET", `/api/entity?name=${encodeURIComponent(name)}`);
    result.replaceChildren(entityView(entity));
  } catch (error) {
    result.replaceChildren(h("p", { class: "error" }, error.message));
  }
});

function entityView({ state, recentObservations }) {
  return h(
    "div",
    { class: "entity" },
    h(
      "table",
      { class: "state" },
      Object.entries(state).map(([name, value]) =>
        h(
          "tr",
          {},
          h("th", {}, name),
          h("td", {}, typeof value === "object" ? JSON.stringify(value) : String(value)),
        ),
      ),
    ),
    h("h3", {}, `observations (newest first, ${recentObservations.length})`),
    h(
      "table",
      { class: "observations" },
      h(
        "tr",
        {},
        Object.keys(recentObservations[0] ?? {}).map((name) => h("th", {}, name)),
      ),
      recentObservations.map((observation) =>
        h(
          "tr",
          {},
          Object.values(observation).map((value) =>
            h("td", {}, typeof value === "object" ? JSON.stringify(value) : String(value)),
          ),
        ),
      ),
    ),
  );
}

async function refreshOutbox() {
  try {
    const { events } = await call("GET", "/api/outbox");
    $("#outbox tbody").replaceChildren(
      ...events.map((entry) =>
        h(
          "tr",
          { class: entry.state },
          h("td", {}, entry.state),
          h("td", {}, h("code", {}, entry.event.eventId)),
          h("td", {}, entry.event.entityName),
          h("td", {}, entry.attempts),
          h("td", {}, entry.lastError ?? ""),
        ),
      ),
    );
    if (events.length === 0)
      $("#outbox tbody").replaceChildren(
        h("tr", {}, h("td", { colspan: "5", class: "empty" }, "no pending or parked events")),
      );
  } catch (error) {
    $("#outbox tbody").replaceChildren(h("tr", {}, h("td", { colspan: "5", class: "error" }, error.message)));
  }
}
$("#outbox-refresh").addEventListener("click", () => void refreshOutbox());

connect();
