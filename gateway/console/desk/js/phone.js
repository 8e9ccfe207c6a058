// The desk's softphone (docs/desk-protocol.md, "Softphone"): with it on,
// the RM's accepted calls come to this page instead of their desk phone.
// The gateway sends a WebRTC offer (phone.offer, PCMU audio) over the desk
// socket; the page answers with the microphone (phone.answer, every ICE
// candidate in the SDP) and plays the client in an <audio> element.
// Hanging up sends phone.hangup; the gateway's phone.hangup (the client
// hung up) closes the call here. Call events ("call" in the RM's stream)
// show how each call goes, whatever device takes it. Nothing here writes
// to the browser console.

import { $ } from './dom.js';
import { alertRM, announce } from './notices.js';

/** How long the page waits for its ICE candidates before answering (ms). */
const GATHER_MS = 3000;
/** How often the call's RTP counters are read while in a call (ms). */
const STATS_EVERY_MS = 1000;

const DEVICE = { phone: 'your desk phone', softphone: 'this page' };
const ENDED_BY = { client: 'the client', rm: 'you', gateway: 'the gateway' };

/** The softphone's state: off, idle (on, no call), connecting, in_call. */
let st = 'off';
let ask = null;
let mic = null;
let call = null; // {id, conversationId, pc, timer}

/**
 * Wires the softphone's controls. request(type, data) sends a desk
 * request and resolves to its ack's data (rejecting with a DeskError).
 */
export function initPhone(request) {
  ask = request;
  $('softphone-toggle').addEventListener('click', () => setEnabled(st === 'off'));
  $('softphone-hangup').addEventListener('click', () => hangUp());
  render();
}

/** Turns the softphone on (asking for the microphone first) or off. */
async function setEnabled(on) {
  const button = $('softphone-toggle');
  button.disabled = true;
  try {
    if (on && !mic) mic = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
    await ask('phone.register', { enabled: on });
    st = on ? (call ? st : 'idle') : 'off';
    if (!on && mic) {
      for (const t of mic.getTracks()) t.stop();
      mic = null;
    }
  } catch (err) {
    alertRM('Softphone', err.code ? err : 'The microphone is not available: allow it for this page and try again.');
  } finally {
    button.disabled = false;
    render();
  }
}

/** After a new welcome (a new session): the softphone is registered again. */
export function resumePhone() {
  if (st === 'off' || !ask) return;
  ask('phone.register', { enabled: true }).catch((err) => alertRM('Softphone', err));
}

/** Takes a frame the server pushed (no seq): phone.offer, phone.hangup. */
export function onPush(f) {
  const d = f.data || {};
  if (f.type === 'phone.offer') answer(d);
  else if (f.type === 'phone.hangup' && call && call.id === d.call_id) {
    const by = ENDED_BY[d.ended_by];
    close(by && d.ended_by !== 'rm' ? `Call ended by ${by}.` : 'Call ended.');
  }
}

/** Shows a call event of the RM's stream. */
export function onCallEvent(d) {
  const el = $('call-state');
  el.dataset.state = d.state || '';
  el.dataset.conversationId = d.conversation_id || '';
  el.dataset.endedBy = d.ended_by || '';
  const where = DEVICE[d.device] || '';
  const text = {
    offered: 'A call is offered to you.',
    ringing: where ? `A call rings on ${where}.` : 'A call rings.',
    bridged: where ? `In a call on ${where}.` : 'In a call.',
    held: 'The call is on hold.',
    resumed: 'The call is back from hold.',
    ended: d.ended_by ? `The call was ended by ${ENDED_BY[d.ended_by] || d.ended_by}.` : 'The call ended.',
  }[d.state];
  if (text) el.textContent = text;
}

async function answer(d) {
  if (st !== 'idle' || !mic) {
    // Busy, or turned off meanwhile: refuse, the call goes to someone else.
    ask('phone.hangup', { call_id: d.call_id }).catch(() => {});
    return;
  }
  const pc = new RTCPeerConnection();
  call = { id: d.call_id, conversationId: d.conversation_id, pc, timer: 0 };
  st = 'connecting';
  render();
  try {
    for (const t of mic.getAudioTracks()) pc.addTrack(t, mic);
    pc.addEventListener('track', (ev) => {
      const audio = $('softphone-audio');
      audio.srcObject = ev.streams[0] || new MediaStream([ev.track]);
      audio.play().catch(() => {});
    });
    pc.addEventListener('connectionstatechange', () => {
      if (!call || call.pc !== pc) return;
      if (pc.connectionState === 'connected') {
        st = 'in_call';
        announce('The call is connected on this page.');
        render();
      } else if (pc.connectionState === 'failed') {
        hangUp('The call’s connection failed.');
      }
    });
    await pc.setRemoteDescription({ type: 'offer', sdp: d.sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered(pc);
    await ask('phone.answer', { call_id: d.call_id, sdp: pc.localDescription.sdp });
    call.timer = setInterval(() => readStats(pc), STATS_EVERY_MS);
  } catch (err) {
    if (call && call.pc === pc) {
      alertRM('Softphone', err.code ? err : 'The call could not be answered on this page.');
      hangUp();
    }
  }
}

/** Resolves once ICE gathering completed, or after GATHER_MS. */
function gathered(pc) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState !== 'complete') return;
      pc.removeEventListener('icegatheringstatechange', done);
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(resolve, GATHER_MS);
    pc.addEventListener('icegatheringstatechange', done);
  });
}

/** Shows the call's RTP counters (RTCPeerConnection.getStats). */
async function readStats(pc) {
  let inbound = 0;
  let outbound = 0;
  try {
    const report = await pc.getStats();
    report.forEach((s) => {
      if (s.kind !== 'audio') return;
      if (s.type === 'inbound-rtp') inbound += s.packetsReceived || 0;
      if (s.type === 'outbound-rtp') outbound += s.packetsSent || 0;
    });
  } catch {
    return;
  }
  const el = $('softphone');
  el.dataset.packetsReceived = String(inbound);
  el.dataset.packetsSent = String(outbound);
  $('softphone-stats').textContent = `Audio packets received ${inbound}, sent ${outbound}.`;
}

/** Hangs up the call on this page (BYE to the client). */
function hangUp(problem = '') {
  if (!call) return;
  ask('phone.hangup', { call_id: call.id }).catch(() => {
    // The call may have ended at the gateway already.
  });
  close(problem || 'Call ended.');
}

function close(text) {
  if (!call) return;
  clearInterval(call.timer);
  call.pc.close();
  call = null;
  $('softphone-audio').srcObject = null;
  st = st === 'off' ? 'off' : 'idle';
  announce(text);
  render();
}

function render() {
  const el = $('softphone');
  el.dataset.state = st;
  el.textContent = {
    off: 'Off: your calls ring your desk phone.',
    idle: 'On: your calls come to this page.',
    connecting: 'Connecting a call…',
    in_call: 'In a call on this page.',
  }[st];
  const toggle = $('softphone-toggle');
  toggle.setAttribute('aria-pressed', String(st !== 'off'));
  toggle.textContent = st === 'off' ? 'Take calls here' : 'Stop taking calls here';
  toggle.disabled = Boolean(call); // the microphone stays until the call ends
  $('softphone-hangup').hidden = !call;
}
