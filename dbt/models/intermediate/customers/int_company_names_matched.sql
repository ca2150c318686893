-- Company resolution: every normalised company name seen anywhere (CRM
-- accounts, opportunities, person records, orders, surveys) -> the canonical
-- company it belongs to.
--   company_exact: names equal after normalize_company_name (case, punctuation,
--     full-width forms, legal-form suffixes) are one company;
--   company_fuzzy: where the exact key fails, a name whose words equal a
--     better-ranked name's words except one, that one word being a single edit
--     away (substitution, insertion, deletion or swap of neighbours; both words
--     >= 4 characters), is a misspelling of it (Latin-script words only: in CJK
--     names one character apart is as often another city or brand as a typo).
--     Blocking: names meet only when they agree on every other word and on the
--     first or last character of the differing word, so the comparison stays
--     near-linear. Better-ranked = a CRM account first, then more mentions,
--     then name. Chains (a typo of a typo) follow to the root. Confidence: the
--     character-trigram Jaccard similarity of the two full names
--     (generate_series over the padded names), floored at 0.5, times 0.95.
-- CRM accounts are never remapped onto another name; accounts sharing a name
-- but carrying distinct ids have distinct keys (stg_crm_export__accounts).
{{ config(materialized='table') }}

with recursive

accounts as (

    select * from {{ ref('stg_crm_export__accounts') }}

),

opportunities as (

    select * from {{ ref('stg_crm_export__opportunities') }}

),

person_records as (

    select * from {{ ref('int_contact_records_unioned') }}

),

orders as (

    select * from {{ ref('stg_orders__orders') }}

),

survey_responses as (

    select * from {{ ref('stg_surveys__responses') }}

),

mentions as (

    select
        company_key,
        true as is_account
    from accounts
    union all
    select
        parent_company_key as company_key,
        false as is_account
    from accounts
    where parent_company_key is not null
    union all
    -- a deal that names its account by id mentions that account, not its name
    -- (which other accounts may share)
    select
        opportunities.company_key,
        false as is_account
    from opportunities
    left join accounts as id_accounts
        on opportunities.account_id = id_accounts.account_id
    where
        opportunities.company_key is not null
        and id_accounts.account_id is null
    union all
    select
        company_key,
        false as is_account
    from person_records
    where company_key is not null
    union all
    select
        company_key,
        false as is_account
    from orders
    where company_key is not null
    union all
    select
        company_key,
        false as is_account
    from survey_responses
    where company_key is not null

),

names as (

    select
        company_key,
        bool_or(is_account) as is_account,
        count(*) as mentions,
        string_to_array(company_key, ' ') as words
    from mentions
    group by 1

),

ranked as (

    select
        names.*,
        row_number() over (
            order by
                names.is_account desc,
                names.mentions desc,
                names.company_key asc
        ) as name_rank
    from names

),

word_slots as (

    -- one row per name and word position: the name with that word masked
    select
        ranked.company_key,
        ranked.name_rank,
        ranked.is_account,
        slot.position,
        ranked.words[slot.position] as word,
        array_to_string(
            ranked.words[:slot.position - 1]
            || array['*']
            || ranked.words[slot.position + 1:],
            ' '
        ) as masked_name
    from ranked
    cross join generate_series(1, cardinality(ranked.words)) as slot (position)
    where
        length(ranked.words[slot.position]) >= 4
        -- CJK names are matched exactly only: one character apart is as often
        -- another city or brand (广州/杭州) as a typo
        and ranked.words[slot.position] !~ '[\u3040-\u9fff]'

),

blocks as (

    select
        word_slots.*,
        block.block_key
    from word_slots
    cross join lateral (
        values
        ('f:' || left(word_slots.word, 1)),
        ('l:' || right(word_slots.word, 1))
    ) as block (block_key)

),

candidate_pairs as (

    select distinct
        worse.company_key,
        worse.name_rank,
        worse.word,
        better.company_key as better_company_key,
        better.name_rank as better_name_rank,
        better.word as better_word
    from blocks as worse
    inner join blocks as better
        on
            worse.masked_name = better.masked_name
            and worse.position = better.position
            and worse.block_key = better.block_key
            and worse.name_rank > better.name_rank
            and abs(length(worse.word) - length(better.word)) <= 1
            and worse.word <> better.word
    where not worse.is_account

),

prefix_mismatches as (

    -- first position where the two words differ (from the start)
    select
        candidate_pairs.company_key,
        candidate_pairs.better_company_key,
        min(positions.position) - 1 as prefix_len
    from candidate_pairs
    cross join
        generate_series(
            1,
            least(
                length(candidate_pairs.word),
                length(candidate_pairs.better_word)
            )
        ) as positions (position)
    where
        substr(candidate_pairs.word, positions.position, 1)
        <> substr(candidate_pairs.better_word, positions.position, 1)
    group by 1, 2

),

prefixed as (

    select
        candidate_pairs.*,
        coalesce(
            prefix_mismatches.prefix_len,
            least(
                length(candidate_pairs.word),
                length(candidate_pairs.better_word)
            )
        ) as prefix_len
    from candidate_pairs
    left join prefix_mismatches
        on
            candidate_pairs.company_key = prefix_mismatches.company_key
            and candidate_pairs.better_company_key
            = prefix_mismatches.better_company_key

),

suffix_mismatches as (

    -- first position where they differ from the end, within what the common
    -- prefix leaves
    select
        prefixed.company_key,
        prefixed.better_company_key,
        min(positions.position) - 1 as suffix_len
    from prefixed
    cross join
        generate_series(
            1,
            least(length(prefixed.word), length(prefixed.better_word))
            - prefixed.prefix_len
        ) as positions (position)
    where
        substr(reverse(prefixed.word), positions.position, 1)
        <> substr(reverse(prefixed.better_word), positions.position, 1)
    group by 1, 2

),

affixes as (

    select
        prefixed.*,
        coalesce(
            suffix_mismatches.suffix_len,
            least(length(prefixed.word), length(prefixed.better_word))
            - prefixed.prefix_len
        ) as suffix_len
    from prefixed
    left join suffix_mismatches
        on
            prefixed.company_key = suffix_mismatches.company_key
            and prefixed.better_company_key
            = suffix_mismatches.better_company_key

),

middles as (

    -- what is left of each word between the common prefix and suffix
    select
        affixes.*,
        substr(
            affixes.word,
            affixes.prefix_len + 1,
            length(affixes.word) - affixes.prefix_len - affixes.suffix_len
        ) as middle,
        substr(
            affixes.better_word,
            affixes.prefix_len + 1,
            length(affixes.better_word)
            - affixes.prefix_len
            - affixes.suffix_len
        ) as better_middle
    from affixes

),

one_edit_pairs as (

    select
        company_key,
        better_company_key,
        better_name_rank
    from middles
    where
        (length(middle) <= 1 and length(better_middle) <= 1)
        or (
            length(middle) = 2
            and length(better_middle) = 2
            and middle = reverse(better_middle)
        )

),

best_partner as (

    select distinct on (company_key)
        company_key,
        better_company_key,
        better_name_rank
    from one_edit_pairs
    order by 1, 3

),

resolved as (

    select
        ranked.company_key,
        ranked.company_key as canonical_company_key,
        0 as hops
    from ranked
    left join best_partner
        on ranked.company_key = best_partner.company_key
    where best_partner.company_key is null

    union all

    select
        best_partner.company_key,
        resolved.canonical_company_key,
        resolved.hops + 1 as hops
    from best_partner
    inner join resolved
        on best_partner.better_company_key = resolved.company_key

),

fuzzy_names as (

    select
        company_key as name_key,
        '  ' || company_key || ' ' as padded_name
    from resolved
    where hops > 0

    union

    select
        canonical_company_key as name_key,
        '  ' || canonical_company_key || ' ' as padded_name
    from resolved
    where hops > 0

),

trigrams as (

    select distinct
        fuzzy_names.name_key as company_key,
        substr(fuzzy_names.padded_name, grams.position, 3) as trigram
    from fuzzy_names
    cross join generate_series(
        1, length(fuzzy_names.padded_name) - 2
    ) as grams (position)

),

trigram_counts as (

    select
        company_key,
        count(*) as trigram_count
    from trigrams
    group by 1

),

similarities as (

    select
        resolved.company_key,
        count(*)::numeric / (
            min(own.trigram_count) + min(canonical.trigram_count) - count(*)
        ) as trigram_jaccard
    from resolved
    inner join trigrams as own_grams
        on resolved.company_key = own_grams.company_key
    inner join trigrams as canonical_grams
        on
            resolved.canonical_company_key = canonical_grams.company_key
            and own_grams.trigram = canonical_grams.trigram
    inner join trigram_counts as own
        on resolved.company_key = own.company_key
    inner join trigram_counts as canonical
        on resolved.canonical_company_key = canonical.company_key
    where resolved.hops > 0
    group by 1

),

final as (

    select
        resolved.company_key,
        resolved.canonical_company_key,
        ranked.is_account,
        ranked.mentions,
        resolved.hops as fuzzy_hops,
        case
            when resolved.hops = 0 then 'company_exact' else 'company_fuzzy'
        end as match_rule,
        case
            when resolved.hops = 0 then 1.00
            else round(
                0.95 * greatest(coalesce(similarities.trigram_jaccard, 0), 0.5),
                2
            )
        end as match_confidence,
        round(similarities.trigram_jaccard, 4) as trigram_similarity
    from resolved
    inner join ranked
        on resolved.company_key = ranked.company_key
    left join similarities
        on resolved.company_key = similarities.company_key

)

select * from final
