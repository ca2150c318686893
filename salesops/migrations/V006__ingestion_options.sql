-- What a batch was loaded with: the options a user gave (encoding, currency, country,
-- constant columns, preset file) and how the reader decided (detected encoding).
alter table ops.ingestion_batches add column if not exists options jsonb;

-- A file whose every row was refused is 'rejected': nothing of it reached raw.
alter table ops.ingestion_batches drop constraint if exists ingestion_batches_status_valid;
alter table ops.ingestion_batches add constraint ingestion_batches_status_valid
    check (status in ('running', 'loaded', 'failed', 'rejected', 'interrupted'));
