// The built-in VNC viewer: noVNC's RFB core (served from the @novnc/novnc package under /novnc/) connected to this
// very host, port and scheme. The page's own ?token= goes into the WebSocket URL; nothing in the query string can
// choose another host. Status text is set with textContent only.
import RFB from '/novnc/core/rfb.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const status = $('status');
let rfb;

function setStatus(text, kind = '') {
  status.textContent = text;
  status.className = kind;
}

function wsUrl(token) {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const query = token ? `?token=${encodeURIComponent(token)}` : '';
  return `${scheme}://${location.host}/websockify${query}`;
}

// Asks for what is missing (token, user, password) in the form; resolves with the values.
function ask(fields) {
  const form = $('credentials');
  for (const f of ['user', 'token', 'password']) $(`${f}-row`).hidden = !fields.includes(f);
  form.hidden = false;
  $(fields[0]).focus();
  return new Promise((resolve) => {
    form.onsubmit = (ev) => {
      ev.preventDefault();
      form.hidden = true;
      resolve(Object.fromEntries(fields.map((f) => [f, $(f).value])));
    };
  });
}

function connect(token) {
  setStatus(`Connecting to ${location.host}…`);
  // The password from ?password= is supported as noVNC does, but a prompt is safer (URLs end up in history).
  const password = params.get('password') ?? undefined;
  rfb = new RFB($('screen'), wsUrl(token), password === undefined ? {} : { credentials: { password } });
  rfb.scaleViewport = true;
  rfb.resizeSession = false;
  rfb.addEventListener('connect', () => {
    setStatus(`Connected (${location.protocol === 'https:' ? 'wss' : 'ws'}) to ${rfb.desktopName || location.host}`, 'ok');
    $('cad').disabled = false;
    $('disconnect').disabled = false;
  });
  rfb.addEventListener('desktopname', (ev) => {
    if (status.className === 'ok') setStatus(`Connected to ${ev.detail.name}`, 'ok');
  });
  rfb.addEventListener('disconnect', (ev) => {
    setStatus(ev.detail.clean ? 'Disconnected' : 'Connection failed or was lost (see the proxy log)', ev.detail.clean ? '' : 'bad');
    $('cad').disabled = true;
    $('disconnect').disabled = true;
  });
  rfb.addEventListener('credentialsrequired', async (ev) => {
    const wanted = ev.detail.types.filter((t) => t === 'username' || t === 'password').map((t) => (t === 'username' ? 'user' : t));
    const got = await ask(wanted);
    rfb.sendCredentials({ ...(got.user === undefined ? {} : { username: got.user }), ...(got.password === undefined ? {} : { password: got.password }) });
  });
  rfb.addEventListener('securityfailure', (ev) => setStatus(`Authentication failed: ${ev.detail.reason ?? ev.detail.status}`, 'bad'));
}

$('cad').addEventListener('click', () => rfb?.sendCtrlAltDel());
$('disconnect').addEventListener('click', () => rfb?.disconnect());

async function start() {
  let token = params.get('token') ?? undefined;
  if (token === undefined && params.has('ask-token')) token = (await ask(['token'])).token;
  connect(token);
}

void start();
