{#- The shared staging shape. Every stg_<dataset> model emits any subset of these columns;
    `union_staging` fills the rest with typed nulls and stacks every catalogue dataset. -#}

{% macro staging_columns() -%}
    {{ return([
        ('record_key', 'varchar'), ('source_dataset', 'varchar'), ('source_version', 'bigint'),
        ('source_record_id', 'varchar'), ('classification', 'varchar'),
        ('source_delivery_id', 'varchar'), ('source_row_number', 'bigint'), ('record_type', 'varchar'),
        ('given_name', 'varchar'), ('middle_names', 'varchar'), ('family_name', 'varchar'),
        ('full_name', 'varchar'), ('date_of_birth', 'date'), ('birth_year', 'integer'),
        ('gender', 'varchar'), ('nationality', 'varchar'), ('aliases', 'varchar[]'),
        ('addresses', 'struct(address_line varchar, town varchar, postcode varchar, country varchar)[]'),
        ('phones', 'varchar[]'), ('emails', 'varchar[]'), ('imeis', 'varchar[]'),
        ('documents', 'struct(document_type varchar, document_number varchar, issuing_country varchar)[]'),
        ('caller', 'varchar'), ('callee', 'varchar'), ('started_at', 'timestamptz'),
        ('duration_s', 'bigint'), ('cell_id', 'varchar'), ('invalid_fields', 'varchar[]'),
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
        {% if name in present %}cast({{ name }} as {{ type }}){% else %}cast(null as {{ type }}){% endif %} as {{ name }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ relation }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}
