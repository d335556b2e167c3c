// The chat's DOM: one <article> per question and answer, cloned from the page's template and
// filled with textContent only, redrawn at most once per animation frame.
import { renderText } from "./render.js";

/** Statuses after which an answer changes no more. */
export const TERMINAL = new Set(["done", "stopped", "error", "expired"]);

const TONES = { done: "ok", streaming: "busy", waiting: "busy", stopping: "busy", stopped: "warn", error: "bad", expired: "bad" };

export function setPill(pill, tone, text, title = "") {
  pill.dataset.tone = tone;
  pill.textContent = text;
  pill.title = title;
}

function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

function words(text) { return text.trim() ? text.trim().split(/\s+/).length : 0; }

function isNearBottom() {
  return window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 80;
}

function scrollDown(force = false) {
  if (force || isNearBottom()) window.scrollTo({ top: document.documentElement.scrollHeight });
}

export class ChatView {
  /**
   * @param {object} parts messages (container), template (<template>), streamPill, stopButton,
   *   turns (the conversation array), onStop(turn)
   */
  constructor(parts) {
    Object.assign(this, parts);
    this.views = new Map();
    this.dirty = new Set();
  }

  mount(turn) {
    const node = this.template.content.firstElementChild.cloneNode(true);
    const q = (selector) => node.querySelector(selector);
    const view = {
      question: q(".question .text"), askedAt: q(".question time"), answerBox: q(".answer"), answer: q(".answer .text"),
      thinking: q(".thinking"), reasoning: q(".thinking .reasoning"), thinkingLabel: q(".thinking summary"),
      tools: q(".answer .tools"), typing: q(".typing"), meta: q(".answer .meta"), badge: q(".answer .badge"),
      stop: q(".answer .stop-one"), error: q(".answer .error"),
    };
    node.dataset.uid = turn.uid;
    view.question.textContent = turn.prompt;
    view.askedAt.textContent = clock(turn.askedAt);
    view.askedAt.dateTime = new Date(turn.askedAt).toISOString();
    view.stop.addEventListener("click", () => this.onStop(turn));
    this.views.set(turn.uid, view);
    this.messages.append(node);
    scrollDown(true);
  }

  clear() {
    this.views.clear();
    this.dirty.clear();
    this.messages.replaceChildren();
    this.updateControls();
  }

  /** Redraws `turn` on the next animation frame (tokens arrive faster than frames). */
  scheduleRender(turn) {
    if (this.dirty.size === 0) requestAnimationFrame(() => this.flush());
    this.dirty.add(turn);
  }

  flush() {
    for (const turn of this.dirty) this.render(turn);
    this.dirty.clear();
  }

  render(turn) {
    const view = this.views.get(turn.uid);
    if (!view) return;
    this.dirty.delete(turn);
    const nearBottom = isNearBottom();
    const running = !TERMINAL.has(turn.status);
    view.answerBox.dataset.status = turn.status;
    renderText(view.answer, turn.text);
    view.thinking.hidden = !turn.reasoning;
    view.reasoning.textContent = turn.reasoning;
    view.thinkingLabel.textContent = running && !turn.text ? "Thinking…" : `Thought (${words(turn.reasoning)} words)`;
    view.tools.hidden = turn.toolCalls.length === 0;
    view.tools.textContent = turn.toolCalls.filter(Boolean).map((call) => `${call.name}(${call.arguments})`).join("\n");
    view.typing.hidden = !running;
    view.stop.hidden = !running || turn.status === "stopping";
    view.error.hidden = !turn.error;
    view.error.textContent = turn.error ? `Error${turn.error.code ? ` (${turn.error.code})` : ""}: ${turn.error.message ?? ""}` : "";
    view.badge.hidden = turn.status !== "stopped";
    view.meta.textContent = this.metaLine(turn);
    this.updateControls();
    if (nearBottom) scrollDown();
  }

  /** The quiet line under an answer: when, how it ended, usage, latency, transport. */
  metaLine(turn) {
    const parts = [];
    const running = !TERMINAL.has(turn.status);
    if (turn.endedAt) parts.push(clock(turn.endedAt));
    if (turn.status === "stopped") parts.push("stopped by you");
    if (turn.finishReason) parts.push(`finish: ${turn.finishReason}`);
    if (turn.usage) parts.push(`${turn.usage.prompt_tokens ?? "?"} prompt + ${turn.usage.completion_tokens ?? "?"} completion tokens`);
    if (turn.ttftMs !== undefined) parts.push(`first token ${turn.ttftMs} ms`);
    if (turn.endedAt && turn.askedAt && !turn.resumed) parts.push(`${((turn.endedAt - turn.askedAt) / 1000).toFixed(1)} s`);
    parts.push(turn.mode === "sse" ? "direct SSE" : "WebSocket");
    if (turn.resumed && running) parts.push("resumed");
    if (running) parts.push({ stopping: "stopping…", streaming: "streaming…" }[turn.status] ?? "waiting for the model…");
    return parts.join(" · ");
  }

  /** The Stop button and the stream pill follow the conversation's latest answer. */
  updateControls() {
    const current = this.turns.at(-1);
    this.stopButton.hidden = !this.turns.some((turn) => !TERMINAL.has(turn.status));
    if (!current) { setPill(this.streamPill, "idle", "stream: idle"); return; }
    const events = current.pieces.length ? ` (${current.lastSeq} events)` : "";
    setPill(this.streamPill, TONES[current.status] ?? "idle", `stream: ${current.status}${events}`, current.uid);
  }
}
