// Keel's dashboard page: draws the state document dom0's `keel dashboard`
// pushes once a second on /api/events (Server-Sent Events), and sends the
// buttons' actions to POST /api/action with the control token the user
// typed (kept in this tab only). The document's fields are listed in
// docs/dashboard.md.
"use strict";

const $ = (id) => document.getElementById(id);
const COLORS = ["#4fb3ff", "#52c27a", "#e6b450", "#ef6461", "#b48ead", "#88c0d0",
                "#d08770", "#a3be8c", "#ebcb8b", "#5e81ac"];
let chart = null, chartNames = "", busy = false;

function kib(v) { return v === null ? "-" : (v / 1024).toFixed(1); }
function mib(k) { return (k / 1024).toFixed(1); }
function pct(v) { return v === null ? "-" : v.toFixed(1); }

// the cell of class cls in row tr (made if missing), showing text unless
// text is null (a cell the caller fills itself)
function cell(tr, cls, text) {
  let td = tr.querySelector("td." + cls);
  if (!td) { td = document.createElement("td"); td.className = cls; tr.appendChild(td); }
  if (text !== null && td.textContent !== String(text)) td.textContent = text;
  return td;
}

function button(label, action, target) {
  const b = document.createElement("button");
  b.textContent = label;
  b.dataset.action = action;
  b.dataset.target = target;
  b.addEventListener("click", () => act(action, target));
  return b;
}

function actionsFor(d) {
  const span = document.createElement("span");
  if (d.id === 0) return span;
  const paused = d.state.indexOf("p") >= 0;
  const con = document.createElement("button");
  con.textContent = "Console";
  con.dataset.console = d.name;
  con.addEventListener("click", () => openConsole(d.name));
  span.append(con);
  span.append(paused ? button("Unpause", "unpause", d.name) : button("Pause", "pause", d.name),
              button("Shut down", "shutdown", d.name), button("Destroy", "destroy", d.name),
              button("Clone", "clone", d.name), button("Save", "save", d.name));
  return span;
}

function drawDomains(s) {
  const body = $("domains").tBodies[0];
  const keep = new Set();
  for (const d of s.domains) {
    keep.add(d.name);
    let tr = body.querySelector('tr[data-name="' + CSS.escape(d.name) + '"]');
    if (!tr) { tr = document.createElement("tr"); tr.dataset.name = d.name; body.appendChild(tr); }
    cell(tr, "name", d.name);
    cell(tr, "id", d.id);
    cell(tr, "state", d.state).className = "state " + (d.state.indexOf("c") >= 0 ? "state-c" :
                                           d.state.indexOf("p") >= 0 ? "state-p" : "");
    cell(tr, "cpu", pct(d.cpu));
    cell(tr, "mem", mib(d.mem_k));
    cell(tr, "max", mib(d.max_k));
    cell(tr, "vcpus", d.vcpus);
    cell(tr, "net", kib(d.net_rx_Bps) + " / " + kib(d.net_tx_Bps));
    cell(tr, "disk", kib(d.disk_rd_Bps) + " / " + kib(d.disk_wr_Bps));
    cell(tr, "exits", d.exits_per_s === null ? "-" : d.exits_per_s);
    const act = cell(tr, "actions", null);
    const key = d.state + (s.control ? "c" : "");
    if (act.dataset.key !== key) { act.replaceChildren(actionsFor(d)); act.dataset.key = key; }
  }
  for (const tr of Array.from(body.rows)) if (!keep.has(tr.dataset.name)) tr.remove();
}

function drawCpus(s) {
  const body = $("cpus").tBodies[0];
  body.replaceChildren(...s.cpus.map((c) => {
    const tr = document.createElement("tr");
    tr.dataset.cpu = c.cpu;
    cell(tr, "cpu", c.cpu);
    cell(tr, "role", c.role);
    const td = cell(tr, "busy", null);
    const bar = document.createElement("div"), fill = document.createElement("div");
    bar.className = "bar";
    fill.style.width = (c.busy === null ? 0 : Math.min(100, c.busy)) + "%";
    bar.appendChild(fill);
    td.append(bar, " " + pct(c.busy) + "%");
    cell(tr, "who", c.who);
    return tr;
  }));
}

function drawChart(s) {
  const n = Math.max(1, ...s.domains.map((d) => d.cpu_hist.length));
  const xs = Array.from({ length: n }, (_, i) => i - n + 1);
  const data = [xs].concat(s.domains.map((d) =>
    Array(n - d.cpu_hist.length).fill(null).concat(d.cpu_hist)));
  const names = s.domains.map((d) => d.name).join("\n");
  const box = $("cpu-chart");
  const width = Math.max(300, box.clientWidth || 600);
  if (typeof uPlot === "undefined") { box.textContent = "(the chart library did not load)"; return; }
  if (!chart || names !== chartNames) {
    if (chart) chart.destroy();
    chartNames = names;
    chart = new uPlot({
      width: width, height: 220,
      scales: { x: { time: false }, y: { range: (u, lo, hi) => [0, Math.max(100, hi)] } },
      axes: [{ stroke: "#8a97a8", label: "seconds ago", grid: { stroke: "#2b3645" } },
             { stroke: "#8a97a8", label: "CPU %", grid: { stroke: "#2b3645" } }],
      series: [{ label: "s" }].concat(s.domains.map((d, i) => ({
        label: d.name, stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: false,
      }))),
    }, data, box);
  } else {
    if (Math.abs(chart.width - width) > 20) chart.setSize({ width: width, height: 220 });
    chart.setData(data);
  }
}

function drawPresets(s) {
  const box = $("presets");
  const key = s.presets.join(",") + (s.control ? "c" : "");
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  box.replaceChildren(...s.presets.map((p) => button("Start " + p, "start", p)));
  $("control-help").hidden = !s.control;
  if (!s.control) box.replaceChildren(document.createTextNode("This dashboard is read-only."));
}

function draw(s) {
  const m = s.mem_k, c = s.counts;
  $("summary").textContent = "Keel " + s.version + ", up " + s.uptime + " \u00b7 " + c.total +
    " domains: " + c.running + " running, " + c.blocked + " blocked, " + c.paused + " paused, " +
    c.crashed + " crashed \u00b7 CPUs " + s.cpus_total + " (dom0 " + s.cpus_dom0 + ", pool " +
    s.cpus_pool + ")";
  $("memory").textContent = "Pool: " + mib(m.free) + " MiB free of " + mib(m.pool) +
    " MiB \u00b7 machine " + mib(m.total) + " MiB, dom0 " + mib(m.dom0) + " MiB, hypervisor " +
    mib(m.hypervisor) + " MiB";
  $("memory").dataset.freeK = m.free;
  $("mem-used").style.width = (m.pool ? 100 * (m.pool - m.free) / m.pool : 0) + "%";
  if ($("compat").textContent !== s.compat) $("compat").textContent = s.compat;
  drawDomains(s);
  drawCpus(s);
  drawPresets(s);
  drawChart(s);
  document.body.dataset.updated = Date.now();
}

function say(ok, text) {
  const m = $("message");
  m.className = ok ? "ok" : "bad";
  m.textContent = text;
}

async function act(action, target) {
  if (busy) { say(false, "One action at a time: wait for the last one."); return; }
  const token = $("token").value.trim();
  sessionStorage.setItem("keel-token", token);
  busy = true;
  say(true, action + " " + target + "\u2026");
  try {
    const r = await fetch("/api/action?action=" + encodeURIComponent(action) + "&target=" +
                          encodeURIComponent(target), {
      method: "POST", headers: { "X-Keel-Token": token } });
    const j = await r.json();
    say(j.ok, action + " " + target + ": " + j.message.trim());
  } catch (e) {
    say(false, action + " " + target + ": no answer from dom0 (" + e + ")");
  } finally {
    busy = false;
  }
}

// ---- a guest's console (xterm.js): output streamed from
// /api/console/<name>, keys POSTed there in order, one request at a time
const con = { term: null, es: null, name: null, queue: "", sending: false };

function closeConsole() {
  if (con.es) con.es.close();
  if (con.term) con.term.dispose();
  con.es = con.term = con.name = null;
  con.queue = "";
  $("console-box").hidden = true;
}

async function flushConsole(name, token) {
  if (con.sending || !con.queue) return;
  con.sending = true;
  while (con.queue && con.name === name) {
    const data = con.queue;
    con.queue = "";
    try {
      const r = await fetch("/api/console/" + encodeURIComponent(name), {
        method: "POST", headers: { "X-Keel-Token": token }, body: data });
      if (!r.ok) say(false, "console " + name + ": " + (await r.json()).message);
    } catch (e) {
      say(false, "console " + name + ": no answer from dom0");
    }
  }
  con.sending = false;
}

function openConsole(name) {
  const token = $("token").value.trim();
  if (!token) { say(false, "The console needs the control token."); return; }
  if (typeof Terminal === "undefined") { say(false, "The terminal library did not load."); return; }
  closeConsole();
  con.name = name;
  $("console-title").textContent = "Console of " + name + " (what you type goes to the guest)";
  $("console-box").hidden = false;
  con.term = new Terminal({ cols: 100, rows: 24, fontSize: 14, scrollback: 2000 });
  con.term.open($("terminal"));
  con.term.onData((d) => { con.queue += d; flushConsole(name, token); });
  con.es = new EventSource("/api/console/" + encodeURIComponent(name) + "?token=" +
                           encodeURIComponent(token));
  con.es.onmessage = (e) => { if (con.term) con.term.write(JSON.parse(e.data)); };
  con.es.onerror = () => {
    if (con.es && con.es.readyState === EventSource.CLOSED)
      say(false, "console " + name + " closed (is the token right? is the guest there?)");
  };
  con.term.focus();
}

// what the console shows, as text (for people who copy it, and the tests)
function consoleText() {
  if (!con.term) return "";
  const b = con.term.buffer.active, lines = [];
  for (let i = 0; i < b.length; i++) lines.push(b.getLine(i).translateToString(true));
  return lines.join("\n");
}
window.keelConsole = con;
window.keelConsoleText = consoleText;
$("console-close").addEventListener("click", closeConsole);

function connect() {
  const es = new EventSource("/api/events");
  es.onmessage = (e) => { $("live").className = "on"; draw(JSON.parse(e.data)); };
  es.onerror = () => { $("live").className = "off"; };
}

$("token").value = sessionStorage.getItem("keel-token") || "";
fetch("/api/state").then((r) => r.ok ? r.json() : null).then((s) => { if (s) draw(s); })
  .catch(() => {});
connect();
