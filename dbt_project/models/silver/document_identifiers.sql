with persons as (
    select * from {{ ref('int_person_records__normalised') }}
),

unnested as (
    select record_key, classification, {{ explode_list('documents') }} as document
    from persons
),

final as (
    select distinct
        record_key,
        document.document_type as document_type,
        document.document_number as document_number,
        document.issuing_country as issuing_country,
        classification
    from unnested
    where document.document_number is not null
)

select * from final
