"""Find log lines that mention banned words."""

import re


def flagged_lines(lines: list[str], banned: list[str]) -> list[str]:
    flagged = []
    for line in lines:
        for word in banned:
            if re.search(r"\b" + re.escape(word) + r"\b", line, re.IGNORECASE):
                flagged.append(line)
                break
    return flagged
