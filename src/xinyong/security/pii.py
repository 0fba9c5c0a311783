"""Personal identifiers at rest: an HMAC blind index for exact look-up, an AES-GCM copy for display, and
sealed names.

A natural person's ID number never reaches the database in clear. The two keys are independent so that
the look-up key can sit with the database while the decryption key stays with the display service.

A natural person's name is sealed too (`seal_name`): AES-SIV, deterministic on purpose, so that the same
name seals to the same text. Stored names then still compare equal in SQL (a subject's names are unique,
a re-sent record whose name did not change is unchanged) without the database ever holding the name. The
price is that equal names are visibly equal, as they are under the blind index. The sealed text is
`sealed:v1:` and base64url; anything else is returned as it is by `unseal`, so data written before names
were sealed still reads.

Keys come from `XINYONG_PII_KEY` (base64 of 64 random bytes); demo mode generates one on first start in
XINYONG_HOME/keys and is refused anywhere else.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from xinyong.codes.normalize import normalize_code
from xinyong.config import Settings
from xinyong.problems import Problem, ProblemError
from xinyong.store.meta import SEALED_PREFIX

KEY_BYTES = 64
_AAD = b"xinyong:idcard:v1"
_NAME_AAD = [b"xinyong:name:v1"]


class PersonalIdProtector:
    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"personal-identifier key must be {KEY_BYTES} bytes")
        self._index_key = key[:32]
        self._aead = AESGCM(key[32:])
        # Derived, not a third key to configure: XINYONG_PII_KEY stays the one secret to keep.
        name_key = HKDF(algorithm=hashes.SHA256(), length=64, salt=None, info=b"xinyong:name-key:v1").derive(
            key[32:]
        )
        self._siv = AESSIV(name_key)

    def blind_index(self, id_number: str) -> str:
        # Normalised first, so that "11010519491231002x" and "１１０１０５…002X" find the same person.
        return hmac.new(self._index_key, normalize_code(id_number).encode(), hashlib.sha256).hexdigest()

    def encrypt(self, id_number: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, id_number.encode(), _AAD)

    def decrypt(self, blob: bytes) -> str:
        return self._aead.decrypt(blob[:12], blob[12:], _AAD).decode()

    def seal_name(self, name: str) -> str:
        """The name as it may be stored: the same name always seals to the same text. Already sealed text
        is returned as it is, so sealing twice is harmless."""
        if name.startswith(SEALED_PREFIX):
            return name
        sealed = self._siv.encrypt(name.encode(), _NAME_AAD)
        return SEALED_PREFIX + base64.urlsafe_b64encode(sealed).decode().rstrip("=")

    def unseal(self, value: str) -> str:
        """A sealed name in clear; any other text as it is (also text that only looks sealed)."""
        if not value.startswith(SEALED_PREFIX):
            return value
        body = value[len(SEALED_PREFIX) :]
        try:
            return self._siv.decrypt(
                base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)), _NAME_AAD
            ).decode()
        except (InvalidTag, ValueError, binascii.Error):
            return value


_DEMO_KEY_REFUSED = Problem(
    "security.pii_demo_key",
    "XINYONG_PII_KEY 是本目录下演示模式生成的密钥，不能用于正式运行：请用 `xinyong key generate` 生成新的。",
    "XINYONG_PII_KEY is the demo key generated in this home; it is refused outside demo mode. "
    "Generate a real one with `xinyong key generate`.",
)


def load_protector(settings: Settings) -> PersonalIdProtector:
    encoded = os.environ.get("XINYONG_PII_KEY", "").strip()
    key_file = settings.home / "keys" / "pii.key"
    if encoded:
        if not settings.demo and key_file.exists() and key_file.read_text().strip() == encoded:
            raise ProblemError(_DEMO_KEY_REFUSED)
        return PersonalIdProtector(_decode(encoded))
    if not settings.demo:
        raise ProblemError(
            Problem(
                "security.pii_key_missing",
                "未配置个人身份信息加密密钥：请设置环境变量 XINYONG_PII_KEY（64字节随机数的base64编码，"
                "可用 `xinyong key generate` 生成）。演示密钥只能在演示模式下使用。",
                "No personal-identifier key configured: set XINYONG_PII_KEY (base64 of 64 random bytes; "
                "`xinyong key generate` makes one). The demo key is only accepted in demo mode.",
            )
        )
    return PersonalIdProtector(_decode(_demo_key(key_file).decode().strip()))


def _decode(encoded: str) -> bytes:
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise ProblemError(
            Problem(
                "security.pii_key_invalid",
                f"个人身份信息密钥无效：应为 {KEY_BYTES} 字节随机数的 base64 编码"
                "（`xinyong key generate`）。",
                f"The personal-identifier key is invalid: it must be base64 of {KEY_BYTES} random bytes "
                "(`xinyong key generate`).",
            )
        )
    return key


def generate_key() -> str:
    return base64.b64encode(os.urandom(KEY_BYTES)).decode()


def _demo_key(key_file: Path) -> bytes:
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        # Created readable by the owner only from the first byte, not chmod-ed afterwards.
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(generate_key())
    return key_file.read_bytes()
