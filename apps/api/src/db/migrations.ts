/** One forward-only migration: plain SQL, applied once in its own transaction. */
export interface Migration {
  /** Sortable unique id, e.g. `0001_init`. */
  readonly id: string;
  /** The SQL script (several statements allowed). */
  readonly sql: string;
}

/** Every migration of the API schema, in order. Never edit one that shipped: add a new one. */
export const MIGRATIONS: readonly Migration[] = [
  {
    id: "0001_init",
    sql: `
      create table users (
        id integer generated always as identity primary key,
        username text not null unique check (username ~ '^[a-z0-9_]{3,32}$'),
        display_name text not null check (char_length(display_name) between 1 and 64),
        password_hash text not null,
        plan text not null default 'free' check (plan in ('free', 'pro')),
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      );
      create table streams (
        id integer generated always as identity primary key,
        creator_id integer not null references users(id) on delete cascade,
        title text not null check (char_length(title) between 1 and 120),
        live boolean not null default false,
        started_at timestamptz,
        created_at timestamptz not null default now()
      );
      create index streams_creator_idx on streams (creator_id);
      create table tips (
        id integer generated always as identity primary key,
        stream_id integer not null references streams(id) on delete cascade,
        from_user_id integer not null references users(id) on delete cascade,
        amount numeric(12, 2) not null check (amount > 0),
        idempotency_key text,
        created_at timestamptz not null default now()
      );
      -- The database itself guarantees a tip per (sender, idempotency key) exists at most once.
      create unique index tips_idempotency_idx on tips (from_user_id, idempotency_key)
        where idempotency_key is not null;
      create index tips_stream_idx on tips (stream_id, created_at desc);
    `,
  },
  {
    id: "0002_tip_outbox",
    sql: `
      -- One row per tip, written in the tip's transaction: its projections are pending until a
      -- Redis apply (inline, by the apply-tip job or by the relay) marks it done.
      create table tip_outbox (
        tip_id integer primary key references tips(id) on delete cascade,
        state text not null default 'pending' check (state in ('pending', 'done')),
        publishes integer not null default 0,
        created_at timestamptz not null default now(),
        published_at timestamptz,
        done_at timestamptz
      );
      create index tip_outbox_pending_idx on tip_outbox (created_at) where state = 'pending';
    `,
  },
  {
    id: "0003_admin_audit",
    sql: `
      -- One row per admin mutation, written before it runs (outcome 'pending') and completed
      -- after it: an action whose row cannot be written does not run.
      create table admin_audit (
        id bigint generated always as identity primary key,
        at timestamptz not null default now(),
        actor text not null,
        action text not null,
        target text,
        params jsonb not null default '{}'::jsonb,
        outcome text not null default 'pending' check (outcome in ('pending', 'ok', 'error')),
        error text,
        request_id text,
        duration_ms integer
      );
    `,
  },
  {
    id: "0004_follows_notifications",
    sql: `
      -- Who follows whom: a tip to a creator notifies the creator's followers.
      create table follows (
        follower_id integer not null references users(id) on delete cascade,
        creator_id integer not null references users(id) on delete cascade,
        created_at timestamptz not null default now(),
        primary key (follower_id, creator_id),
        check (follower_id <> creator_id)
      );
      create index follows_creator_idx on follows (creator_id, follower_id);
      -- A follower's notification feed: at most one row per (follower, tip), whatever the
      -- number of deliveries of its notify-follower job.
      create table notifications (
        id bigint generated always as identity primary key,
        user_id integer not null references users(id) on delete cascade,
        tip_id integer not null references tips(id) on delete cascade,
        created_at timestamptz not null default now(),
        unique (user_id, tip_id)
      );
      create index notifications_user_idx on notifications (user_id, id desc);
    `,
  },
  {
    id: "0005_daily_tip_report",
    sql: `
      -- The daily report: one row per computed UTC day, and its tips per creator. Recomputing a
      -- day replaces its rows (the daily-report job runs on a fixed-id schedule).
      create table daily_report_days (
        day date primary key,
        tips integer not null,
        cents bigint not null,
        computed_at timestamptz not null default now()
      );
      create table daily_report_creators (
        day date not null references daily_report_days(day) on delete cascade,
        creator_id integer not null references users(id) on delete cascade,
        tips integer not null,
        cents bigint not null,
        primary key (day, creator_id)
      );
      create index tips_created_idx on tips (created_at);
    `,
  },
  {
    id: "0006_tip_outbox_fanout",
    sql: `
      -- A tip's outbox row also stands for its fan-out (the notify-follower batch): null while it
      -- is pending, set once the batch was published (or, without QStash, the notifications
      -- written); the relay re-runs the fan-outs left pending. Rows older than this migration are
      -- taken as fanned out (their fan-out ran, or was lost, before it was tracked).
      alter table tip_outbox add column fanout_done_at timestamptz;
      update tip_outbox set fanout_done_at = coalesce(done_at, created_at);
      create index tip_outbox_fanout_pending_idx on tip_outbox (created_at)
        where fanout_done_at is null;
    `,
  },
];
