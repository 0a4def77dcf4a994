"""English tweet rules of sentiment, and the everyday topics, end to end: the real dbt models built over
hand-written posts (no overlay). Hashtags split into words, elongations, emoji, modal idioms; food/travel/
hobby keywords in English and Indonesian."""

from __future__ import annotations

import duckdb
import pytest

from discourse.transform.sentiment_train import OVERLAY_FILENAME, build_labelled

pytestmark = pytest.mark.integration

TEXTS = {
    "tag_camel": "waited two hours for the bus #NotHappy",
    "tag_lower": "first day of the holidays #sohappy",
    "tag_word": "watching the match tonight #brexit",
    "good": "the food was good",
    "goood": "the food was goood",
    "soooo_good": "the food was soooo good",
    "happier": "i couldn't be happier with the result",
    "cant_wait": "can't wait for the weekend",
    "should_better": "the service should have been better",
    "could_better": "the room could be better",
    "eye_roll": "monday again 🙄",
    "broken_heart": "she left 💔",
    "cant_stand": "i can't stand this weather",
    "nightmare": "that commute was a nightmare",
    "id_plain": "makanannya enak",
    "id_elongated": "makanannya enakkk",
    "food_en": "just had sushi and ramen for dinner",
    "travel_en": "boarding pass ready, my flight leaves at noon",
    "travel_id": "liburan ke pantai bareng keluarga",
    "food_id": "nasi goreng di warung ini enak banget",
    "hobby_en": "new episode of my favourite podcast is out",
    "gbbo": "Candice and her pout again #GBBO",
    "resort_verb": "they always resort to insults",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    rows = [{"id": k, "text": v, "label": "neutral"} for k, v in TEXTS.items()]
    settings, _ = build_labelled(
        rows,
        tmp_path_factory.mktemp("english"),
        "+int_posts_scored_sentiment +int_posts_tagged_topics",
        {OVERLAY_FILENAME: None},
    )
    con = duckdb.connect(str(settings.build_warehouse), read_only=True)
    try:
        sentiment = {
            uid: {"label": label, "score": score, "terms": list(terms)}
            for uid, label, score, terms in con.execute(
                "select post_uid, sentiment_label, sentiment_score, sentiment_terms"
                " from intermediate.int_posts_scored_sentiment"
            ).fetchall()
        }
        topics = {
            uid: {"primary": primary, "topics": list(topics)}
            for uid, primary, topics in con.execute(
                "select post_uid, primary_topic, topics from intermediate.int_posts_tagged_topics"
            ).fetchall()
        }
    finally:
        con.close()
    keys = list(TEXTS)
    return {keys[int(uid.split(":")[1])]: {**sentiment[uid], **topics[uid]} for uid in sentiment}


def test_hashtags_split_into_words(built):
    assert built["tag_camel"]["label"] == "negative", built["tag_camel"]
    assert any(t.startswith("#not happy:") for t in built["tag_camel"]["terms"])
    assert built["tag_lower"]["label"] == "positive", built["tag_lower"]
    assert any(t.startswith("#so happy:") for t in built["tag_lower"]["terms"])
    # a tag that is one word carries no sentiment of its parts
    assert not any(t.startswith("#") for t in built["tag_word"]["terms"])


def test_elongation_emphasises(built):
    assert built["goood"]["label"] == "positive"
    assert built["goood"]["score"] > built["good"]["score"] > 0
    assert built["soooo_good"]["score"] > built["good"]["score"]
    assert built["id_elongated"]["score"] > built["id_plain"]["score"] > 0


def test_modal_idioms(built):
    assert built["happier"]["label"] == "positive", built["happier"]
    assert built["cant_wait"]["label"] == "positive", built["cant_wait"]
    assert built["should_better"]["label"] == "negative", built["should_better"]
    assert built["could_better"]["label"] == "negative", built["could_better"]
    assert built["cant_stand"]["label"] == "negative", built["cant_stand"]


def test_emoji_and_tweet_words(built):
    assert built["eye_roll"]["label"] == "negative", built["eye_roll"]
    assert built["broken_heart"]["label"] == "negative", built["broken_heart"]
    assert built["nightmare"]["label"] == "negative", built["nightmare"]


def test_everyday_topics(built):
    assert built["food_en"]["primary"] == "food_drink", built["food_en"]
    assert built["food_id"]["primary"] == "food_drink", built["food_id"]
    assert built["travel_en"]["primary"] == "travel_tourism", built["travel_en"]
    assert built["travel_id"]["primary"] == "travel_tourism", built["travel_id"]
    assert built["hobby_en"]["primary"] == "entertainment", built["hobby_en"]
    assert built["gbbo"]["primary"] == "entertainment", built["gbbo"]
    assert built["resort_verb"]["topics"] == [], built["resort_verb"]
