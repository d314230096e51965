"""A customer policy outside the simulator, in the wire form (docs/policy-wire.md), with the
standard library only: the logic is `decide`, a function of JSON values, which any language
could hold as well.

    python3 examples/remote_policy_server.py --port 8765            # serve it over HTTP
    python3 examples/remote_policy_server.py --port 8765 --wait     # wait until it answers
    python3 examples/remote_policy_server.py --stdio                # JSON lines on stdin/out

A scenario group names it as `policy = "http://127.0.0.1:8765/act"` or
`policy = "exec:python3 examples/remote_policy_server.py --stdio"`, or, in the simulator's
own process through its Python API, `policy = "examples/remote_policy_server.py:Customer"`:
the same logic, so the same run (examples/remote-policy.toml).

The logic: for each order, while fewer than `max_open_jobs` of its jobs are open and its
balance covers it, post a job with a budget of `budget_per_line` per order line and the
evaluators taken in turn. Params arrive as the scenario gives them, token amounts in base
units (a string of digits where the number passes 2**53).
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WIRE = "twinecon-policy-wire/1"


def decide(observation: dict, params: dict) -> list[dict]:
    """This tick's actions of one customer, from its observation (both in the wire form)."""
    budget_per_line = int(params.get("budget_per_line", 5 * 10**16))
    max_open_jobs = int(params.get("max_open_jobs", 2))
    expires_in = int(params.get("expires_in", 12))
    min_gain_bps = int(params.get("min_gain_bps", 0))
    me = observation["address"]
    open_jobs = sum(1 for job in observation["jobs"]
                    if job["client"] == me and job["state"] != "submitted")
    balance = int(observation["balance"])  # amounts are strings: exact in any language
    evaluators = observation["evaluators"]
    actions = []
    for i, order in enumerate(observation["orders"][: max(0, max_open_jobs - open_jobs)]):
        budget = budget_per_line * len(order.get("lines", [None]))
        if budget > balance:
            break
        balance -= budget
        action = {"type": "PostJob", "order_id": order["order_id"], "budget": str(budget),
                  "expires_in": expires_in, "min_gain_bps": min_gain_bps}
        if evaluators:  # taken in turn (none: the customer would have to evaluate itself)
            action["evaluator"] = evaluators[(observation["tick"] + i) % len(evaluators)]
        actions.append(action)
    return actions


def answer(message: dict) -> dict:
    """The answer to one message: its actions, or an error."""
    if message.get("type") != "act" or message.get("wire") != WIRE:
        return {"type": "error", "error": f"expected an act message of {WIRE}"}
    try:
        return {"type": "actions",
                "actions": decide(message["observation"], message.get("params") or {})}
    except Exception as e:  # the simulator records it as this agent's fault for the tick
        return {"type": "error", "error": f"{type(e).__name__}: {e}"}


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # http.server calls it for a POST
        length = int(self.headers.get("Content-Length") or 0)
        try:
            reply = answer(json.loads(self.rfile.read(length)))
        except ValueError as e:
            reply = {"type": "error", "error": f"not JSON: {e}"}
        body = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet


def serve_stdio() -> None:
    """One answer line per message line, until stdin closes."""
    for line in sys.stdin:
        if line.strip():
            sys.stdout.write(json.dumps(answer(json.loads(line))) + "\n")
            sys.stdout.flush()


def wait(host: str, port: int, timeout_s: float = 30.0) -> None:
    """Return once something listens at host:port (exit 1 after `timeout_s`)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            socket.create_connection((host, port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                sys.exit(f"nothing answers at {host}:{port} after {timeout_s:g} s")
            time.sleep(0.05)


class Customer:
    """The same logic in the simulator's process (its Python API): the observation is encoded
    to the wire form, `decide` runs, and its actions are decoded, as a remote answer's are."""

    def __init__(self, **params: object) -> None:
        self.params = params

    def act(self, obs: object) -> list:
        from agents.wire import wire_of

        wire = wire_of(obs.planner)  # type: ignore[attr-defined]
        return wire.decode_actions(decide(wire.encode_observation(obs), self.params))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port (8765; 0: any free)")
    parser.add_argument("--stdio", action="store_true", help="speak JSON lines on stdin/stdout")
    parser.add_argument("--wait", action="store_true",
                        help="wait until a server answers at --host:--port, then exit")
    args = parser.parse_args()
    if args.stdio:
        serve_stdio()
    elif args.wait:
        wait(args.host, args.port)
    else:
        server = ThreadingHTTPServer((args.host, args.port), Handler)
        print(f"serving http://{args.host}:{server.server_address[1]}/act", file=sys.stderr)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
