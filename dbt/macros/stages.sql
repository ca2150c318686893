{#- What a pipeline stage means, read from its label alone: 'won', 'lost' or null (the
    label says neither). The last rule before a custom stage counts as open (the export's
    own is_won/is_closed, its forecast category, the user stage map and
    seeds/opportunity_stages.csv come first: stg_crm_export__opportunities).
    The words, in English, Spanish (and Portuguese) and Chinese, matched as whole words in
    Latin script (any non-letter separates words: 'Closed_Won', '6 - Won') and as
    substrings in Chinese:
      lost:  lost, lose, closed lost, closedlost, perdido/perdida(s), cerrado perdido,
             no ganado, perdeu; 输单, 丢单, 失单, 失败, 流失, 已流失, 未成交, 已输
             (and their traditional forms: 輸單, 丟單, 失單, 失敗, 未成交, 已輸)
      won:   won, win, closed won, closedwon, ganado/ganada(s), cerrado ganado, ganho;
             赢单, 已赢, 赢得, 成交, 已成交, 签约, 已签约
             (贏單, 已贏, 贏得, 簽約)
      closed without a win (-> lost): closed, cerrado/cerrada, fechado;
             关闭, 已关闭, 结束 (關閉, 結束)
    Lost is tested first: 'no ganado' and '未成交' (not closed) contain a won word, and
    'closed lost' a closed one. -#}
{% macro stage_semantics_from_label(label) -%}
    {%- set latin = "(^|[^a-záéíóúüñç])(" -%}
    {%- set latin_end = ")([^a-záéíóúüñç]|$)" -%}
    case
        when lower({{ label }}) ~ '{{ latin }}lost|lose|closedlost|perdid[oa]s?|no ganad[oa]s?|perdeu{{ latin_end }}'
            or {{ label }} ~ '(输单|丢单|失单|失败|流失|未成交|已输|輸單|丟單|失單|失敗|已輸)'
            then 'lost'
        when lower({{ label }}) ~ '{{ latin }}won|win|closedwon|ganad[oa]s?|ganho{{ latin_end }}'
            or {{ label }} ~ '(赢单|已赢|赢得|成交|签约|贏單|已贏|贏得|簽約)'
            then 'won'
        when lower({{ label }}) ~ '{{ latin }}closed|cerrad[oa]s?|fechad[oa]s?{{ latin_end }}'
            or {{ label }} ~ '(关闭|结束|關閉|結束)'
            then 'lost'
    end
{%- endmacro %}

{#- What the export's forecast category says (Salesforce ForecastCategoryName, Zoho
    Forecast Type): 'Closed' is the category of won stages, 'Omitted' that of lost ones
    (Salesforce's defaults: Closed Won -> Closed, Closed Lost -> Omitted); the open
    categories (Pipeline, Best Case, Commit) say nothing the stage does not. -#}
{% macro stage_semantics_from_forecast(category) -%}
    case lower(btrim({{ category }}))
        when 'closed' then 'won'
        when 'closed won' then 'won'
        when 'omitted' then 'lost'
        when 'closed lost' then 'lost'
        -- Zoho's Won / Lost, Fxiaoke's 赢单 / 输单: the label rule's words
        else {{ stage_semantics_from_label(category) }}
    end
{%- endmacro %}
