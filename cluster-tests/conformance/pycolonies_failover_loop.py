"""A single-address pycolonies client submitting, assigning and closing in a loop while
the test kills the leader: ColonyOS's SDK takes one address and never fails over itself.

Usage: python pycolonies_failover_loop.py HOST PORT SECONDS
Prints "ready" once its colony exists (the test then kills the leader), then loops for
SECONDS and prints one JSON line: the rounds completed, when the last one ended, the calls
made, the calls that failed on the client's side (it could not reach the node it knows),
the calls the node answered with an error, and the colony's statistics at the end.
"""
import json
import secrets
import sys
import time

from crypto import Crypto
from pycolonies import Colonies, func_spec

SERVER_PRVKEY = "fcc79953d8a751bf41db661592dc34d30004b1a651ffa0725b03ac227641499d"
# What requests says when the node itself could not be reached.
CLIENT_SIDE = ("HTTPConnectionPool", "Connection refused", "Max retries exceeded", "Connection aborted")

host, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
client = Colonies(host, port)
crypto = Crypto()
colony_prvkey = crypto.prvkey()
executor_prvkey = crypto.prvkey()
colonyname = "loop-" + secrets.token_hex(4)
client.add_colony({"colonyid": crypto.id(colony_prvkey), "name": colonyname}, SERVER_PRVKEY)
executor = {"executorname": "loop", "executorid": crypto.id(executor_prvkey), "colonyname": colonyname,
            "executortype": "loop"}
client.add_executor(executor, colony_prvkey)
client.approve_executor(colonyname, "loop", colony_prvkey)
print("ready", flush=True)

started = time.monotonic()
summary = {"rounds": 0, "last_round_at": 0.0, "submits": 0, "client_side": [], "answered_errors": []}


def attempt(what, call):
    try:
        return call()
    except Exception as err:  # pycolonies raises for server errors and connection errors alike
        text = f"{what} after {time.monotonic() - started:.2f}s: {err}"
        side = "client_side" if any(mark in str(err) for mark in CLIENT_SIDE) else "answered_errors"
        summary[side].append(text)
        return None


while time.monotonic() - started < seconds:
    spec = func_spec("loop", [summary["submits"]], colonyname, "loop", maxexectime=60)
    summary["submits"] += 1
    attempt("submit", lambda: client.submit_func_spec(spec, executor_prvkey))
    # An executor runs whatever it is given: after a submit whose outcome is unknown this
    # may be that process, an earlier one, or nothing.
    assigned = attempt("assign", lambda: client.assign(colonyname, 1, executor_prvkey))
    if assigned is not None:
        if attempt("close", lambda: client.close(assigned.processid, [], executor_prvkey)) is not None:
            summary["rounds"] += 1
            summary["last_round_at"] = time.monotonic() - started
    time.sleep(0.02)

summary["stats"] = client.stats(colonyname, executor_prvkey)
print(json.dumps(summary), flush=True)
