-- Reader access. bi_reader reads the marts with personal data masked; finance_reader reads
-- the marts and finance; neither reads raw, ops, staging, intermediate, snapshots or ml.
--
-- dbt drops and re-creates mart tables on every build, and a re-created table keeps no
-- grants, so table grants and masking views are (re)applied after each build by
-- salesops.access.apply_grants (the transform DAG and `salesops build` call it). This
-- migration holds what survives builds: the masking functions and the schema rules.
-- Idempotent: safe to run on any warehouse state.

create schema if not exists access;
comment on schema access is
    'Masking functions used by the *_masked views of the marts; holds no data.';

-- 'jane.doe@example.com' -> 'j***@example.com': the company domain stays useful to BI.
create or replace function access.mask_email(email text) returns text
    language sql immutable parallel safe
    return case
        when email is null then null
        when position('@' in email) < 2 then '***'
        else left(email, 1) || '***@' || split_part(email, '@', 2)
    end;

-- '+86 151 6476 9901' -> '***9901': the last four digits, and only of a full number.
create or replace function access.mask_phone(phone text) returns text
    language sql immutable parallel safe
    return case
        when phone is null then null
        when length(regexp_replace(phone, '\D', '', 'g')) < 8 then '***'
        else '***' || right(regexp_replace(phone, '\D', '', 'g'), 4)
    end;

comment on function access.mask_email(text) is 'Masks an email address, keeping its first letter and domain.';
comment on function access.mask_phone(text) is 'Masks a phone number, keeping its last four digits.';

grant usage on schema access to bi_reader, finance_reader, salesops_ml;
grant execute on function access.mask_email(text), access.mask_phone(text)
    to bi_reader, finance_reader, salesops_ml;

-- Readers never reach the landing, bookkeeping or intermediate layers.
revoke all on schema raw, ops, staging, intermediate, snapshots, ml, finance from bi_reader;
revoke all on schema raw, ops, staging, intermediate, snapshots, ml from finance_reader;
grant usage on schema marts to bi_reader, finance_reader;
grant usage on schema finance to finance_reader;

-- finance_reader may read every mart and finance table, including ones created later by the
-- role that runs migrations and builds (the embedded default: one role does both).
-- bi_reader gets no default privilege on marts on purpose: a new table may hold personal
-- data, so BI sees it only once apply_grants has decided which columns are safe.
alter default privileges in schema marts grant select on tables to finance_reader;
alter default privileges in schema finance grant select on tables to finance_reader;
grant select on all tables in schema finance to finance_reader;
