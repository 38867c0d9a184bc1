"""The ``infer=True`` pipelines: what the LLM is asked, and how its answer becomes a plan.

``single`` (default): ONE call sees the new conversation and the nearest existing memories
(under small integer keys) and returns every fact with its operation. ``classic`` (mem0 1.x):
one call extracts facts, a second decides operations against each fact's top-5 neighbours.
With the graph or the profile on, their fields ride in the same call (classic: the graph takes
one more call; the profile rides in the extraction call).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from pydantic import BaseModel

from memlane.config import MemoryConfig
from memlane.errors import EmptyOutputError, InvalidInputError, LLMError
from memlane.filters import Filter
from memlane.llm.base import LLM, LLMResult, VisionSettings
from memlane.memory.backends import Backends
from memlane.memory.search.fusion import Query, search_hits
from memlane.memory.write.plan import CopiedExampleError, Plan, drop_copies, make_plan, profile_plan
from memlane.models import ChatMessage, MemoryRecord, Message, Scope, Usage
from memlane.prompts import (
    fact_extraction,
    graph_extraction,
    memory_update,
    procedural,
    update_decision,
    vision,
)
from memlane.prompts.common import MemoryOp, conversation_lines, normalize_fact, overlap
from memlane.prompts.profile import ProfileFields, profile_block

__all__ = ["Inference", "describe_images", "vision_detail"]

logger = logging.getLogger("memlane")
CLASSIC_NEIGHBOURS = 5
T = TypeVar("T", bound=BaseModel)


class MemoryUpdateWithGraph(memory_update.MemoryUpdate, graph_extraction.GraphFields):
    """The single call's answer when the graph is on: facts, entities and relations."""


class MemoryUpdateWithProfile(memory_update.MemoryUpdate, ProfileFields):
    """The single call's answer when the profile is on: facts and profile slots."""


class MemoryUpdateWithGraphAndProfile(
    memory_update.MemoryUpdate, graph_extraction.GraphFields, ProfileFields
):
    """The single call's answer with the graph and the profile on."""


class FactsWithProfile(fact_extraction.Facts, ProfileFields):
    """The classic extraction call's answer when the profile is on."""


_UPDATE_MODELS: dict[tuple[bool, bool], type[memory_update.MemoryUpdate]] = {
    (False, False): memory_update.MemoryUpdate,
    (True, False): MemoryUpdateWithGraph,
    (False, True): MemoryUpdateWithProfile,
    (True, True): MemoryUpdateWithGraphAndProfile,
}
"""The single call's response model by (graph on, profile on)."""


@dataclass(slots=True)
class Inference:
    """One add()'s conversation with the LLM; ``usage`` adds up every call it made. With the
    graph on, it also extracts entities and relations (in the same call, or one more in classic
    mode)."""

    backends: Backends
    llm: LLM
    where: Filter
    """The memories the model may see and change (the scope's owner's)."""
    usage: Usage
    user_name: str = "user"
    profile_scope: Scope | None = None
    """Whose profile the model fills (the slots of ``config.profile``); None: the profile is off."""

    @property
    def config(self) -> MemoryConfig:
        return self.backends.config

    @property
    def graph(self) -> bool:
        return self.backends.graph is not None

    def ask(self, messages: Sequence[ChatMessage], model: type[T]) -> T:
        try:
            result: LLMResult[T] = self.llm.complete(messages, model)
        except LLMError as exc:  # calls that failed were still paid for
            if exc.usage is not None:
                self.usage.add(exc.usage)
            raise
        self.usage.add(result.usage)
        return result.value

    def plan(self, messages: Sequence[Message], observation_date: str, prompt: str | None) -> Plan:
        """The plan for new ``messages`` by the configured pipeline."""
        conversation = _conversation(messages)
        instructions = prompt or self.config.custom_instructions
        profile = self._profile_block()
        if self.config.pipeline == "classic":
            plan = self._classic(conversation, observation_date, instructions, profile)
            if self.graph:
                built = graph_extraction.build_messages(
                    conversation, self.user_name, observation_date=observation_date
                )
                self._extras(plan, self.ask(built, graph_extraction.GraphExtraction))
            attribute(plan, messages)
            return plan
        shown = self._shown(self._neighbours(conversation, self.config.infer_candidates))
        graph_text = graph_extraction.GRAPH_INSTRUCTIONS if self.graph else None
        parts = (self.config.custom_fact_extraction_prompt, instructions, graph_text)
        extra = "\n".join(t for t in parts if t)
        data = memory_update.MemoryUpdateInput(
            conversation=conversation,
            existing=[(key, record.text) for key, record in shown.items()],
            observation_date=observation_date,
            instructions=extra or None,
            profile=profile,
        )
        model = _UPDATE_MODELS[(self.graph, profile is not None)]
        answer = self.ask(memory_update.build_messages(data), model)
        try:
            plan = make_plan(
                answer.memory, shown, example_texts=memory_update.EXAMPLE_TEXTS, conversation=conversation
            )
        except CopiedExampleError:
            _retry_note()
            answer = self.ask(memory_update.build_messages(data, example=False), model)
            plan = make_plan(
                answer.memory, shown, example_texts=memory_update.EXAMPLE_TEXTS, conversation=conversation
            )
        if answer.memory and plan.void == len(answer.memory):
            raise LLMError(
                f"the model answered {len(answer.memory)} operation(s) with no fact in them "
                "(an ADD without text); nothing was stored"
            )
        self._extras(plan, answer)
        attribute(plan, messages)
        return plan

    def _extras(self, plan: Plan, answer: BaseModel) -> None:
        """The graph's and the profile's fields of an answer, into ``plan``."""
        if isinstance(answer, graph_extraction.GraphFields):
            plan.entities, plan.relations = list(answer.entities), list(answer.relations)
        if isinstance(answer, ProfileFields):
            profile_plan(plan, answer.profile, self.config.profile.slots)

    def _profile_block(self) -> str | None:
        """The prompt's profile section (allowed keys, current values), or None when off."""
        if self.profile_scope is None:
            return None
        current = {slot.key: slot.value for slot in self.backends.store.profile(self.profile_scope)}
        return profile_block(self.config.profile.slots, current, self.user_name)

    def procedural_summary(self, messages: Sequence[Message], prompt: str | None) -> str:
        """One summary of an agent's run (procedural memory)."""
        built = procedural.build_messages(_conversation(messages), prompt)
        summary = self.ask(built, procedural.ProceduralSummary).summary.strip()
        if not summary:
            raise EmptyOutputError("the model returned an empty procedural summary; nothing was stored")
        return summary

    def _classic(
        self, conversation: str, observation_date: str, instructions: str | None, profile: str | None
    ) -> Plan:
        data = fact_extraction.FactsInput(
            conversation=conversation,
            observation_date=observation_date,
            custom_prompt=self.config.custom_fact_extraction_prompt,
            instructions=instructions,
            profile=profile,
        )
        model = fact_extraction.Facts if profile is None else FactsWithProfile
        extracted = self.ask(fact_extraction.build_messages(data), model)
        facts = self._facts(extracted.facts, conversation)
        if facts is None:
            _retry_note()
            extracted = self.ask(fact_extraction.build_messages(data, example=False), model)
            facts = self._facts(extracted.facts, conversation)
            if facts is None:
                raise CopiedExampleError(
                    "the model copied the prompt's example facts instead of reading the "
                    "conversation; nothing was stored (a larger model may help)"
                )
        if not facts:
            empty = Plan()
            self._extras(empty, extracted)
            return empty
        near: dict[str, set[str]] = {}
        neighbours: dict[str, MemoryRecord] = {}
        for fact in facts:
            found = self._neighbours(fact, CLASSIC_NEIGHBOURS)
            near[fact] = {record.id for record in found}
            for record in found:
                neighbours.setdefault(record.id, record)
        shown = self._shown(list(neighbours.values()))
        decision = update_decision.UpdateDecisionInput(
            facts=facts,
            existing=[(key, record.text) for key, record in shown.items()],
            custom_prompt=self.config.custom_update_memory_prompt,
        )
        answer = self.ask(update_decision.build_messages(decision), memory_update.MemoryUpdate)
        examples = fact_extraction.EXAMPLE_TEXTS
        try:
            plan = make_plan(answer.memory, shown, example_texts=examples, conversation=conversation)
        except CopiedExampleError:
            plan = Plan()
        _cover(plan, facts, answer.memory, shown, near)
        self._extras(plan, extracted)
        return plan

    @staticmethod
    def _facts(raw: Sequence[str], conversation: str) -> list[str] | None:
        """The extracted facts without copies of the prompt's example; None if all were copies."""
        texts = [f.strip() for f in raw if f.strip()]
        kept, copies = drop_copies(texts, fact_extraction.EXAMPLE_TEXTS, conversation)
        if copies and not kept:
            return None
        if copies:
            shown = ", ".join(repr(text) for text in dict.fromkeys(copies))
            logger.warning(
                "memlane add: dropped %d fact(s) copied from the prompt's example: %s", len(copies), shown
            )
        return kept

    def _neighbours(self, text: str, limit: int) -> list[MemoryRecord]:
        if limit <= 0:
            return []
        hits = search_hits(self.backends, Query(text, self.where, top_k=limit))
        return [hit.record for hit in hits]

    @staticmethod
    def _shown(records: Sequence[MemoryRecord]) -> dict[str, MemoryRecord]:
        """Existing memories under keys "0", "1", ...: the model never sees a UUID."""
        return {str(index): record for index, record in enumerate(records)}


def describe_images(messages: Sequence[Message], inference: Inference | None, detail: str) -> list[Message]:
    """Messages with each image replaced by its description, or dropped when vision is off."""
    out: list[Message] = []
    for message in messages:
        if not message.images:
            out.append(message)
            continue
        parts = [message.content] if message.content.strip() else []
        if inference is not None:
            for url in message.images:
                text = inference.ask(vision.build_messages(url, detail), vision.ImageDescription)
                parts.append(f"[image: {text.description.strip()}]")
        if parts:
            out.append(replace(message, content="\n".join(parts), images=()))
    if not out:
        raise InvalidInputError(
            "the messages hold only images and vision is off: set enable_vision in the LLM config"
        )
    return out


def vision_detail(config: MemoryConfig) -> str | None:
    """The detail images are described at (``vision_details``, default "auto"), or None when
    the LLM config leaves vision off."""
    parsed = config.llm.parsed if config.llm else None
    if not isinstance(parsed, VisionSettings) or not parsed.enable_vision:
        return None
    return parsed.vision_details


def _retry_note() -> None:
    logger.warning("memlane add: the model copied the prompt's example; asking once more without it")


def _cover(
    plan: Plan,
    facts: Sequence[str],
    ops: Sequence[MemoryOp],
    shown: dict[str, MemoryRecord],
    near: dict[str, set[str]],
) -> None:
    """Classic pipeline: ADD every extracted fact that no decision covers (a decision covers a
    fact when its text says the same, or when it acts on one of the fact's neighbours), with one
    warning. A model that answers ``ADD`` without text, or no decision at all, loses nothing."""
    acted = {shown[op.id.strip()].id for op in ops if op.id and op.id.strip() in shown}
    texts = [op.text for op in ops if op.text.strip()]
    planned = {normalize_fact(t) for t in [*plan.new_texts(), *(r.text for r in shown.values())]}
    missing = [
        fact
        for fact in facts
        if not near.get(fact, set()) & acted
        and not any(overlap(fact, text) >= 0.5 for text in texts)
        and normalize_fact(fact) not in planned
    ]
    if not missing:
        return
    for fact in missing:
        if normalize_fact(fact) not in planned:
            planned.add(normalize_fact(fact))
            plan.adds.append(fact)
    message = f"no decision covered {len(missing)} extracted fact(s): stored as new memories"
    plan.warnings.append(message)
    logger.warning("memlane add: %s", message)


def attribute(plan: Plan, messages: Sequence[Message]) -> None:
    """mem0's ``attributed_to`` for each new text: the role of the message that holds most of
    its words (the only role when one spoke; "user" when nothing matches)."""
    roles = {m.role for m in messages}
    for text in plan.new_texts():
        best = max(messages, key=lambda m: overlap(text, m.content), default=None)
        if len(roles) == 1:
            plan.attribution[text] = next(iter(roles))
        elif best is not None and overlap(text, best.content) > 0:
            plan.attribution[text] = best.role
        else:
            plan.attribution[text] = "user"


def _conversation(messages: Sequence[Message]) -> str:
    return conversation_lines((m.role, m.name, m.content) for m in messages)
