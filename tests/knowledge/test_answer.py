"""Extractive answers with the real model: the answering sentence with its citation, or "not covered" below the threshold."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.container import Container, build_container
from knowledge.answer import DEFAULT_THRESHOLD, ExtractiveAnswer, answer_kind_bonus, extract_answer, is_bare_pointer
from knowledge.embeddings import LocalMiniLM
from knowledge.index import KnowledgeBase, SearchHit
from knowledge.store import KnowledgeStore
from knowledge.vectors import VectorIndex
from tests.builders import make_company
from tests.conftest import NOW, make_settings

EXPENSES = """# Expenses and Travel

## Hotels

Book every hotel through the company travel portal. The nightly hotel limit is 180 euros in capital cities and 120 euros elsewhere. Breakfast is included in the room rate whenever the hotel offers it. Upload your hotel receipts within thirty days of checking out.

## Meals

Meals on business trips are reimbursed up to 50 euros per day. Alcohol is never reimbursed. Client dinners need approval from your manager beforehand.
"""
HOTEL_QUESTION = "What is the maximum I can spend per night on a hotel?"
HOTEL_SENTENCE = "The nightly hotel limit is 180 euros in capital cities and 120 euros elsewhere."
UNRELATED_QUESTIONS = ["What's the weather like in Paris tomorrow?", "Can you order me a pepperoni pizza?"]


@pytest.fixture(scope="module")
def minilm() -> LocalMiniLM:
    return LocalMiniLM()


@pytest.fixture(scope="module")
def expenses_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("docs") / "expenses.md"
    path.write_text(EXPENSES, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory, minilm: LocalMiniLM, expenses_path: Path) -> Iterator[KnowledgeBase]:
    folder = tmp_path_factory.mktemp("index")
    base = KnowledgeBase(store=KnowledgeStore(folder / "knowledge.db"), vectors=VectorIndex(folder=folder / "chroma"),
                         embedder_factory=lambda: minilm)
    base.add_file(expenses_path, added_by="admin")
    yield base
    base.store.close()


@pytest.mark.parametrize(("question", "sentence", "section"), [
    (HOTEL_QUESTION, HOTEL_SENTENCE, "Expenses and Travel > Hotels"),
    ("How much can I spend on a hotel room per night?", HOTEL_SENTENCE, "Expenses and Travel > Hotels"),
    ("Is alcohol reimbursed?", "Alcohol is never reimbursed.", "Expenses and Travel > Meals"),
])
def test_the_quote_is_the_sentence_that_answers(kb: KnowledgeBase, minilm: LocalMiniLM, expenses_path: Path,
                                                question: str, sentence: str, section: str) -> None:
    answer = extract_answer(question, kb.search(question), minilm)
    assert answer.covered and answer.best_score >= DEFAULT_THRESHOLD
    quote = answer.quotes[0]
    assert quote.text == sentence
    assert (quote.doc_id, quote.title, quote.section, quote.source) == ("expenses", "Expenses and Travel", section, str(expenses_path))
    assert DEFAULT_THRESHOLD <= quote.score <= answer.best_score  # its passage's relevance, never a blank 0.0
    assert len(answer.quotes) <= 2


REVIEWS = SearchHit("reviews", "reviews.md", "Reviews", "Reviews > Performance reviews", 0.6,
                    "Performance reviews are written by your manager and discussed with you in a one-to-one. "
                    "Reviews happen once a year, in March, and cover the previous calendar year.")


@pytest.mark.parametrize("question", ["When do performance reviews happen?", "When are performance reviews done?"])
def test_a_when_question_is_answered_by_the_sentence_that_says_when(minilm: LocalMiniLM, question: str) -> None:
    # The first sentence is as similar to the question, but only the second one says when.
    answer = extract_answer(question, [REVIEWS], minilm)
    assert answer.quotes[0].text == "Reviews happen once a year, in March, and cover the previous calendar year."


MILEAGE = SearchHit("expenses", "expenses.md", "Expenses", "Expenses > Mileage", 0.6,
                    "If you use your own car for business, claim mileage under Travel at these rates instead of fuel costs:\n\n"
                    "- United States: USD 0.67 per mile.\n- Germany: EUR 0.30 per kilometre.\n- United Kingdom: GBP 0.45 per mile.\n\n"
                    "Your normal commute doesn't count.")


def test_a_list_item_and_its_introduction_are_quoted_once(minilm: LocalMiniLM) -> None:
    answer = extract_answer("What is the mileage rate?", [MILEAGE], minilm)
    texts = [quote.text for quote in answer.quotes]
    assert any("USD 0.67 per mile" in text for text in texts)
    assert not [a for a in texts for b in texts if a is not b and a in b]  # no quote repeats inside another


@pytest.mark.parametrize(("question", "sentence", "bonus"), [
    ("When is the deadline for expense claims?", "Claims are due within 30 days.", True),
    ("When is the deadline for expense claims?", "Claims are filed by the employee.", False),
    ("How much is the home office budget?", "The budget is 500 euros.", True),
    ("How many days of leave do I get?", "Everyone gets twenty-five days.", True),
    ("How many days of leave do I get?", "Leave is booked in the portal.", False),
    ("Can I bring my dog to work?", "Dogs are welcome on 3 days a week.", False),
    ("When can I join profit sharing?", "You can join after two years with us.", True),
    ("When can I join profit sharing?", "You can join after a six-month probation.", True),
    ("When can I join profit sharing?", "You can join once your manager agrees.", False),
    ("When does the sabbatical start?", "It starts after an eight-week notice.", True),
])
def test_the_answer_kind_bonus_needs_a_sentence_of_the_asked_kind(question: str, sentence: str, bonus: bool) -> None:
    assert (answer_kind_bonus(question, sentence) > 0) is bonus


@pytest.mark.parametrize("question", UNRELATED_QUESTIONS)
def test_an_unrelated_question_is_not_covered(kb: KnowledgeBase, minilm: LocalMiniLM, question: str) -> None:
    hits = kb.search(question)
    assert hits  # the search always returns its nearest passages; the threshold decides
    answer = extract_answer(question, hits, minilm)
    assert not answer.covered and answer.quotes == [] and answer.best_score < DEFAULT_THRESHOLD


def test_the_threshold_decides_and_no_hits_is_not_covered(kb: KnowledgeBase, minilm: LocalMiniLM) -> None:
    hits = kb.search(HOTEL_QUESTION)
    assert extract_answer(HOTEL_QUESTION, hits, minilm, threshold=hits[0].score - 0.01).covered
    assert not extract_answer(HOTEL_QUESTION, hits, minilm, threshold=hits[0].score + 0.01).covered
    empty = extract_answer(HOTEL_QUESTION, [], minilm)
    assert not empty.covered and empty.quotes == []


# --- through the search_policies tool ---------------------------------------------------------------------


def ask(container: Container, actor_id: int, question: str) -> tuple[str, dict[str, object]]:
    result = container.pipeline.run("search_policies", {"query": question}, actor_id=actor_id, now=NOW)
    return result.message, result.data


def test_the_tool_quotes_the_answer_with_its_citation(container: Container, tmp_path: Path) -> None:
    company = make_company(container)
    path = tmp_path / "expenses.md"
    path.write_text(EXPENSES, encoding="utf-8")
    container.knowledge.base.add_file(path, added_by="admin")

    message, data = ask(container, company.requester, HOTEL_QUESTION)
    assert f"“{HOTEL_SENTENCE}” (Expenses and Travel > Hotels)" in message.split("\n")
    assert data["covered"] is True
    first = data["quotes"][0]  # type: ignore[index]
    assert (first["text"], first["citation"], first["source"]) == (HOTEL_SENTENCE, "Expenses and Travel > Hotels", str(path))

    for question in UNRELATED_QUESTIONS:
        message, data = ask(container, company.requester, question)
        assert "don't cover" in message and "HR" in message and "talk to a human" in message
        assert "euros" not in message
        assert data["covered"] is False and data["quotes"] == []


def test_the_configured_threshold_reaches_the_tool(database_url: str, tmp_path: Path) -> None:
    strict = build_container(make_settings(database_url, tmp_path / "home", BACKOFFICE_ANSWER_THRESHOLD=0.99))
    try:
        company = make_company(strict)
        path = tmp_path / "expenses.md"
        path.write_text(EXPENSES, encoding="utf-8")
        strict.knowledge.base.add_file(path, added_by="admin")
        message, data = ask(strict, company.requester, HOTEL_QUESTION)
        assert data["covered"] is False and "don't cover" in message
    finally:
        strict.close()


# --- what a quote carries with it, and what is never quoted -------------------------------------------------------

PARENTAL = SearchHit("parental", "parental.md", "Parental leave", "Parental leave > Shared parental leave", 0.6,
                     "We provide 12 weeks shared parental leave at full pay and up to 39 weeks at statutory pay. "
                     "The rules around shared parental leave are fairly complex. "
                     "See the government guidelines: https://www.gov.uk/shared-parental-leave-and-pay.\n\n"
                     "- Link to the shared parental leave instructions")
COUNSELLING = SearchHit("counselling", "counselling.md", "Paid counselling", "Paid counselling > Other options", 0.6,
                        "You are also welcome to pick your own therapist or counsellor. "
                        "We will contribute 360 pounds per year towards these sessions.\n\n"
                        "They are booked through the People Team.")


@pytest.mark.parametrize(("sentence", "pointer"), [
    ("See the government guidelines: https://www.gov.uk/shared-parental-leave-and-pay.", True),
    ("See the detailed guidelines: www.gov.uk/maternity and https://www.gov.uk/adoption.", True),
    ("Please see our flexible holiday page", True),
    ("Link to VPN instructions", True),
    ("More information is available here.", True),
    ("https://intranet.example/expenses", True),
    ("See your manager before you book more than two weeks off.", False),
    ("Contact Operations via Slack or email operations@example.com to let them know.", False),
    ("Visit the office on Fridays for the team lunch.", False),
    ("Read the policy carefully: claims over 500 euros need a second approval from finance.", False),
])
def test_a_line_that_only_points_elsewhere_is_a_bare_pointer(sentence: str, pointer: bool) -> None:
    assert is_bare_pointer(sentence) is pointer


def test_a_line_that_only_points_elsewhere_is_never_quoted(minilm: LocalMiniLM) -> None:
    question = "Where can I find the government guidelines on shared parental leave?"
    answer = extract_answer(question, [PARENTAL], minilm, max_quotes=3)
    assert answer.covered and answer.quotes
    assert not [quote.text for quote in answer.quotes if "gov.uk" in quote.text or quote.text.startswith("Link to")]
    only_links = SearchHit(*[getattr(PARENTAL, name) for name in ("doc_id", "source", "title", "section", "score")],
                           text="See the government guidelines: https://www.gov.uk/shared-parental-leave-and-pay.\n\n"
                                "- Link to the shared parental leave instructions")
    assert extract_answer(question, [only_links], minilm) == ExtractiveAnswer(False, [], 0.6)  # nothing to quote


def test_a_next_sentence_that_leans_on_the_quoted_one_is_kept_with_it(minilm: LocalMiniLM) -> None:
    answer = extract_answer("Will the company pay towards my own therapist?", [COUNSELLING], minilm)
    # "these sessions" leans on the sentence before; "They are booked ..." is another paragraph and stays out.
    assert answer.quotes[0].text == ("You are also welcome to pick your own therapist or counsellor. "
                                     "We will contribute 360 pounds per year towards these sessions.")
    answer = extract_answer("Can I claim a taxi home?", [SearchHit("travel", "travel.md", "Travel", "Travel > Taxis", 0.6,
                                                                   "Taxis home are claimed after 10 pm. Trains are booked "
                                                                   "in the travel portal.")], minilm)
    assert answer.quotes[0].text == "Taxis home are claimed after 10 pm."  # no reference word: not carried along


def test_a_quoted_sentence_that_starts_by_pointing_back_brings_the_sentence_it_points_to(minilm: LocalMiniLM) -> None:
    insurance = SearchHit("insurance", "insurance.md", "Private Medical Insurance", "Private Medical Insurance", 0.6,
                          "Private medical insurance is offered to employees at grade 11 and above. This policy covers "
                          "the costs of private healthcare from diagnosis through to treatment.\n\nClaims go to the insurer.")
    answer = extract_answer("What costs does the policy cover?", [insurance], minilm)
    assert answer.quotes[0].text == ("Private medical insurance is offered to employees at grade 11 and above. "
                                     "This policy covers the costs of private healthcare from diagnosis through to treatment.")


def test_a_conclusion_is_quoted_with_the_sentence_it_is_drawn_from(minilm: LocalMiniLM) -> None:
    advance = SearchHit("leave", "leave.md", "Leave", "Leave > Advanced sick leave", 0.6,
                        "You earn 4 sick leave hours per pay period and there are 26 pay periods left in the year. "
                        "Therefore, you can request up to 104 advanced sick leave hours.\n\nAsk your supervisor first.")
    answer = extract_answer("How many advanced sick leave hours can I request?", [advance], minilm)
    assert answer.quotes[0].text == ("You earn 4 sick leave hours per pay period and there are 26 pay periods left in the year. "
                                     "Therefore, you can request up to 104 advanced sick leave hours.")


def test_a_passage_below_the_threshold_is_never_quoted_even_when_ranked_first(minilm: LocalMiniLM) -> None:
    # The fused ranking can put first a passage whose own relevance is below the threshold: it is not quoted.
    sabbatical = SearchHit("sabbatical", "sabbatical.md", "Sabbatical", "Sabbatical", 0.39,
                           "Every three years you can take a paid sabbatical of up to six weeks.")
    disability = SearchHit("disability", "disability.md", "Disability", "Disability > Long-term", 0.41,
                           "Long-term disability insurance pays 60% of your salary after 90 days.")
    answer = extract_answer("How much severance would I get?", [sabbatical, disability], minilm)
    assert answer.covered and [quote.doc_id for quote in answer.quotes] == ["disability"]
    nothing_clears = extract_answer("How much severance would I get?", [sabbatical], minilm)
    assert not nothing_clears.covered
