// The control server's board page in Debian's Chromium, driven by puppeteer-core:
//   - the page loads with no console error (its Content-Security-Policy included), shows the
//     LCD's last lines, IAP mode and twelve sectors;
//   - during a slow TFTP upload (tsize announced) the progress bar moves: a screenshot is
//     taken with the bar between 1 and 99 %;
//   - after the upload the sector map shows sector 4 programmed;
//   - Reset makes the board jump (LCD line, mode), Key + Reset brings it back to IAP mode;
//   - with --lose-flash FILE, FILE (the board's flash file) is deleted: the page shows the
//     error iapd reports, in its alert under the sector map.
// Screenshots go to --out. Exit status 0 pass, 1 fail. Run it only in the test's namespace.
//
//   node board_page.mjs --url URL --out DIR --upload 'python3 slow.py HOST FILE ...'
//        [--lose-flash FILE]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';

function arg(name) {
  const i = process.argv.indexOf('--' + name);
  if (i < 0 || i + 1 >= process.argv.length) throw new Error(`missing --${name}`);
  return process.argv[i + 1];
}

const url = arg('url');
const out = arg('out');
const upload = arg('upload').split(' ');
const loseFlash = process.argv.includes('--lose-flash') ? arg('lose-flash') : null;
const say = (m) => console.log('board_page: ' + m);
const profile = mkdtempSync(join(tmpdir(), 'iapd-chromium-'));
const problems = [];
let browser;
let page;

async function lcdHas(text, timeout = 15000) {
  await page.waitForFunction(
    (t) => document.getElementById('lcd').textContent.includes(t), { timeout }, text);
}

async function main() {
  browser = await puppeteer.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      `--user-data-dir=${profile}`],
  });
  page = await browser.newPage();
  page.on('console', (m) => { if (m.type() === 'error') problems.push('console: ' + m.text()); });
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  await page.setViewport({ width: 820, height: 980 });
  await page.goto(url, { waitUntil: 'load' });

  await lcdHas('tftp: server ready on 192.168.0.10 port 69');
  await page.waitForFunction(() => document.getElementById('mode').dataset.mode === 'iap');
  const sectors = await page.$$eval('#sectors li', (l) => l.map((li) => li.dataset.state));
  if (sectors.length !== 12) throw new Error(`sector map has ${sectors.length} sectors`);
  if (sectors.slice(0, 4).some((s) => s !== 'bootloader') ||
      sectors.slice(4).some((s) => s !== 'erased'))
    throw new Error(`sector map of an erased board: ${sectors.join(',')}`);
  say('page loaded: LCD, IAP mode, 12 sectors (4 bootloader, 8 erased)');

  const child = spawn(upload[0], upload.slice(1), { stdio: ['ignore', 'inherit', 'inherit'] });
  const done = new Promise((resolve) => child.on('exit', (code) => resolve(code)));

  await page.waitForFunction(() => {
    const v = Number(document.getElementById('progress').getAttribute('aria-valuenow'));
    return v >= 20 && v <= 80;
  }, { timeout: 30000, polling: 50 });
  await page.screenshot({ path: join(out, 'board-upload.png') });
  const shown = await page.evaluate(() => ({
    percent: Number(document.getElementById('progress').getAttribute('aria-valuenow')),
    width: document.getElementById('progress-fill').getBoundingClientRect().width,
    bar: document.getElementById('progress').getBoundingClientRect().width,
    text: document.getElementById('progress-text').textContent,
    lcd: document.getElementById('lcd').textContent,
  }));
  if (!(shown.percent >= 1 && shown.percent <= 99)) throw new Error(`percent ${shown.percent}`);
  if (!shown.text.startsWith('TFTP from 192.168.0.1: ' + shown.percent + '% ('))
    throw new Error(`progress text: ${shown.text}`);
  if (Math.abs(shown.width / shown.bar * 100 - shown.percent) > 10)
    throw new Error(`bar filled ${shown.width}/${shown.bar} px for ${shown.percent}%`);
  if (!shown.lcd.includes('tftp: transfer started from 192.168.0.1'))
    throw new Error('LCD does not show the transfer start');
  say(`screenshot during the upload: ${shown.text}`);

  const code = await done;
  if (code !== 0) throw new Error(`the upload exited ${code}`);
  await lcdHas('flash: TFTP: done, ');
  await page.waitForFunction(
    () => document.getElementById('progress-text').textContent === 'no transfer');
  await page.waitForFunction(
    () => document.querySelectorAll('#sectors li')[4].dataset.state === 'programmed');
  say('upload done: progress cleared, sector 4 programmed');

  await page.click('#reset');
  await lcdHas('boot: jump to application: MSP=0x20020000 PC=0x080101c1');
  await page.waitForFunction(() => document.getElementById('mode').dataset.mode === 'application');
  await page.waitForFunction(() => document.getElementById('reset-result').textContent ===
    'reset: application running');
  await page.screenshot({ path: join(out, 'board-jumped.png') });
  say('Reset: the board jumped to the application');

  await page.click('#key');
  const pressed = await page.$eval('#key', (b) => b.getAttribute('aria-pressed'));
  if (pressed !== 'true') throw new Error(`Key aria-pressed ${pressed} after a click`);
  await page.click('#reset');
  await lcdHas('boot: IAP mode (Key button held)');
  await page.waitForFunction(() => document.getElementById('mode').dataset.mode === 'iap');
  await page.waitForFunction(() => document.getElementById('reset-result').textContent ===
    'reset with Key held: IAP mode');
  await page.screenshot({ path: join(out, 'board-key-reset.png') });
  say('Key + Reset: IAP mode');

  // Power: the power fails with nothing in progress and comes back; the application runs.
  await page.click('#power');
  await lcdHas('(POST /api/power-cut)');
  await lcdHas('board: power on');
  await page.waitForFunction(() => document.getElementById('reset-result').textContent ===
    'power cut: no flash operation in progress; power on: application running');
  await page.waitForFunction(() => document.getElementById('mode').dataset.mode === 'application');
  await page.waitForFunction(() => document.getElementById('flash-state').textContent ===
    'idle; timing none; 0 operations since power-on; last upgrade: silicon time 3.15 s; 1 power cut');
  await page.screenshot({ path: join(out, 'board-power-cut.png') });
  say('Power: cut and back on, the application runs');

  if (loseFlash) {
    if (!(await page.$eval('#flash-error', (e) => e.hidden)))
      throw new Error('the flash error is shown before the file was lost');
    unlinkSync(loseFlash);
    await page.waitForFunction((f) => {
      const e = document.getElementById('flash-error');
      return !e.hidden && e.textContent === `flash file ${f} was deleted while iapd runs: ` +
        'what is programmed from now on is lost; uploads are refused until iapd is restarted';
    }, { timeout: 10000 }, loseFlash);
    await page.screenshot({ path: join(out, 'board-flash-lost.png') });
    say('flash file deleted: the page says so');
  }

  if (problems.length) throw new Error(problems.join('; '));
}

let status = 0;
try {
  await main();
} catch (e) {
  status = 1;
  console.error('board_page: FAIL: ' + e.message);
  if (page) await page.screenshot({ path: join(out, 'board-failure.png') }).catch(() => {});
} finally {
  if (browser) await browser.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
}
process.exit(status);
