{#- Building blocks every staging model uses, so lineage and de-duplication are the same everywhere. -#}

{% macro record_id(dataset) -%}
    {%- set columns = catalogue_entry(dataset)['record_id'] -%}
    {%- if columns | length == 1 -%}cast({{ columns[0] }} as string)
    {%- else -%}concat_ws('|', {% for c in columns %}cast({{ c }} as string){% if not loop.last %}, {% endif %}{% endfor %})
    {%- endif -%}
{%- endmacro %}

{% macro latest_records(relation, dataset) -%}
    {#- Feed datasets re-deliver changed records under the same id: keep the latest delivery.
        When a new cut replaces the last (an incremental build), the records it repeats unchanged
        were carried over before this runs (`carry_unchanged_cut_records`) and are left out. -#}
    select *
    from (
        select
            *,
            row_number() over (
                partition by {{ record_id(dataset) }}
                order by _delivery_id desc, _row_number desc
            ) as _latest_rank
        from {{ relation }}
    ) as ranked
    where _latest_rank = 1
    {%- if dataset in var('silver_replaced', []) %}
        and not exists (
            select 1 from {{ held_records() }} as held
            where held.source_dataset = '{{ dataset }}'
                and held.source_record_id = {{ record_id(dataset) }}
                and held.source_delivery_id = ranked._delivery_id
        )
    {%- endif %}
{%- endmacro %}

{% macro held_records() -%}
    {#- The records silver holds (the incremental model; not a ref: staging comes before it). -#}
    intermediate.int_records__unioned
{%- endmacro %}

{% macro raw_row_hash(dataset) -%}
    {%- set columns = [] -%}
    {%- for column in catalogue_entry(dataset)['columns'] -%}{%- do columns.append(adapter.quote(column)) -%}{%- endfor -%}
    {{ row_hash(columns) }}
{%- endmacro %}

{% macro lineage_columns(dataset) -%}
    '{{ dataset }}:' || {{ record_id(dataset) }} as record_key,
    '{{ dataset }}' as source_dataset,
    {{ source_version(dataset) }} as source_version,
    {{ record_id(dataset) }} as source_record_id,
    '{{ catalogue_entry(dataset)['classification'] }}' as classification,
    _delivery_id as source_delivery_id,
    _row_number as source_row_number,
    {{ raw_row_hash(dataset) }} as source_row_hash
{%- endmacro %}

{% macro phone_list(columns, dataset) -%}
    {#- E.164 phones from several raw columns, invalid ones dropped. -#}
    {%- set phones = [] -%}
    {%- for c in columns -%}{%- do phones.append('to_e164(' ~ c ~ ', ' ~ country(dataset) ~ ')') -%}{%- endfor -%}
    {{ list_where(list_of(phones), 'x', 'x is not null') }}
{%- endmacro %}

{% macro address_struct(line, town, postcode, dataset) -%}
    {#- One address in the shared shape. -#}
    {{ struct_of([
        ('address_line', line),
        ('town', 'fold_text(' ~ town ~ ')'),
        ('postcode', 'normalise_postcode(' ~ postcode ~ ', ' ~ country(dataset) ~ ')'),
        ('country', country(dataset)),
    ]) }}
{%- endmacro %}

{% macro address_list(addresses) -%}
    {#- A list of address structs, dropping those with nothing in them (no line, postcode or town):
        a town alone is kept, as the model compares towns. -#}
    {{ list_where(list_of(addresses), 'a', address_present('a')) }}
{%- endmacro %}

{% macro address_present(a) -%}
    {#- An address struct carries something: a line, a postcode or a (non-blank) town. -#}
    ({{ a }}.address_line is not null or {{ a }}.postcode is not null or nullif(trim({{ a }}.town), '') is not null)
{%- endmacro %}

{% macro gender(column) -%}
    case upper(left(trim({{ column }}), 1)) when 'M' then 'M' when 'F' then 'F' end
{%- endmacro %}

{% macro nationality(column) -%}
    case when {{ matches('upper(trim(' ~ column ~ '))', '^[A-Z]{3}$') }} then upper(trim({{ column }})) end
{%- endmacro %}

{% macro document_number(column) -%}
    nullif({{ strip_pattern('upper(coalesce(' ~ column ~ ", ''))", '[^A-Z0-9]') }}, '')
{%- endmacro %}

{% macro name_columns(parsed) -%}
    {{ parsed }}.given_name as given_name,
    {{ parsed }}.middle_names as middle_names,
    {{ parsed }}.family_name as family_name,
    {{ parsed }}.full_name as full_name
{%- endmacro %}

{% macro birth_columns(parsed) -%}
    {{ parsed }}.date_of_birth as date_of_birth,
    {{ parsed }}.birth_year as birth_year
{%- endmacro %}

{% macro invalid_fields(checks) -%}
    {#- Names of raw fields that carried a value the rules could not normalise (they became null).
        `checks` is a list of (field name, raw expression, normalised expression). -#}
    {%- set flags = [] -%}
    {%- for name, raw, normalised in checks -%}
        {%- do flags.append("case when nullif(trim(cast(" ~ raw ~ " as string)), '') is not null and " ~ normalised ~ " is null then '" ~ name ~ "' end") -%}
    {%- endfor -%}
    {{ list_where(list_of(flags), 'f', 'f is not null') }}
{%- endmacro %}
