/* The wallboard: takes each board the server pushes on /api/board/events (server-sent
 * events), or polls /api/board every second when the stream fails, and counts down
 * in between. document.body's data-transport says which: "sse" or "poll". */
"use strict";

let board = null;     /* the last /api/board answer */
let fetchedAt = 0;    /* Date.now() when it came */

const $ = (id) => document.getElementById(id);

function text(s) {
  const d = document.createElement("div");
  d.textContent = s == null ? "" : String(s);
  return d.innerHTML;
}

/* "TIER_AAA" -> "AAA" (no tier: "–"), "METRIC_ON_SITE" -> "on site". */
function tier(t) { return !t || t === "TIER_UNSPECIFIED" ? "–" : t.replace(/^TIER_/, ""); }
function metric(m) {
  return m && m !== "METRIC_NONE" ? m.replace(/^METRIC_/, "").toLowerCase().replace(/_/g, " ")
                                  : "–";
}

/* A signed duration, "-1h05m" style; late ones are negative. */
function duration(ms) {
  const sign = ms < 0 ? "-" : "";
  let s = Math.floor(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600);
  const m = Math.floor(s % 3600 / 60);
  s %= 60;
  const two = (n) => String(n).padStart(2, "0");
  if (d) return `${sign}${d}d${two(h)}h`;
  if (h) return `${sign}${h}h${two(m)}m`;
  return `${sign}${m}m${two(s)}s`;
}

/* An instant at the policy's UTC offset. */
function instant(ms) {
  if (!ms) return "–";
  const off = board ? board.utc_offset_min : 0;
  return new Date(ms + off * 60000).toISOString().replace("T", " ").slice(0, 19);
}

/* The service's clock now: the board's now_ms plus the time since it came (a
 * simulated clock moves only when it is set: no extrapolation). */
function now() {
  if (!board) return Date.now();
  return board.clock === "simulated" ? board.now_ms : board.now_ms + (Date.now() - fetchedAt);
}

function rows(id, list, render, cols) {
  $(id).innerHTML = list.length ? list.map(render).join("")
                                : `<tr><td colspan="${cols}" class="empty">none</td></tr>`;
}

function gold(o) { return o.gold ? ' <span class="gold">★ gold</span>' : ""; }

/* A work order of an incident: its level while open; a closed or cancelled one has
 * none. */
function member(o) {
  const head = `<div class="member" data-order="${text(o.work_order)}">`;
  if (!o.level) return `${head}<span class="badge closed">closed</span> ${text(o.work_order)}</div>`;
  return `${head}<span class="badge ${o.level}">${o.level.replace("_", " ")}</span> ` +
    `${text(o.work_order)} · ${text(tier(o.tier))}${gold(o)}</div>`;
}

function render() {
  if (!board) return;
  const t = now();
  $("clock").textContent = instant(t);
  $("open-count").textContent = `(${board.open.length})`;
  $("breach-count").textContent = `(${board.breaches.length})`;
  rows("open", board.open, (o) => {
    const owes = o.metric !== "METRIC_NONE";
    return `<tr class="${o.level}" data-order="${text(o.work_order)}">` +
      `<td>${text(o.work_order)}</td>` +
      `<td><span class="badge ${o.level}">${o.level.replace("_", " ")}</span></td>` +
      `<td>${text(tier(o.tier))}${gold(o)}</td><td>${text(metric(o.metric))}</td>` +
      `<td class="left num">${owes ? duration(o.deadline_ms - t) : "–"}</td>` +
      `<td>${instant(o.next_sla_ms)}</td>` +
      `<td>${text(o.city)}</td><td>${text(o.contractor)}</td></tr>`;
  }, 8);
  rows("breaches", board.breaches, (b) => {
    const level = b.escalated || !b.metric ? "escalated" : "breached";
    const late = b.kind === "OVERDUE" ? duration(t - b.deadline_ms)
               : b.late_ms != null ? duration(b.late_ms) : "–";
    return `<tr class="${level}" data-order="${text(b.work_order)}">` +
      `<td>${text(b.work_order)}</td><td>${text(b.kind.toLowerCase().replace(/_/g, " "))}</td>` +
      `<td>${text(metric(b.metric))}</td><td class="num">${late}</td>` +
      `<td>${text((b.last_alert || "").toLowerCase().replace("_", " "))}</td>` +
      `<td>${text(tier(b.tier))}${gold(b)}</td><td>${text(b.city)}</td>` +
      `<td>${text(b.contractor)}</td></tr>`;
  }, 8);
  const incidents = board.incidents || [];
  $("incident-count").textContent = `(${incidents.length})`;
  rows("incidents", incidents, (i) =>
    `<tr class="escalated" data-incident="${text(i.incident_id)}">` +
    `<td>${text(i.incident_id).replace(/\|/g, "|<wbr>")}</td>` +
    `<td class="num">${i.started_at_ms ? duration(t - i.started_at_ms) : "–"}</td>` +
    `<td>${text(i.rule.replace(/^INCIDENT_RULE_/, "").toLowerCase().replace(/_/g, " "))}` +
    `${i.excluded_from_assessment ? " (excluded)" : ""}</td>` +
    `<td>${text(i.city)}${i.service ? ` · ${text(i.service)}` : ""}</td>` +
    `<td>${i.work_orders.map(member).join("")}</td></tr>`, 5);
  rows("compliance", board.compliance, (c) => {
    const all = c.met + c.breached;
    return `<tr><td>${text(tier(c.tier))}</td><td>${text(metric(c.metric))}</td>` +
      `<td class="num">${c.met}</td><td class="num">${c.breached}</td>` +
      `<td class="num">${all ? Math.round(100 * c.met / all) : "–"}</td></tr>`;
  }, 5);
}

function transport(t) { document.body.dataset.transport = t; }

function take(body) {
  board = body;
  fetchedAt = Date.now();
  $("status").textContent = "live";
  $("status").className = "";
  render();
}

function stale(message) {
  $("status").textContent = `stale: ${message}`;
  $("status").className = "stale";
  render();
}

async function poll() {
  try {
    const r = await fetch("/api/board", {cache: "no-store"});
    const body = await r.json();
    if (!r.ok) throw new Error(body.error || r.statusText);
    take(body);
  } catch (e) {
    stale(e.message);
  }
}

let pollTimer = null;

function startPolling() {
  transport("poll");
  if (pollTimer) return;
  poll();
  pollTimer = setInterval(poll, 1000);
}

function stopPolling() {
  clearInterval(pollTimer);
  pollTimer = null;
}

/* The stream; a browser reconnects by itself after a dropped connection, and polls
 * meanwhile. Refused for good (too many streams, an older worker): polling, and the
 * stream again in a minute. */
function stream() {
  if (!window.EventSource) return startPolling();
  const es = new EventSource("/api/board/events");
  es.addEventListener("board", (e) => {
    stopPolling();
    transport("sse");
    take(JSON.parse(e.data));
  });
  es.addEventListener("unavailable", (e) => stale(JSON.parse(e.data).error));
  es.onerror = () => {
    startPolling();
    if (es.readyState === EventSource.CLOSED) setTimeout(stream, 60000);
  };
}

stream();
setInterval(render, 250);
