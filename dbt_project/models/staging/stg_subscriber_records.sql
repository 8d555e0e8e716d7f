with source as (
    select * from {{ source('bronze', 'subscriber_records') }}
),

latest as (
    {{ latest_records('source', 'subscriber_records') }}
),

parsed as (
    select
        *,
        parse_person_name(subscriber_name, {{ fmt('subscriber_records', 'subscriber_name') }}) as parsed_name,
        parse_date_of_birth(date_of_birth, {{ fmt('subscriber_records', 'date_of_birth') }}) as parsed_birth
    from latest
),

final as (
    select
        {{ lineage_columns('subscriber_records') }},
        'person' as record_type,
        {{ name_columns('parsed_name') }},
        {{ birth_columns('parsed_birth') }},
        {{ address_list([address_struct('join_address(address_line, null)', 'town', 'postcode', 'subscriber_records')]) }} as addresses,
        {{ phone_list(['msisdn'], 'subscriber_records') }} as phones,
        {{ list_where(list_of(['lower(trim(email))']), 'e', "e like '%_@_%'") }} as emails,
        {{ list_where(list_of([strip_pattern("coalesce(imei, '')", '[^0-9]')]), 'i', 'length(i) between 14 and 16') }} as imeis,
        {{ invalid_fields([('subscriber_name', 'subscriber_name', 'parsed_name.family_name'), ('date_of_birth', 'date_of_birth', 'parsed_birth.birth_year'), ('postcode', 'postcode', "normalise_postcode(postcode, " ~ country('subscriber_records') ~ ")"), ('msisdn', 'msisdn', "to_e164(msisdn, " ~ country('subscriber_records') ~ ")")]) }} as invalid_fields
    from parsed
)

select * from final
