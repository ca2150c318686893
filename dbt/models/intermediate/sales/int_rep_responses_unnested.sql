-- Every rep response (a call, email or meeting that is not inbound) with the
-- person it reached: the sorted response times of int_activity_links_resolved,
-- one row each. First responses to leads and to people are the earliest at or
-- after their creation.
with

activity_links as (

    select * from {{ ref('int_activity_links_resolved') }}

),

final as (

    select
        contact_id,
        unnest(rep_response_times) as responded_at
    from activity_links
    where contact_id is not null

)

select * from final
