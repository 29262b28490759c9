// Nothing typed is lost: what is typed in a written-answer box (class eb-answer-qN) is kept in
// this tab's sessionStorage until the kernel says the server holds it; a hidden or closing page
// asks the kernel to save at once; a new page hands its kept drafts (and the question each
// sitting was on) to its kernel when drawn; a page back online hands them over again.
// Offline (the browser's offline event, or the kernel's connection lost), the page says so in
// words and through a polite live region, and clears the note when the connection is back; typing
// in an answer box removes a "saved" note (class eb-saved-at) that newer text has made stale. The
// note is a band in the page's flow (the last row of the bar this widget sits in), never over the page.
const PREFIX = "eb-draft:";
const AT = "eb-at:";
const BUDGET = 60000;  // characters handed over at once: under the server's largest websocket message
const OFFLINE = "You are offline. What you type is kept on this page and saved when the connection returns.";

function read(key) {
  try { return JSON.parse(sessionStorage.getItem(key)); } catch (e) { return null; }
}
function write(key, value) {
  try { sessionStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* storage full or off */ }
}

// The kernel's websocket dropped and came back with no reload (a Wi-Fi blip, a proxy restarted):
// Jupyter's page reconnects by itself, and two things in ipywidgets (the page's widget manager) then
// lost what the candidate typed:
// 1. Reconnected, the manager reads every widget's state from the kernel again (request_states) and
//    sets it on the page. A box typed in since the kernel took that snapshot (keys sent after the
//    request, or lost with the old socket) went back to the older text, and the next key sent that
//    older text plus the key: the words in between were gone from the box and from the database.
//    Here the snapshot keeps the page's value of an attribute the page wrote after the request, or
//    wrote before it without hearing the kernel's echo (a write the kernel may never have got); the
//    page sends those values again once the restore is done, so the kernel holds them too.
// 2. A widget sends one update at a time and holds the next until the kernel says it handled the last
//    (an "idle" status). A status lost with the old socket never comes, so the box held every later
//    change for ever: nothing typed after the reconnect reached the kernel. Back, a widget waits only
//    for its updates still queued in the connection; the rest are lost and waited for no more.
let writes = 0;  // every page write of a widget attribute, in order (stamped on the model)

function stampWrites(proto) {
  if (!proto || proto.__ebStamped) return;
  const sync = proto.sync;
  proto.sync = function (method, m, options) {
    const attrs = method === "patch" ? options?.attrs : null;
    this.__ebWritten ??= new Map();
    for (const name of Object.keys(attrs || {})) this.__ebWritten.set(name, ++writes);
    return sync.apply(this, arguments);
  };
  proto.__ebStamped = true;
}

function widgetModelClass(model) {  // the prototype that defines ipywidgets' WidgetModel.sync
  for (let p = Object.getPrototypeOf(model); p; p = Object.getPrototypeOf(p)) {
    if (Object.prototype.hasOwnProperty.call(p, "sync") && Object.prototype.hasOwnProperty.call(p, "send_sync_message")) {
      return p;
    }
  }
  return null;
}

function countLateStatusesOnce(proto) {  // ipywidgets' WidgetModel: a status counted as lost is not counted again
  if (!proto || proto.__ebLateGuard || typeof proto._handle_status !== "function") return;
  const handle = proto._handle_status;
  proto._handle_status = function (msg) {
    // an "idle" the reconnect already counted (the server kept it for the session and sends it on the new
    // socket): ipywidgets would take it off the counter a second time, below 0 ("Pending messages < 0")
    if (msg?.content?.execution_state === "idle" && this.__ebLate > 0 && !((this._pending_msgs || 0) > 0)) {
      this.__ebLate--;
      return;
    }
    return handle.apply(this, arguments);
  };
  proto.__ebLateGuard = true;
}

const plain = (v) => v === null || ["string", "number", "boolean"].includes(typeof v);

function guardReconnects(manager, kernel) {
  const models = manager._modelsSync;  // model id -> model (ipywidgets' LabWidgetManager)
  if (manager.__ebGuarded || !(models instanceof Map) || typeof manager._create_comm !== "function"
      || typeof manager._loadFromKernel !== "function") return;
  manager.__ebGuarded = true;
  for (const m of models.values()) {
    stampWrites(widgetModelClass(m));
    countLateStatusesOnce(widgetModelClass(m));
  }
  let kept = [];  // [model, attribute]: the page's value kept over the kernel's snapshot

  const create = manager._create_comm;
  manager._create_comm = async function (target) {
    const comm = await create.apply(this, arguments);
    if (target !== "jupyter.widget.control" || typeof comm?.on_msg !== "function") return comm;
    const asked = writes;  // the page's writes up to here reach the kernel before the snapshot is taken
    const onMsg = comm.on_msg.bind(comm);
    comm.on_msg = (handler) => onMsg((msg) => {
      const data = msg?.content?.data;
      if (data?.method === "update_states" && data.states) {
        const binary = new Set((data.buffer_paths || []).map((path) => `${path[0]}\u0000${path[1]}`));
        for (const [id, entry] of Object.entries(data.states)) {
          const m = models.get(id);
          if (!m || !entry?.state) continue;
          for (const [name, value] of Object.entries(entry.state)) {
            const mine = m.get(name);
            if (mine === value || !plain(mine) || !plain(value) || binary.has(`${id}\u0000${name}`)) continue;
            const newer = (m.__ebWritten?.get(name) ?? 0) > asked || m._expectedEchoMsgIds?.has(name)
              || (m._msg_buffer && Object.prototype.hasOwnProperty.call(m._msg_buffer, name));
            if (newer) {
              delete entry.state[name];
              kept.push([m, name]);
            }
          }
        }
      }
      return handler(msg);
    });
    return comm;
  };

  const load = manager._loadFromKernel;
  manager._loadFromKernel = async function () {
    kept = [];
    try {
      return await load.apply(this, arguments);
    } finally {
      for (const [m, name] of kept) {  // the kernel may never have got these: send them again
        if (m.comm && !m._closed) m.sync("patch", m, { attrs: { [name]: m.get(name) } });
      }
      kept = [];
      for (const m of models.values()) {
        stampWrites(widgetModelClass(m));
        countLateStatusesOnce(widgetModelClass(m));
      }
    }
  };

  let was = kernel.connectionStatus;
  kernel.connectionStatusChanged.connect((_k, status) => {
    const back = status === "connected" && was !== "connected";
    was = status;
    if (!back) return;
    const queued = new Map();  // comm id -> its updates still waiting in the connection's queue
    for (const msg of kernel._pendingMessages || []) {
      const id = msg?.content?.comm_id;
      if (msg?.header?.msg_type === "comm_msg" && msg.content?.data?.method === "update") {
        queued.set(id, (queued.get(id) || 0) + 1);
      }
    }
    for (const m of models.values()) {
      const waiting = queued.get(m.comm?.comm_id) || 0;
      // as if the lost statuses had come: ipywidgets' own step sends what the widget held meanwhile
      // (the server may still send a status counted here: a session's messages are kept while it is away;
      // countLateStatusesOnce then takes it once, and the counter never goes below 0)
      for (let lost = (m._pending_msgs || 0) - waiting; lost > 0 && typeof m._handle_status === "function"; lost--) {
        m.__ebLate = (m.__ebLate || 0) + 1;
        m._handle_status({ content: { execution_state: "idle" } });
      }
    }
  });
}

function render({ model, el }) {
  el.classList.add("eb-drafts");
  const note = document.createElement("div");  // in the page from the start: a live region must be there before it speaks
  note.className = "eb-offline-note";
  note.setAttribute("role", "status");
  note.setAttribute("aria-live", "polite");
  el.append(note);
  const confirmed = new Map();  // question number -> the text the server holds (as this page knows it)

  function kept(sitting) {
    const drafts = {};
    let left = BUDGET;
    for (let i = 0; i < sessionStorage.length; i++) {
      const key = sessionStorage.key(i);
      if (!key || !key.startsWith(PREFIX)) continue;
      const name = key.slice(PREFIX.length);
      if (sitting && !name.startsWith(sitting + ":")) continue;
      const d = read(key);
      if (!d || typeof d.text !== "string") continue;
      left -= d.text.length + (d.base || "").length;
      if (left < 0) break;
      drafts[name] = { text: d.text, base: d.base || "" };
    }
    return drafts;
  }

  // a new page: hand over what this tab kept, before anyone can sign in
  const at = {};
  for (let i = 0; i < sessionStorage.length; i++) {
    const key = sessionStorage.key(i);
    if (key && key.startsWith(AT)) at[key.slice(AT.length)] = Number(sessionStorage.getItem(key)) || 0;
  }
  const drafts = kept("");
  if (Object.keys(drafts).length || Object.keys(at).length) {
    model.set("stored", { drafts, at });
    model.save_changes();
  }

  function numberOf(box) {
    const host = box.closest("[class*='eb-answer-q']");
    const m = host && /(?:^|\s)eb-answer-q(\d+)(?:\s|$)/.exec(host.className);
    return m ? Number(m[1]) : null;
  }

  document.addEventListener("input", (event) => {
    const sitting = model.get("sitting");
    const box = event.target;
    if (!sitting || !box || !(box.tagName === "TEXTAREA" || (box.tagName === "INPUT" && box.type === "text"))) return;
    const n = numberOf(box);
    if (n === null) return;
    const key = `${PREFIX}${sitting}:${n}`;
    const before = read(key);
    write(key, { text: box.value, base: before ? before.base : (confirmed.get(n) ?? "") });
    // a "saved" note is stale once newer text is typed (the kernel says "Saving…" when it hears of it)
    for (const stale of document.querySelectorAll(".eb-saved-at")) stale.remove();
  }, true);

  model.on("msg:custom", (msg) => {
    const sitting = model.get("sitting");
    if (!sitting || !msg) return;
    if (typeof msg.confirm === "number") {
      confirmed.set(msg.confirm, msg.text);
      const key = `${PREFIX}${sitting}:${msg.confirm}`;
      const d = read(key);
      if (d && d.text === msg.text) sessionStorage.removeItem(key);
      else if (d) write(key, { text: d.text, base: msg.text });  // still ahead of the server, which now holds msg.text
    } else if (msg.forget) {
      for (const name of Object.keys(kept(sitting))) sessionStorage.removeItem(PREFIX + name);
      sessionStorage.removeItem(AT + sitting);
    }
  });

  model.on("change:at", () => {
    const sitting = model.get("sitting");
    if (sitting && model.get("at") > 0) sessionStorage.setItem(AT + sitting, String(model.get("at")));
  });

  function ofSitting(sitting) {
    const out = {};
    for (const [name, d] of Object.entries(kept(sitting))) out[name.slice(sitting.length + 1)] = d;
    return out;
  }

  // save at once when the page is hidden or unloaded, not a moment later (the debounce); the text
  // travels with the message (the box's own update may still wait its turn in the page)
  const flush = () => {
    const sitting = model.get("sitting");
    if (sitting) model.send({ flush: true, drafts: ofSitting(sitting) });
  };
  window.addEventListener("beforeunload", flush, { capture: true });
  window.addEventListener("pagehide", flush, { capture: true });
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "hidden") flush(); });

  // offline: say so on the page, and politely through the live region; clear it when back
  let kernelDown = false;
  // back (online, or the kernel's connection restored): hand over again what the server has not confirmed
  const resend = () => {
    const sitting = model.get("sitting");
    if (!sitting) return;
    const drafts = ofSitting(sitting);
    if (Object.keys(drafts).length) model.send({ resend: drafts });
  };
  const showConnection = () => {
    const off = !navigator.onLine || kernelDown;
    if (off === el.classList.contains("eb-offline")) return;
    el.classList.toggle("eb-offline", off);
    note.textContent = off ? OFFLINE : "";
    if (!off) resend();
  };
  window.addEventListener("offline", showConnection);
  showConnection();
  let tries = 0;
  const watchKernel = () => {  // Voila's connection to this page's kernel (the app may still be starting)
    const manager = window.jupyterapp?.widgetManager;
    const kernel = manager?.kernel;
    if (kernel?.connectionStatusChanged) {
      guardReconnects(manager, kernel);
      const onStatus = (_k, status) => { kernelDown = status !== "connected"; showConnection(); };
      kernel.connectionStatusChanged.connect(onStatus);
      onStatus(kernel, kernel.connectionStatus);
      // reconnected, the widget manager reloads every widget's state from the kernel, which can put
      // the kernel's older text back in a box typed in meanwhile: once it has, hand the kept text over again
      manager.restored?.connect?.(() => resend());
    } else if (++tries < 30) {
      setTimeout(watchKernel, 1000);
    }
  };
  watchKernel();

  window.addEventListener("online", showConnection);

  // the band is the last row of a bar that sticks at the top of the page's scroller (in Voila an inner
  // Lumino panel, not the document): every ancestor keeps room for the bar above a control that focus
  // scrolls to (scroll-padding-top), so no control with focus is under the bar or the band (WCAG 2.4.11)
  let waits = 0;
  const keepRoom = () => {
    const bar = el.closest(".eb-bar");
    if (!bar) { if (++waits < 60) setTimeout(keepRoom, 250); return; }
    const pad = () => {
      const sticks = getComputedStyle(bar).position === "sticky";
      const room = sticks ? `${Math.ceil(bar.getBoundingClientRect().height) + 8}px` : "";
      for (let e = bar.parentElement; e; e = e.parentElement) e.style.scrollPaddingTop = room;
    };
    new ResizeObserver(pad).observe(bar);
    window.addEventListener("resize", pad);
    pad();
  };
  keepRoom();
}

export default { render };
