"""English and Indonesian marker words derived from installed packages on every build.

A dbt Python model so that no word list is copied into the repository: `discourse.transform.word_lang` reads
wordfreq's English and Indonesian word frequencies, PySastrawi's Indonesian root words and the
stopwordsiso lists, and keeps the words that clearly belong to one language (rules in that module).
"""


def model(dbt, session):
    dbt.config(materialized="table")
    from discourse.transform.word_lang import word_language_table

    return word_language_table()
