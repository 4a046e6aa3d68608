-- titan-host store schema for Supabase (PostgreSQL). Paste it into the SQL editor (or psql) once;
-- it is safe to apply again. Row level security is enabled with no policies, so only the secret
-- (service role) key, which bypasses RLS, can read or write these tables: never the anon key.
-- Times are timestamptz (UTC); titan writes ISO-8601 with Z.

create table if not exists public.execution_logs (
  cycle_id     text primary key,
  strategy     text not null,
  mode         text not null constraint execution_logs_mode_check check (mode in ('PAPER', 'LIVE')),
  status       text not null constraint execution_logs_status_check
                 check (status in ('running', 'done', 'failed', 'halted', 'skipped', 'in_doubt')),
  holder       text not null,
  started_at   timestamptz not null default now(),
  lease_until  timestamptz,
  finished_at  timestamptz,
  decision     jsonb,
  orders       jsonb,
  error        text,
  host_version text
);
create index if not exists execution_logs_started_at_idx on public.execution_logs (started_at desc);
create index if not exists execution_logs_open_idx on public.execution_logs (status)
  where status in ('running', 'in_doubt');

create table if not exists public.paper_balances (
  strategy   text not null,
  asset      text not null,
  amount     numeric not null,
  updated_at timestamptz not null default now(),
  primary key (strategy, asset)
);

create table if not exists public.paper_fills (
  id           bigint generated always as identity primary key,
  strategy     text not null,
  cycle_id     text not null,
  order_ref    text,
  ts           timestamptz not null,
  pair         text not null,
  side         text not null constraint paper_fills_side_check check (side in ('buy', 'sell')),
  order_type   text not null constraint paper_fills_order_type_check check (order_type in ('market', 'limit')),
  volume       numeric not null constraint paper_fills_volume_check check (volume > 0),
  price        numeric not null constraint paper_fills_price_check check (price > 0),
  cost         numeric not null constraint paper_fills_cost_check check (cost >= 0),
  fee          numeric not null constraint paper_fills_fee_check check (fee >= 0),
  base_asset   text not null,
  quote_asset  text not null,
  realized_pnl numeric not null default 0,
  reason       text,
  created_at   timestamptz not null default now()
);
-- one fill per client order id and strategy: a retried apply can never count twice
create unique index if not exists paper_fills_order_ref_key on public.paper_fills (strategy, order_ref)
  where order_ref is not null;
create index if not exists paper_fills_strategy_ts_idx on public.paper_fills (strategy, ts);

create table if not exists public.strategy_state (
  strategy   text not null,
  key        text not null,
  value      jsonb not null,
  updated_at timestamptz not null default now(),
  primary key (strategy, key)
);

create table if not exists public.control (
  key        text primary key,
  value      text not null,
  updated_at timestamptz not null default now()
);

create table if not exists public.locks (
  name        text primary key,
  holder      text not null,
  acquired_at timestamptz not null default now(),
  lease_until timestamptz not null
);

-- One capsule per cycle (titan-host replay): base64 of the gzip'd JSON of everything the decision
-- read. Kept until expires_at (TITAN_CAPSULE_DAYS, default 30, after it was recorded): each insert
-- deletes the capsules that expired before it was recorded (the trigger below).
create table if not exists public.cycle_capsules (
  cycle_id    text primary key,
  strategy    text not null,
  recorded_at timestamptz not null,
  expires_at  timestamptz not null,
  capsule     text not null
);
create index if not exists cycle_capsules_strategy_recorded_idx on public.cycle_capsules (strategy, recorded_at);

create or replace function public.titan_prune_capsules()
returns trigger
language plpgsql
security invoker
set search_path = public
as $$
begin
  delete from cycle_capsules where expires_at < new.recorded_at;
  return null;
end;
$$;
drop trigger if exists cycle_capsules_prune on public.cycle_capsules;
create trigger cycle_capsules_prune after insert on public.cycle_capsules
  for each row execute function public.titan_prune_capsules();

-- Notifications (issue 14): one row per message key, inserted before the message goes out, so a
-- rerun of the same slot sends nothing twice (the insert conflicts with 23505). Migration: a store
-- created before this table existed needs this file applied again (safe: everything in it is
-- "if not exists" / "or replace"); until then titan-host still sends, without that guard, and its
-- blackbox says "notify.unguarded".
create table if not exists public.notifications (
  key         text primary key,
  strategy    text not null,
  cycle_id    text,
  event       text not null,
  claimed_at  timestamptz not null default now(),
  result      jsonb,
  finished_at timestamptz
);

alter table public.execution_logs enable row level security;
alter table public.paper_balances enable row level security;
alter table public.paper_fills enable row level security;
alter table public.strategy_state enable row level security;
alter table public.control enable row level security;
alter table public.locks enable row level security;
alter table public.cycle_capsules enable row level security;
alter table public.notifications enable row level security;

-- A paper fill in one transaction: the fill row and both balance deltas, refused (23514) when a
-- balance would go below zero and (23505) when the order_ref was already applied.
create or replace function public.titan_apply_fill(p_strategy text, p_fill jsonb)
returns jsonb
language plpgsql
security invoker
set search_path = public
as $$
declare
  v_id bigint;
  v_buy boolean := (p_fill->>'side') = 'buy';
  v_volume numeric := (p_fill->>'volume')::numeric;
  v_cost numeric := (p_fill->>'cost')::numeric;
  v_fee numeric := (p_fill->>'fee')::numeric;
  v_base text := p_fill->>'base_asset';
  v_quote text := p_fill->>'quote_asset';
  v_base_amount numeric;
  v_quote_amount numeric;
  v_delta numeric;
begin
  insert into paper_fills (strategy, cycle_id, order_ref, ts, pair, side, order_type, volume, price, cost, fee,
                           base_asset, quote_asset, realized_pnl, reason)
  values (p_strategy, p_fill->>'cycle_id', p_fill->>'order_ref', (p_fill->>'ts')::timestamptz, p_fill->>'pair',
          p_fill->>'side', p_fill->>'order_type', v_volume, (p_fill->>'price')::numeric, v_cost, v_fee,
          v_base, v_quote, coalesce((p_fill->>'realized_pnl')::numeric, 0), p_fill->>'reason')
  returning id into v_id;

  v_delta := case when v_buy then v_volume else -v_volume end;
  insert into paper_balances as b (strategy, asset, amount, updated_at)
  values (p_strategy, v_base, v_delta, now())
  on conflict (strategy, asset) do update set amount = b.amount + excluded.amount, updated_at = now()
  returning amount into v_base_amount;

  v_delta := case when v_buy then -(v_cost + v_fee) else v_cost - v_fee end;
  insert into paper_balances as b (strategy, asset, amount, updated_at)
  values (p_strategy, v_quote, v_delta, now())
  on conflict (strategy, asset) do update set amount = b.amount + excluded.amount, updated_at = now()
  returning amount into v_quote_amount;

  if v_base_amount < -0.000000001 or v_quote_amount < -0.000000001 then
    raise exception 'paper fill refused: balance would go negative (%: %, %: %) for strategy %',
      v_base, v_base_amount, v_quote, v_quote_amount, p_strategy
      using errcode = '23514';
  end if;
  -- dust from rounding is clamped, never carried as a negative balance
  update paper_balances set amount = 0
   where strategy = p_strategy and asset in (v_base, v_quote) and amount < 0;
  return jsonb_build_object('id', v_id, 'base_amount', v_base_amount, 'quote_amount', v_quote_amount);
end;
$$;

-- Only the service role may call it (Supabase's API roles exist only on Supabase itself).
revoke all on function public.titan_apply_fill(text, jsonb) from public;
do $$
begin
  if exists (select 1 from pg_roles where rolname = 'anon') then
    execute 'revoke all on function public.titan_apply_fill(text, jsonb) from anon';
    execute 'revoke all on table public.execution_logs, public.paper_balances, public.paper_fills, '
            'public.strategy_state, public.control, public.locks, public.cycle_capsules, public.notifications '
            'from anon';
  end if;
  if exists (select 1 from pg_roles where rolname = 'authenticated') then
    execute 'revoke all on function public.titan_apply_fill(text, jsonb) from authenticated';
    execute 'revoke all on table public.execution_logs, public.paper_balances, public.paper_fills, '
            'public.strategy_state, public.control, public.locks, public.cycle_capsules, public.notifications '
            'from authenticated';
  end if;
  if exists (select 1 from pg_roles where rolname = 'service_role') then
    execute 'grant execute on function public.titan_apply_fill(text, jsonb) to service_role';
    execute 'grant all on table public.execution_logs, public.paper_balances, public.paper_fills, '
            'public.strategy_state, public.control, public.locks, public.cycle_capsules, public.notifications '
            'to service_role';
  end if;
end
$$;
