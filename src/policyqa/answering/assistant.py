"""Answers with verified citations: retrieval in, `Answer` out.

`Assistant.stream` runs: clean the question -> make a follow-up self-contained -> analyse the
question once -> retrieve (plus the passages that name an area the question is about) -> decide
whether the documents support an answer -> choose sentences -> refuse when the documents say
the thing is not given, or give no detail of the kind asked -> compose (extractive, or an LLM)
-> verify every sentence, streaming only verified ones -> refuse when nothing verifiable remains.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from policyqa.answering import prompts
from policyqa.answering.analysis import QuestionAnalysis, analyse, filter_areas
from policyqa.answering.answer import MAX_QUESTION_CHARS, Answer, AnswerError, AnswerEvent
from policyqa.answering.answerability import (
    detail_elsewhere,
    detail_given,
    other_period,
    period_unnamed,
    row_about_other_subject,
    shown_support,
    stated_gap,
)
from policyqa.answering.coherence import (
    points_back,
    previous_sentence,
    with_antecedents,
    with_continuations,
    with_following_details,
    with_introduced_items,
    without_gap_items,
)
from policyqa.answering.completion import complete_sentences
from policyqa.answering.composers import Composer, ExtractiveComposer
from policyqa.answering.condense import Turn, follow_up
from policyqa.answering.conversation import ConversationState
from policyqa.answering.notes import (
    area_notes,
    documents_searched,
    language_notes,
    place_notes,
    unit_notes,
)
from policyqa.answering.periods import years_in
from policyqa.answering.same_meaning import (
    in_question_language,
    language_chosen_over_question,
    with_requested_counterparts,
)
from policyqa.answering.sentences import (
    Candidate,
    in_reading_order,
    score_candidates,
    select_sentences,
)
from policyqa.answering.verify import (
    SupportChecker,
    Verifier,
    complete_prefix,
    shown_text,
    split_answer,
    verify,
)
from policyqa.core.language import question_language
from policyqa.core.models import Filters, Passage
from policyqa.core.text import clean_question, collapse, with_topic_particle
from policyqa.core.tuning import SHOWN_SUPPORT, YEAR_SEARCH_K
from policyqa.domain import DomainPack, load_domain
from policyqa.retrieval.protocol import Searcher


class Assistant:
    def __init__(
        self,
        searcher: Searcher,
        composer: Composer | None = None,
        checker: SupportChecker | None = None,
        k: int = 6,
        min_support: float = 0.45,
        max_sentences: int = 3,
        domain: DomainPack | None = None,
    ) -> None:
        self.searcher = searcher
        self.composer: Composer = composer or ExtractiveComposer()
        self.checker = checker or SupportChecker(searcher.tokenize)
        self.k = k
        self.min_support = min_support
        self.max_sentences = max_sentences
        self.domain = domain if domain is not None else load_domain("none")

    def ask(
        self,
        question: str,
        history: Sequence[Turn] = (),
        filters: Filters | None = None,
        max_sentences: int | None = None,
        language: str | None = None,
    ) -> Answer:
        answer: Answer | None = None
        for event in self.stream(question, history, filters, max_sentences, language):
            answer = event.answer or answer
        assert answer is not None
        return answer

    def stream(
        self,
        question: str,
        history: Sequence[Turn] = (),
        filters: Filters | None = None,
        max_sentences: int | None = None,
        language: str | None = None,
    ) -> Iterator[AnswerEvent]:
        """Answer events; `language` ("ko"/"en") overrides the question's own for the answer.
        Every `delta` is text that has passed verification."""
        started = time.perf_counter()
        asked = _checked_question(question, language)
        if language not in ("ko", "en"):
            language = question_language(asked)
        conversation = self._standalone(asked, _cleaned_history(history), language, filters)
        standalone = conversation.standalone
        analysis = analyse(asked, standalone, language, self.searcher, self.domain)
        passages = self._retrieve(analysis, filters)
        answer = Answer(asked, standalone, "", False, language, passages=passages)
        answer.conversation = conversation
        answer.regions, answer.answerer = list(analysis.areas), self.composer.name
        answer.notes.extend(place_notes(analysis))
        evidence = set()
        for p in passages[:3]:
            evidence.update(self.searcher.chunk_tokens(p.chunk))
        evidence_text = " ".join(p.chunk.context_text for p in passages[:3])
        terms = analysis.terms
        support = terms.coverage(evidence, True, evidence_text, whole=False)
        answer.support = support if not terms.empty else 0.0
        if not passages or terms.empty or answer.support < self.min_support:
            yield from self._refuse(
                answer, "not-found", self._not_found(analysis, evidence, filters), started
            )
            return
        candidates = score_candidates(passages, analysis)
        scored = bool(candidates)
        candidates = [
            c
            for c in candidates
            if not row_about_other_subject(c, passages, analysis, self.searcher.idf)
        ]
        if scored and not candidates:
            # Every sentence is a table row on another subject than the one asked.
            yield from self._refuse(
                answer, "not-found", self._not_found(analysis, evidence, filters), started
            )
            return
        limit = max_sentences or self.max_sentences
        chosen = select_sentences(candidates, self.searcher.tokenize, limit, passages=passages)
        gap = stated_gap(chosen, passages, analysis, candidates)
        if gap is not None:
            yield from self._not_specified(answer, gap, passages, started)
            return
        if analysis.details and not detail_given(chosen, analysis, passages):
            found = detail_elsewhere(chosen, candidates, analysis, passages)
            if found is not None:
                chosen = in_reading_order([found, *chosen[: limit - 1]])
        if analysis.details and not detail_given(chosen, analysis, passages):
            # The passages are about the subject but none gives the figure, date or place
            # asked for: quoting (or paraphrasing) the nearby facts would look like an answer.
            yield from self._refuse(answer, "no-detail", _no_detail(analysis), started)
            return
        given = other_period(chosen, passages, analysis)
        if given is not None:
            yield from self._other_period(answer, analysis, chosen[0], passages, given, started)
            return
        if period_unnamed(chosen, passages, analysis, self._document_names):
            # Neither the sentences nor their documents speak of the year asked.
            absent = prompts.message("year-absent", language, asked=_years_text(analysis.years))
            not_found = self._not_found(analysis, evidence, filters)
            yield from self._refuse(answer, "other-period", f"{absent} {not_found}", started)
            return
        encoder = self.searcher.multilingual_encoder()
        chosen = in_question_language(chosen, candidates, analysis, encoder)
        chosen = with_requested_counterparts(chosen, candidates, analysis, encoder)
        chosen = with_antecedents(without_gap_items(chosen, passages), passages)
        continued = with_continuations(chosen, passages)
        gap = stated_gap(continued, passages, analysis, candidates)
        if gap is not None and gap not in chosen:
            # "... '중부권'이 있다." goes on "그러나 ... 같은지는 확인할 수 없다": the sentence that
            # qualifies a chosen one says the documents do not settle the question.
            yield from self._not_specified(answer, gap, passages, started)
            return
        chosen = continued
        chosen = with_following_details(chosen, passages, analysis)
        chosen = with_introduced_items(chosen, passages)
        if chosen and shown_support(chosen, analysis) < SHOWN_SUPPORT:
            # The passages share words with the question, the sentences to show do not.
            yield from self._refuse(
                answer, "not-found", self._not_found(analysis, evidence, filters), started
            )
            return
        verifier = Verifier(passages, self.checker)
        draft: list[str] = []
        for delta in self._verified_deltas(analysis, passages, chosen, verifier, draft):
            if self.composer.streams:
                yield AnswerEvent(delta=delta)
        written = "".join(draft)
        if prompts.message("no-answer", language) in written and "[" not in written:
            yield from self._refuse(
                answer, "not-found", self._not_found(analysis, evidence, filters), started
            )
            return
        verification = verifier.result
        answer.citations, answer.sentences = verification.citations, verification.kept
        answer.unsupported, answer.answered = verification.removed, bool(verification.kept)
        answer.text = verification.text()
        if not answer.answered:
            answer.refusal = "unverified"
            answer.text = self._not_found(analysis, evidence, filters)
        else:
            if analysis.requested_language in (None, language):
                # (quotes in the language asked for need no note that they are in it)
                answer.notes.extend(language_notes(answer, language))
            answer.notes.extend(unit_notes(answer, language))
            answer.notes.extend(area_notes(answer, analysis))
        if not self.composer.streams:
            yield AnswerEvent(delta=answer.text)
        yield from self._finish(answer, started)

    # steps
    def _standalone(
        self, asked: str, history: Sequence[Turn], language: str, filters: Mapping[str, Any] | None
    ) -> ConversationState:
        """The conversation after `asked` (its subject followed over every turn), with the
        question as it is searched."""
        wanted = (filters or {}).get("doc_id") or ()
        documents = [str(d) for d in ([wanted] if isinstance(wanted, str) else wanted)]
        state = follow_up(asked, history, self.domain, documents)
        standalone = state.standalone
        if history:
            standalone = self.composer.condense(asked, history, language) or standalone
        for area in filter_areas(filters, self.domain):
            if area not in self.domain.areas_in(standalone):
                # The area chosen in a filter is what the question is about.
                standalone = f"{standalone} ({self.domain.describe(area, language)})"
        return dataclasses.replace(state, standalone=standalone)

    def _retrieve(
        self, analysis: QuestionAnalysis, filters: Mapping[str, Any] | None
    ) -> list[Passage]:
        question = analysis.standalone
        passages = list(self.searcher.search(question, self.k, dict(filters or {}) or None))
        seen = {p.chunk.id for p in passages}
        for area in analysis.areas[:2]:
            scoped = dict(filters or {})
            scoped["names_region"] = area
            for passage in self.searcher.search(question, 2, scoped):
                if passage.chunk.id not in seen:
                    seen.add(passage.chunk.id)
                    passages.append(passage)
        if language_chosen_over_question(analysis) and "language" not in (filters or {}):
            # An answer language was chosen over the question's: passages in it may say
            # the same, and the answer then quotes them (`in_question_language`).
            chosen = {**dict(filters or {}), "language": analysis.language}
            for passage in self.searcher.search(question, 2, chosen):
                if passage.chunk.id not in seen:
                    seen.add(passage.chunk.id)
                    passages.append(passage)
        # Whole sentences: chunks overlap by a few words, so one often starts or ends
        # mid-sentence; completed from the neighbours on the same page, a quote stays on it.
        out = []
        for passage in passages:
            chunk = passage.chunk
            previous = self.searcher.neighbour(chunk, -1)
            completed = complete_sentences(chunk, previous, self.searcher.neighbour(chunk, 1))
            out.append(
                passage if completed is chunk else dataclasses.replace(passage, chunk=completed)
            )
        return out

    def _verified_deltas(
        self,
        analysis: QuestionAnalysis,
        passages: Sequence[Passage],
        chosen: Sequence[Candidate],
        verifier: Verifier,
        draft: list[str],
    ) -> Iterator[str]:
        """The sentences of the composer's draft that pass verification, as they complete,
        each once; the draft as written is collected in `draft`."""
        pending = ""
        shown = 0
        pieces = self.composer.compose(analysis.standalone, passages, analysis.language, chosen)
        for piece in itertools.chain(pieces, [None]):  # None: the draft is complete
            draft.append(piece or "")
            pending += piece or ""
            cut = len(pending) if piece is None else complete_prefix(pending)
            for body, cited in split_answer(pending[:cut]):
                checked = verifier.add(body, cited)
                if checked.supported:
                    yield ("" if shown == 0 else " ") + shown_text(checked)
                    shown += 1
            pending = pending[cut:]

    def _not_specified(
        self, answer: Answer, first: Candidate, passages: Sequence[Passage], started: float
    ) -> Iterator[AnswerEvent]:
        """The documents say the thing asked is not given: a refusal that quotes them (with
        the sentence it goes on from, when it opens by pointing back: "그러나 ...")."""
        draft = f"{collapse(first.span.text)} [{first.passage_index + 1}]"
        if points_back(first.span.text):
            before = previous_sentence(passages[first.passage_index].chunk.text, first.span)
            if before is not None:
                draft = f"{collapse(before.text)} [{first.passage_index + 1}] {draft}"
        verification = verify(draft, passages, self.checker)
        answer.citations = verification.citations
        answer.sentences = verification.kept
        lead = prompts.message("not-specified", answer.language)
        yield from self._refuse(
            answer, "not-specified", f"{lead} {verification.text()}".strip(), started
        )

    def _other_period(
        self,
        answer: Answer,
        analysis: QuestionAnalysis,
        first: Candidate,
        passages: Sequence[Passage],
        given: set[int],
        started: float,
    ) -> Iterator[AnswerEvent]:
        """The documents speak of other years than asked: a refusal that says which, quoting
        what they give, never presented as the answer."""
        verification = verify(
            f"{collapse(first.span.text)} [{first.passage_index + 1}]", passages, self.checker
        )
        answer.citations, answer.sentences = verification.citations, verification.kept
        lead = prompts.message(
            "other-period",
            analysis.language,
            asked=_years_text(analysis.years),
            given=_years_text(given),
        )
        yield from self._refuse(
            answer, "other-period", f"{lead} {verification.text()}".strip(), started
        )

    def _document_names(self, doc_id: str, years: frozenset[int]) -> bool:
        """Whether the document names one of `years` anywhere: its passages that a search
        for the years finds (a year is a rare term, so BM25 finds the pages that name it)."""
        query = " ".join(f"{y} {y}년 FY{y}" for y in sorted(years))
        for passage in self.searcher.search(query, YEAR_SEARCH_K, {"doc_id": doc_id}):
            chunk = passage.chunk
            if years_in(f"{chunk.title}\n{chunk.text}", open_ended=False) & years:
                return True
        return False

    def _not_found(
        self, analysis: QuestionAnalysis, evidence: set[str], filters: Mapping[str, Any] | None
    ) -> str:
        searched = self.searcher.documents(dict(filters) if filters else None)
        everything = len(self.searcher.documents()) if filters else len(searched)
        documents = documents_searched(
            [self.searcher.title(d) for d in searched], everything, analysis.language
        )
        text = prompts.message(
            "not-found", analysis.language, documents=documents, question=analysis.standalone
        )
        # Only what no document contains is "not mentioned"; a term the closest passages lack
        # may still be elsewhere in the documents.
        terms = analysis.terms
        missing = [t for t in terms.missing(evidence, limit=12) if not self.searcher.knows(t)][:4]
        if missing and not terms.empty:
            text += " " + prompts.message(
                "missing-terms", analysis.language, terms=", ".join(missing)
            )
        return text

    def _refuse(
        self, answer: Answer, reason: str, text: str, started: float
    ) -> Iterator[AnswerEvent]:
        answer.answered, answer.refusal, answer.text = False, reason, text
        yield from self._finish(answer, started)

    @staticmethod
    def _finish(answer: Answer, started: float) -> Iterator[AnswerEvent]:
        answer.latency_ms = (time.perf_counter() - started) * 1000
        yield AnswerEvent(answer=answer)


def _checked_question(question: str, language: str | None = None) -> str:
    asked = clean_question(question)
    # In the question's language, or the answer language chosen when there is no question.
    said = language or "en"
    if asked:
        said = question_language(asked)
    if not asked:
        raise AnswerError(prompts.message("empty", said))
    if len(asked) > MAX_QUESTION_CHARS:
        raise AnswerError(
            prompts.message("too-long", said, length=len(asked), limit=MAX_QUESTION_CHARS)
        )
    return asked


def _cleaned_history(history: Sequence[Turn]) -> list[dict[str, str]]:
    """History is user input too: cleaned, and each turn held to the question limit."""
    return [
        {
            "role": str(t.get("role", "user")),
            "content": clean_question(str(t.get("content", "")))[:MAX_QUESTION_CHARS],
        }
        for t in history
    ]


def _years_text(years: set[int] | frozenset[int]) -> str:
    ordered = sorted(years)
    if len(ordered) > 2 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{ordered[0]}–{ordered[-1]}"
    return ", ".join(str(y) for y in ordered)


def _no_detail(analysis: QuestionAnalysis) -> str:
    language = analysis.language
    kinds = [prompts.message(f"detail-{kind}", language) for kind in sorted(analysis.details)]
    detail = ", ".join(kinds)
    return prompts.message(
        "no-detail", language, detail=detail, detail_topic=with_topic_particle(detail)
    )
