"""`python -m pipeline.extract FILE [--llm]`: print the extraction of one document as JSON."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pipeline.extract.loader import load_document
from pipeline.extract.rules import RuleExtractor


def main(argv: list[str] | None = None) -> int:
    """Extract one file with the rule extractor and print the prediction JSON."""
    ap = argparse.ArgumentParser(prog="python -m pipeline.extract")
    ap.add_argument("file", type=Path)
    ap.add_argument("--threshold", type=float, default=0.6)
    ap.add_argument("--llm", action="store_true", help="use the LLM extractor configured by OPENAI_* settings")
    args = ap.parse_args(argv)
    doc = load_document(args.file)
    rules = RuleExtractor(review_threshold=args.threshold)
    if args.llm:
        from pipeline.extract.llm import build_llm_extractor
        from pipeline.settings import load_settings

        result = build_llm_extractor(load_settings(), fallback=rules).extract(doc)
    else:
        result = rules.extract(doc)
    json.dump(result.to_dict(), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
