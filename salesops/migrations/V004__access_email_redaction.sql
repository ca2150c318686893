-- Email addresses inside other values (natural keys such as '<event>:<attendee email>',
-- lists of source record ids) are personal data too. salesops.access.apply_grants finds
-- mart columns holding such values and shows them to BI through these functions only.

create or replace function access.redact_emails(value text) returns text
    language sql immutable parallel safe
    return regexp_replace(
        value, '([A-Za-z0-9])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})',
        '\1***@\2', 'g');

create or replace function access.redact_emails(value text[]) returns text[]
    language sql immutable parallel safe
    return case when value is null then null else array(
        select access.redact_emails(item) from unnest(value) with ordinality as u(item, n) order by n
    ) end;

comment on function access.redact_emails(text) is
    'Masks every email address inside a text, keeping its first letter and domain.';
comment on function access.redact_emails(text[]) is
    'Masks every email address inside each element of a text array.';

grant execute on function access.redact_emails(text), access.redact_emails(text[])
    to bi_reader, finance_reader, salesops_ml;
