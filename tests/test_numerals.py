"""Number words and digits: the forms a query's numbers are also looked for in."""

from __future__ import annotations

from mmretrieval.numerals import number_forms


def test_a_number_word_counts_as_its_digits():
    assert number_forms(["more", "than", "sixty", "of", "them"]) == {"sixty": {"60"}}


def test_a_run_of_number_words_counts_as_its_value_too():
    forms = number_forms(["twenty", "nine", "euros"])
    assert forms == {"twenty": {"20", "29"}, "nine": {"9", "29"}}
    assert number_forms(["four", "hundred", "tons"])["hundred"] == {"100", "400"}
    # "10,000" is written as the tokens 10 and 000
    assert number_forms(["ten", "thousand"])["thousand"] == {"1000", "10000", "000"}


def test_digits_count_as_the_number_word():
    assert number_forms(["for", "4", "generations"]) == {"4": {"four"}}
    assert number_forms(["000", "7pm", "hundred"]) == {"hundred": {"100"}}  # no number alone
