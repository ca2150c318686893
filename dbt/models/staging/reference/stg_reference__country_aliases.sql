-- Every spelling of a country the project can resolve (canonical English name,
-- ISO code and the variants/typos of seeds/country_fixes.csv) -> country, ISO
-- code, calling code, sales region. Lookup key: lower-cased, trimmed text.
with

countries as (

    select * from {{ ref('country_regions') }}

),

fixes as (

    select * from {{ ref('country_fixes') }}

),

aliases as (

    select
        lower(country) as alias_key,
        country,
        false as is_fixed
    from countries

    union all

    select
        lower(iso_code) as alias_key,
        country,
        false as is_fixed
    from countries

    union all

    select
        lower(raw_country) as alias_key,
        country,
        true as is_fixed
    from fixes

),

final as (

    select distinct on (aliases.alias_key)
        aliases.alias_key,
        aliases.country,
        aliases.is_fixed,
        countries.iso_code as country_code,
        countries.calling_code,
        countries.region
    from aliases
    left join countries
        on aliases.country = countries.country
    order by 1, 3

)

select * from final
