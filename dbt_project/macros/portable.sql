{#- The SQL that differs between the engines, behind adapter.dispatch: DuckDB (`default__`, the
    embedded default) and Spark (`spark__`). Models call these and stay engine-neutral. -#}

{% macro list_of(items) %}{{ return(adapter.dispatch('list_of')(items)) }}{% endmacro %}
{% macro default__list_of(items) %}[{{ items | join(', ') }}]{% endmacro %}
{% macro spark__list_of(items) %}array({{ items | join(', ') }}){% endmacro %}

{% macro empty_list(kind) %}{{ return(adapter.dispatch('empty_list')(kind)) }}{% endmacro %}
{% macro default__empty_list(kind) %}cast([] as {{ sql_type(kind) }}){% endmacro %}
{% macro spark__empty_list(kind) %}cast(array() as {{ sql_type(kind) }}){% endmacro %}

{% macro list_where(list, var, predicate) %}{{ return(adapter.dispatch('list_where')(list, var, predicate)) }}{% endmacro %}
{% macro default__list_where(list, var, predicate) %}list_filter({{ list }}, lambda {{ var }}: {{ predicate }}){% endmacro %}
{% macro spark__list_where(list, var, predicate) %}filter({{ list }}, {{ var }} -> {{ predicate }}){% endmacro %}

{#- `fields` is a list of (name, expression) pairs. -#}
{% macro struct_of(fields) %}{{ return(adapter.dispatch('struct_of')(fields)) }}{% endmacro %}
{% macro default__struct_of(fields) %}{ {%- for name, expression in fields %}'{{ name }}': {{ expression }}{% if not loop.last %}, {% endif %}{% endfor -%} }{% endmacro %}
{% macro spark__struct_of(fields) %}named_struct({%- for name, expression in fields %}'{{ name }}', {{ expression }}{% if not loop.last %}, {% endif %}{% endfor -%}){% endmacro %}

{#- One output row per list element (rows with an empty or null list produce none). -#}
{% macro explode_list(column) %}{{ return(adapter.dispatch('explode_list')(column)) }}{% endmacro %}
{% macro default__explode_list(column) %}unnest({{ column }}){% endmacro %}
{% macro spark__explode_list(column) %}explode({{ column }}){% endmacro %}

{% macro matches(expression, pattern) %}{{ return(adapter.dispatch('matches')(expression, pattern)) }}{% endmacro %}
{% macro default__matches(expression, pattern) %}regexp_matches({{ expression }}, '{{ pattern }}'){% endmacro %}
{% macro spark__matches(expression, pattern) %}({{ expression }} rlike '{{ pattern }}'){% endmacro %}

{#- Remove every match of `pattern`. -#}
{% macro strip_pattern(expression, pattern) %}{{ return(adapter.dispatch('strip_pattern')(expression, pattern)) }}{% endmacro %}
{% macro default__strip_pattern(expression, pattern) %}regexp_replace({{ expression }}, '{{ pattern }}', '', 'g'){% endmacro %}
{% macro spark__strip_pattern(expression, pattern) %}regexp_replace({{ expression }}, '{{ pattern }}', ''){% endmacro %}

{#- A local wall-clock text in the catalogue's strftime `format` and time zone, as UTC (null when
    it does not parse). Spark takes Java datetime patterns, translated here. -#}
{% macro local_time_to_utc(expression, format, zone) %}{{ return(adapter.dispatch('local_time_to_utc')(expression, format, zone)) }}{% endmacro %}
{% macro default__local_time_to_utc(expression, format, zone) %}timezone('{{ zone }}', try_strptime({{ expression }}, '{{ format }}')){% endmacro %}
{% macro spark__local_time_to_utc(expression, format, zone) -%}
    {%- set java = format | replace('%Y', 'yyyy') | replace('%m', 'MM') | replace('%d', 'dd')
        | replace('%H', 'HH') | replace('%M', 'mm') | replace('%S', 'ss') | replace('%y', 'yy') -%}
    {%- if '%' in java -%}
        {{ exceptions.raise_compiler_error("format '" ~ format ~ "' has a directive the Spark engine cannot translate") }}
    {%- endif -%}
    to_utc_timestamp(try_to_timestamp({{ expression }}, '{{ java }}'), '{{ zone }}')
{%- endmacro %}

{#- A 63-bit hash of a raw row's values: a new cut's record whose raw row is unchanged is not
    normalised again (transforms/silver_plan.py). -#}
{% macro row_hash(columns) %}{{ return(adapter.dispatch('row_hash')(columns)) }}{% endmacro %}
{% macro default__row_hash(columns) %}cast(hash({{ columns | join(', ') }}) >> 1 as bigint){% endmacro %}
{% macro spark__row_hash(columns) %}xxhash64({{ columns | join(', ') }}){% endmacro %}

{#- Column types of the shared staging shape, by kind. -#}
{% macro sql_type(kind) %}{{ return(adapter.dispatch('sql_type')(kind)) }}{% endmacro %}
{% macro default__sql_type(kind) -%}
    {{ return({
        'string': 'varchar', 'bigint': 'bigint', 'integer': 'integer', 'date': 'date',
        'timestamp': 'timestamptz', 'strings': 'varchar[]',
        'addresses': 'struct(address_line varchar, town varchar, postcode varchar, country varchar)[]',
        'documents': 'struct(document_type varchar, document_number varchar, issuing_country varchar)[]',
    }[kind]) }}
{%- endmacro %}
{% macro spark__sql_type(kind) -%}
    {{ return({
        'string': 'string', 'bigint': 'bigint', 'integer': 'int', 'date': 'date',
        'timestamp': 'timestamp', 'strings': 'array<string>',
        'addresses': 'array<struct<address_line:string,town:string,postcode:string,country:string>>',
        'documents': 'array<struct<document_type:string,document_number:string,issuing_country:string>>',
    }[kind]) }}
{%- endmacro %}
