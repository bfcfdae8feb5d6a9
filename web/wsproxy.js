// The built-in page: shows how to connect, the certificate in use, and (with --demo) a live round trip over ws:// and
// wss://. Everything shown comes from /wsproxy/info.json or the page's own location, never from the query string,
// and is written with textContent only.
'use strict';

const $ = (id) => document.getElementById(id);

function setText(id, text) {
  const el = $(id);
  if (el) el.textContent = text;
}

function roundTrip(url, cell) {
  return new Promise((resolve) => {
    const payload = new Uint8Array(32);
    crypto.getRandomValues(payload);
    const started = performance.now();
    let done = false;
    let ws;
    const finish = (ok, text) => {
      if (done) return;
      done = true;
      cell.textContent = text;
      cell.className = ok ? 'pass' : 'fail';
      try { ws.close(); } catch { /* already closed */ }
      resolve(ok);
    };
    try {
      ws = new WebSocket(url);
    } catch (err) {
      finish(false, `cannot open: ${err.message}`);
      return;
    }
    ws.binaryType = 'arraybuffer';
    const timer = setTimeout(() => finish(false, 'no answer within 5 s'), 5000);
    let received = new Uint8Array(0);
    ws.onopen = () => ws.send(payload);
    ws.onmessage = (ev) => {
      const chunk = new Uint8Array(ev.data);
      const joined = new Uint8Array(received.length + chunk.length);
      joined.set(received);
      joined.set(chunk, received.length);
      received = joined;
      if (received.length >= payload.length) {
        clearTimeout(timer);
        const same = payload.every((b, i) => received[i] === b);
        finish(same, same ? `echoed 32 bytes in ${(performance.now() - started).toFixed(1)} ms` : 'echo differs');
      }
    };
    ws.onerror = () => {
      clearTimeout(timer);
      finish(false, url.startsWith('wss:') && location.protocol === 'http:'
        ? 'failed: accept the certificate over https:// first'
        : 'failed (see the server log)');
    };
    ws.onclose = (ev) => {
      clearTimeout(timer);
      finish(false, `closed (${ev.code})`);
    };
  });
}

async function main() {
  const host = location.host;
  const wsUrl = `ws://${host}/websockify`;
  const wssUrl = `wss://${host}/websockify`;
  setText('ws-url', wsUrl);
  setText('wss-url', wssUrl);
  setText('novnc-host', location.hostname);
  setText('novnc-port', location.port || (location.protocol === 'https:' ? '443' : '80'));
  const httpsLink = $('https-link');
  if (httpsLink) httpsLink.href = `https://${host}/`;

  const note = $('scheme-note');
  let info;
  try {
    const res = await fetch('/wsproxy/info.json', { cache: 'no-store' });
    info = await res.json();
  } catch {
    note.textContent = 'Could not read /wsproxy/info.json from the server.';
    note.className = 'note warn';
    return;
  }
  setText('version', info.version);
  if (location.protocol === 'https:') {
    note.textContent = 'The certificate was accepted: this page came over https://, so wss:// will work from this browser.';
    note.className = 'note ok';
  } else if (info.certificate.loaded) {
    note.textContent = 'This page came over plain http://. ws:// works as is; for wss:// open the page over https:// once.';
  } else {
    note.textContent = 'No TLS certificate is loaded, so only ws:// and http:// work (see the server log).';
    note.className = 'note warn';
  }
  if (info.certificate.loaded) {
    setText('cert-fingerprint', info.certificate.fingerprint256);
    setText('cert-names', info.certificate.names.join(', '));
    setText('cert-valid', new Date(info.certificate.validTo).toUTCString());
  } else {
    setText('cert-fingerprint', 'no certificate loaded');
  }

  // What to do next: the exact URL for this host and scheme (from location, never from the query string).
  setText('next-url', location.protocol === 'https:' || info.certificate.loaded ? wssUrl : wsUrl);
  if (info.certificate.loaded && location.protocol === 'https:') {
    const typed = location.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    const names = info.certificate.names.map((n) => n.toLowerCase());
    const matches = names.some((n) => n === typed || (n.startsWith('*.') && typed.endsWith(n.slice(1)) && typed.split('.').length === n.split('.').length));
    const check = $('name-check');
    check.hidden = false;
    if (matches) {
      check.textContent = `The address you used (${typed}) is one of the certificate's names.`;
      check.className = 'note ok';
    } else {
      check.textContent = `The address you used (${typed}) is not one of the certificate's names (${names.join(', ')}): iOS and other clients will refuse it even with the CA installed. Use one of those names, or re-issue with wsproxy cert init --host ${typed}.`;
      check.className = 'note warn';
    }
  }

  if (info.ca) {
    $('ca').hidden = false;
    setText('ca-subject', info.ca.subject);
    setText('ca-fingerprint', info.ca.fingerprint256);
    setText('ca-valid', new Date(info.ca.validTo).toUTCString());
  }

  if (info.demo) {
    $('demo').hidden = false;
    const run = async () => {
      // An https:// page may not open ws:// (mixed content); only wss:// is tried there.
      if (location.protocol === 'https:') {
        const cell = $('rt-ws');
        cell.textContent = 'skipped: browsers block ws:// from an https:// page';
        cell.className = '';
      } else {
        await roundTrip(wsUrl, $('rt-ws'));
      }
      if (info.certificate.loaded) await roundTrip(wssUrl, $('rt-wss'));
      else setText('rt-wss', 'no certificate loaded');
    };
    $('rt-run').addEventListener('click', () => { void run(); });
    void run();
  }
}

void main();
