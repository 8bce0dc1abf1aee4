"""The same classifier as worker.py, run once per unit the usual way (`python3 classify_once.py
INPUT OUTPUT`): every unit starts Python and loads the model again. The comparison in the
README is this task against the persistent worker."""

import json
import os
import sys

from worker import classify_text, load_model


def main(source, target):
    lexicon = load_model()
    with open(source, encoding="utf-8") as text:
        result = classify_text(text.read(), lexicon)
    partial = target + ".tmp"
    with open(partial, "w", encoding="utf-8") as out:
        json.dump(result, out)
    os.replace(partial, target)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
