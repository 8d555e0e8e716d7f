{#- Every catalogue dataset's staging model, stacked in the shared shape. -#}
{{ union_staging() }}
