// The ccxt peer of one PAPER cycle of strategies/default.lua (bench_cycle.sh): the same market reads
// through ccxt's kraken client on the loopback fake (loadMarkets, fetchTicker, fetchOHLCV 15m), the
// same indicators and hold rules, and the lock and the record as JSON files written and fsynced
// (Node.js 18/20 have no SQLite built in). ccxt comes from tests/conformance/node_modules.
// Usage: node paper_cycle.mjs DIR CYCLE_ID (KRAKEN_API_URL names the fake).
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const ccxt = createRequire(path.join(here, '..', 'conformance', 'package.json'))('ccxt');

const [dir, cycleId] = process.argv.slice(2);
const now = Date.now();
const lockFile = path.join(dir, `${cycleId}.json`);
const writeDurable = (file, value, flags) => {
  const fd = fs.openSync(file, flags);
  fs.writeSync(fd, JSON.stringify(value));
  fs.fsyncSync(fd);
  fs.closeSync(fd);
};
writeDurable(lockFile, { cycle_id: cycleId, status: 'running', started_at: new Date(now).toISOString() }, 'wx');

const base = process.env.KRAKEN_API_URL;
const kraken = new ccxt.kraken({ timeout: 10000, enableRateLimit: false, urls: { api: { public: base, private: base } } });
await kraken.loadMarkets();
const ticker = await kraken.fetchTicker('BTC/USD');
const rows = (await kraken.fetchOHLCV('BTC/USD', '15m')).slice(0, -1).slice(-200);   // the last row is still open
const candles = rows.map(([t, o, h, l, c]) => ({ t: t / 1000, o, h, l, c }));

const ema = (xs, n) => { const k = 2 / (n + 1); let e = xs.slice(0, n).reduce((a, b) => a + b) / n; for (const x of xs.slice(n)) e = x * k + e * (1 - k); return e; };
const wilder = (xs, n) => { let a = xs.slice(0, n).reduce((s, x) => s + x) / n; for (const x of xs.slice(n)) a = (a * (n - 1) + x) / n; return a; };
const decision = { action: 'hold' };
if (candles.length < 56) decision.reason = `warming up: ${candles.length} candles`;
else if (now / 1000 - candles[candles.length - 1].t > 4 * 900 + 900) decision.reason = 'stale market data';
else {
  const closes = candles.map((c) => c.c);
  const diffs = closes.slice(1).map((c, i) => c - closes[i]);
  const gain = wilder(diffs.map((d) => Math.max(d, 0)), 14), loss = wilder(diffs.map((d) => Math.max(-d, 0)), 14);
  const trs = candles.slice(1).map((c, i) => Math.max(c.h - c.l, Math.abs(c.h - candles[i].c), Math.abs(c.l - candles[i].c)));
  Object.assign(decision, { fast: ema(closes, 21), slow: ema(closes, 55), rsi: loss === 0 ? 100 : 100 - 100 / (1 + gain / loss), atr: wilder(trs, 14) });
  if (decision.fast > decision.slow && decision.rsi <= 70 && decision.atr > 0) {
    const quote = Math.min(10000 * 0.99, 100, 10000 * 0.01 / (2 * decision.atr) * ticker.last);
    if (quote >= 10) Object.assign(decision, { action: 'buy', quote });
  }
}
writeDurable(path.join(dir, 'state.json'), { last_t: candles.length ? candles[candles.length - 1].t : null }, 'w');
writeDurable(lockFile, { cycle_id: cycleId, status: 'done', decision, finished_at: new Date().toISOString() }, 'w');
console.log(`cycle ${cycleId}: done — ${decision.action} (${decision.reason || ''})`);
