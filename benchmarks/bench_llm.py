"""LLM spend of ``add(infer=True)``: calls, prompt and completion tokens per add, by pipeline.

It adds ONE LoCoMo conversation (conv-26 by default) one session at a time: each session's
turns are one ``add()`` of ``{"role": "user", "content": "{speaker}: {text}", "name": speaker}``
messages, observed at the session's date, into a fresh ``Memory`` (SQLite file in a temporary
folder, hash embedder unless ``--embedder local``), once with the single-call pipeline (the
default: one call per add) and once with the classic one (mem0 1.x: extract, then decide).

- Fake mode (always): ``FakeLLM`` answers every request with a scripted but plausible answer
  computed from the request itself: 3-6 short facts taken from the session's first-person
  sentences, some of them UPDATEs of the existing memories shown in the prompt (by word
  overlap), the rest ADDs. The prompts are the real ones, so prompt sizes are real; FakeLLM
  counts tokens approximately, as characters / 4 (no tokenizer is available offline).
- llama mode (``--llama``): the same against a local llama.cpp server running gemma-3-270m
  (one thread; started and stopped here), over the first ``--sessions N`` sessions only, since
  each call takes seconds. Token counts are the server's (gemma's tokenizer, chat template
  included). The model is tiny: its facts are weak; this measures the protocol's cost.

It also prints the single-call prompt for a typical turn (instructions + example + 10 existing
memories + one LoCoMo turn), which must stay under 2,000 tokens.

    python benchmarks/bench_llm.py                       # fake mode, every session of conv-26
    python benchmarks/bench_llm.py --llama --sessions 2  # plus 2 sessions on gemma-3-270m
    python benchmarks/bench_llm.py --json llm.json

It prints figures and never asserts them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from pydantic import BaseModel

import memlane
from memlane import LLMError, Memory
from memlane.eval.locomo import Conversation, Turn, load_locomo
from memlane.llm import FakeCall, FakeLLM
from memlane.llm.base import LLM, LLMResult
from memlane.llm.structured import ChatReply, ChatRequest, approx_tokens, message_text
from memlane.models import ChatMessage, Usage
from memlane.prompts import fact_extraction, memory_update
from memlane.prompts.common import conversation_lines
from memlane.registry import providers

REPO = Path(__file__).resolve().parents[1]
DATA_ENV = "MEMLANE_LOCOMO"
"""The variable that may name the LoCoMo JSON file instead of ``--data`` (LoCoMo is not in the repo)."""
PROMPT_BUDGET = 2000
T = TypeVar("T", bound=BaseModel)

# -- the scripted model ----------------------------------------------------------------------

_LINE = re.compile(r"^\w+ \(([^)]+)\): (.*)$")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")
_FIRST_PERSON = re.compile(r"\b(I|I'm|I've|I'd|my|My|we|We|our|Our)\b")
_STOP = frozenset(
    "that this with have been from they their them what when where which about would could should "
    "there just really also very into your some were will like know think thanks thank yeah".split()
)
_PRONOUNS = (
    (r"^I'm\b", "{name} is"),
    (r"^I've\b", "{name} has"),
    (r"^I'd\b", "{name} would"),
    (r"^I\b", "{name}"),
    (r"^(My|my)\b", "{name}'s"),
    (r"^(We|we)\b", "{name} and family"),
    (r"\bI'm\b", "{name} is"),
    (r"\bI've\b", "{name} has"),
    (r"\bI\b", "{name}"),
    (r"\bmy\b", "their"),
    (r"\bme\b", "them"),
)
MAX_FACT_WORDS = 16


def _section(text: str, title: str) -> str:
    """The lines after ``title:`` up to the next blank line."""
    if f"{title}:\n" not in text:
        return ""
    return text.split(f"{title}:\n", 1)[1].split("\n\n", 1)[0]


def _user_turn(messages: Sequence[ChatMessage]) -> str:
    return message_text([m for m in messages if m.get("role") == "user"][:1])


def _as_fact(name: str, sentence: str) -> str:
    text = sentence.strip().rstrip(".!?")
    for pattern, replacement in _PRONOUNS:
        text = re.sub(pattern, replacement.format(name=name), text)
    words = text.split()
    if len(words) > MAX_FACT_WORDS:
        words = words[:MAX_FACT_WORDS]
    if not words[0].startswith(name):
        words = [f"{name}:", *words]
    return " ".join(words)


def extract_facts(conversation: str) -> list[str]:
    """3-6 short third-person facts from the conversation's longest first-person sentences."""
    candidates: list[tuple[int, int, str, str]] = []
    lines = [line for line in conversation.splitlines() if line.strip()]
    for index, line in enumerate(lines):
        match = _LINE.match(line)
        name, content = (match.group(1), match.group(2)) if match else ("User", line)
        content = content.removeprefix(f"{name}: ")
        for sentence in _SENTENCE.split(content):
            words = len(sentence.split())
            if words >= 6 and _FIRST_PERSON.search(sentence):
                candidates.append((words, index, name, sentence))
    wanted = 3 + len(lines) % 4
    best = sorted(candidates, key=lambda c: -c[0])[:wanted]
    return [_as_fact(name, sentence) for _, _, name, sentence in sorted(best, key=lambda c: c[1])]


def _content_words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text) if len(w) >= 4 and w.lower() not in _STOP}


def decide(facts: Sequence[str], existing: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """ADD each fact, except UPDATEs of the shown memory it overlaps most (3+ words, or every 4th fact)."""
    ops: list[dict[str, Any]] = []
    used: set[str] = set()
    for index, fact in enumerate(facts):
        words = _content_words(" ".join(fact.split()[1:]))  # the subject (a name) is no overlap
        scored = sorted(
            ((len(words & _content_words(text)), key, text) for key, text in existing if key not in used),
            key=lambda row: -row[0],
        )
        if scored and (scored[0][0] >= 3 or index % 4 == 3):
            _, key, old = scored[0]
            used.add(key)
            merged = f"{fact}; earlier: {' '.join(old.split()[:8])}"
            ops.append({"event": "UPDATE", "id": key, "text": merged})
        else:
            ops.append({"event": "ADD", "id": None, "text": fact})
    return ops


def _existing(user: str) -> list[tuple[str, str]]:
    shown = _section(user, "Existing memories")
    out: list[tuple[str, str]] = []
    for line in shown.splitlines():
        key, sep, text = line.partition(": ")
        if sep and key.isdigit():
            out.append((key, text))
    return out


def scripted_answer(call: FakeCall) -> dict[str, Any]:
    """A plausible answer to a memlane request, computed from the request."""
    user = _user_turn(call.messages)
    if call.response_model == "Facts":
        return {"facts": extract_facts(_section(user, "Conversation"))}
    if call.response_model in ("MemoryUpdate", "MemoryUpdateWithGraph"):
        if "New facts:\n" in user:  # classic, call 2
            facts = [line.removeprefix("- ") for line in _section(user, "New facts").splitlines()]
        else:  # single call
            facts = extract_facts(_section(user, "New conversation"))
        answer: dict[str, Any] = {"memory": decide(facts, _existing(user))}
        if call.response_model == "MemoryUpdateWithGraph":
            answer.update(graph_of(facts))
        return answer
    if call.response_model == "GraphExtraction":  # classic, the graph's extra call
        return graph_of(extract_facts(user))
    raise LLMError(f"bench_llm's scripted model has no answer for {call.response_model}")


_NAME = re.compile(r"\b[A-Z][a-z]{2,}\b")


def graph_of(facts: Sequence[str]) -> dict[str, Any]:
    """Entities and relations a model might give: the user and each fact's first proper name."""
    names = [m.group(0) for f in facts if (m := _NAME.search(f, 1))][:10]
    return {
        "entities": [{"name": n, "type": "thing"} for n in dict.fromkeys(names)],
        "relations": [{"source": "user", "relationship": "talked_about", "destination": n} for n in names],
    }


_LONG_WORD = re.compile(r"[A-Za-z]{6,}")
EXAMPLES = (*memory_update.EXAMPLE_TEXTS, *fact_extraction.EXAMPLE_TEXTS)


def _stems(text: str) -> set[str]:
    return {w[:6].casefold() for w in _LONG_WORD.findall(text)}


def example_like(text: str, turns: Sequence[Turn]) -> bool:
    """Whether ``text`` shares 2+ long words (6-letter stems) with a prompt example that the
    session never used.

    memlane drops exact copies of its examples; this also catches paraphrases such as
    "Has an allergy to peanuts" for the example "Is allergic to peanuts".
    """
    said = set().union(*(_stems(t.text) for t in turns))
    stems = _stems(text) - said
    return any(len(stems & _stems(example)) >= 2 for example in EXAMPLES)


# -- metering --------------------------------------------------------------------------------


@dataclass(slots=True)
class MeteredLLM:
    """Delegates to ``inner``; adds up what every ``complete()`` cost, failed ones included."""

    inner: LLM
    usage: Usage = field(default_factory=Usage)
    raw: list[str] = field(default_factory=list)
    """The raw output of every successful ``complete()``."""

    def complete(
        self, messages: Sequence[ChatMessage], response_model: type[T], *, max_tokens: int | None = None
    ) -> LLMResult[T]:
        try:
            result = self.inner.complete(messages, response_model, max_tokens=max_tokens)
        except LLMError as exc:
            if exc.usage is not None:
                self.usage.add(exc.usage)
            raise
        self.usage.add(result.usage)
        self.raw.append(result.raw)
        return result

    def close(self) -> None:
        self.inner.close()


@dataclass(slots=True)
class Row:
    """One pipeline over some sessions."""

    mode: str
    pipeline: str
    adds: int = 0
    failed_adds: int = 0
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    events: dict[str, int] = field(default_factory=lambda: {"ADD": 0, "UPDATE": 0, "DELETE": 0})
    memories: int = 0
    provider_calls: int = 0
    """Calls the provider made, failed adds included (``memory.llm_usage`` may miss those)."""
    errors: list[str] = field(default_factory=list)
    example_like: list[str] = field(default_factory=list)
    """Stored texts that look copied from the prompt's examples (see ``example_like``)."""
    per_add: list[dict[str, Any]] = field(default_factory=list)

    def per(self, value: float) -> float:
        return value / self.adds if self.adds else 0.0


# -- running ---------------------------------------------------------------------------------


def sessions_of(conversation: Conversation) -> list[list[Turn]]:
    numbers = sorted({t.session for t in conversation.turns})
    return [[t for t in conversation.turns if t.session == n] for n in numbers]


def messages_of(turns: Sequence[Turn]) -> list[dict[str, Any]]:
    out = []
    for turn in turns:
        speaker = turn.text.split(": ", 1)[0]
        out.append({"role": "user", "content": turn.text, "name": speaker})
    return out


def config_for(folder: Path, pipeline: str, embedder: str) -> dict[str, Any]:
    embed = {"provider": "hash", "config": {"embedding_dims": 256}} if embedder == "hash" else {}
    config: dict[str, Any] = {
        "vector_store": {"provider": "sqlite", "config": {"path": str(folder / f"{pipeline}.db")}},
        "pipeline": pipeline.split("+")[0],
        "enable_graph": pipeline.endswith("+graph"),
    }
    if embed:
        config["embedder"] = embed
    return config


def run_pipeline(
    mode: str,
    pipeline: str,
    sessions: Sequence[Sequence[Turn]],
    llm: LLM,
    *,
    embedder: str,
    user_id: str,
    progress: Callable[[str], None],
) -> tuple[Row, list[str]]:
    """Add every session; the row of figures and the texts stored at the end."""
    row = Row(mode, pipeline)
    metered = MeteredLLM(llm)
    with tempfile.TemporaryDirectory(prefix="memlane-bench-llm-") as tmp:
        memory = Memory(config_for(Path(tmp), pipeline, embedder), llm=metered)
        try:
            for number, turns in enumerate(sessions, start=1):
                before = Usage(**asdict(memory.llm_usage))
                raw_seen = len(metered.raw)
                started = time.perf_counter()
                error = None
                try:
                    results = memory.add(messages_of(turns), user_id=user_id, timestamp=turns[0].observed_at)[
                        "results"
                    ]
                except LLMError as exc:
                    results, error = [], str(exc)
                seconds = time.perf_counter() - started
                spent = memory.llm_usage
                calls = spent.calls - before.calls
                row.adds += 1
                row.seconds += seconds
                for item in results:
                    row.events[item["event"]] = row.events.get(item["event"], 0) + 1
                    if item["event"] != "DELETE" and example_like(item["memory"], turns):
                        row.example_like.append(f"session {turns[0].session}: {item['memory']!r}")
                if error is not None:
                    row.failed_adds += 1
                    row.errors.append(f"session {number}: {error[:300]}")
                row.per_add.append(
                    {
                        "session": turns[0].session,
                        "turns": len(turns),
                        "calls": calls,
                        "prompt_tokens": spent.prompt_tokens - before.prompt_tokens,
                        "completion_tokens": spent.completion_tokens - before.completion_tokens,
                        "seconds": round(seconds, 3),
                        "results": [(item["event"], item["memory"]) for item in results],
                        "raw_outputs": metered.raw[raw_seen:],
                        "error": error,
                    }
                )
                progress(
                    f"{mode}/{pipeline} session {turns[0].session}: {len(turns)} turns, {calls} call(s), "
                    f"{seconds:.2f}s, {len(results)} result(s)"
                    + (f", LLMError: {error[:120]}" if error else "")
                )
            row.calls = memory.llm_usage.calls
            row.prompt_tokens = memory.llm_usage.prompt_tokens
            row.completion_tokens = memory.llm_usage.completion_tokens
            row.provider_calls = metered.usage.calls
            stored = [m["memory"] for m in memory.get_all(user_id=user_id, limit=1000)["results"]]
            row.memories = len(stored)
        finally:
            memory.close()
    return row, stored


class EndlessFakeLLM(FakeLLM):
    """A FakeLLM whose queue never runs dry: every reply is ``scripted_answer``."""

    def raw_chat(self, request: ChatRequest) -> ChatReply:
        self.add(scripted_answer)
        return super().raw_chat(request)


# -- the typical prompt ----------------------------------------------------------------------


def typical_prompt(conversation: Conversation, memories: Sequence[str]) -> list[ChatMessage]:
    """The single-call request for the median-length turn with 10 existing memories."""
    turns = sorted(conversation.turns, key=lambda t: len(t.text))
    turn = turns[len(turns) // 2]
    message = messages_of([turn])[0]
    existing = list(memories[:10])
    if len(existing) < 10:
        existing += extract_facts("\n".join(f"user ({message['name']}): {t.text}" for t in turns))
    data = memory_update.MemoryUpdateInput(
        conversation=conversation_lines([("user", message["name"], message["content"])]),
        existing=[(str(i), text) for i, text in enumerate(existing[:10])],
        observation_date=turn.observed_at[:10],
    )
    return memory_update.build_messages(data)


def gemma_tokens(model: Path, messages: Sequence[ChatMessage]) -> int | None:
    """Exact gemma-3 tokens of the messages' text (no chat template), when llama_cpp loads."""
    try:
        from llama_cpp import Llama
    except ImportError:
        return None
    vocab = Llama(model_path=str(model), vocab_only=True, verbose=False)
    count = sum(len(vocab.tokenize(str(m["content"]).encode(), add_bos=False)) for m in messages)
    return count


# -- output ----------------------------------------------------------------------------------


def table(rows: Sequence[Row]) -> str:
    head = (
        f"{'mode':<6} {'pipeline':<13} {'adds':>4} {'LLM calls':>9} {'calls/add':>9} "
        f"{'prompt tok/add':>14} {'compl tok/add':>13} {'wall s/add':>10} {'failed':>6} "
        f"{'ADD':>4} {'UPD':>4} {'DEL':>4} {'stored':>6} {'example-like':>12}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r.mode:<6} {r.pipeline:<13} {r.adds:>4} {r.calls:>9} {r.per(r.calls):>9.2f} "
            f"{r.per(r.prompt_tokens):>14.0f} {r.per(r.completion_tokens):>13.0f} {r.per(r.seconds):>10.3f} "
            f"{r.failed_adds:>6} {r.events.get('ADD', 0):>4} {r.events.get('UPDATE', 0):>4} "
            f"{r.events.get('DELETE', 0):>4} {r.memories:>6} {len(r.example_like):>12}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--data", type=Path, default=os.environ.get(DATA_ENV), help=f"LoCoMo JSON file (default: ${DATA_ENV})"
    )
    parser.add_argument("--conversation", default="conv-26", help="sample_id of the conversation")
    parser.add_argument("--llama", action="store_true", help="also run against a local llama.cpp server")
    parser.add_argument("--sessions", type=int, default=3, help="sessions in llama mode (default 3)")
    parser.add_argument("--fake-sessions", type=int, default=0, help="sessions in fake mode (0: all)")
    parser.add_argument("--threads", type=int, default=1, help="llama.cpp threads (default 1)")
    parser.add_argument("--max-tokens", type=int, default=300, help="llama mode output budget per call")
    parser.add_argument("--embedder", choices=("hash", "local"), default="hash")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    parser.add_argument("--quiet", action="store_true", help="no per-session lines")
    args = parser.parse_args(argv)

    def progress(line: str) -> None:
        if not args.quiet:
            print(f"  {line}", file=sys.stderr, flush=True)

    if args.data is None:
        parser.error(f"give --data PATH or set {DATA_ENV} to a LoCoMo JSON file (e.g. locomo10.json)")
    conversations = {c.sample_id: c for c in load_locomo(args.data)}
    if args.conversation not in conversations:
        parser.error(f"no conversation {args.conversation!r} in {args.data}: {sorted(conversations)}")
    conversation = conversations[args.conversation]
    sessions = sessions_of(conversation)
    turns = [len(s) for s in sessions]
    print(
        f"memlane {memlane.__version__}, Python {platform.python_version()}; {args.conversation}: "
        f"{len(sessions)} sessions, {sum(turns)} turns (median {statistics.median(turns):.0f}/session); "
        f"embedder {args.embedder}"
    )

    rows: list[Row] = []
    stored_single: list[str] = []
    fake_sessions = sessions[: args.fake_sessions] if args.fake_sessions > 0 else sessions
    for pipeline in ("single", "classic", "single+graph", "classic+graph"):
        row, stored = run_pipeline(
            "fake",
            pipeline,
            fake_sessions,
            EndlessFakeLLM(max_retries=0),
            embedder=args.embedder,
            user_id="bench",
            progress=progress,
        )
        rows.append(row)
        if pipeline == "single":
            stored_single = stored

    prompt = typical_prompt(conversation, stored_single)
    prompt_text = message_text(prompt)
    prompt_info: dict[str, Any] = {
        "chars": len(prompt_text),
        "approx_tokens": approx_tokens(prompt_text),
        "system_approx_tokens": approx_tokens(str(prompt[0]["content"])),
        "budget": PROMPT_BUDGET,
    }

    if args.llama:
        rows += run_llama(args, sessions[: args.sessions], prompt, prompt_info, progress)

    print("\nFake mode: FakeLLM with scripted answers; tokens estimated as characters / 4.")
    if args.llama:
        print(
            f"llama mode: gemma-3-270m Q4_K_M on llama.cpp, {args.threads} thread(s); "
            "tokens as the server counts them."
        )
    print(table(rows))
    for r in rows:
        if r.provider_calls != r.calls:
            print(
                f"note: {r.mode}/{r.pipeline}: memory.llm_usage counted {r.calls} calls, the provider made "
                f"{r.provider_calls} (the calls of failed adds are not counted)"
            )
        for text in r.example_like:
            print(f"{r.mode}/{r.pipeline} stored example-like text, {text}")
        for error in r.errors:
            print(f"{r.mode}/{r.pipeline} {error}")

    exact = prompt_info.get("gemma_tokens")
    verdict = "OK" if max(prompt_info["approx_tokens"], exact or 0) < PROMPT_BUDGET else "OVER BUDGET"
    print(
        f"\nSingle-call prompt for a typical turn (instructions + example + 10 existing memories + "
        f"the median turn): {prompt_info['chars']} chars = ~{prompt_info['approx_tokens']} tokens (chars/4)"
        + (f", {exact} gemma-3 tokens" if exact is not None else "")
        + f"; of which the system prompt ~{prompt_info['system_approx_tokens']}; "
        f"budget {PROMPT_BUDGET}: {verdict}"
    )

    if args.json:
        payload = {
            "settings": {
                "data": str(args.data),
                "conversation": args.conversation,
                "embedder": args.embedder,
                "llama": args.llama,
                "llama_sessions": args.sessions if args.llama else 0,
                "threads": args.threads,
                "max_tokens": args.max_tokens,
                "when": datetime.now(UTC).isoformat(timespec="seconds"),
                "python": platform.python_version(),
                "memlane": memlane.__version__,
                "token_counting": {"fake": "characters / 4", "llama": "server-reported"},
            },
            "rows": [asdict(r) for r in rows],
            "typical_prompt": prompt_info,
        }
        args.json.write_text(json.dumps(payload, indent=2), encoding="utf-8")
        print(f"wrote {args.json}")
    return 0


def run_llama(
    args: argparse.Namespace,
    sessions: Sequence[Sequence[Turn]],
    prompt: Sequence[ChatMessage],
    prompt_info: dict[str, Any],
    progress: Callable[[str], None],
) -> list[Row]:
    """Both pipelines over ``sessions`` on a local llama.cpp server, always stopped at the end."""
    sys.path.insert(0, str(REPO))
    from tests.llama_server import LlamaServer, missing_packages

    missing = missing_packages()
    if missing:
        raise SystemExit(f"--llama needs the llama extra: {', '.join(missing)} not installed")
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="memlane-bench-llama-") as tmp:
        started = time.perf_counter()
        with LlamaServer.start(Path(tmp), threads=args.threads, n_ctx=8192, seed=0) as server:
            progress(f"llama.cpp server ready in {time.perf_counter() - started:.1f}s at {server.url}")
            model_file = next(Path(tmp).glob("*.gguf"))
            prompt_info["gemma_tokens"] = gemma_tokens(model_file, prompt)
            config = {
                "base_url": server.url,
                "model": server.model,
                "temperature": 0,
                "seed": 0,
                "repeat_penalty": 1.3,
                "max_tokens": args.max_tokens,
                "max_retries": 1,
                "structured_output": "json_object_schema",
            }
            for pipeline in ("single", "classic"):
                llm = providers.create("llm", "openai", config)
                row, _ = run_pipeline(
                    "llama",
                    pipeline,
                    sessions,
                    llm,
                    embedder=args.embedder,
                    user_id="bench",
                    progress=progress,
                )
                rows.append(row)
    return rows


if __name__ == "__main__":
    raise SystemExit(main())
