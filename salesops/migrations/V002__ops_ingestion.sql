-- Ingestion bookkeeping: every file is a batch, every refused row is kept with its reason.
create table if not exists ops.ingestion_batches (
    batch_id bigint generated always as identity primary key,
    channel text not null,
    entity text,
    raw_table text,
    source_file text not null,
    file_sha256 text not null,
    file_bytes bigint not null,
    file_format text,
    encoding text,
    preset text,
    rows_in bigint not null default 0,
    rows_loaded bigint not null default 0,
    rows_rejected bigint not null default 0,
    status text not null,
    error text,
    started_at timestamptz not null default clock_timestamp(),
    finished_at timestamptz,
    duration_ms bigint,
    constraint ingestion_batches_status_valid
        check (status in ('running', 'loaded', 'failed', 'interrupted')),
    -- The accounting invariant a data engineer relies on, enforced by the database.
    constraint ingestion_batches_rows_accounted
        check (status in ('running', 'interrupted') or rows_in = rows_loaded + rows_rejected)
);

-- A file's content is loaded at most once per channel.
create unique index if not exists ingestion_batches_loaded_once
    on ops.ingestion_batches (channel, file_sha256) where status = 'loaded';

create table if not exists ops.rejected_rows (
    rejected_id bigint generated always as identity primary key,
    batch_id bigint not null references ops.ingestion_batches (batch_id),
    channel text not null,
    entity text,
    source_file text not null,
    row_number bigint,
    raw_record json not null,  -- json, not jsonb: keeps the sender's field order
    reason text not null,
    rejected_at timestamptz not null default clock_timestamp()
);

create index if not exists rejected_rows_batch on ops.rejected_rows (batch_id);

create table if not exists ops.pipeline_runs (
    run_id bigint generated always as identity primary key,
    command text not null,
    started_at timestamptz not null,
    finished_at timestamptz,
    status text not null,
    summary jsonb
);

grant select, insert, update on ops.ingestion_batches, ops.rejected_rows, ops.pipeline_runs
    to salesops_loader;
grant select on ops.ingestion_batches, ops.rejected_rows, ops.pipeline_runs
    to salesops_transformer;
