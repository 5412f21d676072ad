"""Misspelt back-office words are put right before classification; real words and names are left alone."""

from __future__ import annotations

import pytest

from assistant.nlu.spelling import correct_spelling, vocabulary_words


@pytest.mark.parametrize(("text", "expected"), [
    ("leave balence", "leave balance"),  # a letter changed
    ("i forgot my pasword", "i forgot my password"),  # a letter missing
    ("expence claim", "expense claim"),
    ("recipt from lunch", "receipt from lunch"),
    ("has my levae been approved", "has my leave been approved"),  # two letters swapped
    ("Reimbursment please", "reimbursement please"),
])
def test_one_slip_from_a_domain_word_is_put_right(text: str, expected: str) -> None:
    assert correct_spelling(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("can i get tmrw off", "can i get tomorrow off"), ("off yday", "off yesterday"), ("ask my mgr", "ask my manager"),
    ("tmrwland", "tmrwland"),  # only whole words
])
def test_chat_short_forms_are_written_out(text: str, expected: str) -> None:
    assert correct_spelling(text, frozenset()) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("I forgot my pass word", "I forgot my password"),
    ("change my Pass  Word please", "change my password please"),
    ("my lap-top broke", "my laptop broke"),
    ("e mail not syncing", "email not syncing"),
    ("surpass words and a bypass word list", "surpass words and a bypass word list"),  # only whole words are joined
])
def test_a_domain_word_typed_as_two_is_joined(text: str, expected: str) -> None:
    assert correct_spelling(text) == expected
    assert correct_spelling(text, frozenset()) == expected  # joining needs no vocabulary


@pytest.mark.parametrize("text", [
    "I have cancer and need time off",  # a real word one slip from "cancel" stays
    "lunch at Bistro Nord",  # names and short words are left alone
    "passwords and balances",  # plurals of known words
    "claime",  # one slip from both "claim" and "claims": no guess
    "tckt",  # too short to correct
])
def test_real_words_and_unclear_slips_are_left_alone(text: str) -> None:
    assert correct_spelling(text) == text


def test_without_a_vocabulary_nothing_changes() -> None:
    assert correct_spelling("leave balence", frozenset()) == "leave balence"
    assert "balance" in vocabulary_words() and "balence" not in vocabulary_words()


@pytest.mark.parametrize(("text", "expected"), [
    ("how many leaves do I have", "how many leave days do I have"),
    ("Leaves balance please", "Leave days balance please"),
    ("the leaves in the garden need raking", "the leaves in the garden need raking"),  # a tree's leaves stay
    ("my manager leaves for the airport at 3", "my manager leaves for the airport at 3"),  # so does someone leaving
])
def test_leaves_as_days_off_are_read_as_leave_days(text: str, expected: str) -> None:
    assert correct_spelling(text, known_words=frozenset()) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("apply CL for tomorrow", "apply casual leave for tomorrow"),
    ("2 days lwp", "2 days unpaid leave"),
    ("SL leave on Monday", "sick leave on Monday"),  # "leave" is not written twice
    ("how many ELs do I have", "how many earned leave days do I have"),
    ("cl for tomorrow", "cl for tomorrow"),  # two letters in lower case may be anything
    ("PL/SQL is broken", "PL/SQL is broken"),
])
def test_abbreviated_leave_types_are_written_out(text: str, expected: str) -> None:
    assert correct_spelling(text, known_words=frozenset()) == expected
