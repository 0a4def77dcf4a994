"""Stopwords for trending terms and claim matching, read from the installed `stopwordsiso` package.

A dbt Python model so that the list is never copied into the repository: each build reads the
package's Indonesian and English lists (Stopwords ISO, MIT licence). One row per (word, lang); the
SQL models bring the words into the tokeniser's normal form.
"""


def model(dbt, session):
    dbt.config(materialized="table")
    from discourse.transform.stopwords import stopword_table

    return stopword_table()
