{#- The shared staging shape (column, kind; `sql_type` gives each engine's type). Every stg_<dataset> model emits any subset of these columns;
    `union_staging` fills the rest with typed nulls and stacks every catalogue dataset. -#}

{% macro staging_columns() -%}
    {{ return([
        ('record_key', 'string'), ('source_dataset', 'string'), ('source_version', 'bigint'),
        ('source_record_id', 'string'), ('classification', 'string'),
        ('source_delivery_id', 'string'), ('source_row_number', 'bigint'), ('source_row_hash', 'bigint'),
        ('record_type', 'string'),
        ('given_name', 'string'), ('middle_names', 'string'), ('family_name', 'string'),
        ('full_name', 'string'), ('date_of_birth', 'date'), ('birth_year', 'integer'),
        ('gender', 'string'), ('nationality', 'string'), ('aliases', 'strings'),
        ('addresses', 'addresses'), ('phones', 'strings'), ('emails', 'strings'), ('imeis', 'strings'),
        ('documents', 'documents'), ('caller', 'string'), ('callee', 'string'),
        ('started_at', 'timestamp'), ('duration_s', 'bigint'), ('cell_id', 'string'),
        ('invalid_fields', 'strings'),
    ]) }}
{%- endmacro %}

{% macro union_staging() -%}
    {%- set datasets = catalogue_entries().keys() | list | sort -%}
    {%- for dataset in datasets %}
    {%- set relation = ref('stg_' ~ dataset) %}
    {%- set present = [] -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- do present.append(column.name | lower) -%}
        {%- endfor -%}
    {%- endif %}
    select
        {%- for name, type in staging_columns() %}
        {% if name in present %}cast({{ name }} as {{ sql_type(type) }}){% else %}cast(null as {{ sql_type(type) }}){% endif %} as {{ name }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ relation }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}
