"""chain.hashing gives what eth_utils gives, for the inputs the ledger passes and for random
ones, and refuses what it refuses."""

from __future__ import annotations

import eth_utils
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chain.hashing import keccak, to_checksum_address


@given(st.binary(max_size=200), st.text(max_size=50))
def test_keccak_is_eth_utils_keccak(data: bytes, text: str) -> None:
    assert keccak(data) == eth_utils.keccak(data)
    assert keccak(text=text) == eth_utils.keccak(text=text)
    assert keccak(hexstr="0x" + data.hex()) == eth_utils.keccak(hexstr="0x" + data.hex())


@given(st.binary(min_size=20, max_size=20))
def test_checksum_is_eip55_as_eth_utils(raw: bytes) -> None:
    expected = eth_utils.to_checksum_address(raw)
    assert to_checksum_address(raw) == expected
    assert to_checksum_address("0x" + raw.hex()) == expected
    assert to_checksum_address(expected.upper().replace("0X", "0x")) == expected


@pytest.mark.parametrize("bad", ["0x12", "0x" + "g" * 40, b"\x00" * 19, "0x" + "0" * 41])
def test_what_is_not_an_address_is_refused(bad: object) -> None:
    with pytest.raises(ValueError):
        to_checksum_address(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        eth_utils.to_checksum_address(bad)  # type: ignore[arg-type]


def test_keccak_takes_exactly_one_input() -> None:
    with pytest.raises(TypeError):
        keccak()
    with pytest.raises(TypeError):
        keccak(b"", text="")
