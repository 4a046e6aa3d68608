// The Kraken fake (tests/fakes/kraken_fake.py) driven by ccxt's kraken client: loading the markets
// (AssetPairs without a pair, Assets), the reads titan makes (Ticker, OHLC of the strategy's
// interval, balances, open and closed orders by cl_ord_id), orders with and without validate, and
// Kraken's errors mapped to ccxt's error classes. Every private call is signed by ccxt and checked
// by the fake.
import ccxt from 'ccxt';
import { eq, ok, rejects, control } from './check.mjs';

const HOUR_MS = 3600 * 1000;

export function checks(env) {
  const base = env.KRAKEN_URL;
  // ccxt's Kraken nonce is the clock in milliseconds: two calls within one millisecond over loopback
  // would repeat it, and the fake (like Kraken) refuses a nonce that does not increase. A client that
  // calls this fast keeps its own strictly increasing nonce, as ccxt's documentation advises.
  let lastNonce = 0;
  const client = (apiKey = env.KRAKEN_API_KEY, secret = env.KRAKEN_SECRET) => {
    const c = new ccxt.kraken({
      apiKey, secret, timeout: 10000, enableRateLimit: false, urls: { api: { public: base, private: base } },
    });
    c.nonce = () => { lastNonce = Math.max(Date.now(), lastNonce + 1); return lastNonce; };
    return c;
  };
  const kraken = client();
  const reset = () => control(`${base}/__control`, { reset: true });
  const uuid = (n) => `6d1b345e-2821-40e2-ad83-${String(n).padStart(12, '0')}`;

  return [
    ['loadMarkets: AssetPairs without a pair and Assets give every pair with its rules', async () => {
      await reset();
      const markets = await kraken.loadMarkets(true);
      for (const symbol of ['BTC/USD', 'ETH/USD', 'BTC/USDT', 'LTC/USDT']) ok(markets[symbol], `market ${symbol}`);
      const m = markets['BTC/USD'];
      eq(m.id, 'XXBTZUSD', 'id');
      eq(m.limits.amount.min, 0.00005, 'ordermin');
      eq(m.limits.cost.min, 0.5, 'costmin');
      ok(kraken.currencies.BTC && kraken.currencies.USD, 'currencies from Assets');
    }],
    ['fetchTicker and fetchTickers (several pairs, comma-separated)', async () => {
      const t = await kraken.fetchTicker('BTC/USD');
      ok(t.last > 0 && t.bid > 0 && t.ask >= t.bid, 'last, bid, ask');
      const many = await kraken.fetchTickers(['BTC/USD', 'ETH/USD']);
      ok(many['BTC/USD'] && many['ETH/USD'], `both tickers: ${Object.keys(many)}`);
    }],
    ['fetchOHLCV 1h returns hourly rows, 15m quarter-hours, 1m minutes', async () => {
      for (const [tf, step] of [['1h', HOUR_MS], ['15m', HOUR_MS / 4], ['1m', 60000]]) {
        const rows = await kraken.fetchOHLCV('BTC/USD', tf);
        ok(rows.length >= 3, `${tf}: rows`);
        for (let i = 0; i < rows.length; i++) {
          if (rows[i][0] % step !== 0) throw new Error(`${tf} row ${i} not aligned: ${rows[i][0]}`);
          if (i > 0 && rows[i][0] - rows[i - 1][0] !== step) throw new Error(`${tf} row ${i} is not one ${tf} later`);
          const [, o, h, l, c] = rows[i];
          if (!(l <= Math.min(o, c) && h >= Math.max(o, c))) throw new Error(`${tf} row ${i}: o/c outside l..h`);
        }
      }
      const hourly = await kraken.fetchOHLCV('BTC/USD', '1h');
      const minutes = await kraken.fetchOHLCV('BTC/USD', '1m');
      ok(hourly.length <= minutes.length / 60 + 1, 'hourly rows are not the minute rows re-labelled');
    }],
    ['fetchOHLCV since: only rows after it', async () => {
      const all = await kraken.fetchOHLCV('BTC/USD', '15m');
      const since = all[all.length - 4][0];
      const later = await kraken.fetchOHLCV('BTC/USD', '15m', since);
      ok(later.length >= 1 && later.length <= 4, `rows after since: ${later.length}`);
      ok(later.every((r) => r[0] >= since), 'none before since');
    }],
    ['fetchBalance reads BalanceEx: totals, and what open orders hold as used', async () => {
      await reset();
      let b = await kraken.fetchBalance();
      eq(b.total.USD, 10000, 'USD total');
      eq(b.total.BTC, 0.5, 'BTC total');
      eq(b.used.USD, 0, 'nothing held');
      const order = await kraken.createOrder('BTC/USD', 'limit', 'buy', 0.002, 50000);
      b = await kraken.fetchBalance();
      eq(b.used.USD, 100, 'held by the open buy');
      eq(b.free.USD, 9900, 'free');
      await kraken.cancelOrder(order.id);
    }],
    ['createOrder market with a clientOrderId: booked once, found closed by cl_ord_id', async () => {
      await reset();
      const placed = await kraken.createOrder('BTC/USD', 'market', 'buy', 0.001, undefined, { clientOrderId: uuid(1) });
      ok(typeof placed.id === 'string' && placed.id.length > 0, 'txid');
      const closed = await kraken.fetchClosedOrders('BTC/USD', undefined, undefined, { cl_ord_id: uuid(1) });
      eq(closed.length, 1, 'found by cl_ord_id');
      eq(closed[0].id, placed.id, 'the same txid');
      eq(closed[0].status, 'closed', 'status');
      eq(closed[0].filled, 0.001, 'filled');
      const fetched = await kraken.fetchOrder(placed.id);
      eq(fetched.status, 'closed', 'QueryOrders status');
    }],
    ['validate=true checks without booking', async () => {
      await reset();
      await kraken.createOrder('BTC/USD', 'limit', 'buy', 0.001, 50000, { validate: true });
      eq((await kraken.fetchOpenOrders()).length, 0, 'nothing open');
      eq((await kraken.fetchClosedOrders()).length, 0, 'nothing closed');
    }],
    ['a limit order stays open, is listed and cancelled', async () => {
      await reset();
      const placed = await kraken.createOrder('BTC/USD', 'limit', 'buy', 0.001, 50000, { clientOrderId: 'lim-1' });
      const open = await kraken.fetchOpenOrders('BTC/USD');
      eq(open.length, 1, 'open orders');
      eq(open[0].id, placed.id, 'txid');
      eq(open[0].price, 50000, 'price');
      await kraken.cancelOrder(placed.id);
      eq((await kraken.fetchOpenOrders('BTC/USD')).length, 0, 'cancelled');
    }],
    ['a non-integer userref is refused (EGeneral:Invalid arguments:userref), an int32 one is kept', async () => {
      await reset();
      const e = await rejects(kraken.createOrder('BTC/USD', 'market', 'buy', 0.001, undefined, { userref: '1.5' }),
                              ccxt.ExchangeError);
      ok(e.message.includes('EGeneral:Invalid arguments:userref'), e.message);
      await rejects(kraken.createOrder('BTC/USD', 'market', 'buy', 0.001, undefined, { userref: 2 ** 31 }),
                    ccxt.ExchangeError);
      const placed = await kraken.createOrder('BTC/USD', 'market', 'buy', 0.001, undefined, { userref: 42 });
      const byRef = await kraken.privatePostQueryOrders({ txid: placed.id });
      eq(byRef.result[placed.id].userref, 42, 'userref');
    }],
    ['ClosedOrders pages: 50 newest first, ofs for the rest, count of all', async () => {
      await reset();
      const ids = [];
      for (let i = 0; i < 55; i++) ids.push((await kraken.createOrder('BTC/USD', 'market', 'buy', 0.0001)).id);
      const first = (await kraken.privatePostClosedOrders()).result;
      const second = (await kraken.privatePostClosedOrders({ ofs: 50 })).result;
      eq(Number(first.count), 55, 'count');
      eq(Object.keys(first.closed).length, 50, 'first page');
      eq(Object.keys(second.closed).length, 5, 'second page');
      eq(Object.keys(first.closed)[0], ids[54], 'newest first');
      eq(Object.keys(second.closed).join(), ids.slice(0, 5).reverse().join(), 'the oldest on the last page');
      eq((await kraken.fetchClosedOrders()).length, 50, 'ccxt gets one page');
    }],
    ['Kraken errors become ccxt\'s classes: insufficient funds, order minimum, bad key, stale nonce', async () => {
      await reset();
      await rejects(kraken.createOrder('BTC/USD', 'market', 'buy', 5), ccxt.InsufficientFunds);
      await rejects(kraken.createOrder('BTC/USD', 'market', 'buy', 0.00001), ccxt.InvalidOrder);
      await rejects(client('wrong-key').fetchBalance(), ccxt.AuthenticationError);
      await control(`${base}/__control`, { last_nonce: Date.now() + HOUR_MS });
      await rejects(kraken.fetchBalance(), ccxt.InvalidNonce);
      await reset();
    }],
    ['an unknown pair fails the whole Ticker call; EService:Unavailable is ExchangeNotAvailable', async () => {
      await rejects(kraken.publicGetTicker({ pair: 'XXBTZUSD,NOPE' }), ccxt.ExchangeError);
      await control(`${base}/__control`, { method: 'Ticker', kind: 'error', error: 'EService:Unavailable' });
      await rejects(kraken.fetchTicker('BTC/USD'), ccxt.ExchangeNotAvailable);
    }],
  ];
}
