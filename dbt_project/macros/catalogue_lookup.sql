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
    {#- The bronze version that committed the row's delivery (transforms/silver_plan.py), so a row
        carries the same version however often silver is rebuilt; else the version read now. -#}
    {%- set versions = var('bronze_versions', {}) -%}
    {%- set deliveries = var('delivery_versions', {}).get(dataset, {}) -%}
    {%- set current -%}{%- if dataset in versions -%}{{ versions[dataset] }}{%- else -%}cast(null as bigint){%- endif -%}{%- endset -%}
    {%- if deliveries -%}
    case _delivery_id{% for delivery, version in deliveries | dictsort %} when {{ quoted(delivery) }} then {{ version }}{% endfor %} else {{ current }} end
    {%- else -%}{{ current }}{%- endif -%}
{%- endmacro %}

{% macro quoted(text) -%}
    '{{ text | replace("'", "''") }}'
{%- endmacro %}

{% macro local_time(dataset, column) -%}
    {#- A raw local time column as UTC, in the dataset's catalogued format and time zone. -#}
    {%- set entry = catalogue_entry(dataset) -%}
    {%- if column not in entry['formats'] -%}
        {{ exceptions.raise_compiler_error("catalogue/" ~ dataset ~ ".yml: column '" ~ column ~ "' has no format") }}
    {%- endif -%}
    {{ local_time_to_utc(column, entry['formats'][column], entry['timezone']) }}
{%- endmacro %}

{% macro carry_unchanged_cut_records() -%}
    {#- Before an incremental build adds a new `cut`: the held records whose raw row the new cut
        repeats (same id, same values) are carried over, pointed at their row in the new cut, so
        they are not normalised again; the rest of the cut they replace (records that left or
        changed) is deleted. A rebuild gives the same rows. -#}
    {%- set replaced = var('silver_replaced', []) -%}
    {%- if target.type == 'duckdb' and is_incremental() -%}
    {#- Versions bronze no longer holds (a destruction, expired log entries): held rows move up
        to the oldest readable one, where they still are, as a rebuild would give them. -#}
    {%- for dataset, floor in var('bronze_floors', {}).items() | sort %}
    update {{ this }} set source_version = {{ floor }}
    where source_dataset = {{ quoted(dataset) }} and source_version < {{ floor }};
    {%- endfor %}
    {%- for dataset in replaced %}
    update {{ this }} as held
    set source_delivery_id = fresh.source_delivery_id,
        source_row_number = fresh.source_row_number,
        source_version = fresh.source_version
    from (
        select record_key, source_row_hash, source_delivery_id, source_row_number, source_version
        from {{ ref('stg_' ~ dataset) }}
    ) as fresh
    where held.source_dataset = {{ quoted(dataset) }}
        and held.record_key = fresh.record_key
        and held.source_row_hash = fresh.source_row_hash;
    delete from {{ this }}
    where source_dataset = {{ quoted(dataset) }}
        and source_delivery_id not in ({% for delivery in var('silver_reads', {}).get(dataset, []) %}{{ quoted(delivery) }}{% if not loop.last %}, {% endif %}{% endfor %});
    {%- endfor %}
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}

{% macro record_normalised_deliveries() -%}
    {#- The deliveries `int_records__unioned` has normalised, kept beside it: a delivery whose every
        record a later one replaced leaves no row, yet must not be read again. A build from scratch
        starts the list afresh (transforms/silver_plan.py reads it). -#}
    {%- set relation = this.schema ~ '.normalised_deliveries' -%}
    {%- set read = {} -%}
    {%- for dataset, deliveries in var('delivery_versions', {}).items() -%}
        {%- do read.update({dataset: deliveries.keys() | list}) -%}
    {%- endfor -%}
    {%- if target.type != 'duckdb' -%}
    select 1 {#- Spark builds the model whole every time: no list to keep -#}
    {%- else -%}
    {%- if not is_incremental() -%}
    create or replace table {{ relation }} (dataset varchar, delivery_id varchar);
    {%- else -%}
    create table if not exists {{ relation }} (dataset varchar, delivery_id varchar);
    {%- endif %}
    {#- A dataset's deliveries count as normalised only when rows of them reached the model: a
        build whose staging read nothing of a dataset (say, its view was not rebuilt in this dbt
        process) reads them again next time. A delivery wholly replaced by a later one in the same
        build is recorded with it. -#}
    {%- set pairs = [] -%}
    {%- for dataset, deliveries in read.items() | sort -%}
    {%- for delivery in deliveries | sort -%}
    {%- do pairs.append('(' ~ quoted(dataset) ~ ', ' ~ quoted(delivery) ~ ')') -%}
    {%- endfor -%}
    {%- endfor %}
    {%- if pairs %}
    insert into {{ relation }}
    select read_now.dataset, read_now.delivery_id
    from (values {{ pairs | join(', ') }}) as read_now (dataset, delivery_id)
    where read_now.dataset in (
            select distinct held.source_dataset
            from {{ this }} as held
            inner join (values {{ pairs | join(', ') }}) as seen (dataset, delivery_id)
                on held.source_dataset = seen.dataset and held.source_delivery_id = seen.delivery_id
        )
        and not exists (
            select 1 from {{ relation }} as listed
            where listed.dataset = read_now.dataset and listed.delivery_id = read_now.delivery_id
        );
    {%- endif %}
    {%- endif -%}
{%- endmacro %}
