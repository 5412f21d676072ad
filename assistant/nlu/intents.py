"""Offline intent classification: which of the fixed intents a message is, or out_of_scope.

How a message is classified:
1. Clean it (Slack mentions, links and emoji codes removed, whitespace collapsed) and cut it to
   MAX_TEXT_CHARS. A message with no letters or digits is out_of_scope (only question marks: help).
2. A few explicit patterns decide at once ("talk to a human", "open a ticket", "status of my ticket").
3. Otherwise the bundled sentence embedding goes through a softmax regression trained at first use on the
   examples in intents.json (helper labels summed into their intent), and the most likely intent has to
   pass the out-of-scope gates: a minimum probability, a minimum cosine similarity to one of its own
   examples, and, for the intents that start a write (ACTION_INTENTS), stricter values, the domain's
   vocabulary in the message (a leave word for leave, plus a cancel word to cancel it, a money word for
   expenses), no "when is ... / how many ..." question, and none of the look-alikes from other parts of life
   (a bank account or transfer, a mailbox, an alarm going off, a hotel stay, an airline's carry-on rules).
   When the best intent fails its gates, the runner-up may win if it is not an action and passes its own;
   otherwise the answer is out_of_scope: doing nothing beats doing the wrong thing.

The thresholds were chosen on the CLINC150 train split and the Rasa helpdesk file (bench/intents.py).
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.nlu.intent_examples import ACTION_INTENTS, Intent, IntentExamples, load_intent_examples
from assistant.nlu.intent_model import RegressionSettings, SoftmaxRegression, train_softmax_regression
from assistant.nlu.slot_dates import MONTH_NAMES, WEEKDAYS
from assistant.nlu.spelling import correct_spelling

if TYPE_CHECKING:
    import numpy

    from knowledge.embeddings import Embedder

MAX_TEXT_CHARS = 600  # the request is in the first lines; longer texts only cost tokenizer and model time
RULE_CONFIDENCE = 0.95


@dataclass(frozen=True)
class IntentPrediction:
    """The intent of one message and how sure the classifier is (0..1)."""

    intent: str
    confidence: float


@dataclass(frozen=True)
class OutOfScopeThresholds:
    """What the best intent needs to be answered instead of out_of_scope."""

    probability: float = 0.30
    similarity: float = 0.40  # cosine to the closest example of that intent
    action_probability: float = 0.50
    action_similarity: float = 0.45
    # An action whose own words are in the message ("expense", "pto", "vpn") needs less of the regression's
    # confidence: "start a new expense" is a claim even when the policy questions about expenses pull too.
    evidenced_action_probability: float = 0.35
    # A long message about one thing ("access to salesforce for the Q1 pipeline review", "my computer won't recognise
    # my usb device") sits far from every short example; when the action's own words are there and the regression is
    # this sure, a lower similarity will do. (0.6: on CLINC's test OOS lines one more false action than 0.8, "i need a
    # laptop with 16gb of ram", which is a hardware request at work; on other bots' IT lines four more tickets.)
    sure_evidenced_probability: float = 0.6
    sure_evidenced_similarity: float = 0.3
    near_example: float = 0.85  # a question this close to one of our examples is answered even if out_of_scope leads
    near_example_probability: float = 0.2  # ... when the regression gives it at least this much
    close_ticket_similarity: float = 0.7  # an IT problem this close to a ticket example is one, even if out_of_scope leads
    close_ticket_probability: float = 0.25
    close_claim_similarity: float = 0.85  # a spend this close to a claim example, with a currency, is a claim
    close_claim_probability: float = 0.3


@dataclass(frozen=True)
class _TrainedIntents:
    """The regression plus the example vectors, grouped by intent for the similarity gate."""

    model: SoftmaxRegression
    label_to_intent: numpy.ndarray  # (labels, intents) 0/1: sums label probabilities into intents
    example_vectors: numpy.ndarray  # (examples, dimension), unit length, grouped by intent in INTENT_ORDER
    group_starts: numpy.ndarray  # (intents,) first row of each intent's group in example_vectors


INTENT_ORDER: tuple[Intent, ...] = tuple(Intent)
_trained_cache: dict[tuple[str, str, RegressionSettings], _TrainedIntents] = {}
_training_lock = threading.Lock()


class IntentClassifier:
    """Names the intent of a message; trains on the examples the first time it is used in a process."""

    def __init__(self, embedder: Embedder, examples: IntentExamples | None = None, *,
                 thresholds: OutOfScopeThresholds = OutOfScopeThresholds(),
                 regression: RegressionSettings = RegressionSettings(), cache_dir: Path | None = None) -> None:
        self.embedder = embedder
        self._examples = examples
        self.thresholds = thresholds
        self.regression = regression
        self.cache_dir = cache_dir  # where the trained model is kept between processes (None: train in every process)

    @property
    def examples(self) -> IntentExamples:
        """Return the examples, reading the bundled file on first use."""
        if self._examples is None:
            self._examples = load_intent_examples()
        return self._examples

    def prepare(self) -> None:
        """Embed the examples and train now instead of on the first message (e.g. at start-up)."""
        self._trained()

    def classify(self, text: str) -> IntentPrediction:
        """Return the intent of one message, out_of_scope when unsure."""
        return self.classify_many([text])[0]

    def classify_many(self, texts: Sequence[str]) -> list[IntentPrediction]:
        """Return the intent of each message; the embeddings are computed in one batch."""
        cleaned = [stand_in_for_dates(stand_in_for_names(correct_spelling(clean_text(text)))) for text in texts]
        predictions: list[IntentPrediction | None] = [decide_without_model(text) for text in cleaned]
        pending = [index for index, prediction in enumerate(predictions) if prediction is None]
        if pending:
            trained = self._trained()
            vectors = self.embedder.embed([cleaned[index] for index in pending])
            probabilities = trained.model.probabilities(vectors) @ trained.label_to_intent
            similarities = _similarity_per_intent(trained, vectors)
            for row, index in enumerate(pending):
                predictions[index] = self._decide(cleaned[index], probabilities[row], similarities[row])
        return [prediction for prediction in predictions if prediction is not None]

    def _decide(self, text: str, probabilities: numpy.ndarray, similarities: numpy.ndarray) -> IntentPrediction:
        """Apply the out-of-scope gates to the two most likely intents."""
        ranked = [INTENT_ORDER[index] for index in probabilities.argsort()[::-1][:2]]
        best, runner_up = ranked
        out_of_scope = INTENT_ORDER.index(Intent.OUT_OF_SCOPE)
        if best is Intent.OUT_OF_SCOPE:
            runner_index = INTENT_ORDER.index(runner_up)
            # A near copy of one of our own examples of a question (not an action) is that question, even when the
            # regression leans out of scope: "what's the hotel budget per night?" against the travel-booking lines.
            if (runner_up not in ACTION_INTENTS and similarities[runner_index] >= self.thresholds.near_example
                    and probabilities[runner_index] >= self.thresholds.near_example_probability):
                return IntentPrediction(runner_up.value, float(probabilities[runner_index]))
            # "can't get to slack": a close match to our IT examples, with an IT word in it, is a ticket to open
            if (runner_up is Intent.CREATE_TICKET and similarities[runner_index] >= self.thresholds.close_ticket_similarity
                    and probabilities[runner_index] >= self.thresholds.close_ticket_probability
                    and action_is_evidenced(runner_up, text)):
                return IntentPrediction(runner_up.value, float(probabilities[runner_index]))
            # "taxi to the airport yesterday 18 EUR": a spend told like our claim examples, with its currency, is a claim
            # (a taxi to book, without an amount, stays out of scope)
            if (runner_up is Intent.SUBMIT_EXPENSE and similarities[runner_index] >= self.thresholds.close_claim_similarity
                    and probabilities[runner_index] >= self.thresholds.close_claim_probability
                    and _patterns()["currency_amount"].search(text.casefold()) and action_is_plausible(runner_up, text)):
                return IntentPrediction(runner_up.value, float(probabilities[runner_index]))
            # "my power went out and I can't work, what leave do I use?": whatever the story, it asks which leave applies;
            # "what's the hotel budget per night?" asks for a figure the policies set
            if _patterns()["which_leave"].search(text.casefold()) or _patterns()["asks_a_limit"].match(text.casefold()):
                return IntentPrediction(Intent.POLICY_QUESTION.value, float(probabilities[out_of_scope]))
            return IntentPrediction(Intent.OUT_OF_SCOPE.value, float(probabilities[out_of_scope]))
        best_index = INTENT_ORDER.index(best)
        lowered = text.casefold()
        if ((best in (Intent.CREATE_TICKET, Intent.SUBMIT_EXPENSE) and _patterns()["procedure_question"].match(lowered))
                or (best is Intent.REQUEST_LEAVE and (_patterns()["leave_rule_question"].match(lowered)
                                                      or _patterns()["about_the_rules"].search(lowered)
                                                      or (_patterns()["asks_about"].search(lowered)
                                                          and not _patterns()["day_words"].search(lowered))))):
            # "what should I do if I get a phishing email?", "how do I claim mileage?": the policies answer these
            return IntentPrediction(Intent.POLICY_QUESTION.value, float(probabilities[best_index]))
        runner_index = INTENT_ORDER.index(runner_up)
        if best in (Intent.EXPENSE_STATUS, Intent.LEAVE_STATUS, Intent.TICKET_STATUS) and _patterns()["how_long_in_general"].match(lowered):
            # "how long does it take to get reimbursed?": how long things take, which the policies say; not one of mine
            return IntentPrediction(Intent.POLICY_QUESTION.value, float(probabilities[best_index]))
        if best is Intent.LEAVE_BALANCE and _patterns()["everyones_allowance"].search(lowered):
            # "how many days of annual leave do we get per year?": what everyone is given, which the policies say
            return IntentPrediction(Intent.POLICY_QUESTION.value, float(probabilities[best_index]))
        if best is Intent.PENDING_APPROVALS and _patterns()["approval_process"].search(lowered):
            # "is approval needed?", "what is the approval process?": how approvals work, not what waits for me
            return IntentPrediction(Intent.POLICY_QUESTION.value, float(probabilities[best_index]))
        if best is Intent.PENDING_APPROVALS and _patterns()["own_requests"].search(lowered) \
                and not _patterns()["deciding_words"].search(lowered):
            # "show my requests": the ones I made (my leave requests), not the ones waiting for my decision
            return IntentPrediction(Intent.LEAVE_STATUS.value, float(probabilities[best_index]))
        if (best in (Intent.REQUEST_LEAVE, Intent.LEAVE_BALANCE, Intent.LEAVE_STATUS)
                and (_patterns()["not_needed"].search(lowered) or _patterns()["take_back_first"].match(lowered))
                and action_is_plausible(Intent.CANCEL_LEAVE, text)
                and self._scores_enough(best, probabilities[best_index], similarities[best_index], action_is_evidenced(best, text))):
            # "I don't need friday off anymore", "scratch my leave on friday": the days off are no longer wanted
            cancel_index = INTENT_ORDER.index(Intent.CANCEL_LEAVE)
            return IntentPrediction(Intent.CANCEL_LEAVE.value, float(probabilities[best_index] + probabilities[cancel_index]))
        if (best is Intent.REQUEST_LEAVE and runner_up is Intent.CANCEL_LEAVE and action_is_plausible(runner_up, text)
                and probabilities[runner_index] >= self.thresholds.probability):
            # "drop my pto request for thursday": the leave words pull towards booking, the verb takes it back
            best, best_index = runner_up, runner_index
        if (self._scores_enough(best, probabilities[best_index], similarities[best_index], action_is_evidenced(best, text))
                and action_is_plausible(best, text)):
            return IntentPrediction(best.value, float(probabilities[best_index]))
        # A best guess that is not sure enough or not plausible gives way to a runner-up that only reads or answers
        # and passes its own gates: "can I expense the parking from the site visit?" is then answered from the policies.
        if (runner_up not in ACTION_INTENTS and runner_up is not Intent.OUT_OF_SCOPE
                and self._scores_enough(runner_up, probabilities[runner_index], similarities[runner_index])
                and action_is_plausible(runner_up, text)):
            return IntentPrediction(runner_up.value, float(probabilities[runner_index]))
        unsure = max(float(probabilities[out_of_scope]), 1.0 - float(probabilities[best_index]))
        if _patterns()["which_leave"].search(lowered):  # as above: which leave applies is for the policies to say
            return IntentPrediction(Intent.POLICY_QUESTION.value, unsure)
        return IntentPrediction(Intent.OUT_OF_SCOPE.value, unsure)

    def _scores_enough(self, intent: Intent, probability: float, similarity: float, evidenced: bool = False) -> bool:
        thresholds = self.thresholds
        if intent in ACTION_INTENTS:
            needed = thresholds.evidenced_action_probability if evidenced else thresholds.action_probability
            if evidenced and probability >= thresholds.sure_evidenced_probability:
                return similarity >= thresholds.sure_evidenced_similarity
            return probability >= needed and similarity >= thresholds.action_similarity
        return probability >= thresholds.probability and similarity >= thresholds.similarity

    def _trained(self) -> _TrainedIntents:
        examples = self.examples
        key = (self.embedder.name, examples.fingerprint, self.regression)
        with _training_lock:
            if key not in _trained_cache:
                cached = _cache_file(self.cache_dir, key)
                trained = _load_trained(cached) if cached else None
                if trained is None:
                    trained = _train(self.embedder, examples, self.regression)
                    if cached:
                        _save_trained(cached, trained)
                _trained_cache[key] = trained
            return _trained_cache[key]


def _train(embedder: Embedder, examples: IntentExamples, regression: RegressionSettings) -> _TrainedIntents:
    """Embed every example and fit the regression on the helper-level labels."""
    import numpy as np

    label_names = examples.label_names
    label_position = {label: position for position, label in enumerate(label_names)}
    label_indices = np.array([label_position[label] for label in examples.labels], dtype=np.int64)
    vectors = embedder.embed(list(examples.texts))
    model = train_softmax_regression(vectors, label_indices, len(label_names), regression)
    label_to_intent = np.zeros((len(label_names), len(INTENT_ORDER)), dtype=np.float32)
    for position, label in enumerate(label_names):
        label_to_intent[position, INTENT_ORDER.index(examples.intent_of(label))] = 1.0
    example_intent = np.array([INTENT_ORDER.index(examples.intent_of(label)) for label in examples.labels], dtype=np.int64)
    # Rows grouped by intent, so the closest example per intent is one reduceat over contiguous columns.
    order = np.argsort(example_intent, kind="stable")
    group_starts = np.searchsorted(example_intent[order], np.arange(len(INTENT_ORDER)))
    return _TrainedIntents(model=model, label_to_intent=label_to_intent, example_vectors=vectors[order], group_starts=group_starts)


def _cache_file(folder: Path | None, key: tuple[str, str, RegressionSettings]) -> Path | None:
    if folder is None:
        return None
    digest = hashlib.sha256(repr((key, INTENT_ORDER)).encode()).hexdigest()[:24]
    return folder / f"intents-{digest}.npz"


def _load_trained(path: Path) -> _TrainedIntents | None:
    """Return the model saved by an earlier process, or None when there is none (or it is unreadable)."""
    import numpy as np

    try:
        with np.load(path) as saved:
            model = SoftmaxRegression(weights=saved["weights"], bias=saved["bias"], scale=float(saved["scale"]))
            return _TrainedIntents(model=model, label_to_intent=saved["label_to_intent"],
                                   example_vectors=saved["example_vectors"], group_starts=saved["group_starts"])
    except (OSError, KeyError, ValueError):
        return None


def _save_trained(path: Path, trained: _TrainedIntents) -> None:
    """Save the model for the next process; written aside and renamed, so a reader never sees half a file."""
    import numpy as np

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.partial.npz")
        np.savez(partial, weights=trained.model.weights, bias=trained.model.bias, scale=np.array(trained.model.scale),
                 label_to_intent=trained.label_to_intent, example_vectors=trained.example_vectors, group_starts=trained.group_starts)
        os.replace(partial, path)
    except OSError:
        pass  # a read-only or full disk only costs the next process a training run


def _similarity_per_intent(trained: _TrainedIntents, vectors: numpy.ndarray) -> numpy.ndarray:
    """Return, per message and intent, the cosine similarity to the closest example of that intent."""
    import numpy as np

    best: numpy.ndarray = np.maximum.reduceat(vectors @ trained.example_vectors.T, trained.group_starts, axis=1)
    return best


# --- text clean-up and the explicit patterns ---------------------------------------------------------


PREFIXED_IDS = {"exp": "expense claim", "lr": "leave request"}


def clean_text(text: str) -> str:
    """Return the message without Slack markup, with collapsed whitespace, at most MAX_TEXT_CHARS long."""
    # Cut first, so a 20,000-character paste costs no more than a normal message.
    text = unicodedata.normalize("NFKC", text[: MAX_TEXT_CHARS * 2])
    patterns = _patterns()
    text = patterns["link"].sub(lambda match: f" {match.group('label') or ''} ", text)
    text = patterns["markup"].sub(" ", text)
    text = patterns["emoji_code"].sub(" ", text)
    text = patterns["out_of_office"].sub("out of office", text)  # before the stretched letters make it "OO"
    text = patterns["stretched_letters"].sub(r"\1\1", text)  # "helllooooo", "pleeease": two of a letter are enough
    # "EXP-88", "LR-17": numbers some tools print; the embedding reads what they name
    text = patterns["prefixed_id"].sub(lambda match: f"{PREFIXED_IDS[match[1].lower()]} {match[2]}", text)
    return " ".join(text.split())[:MAX_TEXT_CHARS]


# A colleague named in a question about their days off ("how many days does Hannah have left?", "Priyanka Rao's
# leave balance"): the name means nothing to the embedding and an unusual one pulls the question out of scope, so the
# classifier reads "my report" in its place (the reply still reads the name from the message itself).
NOT_NAMES = (r"(?:i|me|my|you|your|we|our|us|he|she|it|they|them|his|her|their|this|that|these|those|there|who|what|which"
             r"|everyone|everybody|anyone|anybody|someone|somebody|one|each|the|a|an|any|all|every|no|nobody|mine"
             r"|leave|pto|vacation|holiday|sick|annual|parental|unpaid|time|balance|policy|company|team|manager|hr)")
PERSON_VERBS = r"(?:have|got|take|taken|left|still|used|booked|had)"  # what someone's days off are said to do
_NAMED_PERSON = re.compile(
    rf"\b(?P<verb>does|did|has|is)\s+(?!{NOT_NAMES}\b)[A-Za-z][\w'-]+(?:\s+(?!{PERSON_VERBS}\b)[A-Za-z][\w'-]+)?"
    rf"(?=\s+{PERSON_VERBS}\b)", re.IGNORECASE)
# "Hannah's leave balance", "tom's balance": what's, today's or everyone's are no one
_NAMED_OWNER = re.compile(rf"\b(?!(?i:{NOT_NAMES}|what|who|today|tomorrow|yesterday|week|month|year|everyone|anyone)\b)"
                          r"[A-Za-z][a-z]+(?:\s+[A-Z][a-z]+)?'s(?=\s+(?:leave|balance|vacation|pto|days|time off|holidays?)\b)")


# Dates written in figures ("1/4 thru 1/8", "on 02.03.2027", "28.12 - 30.12", "2027-03-01"): the embedding reads
# them as numbers, so a request written with them looked like nothing we do; the classifier reads a weekday instead
# (the slots still read the dates themselves).
_FIGURE_DATE = re.compile(
    r"(?<![\d.,/$€£¥-])(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}(?:/\d{2,4})?|\d{1,2}\.\d{1,2}\.(?:\d{2,4})?)(?![\d/%])"
    r"|(?<![\d.,$€£¥])\d{1,2}\.\d{1,2}(?=\s*(?:-|–|to|until|till|thru|through)\s*\d{1,2}\.\d{1,2}\b)"
    r"|(?<=[-–] )\d{1,2}\.\d{1,2}\b(?![.,]\d)|(?<=[-–])\d{1,2}\.\d{1,2}\b(?![.,]\d)"
    r"|(?<=\bto )\d{1,2}\.\d{1,2}\b(?![.,]\d)")


def stand_in_for_dates(cleaned: str) -> str:
    """Return the text with each date written in figures read as "Monday" ("1/2", half a day, stays)."""
    return _FIGURE_DATE.sub(lambda match: match.group(0) if match.group(0) == "1/2" else "Monday", cleaned)


def stand_in_for_names(cleaned: str) -> str:
    """Return the text with a colleague named in a question about their days off read as "my report"."""
    cleaned = _NAMED_PERSON.sub(lambda match: f"{match['verb']} my report", cleaned)
    return _NAMED_OWNER.sub("my report's", cleaned)


def decide_without_model(cleaned: str) -> IntentPrediction | None:
    """Return the prediction for empty input and the explicit patterns, or None to ask the model."""
    if not any(character.isalnum() for character in cleaned):
        if cleaned and set(cleaned) <= {"?", " "}:
            return IntentPrediction(Intent.HELP.value, RULE_CONFIDENCE)
        return IntentPrediction(Intent.OUT_OF_SCOPE.value, 1.0)
    lowered = cleaned.casefold()
    patterns = _patterns()
    for intent in (Intent.HUMAN_HANDOFF, Intent.CREATE_TICKET, Intent.TICKET_STATUS, Intent.PENDING_APPROVALS):
        if patterns[intent.value].search(lowered) and not (
                intent is Intent.PENDING_APPROVALS and patterns["other_approvals"].search(lowered)):
            return IntentPrediction(intent.value, RULE_CONFIDENCE)
    # "can I roll over unused vacation?", "do my pto days expire?": the rules about days, not the count of them
    if (patterns["carry_over"].search(lowered) and (patterns["leave_words"].search(lowered) or " days" in lowered)
            and not patterns["counting_own_days"].search(lowered)):
        return IntentPrediction(Intent.POLICY_QUESTION.value, RULE_CONFIDENCE)
    # "my knee is killing me, calling in sick": the health words pull towards out of scope, the phrase is a request
    if (patterns["leave_notice"].search(lowered) and not patterns["question_start"].match(lowered)
            and not patterns["taking_back"].search(lowered)):
        return IntentPrediction(Intent.REQUEST_LEAVE.value, RULE_CONFIDENCE)
    return None


def action_is_plausible(intent: Intent, cleaned: str) -> bool:
    """Return False when a message lacks what any real request of this kind has."""
    lowered = cleaned.casefold()
    patterns = _patterns()
    own_words = {Intent.LEAVE_STATUS: "leave_words", Intent.EXPENSE_STATUS: "claim_words", Intent.TICKET_STATUS: "helpdesk_things"}
    if intent in own_words and patterns["other_statuses"].search(lowered) and not patterns[own_words[intent]].search(lowered):
        return False  # an online order, a flight or a tax refund is tracked elsewhere ("my days off, flight is booked" is ours)
    if intent in own_words and patterns["mail_reading"].search(lowered) and not patterns[own_words[intent]].search(lowered):
        return False  # "any new emails since noon?" reads a mailbox, it tracks no request of ours
    banking = bool(patterns["banking"].search(lowered))
    if banking and intent in (Intent.LEAVE_STATUS, Intent.EXPENSE_STATUS, Intent.LEAVE_BALANCE, Intent.SUBMIT_EXPENSE, Intent.CANCEL_LEAVE) \
            and not patterns["said_claim"].search(lowered):
        return False  # a pending transfer, a top-up or a fee on a bank statement belongs to the bank, not to expenses or leave
    if (banking or patterns["identity_check"].search(lowered)) and intent is Intent.PENDING_APPROVALS \
            and not patterns["deciding_words"].search(lowered):
        return False  # "why is my transfer still pending?" waits on a bank, not on this approver
    if banking and intent is Intent.TICKET_STATUS and not patterns["said_ticket"].search(lowered):
        return False  # "my top-up is stuck on pending" is the bank's to look into
    if (intent in ACTION_INTENTS or intent in own_words or intent is Intent.LEAVE_BALANCE) \
            and patterns["writing_mail"].search(lowered) and not patterns["own_absence"].search(lowered):
        return False  # "send email to mom with the subject vacation" is a message to write, not a request of ours
    if intent is Intent.HUMAN_HANDOFF:  # an address book or an email to write is no request to reach our people
        return not patterns["contacts_and_mail"].search(lowered)
    if intent is Intent.TICKET_STATUS:
        # a parking fine or a concert is no helpdesk ticket, and a passport renewal is nothing the helpdesk holds
        return not patterns["other_tickets"].search(lowered) and bool(
            patterns["helpdesk_things"].search(lowered) or patterns["it_words"].search(lowered))
    if intent is Intent.EXPENSE_STATUS:
        return not patterns["other_claims"].search(lowered)
    if intent is Intent.PENDING_APPROVALS:
        return not patterns["other_approvals"].search(lowered)  # a friend request or a pull request is approved elsewhere
    if intent is Intent.POLICY_QUESTION:  # an airline's carry-on rules or what is on my calendar: no company policy
        return not ((patterns["other_policies"].search(lowered) or banking) and not patterns["company_words"].search(lowered))
    if intent is Intent.LEAVE_BALANCE:  # a bank balance, the fuel left or "days until Christmas" is counted elsewhere
        return not ((patterns["countdown"].search(lowered) or patterns["other_balances"].search(lowered))
                    and not patterns["leave_words"].search(lowered))
    if intent not in ACTION_INTENTS:
        return True
    if patterns["timing_question"].match(lowered) or patterns["about_others"].match(lowered):
        return False  # "when is my next day off", "who is off next week": questions, not requests
    if intent is Intent.REQUEST_LEAVE:  # "time off from social media" is a break from something else
        # and "leave policy please" or "where is the leave form" asks for the rules, not for days off
        return bool(patterns["leave_words"].search(lowered)) and not (
            patterns["break_from_other"].search(lowered) or patterns["not_leave"].search(lowered)
            or patterns["about_the_rules"].search(lowered))
    if intent is Intent.CANCEL_LEAVE:  # "leave my gym and cancel the membership" takes nothing back from us
        return bool(patterns["leave_words"].search(lowered) and patterns["cancel_words"].search(lowered)
                    and not patterns["other_cancellations"].search(lowered))
    if intent is Intent.SUBMIT_EXPENSE:  # an insurance claim or a tax deduction is no expense claim
        # and "what is this €1 charge?" or "why did it cost 30 dollars?" asks about money instead of claiming it
        # "please purchase a train ticket" asks to buy; "my receipt shows an extra charge, why is this?" asks why
        return bool(patterns["money_words"].search(lowered)) and not (
            patterns["other_claims"].search(lowered) or patterns["asks_about_money"].match(lowered)
            or patterns["conversion"].search(lowered) or re.search(r"\bwhy\b", lowered)
            or (patterns["buying"].match(lowered) and not re.search(r"expens|claim|reimburs", lowered)))
    if intent is Intent.CREATE_TICKET:
        # the helpdesk does not fix Spotify, a child's tablet or a bank card; "reset your settings" speaks to this bot;
        # "am I connected to wifi?" or "is there an internet outage in my area?" asks how things stand, reports nothing
        return not (patterns["personal_things"].search(lowered) or banking or patterns["state_question"].match(lowered)
                    or (patterns["device_command"].match(lowered) and not patterns["trouble"].search(lowered))
                    or ((patterns["assistant_settings"].search(lowered) or patterns["home_things"].search(lowered))
                        and not patterns["it_words"].search(lowered)))
    return True


def action_is_evidenced(intent: Intent, cleaned: str) -> bool:
    """Return True when an action's own words are in the message (the leave, money or IT words it needs)."""
    lowered = cleaned.casefold()
    if _patterns()["question_start"].match(lowered):
        return False  # "how are expenses reimbursed?" asks about the rules in the action's own words
    if intent is Intent.CREATE_TICKET:
        return bool(_patterns()["it_words"].search(lowered)) and action_is_plausible(intent, cleaned)
    if intent is Intent.SUBMIT_EXPENSE:  # "pay" alone is no claim: "I got a parking ticket, how do I pay it"
        said = _patterns()["claim_words"].search(lowered) or _patterns()["currency_amount"].search(lowered)  # "18 EUR"
        return bool(said) and not _patterns()["fines"].search(lowered) and action_is_plausible(intent, cleaned)
    return intent in ACTION_INTENTS and action_is_plausible(intent, cleaned)


@cache
def _patterns() -> dict[str, re.Pattern[str]]:
    """Compile the patterns on first use (nothing happens at import time)."""
    person = r"(?:a |an |some |one of your )?(?:real |live |actual |proper )?(?:human|person|people|agent|somebody|someone)"
    desk = r"(?:it |helpdesk |help desk |support |service ?desk )"
    ticket = rf"(?:{desk}?(?:ticket|incident)|{desk}case)"  # "open a case of wine" is not an IT case
    priority = r"(?:(?:(?:low|normal|medium|high|top|urgent)[- ]prio(?:rity)?|urgent|quick|p[1-4]) )"
    take_back_verbs = r"cancel|cancle|withdraw|scrap|scratch|remove|undo|delete|revoke"
    taking_back = rf"{take_back_verbs}|no longer|(?:n't|not|never) (?:need|want)|changed my mind"
    asks_rule = r"what happens (?:if|when|to)|do (?:i|we) need (?:a|an|the)"  # a question about the rules, not a request
    # the words of an expense claim, and amounts written with a currency
    claiming = (r"expens|expns|claim|reimburs|rec(?:ei|ie|i|e)pt|mileage|per diem|money back|[$£€¥₹]"
                r"|\b(?:submit|file|hand in|send in) (?:my |a |the |this |our )?(?:[\w-]+ )?(?:bill|invoice)s?\b")
    currency_words = r"\d ?(?:dollars?|euros?|pounds?|quid|bucks|francs?|yen|rupees?)\b"
    weekdays = "|".join(WEEKDAYS)
    months = MONTH_NAMES.replace("may", r"may(?! i\b| we\b)")  # the month, not "may I know"
    return {
        "link": re.compile(r"<(?:https?://|mailto:)[^>|]*(?:\|(?P<label>[^>]*))?>"),
        "markup": re.compile(r"<[@#!][^>]*>"),
        "emoji_code": re.compile(r":[a-z0-9_+\-]+:"),
        "stretched_letters": re.compile(r"([^\W\d_])\1{2,}"),
        "out_of_office": re.compile(r"\bOOO\b", re.IGNORECASE),
        "prefixed_id": re.compile(r"\b(exp|lr)-?(\d{1,9})\b", re.IGNORECASE),
        Intent.HUMAN_HANDOFF.value: re.compile(
            rf"\b(?:talk|speak|chat)(?:ing)? (?:to|with) {person}\b|\b(?:transfer|connect|hand|pass) me (?:over )?(?:to|with) {person}\b"
            r"|^(?:an? )?(?:real |live )?(?:human|person|agent|operator|representative)(?: please| pls| plz)?\W*$"
            rf"|\bhelp from {person}\b|\b(?:want|need|get me|speak to|talk to|connect me (?:to|with)) (?:a |an )?(?:real |live |human )?"
            r"(?:customer |support )?(?:rep|representative|operator)s?\b"
            r"|\b(?:don'?t|do not|no longer) (?:like|want|wish) (?:to )?(?:talk|speak|chat)(?:ing)? (?:to|with) (?:a |the |this )?"
            r"(?:machine|bot|robot|computer|program)"),
        Intent.CREATE_TICKET.value: re.compile(
            rf"\b(?:open|raise|create|log|file|submit|start) (?:me |up )?(?:a |an |another |new )(?:new )?{priority}?{ticket}\b"
            # without an article only as the request itself: "open incident", "pls help me log urgent ticket";
            # "is my open ticket fixed" is a status
            r"|^(?:please |pls |plz |can you |could you |(?:pls |please )?help me |i (?:want|need|would like) to |i'd like to )?"
            rf"(?:open|raise|create|log|file) (?:new )?{priority}?(?:{ticket}|tix)\b"
            rf"|^(?:please |pls |plz |can you |could you |i (?:want|need) to )?(?:open|log) (?:a |an |new )?{priority}?issue\b"),
        Intent.TICKET_STATUS.value: re.compile(
            rf"\b(?:status|update|progress) (?:of|on|for) (?:my |the |our )?{desk}?(?:ticket|incident)"
            r"|\b(?:status|update|progress) (?:of|on|for) (?:tkt|inc|req|ticket|incident|case|sr|ritm)[- #]?\d+\b"
            rf"|\b(?:my|the) {desk}?(?:ticket|incident) (?:status|been (?:closed|resolved|fixed|assigned))\b"),
        # "approve sarah's expense of 230 eur" decides someone else's claim; it never files one
        Intent.PENDING_APPROVALS.value: re.compile(
            r"^(?:please |pls |can you |could you |go ahead and )?(?:approve|deny|reject|decline)\b"
            r"|\b(?:i|me) (?:need|have|got) to (?:approve|sign off)\b|\bfor me to (?:approve|sign off|decide)\b"
            r"|\b(?:awaiting|waiting (?:for|on)|needs?|needing) my (?:approval|sign[- ]?off|decision)\b"
            r"|^(?:(?:so|and|hey|hi|hello|morning|good morning|ok|okay)\W+)?(?:what(?:'s|s| is| do i have)?|anything|is (?:there )?anything"
            r"|show me what(?:'s|s| is)?)"
            r" (?:still )?(?:waiting|pending|sitting) (?:on|for) me(?: to \w+| today| now| this week)?\s*[?.!]*$"),
        "other_tickets": re.compile(
            r"\b(?:parking|speeding|traffic|lottery|raffle|concert|movie|cinema|theat(?:er|re)|show|game|match|gig"
            r"|festival|flight|plane|train|bus|airline|event|season|golden) tickets?\b"
            r"|\btickets? (?:for|to) (?:[\w']+ ){0,4}(?:concert|show|game|match|gig|festival|movie|play|event|tour)s?\b"
            r"|\bword ticket\b|ticketmaster|stubhub|eventbrite|\btickets? (?:price|cost|sale|office)"
            r"|\b(?:buy|sell|book|get|cheap|resell) (?:some |a |the |two |2 )?tickets?\b"),
        # a fine is paid, not claimed; a train or plane ticket bought for work is an expense
        "fines": re.compile(r"\b(?:parking|speeding|traffic|penalty) (?:tickets?|fines?|notices?|charges?)\b|\bfined\b|\ba fine\b"),
        "other_approvals": re.compile(r"\b(?:friend|pull|merge|follow|connection|join) requests?\b|\b(?:pr|mr)\b|github|gitlab"
                                      r"|facebook|linkedin|instagram|discord|mortgage|\bloan|\bvisa\b|\bhoa\b|landlord|planning permission"
                                      r"|\binvit|\bmeeting\b|calendar|\bcookies?\b|remind|\bto-?do\b|shopping list|errand"),
        "other_statuses": re.compile(r"\b(?:order|delivery|parcel|package|shipment|flight|prescription|passport|visa|mortgage|loan"
                                     r"|tax refund|amazon|ebay|reservation|booking|credit card|card app|bank|amex|american express)\b"),
        "other_claims": re.compile(r"insurance|insurer|warranty|compensation|\btax(?:es)?\b|deduct|\birs\b|hmrc|lottery|prize|council"
                                   r"|unemployment|lawsuit|small claims|settlement|(?:exchange|conversion) rates?|\bbills? (?:is |are )?due\b|\bdue bills?\b"
                                   r"|\b(?:cable|trash|garbage|water|electric(?:ity)?|gas|power|energy|utility|utilities|heating|sewer|medical"
                                   r"|hospital) bills?\b"),
        "other_cancellations": re.compile(r"membership|subscription|\bgym\b|netflix|spotify|\border\b|reservation|\bflight"
                                          r"|appointment|meeting|contract|phone plan|credit card|\bdebit card|\b(?:check)?lists?\b|\binvit"),
        # the words of personal banking: a money transfer, a top-up, a cash withdrawal, a fee on a bank statement
        "banking": re.compile(
            r"\b(?:bank|card|account|monthly) statements?\b|\b(?:in|on) my statement\b|\btransactions?\b|\btop(?:ping)?[- ]?ups?\b"
            r"|\b(?:cash |atm )?withdrawals?\b|\bwithdr[ae]w(?:n)? (?:some |the |my )?(?:cash|money)\b|\batms?\b|\bdirect debits?\b"
            r"|\bcheques?\b|\bcrypto\w*|\bbitcoin|\bcontactless\b|\b(?:disposable|virtual) cards?\b"
            r"|\b(?:bank|wire|money|international|pending|incoming|outgoing|account) transfers?\b|\bwithdrawing (?:money |cash |funds )?from\b|\btransfers? (?:of )?(?:money|funds|cash)\b"
            r"|\b(?:do|make|made|making|doing|send|sent|receive[ds]?|cancel(?:led)?) (?:a |the |my |that |this |an )?transfers?\b"
            r"|\bmy transfers?\b|\btransfer (?:is|was|has|hasn't|didn't|still|isn't|shows|got|went|to (?:an |another |my )?account)\b"
            r"|\byou (?:guys )?(?:charge|charged|charging) me\b|\bcard payments?\b|\bpending (?:card )?payments?\b"
            r"|\bpayments? (?:is |are |was |still |showing |shows |says |as )*pending\b"
            r"|\b(?:checking|savings|current|bank|chase|citi|wells fargo|barclays|hsbc|paypal|venmo) accounts?\b"),
        "said_ticket": re.compile(r"ticket|incident|helpdesk|help desk|service ?desk|#\s?\d"),
        "identity_check": re.compile(r"\bidentity (?:check|verification)\b|\bverify(?:ing)? (?:my |your )?(?:identity|id)\b|\bverify who i am\b"),
        "said_claim": re.compile(r"expens|claim|reimburs|rec(?:ei|ie|i|e)pt|per diem|mileage|\bpto\b|\bleave\b|vacation|holiday"),
        # "convert 50 usd to eur", "what's 20 pounds in dollars": a conversion, not a claim
        "conversion": re.compile(r"\b(?:convert\w*|conversion|exchange rates?|currency exchange)\b"
                                 r"|\bexchange (?:some |my |the )?(?:money|currency|cash|\w{3} )?(?:to|into|for)\b|\d\s*[a-z]{0,8}\s+(?:in|into|to) "
                                 r"(?:dollars|euros|pounds|yen|rupees|usd|eur|gbp|jpy|inr|chf|cad|aud)\s*\??$"),
        "asks_about_money": re.compile(r"^(?:so |and |hey |hi )?(?:what(?:'s|s)?|why|where|which|who)\b(?!.*\b(?:expens|claim|reimburs))"),
        "mail_reading": re.compile(
            r"\b(?:unread|new|recent|latest|last) (?:e-?mails?|mails?|messages?)\b|\be-?mails? (?:from|since|in the last|came|come)\b"
            r"|\b(?:received|got|get|have) (?:any )?(?:new |recent )?e-?mails?\b|\bin my (?:inbox|email folder)\b"),
        # "send an email to Bill that I'm sorry he was so sick": a message to write, which this assistant does not do
        "writing_mail": re.compile(
            r"^(?:(?:please|pls|can you|could you|would you|help me)\s+)*(?:send|write|draft|compose|forward|reply)\b[^.?!]{0,30}"
            r"\b(?:e-?mails?|mails?|messages?|texts?|notes?)\b|\b(?:send|write|draft|compose) (?:an? |the )?(?:e-?mail|message|text)"
            r" to\b|^(?:please )?e-?mail (?:[\w']+ ){1,3}(?:that|about|saying|to say)\b"),
        "own_absence": re.compile(r"\b(?:i'?m|i am|i'?ll|i will) (?:be )?(?:off|out|sick|ill|away|on leave|taking|not (?:coming|in))\b"),
        # "please purchase a train ticket": buying something, not claiming money spent on it
        "buying": re.compile(r"^(?:(?:please|pls|can you|could you|would you|help me|i want to|i need to|i'?d like to|i would like to)"
                             r"\s+)*(?:buy|purchase|order|book|reserve|get me)\b"),
        "contacts_and_mail": re.compile(
            r"\bcontact (?:list|info\w*|details?|number)\b|\bcontacts? (?:list|please|book)\b|\b(?:to|in|from) (?:my |the )?contacts?\b"
            r"|\bphone ?book\b|\baddress book\b|\be-?mail address\b|\b(?:send|write|draft) (?:an? |the )?e-?mail to\b"
            r"|\b(?:reply|respond) to (?:the|my|this|that|an?) (?:e-?)?mail\b|\b(?:contact|email) (?:[a-z]+ ){0,2}@|@\w+(?:\.| dot )\w+"),
        "leave_notice": re.compile(
            r"\bcall(?:ing|ed)? in sick\b|\b(?:i'?m|i am|be|being|going|went) (?:off|out) sick\b"
            r"|\b(?:take|taking|need|want|book|booking) (?:a |the )?(?:sick day|half[- ]day)\b"),
        "taking_back": re.compile(rf"{taking_back}|anymore"),
        "approval_process": re.compile(r"\b(?:approvals?|sign[- ]?off) (?:is |are )?(?:needed|required|necessary|mandatory|process"
                                       r"|procedure|rules?|policy|chain|flow|works?)\b|\bhow (?:do|can|does|should|would) (?:i|we|one|it)"
                                       r" (?:get|obtain|seek|request|work)\b[^?]*\bapprov|\bhow to (?:get|obtain|seek) (?:an? )?approv"
                                       r"|\bhow (?:early|soon|far in advance|long before)\b[^?]*\bapprov"
                                       r"|\bwho (?:approves|signs off|has to approve|needs to approve)\b|\bneed (?:an? )?approval\b"),
        # a question about leave that names no day ("can I get leave if I have surgery?", "tell me about unpaid leave")
        # asks what the rules allow; with a day in it ("can I get friday off?") it is a request
        "asks_about": re.compile(r"(?:^|[.!?]\s+)(?:so |and |hey |hi |ok |okay )?(?:can|could|may|might|will|would|am|is|are|do|does|should)"
                                 r" (?:i|we|my|our|an? |the |employees?|staff|leaves?|leave)\b(?!.*\b(?:book|submit|apply|put in|raise|log)\b)"
                                 r"|\b(?:tell me|know|explain|info\w*|details?|more) (?:\w+ )?about\b|^(?:and |what about )?\w* ?leave days?\W*$"
                                 r"|\bi (?:want|wanted|would like) to know\b"),
        "day_words": re.compile(r"\d|\b(?:today|tonight|tomorrow|tmrw|yesterday|weekend|week|weeks|month|months|next|this"
                                rf"|{weekdays}|{months}"
                                r"|christmas|xmas|easter|thanksgiving"
                                r"|morning|afternoon|days? off)\b"),
        "about_the_rules": re.compile(r"\bpolic(?:y|ies)\b|\brules?\b|\bguidelines?\b|\bhandbook\b|\bforms?\b"
                                      r"|\b(?:types?|kinds?|categories) of\b|\bleave types?\b|\bcertificate|\b(?:doctor'?s|medical|sick) note"
                                      r"|\bproof\b"),
        "carry_over": re.compile(r"\b(?:carry(?:ing)?[- ]?over|carried over|carryover|carr(?:y|ied|ying)[- ]forward|encash\w*"
                                 r"|cash(?:ing)? (?:them |it )?out|roll(?:ing|ed)?[- ]?over|rollover|forfeit\w*"
                                 r"|use it or lose it|laps(?:e|es|ed|ing))\b"
                                 r"|\bwhat happens (?:to|with) (?:my |our |the |any )?(?:unused |remaining |leftover |untaken )?"
                                 r"(?:leave|pto|vacation|holidays?|days|time off|allowance)\b"
                                 r"|\b(?:days?|leave|pto|vacation|holidays?|allowance)\b[^.?!]{0,25}\bexpir"),
        "asks_a_limit": re.compile(r"^(?!.*\b(?:speed|credit|data|weight|age|baggage|luggage|bag|carry-on|withdrawal|transfer|atm|card)\b)"
                                   r"(?:so |and |hey |hi )?(?:what(?:'s|s| is| are)|how much is|how much are) (?:the |our |my )?"
                                   r"(?:[\w-]+ ){0,2}(?:budget|allowance|spending limit|limit|cap|per diem|mileage rate)s?\b"),
        "which_leave": re.compile(r"\b(?:what|which) (?:kind of |type of |sort of )?(?:leave|time off|pto)(?: type)? (?:do|should|can|would|must)"
                                  r" (?:i|we|employees?|staff) (?:use|take|get|apply for|request|book)\b"),
        "how_long_in_general": re.compile(r"^(?:so |and |hey |hi )?how long (?:does|do|will|would|should|can|is) (?:it|they|an? |the "
                                          r"|reimbursements?|approvals?|refunds?|payments?)\b(?!.*\b(?:my|mine)\b)"),
        "everyones_allowance": re.compile(r"\b(?:do|does|will|would) (?:we|employees?|staff|everyone|everybody|people|new (?:hires|starters|joiners)"
                                          r"|part[- ]timers?|contractors|interns|the company give)\b(?: \w+)? (?:get|have|receive|earn|accrue|us)\b"),
        "counting_own_days": re.compile(r"\b(?:have|got|had|are|is) (?:\w+ )?left\b|\bdid i (?:carry|roll)|\bhave i got\b"
                                       r"|\bhow many\b[^?]*\b(?:do|did|have|has) i\b|\bmy (?:leave |pto |vacation )?balance\b|\bremaining\b"),
        "break_from_other": re.compile(
            r"\b(?:time off|(?:a )?break|detox|days? off) from (?:the )?(?:social media|screens?|my phone|phones?|the internet"
            r"|instagram|tiktok|facebook|twitter|news|drinking|alcohol|booze|caffeine|coffee|sugar|dating|gaming|video games"
            r"|netflix|(?:the )?gym|working out|exercise|running)\b(?!.*\b(?:work|leave|pto|vacation|holiday)\b)"),
        "take_back_first": re.compile(rf"^(?:please |pls |can you |could you )?(?:{take_back_verbs}|drop|pull)\b"),
        "own_requests": re.compile(r"\bmy (?:own |open |pending |recent |latest |current |last )?(?:leave |time[- ]off )?requests?\b"
                                   r"|\bwhat (?:did|have) i (?:ask(?:ed)? for|request(?:ed)?)\b"),
        "deciding_words": re.compile(r"approv|sign[- ]?off|decide|decision|waiting (?:on|for) me|\bteam\b|\breports\b|review"),
        "not_needed": re.compile(
            r"\b(?:no longer|(?:don'?t|do not|won'?t|will not|not going to)) need\b[^.?!]{0,40}"
            r"\b(?:off|leave|holiday|vacation|pto|days?)\b"
            r"|\b(?:off|leave|holiday|vacation|pto)\b[^.?!]{0,30}\b(?:not|no longer) needed\b"),
        # "how do I book leave" starts a booking; "do I need a doctor's note for a sick day" asks about the rules
        "leave_rule_question": re.compile(
            rf"^(?:so |and |hey |hi )?(?:{asks_rule}|do (?:i|we) need to (?:get|bring|show|provide|send)"
            r"|(?:is|are) (?:a |an )?[\w']+ (?:note |certificate )?(?:needed|required|necessary))\b"),
        "personal_things": re.compile(
            r"\b(?:spotify|netflix|instagram|facebook|tiktok|snapchat|whatsapp|xbox|playstation|ps[45]|nintendo|switch games"
            r"|steam account|disney|hulu|prime video|fortnite|minecraft|tinder|my (?:own|personal|private) (?:phone|laptop|computer|pc|tablet|ipad)"
            r"|my (?:kid|son|daughter|wife|husband|partner|mum|mom|dad|child|children|grandma|grandpa|grandad|granny|grandmother"
            r"|grandfather|grandparents|parents|brother|sister|friend|neighbou?r|girlfriend|boyfriend|family)(?:'?s)?\b"
            r"|online banking|banking app|credit card|\bbank\b|\bfunds\b|\btransactions?\b|fraud committed"
            r"|\bfraudulent (?:charge|transaction|activity)|\b(?:freeze|frozen)\b.*\baccount|\baccount\b.*\b(?:freeze|frozen)\b"
            r"|\btransfer (?:it |money |funds |cash |\$?[\d.,]+ )?(?:from|between|to account)\b|luggage|baggage|suitcase"
            r"|\b(?:my|the|a) (?:(?:broken|damaged|cracked|lost|stolen|new|old) )?card\b|\bcard (?:was )?declined|\bwallet\b|\bpurse\b)"),
        # the assistant's own settings ("go back to your factory settings") are nothing for the helpdesk
        "assistant_settings": re.compile(
            r"\b(?:factory|original|initial|default|normal) (?:settings|mode|defaults?)\b|\byour (?:own )?settings\b|\bhard reset\b"
            r"|\b(?:un)?sync\b.*\bmy phone\b|\bmy phone\b.*\b(?:un)?sync|\bphone's sync\b|\bconnect (?:to|with) my phone\b"),
        # things at home or in the kitchen are no IT equipment: "my alarm keeps going off", "the dishwasher leaks"
        "home_things": re.compile(
            r"\b(?:alarms?|alarm clock|timers?|thermostat|heating|boiler|dishwasher|washing machine|dryer|fridge|freezer|oven"
            r"|microwave|kettle|doorbell|roomba|vacuum|alexa|google home|smart (?:lights?|plugs?|bulbs?|speaker)"
            r"|(?:tv|television) remote|garage door|light bulbs?)\b"),
        # an alarm going off, an entry taken off a calendar, a hotel stay: the word "off" or "leave" is no time off
        "not_leave": re.compile(
            r"\b(?:alarm|timer)s?\b|\bset (?:a |an |me a )?reminder\b|\bremind me\b|\b(?:off|from) (?:my|the) calendar\b"
            r"|\bleave (?:the |my )?(?:[\w']+ ){0,4}open\b"
            r"|\b(?:book|reserve|need|require[sd]?) (?:me )?(?:a |an )?(?:hotel|room|flight|table|rental car)\b|\barrive\b.*\bleave\b"
            r"|\b(?:i'?m|i am) leaving now\b"
            r"|\b(?:power|turn|switch|shut)(?:s|ed|ing)? (?:it |this |that |everything |(?:the|my) \w+ )?(?:off|on|down)\b|\bon/off\b|\boff/on\b"
            r"|\b(?:vacation|holiday) (?:list|playlist|photos?|pictures?|pics|videos?|ideas?|destinations?|spots?|rentals?|homes?"
            r"|packages?|deals?|packing|souvenirs?|music|songs?)\b|\bpacking list\b"
            r"|\btake off (?:the|my|that|this) (?:[\w']+ ){0,3}(?:appointments?|meetings?|events?|entry|entries|items?|tasks?|reminders?)\b"),
        "other_policies": re.compile(
            r"\bcarry[- ]?ons?\b|\bairlines?\b|\b(?:delta|united|southwest|jetblue|ryanair|easyjet|lufthansa|british airways"
            r"|american airlines|alaska airlines|virgin)(?:'s)?\b|\b(?:on|in) my (?:calendar|schedule|agenda)\b"
            r"|\bbills? (?:is |are )?due\b|\bcredit card\b"),
        "company_words": re.compile(r"\b(?:company|work|employer|business|expens\w*|reimburs\w*|claim|per diem|our|we|staff"
                                    r"|employees?|handbook|holidays?|pto|leave|off)\b"),
        # a bank balance, the fuel left or the assistant's age is no leave balance
        "other_balances": re.compile(
            r"\b(?:bank|checking|savings|accounts?|visa|mastercard|amex|credit|debit|cards?|money|cash|funds|gas|fuel|gallons?"
            r"|tank|points|rewards|miles|spen[dt]|spending(?: limit)?|loan|mortgage|401k|per diems?|stipends?|subsid(?:y|ies)"
            r"|reimburs\w*|expens\w*)\b|\bhave you been\b|\bhow old\b|\byears do you\b"),
        "question_start": re.compile(r"^(?:what|what's|whats|how|is|are|do|does|did|when|who|why|should|which)\b|polic|\brules?\b|allowed"),
        "procedure_question": re.compile(
            r"^(?:so |and |hey |hi |please |pls )?(?:what (?:should|do|can|must|shall) (?:i|we) do|how (?:do|should|can|would|could) "
            r"(?:i|we)|how to\b|what(?:'s| is) the (?:process|procedure|policy|rule)|who (?:do|should|can) (?:i|we)"
            rf"|is it (?:ok|okay|allowed|fine)|am i (?:allowed|supposed|expected|required)|{asks_rule}"
            r"|do (?:i|we) (?:need|have) to|(?:is|are) (?:a |an )?\w+ (?:needed|required|necessary))\b"),
        # "open up internet browser", "disconnect from wifi": an order to the device in hand, not a problem to fix
        "device_command": re.compile(r"^(?:(?:please|pls|can you|could you|would you)\s+)*(?:open(?: up)?|launch|close|turn (?:on|off|up|down)"
                                     r"|switch (?:on|off)|disconnect|activate|deactivate|enable|disable|check|mute|unmute|refresh|reload"
                                     r"|go to|increase|decrease|dim|brighten|(?:send|compose|read)(?: an?| the| my)? (?:e-?mails?|messages?|texts?))\b"
                                     r"|^(?:please )?(?:reset|restart|reboot|shut ?down|power (?:off|on|down))(?: it| now| please| pls)?\W*$"),
        "trouble": re.compile(r"\b(?:not working|doesn'?t work|won'?t|can'?t|cannot|broken|error|issue|problem|fail\w*|crash\w*"
                              r"|stuck|keeps|locked|lost|stopped|slow|down)\b"),
        "state_question": re.compile(r"^(?:so |and |hey |hi )?(?:am i|is there|are there|are we|is it just me)\b"),
        "about_others": re.compile(r"^(?:so |and |hey |hi )?(?:who(?:'s|s|se)?|whom|is (?:any|some)(?:one|body)|are any)\b"),
        "timing_question": re.compile(r"^(?:so |and |hey |hi |please |pls )?(?:when(?:'s|s| is| are| will| do| does| did| was)|how (?:long|many|much|soon))\b"),
        "leave_words": re.compile(
            r"leav|\boff\b|\bpto\b|vaca|holi|hoil|\bhols\b|sick|\bill\b|unwell|absen|matern|patern|parental|bereave|compassion"
            r"|sabbatical|half[- ]?day|time ?off|jury|carer|personal day|\brequest ?#? ?\d|\blr-?\d"
            # saying you are ill is asking for sick leave: "not feeling well, won't be in"
            r"|not feeling (?:well|great|good|myself)|feel(?:ing)? (?:rough|terrible|awful|poorly|bad)|\bflu\b|fever|covid"
            r"|migraine|surgery|won'?t be (?:in|coming in|working)|stay(?:ing)? (?:at )?home|can'?t (?:make it|come) in"
            # being out of office or away on given days is time off: "mark me OOO on the 14th", "book me out Friday"
            r"|out of (?:the )?office|\bme (?:as )?out\b|\bbe out\b"
            # not "away from my desk", "right away"
            r"|(?<!right )(?<!straight )(?<!far )\baway\b(?!.*\b(?:desk|minutes?|mins?|hours?|hrs?|moment|second|sec|bit)\b)"
            # a request named by its day is days off: "cancel my dec 7 request", "my friday booking"
            rf"|\b(?:{months})\.? ?\d{{1,2}}(?:st|nd|rd|th)?\s+(?:request|booking)\b|\b(?:{weekdays})\s+(?:request|booking)\b"),
        "cancel_words": re.compile(
            rf"{taking_back}|retract|drop|\bpull|reverse|unbook|call (?:it )?off|take (?:it |that )?back|get rid|\bkill|\bstop"
            r"|after all|not going|not happening|isn't happening|off the (?:system|calendar|books)"),
        "helpdesk_things": re.compile(
            r"ticket|\btix\b|incident|issue|request|\bcase\b|problem|fault|\bfix|repair|replac|\bit\b|helpdesk|help desk|support"
            r"|service ?desk|asked for|\binc\b|\binc-?\d|\btkt-?\d|\britm\d|#\s?\d|(?<![a-z])\d{3,}"),
        "countdown": re.compile(r"\b(?:until|till|til|before) (?!(?:the )?(?:end|year|month|reset|expir))"),
        "it_words": re.compile(
            r"laptop|computer|\bpc\b|monitor|screen|keyboard|mouse|printer|headset|charger|dock|passw|pass word|pasword|log ?in|"
            r"sign ?in|locked out|account|\bmfa\b|2fa|authenticat|vpn|wi-?fi|network|internet|email|outlook|inbox|slack|zoom|"
            r"teams|jira|github|software|install|licen[cs]e|access|permission|server|\bapp\b|crash|broken|not working|won'?t"),
        "claim_words": re.compile(rf"{claiming}|pay me back|out of (?:my )?(?:own )?pocket|{currency_words}|\bexp-?\d"),
        "currency_amount": re.compile(
            rf"[$£€¥₹]\s?\d|{currency_words}|\d\s?(?:usd|eur|gbp|chf|jpy|cad|aud|inr|sek|nok|dkk|pln)\b"
            r"|\b(?:usd|eur|gbp|chf|jpy|cad|aud|inr)\s?\d"),
        "money_words": re.compile(
            rf"{claiming}|\bpaid\b|\bpay\b|spent|bought|purchas|\bcost|{currency_words}|(?<![\d.:/])\d{{1,5}}[.,]\d\d\b(?![.:/]\d)"
            r"|\b(?:usd|eur|gbp|chf|jpy|cad|aud|nzd|sgd|hkd|inr|cny|sek|nok|dkk|pln|czk|mxn|brl|zar|aed)\b"),
    }
