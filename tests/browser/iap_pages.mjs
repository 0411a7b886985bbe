// AN3376 section 4.3 steps 8-13 in a real browser: Debian's Chromium (DevTools protocol) or
// Firefox ESR (WebDriver BiDi), driven by puppeteer-core, never a downloaded browser.
//
//   node iap_pages.mjs chromium|firefox
//
// Environment: BASE_URL (http://192.168.0.10), IMAGE (the file to upload), EXPECT_RESULT
// (the done page's text), SHOTS (a directory for one screenshot per page), PROFILE (a fresh
// directory for the browser's profile). Prints one line per step; exits non-zero on the
// first thing that is not as expected. Run inside the test's network namespace only.
import puppeteer from 'puppeteer-core';
import fs from 'node:fs';
import path from 'node:path';

const which = process.argv[2];
const env = (name) => {
  const v = process.env[name];
  if (!v) {
    console.error(`iap_pages: ${name} is not set`);
    process.exit(2);
  }
  return v;
};
const base = env('BASE_URL');
const image = env('IMAGE');
const expectResult = env('EXPECT_RESULT');
const shots = env('SHOTS');
const profile = env('PROFILE');
fs.mkdirSync(shots, { recursive: true });

const common = ['--no-first-run'];
const launch = {
  chromium: {
    browser: 'chrome',
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
           '--disable-background-networking', '--disable-component-update', '--disable-sync',
           `--user-data-dir=${profile}`, ...common],
  },
  firefox: {
    browser: 'firefox',
    executablePath: '/usr/bin/firefox-esr',
    headless: true,
    userDataDir: profile,
    extraPrefsFirefox: {
      // no network traffic of its own: updates, telemetry, captive portal, remote settings
      'app.update.enabled': false,
      'network.captive-portal-service.enabled': false,
      'network.connectivity-service.enabled': false,
      'datareporting.policy.dataSubmissionEnabled': false,
      'toolkit.telemetry.enabled': false,
      'browser.safebrowsing.malware.enabled': false,
      'browser.safebrowsing.phishing.enabled': false,
      'services.settings.server': 'http://127.0.0.1:9/',
    },
  },
}[which];
if (!launch) {
  console.error('usage: iap_pages.mjs chromium|firefox');
  process.exit(2);
}

function check(cond, what) {
  if (!cond) {
    throw new Error(what);
  }
  console.log(`ok: ${what}`);
}

const textOf = (page, sel) => page.$eval(sel, (e) => e.textContent.trim());

// The upload's navigation may take as long as the board's flash does (UPLOAD_TIMEOUT_MS, for
// a 960 KiB image with --flash-timing max: about 41 s; default 60 s). The browser's own
// settings are left at their defaults.
const uploadTimeout = Number(process.env.UPLOAD_TIMEOUT_MS || 60000);
const browser = await puppeteer.launch({ ...launch, protocolTimeout: Math.max(60000, uploadTimeout + 30000),
                                         timeout: 60000 });
let failed = false;
try {
  console.log(`browser: ${await browser.version()}`);
  const page = await browser.newPage();
  page.setDefaultTimeout(30000);
  await page.setViewport({ width: 900, height: 640 });

  // Step 8: the login page.
  const login = await page.goto(`${base}/`, { waitUntil: 'load' });
  check(login.status() === 200, 'GET / answers 200');
  check((await page.title()) === 'STM32F4x7 IAP: login', 'the login page is shown');
  await page.screenshot({ path: path.join(shots, '1-login.png') });

  // A wrong password: the login page again, with a message, and no cookie.
  await page.type('#username', 'user');
  await page.type('#password', 'wrong');
  let [nav] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }),
                                 page.click('#login')]);
  check(nav.status() === 403, 'a wrong password answers 403');
  check((await textOf(page, '#message')) === 'Wrong user ID or password.',
        'the login page says the password was wrong');
  check((await page.cookies()).length === 0, 'no session cookie after a wrong password');
  await page.screenshot({ path: path.join(shots, '2-login-wrong.png') });

  // Step 9: log in.
  await page.type('#username', 'user');
  await page.type('#password', 'stm32');
  [nav] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }),
                             page.click('#login')]);
  check(nav.status() === 200, 'the login answers 200');
  check((await page.title()) === 'STM32F4x7 IAP: upload', 'the upload page is shown');
  const cookies = await page.cookies();
  const session = cookies.find((c) => c.name === 'iapd_session');
  check(session && /^[0-9a-f]{32}$/.test(session.value), 'a 128-bit session token is set');
  check(session.httpOnly === true, 'the session cookie is HttpOnly');
  check(session.sameSite === 'Strict', 'the session cookie is SameSite=Strict');
  check((await page.evaluate(() => document.cookie)) === '',
        'scripts cannot read the session cookie');
  check((await textOf(page, '#limit')).startsWith('Images up to 982912 bytes'),
        'the upload page says the size limit');
  await page.screenshot({ path: path.join(shots, '3-upload.png') });

  // Step 10: pick the file, upload.
  const input = await page.$('#datafile');
  await input.uploadFile(image);
  [nav] = await Promise.all([page.waitForNavigation({ waitUntil: 'load', timeout: uploadTimeout }),
                             page.click('#upload')]);
  check(nav.status() === 200, 'the upload answers 200');

  // Step 12: the done page, with size and CRC-32.
  check((await page.title()) === 'STM32F4x7 IAP: upload done', 'the done page is shown');
  const result = await textOf(page, '#result');
  check(result === expectResult, `the done page says "${result}"`);
  await page.screenshot({ path: path.join(shots, '4-done.png') });

  // Step 13: RESET MCU.
  [nav] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }),
                             page.click('#reset')]);
  check(nav.status() === 200, 'RESET MCU answers 200');
  check((await textOf(page, '#status')) === 'Resetting the board.', 'the reset page is shown');
  await page.screenshot({ path: path.join(shots, '5-reset.png') });
} catch (e) {
  failed = true;
  console.error(`FAIL: ${e.message}`);
  try {
    const pages = await browser.pages();
    if (pages.length > 0) {
      await pages[pages.length - 1].screenshot({ path: path.join(shots, 'failure.png') });
    }
  } catch (e2) {
    console.error(`(no failure screenshot: ${e2.message})`);
  }
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
