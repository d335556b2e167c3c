"""Seeded mutations of valid input for the fuzz tests: structural changes to JSON values and
byte-level changes to their text. The same seed gives the same cases, so a failure reruns."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

ODD_VALUES: list[Any] = [
    None, True, False, 0, -1, 1.5, 1e308, -0.0, 2**64, "", "x" * 3000, "\u0000", "\ud7ff\ue000", "👍", [], [None], {}, {"": {}},
    [[[[[[[[[[[]]]]]]]]]]], {"role": "user"}, "stream", ["user", 1],
]


def mutate(value: Any, rng: random.Random, depth: int = 0) -> Any:
    """One structural change somewhere in `value`: a replaced, removed or added field or item."""
    if isinstance(value, dict) and value and depth < 6 and rng.random() < 0.7:
        key = rng.choice(list(value))
        out = dict(value)
        choice = rng.random()
        if choice < 0.5:
            out[key] = mutate(value[key], rng, depth + 1)
        elif choice < 0.7:
            del out[key]
        else:
            out[rng.choice(["extra", "messages", "stream", "uid", key + "_", "\u00e9"])] = rng.choice(ODD_VALUES)
        return out
    if isinstance(value, list) and value and depth < 6 and rng.random() < 0.7:
        out = list(value)
        index = rng.randrange(len(out))
        choice = rng.random()
        if choice < 0.5:
            out[index] = mutate(out[index], rng, depth + 1)
        elif choice < 0.7:
            del out[index]
        else:
            out.insert(index, rng.choice(ODD_VALUES))
        return out
    return copy.deepcopy(rng.choice(ODD_VALUES))


def mangle(data: bytes, rng: random.Random) -> bytes:
    """One byte-level change: a flipped byte, a cut, an insertion, or bytes that are not UTF-8."""
    if not data:
        return b"\xff"
    position = rng.randrange(len(data))
    choice = rng.random()
    if choice < 0.3:
        return data[:position] + bytes([data[position] ^ (1 << rng.randrange(8))]) + data[position + 1:]
    if choice < 0.55:
        return data[:position]
    if choice < 0.8:
        return data[:position] + rng.choice([b"\xc3\x28", b"\xed\xa0\x80", b"\x00", b"}", b"\"", b"\\u12", b"[", b"1e99999"]) + data[position:]
    return data + data[position:]


def cases(valid: list[dict], count: int, rng: random.Random) -> list[bytes]:
    out = []
    for _ in range(count):
        body = rng.choice(valid)
        if rng.random() < 0.6:
            for _ in range(rng.randint(1, 3)):
                body = mutate(body, rng)
            out.append(json.dumps(body).encode())
        else:
            out.append(mangle(json.dumps(body).encode(), rng))
    return out
