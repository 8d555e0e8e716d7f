{#- Facts about a dataset come from catalogue/<name>.yml, through the generated
    `catalogue_entries()` macro (see transforms/dbt_catalogue.py); never typed into SQL. -#}

{% macro catalogue_entry(dataset) -%}
    {%- set entries = catalogue_entries() -%}
    {%- if dataset not in entries -%}
        {{ exceptions.raise_compiler_error("dataset '" ~ dataset ~ "' is not in the catalogue") }}
    {%- endif -%}
    {{ return(entries[dataset]) }}
{%- endmacro %}

{% macro fmt(dataset, column) -%}
    {%- set formats = catalogue_entry(dataset)['formats'] -%}
    {%- if column not in formats -%}
        {{ exceptions.raise_compiler_error("catalogue/" ~ dataset ~ ".yml: column '" ~ column ~ "' has no format") }}
    {%- endif -%}
    '{{ formats[column] }}'
{%- endmacro %}

{% macro country(dataset) -%}
    '{{ catalogue_entry(dataset)['country'] }}'
{%- endmacro %}

{% macro source_version(dataset) -%}
    {%- set versions = var('bronze_versions', {}) -%}
    {%- if dataset in versions -%}{{ versions[dataset] }}{%- else -%}cast(null as bigint){%- endif -%}
{%- endmacro %}

{% macro local_time(dataset, column) -%}
    {#- A raw local time column as UTC, in the dataset's catalogued format and time zone. -#}
    {%- set entry = catalogue_entry(dataset) -%}
    {%- if column not in entry['formats'] -%}
        {{ exceptions.raise_compiler_error("catalogue/" ~ dataset ~ ".yml: column '" ~ column ~ "' has no format") }}
    {%- endif -%}
    {{ local_time_to_utc(column, entry['formats'][column], entry['timezone']) }}
{%- endmacro %}
