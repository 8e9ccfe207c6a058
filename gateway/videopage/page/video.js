// The /video/ join page: signalling over /ws/video (channels/video/PROTOCOL.md),
// one RTCPeerConnection to the gateway's SFU. The DOM is built with
// textContent only (Trusted Types).
const $ = (id) => document.getElementById(id);

// state is exposed for tests and debugging (window.airbranchVideo).
const state = {
  ws: null, pc: null, nextID: 0, token: "", identity: "", role: "", iceServers: [],
  local: null, screenSender: null, chat: null, joined: false, tiles: new Map(), chats: [],
};
window.airbranchVideo = state;

function log(text) {
  const li = document.createElement("li");
  li.textContent = new Date().toLocaleTimeString() + " " + text;
  $("log").prepend(li);
}

function setStatus(text, st) {
  $("status").textContent = text;
  $("status").dataset.state = st;
}

function send(type, data) {
  const id = String(++state.nextID);
  const f = { v: 1, type, id };
  if (data !== undefined) f.data = data;
  state.ws.send(JSON.stringify(f));
  return id;
}

async function tokenFromPage() {
  const h = new URLSearchParams(location.hash.slice(1));
  if (h.get("token")) return h.get("token");
  if (h.get("invite")) {
    const r = await fetch("/video/invitations/" + encodeURIComponent(h.get("invite")), { method: "POST" });
    if (!r.ok) throw new Error("the invitation was not accepted (" + r.status + "): it may have been used or have expired");
    const j = await r.json();
    history.replaceState(null, "", location.pathname + "#token=" + j.token);
    return j.token;
  }
  return $("token").value.trim();
}

async function preview() {
  try {
    state.local = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 480 } });
    $("self").srcObject = state.local;
  } catch (e) {
    log("camera or microphone not available: " + e.message);
    state.local = new MediaStream();
  }
}

function tile(identity) {
  let t = state.tiles.get(identity);
  if (t) return t;
  const fig = document.createElement("figure");
  fig.className = "tile";
  fig.dataset.identity = identity;
  const v = document.createElement("video");
  v.autoplay = true;
  v.playsInline = true;
  const cap = document.createElement("figcaption");
  cap.textContent = identity;
  fig.append(v, cap);
  $("tiles").append(fig);
  t = { fig, video: v, cap, stream: new MediaStream() };
  v.srcObject = t.stream;
  state.tiles.set(identity, t);
  return t;
}

function dropTile(identity) {
  const t = state.tiles.get(identity);
  if (t) {
    t.fig.remove();
    state.tiles.delete(identity);
  }
}

function lobbyEntry(p) {
  if (state.role !== "rm") return;
  $("waiting").hidden = false;
  const li = document.createElement("li");
  li.dataset.identity = p.identity;
  li.textContent = (p.name || p.identity) + " ";
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = "Admit";
  b.className = "admit";
  b.addEventListener("click", () => { send("admit", { identity: p.identity }); li.remove(); });
  const r = document.createElement("button");
  r.type = "button";
  r.textContent = "Remove";
  r.addEventListener("click", () => { send("remove", { identity: p.identity }); li.remove(); });
  li.append(b, r);
  $("waiting-list").append(li);
}

async function offer() {
  const o = await state.pc.createOffer();
  await state.pc.setLocalDescription(o);
  send("offer", { type: "offer", sdp: state.pc.localDescription.sdp });
}

async function startMedia() {
  if (state.pc) return;
  $("lobby").hidden = true;
  setStatus("In the room", "joined");
  const pc = new RTCPeerConnection({ iceServers: state.iceServers });
  state.pc = pc;
  for (const t of state.local.getTracks()) pc.addTrack(t, state.local);
  state.chat = pc.createDataChannel("chat");
  state.chat.onmessage = (e) => {
    const m = JSON.parse(e.data);
    state.chats.push(m);
    const li = document.createElement("li");
    li.textContent = m.type === "chat" ? (m.name || m.from) + ": " + m.text : "not sent: " + m.message;
    $("chat-log").append(li);
  };
  pc.onicecandidate = (e) => { if (e.candidate) send("candidate", e.candidate.toJSON()); };
  pc.ontrack = (e) => {
    const id = e.streams[0] ? e.streams[0].id : "unknown";
    const t = tile(id);
    t.stream.addTrack(e.track);
    e.track.onended = () => t.stream.removeTrack(e.track);
  };
  pc.onconnectionstatechange = () => log("media: " + pc.connectionState);
  for (const b of ["mute-audio", "mute-video", "screen", "consent", "chat-text", "chat-send"]) $(b).disabled = false;
  await offer();
}

async function onFrame(f) {
  const d = f.data || {};
  switch (f.type) {
    case "welcome":
      state.identity = d.identity;
      state.role = d.role;
      state.iceServers = d.ice_servers || [];
      send("join", { resume: false });
      break;
    case "ack":
      if (d && d.state === "joined") await startMedia();
      else if (d && d.state === "lobby") { $("lobby").hidden = false; setStatus("In the lobby", "lobby"); }
      if (d && d.participants) for (const p of d.participants) if (p.state === "lobby") lobbyEntry(p);
      break;
    case "admitted":
      log("admitted by " + d.by);
      await startMedia();
      break;
    case "offer":
      if (state.pc.signalingState === "have-local-offer") return; // impolite: the server rolls back
      await state.pc.setRemoteDescription(d);
      await state.pc.setLocalDescription(await state.pc.createAnswer());
      send("answer", { type: "answer", sdp: state.pc.localDescription.sdp });
      break;
    case "answer":
      await state.pc.setRemoteDescription(d);
      break;
    case "candidate":
      if (state.pc) await state.pc.addIceCandidate(d).catch((e) => log("candidate: " + e.message));
      break;
    case "lobby":
      lobbyEntry(d);
      log((d.name || d.identity) + " waits in the lobby");
      break;
    case "participant_joined":
      log((d.name || d.identity) + " joined");
      break;
    case "participant_left":
      dropTile(d.identity);
      log((d.name || d.identity) + " left");
      break;
    case "mute":
      log(d.identity + (d.muted ? " muted " : " unmuted ") + d.kind);
      break;
    case "recording":
      $("recording").hidden = !d.active;
      log(d.active ? "recording" : "not recording" + (d.waiting ? " (waiting for consent of " + d.waiting.join(", ") + ")" : ""));
      break;
    case "removed":
    case "room_ended":
      setStatus(f.type === "removed" ? "Removed from the room" : "The session has ended", "ended");
      hangUp();
      break;
    case "error":
      log("error " + d.code + ": " + d.message);
      break;
  }
}

function hangUp() {
  if (state.pc) state.pc.close();
  state.pc = null;
  for (const id of [...state.tiles.keys()]) dropTile(id);
  for (const b of ["mute-audio", "mute-video", "screen", "consent", "leave", "chat-text", "chat-send"]) $(b).disabled = true;
}

async function join() {
  $("join").disabled = true;
  try {
    state.token = await tokenFromPage();
  } catch (e) {
    setStatus(e.message, "error");
    $("join").disabled = false;
    return;
  }
  if (!state.token) { setStatus("A join token is needed", "error"); $("join").disabled = false; return; }
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const ws = new WebSocket(scheme + location.host + "/ws/video", ["airbranch.video.v1", "bearer." + state.token]);
  state.ws = ws;
  setStatus("Connecting", "connecting");
  // Frames are handled one at a time, in order.
  let chain = Promise.resolve();
  ws.onmessage = (e) => { chain = chain.then(() => onFrame(JSON.parse(e.data))).catch((err) => log("frame: " + err.message)); };
  ws.onclose = (e) => { log("signalling closed (" + e.code + ")"); if ($("status").dataset.state !== "ended") setStatus("Disconnected", "closed"); };
  ws.onopen = () => { $("setup").hidden = true; $("leave").disabled = false; };
}

function toggle(kind, button, on, off) {
  const tracks = kind === "audio" ? state.local.getAudioTracks() : state.local.getVideoTracks();
  if (!tracks.length) return;
  const muted = tracks[0].enabled;
  for (const t of tracks) t.enabled = !muted;
  button.textContent = muted ? off : on;
  send("mute", { kind, muted });
}

async function shareScreen() {
  if (state.screenSender) {
    state.screenSender.track && state.screenSender.track.stop();
    state.pc.removeTrack(state.screenSender);
    state.screenSender = null;
    $("screen").textContent = "Share screen";
    send("mute", { kind: "screen", muted: true });
    await offer();
    return;
  }
  try {
    const s = await navigator.mediaDevices.getDisplayMedia({ video: true });
    const track = s.getVideoTracks()[0];
    state.screenSender = state.pc.addTrack(track, s);
    track.onended = () => { if (state.screenSender) shareScreen(); };
    $("screen").textContent = "Stop sharing";
    await offer();
  } catch (e) {
    log("screen share: " + e.message);
  }
}

function sendChat() {
  const text = $("chat-text").value.trim();
  if (!text || !state.chat || state.chat.readyState !== "open") return;
  state.chat.send(JSON.stringify({ id: "m-" + Date.now() + "-" + state.nextID++, text }));
  $("chat-text").value = "";
}

$("join").addEventListener("click", join);
$("mute-audio").addEventListener("click", (e) => toggle("audio", e.target, "Mute", "Unmute"));
$("mute-video").addEventListener("click", (e) => toggle("video", e.target, "Camera off", "Camera on"));
$("screen").addEventListener("click", shareScreen);
$("consent").addEventListener("change", (e) => send("consent", { recording: e.target.checked }));
$("leave").addEventListener("click", () => { send("leave"); setStatus("You left", "ended"); hangUp(); });
$("chat-send").addEventListener("click", sendChat);
$("chat-text").addEventListener("keydown", (e) => { if (e.key === "Enter") sendChat(); });
preview().then(() => { if (location.hash.includes("token=") || location.hash.includes("invite=")) join(); });
