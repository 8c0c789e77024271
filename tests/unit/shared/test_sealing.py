"""Sealing a supporter's personal fields (shared/sealing.py): what the data key opens,
what nothing else opens."""

from __future__ import annotations

import base64
from uuid import UUID, uuid4

import pytest

from shared import sealing

pytestmark = pytest.mark.unit
FIELDS = sealing.PersonalFields("Awa Diallo", "awa@example.org", "Courage!")


def test_the_data_key_opens_what_it_sealed_and_nothing_is_in_clear() -> None:
    key, action_id = sealing.new_data_key(), uuid4()
    sealed = sealing.seal(key, action_id, FIELDS)
    assert sealing.open_sealed(key, action_id, sealed) == FIELDS
    raw = base64.urlsafe_b64decode(sealed)
    assert b"Awa" not in raw and b"awa@" not in raw and b"Courage" not in raw


def test_sealing_twice_gives_different_texts() -> None:  # a random nonce each time
    key, action_id = sealing.new_data_key(), uuid4()
    assert sealing.seal(key, action_id, FIELDS) != sealing.seal(key, action_id, FIELDS)


def test_another_key_opens_nothing() -> None:
    action_id = uuid4()
    sealed = sealing.seal(sealing.new_data_key(), action_id, FIELDS)
    with pytest.raises(sealing.Unreadable):
        sealing.open_sealed(sealing.new_data_key(), action_id, sealed)


def test_a_sealed_value_moved_onto_another_action_opens_nothing() -> None:
    key = sealing.new_data_key()
    sealed = sealing.seal(key, uuid4(), FIELDS)
    with pytest.raises(sealing.Unreadable):
        sealing.open_sealed(key, uuid4(), sealed)


def test_a_tampered_value_opens_nothing() -> None:
    key, action_id = sealing.new_data_key(), uuid4()
    raw = bytearray(base64.urlsafe_b64decode(sealing.seal(key, action_id, FIELDS)))
    raw[-1] ^= 1
    with pytest.raises(sealing.Unreadable):
        sealing.open_sealed(key, action_id, base64.urlsafe_b64encode(bytes(raw)).decode())
    with pytest.raises(sealing.Unreadable):
        sealing.open_sealed(key, action_id, "not base64!")


def test_a_wrapped_key_is_bound_to_its_id() -> None:
    master, data_key = sealing.new_data_key(), sealing.new_data_key()
    wrapped = sealing.wrap(master, "key-1", data_key)
    assert sealing.unwrap(master, "key-1", wrapped) == data_key
    with pytest.raises(sealing.Unreadable):
        sealing.unwrap(master, "key-2", wrapped)  # a row swapped onto another id
    with pytest.raises(sealing.Unreadable):
        sealing.unwrap(sealing.new_data_key(), "key-1", wrapped)  # another master key


def test_a_key_and_its_cipher_seal_and_open_alike() -> None:
    # The master key is held as a cipher (made once); data keys are passed as bytes.
    key, action_id = sealing.new_data_key(), uuid4()
    cipher = sealing.cipher(key)
    assert sealing.open_sealed(key, action_id, sealing.seal(cipher, action_id, FIELDS)) == FIELDS
    assert sealing.open_sealed(cipher, action_id, sealing.seal(key, action_id, FIELDS)) == FIELDS
    assert sealing.unwrap(key, "key-1", sealing.wrap(cipher, "key-1", b"k" * 32)) == b"k" * 32
    with pytest.raises(sealing.Unreadable):
        sealing.unwrap(
            sealing.cipher(sealing.new_data_key()), "key-1", sealing.wrap(key, "key-1", b"k")
        )


def test_absent_fields_stay_absent() -> None:
    key, action_id = sealing.new_data_key(), uuid4()
    only_name = sealing.PersonalFields(name="Awa")
    assert sealing.open_sealed(key, action_id, sealing.seal(key, action_id, only_name)) == only_name
    assert sealing.PersonalFields().is_empty() and not only_name.is_empty()


@pytest.mark.parametrize("setting", ["", "not base64", base64.b64encode(b"short").decode()])
def test_a_master_key_that_is_not_32_bytes_is_refused(setting: str) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        sealing.master_key(setting)


def test_the_master_key_setting_is_base64_of_32_bytes() -> None:
    key = sealing.new_data_key()
    assert sealing.master_key(base64.b64encode(key).decode() + "\n") == key


def test_the_sealed_text_holds_the_given_fields_only_as_json() -> None:
    key, action_id = sealing.new_data_key(), uuid4()
    raw = base64.urlsafe_b64decode(sealing.seal(key, action_id, sealing.PersonalFields("Awa")))
    plain = sealing.cipher(key).decrypt(raw[:12], raw[12:], action_id.bytes)
    assert plain == b'{"name":"Awa"}'


def test_nonces_read_at_once_are_each_used_as_given() -> None:
    key, action_id = sealing.new_data_key(), uuid4()
    nonces = list(sealing.nonces(3))
    assert len(nonces) == 3 and len(set(nonces)) == 3
    assert {len(nonce) for nonce in nonces} == {sealing.NONCE_BYTES}
    sealed = sealing.seal(key, action_id, FIELDS, nonces[0])
    assert base64.urlsafe_b64decode(sealed)[: sealing.NONCE_BYTES] == nonces[0]
    assert sealing.open_sealed(key, action_id, sealed) == FIELDS
    with pytest.raises(ValueError, match="nonce"):
        sealing.seal(key, action_id, FIELDS, b"short")


def _sealed_by_another_writer(
    key: bytes, action_id: UUID, plain: bytes, nonce: bytes = bytes(12)
) -> str:
    """`plain` sealed as the wire format says, with the cryptography library and the
    standard library's urlsafe base64 only (not the sealing module's own steps)."""
    encrypted = sealing.cipher(key).encrypt(nonce, plain, action_id.bytes)
    return base64.urlsafe_b64encode(nonce + encrypted).decode()


def test_a_value_sealed_as_urlsafe_base64_by_the_standard_library_opens() -> None:
    """The wire format is the standard's: what any other writer encodes the same way opens
    (the sealing module calls binascii directly, for speed)."""
    key, action_id, nonce = sealing.new_data_key(), uuid4(), bytes(range(12))
    text = _sealed_by_another_writer(key, action_id, b'{"name":"Ad\xc3\xa9 ~?>"}', nonce)
    assert sealing.open_sealed(key, action_id, text) == sealing.PersonalFields("Adé ~?>")
    assert sealing.seal(key, action_id, sealing.PersonalFields("Adé ~?>"), nonce) == text


def test_fields_written_by_another_writer_open_as_they_were_written() -> None:
    """A null is an absent field and a field this version does not know is skipped (a
    later version may seal more); what is not an object of strings opens as nothing."""
    key, action_id = sealing.new_data_key(), uuid4()
    plain = b'{"name":"Awa","email":null,"phone":"+33 6","message":"Hi"}'
    opened = sealing.open_sealed(key, action_id, _sealed_by_another_writer(key, action_id, plain))
    assert opened == sealing.PersonalFields(name="Awa", message="Hi")
    for unreadable in (b'{"name":7}', b'["Awa"]', b"not json"):
        text = _sealed_by_another_writer(key, action_id, unreadable)
        with pytest.raises(sealing.Unreadable):
            sealing.open_sealed(key, action_id, text)
