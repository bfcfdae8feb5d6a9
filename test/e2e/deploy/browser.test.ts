// A real browser against a real VNC server through wsproxy: the built-in viewer and Debian's noVNC (--web), over
// ws:// and wss:// on the same port (vnc.html and vnc_lite.html). The remote screen is white (Xvnc -wr); the canvas
// must show it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, startXvnc, type VncServer } from '../../helpers/browser.js';
import { startProxy, type TestProxy } from '../../helpers/proxy.js';

const NOVNC_WEB = process.env['NOVNC_WEB'] ?? '/usr/share/novnc';

// Page-side functions run in the browser. The project compiles without DOM types, so they describe the little DOM
// they touch structurally. (String predicates would be eval'd in the page, which the page's CSP rightly refuses.)
interface PageCanvas {
  width: number;
  height: number;
  getContext(
    kind: '2d',
  ): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null;
}
interface PageDocument {
  querySelector(selector: string): unknown;
  getElementById(id: string): { className: string } | null;
  documentElement: { classList: { contains(c: string): boolean } };
}

function centrePixel(selector: string): number[] {
  const c = (globalThis as unknown as { document: PageDocument }).document.querySelector(selector) as PageCanvas | null;
  const ctx = c?.getContext('2d');
  if (!c || !ctx) return [];
  return Array.from(ctx.getImageData(Math.floor(c.width / 2), Math.floor(c.height / 2), 1, 1).data);
}

async function pixelAt(page: Page, selector: string): Promise<number[]> {
  return page.evaluate(centrePixel, selector);
}

async function waitForWhite(page: Page, selector: string): Promise<void> {
  await page.waitForFunction(
    (sel: string) => {
      const c = (globalThis as unknown as { document: PageDocument }).document.querySelector(sel) as PageCanvas | null;
      const ctx = c?.getContext('2d');
      return !!c && !!ctx && ctx.getImageData(Math.floor(c.width / 2), Math.floor(c.height / 2), 1, 1).data[0] === 255;
    },
    selector,
    { timeout: 10_000 },
  );
}

describe('browser: VNC through wsproxy', { timeout: 120_000 }, () => {
  let vnc: VncServer;
  let proxy: TestProxy;
  let web: TestProxy;
  let browser: Browser;
  before(async () => {
    vnc = await startXvnc();
    proxy = await startProxy(vnc.port);
    web = await startProxy(vnc.port, { webRoot: NOVNC_WEB });
    browser = await launchChromium(proxy.ca);
  });
  after(async () => {
    await browser.close();
    await proxy.close();
    await web.close();
    await vnc.stop();
  });

  for (const scheme of ['http', 'https'] as const) {
    test(`built-in viewer over ${scheme}:// shows the remote screen`, async () => {
      const page = await browser.newPage();
      try {
        await page.goto(`${scheme}://localhost:${proxy.port}/vnc.html`);
        await page.waitForFunction(
          () =>
            (globalThis as unknown as { document: PageDocument }).document.getElementById('status')?.className === 'ok',
          null,
          { timeout: 20_000 },
        );
        assert.match(
          (await page.textContent('#status')) ?? '',
          new RegExp(`Connected \\(${scheme === 'https' ? 'wss' : 'ws'}\\)|Connected to`),
        );
        await waitForWhite(page, '#screen canvas');
        assert.deepEqual(await pixelAt(page, '#screen canvas'), [255, 255, 255, 255]);
      } finally {
        await page.close();
      }
    });

    test(`noVNC's vnc.html from --web over ${scheme}:// connects and shows the remote screen`, async () => {
      const page = await browser.newPage();
      try {
        const encrypt = scheme === 'https' ? '&encrypt=1' : '';
        await page.goto(
          `${scheme}://localhost:${web.port}/vnc.html?autoconnect=1&host=localhost&port=${web.port}&path=websockify${encrypt}`,
        );
        await page.waitForFunction(
          () =>
            (globalThis as unknown as { document: PageDocument }).document.documentElement.classList.contains(
              'noVNC_connected',
            ),
          null,
          { timeout: 20_000 },
        );
        await waitForWhite(page, '#noVNC_container canvas');
        assert.deepEqual(await pixelAt(page, '#noVNC_container canvas'), [255, 255, 255, 255]);
        assert.ok(web.logs.some((l) => l.includes(`scheme=${scheme === 'https' ? 'wss' : 'ws'}`)));
      } finally {
        await page.close();
      }
    });

    // vnc_lite.html runs an inline module script and inline styles: it needs --web files served without wsproxy's
    // strict CSP (issue #12 finding 17).
    test(`noVNC's vnc_lite.html from --web over ${scheme}:// connects and shows the remote screen`, async () => {
      const page = await browser.newPage();
      try {
        const res = await page.goto(`${scheme}://localhost:${web.port}/vnc_lite.html?path=websockify`);
        assert.equal(res?.headers()['content-security-policy'], undefined, '--web files carry no CSP by default');
        await page.waitForFunction(
          () =>
            (
              (globalThis as unknown as { document: PageDocument }).document.getElementById('status') as {
                textContent?: string;
              } | null
            )?.textContent?.startsWith('Connected to') === true,
          null,
          { timeout: 20_000 },
        );
        await waitForWhite(page, '#screen canvas');
        assert.deepEqual(await pixelAt(page, '#screen canvas'), [255, 255, 255, 255]);
      } finally {
        await page.close();
      }
    });
  }
});
