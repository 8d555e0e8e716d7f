"""Transform domain: dbt normalises bronze into silver; silver is published as Delta tables."""
