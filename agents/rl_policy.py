"""TrainedPolicy: a policy trained in `scenarios.env`, plugged into any scenario as an
ordinary policy.

    [[agents]]
    role = "provider"
    policy = "agents.rl_policy:TrainedPolicy"
    params = { weights = "runs/provider.npz" }

The weights file is a NumPy ``.npz`` (no pickle: loading one runs no code) written by
`export_sb3` from a stable-baselines3 PPO model trained on `scenarios.env.EconomyGymEnv`: the
actor's layers (``w0, b0, w1, b1, ...``; the last maps to the action logits), their activation
and a JSON ``meta`` (role, feature and action counts, the parametric policy's params). Each tick
the policy builds its role's features and mask from the observation exactly as the env does
(`agents.parametric`), runs the network in NumPy, takes the most likely action the mask allows
and lets the role's parametric policy act on it: its actions are those of the built-in
strategy with the learned levers. Neither torch nor stable-baselines3 is needed to run it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from agents.parametric import PARAMETRIC
from economy import Action, Observation

__all__ = ["FORMAT", "TrainedPolicy", "export_sb3", "load_weights"]

#: The weights file's format tag (meta["format"]).
FORMAT = "twinecon-mlp-1"
_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "tanh": np.tanh,
    "relu": lambda x: np.maximum(x, 0.0),
    "identity": lambda x: x,
}


def load_weights(path: str | Path) -> tuple[list[tuple[np.ndarray, np.ndarray]], dict]:
    """The layers (weight, bias) and meta of a weights file written by `export_sb3`.

    Raises:
        ValueError: not such a file, or layers that do not chain.
    """
    with np.load(Path(path), allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        if meta.get("format") != FORMAT:
            raise ValueError(f"{path}: not a twinecon policy weights file (format "
                             f"{meta.get('format')!r}, expected {FORMAT!r})")
        layers = [(data[f"w{i}"].astype(np.float64), data[f"b{i}"].astype(np.float64))
                  for i in range(int(meta["layers"]))]
    width = int(meta["n_features"]) + int(meta["n_actions"])
    outputs = sum(int(n) for n in meta.get("factors", [meta["n_actions"]]))
    for w, b in layers:
        if w.ndim != 2 or w.shape[1] != width or b.shape != (w.shape[0],):
            raise ValueError(f"{path}: layer shapes do not chain ({w.shape}, {b.shape} after "
                             f"width {width})")
        width = w.shape[0]
    if width != outputs:
        raise ValueError(f"{path}: the last layer gives {width} values for {outputs} logits")
    if meta.get("activation") not in _ACTIVATIONS:
        raise ValueError(f"{path}: unknown activation {meta.get('activation')!r}")
    return layers, meta


class TrainedPolicy:
    """Acts with the levers a trained network picks from the observation.

    Args:
        weights: the ``.npz`` file `export_sb3` wrote (a relative path is taken from the
            working directory).
        **params: the role's parametric policy's params (`agents.parametric`), over those the
            file recorded from training.

    Raises:
        ValueError: a file that is not such weights, or whose role or sizes do not match
            this version's parametric policy.
    """

    def __init__(self, weights: str, **params: Any) -> None:
        self.weights = str(weights)
        self.layers, self.meta = load_weights(weights)
        role = self.meta["role"]
        cls = PARAMETRIC.get(role)
        if cls is None:
            raise ValueError(f"{weights}: role {role!r} has no parametric policy")
        factors = [int(n) for n in self.meta.get("factors", [self.meta["n_actions"]])]
        if (int(self.meta["n_features"]), int(self.meta["n_actions"])) != (
                cls.N_FEATURES, len(cls.ACTIONS)) or factors not in (
                [len(cls.ACTIONS)], list(cls.FACTORS)):
            raise ValueError(f"{weights}: trained on {self.meta['n_features']} features and "
                             f"{self.meta['n_actions']} actions ({factors}); the {role} policy "
                             f"now has {cls.N_FEATURES} and {len(cls.ACTIONS)}: train it again")
        #: the network's outputs are one logit per action, or per factor's choice
        self.factored = factors != [len(cls.ACTIONS)]
        self.role = role
        self.inner = cls(**{**self.meta.get("params", {}), **params})
        self._act = _ACTIVATIONS[self.meta["activation"]]
        #: the actions it picked, one per tick (for inspection)
        self.actions: list[int] = []

    def reset(self, seed: int) -> None:
        self.inner.reset(seed)
        self.actions = []

    def logits(self, x: np.ndarray) -> np.ndarray:
        """The network's output for one input (features then mask): one logit per action, or
        per choice of each factor (`factored`)."""
        h = x.astype(np.float64)
        last = len(self.layers) - 1
        for i, (w, b) in enumerate(self.layers):
            h = w @ h + b
            if i < last:
                h = self._act(h)
        return h

    def choose(self, obs: Observation) -> int:
        """The most likely action the mask allows (ties: the lowest index)."""
        inner = self.inner
        mask = inner.action_mask(obs)
        x = np.concatenate([inner.features(obs), mask.astype(np.float32)])
        return self.best(self.logits(x), mask)

    def best(self, logits: np.ndarray, mask: np.ndarray) -> int:
        """The most likely action the mask allows (ties: the lowest index); with factors,
        the most likely under independent factors (`joint_scores`)."""
        scores = self.inner.joint_scores(logits) if self.factored else logits
        return int(np.argmax(np.where(mask.astype(bool), scores, -np.inf)))

    def act(self, obs: Observation) -> list[Action]:
        a = self.inner.apply(self.choose(obs))
        self.actions.append(a)
        return self.inner.act(obs)


def export_sb3(model: Any, path: str | Path, *, role: str,
               params: dict[str, Any] | None = None) -> Path:
    """Write the actor of a stable-baselines3 PPO model (an MLP policy with the `Discrete` or
    factored `MultiDiscrete` action space of `scenarios.env.EconomyGymEnv`) as a
    `TrainedPolicy` weights file.

    Args:
        model: the PPO model.
        path: the ``.npz`` to write.
        role: the learner's role.
        params: the parametric policy's params it was trained with.

    Returns:
        The path written.
    """
    policy = model.policy
    layers: list[tuple[np.ndarray, np.ndarray]] = []
    activation = "identity"
    for module in policy.mlp_extractor.policy_net:
        name = type(module).__name__
        if name == "Linear":
            layers.append((module.weight.detach().cpu().numpy(),
                           module.bias.detach().cpu().numpy()))
        elif name in ("Tanh", "ReLU"):
            activation = name.lower()
        else:
            raise ValueError(f"cannot export a {name} layer")
    head = policy.action_net
    layers.append((head.weight.detach().cpu().numpy(), head.bias.detach().cpu().numpy()))
    cls = PARAMETRIC[role]
    space = model.action_space
    factors = [int(n) for n in space.nvec] if hasattr(space, "nvec") else [int(space.n)]
    meta = {"format": FORMAT, "role": role, "layers": len(layers), "activation": activation,
            "n_features": cls.N_FEATURES, "n_actions": len(cls.ACTIONS), "factors": factors,
            "params": dict(params or {})}
    arrays: dict[str, Any] = {f"w{i}": w.astype(np.float32) for i, (w, _) in enumerate(layers)}
    arrays.update({f"b{i}": b.astype(np.float32) for i, (_, b) in enumerate(layers)})
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as f:
        np.savez(f, meta=np.array(json.dumps(meta, sort_keys=True)), **arrays)
    return out
