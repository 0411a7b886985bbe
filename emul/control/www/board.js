// The board page: the LCD lines and progress from /api/events, the board and its flash from
// /api/status, the Key and Reset buttons through POST /api/reset, the Power button through
// POST /api/power-cut.
'use strict';

const LCD_LINES = 13;
const $ = (id) => document.getElementById(id);
let keyHeld = false;
let refreshTimer = null;

function lcdLine(level, module, text) {
  const lcd = $('lcd');
  const div = document.createElement('div');
  div.className = 'line ' + level;
  div.textContent = module + ': ' + text;
  lcd.appendChild(div);
  while (lcd.childElementCount > LCD_LINES)
    lcd.removeChild(lcd.firstElementChild);
}

function kib(bytes) {
  return bytes >= 1024 ? (bytes / 1024).toFixed(bytes % 1024 ? 1 : 0) + ' KiB' : bytes + ' B';
}

function showProgress(t) {
  const bar = $('progress');
  const fill = $('progress-fill');
  if (!t) {
    bar.classList.remove('indeterminate');
    bar.removeAttribute('aria-valuenow');
    bar.dataset.active = 'false';
    fill.style.width = '0';
    $('progress-text').textContent = 'no transfer';
    return;
  }
  bar.dataset.active = 'true';
  const rate = kib(t.rate_bytes_per_s) + '/s';
  if (t.percent === null) {
    bar.classList.add('indeterminate');
    bar.removeAttribute('aria-valuenow');
    fill.style.width = '';
    $('progress-text').textContent =
      `${t.protocol} from ${t.peer}: ${kib(t.bytes)} received, ${rate}`;
  } else {
    bar.classList.remove('indeterminate');
    bar.setAttribute('aria-valuenow', String(t.percent));
    fill.style.width = t.percent + '%';
    $('progress-text').textContent =
      `${t.protocol} from ${t.peer}: ${t.percent}% (${kib(t.bytes)} of ${kib(t.expected_bytes)}), ${rate}`;
  }
}

function showStatus(s) {
  const b = s.board;
  $('mode').textContent = b.mode === 'application'
    ? `application running (MSP ${b.application.msp}, PC ${b.application.pc})`
    : 'IAP mode';
  $('mode').dataset.mode = b.mode;
  $('detail').textContent = b.mode === 'application' ? b.reason : `${b.reason}: ${b.detail}`;
  const n = s.network;
  $('network').textContent =
    `${n.ip}/${n.netmask} (${n.address_source}) MAC ${n.mac} on ${n.interface} (${n.backend})` +
    (n.up ? '' : ', interface down');
  showProgress(s.transfer);
  const f = s.flash;
  $('flash-state').textContent = (f.busy ? 'busy: a flash operation stalls the board' : 'idle') +
    `; timing ${f.timing}${f.timing_scale !== 1 ? ` \u00d7${f.timing_scale}` : ''}` +
    `; ${f.operations_since_power_on} operation${f.operations_since_power_on === 1 ? '' : 's'} since power-on` +
    (f.last_upgrade_silicon_ms === null ? ''
      : `; last upgrade: silicon time ${(f.last_upgrade_silicon_ms / 1000).toFixed(2)} s`) +
    (f.power_cuts ? `; ${f.power_cuts} power cut${f.power_cuts === 1 ? '' : 's'}` : '');
  $('flash-state').dataset.busy = String(f.busy);
  if (f.busy) refreshSoon();  // until the operation ends

  const list = $('sectors');
  list.textContent = '';
  let erased = 0;
  for (const sec of s.flash.sectors) {
    const li = document.createElement('li');
    const state = sec.bootloader ? 'bootloader' : sec.erased ? 'erased' : 'programmed';
    if (sec.erased && !sec.bootloader) erased++;
    li.className = state + (sec.size >= 131072 ? ' widest' : sec.size >= 65536 ? ' wide' : '');
    if (sec.address === s.flash.user_flash) li.classList.add('user-start');
    li.dataset.state = state;
    const slot = slotOf(s.slots, sec.address);
    if (slot) {
      li.classList.add(`slot-${slot.name}`);
      li.dataset.slot = slot.name;
    }
    li.title = `sector ${sec.sector} at ${sec.address}, ${kib(sec.size)}: ${state}, ` +
      `erased ${sec.erase_count} time${sec.erase_count === 1 ? '' : 's'}` +
      (slot ? `; ${slot.name} slot: ${slot.content}` : '');
    li.textContent = `${sec.sector}\n${sec.size / 1024}K\n\u00d7${sec.erase_count}`;
    li.style.whiteSpace = 'pre';
    list.appendChild(li);
  }
  $('flash-summary').textContent =
    `user flash from ${s.flash.user_flash}, ${erased} user sector${erased === 1 ? '' : 's'} erased`;
  // The flash file lost under iapd: uploads are refused until it restarts; say it here.
  $('flash-error').textContent = s.flash_error || '';
  $('flash-error').hidden = !s.flash_error;
  const slots = $('slots');
  slots.textContent = '';
  for (const sl of (s.slots ? s.slots.list : [])) {
    const li = document.createElement('li');
    li.className = `slot-${sl.name}`;
    li.dataset.content = sl.content;
    li.textContent = `${sl.name} ${sl.address}-${sl.end} (up to ${sl.max_image} bytes): ` +
      `${sl.content}` + (sl.record ? `, image #${sl.record.seq}, ${sl.record.image_len} bytes, ` +
      `SHA-256 ${sl.record.sha256.slice(0, 16)}\u2026` : '') + ` \u2014 ${sl.detail}`;
    slots.appendChild(li);
  }
  if (s.slots)
    $('policy').textContent = `boot policy ${s.slots.boot_verify}, ${s.slots.layout} slot` +
      (s.slots.layout !== 'single' ? 's' : '');
}

/* The slot a sector belongs to, from the status's slot list. */
function slotOf(slots, address) {
  if (!slots) return null;
  const a = parseInt(address, 16);
  return slots.list.find((sl) => a >= parseInt(sl.address, 16) && a < parseInt(sl.end, 16)) ||
    null;
}

async function refresh() {
  refreshTimer = null;
  try {
    const r = await fetch('/api/status', { cache: 'no-store' });
    if (r.ok) showStatus(await r.json());
  } catch (e) {
    $('connection').textContent = 'cannot reach iapd: ' + e.message;
  }
}

function refreshSoon() {
  if (refreshTimer === null) refreshTimer = setTimeout(refresh, 250);
}

function connect() {
  const es = new EventSource('/api/events');
  es.onopen = () => {
    $('connection').textContent = 'connected to iapd';
    $('connection').classList.remove('down');
    $('lcd').textContent = '';  // the stream starts with the LCD's last lines
    refreshSoon();
  };
  es.onerror = () => {
    $('connection').textContent = 'connection to iapd lost, retrying\u2026';
    $('connection').classList.add('down');
  };
  es.addEventListener('log', (ev) => {
    const m = JSON.parse(ev.data);
    lcdLine(m.level, m.module, m.text);
    refreshSoon();
  });
  es.addEventListener('progress', (ev) => {
    const t = JSON.parse(ev.data);
    showProgress(t);
    if (!t) refreshSoon();
  });
}

$('key').addEventListener('click', () => {
  keyHeld = !keyHeld;
  $('key').setAttribute('aria-pressed', String(keyHeld));
});

$('power').addEventListener('click', async () => {
  $('reset-result').textContent = '';
  try {
    const r = await fetch('/api/power-cut', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{}',
    });
    const body = await r.json();
    $('reset-result').textContent = r.ok
      ? `power cut: ${body.what}; power on: ${body.mode === 'application' ? 'application running' : 'IAP mode'}`
      : `refused: ${body.error}`;
  } catch (e) {
    $('reset-result').textContent = 'power cut failed: ' + e.message;
  }
  refreshSoon();
});

$('reset').addEventListener('click', async () => {
  $('reset-result').textContent = '';
  try {
    const r = await fetch('/api/reset', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ key: keyHeld }),
    });
    const body = await r.json();
    $('reset-result').textContent = r.ok
      ? `reset${body.key ? ' with Key held' : ''}: ${body.mode === 'application' ? 'application running' : 'IAP mode'}`
      : `refused: ${body.error}`;
  } catch (e) {
    $('reset-result').textContent = 'reset failed: ' + e.message;
  }
  refreshSoon();
});

connect();
refresh();
