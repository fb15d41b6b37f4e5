"""Calls a running gateway's HTTP door with the official openai Python SDK, as a chat front-end would.

Three calls: a system message beside a user message with an image (a data: URL), answered whole; the same streamed,
counting the SSE keep-alive comments the SDK had to skip; and a search picked by the model name alone
(`stage_beam-4/<model>`, optillm's convention). Prints what each got; exits 1 when an answer is not as documented.

    python3 check.py http://127.0.0.1:8080/v1
"""
import json
import struct
import sys
import time
import zlib

import httpx
import openai

MODEL = "Xkev/Llama-3.2V-11B-cot"
SYSTEM = "You are a careful assistant. Answer with the letter."
QUESTION = "Which shape is shown?\nA. circle\nB. square\nC. star\nD. arrow"


def png(width=96, height=64):
    """A small RGB PNG (a blue square on light grey), made with zlib alone: no imaging library needed."""
    rows = b""
    for y in range(height):
        row = b"\x00"
        for x in range(width):
            inside = 24 <= x < 72 and 12 <= y < 52
            row += b"\x3b\x6f\xd8" if inside else b"\xe8\xee\xfc"
        rows += row

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


class Tap(httpx.BaseTransport):
    """Passes everything through, keeping the raw bytes of each response: what the SDK's SSE parser was given."""

    def __init__(self):
        self.inner = httpx.HTTPTransport()
        self.raw = bytearray()

    def handle_request(self, request):
        response = self.inner.handle_request(request)
        raw = self.raw
        upstream = response.stream

        class Kept(httpx.SyncByteStream):
            def __iter__(self):
                for piece in upstream:
                    raw.extend(piece)
                    yield piece

            def close(self):
                upstream.close()

        return httpx.Response(response.status_code, headers=response.headers, stream=Kept(), extensions=response.extensions)

    def close(self):
        self.inner.close()


def messages(image_url):
    return [
        {"role": "system", "content": SYSTEM},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": QUESTION},
                {"type": "image_url", "image_url": {"url": image_url}},
            ],
        },
    ]


def extra(model_object, name):
    """A field stagebeam adds to OpenAI's objects (the SDK keeps unknown fields)."""
    value = getattr(model_object, name, None)
    if value is None and getattr(model_object, "model_extra", None):
        value = model_object.model_extra.get(name)
    return value


def main():
    base_url = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080/v1"
    tap = Tap()
    client = openai.OpenAI(
        base_url=base_url, api_key="unused", max_retries=0, timeout=300, http_client=httpx.Client(transport=tap)
    )
    image_url = "data:image/png;base64," + __import__("base64").b64encode(png()).decode()
    problems = []
    print(f"openai {openai.__version__} (httpx {httpx.__version__}), gateway {base_url}")

    # 1. System message + user message with an image, answered whole.
    started = time.monotonic()
    whole = client.chat.completions.create(
        model=MODEL, messages=messages(image_url), extra_body={"stagebeam": {"candidates": 2, "seed": 7}}
    )
    message = whole.choices[0].message
    stagebeam = extra(whole, "stagebeam") or {}
    print(
        "non-streamed, system + image:",
        json.dumps(
            {
                "content": message.content,
                "reasoning_content_chars": len(extra(message, "reasoning_content") or ""),
                "finish_reason": whole.choices[0].finish_reason,
                "usage": whole.usage.model_dump() if hasattr(whole.usage, "model_dump") else whole.usage.dict(),
                "strategy": stagebeam.get("strategy"),
                "candidates": stagebeam.get("candidates"),
                "seed": stagebeam.get("seed"),
                "seconds": round(time.monotonic() - started, 1),
            }
        ),
    )
    if not message.content:
        problems.append("the non-streamed answer has no content")

    # 2. The same, streamed with the usage chunk; the keep-alive comments in the raw bytes are what the SDK skipped.
    tap.raw.clear()
    started = time.monotonic()
    stream = client.chat.completions.create(
        model=MODEL,
        messages=messages(image_url),
        stream=True,
        stream_options={"include_usage": True},
        extra_body={"stagebeam": {"candidates": 2, "seed": 7}},
    )
    chunks = list(stream)
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    reasoning = "".join(extra(c.choices[0].delta, "reasoning_content") or "" for c in chunks if c.choices)
    keep_alives = tap.raw.count(b"\n: keep-alive\n") + (1 if tap.raw.startswith(b": keep-alive\n") else 0)
    print(
        "streamed, system + image:",
        json.dumps(
            {
                "chunks": len(chunks),
                "content": content,
                "reasoning_content_chars": len(reasoning),
                "keep_alive_comments_skipped": keep_alives,
                "usage_total_tokens": chunks[-1].usage.total_tokens if chunks[-1].usage else None,
                "seconds": round(time.monotonic() - started, 1),
                "same_as_whole": content == message.content,
            }
        ),
    )
    if content != message.content:
        problems.append("the streamed answer differs from the non-streamed one (same seed)")

    # 3. The search picked by the model name alone.
    started = time.monotonic()
    named = client.chat.completions.create(
        model=f"stage_beam-4/{MODEL}", messages=messages(image_url), extra_body={"stagebeam": {"seed": 11}}
    )
    stagebeam = extra(named, "stagebeam") or {}
    print(
        f"model stage_beam-4/{MODEL}:",
        json.dumps(
            {
                "content": named.choices[0].message.content,
                "strategy": stagebeam.get("strategy"),
                "candidates": stagebeam.get("candidates"),
                "generation_calls": stagebeam.get("generation_calls"),
                "judge_calls": stagebeam.get("judge_calls"),
                "seconds": round(time.monotonic() - started, 1),
            }
        ),
    )
    if stagebeam.get("strategy") != "STAGE_BEAM" or stagebeam.get("candidates") != 4:
        problems.append("the model name did not pick stage_beam with 4 candidates")

    for problem in problems:
        print("PROBLEM:", problem)
    print("OK" if not problems else "FAILED")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
