with source as (
    select * from {{ source('bronze', 'travel_manifests') }}
),

latest as (
    {{ latest_records('source', 'travel_manifests') }}
),

parsed as (
    select
        *,
        parse_person_name(mrz_name, {{ fmt('travel_manifests', 'mrz_name') }}) as parsed_name,
        parse_date_of_birth(date_of_birth, {{ fmt('travel_manifests', 'date_of_birth') }}) as parsed_birth
    from latest
),

final as (
    select
        {{ lineage_columns('travel_manifests') }},
        'person' as record_type,
        {{ name_columns('parsed_name') }},
        {{ birth_columns('parsed_birth') }},
        {{ gender('sex') }} as gender,
        {{ nationality('nationality') }} as nationality,
        {{ phone_list(['contact_phone'], 'travel_manifests') }} as phones,
        {{ list_where(
            list_of([struct_of([
                ('document_type', "'passport'"),
                ('document_number', document_number('passport_number')),
                ('issuing_country', nationality('nationality')),
            ])]),
            'd', 'd.document_number is not null'
        ) }} as documents,
        {{ invalid_fields([('mrz_name', 'mrz_name', 'parsed_name.family_name'), ('date_of_birth', 'date_of_birth', 'parsed_birth.birth_year'), ('contact_phone', 'contact_phone', "to_e164(contact_phone, " ~ country('travel_manifests') ~ ")")]) }} as invalid_fields
    from parsed
)

select * from final
