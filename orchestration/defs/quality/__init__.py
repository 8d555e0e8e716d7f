"""Quality domain: self-contained Data Docs of every validation, for stewards."""
