"""A runqy handler, written as runqy-python documents one: `@load` loads the "model" once per
worker, then `@task` classifies one text file per task. runcue runs it as a persistent worker
(`worker: ['python3', 'worker.py']` in runcue.config.ts) and writes the returned dict to the
unit's output (`writeResult: 'json'`)."""

import re
import sys
import time

from runqy_python import load, run, task

WORD = re.compile(r"[a-z]+")


def load_model(path="model/lexicon.tsv"):
    """Reads the word -> topic lexicon. The sleep stands in for loading real model weights."""
    time.sleep(0.5)
    lexicon = {}
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("#") or not line.strip():
                continue
            word, topic = line.rstrip("\n").split("\t")
            lexicon[word] = topic
    return lexicon


def classify_text(text, lexicon):
    """The topic whose words occur most often in the text, with every topic's count."""
    words = WORD.findall(text.lower())
    scores = {topic: 0 for topic in sorted(set(lexicon.values()))}
    for word in words:
        topic = lexicon.get(word)
        if topic is not None:
            scores[topic] += 1
    label = max(scores, key=lambda topic: scores[topic]) if any(scores.values()) else "unknown"
    return {"label": label, "scores": scores, "words": len(words)}


@load
def setup():
    lexicon = load_model()
    # stderr is the worker's log: runcue shows it with --verbose and with a failed unit.
    print(f"model loaded: {len(lexicon)} words", file=sys.stderr)
    return {"lexicon": lexicon}


@task
def classify(payload, ctx):
    # Paths in the payload are relative to the config's directory, the worker's working directory.
    with open(payload["input"], encoding="utf-8") as source:
        return classify_text(source.read(), ctx["lexicon"])


if __name__ == "__main__":
    run()
