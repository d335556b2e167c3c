// The chat page: each prompt is a stream with a new uid. Over the WebSocket channel it
// subscribes to <prefix><uid> recovering from offset 0 first, then submits the prompt with
// POST /v1/chat/completions {async: true, uid}; in direct SSE mode the POST's own body streams
// the answer. Recent conversations live in localStorage, so a reload resumes what was running.
import config from "./config.js";
import { ChannelClient } from "./channel-client.js";
import { tokenFromURL } from "./channel-token.js";
import { ChatView, TERMINAL, setPill } from "./chat-view.js";
import { sseEvents } from "./sse.js";

const STORE_KEY = "tokenbridge.chat.v1";
const MODE_KEY = "tokenbridge.chat.mode";
const MAX_TURNS = 30;
const MAX_STORED_TEXT = 200000;

const $ = (id) => document.getElementById(id);
const messages = $("messages");
const form = $("composer");
const promptInput = $("prompt");
const stopButton = $("stop");
const pills = { server: $("st-server"), ws: $("st-ws"), stream: $("st-stream") };

/** @type {Array<object>} the conversation, oldest first */
const turns = [];
const followers = new Map(); // uid -> {stop()} for whatever delivers a running turn's events
const view = new ChatView({
  messages, template: $("turn-template"), streamPill: pills.stream, stopButton, turns, onStop: (turn) => stop(turn),
});

// MARK: - Connection

function websocketURL() {
  const chosen = new URLSearchParams(location.search).get("ws") || config.websocketURL;
  if (chosen && /^wss?:\/\//i.test(chosen)) return chosen;
  return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/connection/websocket`;
}

const client = new ChannelClient(websocketURL(), {
  name: "tokenbridge-web", token: config.token, getToken: config.tokenURL ? tokenFromURL(config.tokenURL) : undefined,
});
const subscriptionToken = config.subscriptionTokenURL ? tokenFromURL(config.subscriptionTokenURL) : undefined;
client.on("state", ({ state, code, reason }) => {
  const label = { connected: "connected", connecting: "connecting…", disconnected: "disconnected" }[state];
  setPill(pills.ws, state === "connected" ? "ok" : state === "connecting" ? "busy" : "bad",
    `WebSocket: ${label}`, code ? `last: ${code} ${reason ?? ""}` : "");
  if (state !== "connected") checkServer();
  // The channel server sent us away for good (a terminal close code): running answers go on
  // over HTTP, from the bridge's journal, after the last event they have.
  if (state === "disconnected") {
    for (const turn of turns) {
      if (turn.mode !== "ws" || TERMINAL.has(turn.status) || !turn.sub) continue;
      turn.sub.unsubscribe();
      turn.sub = null;
      followJournal(turn);
    }
  }
});

// MARK: - Storage

function newUID() {
  // crypto.randomUUID exists only in secure contexts; a phone on http://<lan-ip> is not one.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const STORED_FIELDS = ["uid", "prompt", "askedAt", "mode", "status", "text", "reasoning", "toolCalls",
  "finishReason", "usage", "error", "endedAt", "ttftMs", "model"];

function persist() {
  const kept = turns.slice(-MAX_TURNS).map((turn) => {
    const copy = {};
    for (const field of STORED_FIELDS) if (turn[field] !== undefined) copy[field] = turn[field];
    // A running answer is streamed again from the start after a reload: its text is not kept.
    if (!TERMINAL.has(turn.status)) { copy.text = ""; copy.reasoning = ""; copy.toolCalls = []; }
    else if (copy.text?.length > MAX_STORED_TEXT) copy.text = copy.text.slice(0, MAX_STORED_TEXT);
    return copy;
  });
  try { localStorage.setItem(STORE_KEY, JSON.stringify(kept)); } catch { /* storage full or disabled */ }
}

function restore() {
  let stored = [];
  try { stored = JSON.parse(localStorage.getItem(STORE_KEY) ?? "[]"); } catch { stored = []; }
  if (!Array.isArray(stored)) stored = [];
  for (const saved of stored) {
    if (!saved || typeof saved.uid !== "string" || typeof saved.prompt !== "string") continue;
    const turn = newTurn(saved.prompt, saved.mode === "sse" ? "sse" : "ws", saved);
    turns.push(turn);
    view.mount(turn);
    if (TERMINAL.has(turn.status)) view.render(turn);
    else resume(turn);
  }
}

function newTurn(prompt, mode, saved = {}) {
  return {
    uid: newUID(), askedAt: Date.now(), status: "waiting", text: "", reasoning: "", toolCalls: [],
    ...saved, prompt, mode,
    // What the stream delivered (for the page's own checks and the tests): seqs applied in
    // order, pieces the protocol layer let through twice (should stay 0), gaps seen.
    epoch: "", lastSeq: 0, pieces: [], appDuplicates: 0, appGaps: 0, resumed: Boolean(saved.uid),
    submitted: Boolean(saved.uid),
  };
}

// MARK: - Sending

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const prompt = promptInput.value.trim();
  if (!prompt) return;
  promptInput.value = "";
  autosize();
  ask(prompt, currentMode());
});

promptInput.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    form.requestSubmit();
  }
});
promptInput.addEventListener("input", autosize);

function autosize() {
  promptInput.style.height = "auto";
  promptInput.style.height = `${Math.min(promptInput.scrollHeight, 200)}px`;
  promptInput.style.overflowY = promptInput.scrollHeight > 200 ? "auto" : "hidden";
}

stopButton.addEventListener("click", () => {
  for (const turn of turns) if (!TERMINAL.has(turn.status)) stop(turn);
});

$("clear").addEventListener("click", () => {
  for (const follower of followers.values()) follower.stop();
  followers.clear();
  turns.length = 0;
  view.clear();
  persist();
});

function currentMode() {
  return document.querySelector('input[name="mode"]:checked')?.value === "sse" ? "sse" : "ws";
}
for (const radio of document.querySelectorAll('input[name="mode"]')) {
  radio.addEventListener("change", () => { try { localStorage.setItem(MODE_KEY, currentMode()); } catch { /* */ } });
}

function history() {
  const earlier = turns.filter((turn) => turn.status === "done" && turn.text).slice(-config.historyTurns);
  return earlier.flatMap((turn) => [
    { role: "user", content: turn.prompt },
    { role: "assistant", content: turn.text },
  ]);
}

async function ask(prompt, mode) {
  const messagesSent = [...history(), { role: "user", content: prompt }];
  const turn = newTurn(prompt, mode);
  turns.push(turn);
  view.mount(turn);
  persist();
  view.render(turn);
  if (mode === "sse") { streamPost(turn, messagesSent); return; }
  // Subscribe first (recovering from offset 0, so even tokens published before the subscribe
  // went through arrive), then submit. If the WebSocket is down, submit anyway: the
  // subscription catches up from offset 0 when it connects.
  await follow(turn);
  turn.postedAt = performance.now();
  let response;
  try {
    response = await fetch("/v1/chat/completions", {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ async: true, uid: turn.uid, messages: messagesSent }),
    });
  } catch (error) {
    finish(turn, "error", { error: { message: `could not reach the server: ${error.message}` } });
    return;
  }
  if (response.status !== 202) {
    finish(turn, "error", { error: await errorOf(response) });
    return;
  }
  turn.submitted = true;
  if (turn.stopRequested) stop(turn, true);
}

async function errorOf(response) {
  try {
    const body = await response.json();
    return { code: body.error?.code ?? String(response.status), message: body.error?.message ?? response.statusText };
  } catch {
    return { code: String(response.status), message: response.statusText || `HTTP ${response.status}` };
  }
}

// MARK: - Receiving: the WebSocket channel

function follow(turn) {
  // The channel server sent this page away for good: the journal serves the stream over HTTP,
  // and waits for it (pipeline.attach_wait) when it has not started yet.
  if (client.state === "disconnected") { followJournal(turn); return Promise.resolve(); }
  const sub = client.newSubscription(`${config.channelPrefix}${turn.uid}`, {
    since: { offset: 0, epoch: "" },
    getToken: subscriptionToken,
    // The embedded server merges a slow client's text deltas into one publication covering
    // seq_from..seq_to, at offset seq_to. (On an external Centrifugo offsets are its own, and a
    // merged publication takes one offset: then it covers just that.)
    firstOffset: (pub) => (pub.data?.seq_from !== undefined && pub.offset === pub.data.seq_to ? pub.data.seq_from : pub.offset),
    // A rerun of the uid starts over at offset 1 with a new epoch.
    isReset: (data) => data?.type === "start" && data.epoch !== turn.epoch,
  });
  turn.sub = sub;
  let restarted = false;
  sub.on("publication", ({ data }) => applyEvent(turn, data));
  sub.on("unrecovered", () => {
    // The channel cannot replay from where this page was: start over from offset 0 once
    // (a rerun's new epoch); if that fails too (history gone), read the bridge's journal.
    if (!restarted) { restarted = true; resetAnswer(turn); sub.resubscribe({ offset: 0, epoch: "" }); return; }
    sub.unsubscribe();
    resetAnswer(turn);
    followJournal(turn);
  });
  sub.on("error", () => { resetAnswer(turn); followJournal(turn); });
  followers.set(turn.uid, { stop: () => sub.unsubscribe() });
  sub.subscribe();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 3000);
    const off = sub.on("subscribed", () => { clearTimeout(timer); off(); resolve(); });
  });
}

/** One stream event (the same schema on the channel and on GET /v1/streams/{uid}). */
function applyEvent(turn, event) {
  if (!event || typeof event !== "object" || TERMINAL.has(turn.status)) return;
  if (event.uid && event.uid !== turn.uid) return;
  const seq = Number(event.seq) || 0;
  const first = Number(event.seq_from ?? event.seq) || 0;
  if (event.type === "start") {
    if (turn.lastSeq > 0 && event.epoch !== turn.epoch) resetAnswer(turn); // a new run of the uid
    else if (turn.lastSeq > 0) { turn.appDuplicates += 1; return; }
    turn.epoch = event.epoch ?? "";
    turn.model = event.model ?? turn.model;
  } else if (seq > 0 && first <= turn.lastSeq) {
    turn.appDuplicates += 1;
    return;
  } else if (seq > 0 && first !== turn.lastSeq + 1) {
    turn.appGaps += 1;
  }
  if (seq > 0) {
    turn.lastSeq = seq;
    turn.pieces.push(first === seq ? seq : [first, seq]);
  }
  switch (event.type) {
    case "start": setStatus(turn, "waiting"); break;
    case "delta": firstToken(turn); turn.text += event.text ?? ""; setStatus(turn, "streaming"); break;
    case "reasoning": firstToken(turn); turn.reasoning += event.reasoning ?? ""; setStatus(turn, "streaming"); break;
    case "tool_call": addToolCall(turn, event.tool_call); setStatus(turn, "streaming"); break;
    case "done": finish(turn, "done", { finishReason: event.finish_reason, usage: event.usage }); return;
    case "error": finish(turn, "error", { error: event.error, finishReason: event.finish_reason, usage: event.usage }); return;
    case "cancelled": finish(turn, "stopped", { usage: event.usage }); return;
    default: break;
  }
  view.scheduleRender(turn);
}

function resetAnswer(turn) {
  Object.assign(turn, { text: "", reasoning: "", toolCalls: [], epoch: "", lastSeq: 0, pieces: [], status: "waiting" });
  view.scheduleRender(turn);
}

function addToolCall(turn, call) {
  if (!call) return;
  const index = call.index ?? 0;
  const entry = turn.toolCalls[index] ?? (turn.toolCalls[index] = { name: "", arguments: "" });
  if (call.name) entry.name = call.name;
  entry.arguments += call.arguments ?? "";
}

function firstToken(turn) {
  if (turn.ttftMs === undefined && turn.postedAt !== undefined) turn.ttftMs = Math.round(performance.now() - turn.postedAt);
}

// MARK: - Receiving: HTTP (direct SSE, and the journal for resuming)

/** Direct mode: the POST streams OpenAI chunks; `on_disconnect: continue` lets a reload resume. */
async function streamPost(turn, messagesSent) {
  const controller = new AbortController();
  followers.set(turn.uid, { stop: () => controller.abort() });
  turn.postedAt = performance.now();
  let response;
  try {
    response = await fetch("/v1/chat/completions", {
      method: "POST", headers: { "content-type": "application/json" }, signal: controller.signal,
      body: JSON.stringify({
        stream: true, uid: turn.uid, messages: messagesSent, on_disconnect: "continue",
        stream_options: { include_usage: true },
      }),
    });
  } catch (error) {
    if (!controller.signal.aborted) finish(turn, "error", { error: { message: `could not reach the server: ${error.message}` } });
    return;
  }
  if (!response.ok) { finish(turn, "error", { error: await errorOf(response) }); return; }
  turn.submitted = true;
  if (turn.stopRequested) stop(turn, true);
  const detail = {};
  try {
    for await (const message of sseEvents(response, controller.signal)) {
      if (message.data === "[DONE]") break;
      let chunk;
      try { chunk = JSON.parse(message.data); } catch { continue; }
      if (chunk.error) {
        if (chunk.error.code === "cancelled") finish(turn, "stopped", detail);
        else finish(turn, "error", { ...detail, error: chunk.error });
        return;
      }
      if (chunk.usage) detail.usage = chunk.usage;
      const choice = chunk.choices?.[0];
      if (!choice) continue;
      const delta = choice.delta ?? {};
      if (delta.content) { firstToken(turn); turn.text += delta.content; setStatus(turn, "streaming"); }
      if (delta.reasoning_content) { firstToken(turn); turn.reasoning += delta.reasoning_content; setStatus(turn, "streaming"); }
      for (const call of delta.tool_calls ?? []) {
        addToolCall(turn, { index: call.index, name: call.function?.name, arguments: call.function?.arguments });
      }
      if (choice.finish_reason) detail.finishReason = choice.finish_reason;
      view.scheduleRender(turn);
    }
  } catch (error) {
    if (controller.signal.aborted) return;
    // The connection broke mid-answer: the bridge kept going, so read the rest from its journal.
    resetAnswer(turn);
    followJournal(turn);
    return;
  }
  if (!TERMINAL.has(turn.status)) {
    if (detail.finishReason) finish(turn, "done", detail);
    else finish(turn, "error", { ...detail, error: { message: "the stream ended before the answer did" } });
  }
}

/** GET /v1/streams/{uid}: the stream's events from the bridge's journal, live while it runs. */
async function followJournal(turn) {
  const controller = new AbortController();
  followers.set(turn.uid, { stop: () => controller.abort() });
  let response;
  try {
    // The epoch makes the point count in the run it was read from: after a rerun of the uid the
    // bridge sends the new run from its start (and applyEvent starts the answer over).
    const run = turn.epoch ? `&epoch=${encodeURIComponent(turn.epoch)}` : "";
    response = await fetch(`/v1/streams/${encodeURIComponent(turn.uid)}?after=${turn.lastSeq}${run}`, { signal: controller.signal });
  } catch (error) {
    if (!controller.signal.aborted) finish(turn, "error", { error: { message: `could not reach the server: ${error.message}` } });
    return;
  }
  if (response.status === 404) { finish(turn, "expired", { error: { message: "this answer is no longer kept by the server" } }); return; }
  if (!response.ok) { finish(turn, "error", { error: await errorOf(response) }); return; }
  try {
    for await (const message of sseEvents(response, controller.signal)) {
      try { applyEvent(turn, JSON.parse(message.data)); } catch { /* not JSON: skip */ }
      if (TERMINAL.has(turn.status)) return;
    }
  } catch {
    if (controller.signal.aborted) return;
  }
  if (!TERMINAL.has(turn.status) && !controller.signal.aborted) setTimeout(() => followJournal(turn), 1000);
}

/** After a reload: the answer streams again from its first event, then goes on live. */
async function resume(turn) {
  resetAnswer(turn);
  if (turn.mode === "sse") { followJournal(turn); return; }
  await follow(turn);
  // An empty channel may be a stream the server no longer knows (restarted, retention over):
  // if nothing came, ask for its result; an unknown stream's answer is gone.
  setTimeout(async () => {
    if (turn.lastSeq > 0 || TERMINAL.has(turn.status)) return;
    try {
      const response = await fetch(`/v1/streams/${encodeURIComponent(turn.uid)}/result`, { cache: "no-store" });
      if (response.status === 404 && turn.lastSeq === 0) {
        finish(turn, "expired", { error: { message: "this answer is no longer kept by the server" } });
      }
    } catch { /* unreachable: the server pill says so; the subscription stays */ }
  }, 5000);
}

// MARK: - Stopping

async function stop(turn, afterSubmit = false) {
  if (TERMINAL.has(turn.status)) return;
  turn.stopRequested = true;
  setStatus(turn, "stopping");
  if (!afterSubmit && !turn.submitted) return; // the submit cancels once it was accepted
  if (turn.mode === "ws" && client.state === "connected") {
    try {
      await client.rpc("cancel", { uid: turn.uid });
      turn.cancelledVia = "rpc";
      return;
    } catch (error) {
      if (error.code === 404) return; // already ended: its terminal event says how
    }
  }
  try {
    const response = await fetch(`/v1/streams/${encodeURIComponent(turn.uid)}`, { method: "DELETE" });
    if (response.ok) turn.cancelledVia = "DELETE";
  } catch { /* the server is unreachable: the stream pill shows it */ }
}

function finish(turn, status, detail = {}) {
  if (TERMINAL.has(turn.status)) return;
  Object.assign(turn, {
    status, endedAt: Date.now(),
    finishReason: detail.finishReason ?? turn.finishReason, usage: detail.usage ?? turn.usage,
    error: detail.error ?? turn.error,
  });
  followers.get(turn.uid)?.stop();
  followers.delete(turn.uid);
  persist();
  view.render(turn);
}

function setStatus(turn, status) {
  if (turn.status === status || TERMINAL.has(turn.status)) return;
  if (turn.status === "stopping" && status !== "stopped") return;
  turn.status = status;
  view.scheduleRender(turn);
}

// MARK: - Server status

let checking = false;
async function checkServer() {
  if (checking) return;
  if (navigator.onLine === false) { setPill(pills.server, "bad", "server: browser offline"); return; }
  checking = true;
  try {
    const response = await fetch("/health", { cache: "no-store" });
    const body = await response.json().catch(() => ({}));
    if (response.ok) setPill(pills.server, "ok", "server: up");
    else setPill(pills.server, "warn", "server: degraded", JSON.stringify(body.checks ?? {}));
  } catch {
    setPill(pills.server, "bad", "server: unreachable");
  } finally {
    checking = false;
  }
}

// MARK: - Start

try {
  const savedMode = localStorage.getItem(MODE_KEY);
  if (savedMode === "sse" || savedMode === "ws") document.querySelector(`input[name="mode"][value="${savedMode}"]`).checked = true;
} catch { /* storage disabled */ }
client.connect();
restore();
view.updateControls();
checkServer();
setInterval(checkServer, 10000);
promptInput.focus();

// For the browser tests and for poking around in the console.
window.tokenbridge = { client, turns, config };
