{#- Text cleaning shared by every staging model. Pure SQL (the embedded Postgres has no
    contrib extensions), lower-case, and each macro is one expression so it can be used in
    any select list. -#}

{#- Full-width forms (U+FF01..U+FF5E) and the ideographic space (U+3000) to ASCII: what
    NFKC does for the characters Chinese input methods produce. Kept as translate() rather
    than normalize(.., NFKC) so it also runs on a database whose encoding is not UTF-8. -#}
{% macro fullwidth_to_ascii(expr) -%}
    translate({{ expr }}, '！＂＃＄％＆＇（）＊＋，－．／０１２３４５６７８９：；＜＝＞？＠ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ［＼］＾＿｀ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ｛｜｝～　', '!"#$%&''()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefghijklmnopqrstuvwxyz{|}~ ')
{%- endmacro %}

{#- Trimmed text with inner runs of white space collapsed; empty -> null. -#}
{% macro clean_text(expr) -%}
    nullif(btrim(regexp_replace({{ fullwidth_to_ascii(expr) }}, '\s+', ' ', 'g')), '')
{%- endmacro %}

{#- Lower case, no white space anywhere, full-width folded; null unless it looks like an
    address (something@domain.tld). -#}
{% macro normalize_email(expr) -%}
    substring(
        lower(regexp_replace({{ fullwidth_to_ascii(expr) }}, '\s', '', 'g'))
        from '^[^@]+@[^@]+\.[^@.]+$'
    )
{%- endmacro %}

{#- Company name as a matching key: full-width folded, lower case, punctuation and white
    space to single spaces, '&' dropped, trailing legal-form words removed (Inc, LLC, Ltd,
    Corp, Co, GmbH, ... and 有限公司 / 股份有限公司 / 有限责任公司 / 公司). Descriptive words such
    as Group, Holdings or Solutions are kept: they tell different companies apart. Falls
    back to the unstripped key when only legal-form words were there. -#}
{% macro normalize_company_name(expr) -%}
    {%- set spaced -%}
        btrim(regexp_replace(
            regexp_replace(
                lower({{ fullwidth_to_ascii(expr) }}),
                '(股份有限公司|有限责任公司|有限公司|公司)\s*$', ''
            ),
            '[^[:alnum:]]+', ' ', 'g'
        ))
    {%- endset -%}
    nullif(coalesce(
        nullif(btrim(regexp_replace(
            ' ' || {{ spaced }},
            '( ({{ var("company_legal_suffixes") | join("|") }}))+$', ''
        )), ''),
        {{ spaced }}
    ), '')
{%- endmacro %}

{#- A phone number reduced to its digits and a '+' (full-width folded): the input of
    to_e164. Computed once per row in a staging CTE, so the rules below stay cheap. -#}
{% macro phone_plain(expr) -%}
    nullif(regexp_replace({{ fullwidth_to_ascii(expr) }}, '[^0-9+]', '', 'g'), '')
{%- endmacro %}

{#- A phone number in E.164 (+<country code><national number>), or null when it cannot be
    made one. plain: the number as phone_plain() returns it; country_code: ISO-3166
    alpha-2 of the record's country (may be null); calling_code: that country's calling
    code (may be null). In order:
      1. a '+' before the first digit: already international ("+86 138..", "(+86)138..");
      2. a '00' prefix: international access code ("0086138..", "0044 20 ..");
      3. 11 digits 13x..19x: a mainland-China mobile, when the country is China or unknown;
      4. NANP (10 digits, or 11 with a leading 1): US/Canada, or an unknown country;
      5. the record's own country: drop one trunk '0', prefix its calling code;
    and the result must be '+', a non-zero digit and 7..15 digits in all. -#}
{% macro to_e164(plain, country_code, calling_code) -%}
    {%- set d = "replace(" ~ plain ~ ", '+', '')" -%}
    substring(
        case
            when left({{ plain }}, 1) = '+' then '+' || {{ d }}
            when {{ d }} ~ '^00[1-9]' then '+' || substr({{ d }}, 3)
            when {{ d }} ~ '^1[3-9][0-9]{9}$'
                and coalesce({{ country_code }}, 'CN') = 'CN'
                then '+86' || {{ d }}
            when {{ d }} ~ '^1?[2-9][0-9]{2}[2-9][0-9]{6}$'
                and coalesce({{ country_code }}, 'US') in ('US', 'CA')
                then '+1' || right({{ d }}, 10)
            when {{ calling_code }} is not null and {{ d }} ~ '^0[1-9]'
                then '+' || {{ calling_code }} || substr({{ d }}, 2)
            when {{ calling_code }} is not null and {{ d }} ~ '^[1-9]'
                then '+' || {{ calling_code }} || {{ d }}
        end
        from '^\+[1-9][0-9]{6,14}$'
    )
{%- endmacro %}

{#- Codes and identifiers: trimmed, empty -> null (no full-width folding: cheap enough for
    the ids of 10M-row feeds). -#}
{% macro clean_code(expr) -%}
    nullif(btrim({{ expr }}), '')
{%- endmacro %}

{#- Calendar date / first day of the month of a timestamptz, in UTC whatever the session
    time zone is (every timestamp in raw is UTC-normalised by the loader). -#}
{% macro utc_date(expr) -%}
    ({{ expr }} at time zone 'UTC')::date
{%- endmacro %}

{% macro month_start(expr) -%}
    date_trunc('month', {{ expr }})::date
{%- endmacro %}

{#- A person's name words in alphabetical order, lower-case: 'Wang Wei' and 'wei wang'
    agree (identity resolution counts the distinct names behind an email or phone). -#}
{% macro name_key(full_name) -%}
    array_to_string(
        array(
            select name_word
            from unnest(string_to_array(lower({{ full_name }}), ' ')) as name_words (name_word)
            order by 1
        ),
        ' '
    )
{%- endmacro %}

{#- The person records (int_contact_records_unioned) whose columns hold one of the values
    their queries select (keys: {column: query}), each record once. Lead records through
    the indexes of int_leads_unioned (`= any(array(...))`: the planner cannot size a change
    set for a join; the contact branch of the view is pruned by record_type), the few CRM
    contacts by hash join. -#}
{% macro contact_records_matching(keys, columns='*') -%}
    select {{ columns }}
    from {{ ref('int_contact_records_unioned') }}
    where
        record_type = 'lead'
        and (
            {%- for column, query in keys.items() %}
            {{ 'or ' if not loop.first }}{{ column }} = any(array({{ query }}))
            {%- endfor %}
        )
    union all
    select {{ columns }}
    from {{ ref('int_contact_records_unioned') }}
    where
        record_type = 'contact'
        and (
            {%- for column, query in keys.items() %}
            {{ 'or ' if not loop.first }}{{ column }} in ({{ query }})
            {%- endfor %}
        )
{%- endmacro %}

{#- The person records holding one of the emails or phones of keys_relation (a CTE with
    email and phone columns). -#}
{% macro contact_records_holding(keys_relation, columns) -%}
    {{ contact_records_matching({
        'email': 'select ' ~ keys_relation ~ '.email from ' ~ keys_relation,
        'phone': 'select ' ~ keys_relation ~ '.phone from ' ~ keys_relation,
    }, columns) }}
{%- endmacro %}

{#- A record id as the source wrote it (clean_text), or null for an empty reference:
    Salesforce writes an empty lookup as the all-zero id 000000000000000AAA (18
    characters; 000000000000000 in 15), and exports from other tools write it as 18
    zeros. An id made of zeros only (15 or 18 of them, or 15 plus the AAA checksum) is
    no reference to anything. -#}
{% macro clean_id(expr) -%}
    case
        when {{ clean_text(expr) }} !~* '^0{15}(aaa|000)?$'
            then {{ clean_text(expr) }}
    end
{%- endmacro %}
