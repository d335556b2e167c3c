// The dashboard: polls GET /api/stats, derives tokens/s from the publication counter, and draws
// the last minutes of it on a canvas.
import config from "./config.js";

const $ = (id) => document.getElementById(id);
const points = []; // {t: ms (performance.now), rate: tokens/s over the interval before t}
let previous = null; // {t, publications}
let stats = null;

function text(id, value) { $(id).textContent = value; }
function format(n) { return n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e4 ? `${(n / 1e3).toFixed(1)}k` : `${Math.round(n)}`; }
function bytes(n) { return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`; }

async function poll() {
  try {
    const response = await fetch("/api/stats", { cache: "no-store" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const body = await response.json();
    const now = performance.now();
    record(now, body);
    stats = body;
    show(body);
    setPill("ok", "stats: live");
  } catch (error) {
    setPill("bad", `stats: unreachable (${error.message})`);
  } finally {
    setTimeout(poll, config.statsInterval);
  }
}

function record(now, body) {
  const publications = body.tokens?.publications_total ?? 0;
  if (previous && publications >= previous.publications && now > previous.t) {
    points.push({ t: now, rate: ((publications - previous.publications) * 1000) / (now - previous.t) });
  }
  previous = { t: now, publications };
  while (points.length && points[0].t < now - config.chartSeconds * 1000) points.shift();
}

/** tokens/s over the last `seconds`, from the counter's points. */
function recentRate(seconds) {
  const now = performance.now();
  const recent = points.filter((p) => p.t >= now - seconds * 1000);
  return recent.length ? recent.reduce((sum, p) => sum + p.rate, 0) / recent.length : 0;
}

function show(body) {
  const rate = recentRate(5);
  $("rate").dataset.rate = String(rate);
  text("rate", rate >= 10 ? rate.toFixed(0) : rate.toFixed(1));
  text("rate-peak", points.length ? `peak ${Math.max(...points.map((p) => p.rate)).toFixed(0)} in view` : "measuring…");
  const streams = body.streams ?? {};
  text("active", format(streams.active ?? 0));
  text("capacity", `of ${format(streams.max_concurrent ?? 0)} at once`);
  text("started", format(streams.started_total ?? 0));
  const ended = streams.ended_total ?? {};
  text("ended", `done ${ended.done ?? 0} · error ${ended.error ?? 0} · cancelled ${ended.cancelled ?? 0}`);
  text("clients", format(body.clients?.connections ?? 0));
  text("subscriptions", `${body.clients?.subscriptions ?? 0} subscriptions`);
  text("publications", format(body.tokens?.publications_total ?? 0));
  text("journal", `${body.journal?.streams ?? 0} streams`);
  text("journal-bytes", `${bytes(body.journal?.bytes ?? 0)} kept for replay`);
  const ttft = body.ttft_ms;
  if (ttft && typeof ttft.p50 === "number") {
    text("ttft", `${Math.round(ttft.p50)} / ${Math.round(ttft.p99)} ms`);
    text("ttft-note", `p50 / p99 of ${ttft.count ?? "?"} streams`);
  } else {
    text("ttft", "n/a");
    text("ttft-note", "no stream has produced a token yet");
  }
  showLocalTTFT();
  showSinks(body.sinks ?? {});
  draw();
}

/** The chat page's own measurements (POST to first token), kept with its conversations. */
function showLocalTTFT() {
  let values = [];
  try {
    const turns = JSON.parse(localStorage.getItem("tokenbridge.chat.v1") ?? "[]");
    values = turns.map((turn) => turn?.ttftMs).filter((v) => typeof v === "number").sort((a, b) => a - b);
  } catch { values = []; }
  if (!values.length) { text("ttft-local", "–"); text("ttft-local-note", "no answers from this browser yet"); return; }
  const pick = (q) => values[Math.min(values.length - 1, Math.ceil(q * values.length) - 1)];
  text("ttft-local", `${pick(0.5)} / ${pick(0.99)} ms`);
  text("ttft-local-note", `p50 / p99 of the last ${values.length} answers here`);
}

function showSinks(sinks) {
  const panels = Object.entries(sinks).map(([name, numbers]) => {
    const panel = document.createElement("div");
    const title = document.createElement("h3");
    title.textContent = name;
    title.className = "label";
    const table = document.createElement("table");
    for (const [key, value] of Object.entries(numbers ?? {})) {
      const row = table.insertRow();
      row.insertCell().textContent = key.replaceAll("_", " ");
      row.insertCell().textContent = typeof value === "number"
        ? (key.endsWith("bytes") ? bytes(value) : format(value)) : JSON.stringify(value);
    }
    panel.append(title, table);
    panel.dataset.sink = name;
    return panel;
  });
  $("sinks").replaceChildren(...panels);
}

function setPill(tone, label) {
  const pill = $("st-stats");
  pill.dataset.tone = tone;
  pill.textContent = label;
}

// MARK: - Chart

function draw() {
  const canvas = $("chart");
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  const style = getComputedStyle(document.documentElement);
  const ink = style.getPropertyValue("--muted").trim() || "#666";
  const line = style.getPropertyValue("--line").trim() || "#ddd";
  const accent = style.getPropertyValue("--accent").trim() || "#2f6fd6";
  const left = 44, right = 8, top = 8, bottom = 20;
  const plotWidth = width - left - right, plotHeight = height - top - bottom;
  // Four grid lines at a round step: 1, 2, 2.5 or 5 times a power of ten.
  const quarter = Math.max(1, ...points.map((p) => p.rate)) / 4;
  const magnitude = 10 ** Math.floor(Math.log10(quarter));
  const ceiling = 4 * magnitude * [1, 2, 2.5, 5, 10].find((m) => m * magnitude >= quarter);
  const now = performance.now();
  // The window grows from a minute to chartSeconds as samples accumulate.
  const span = Math.min(config.chartSeconds * 1000, Math.max(60000, points.length ? now - points[0].t : 0));
  const minutes = Math.ceil(span / 60000);
  text("window", minutes === 1 ? "minute" : `${minutes} minutes`);
  const x = (t) => left + plotWidth * (1 - (now - t) / span);
  const y = (rate) => top + plotHeight * (1 - rate / ceiling);

  ctx.font = "11px system-ui, sans-serif";
  ctx.fillStyle = ink;
  ctx.strokeStyle = line;
  ctx.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const value = (ceiling * i) / 4;
    ctx.beginPath();
    ctx.moveTo(left, Math.round(y(value)) + 0.5);
    ctx.lineTo(width - right, Math.round(y(value)) + 0.5);
    ctx.stroke();
    ctx.textAlign = "right";
    ctx.fillText(format(value), left - 6, y(value) + 4);
  }
  const step = [10, 15, 30, 60, 120].find((s) => span / 1000 / s <= 6) ?? 300;
  for (let seconds = 0; seconds * 1000 <= span; seconds += step) {
    ctx.textAlign = seconds === 0 ? "right" : "center";
    const label = seconds === 0 ? "now" : seconds % 60 === 0 ? `-${seconds / 60} min` : `-${seconds} s`;
    ctx.fillText(label, x(now - seconds * 1000), height - 5);
  }
  if (points.length < 2) return;
  ctx.beginPath();
  ctx.moveTo(x(points[0].t), y(0));
  for (const p of points) ctx.lineTo(x(p.t), y(p.rate));
  ctx.lineTo(x(points.at(-1).t), y(0));
  ctx.closePath();
  ctx.globalAlpha = 0.18;
  ctx.fillStyle = accent;
  ctx.fill();
  ctx.globalAlpha = 1;
  ctx.beginPath();
  points.forEach((p, i) => (i ? ctx.lineTo(x(p.t), y(p.rate)) : ctx.moveTo(x(p.t), y(p.rate))));
  ctx.strokeStyle = accent;
  ctx.lineWidth = 2;
  ctx.stroke();
}

window.addEventListener("resize", draw);
poll();
window.tokenbridgeDashboard = { points, get stats() { return stats; } };
