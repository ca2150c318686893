-- Label propagation ran long enough: every identity key (email, phone) used to
-- link records belongs to exactly one contact. A row here means one more pass
-- would still merge contacts: raise var('identity_passes').
select
    'email' as key_type,
    email_key as identity_key,
    count(distinct contact_id) as contacts
from {{ ref('int_contact_records_clustered') }}
where email_key is not null
group by 1, 2
having count(distinct contact_id) > 1

union all

select
    'phone' as key_type,
    phone_key as identity_key,
    count(distinct contact_id) as contacts
from {{ ref('int_contact_records_clustered') }}
where phone_key is not null
group by 1, 2
having count(distinct contact_id) > 1
