"""Masking personal identifiers for public display, by the rules in the policy's `masking` section.

The rule (how much to keep) is policy; this function only applies it, so every channel masks alike.
"""

from __future__ import annotations

from xinyong.policy.models import MaskRule


def mask(value: str, rule: MaskRule) -> str:
    """Keep `rule.keep_first` and `rule.keep_last` characters and hide the rest.

    At least one character is always hidden: a value too short for the rule gives up its kept tail first,
    then its kept head (a one-character name becomes "*"). Empty stays empty.
    """
    if not value:
        return value
    first, last = rule.keep_first, rule.keep_last
    while first + last >= len(value) and (first or last):
        if last:
            last -= 1
        else:
            first -= 1
    hidden = len(value) - first - last
    stars = rule.mask_char * (rule.mask_length or hidden)
    return value[:first] + stars + (value[len(value) - last :] if last else "")
