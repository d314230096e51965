"""Exact splits of a payment up the royalty graph, and of a data use among contributors.

Every split of an amount x over shares s_i (basis points, Σ s_i <= 10000) pays
floor(x * s_i / 10000) to each share's holder and floor(x * (10000 - Σ s_i) / 10000) to the
remainder's holder; what the floors leave (the dust, less than one base unit per share) goes
to the treasury. So every split sums exactly to x.

Two royalty modes (Story Protocol's LRP and LAP):

- ``lrp`` (relative): a payment x reaching an asset pays each of its parents its share of x;
  each parent's part then reaches that parent, which pays its own parents their shares of it,
  and so on up. A grandparent earns share x share of the original payment. What reaches an
  asset along several paths is added up first and split once (as a vault would), in
  topological order from the paying asset up: at most one row per ancestor, however dense
  the graph.
- ``lap`` (absolute): every distinct ancestor of the paying asset takes its own share of the
  original payment, once, however many paths lead to it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from chain.identity import Address
from chain.protocols import Asset

__all__ = ["MAX_ANCESTORS", "MAX_PARENTS", "ancestors", "graph_problem", "pro_rata",
           "royalty_payouts", "split"]

#: The most parents one asset may link, and the most distinct ancestors it may have.
MAX_PARENTS = 4
MAX_ANCESTORS = 16
BPS = 10_000


def split(amount: int, shares_bps: Sequence[int]) -> tuple[list[int], int, int]:
    """(parts per share, the remainder's part, dust) of `amount`; they sum to `amount`."""
    parts = [amount * s // BPS for s in shares_bps]
    rest = amount * (BPS - sum(shares_bps)) // BPS
    return parts, rest, amount - sum(parts) - rest


def pro_rata(amount: int, weights: Sequence[int]) -> tuple[list[int], int]:
    """(parts, dust): floor(amount * w_i / Σ w) each; the dust is what the floors leave."""
    total = sum(weights)
    parts = [amount * w // total for w in weights]
    return parts, amount - sum(parts)


def ancestors(key: str, asset_of: Callable[[str], Asset]) -> list[str]:
    """The distinct ancestors of asset `key`, breadth first, parents in link order."""
    seen: dict[str, None] = {}
    frontier = list(asset_of(key).parents)
    while frontier:
        nxt: list[str] = []
        for k in frontier:
            if k not in seen:
                seen[k] = None
                nxt.extend(asset_of(k).parents)
        frontier = nxt
    return list(seen)


def graph_problem(key: str, asset_of: Callable[[str], Asset]) -> str | None:
    """Why asset `key`, with its parents as they are, breaks the graph's limits (too many
    distinct ancestors, or their royalty shares stacking over 10000 bps); None if it fits."""
    up = ancestors(key, asset_of)
    if len(up) > MAX_ANCESTORS:
        return f"{key} would have {len(up)} ancestors; an asset may have at most {MAX_ANCESTORS}"
    stack = sum(asset_of(k).royalty_bps for k in up)
    if stack > BPS:
        return (f"the royalty stack of {key} (the shares of all its ancestors) would be "
                f"{stack} bps, over 10000 (the whole payment)")
    return None


def royalty_payouts(
    amount: int,
    policy: str,
    mode: str,
    asset_of: Callable[[str], Asset],
    owner_of: Callable[[Asset], Address],
) -> tuple[int, list[tuple[Address, int]], int]:
    """Split a service payment made with asset `policy` up its graph.

    Returns:
        (the receiver's part, [(ancestor owner, royalty)] in payment order, dust); they sum
        to `amount`. Zero royalties are left out.
    """
    if mode == "lap":
        keys = ancestors(policy, asset_of)
        nodes = [asset_of(k) for k in keys]
        parts, rest, dust = split(amount, [a.royalty_bps for a in nodes])
        return rest, [(owner_of(a), p) for a, p in zip(nodes, parts, strict=True) if p], dust
    # lrp: what reaches each asset, summed over its children, then split once
    keys = [policy, *ancestors(policy, asset_of)]
    nodes = {k: asset_of(k) for k in keys}
    children = dict.fromkeys(keys, 0)  # children inside this subgraph not yet split
    for k in keys:
        for parent in nodes[k].parents:
            children[parent] += 1
    received = dict.fromkeys(keys, 0)
    received[policy] = amount
    ready = [policy]
    payouts: list[tuple[Address, int]] = []
    receiver = dust_total = 0
    for k in ready:  # grows as parents become ready: Kahn's order, ties in discovery order
        node = nodes[k]
        parents = [nodes[p] for p in node.parents]
        parts, rest, dust = split(received[k], [p.royalty_bps for p in parents])
        dust_total += dust
        for parent, part in zip(parents, parts, strict=True):
            received[parent.key] += part
            children[parent.key] -= 1
            if children[parent.key] == 0:
                ready.append(parent.key)
        if k == policy:
            receiver = rest
        elif rest:
            payouts.append((owner_of(node), rest))
    return receiver, payouts, dust_total
