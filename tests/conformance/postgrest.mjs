// The PostgREST fake (tests/fakes/postgrest_fake.py, in front of a real PostgreSQL with the shipped
// schema) driven by @supabase/postgrest-js: the requests titan's Supabase store makes (the lock as an
// insert that conflicts, the takeover as a conditional PATCH returning the row, upserts, the fill
// RPC) and PostgREST 12's answers where a client relies on them: Content-Range counts, HEAD, `*`
// in like, the error codes and the HTTP status of each SQLSTATE (only 5xx is retryable).
import { PostgrestClient } from '@supabase/postgrest-js';
import { eq, ok } from './check.mjs';

export function checks(env) {
  const db = new PostgrestClient(`${env.POSTGREST_URL}/rest/v1`, { headers: { apikey: env.SUPABASE_KEY } });
  const run = `conf-${process.pid}`;
  const cycle = (n) => ({ cycle_id: `${run}@${n}`, strategy: run, mode: 'PAPER', status: 'running', holder: 'conf:1',
                          lease_until: new Date(Date.now() - 1000).toISOString() });
  const raise = (code) => db.rpc('conformance_raise', { code });

  return [
    ['insert with return=representation gives the row (201); the same key again is 409 23505', async () => {
      let r = await db.from('execution_logs').insert(cycle(1)).select();
      eq(r.error, null, 'error');
      eq(r.status, 201, 'status');
      eq(r.data[0].cycle_id, `${run}@1`, 'row');
      r = await db.from('execution_logs').insert(cycle(1)).select();
      eq(r.status, 409, 'status');
      eq(r.error.code, '23505', 'code');
      ok(/duplicate key/.test(r.error.message), r.error.message);
    }],
    ['the takeover: a conditional PATCH returns the row once, then none', async () => {
      const take = () => db.from('execution_logs').update({ holder: 'conf:2', lease_until: new Date(Date.now() + 60000).toISOString() })
        .eq('cycle_id', `${run}@1`).eq('status', 'running').eq('holder', 'conf:1')
        .lt('lease_until', new Date().toISOString()).select();
      let r = await take();
      eq(r.error, null, 'error');
      eq(r.data.length, 1, 'taken');
      eq(r.data[0].holder, 'conf:2', 'new holder');
      r = await take();
      eq(r.data.length, 0, 'only once');
    }],
    ['count: exact gives the count from Content-Range, 206 for part of the rows', async () => {
      for (let n = 2; n <= 5; n++) eq((await db.from('execution_logs').insert(cycle(n))).error, null, `insert ${n}`);
      let r = await db.from('execution_logs').select('*', { count: 'exact' }).eq('strategy', run);
      eq(r.count, 5, 'count');
      eq(r.data.length, 5, 'rows');
      eq(r.status, 200, 'all rows: 200');
      r = await db.from('execution_logs').select('cycle_id', { count: 'exact' }).eq('strategy', run)
        .order('cycle_id', { ascending: false }).range(0, 1);
      eq(r.status, 206, 'part of the rows');
      eq(r.count, 5, 'count');
      eq(r.data.map((x) => x.cycle_id).join(), `${run}@5,${run}@4`, 'ordered page');
      r = await db.from('execution_logs').select('*').eq('strategy', run);
      eq(r.count, null, 'no count unless asked');
    }],
    ['head: true is a HEAD request that counts without rows', async () => {
      const r = await db.from('execution_logs').select('*', { count: 'exact', head: true }).eq('strategy', run);
      eq(r.error, null, 'error');
      eq(r.count, 5, 'count');
      eq(r.data, null, 'no rows');
    }],
    ['like and ilike take * as the wildcard', async () => {
      let r = await db.from('execution_logs').select('cycle_id').like('cycle_id', `${run}@*`);
      eq(r.data.length, 5, 'like');
      r = await db.from('execution_logs').select('cycle_id').ilike('cycle_id', `${run.toUpperCase()}@*`);
      eq(r.data.length, 5, 'ilike');
    }],
    ['upsert merges on the primary key; the state value stays JSON', async () => {
      for (const value of [{ ema: [1.5, 2] }, 'text']) {
        const r = await db.from('strategy_state').upsert({ strategy: run, key: 'last', value }).select();
        eq(r.error, null, 'error');
      }
      const r = await db.from('strategy_state').select('value').eq('strategy', run);
      eq(r.data.length, 1, 'one row');
      eq(r.data[0].value, 'text', 'value');
    }],
    ['the fill RPC applies once; an overspend is 400 23514, a repeat 409 23505', async () => {
      const fill = (ref, volume) => db.rpc('titan_apply_fill', { p_strategy: run, p_fill: {
        cycle_id: `${run}@1`, order_ref: ref, ts: new Date().toISOString(), pair: 'XBTUSD', side: 'sell',
        order_type: 'market', volume, price: 50000, cost: volume * 50000, fee: 1, base_asset: 'XXBT', quote_asset: 'ZUSD' } });
      await db.from('paper_balances').insert({ strategy: run, asset: 'XXBT', amount: 1 });
      let r = await fill('ord-1', 0.5);
      eq(r.error, null, 'error');
      ok(r.data.id > 0, 'fill id');
      r = await fill('ord-1', 0.1);
      eq(r.status, 409, 'repeat status');
      eq(r.error.code, '23505', 'repeat code');
      r = await fill('ord-2', 5);
      eq(r.status, 400, 'overspend status');
      eq(r.error.code, '23514', 'overspend code');
    }],
    ['delete with count: exact says how many went', async () => {
      const r = await db.from('execution_logs').delete({ count: 'exact' }).eq('strategy', run);
      eq(r.error, null, 'error');
      eq(r.count, 5, 'deleted');
    }],
    ['an unknown table is 404 PGRST205 with PostgREST\'s message and hint', async () => {
      const r = await db.from('execution_log').select('*');
      eq(r.status, 404, 'status');
      eq(r.error.code, 'PGRST205', 'code');
      eq(r.error.message, "Could not find the table 'public.execution_log' in the schema cache", 'message');
      eq(r.error.hint, "Perhaps you meant the table 'public.execution_logs'", 'hint');
    }],
    ['an unknown column is 400 42703 in a filter, select or order, PGRST204 in a body', async () => {
      for (const q of [db.from('execution_logs').select('*').eq('nope', 1), db.from('execution_logs').select('nope'),
                       db.from('execution_logs').select('*').order('nope')]) {
        const r = await q;
        eq(r.status, 400, 'status');
        eq(r.error.code, '42703', 'code');
        eq(r.error.message, 'column execution_logs.nope does not exist', 'message');
      }
      const r = await db.from('execution_logs').insert({ ...cycle(9), nope: 1 });
      eq(r.status, 400, 'status');
      eq(r.error.code, 'PGRST204', 'code');
      eq(r.error.message, "Could not find the 'nope' column of 'execution_logs' in the schema cache", 'message');
    }],
    ['an unknown function is 404 PGRST202', async () => {
      const r = await db.rpc('titan_apply_fil', { p_strategy: run });
      eq(r.status, 404, 'status');
      eq(r.error.code, 'PGRST202', 'code');
      eq(r.error.hint, 'Perhaps you meant to call the function public.titan_apply_fill', 'hint');
    }],
    ['SQLSTATEs get PostgREST\'s statuses: unlisted ones are 400, only server trouble is 5xx', async () => {
      const want = { '42P10': 400, '22012': 400, P0001: 400, '23514': 400, '23505': 409, '40001': 500,
                     P0002: 500, XX000: 500, '53300': 503, '57P01': 503, '42501': 403, '25006': 405 };
      for (const [code, status] of Object.entries(want)) {
        const r = await raise(code);
        eq(r.status, status, `SQLSTATE ${code}`);
        eq(r.error.code, code, 'code');
      }
    }],
  ];
}
