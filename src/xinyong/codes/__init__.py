"""Identifier standards: 统一社会信用代码, 组织机构代码, 公民身份号码, 工商注册号, GB/T 2260 divisions.

Pure functions; the only I/O is reading the packaged tables in `data/`. `vector` holds the same
checks as polars expressions for bulk validation.
"""

from xinyong.codes.check import check
from xinyong.codes.divisions import (
    Division,
    division_name,
    hubei_counties,
    hubei_prefectures,
    lookup_division,
    prefecture_of,
)
from xinyong.codes.idcard import check_idcard, idcard_check_char, upgrade_15_to_18
from xinyong.codes.normalize import normalize_code
from xinyong.codes.orgcode import check_orgcode, orgcode_check_char
from xinyong.codes.regno import check_regno, regno_check_digit
from xinyong.codes.result import CodeCheck, Kind
from xinyong.codes.uscc import PLACEHOLDER as USCC_PLACEHOLDER
from xinyong.codes.uscc import check_uscc, make_uscc, uscc_check_char

__all__ = [
    "USCC_PLACEHOLDER",
    "CodeCheck",
    "Division",
    "Kind",
    "check",
    "check_idcard",
    "check_orgcode",
    "check_regno",
    "check_uscc",
    "division_name",
    "hubei_counties",
    "hubei_prefectures",
    "idcard_check_char",
    "lookup_division",
    "make_uscc",
    "normalize_code",
    "orgcode_check_char",
    "prefecture_of",
    "regno_check_digit",
    "upgrade_15_to_18",
    "uscc_check_char",
]
