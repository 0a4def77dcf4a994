"""Indonesian root words for the affix rule of the per-token language evidence (docs/language.md).

A dbt Python model so that no word list is copied into the repository: the ~30,000 root words of the
installed `PySastrawi` package (MIT), read by `discourse.transform.word_lang.sastrawi_roots`. A token that no
marker list knows but that is an Indonesian prefix and/or suffix around one of these roots ("di-temu-kan",
"makan-an-nya", "nge-rasa-in") is Indonesian.
"""


def model(dbt, session):
    dbt.config(materialized="table")
    import pyarrow as pa

    from discourse.transform.word_lang import sastrawi_roots

    roots = sorted(r for r in sastrawi_roots() if r.isalpha() and len(r) >= 3)
    return pa.table({"term": pa.array(roots, pa.string())})
