"""The ledger's own choices as enums, LedgerParams' bounds as data, and the event row record."""

from __future__ import annotations

import json
from dataclasses import fields

import pytest

from chain import (
    BACKENDS,
    EVENT_COLUMNS,
    Backend,
    ChainError,
    EventRow,
    LedgerParams,
    RoyaltyMode,
    SignatureMode,
    open_ledger,
)

ZERO = "0x" + "00" * 20
ONE = "0x" + "00" * 19 + "01"


def test_modes_take_the_enum_or_its_string_and_equal_the_string():
    """royalty_mode and signatures accept a StrEnum or its string, hold the enum, and compare,
    format and serialise as the string."""
    by_string = LedgerParams(royalty_mode="lap", signatures="off")
    by_enum = LedgerParams(royalty_mode=RoyaltyMode.LAP, signatures=SignatureMode.OFF)
    assert by_string == by_enum
    assert by_string.royalty_mode is RoyaltyMode.LAP
    assert by_string.royalty_mode == "lap" and by_string.signatures == "off"
    assert f"{by_string.royalty_mode}" == "lap"
    assert json.dumps([by_string.royalty_mode, by_string.signatures]) == '["lap", "off"]'


def test_unknown_mode_names_the_choices():
    """A mode outside its enum is refused with the allowed values."""
    with pytest.raises(ChainError, match="royalty_mode must be 'lrp' or 'lap', got 'lpr'"):
        LedgerParams(royalty_mode="lpr")


def test_every_field_has_its_default_bounds_and_meaning_as_data():
    """LedgerParams.spec() gives each field's default (the dataclass default), a doc, and
    bounds or choices; validation follows those bounds."""
    spec = LedgerParams.spec()
    assert list(spec) == [f.name for f in fields(LedgerParams)]
    defaults = LedgerParams()
    for name, s in spec.items():
        assert s.default == getattr(defaults, name) and s.doc, name
    assert (spec["transfer_fee_bps"].min, spec["transfer_fee_bps"].max) == (0, 10_000)
    assert spec["royalty_mode"].choices == ("lrp", "lap")
    assert spec["signatures"].choices == ("verify", "off")
    base = dict(platform_fee_bps=0, evaluator_fee_bps=0)  # each alone may take the budget
    for name, s in spec.items():
        if s.max is not None:
            LedgerParams(**{**base, name: s.max})
            with pytest.raises(ChainError, match=f"{name} must be in"):
                LedgerParams(**{**base, name: s.max + 1})
        if s.min is not None:
            LedgerParams(**{**base, name: s.min})
            with pytest.raises(ChainError, match=f"{name} must be"):
                LedgerParams(**{**base, name: s.min - 1})


def test_min_expiry_defaults_to_what_the_economy_and_schema_use():
    """The default shortest job expiry is 2 ticks (one default, derived elsewhere)."""
    assert LedgerParams().min_expiry == LedgerParams.spec()["min_expiry"].default == 2


def test_backends_are_an_enum_and_open_ledger_takes_either():
    """BACKENDS lists the Backend values; open_ledger accepts the enum or its name and
    suggests a near name for a typo."""
    assert BACKENDS == tuple(Backend) == ("memory", "evm", "rpc")
    params = LedgerParams(signatures="off")
    for backend in (Backend.MEMORY, "memory"):
        ledger = open_ledger(backend, params, protocol=ONE, treasury=ONE)
        assert ledger.balance_of(ONE) == 0
    with pytest.raises(ChainError, match="did you mean 'memory'"):
        open_ledger("memroy", params, protocol=ONE, treasury=ONE)


def test_event_rows_are_named_records_that_stay_tuples():
    """A ledger emits EventRow records: fields by name, equal to the plain tuple, and
    EVENT_COLUMNS is their field list."""
    from chain import Identity, Intent, MemoryLedger, Mint, SignedIntent

    protocol = Identity.derive(5, 0)
    ledger = MemoryLedger(LedgerParams(signatures="off"), protocol=protocol.address,
                          treasury=ONE)
    intent = Intent(sender=protocol.address, nonce=0, deadline=5,
                    op=Mint(to=protocol.address, amount=7))
    ledger.execute(SignedIntent(intent=intent, signature=None, chain_id=31337))
    (row,) = ledger.drain_events()
    assert isinstance(row, EventRow) and EVENT_COLUMNS == EventRow._fields
    assert (row.kind, row.payer, row.payee, row.amount) == ("mint", ZERO, protocol.address, 7)
    assert row == (0, 1, "mint", ZERO, protocol.address, 7, "mint", "", "")
    assert repr(tuple(row)).startswith("(0, 1, 'mint'")
