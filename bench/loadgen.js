#!/usr/bin/env node
// Load generator for collab's benchmarks: one Node process, Node's `ws` client, one event loop.
//
// It speaks PROTOCOL.md's socket contract (join/joined, send/ack, event) and is driven by
// bench/run.py over stdio: the config is argv[2] (JSON); at each barrier it prints one JSON line
// {"phase": NAME, ...} on stdout and waits for one line on stdin before going on, so the driver
// can read the server's CPU and memory exactly at the edges of the measured window.
//
// Modes
//   fanout   N subscribers join one channel; one publisher posts at `rate` posts/s for `seconds`
//            (open loop: a send is never held back waiting for an earlier ack, so latency is
//            not hidden by coordinated omission).
//   saturate the same, but the publisher keeps `window` posts in flight, a post counting as in
//            flight until it is acked AND delivered to every subscriber: as fast as acks allow,
//            without ever letting the server's outboxes grow past `window` frames per socket.
//   idle     N sockets connect (and join unless join=false) and sit there.
//   publish  `writers` sockets each send post.create, wait for the ack, send again, for `seconds`.
//   webinar  every attendee (its own URL and token) joins one webinar; presence frames per socket
//            while they join; then chat.send at `chatRate` and question.upvote at `voteRate` from
//            the attendees in turn (each (question, member) pair once) for `seconds`; every
//            event must reach every attendee; latency by seq from the send its ack names.
//
// Every post body carries "bench <index> <send time in ms>"; latency is receipt time minus that
// send time (both from performance.now() in this one process). Each subscriber checks that the
// channel's seq goes up by exactly one per event; loss = expected - received.
"use strict";

const WebSocket = require("ws");
const readline = require("readline");
const { performance } = require("perf_hooks");

const cfg = Object.assign(
  {
    mode: "fanout",
    subUrls: [], // subscriber URLs, used round-robin (two servers for `scale`)
    pubUrl: null, // the publisher's URL (with ?token= for collab)
    channel: "thread:1",
    subscribers: 500,
    rate: 100,
    seconds: 10,
    window: 8,
    writers: 10,
    writerJoin: false,
    join: true,
    connectConcurrency: 100,
    drainSeconds: 10,
    joinTimeoutSeconds: 60,
    deflate: false, // offer permessage-deflate (as browsers do); the server decides
    bodyPad: 0, // extra characters in each post body
    sendType: "post.create", // what the publisher sends: post.create (thread), chat.send (webinar)
    // webinar mode (see bench/webinar.py): attendees with their own URLs, chat and upvotes
    attendeeUrls: [],
    chatRate: 50,
    voteRate: 50,
    questionIds: [],
    settleSeconds: 1,
    dumpFrames: 0, // log this many received frames to stderr (the loadgen log), to debug
  },
  // "@FILE": the config is in FILE (10,000 attendees' URLs do not fit in one argument).
  JSON.parse(
    (process.argv[2] || "{}").startsWith("@")
      ? require("fs").readFileSync(process.argv[2].slice(1), "utf8")
      : process.argv[2] || "{}",
  ),
);

// ---- stdio barrier with the driver --------------------------------------------------------
const stdinLines = [];
const stdinWaiters = [];
readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const waiter = stdinWaiters.shift();
  if (waiter) waiter(line);
  else stdinLines.push(line);
});
function barrier(phase, info) {
  process.stdout.write(JSON.stringify(Object.assign({ phase }, info || {})) + "\n");
  if (stdinLines.length) return Promise.resolve(stdinLines.shift());
  return new Promise((resolve) => stdinWaiters.push(resolve));
}
function log(msg) {
  process.stderr.write(`[loadgen] ${msg}\n`);
}

// ---- latency histogram: 10 µs buckets up to 10 s, then 1 ms buckets up to 1,000 s; exact max --
const FINE_MS = 0.01;
const FINE = 1000000; // 10 s / 10 µs
const COARSE_MS = 1;
const COARSE = 990000; // (1,000 s - 10 s) / 1 ms
const hist = new Uint32Array(FINE + COARSE + 1);
let histCount = 0;
let histMax = 0;
let histSum = 0;
function record(ms) {
  if (ms < 0) ms = 0;
  const b =
    ms < FINE * FINE_MS
      ? Math.floor(ms / FINE_MS)
      : Math.min(FINE + COARSE, FINE + Math.floor((ms - FINE * FINE_MS) / COARSE_MS));
  hist[b]++;
  histCount++;
  histSum += ms;
  if (ms > histMax) histMax = ms;
}
function bucketTop(i) {
  return i < FINE ? (i + 1) * FINE_MS : FINE * FINE_MS + (i - FINE + 1) * COARSE_MS;
}
function percentile(p) {
  if (!histCount) return null;
  const rank = Math.ceil((p / 100) * histCount);
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i];
    if (seen >= rank) return Math.min(histMax, bucketTop(i));
  }
  return histMax;
}
function latencySummary() {
  return {
    count: histCount,
    p50_ms: percentile(50),
    p90_ms: percentile(90),
    p99_ms: percentile(99),
    max_ms: histCount ? histMax : null,
    mean_ms: histCount ? histSum / histCount : null,
  };
}

// ---- counters ------------------------------------------------------------------------------
const closes = {}; // close code -> count (unexpected closes only)
const errors = {}; // error code (frames and socket errors) -> count
let closing = false;
function bump(map, key) {
  map[key] = (map[key] || 0) + 1;
}

const MAX_POSTS = 4000000;
let delivered = null; // Uint32Array: deliveries per post index (allocated when needed)
// Per post: send, ack, first and last delivery times (ms), to tell a stalled post (every
// subscriber late, e.g. the publish path stalled) from slow sockets (a few subscribers late).
let sentAt = null;
let ackAt = null;
let firstAt = null;
let lastAt = null;
let acked = null; // Uint8Array: 1 when the post's ack came
let received = 0;
let gaps = 0;
let dups = 0;
let foreign = 0; // events that are not our posts (should stay 0)
let lastReceipt = 0;
const MARK = /bench (\d+) (\d+(?:\.\d+)?)/;

function onEvent(sub, msg, now) {
  if (typeof msg.seq === "number") {
    if (sub.lastSeq !== null && msg.seq !== sub.lastSeq + 1) {
      if (msg.seq <= sub.lastSeq) dups++;
      else gaps += msg.seq - sub.lastSeq - 1;
    }
    if (sub.lastSeq === null || msg.seq > sub.lastSeq) sub.lastSeq = msg.seq;
  }
  const data = msg.data || {};
  const text = data.body_html || data.body || "";
  const m = MARK.exec(text);
  if (!m) {
    foreign++;
    return;
  }
  const idx = +m[1];
  record(now - +m[2]);
  received++;
  lastReceipt = now;
  if (delivered) {
    delivered[idx]++;
    if (!firstAt[idx]) firstAt[idx] = now;
    lastAt[idx] = now;
    if (onDelivered) onDelivered(idx);
  }
}
let onDelivered = null;

// The fast path accepts a frame only when it is unambiguous: a top-level `"op":"event"`, a
// top-level `"seq":` (collab also puts the post's seq inside `data`; nesting depth tells them
// apart) and our body mark. Anything else goes to JSON.parse.
const OP_EVENT = Buffer.from('"op":"event"');
const SEQ = Buffer.from('"seq":');
const BENCH_MARK = Buffer.from("bench ");
// JSON nesting depth at byte `pos` (1 = inside the top-level object), skipping strings.
function depthAt(buf, pos) {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < pos; i++) {
    const c = buf[i];
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped byte
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) depth++;
    else if (c === 125 || c === 93) depth--;
  }
  return inString ? -1 : depth;
}
function topLevel(buf, needle) {
  let at = buf.indexOf(needle);
  while (at >= 0) {
    if (depthAt(buf, at) === 1) return at;
    at = buf.indexOf(needle, at + needle.length);
  }
  return -1;
}
let fastHits = 0;
function readNumber(buf, i) {
  // digits with an optional fraction; returns [value, next index] or null
  let v = 0;
  let digits = 0;
  while (i < buf.length && buf[i] >= 48 && buf[i] <= 57) {
    v = v * 10 + (buf[i] - 48);
    i++;
    digits++;
  }
  if (!digits) return null;
  if (buf[i] === 46) {
    i++;
    let scale = 0.1;
    while (i < buf.length && buf[i] >= 48 && buf[i] <= 57) {
      v += (buf[i] - 48) * scale;
      scale /= 10;
      i++;
    }
  }
  return [v, i];
}
function fastEvent(sub, buf, now) {
  if (!Buffer.isBuffer(buf) || topLevel(buf, OP_EVENT) < 0) return false;
  const s1 = topLevel(buf, SEQ);
  if (s1 < 0) return false;
  const mark = buf.indexOf(BENCH_MARK);
  if (mark < 0) return false;
  const seqNum = readNumber(buf, s1 + SEQ.length);
  const idxNum = seqNum && readNumber(buf, mark + BENCH_MARK.length);
  if (!idxNum || buf[idxNum[1]] !== 32) return false;
  const tsNum = readNumber(buf, idxNum[1] + 1);
  if (!tsNum) return false;
  fastHits++;
  const seq = seqNum[0];
  if (sub.lastSeq !== null && seq !== sub.lastSeq + 1) {
    if (seq <= sub.lastSeq) dups++;
    else gaps += seq - sub.lastSeq - 1;
  }
  if (sub.lastSeq === null || seq > sub.lastSeq) sub.lastSeq = seq;
  const idx = idxNum[0];
  record(now - tsNum[0]);
  received++;
  lastReceipt = now;
  if (delivered) {
    delivered[idx]++;
    if (!firstAt[idx]) firstAt[idx] = now;
    lastAt[idx] = now;
    if (onDelivered) onDelivered(idx);
  }
  return true;
}

// Webinar mode: every event counts (chat and votes), by seq; latency from the send whose ack
// carried that seq (a receipt that comes before the ack waits for it).
let onAnyEvent = null;
function fastSeq(sub, buf, now) {
  if (!Buffer.isBuffer(buf) || topLevel(buf, OP_EVENT) < 0) return false;
  const s1 = topLevel(buf, SEQ);
  if (s1 < 0) return false;
  const seqNum = readNumber(buf, s1 + SEQ.length);
  if (!seqNum) return false;
  fastHits++;
  onAnyEvent(sub, seqNum[0], now);
  return true;
}

// ---- sockets -------------------------------------------------------------------------------
function openSocket(url, role) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, {
      perMessageDeflate: cfg.deflate,
      handshakeTimeout: 30000,
      skipUTF8Validation: true, // the server is trusted here; validation costs client CPU
    });
    const sock = { ws, role, lastSeq: null, joined: false, pending: new Map(), refs: 0 };
    let settled = false;
    ws.on("open", () => {
      settled = true;
      resolve(sock);
    });
    ws.on("error", (err) => {
      bump(errors, "socket:" + (err.code || err.message));
      if (!settled) {
        settled = true;
        resolve(null);
      }
    });
    ws.on("close", (code) => {
      if (!closing) bump(closes, String(code));
      for (const [, w] of sock.pending) w.reject(new Error("closed " + code));
      sock.pending.clear();
    });
    ws.on("message", (raw) => {
      const now = performance.now();
      if (cfg.dumpFrames > 0 && role !== "idle") {
        cfg.dumpFrames--;
        log(`${role} frame: ${raw.toString().slice(0, 2000)}`);
      }
      // Fast path for our own post events (nearly every frame): read seq, post index and send
      // time straight from the bytes, no JSON.parse, so the load generator stays cheaper than
      // the server it measures. Anything unusual falls through to JSON.parse.
      if (onAnyEvent ? fastSeq(sock, raw, now) : fastEvent(sock, raw, now)) return;
      let msg;
      try {
        msg = JSON.parse(raw.toString());
      } catch (e) {
        bump(errors, "client:unparsable");
        return;
      }
      if (msg.op === "event") {
        if (onAnyEvent) onAnyEvent(sock, msg.seq, now);
        else onEvent(sock, msg, now);
        return;
      }
      if (msg.op === "presence") {
        sock.presenceFrames = (sock.presenceFrames || 0) + 1;
        sock.presenceEntries =
          (sock.presenceEntries || 0) + (msg.joins || []).length + (msg.leaves || []).length;
        return;
      }
      if (msg.op === "error") bump(errors, "frame:" + msg.code);
      if (msg.ref !== undefined && msg.ref !== null && sock.pending.has(msg.ref)) {
        const w = sock.pending.get(msg.ref);
        sock.pending.delete(msg.ref);
        w.resolve(msg);
      }
    });
  });
}

function request(sock, frame) {
  const ref = String(++sock.refs);
  frame.ref = ref;
  return new Promise((resolve, reject) => {
    sock.pending.set(ref, { resolve, reject });
    sock.ws.send(JSON.stringify(frame));
  });
}

async function join(sock) {
  const answer = await request(sock, { op: "join", channel: cfg.channel });
  if (answer.op !== "joined") throw new Error("join refused: " + JSON.stringify(answer));
  sock.joined = true;
  sock.lastSeq = typeof answer.seq === "number" ? answer.seq : null;
  return sock;
}

// Open `n` sockets with at most cfg.connectConcurrency handshakes in flight.
async function openMany(n, urls, doJoin, role) {
  const socks = [];
  let next = 0;
  let failed = 0;
  async function worker() {
    while (next < n) {
      const i = next++;
      const sock = await openSocket(urls[i % urls.length], role);
      if (!sock) {
        failed++;
        continue;
      }
      if (doJoin) {
        try {
          await withTimeout(join(sock), cfg.joinTimeoutSeconds * 1000);
        } catch (e) {
          bump(errors, "join:" + e.message.slice(0, 80));
          failed++;
          continue;
        }
      }
      socks.push(sock);
    }
  }
  const workers = [];
  for (let w = 0; w < Math.min(cfg.connectConcurrency, n); w++) workers.push(worker());
  await Promise.all(workers);
  return { socks, failed };
}

function withTimeout(promise, ms) {
  let t;
  return Promise.race([
    promise.finally(() => clearTimeout(t)),
    new Promise((_, reject) => {
      t = setTimeout(() => reject(new Error("timeout")), ms);
    }),
  ]);
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

function padding() {
  return cfg.bodyPad > 0 ? " " + "x".repeat(cfg.bodyPad) : "";
}

function postFrame(idx) {
  const body = `bench ${idx} ${performance.now().toFixed(3)}${padding()}`;
  return { op: "send", channel: cfg.channel, type: cfg.sendType, data: { body } };
}

function closeAll(socks) {
  closing = true;
  for (const s of socks) {
    try {
      s.ws.close(1000);
    } catch (e) {
      /* already gone */
    }
  }
}

// ---- modes ---------------------------------------------------------------------------------
async function runFanout(saturate) {
  delivered = new Uint32Array(MAX_POSTS);
  acked = new Uint8Array(MAX_POSTS);
  sentAt = new Float64Array(MAX_POSTS);
  ackAt = new Float64Array(MAX_POSTS);
  firstAt = new Float64Array(MAX_POSTS);
  lastAt = new Float64Array(MAX_POSTS);
  const t0 = performance.now();
  const { socks, failed } = await openMany(cfg.subscribers, cfg.subUrls, true, "sub");
  const pub = await openSocket(cfg.pubUrl, "pub");
  if (!pub) throw new Error("publisher could not connect to " + cfg.pubUrl);
  const nsubs = socks.length;
  const extensions = socks.length ? socks[0].ws.extensions : "";
  await barrier("ready", {
    subscribers: nsubs,
    failed,
    connect_s: (performance.now() - t0) / 1000,
    extensions,
  });

  let sent = 0;
  let ackCount = 0;
  let sendErrors = 0;
  let inFlight = 0;
  const start = performance.now();
  const end = start + cfg.seconds * 1000;
  let publishing = true;
  let pumpScheduled = false;

  function complete(idx) {
    // saturate: a post leaves the window once acked and delivered everywhere
    if (acked[idx] === 1 && delivered[idx] >= nsubs) {
      acked[idx] = 2;
      inFlight--;
      if (!pumpScheduled) {
        pumpScheduled = true;
        setImmediate(pumpSaturate);
      }
    }
  }
  function sendOne() {
    const idx = sent++;
    sentAt[idx] = performance.now();
    request(pub, postFrame(idx)).then(
      (answer) => {
        ackAt[idx] = performance.now();
        if (answer.op === "ack") {
          ackCount++;
          acked[idx] = 1;
          if (saturate) complete(idx);
        } else {
          sendErrors++;
          if (saturate) {
            acked[idx] = 3; // refused: out of the window, not a post
            inFlight--;
            setImmediate(pumpSaturate);
          }
        }
      },
      () => {
        sendErrors++;
      },
    );
  }
  function pumpSaturate() {
    pumpScheduled = false;
    if (!publishing) return;
    if (performance.now() >= end) {
      publishing = false;
      return;
    }
    while (inFlight < cfg.window && sent < MAX_POSTS) {
      inFlight++;
      sendOne();
    }
  }
  function pumpRate() {
    const now = performance.now();
    if (now >= end) {
      publishing = false;
      return;
    }
    const due = Math.min(Math.floor(((now - start) / 1000) * cfg.rate) + 1, MAX_POSTS);
    while (sent < due) sendOne();
    setTimeout(pumpRate, Math.max(1, Math.min(10, 1000 / cfg.rate / 2)));
  }
  if (saturate) {
    onDelivered = complete;
    pumpSaturate();
  } else {
    pumpRate();
  }

  // Publishing phase, then drain: wait until every acked post reached every subscriber (or the
  // drain deadline passes; what is missing then is loss).
  while (publishing) await sleep(5);
  const publishEnd = performance.now();
  const drainDeadline = publishEnd + cfg.drainSeconds * 1000;
  let drained = false;
  while (performance.now() < drainDeadline) {
    const settled = ackCount + sendErrors >= sent;
    if (settled && received >= ackCount * nsubs) {
      drained = true;
      break;
    }
    await sleep(5);
  }
  // A post exists once it was acked or anyone received it (the ack may still be queued behind
  // the fan-out); every subscriber must get every such post.
  let posts = 0;
  for (let i = 0; i < sent; i++) if (acked[i] === 1 || acked[i] === 2 || delivered[i]) posts++;
  const expected = posts * nsubs;
  const window = Math.max(lastReceipt, publishEnd) - start;
  // The five posts whose first delivery came latest: when first and last delivery are both
  // late, the whole post was held up before fan-out (publish path, broker); when only the last
  // is, some sockets were slow.
  const order = [];
  for (let i = 0; i < sent; i++) if (firstAt[i]) order.push(i);
  order.sort((a, b) => firstAt[b] - sentAt[b] - (firstAt[a] - sentAt[a]));
  const worstPosts = order.slice(0, 5).map((i) => ({
    post: i,
    at_s: +((sentAt[i] - start) / 1000).toFixed(3),
    ack_ms: ackAt[i] ? +(ackAt[i] - sentAt[i]).toFixed(2) : null,
    first_ms: +(firstAt[i] - sentAt[i]).toFixed(2),
    last_ms: +(lastAt[i] - sentAt[i]).toFixed(2),
  }));
  const result = {
    mode: cfg.mode,
    subscribers: nsubs,
    failed,
    sent,
    acked: ackCount,
    send_errors: sendErrors,
    unacked: sent - ackCount - sendErrors,
    posts,
    expected,
    received,
    loss: expected - received,
    drained, // false: the drain deadline passed with deliveries or acks outstanding
    gaps,
    dups,
    foreign,
    publish_s: (publishEnd - start) / 1000,
    window_s: window / 1000,
    posts_per_s: ackCount / ((publishEnd - start) / 1000),
    deliveries_per_s: received / (window / 1000),
    latency: latencySummary(),
    errors,
    closes,
    extensions,
    fast_path: fastHits,
    worst_posts: worstPosts,
  };
  await barrier("done", result);
  closeAll(socks.concat([pub]));
}

async function runIdle() {
  // One warm-up socket first, so one-off costs (imports, first-connection paths) are not charged
  // to the measured sockets; the driver takes its "before" reading at `ready`.
  const warm = await openMany(1, cfg.subUrls, cfg.join, "warm");
  await sleep(200);
  await barrier("ready", { warm: warm.socks.length });
  const t0 = performance.now();
  const { socks, failed } = await openMany(cfg.subscribers, cfg.subUrls, cfg.join, "idle");
  const connectS = (performance.now() - t0) / 1000;
  await barrier("connected", {
    sockets: socks.length,
    failed,
    connect_s: connectS,
    connects_per_s: socks.length / connectS,
    extensions: socks.length ? socks[0].ws.extensions : "",
    errors,
    closes,
  });
  // The driver has read memory; check nothing was dropped while it did.
  const alive = socks.filter((s) => s.ws.readyState === WebSocket.OPEN).length;
  await barrier("done", { sockets: socks.length, alive, failed, errors, closes });
  closeAll(socks.concat(warm.socks));
}

async function runPublish() {
  const { socks, failed } = await openMany(cfg.writers, [cfg.pubUrl], cfg.writerJoin, "writer");
  await barrier("ready", { writers: socks.length, failed });
  let idx = 0;
  let ackCount = 0;
  let refused = 0;
  const start = performance.now();
  const end = start + cfg.seconds * 1000;
  async function writer(sock) {
    while (performance.now() < end) {
      const t = performance.now();
      let answer;
      try {
        answer = await request(sock, postFrame(idx++));
      } catch (e) {
        bump(errors, "writer:" + e.message);
        return;
      }
      if (answer.op === "ack") {
        ackCount++;
        record(performance.now() - t);
      } else {
        refused++;
        if (refused > 100) return; // e.g. not allowed to send without joining: stop early
      }
    }
  }
  await Promise.all(socks.map(writer));
  const elapsed = (performance.now() - start) / 1000;
  await barrier("done", {
    mode: "publish",
    writers: socks.length,
    failed,
    acked: ackCount,
    refused,
    window_s: elapsed,
    posts_per_s: ackCount / elapsed,
    ack_latency: latencySummary(),
    errors,
    closes,
  });
  closeAll(socks);
}

async function runWebinar() {
  const N = cfg.attendeeUrls.length;
  const MAX_SEQ = Math.ceil((cfg.chatRate + cfg.voteRate) * cfg.seconds * 1.5) + 10000;
  const deliveredBySeq = new Uint32Array(MAX_SEQ);
  const sentAtBySeq = new Float64Array(MAX_SEQ);
  const early = new Map(); // seq -> receipt times before its ack came
  let baseSeq = null;
  onAnyEvent = (sub, seq, now) => {
    if (sub.lastSeq !== null && seq !== sub.lastSeq + 1) {
      if (seq <= sub.lastSeq) dups++;
      else gaps += seq - sub.lastSeq - 1;
    }
    if (sub.lastSeq === null || seq > sub.lastSeq) sub.lastSeq = seq;
    if (baseSeq === null || seq <= baseSeq || seq - baseSeq >= MAX_SEQ) {
      foreign++;
      return;
    }
    const i = seq - baseSeq;
    deliveredBySeq[i]++;
    received++;
    lastReceipt = now;
    if (sentAtBySeq[i]) record(now - sentAtBySeq[i]);
    else {
      let list = early.get(i);
      if (!list) early.set(i, (list = []));
      list.push(now);
    }
  };
  // Joining: 1,000 attendees within a few seconds; count the presence frames each one gets.
  const t0 = performance.now();
  const { socks, failed } = await openMany(N, cfg.attendeeUrls, true, "attendee");
  const joinS = (performance.now() - t0) / 1000;
  await sleep(cfg.settleSeconds * 1000);
  const frames = socks.map((s) => s.presenceFrames || 0).sort((a, b) => a - b);
  const entries = socks.map((s) => s.presenceEntries || 0).sort((a, b) => a - b);
  const pct = (arr, p) => (arr.length ? arr[Math.min(arr.length - 1, Math.ceil((p / 100) * arr.length) - 1)] : null);
  baseSeq = Math.max(...socks.map((s) => (s.lastSeq === null ? 0 : s.lastSeq)));
  await barrier("ready", {
    attendees: socks.length,
    failed,
    join_s: joinS,
    presence_frames: { max: frames[frames.length - 1] || 0, p50: pct(frames, 50), p99: pct(frames, 99),
      mean: frames.reduce((a, b) => a + b, 0) / Math.max(1, frames.length) },
    presence_entries_mean: entries.reduce((a, b) => a + b, 0) / Math.max(1, entries.length),
    base_seq: baseSeq,
  });

  let chats = 0;
  let votes = 0;
  let ackCount = 0;
  let refused = {};
  let outstanding = 0;
  const start = performance.now();
  const end = start + cfg.seconds * 1000;
  function send(sock, frame) {
    const t = performance.now();
    outstanding++;
    request(sock, frame).then(
      (answer) => {
        outstanding--;
        if (answer.op !== "ack" || typeof answer.seq !== "number") {
          bump(refused, answer.code || answer.op);
          return;
        }
        ackCount++;
        const i = answer.seq - baseSeq;
        if (i <= 0 || i >= MAX_SEQ) return;
        sentAtBySeq[i] = t;
        const list = early.get(i);
        if (list) {
          for (const at of list) record(at - t);
          early.delete(i);
        }
      },
      () => {
        outstanding--;
        bump(refused, "closed");
      },
    );
  }
  const Q = cfg.questionIds.length;
  function pump() {
    const now = performance.now();
    if (now >= end) return;
    const elapsed = (now - start) / 1000;
    const chatDue = Math.floor(elapsed * cfg.chatRate) + 1;
    while (chats < chatDue) {
      const k = chats++;
      const sock = socks[k % socks.length];
      send(sock, { op: "send", channel: cfg.channel, type: "chat.send",
        data: { body: `bench ${k} ${performance.now().toFixed(3)}` } });
    }
    const voteDue = Math.floor(elapsed * cfg.voteRate) + 1;
    while (votes < voteDue && Q) {
      // Vote k: attendee k mod N on question floor(k / N): every (question, member) pair once.
      const k = votes++;
      const qid = cfg.questionIds[Math.floor(k / socks.length) % Q];
      send(socks[k % socks.length], { op: "send", channel: cfg.channel, type: "question.upvote",
        data: { question_id: qid } });
    }
    setTimeout(pump, 5);
  }
  pump();
  while (performance.now() < end) await sleep(20);
  const publishEnd = performance.now();
  const drainDeadline = publishEnd + cfg.drainSeconds * 1000;
  let drained = false;
  while (performance.now() < drainDeadline) {
    if (outstanding === 0 && received >= ackCount * socks.length) {
      drained = true;
      break;
    }
    await sleep(10);
  }
  const expected = ackCount * socks.length;
  const window = Math.max(lastReceipt, publishEnd) - start;
  await barrier("done", {
    mode: "webinar",
    attendees: socks.length,
    chats_sent: chats,
    votes_sent: votes,
    acked: ackCount,
    refused,
    expected,
    received,
    loss: expected - received,
    drained,
    gaps,
    dups,
    foreign,
    window_s: window / 1000,
    events_per_s: ackCount / ((publishEnd - start) / 1000),
    deliveries_per_s: received / (window / 1000),
    latency: latencySummary(),
    unmatched_early: early.size,
    errors,
    closes,
  });
  closeAll(socks);
}

async function main() {
  if (cfg.mode === "fanout") await runFanout(false);
  else if (cfg.mode === "saturate") await runFanout(true);
  else if (cfg.mode === "idle") await runIdle();
  else if (cfg.mode === "publish") await runPublish();
  else if (cfg.mode === "webinar") await runWebinar();
  else throw new Error("unknown mode " + cfg.mode);
  await sleep(200);
  process.exit(0);
}

main().catch((err) => {
  log("fatal: " + (err && err.stack ? err.stack : err));
  process.stdout.write(JSON.stringify({ phase: "fatal", error: String(err) }) + "\n");
  process.exit(2);
});
