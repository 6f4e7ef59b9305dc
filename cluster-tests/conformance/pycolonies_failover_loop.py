"""A single-address pycolonies client submitting, assigning and closing in a loop while
the test kills the leader: ColonyOS's SDK takes one address and never fails over itself.

Usage: python pycolonies_failover_loop.py HOST PORT SECONDS
Prints "ready" once its colony exists (the test then kills the leader), then loops for
SECONDS and prints one JSON line: the rounds done, when the last one ended, every failed
call, and the colony's statistics at the end.
"""
import json
import secrets
import sys
import time

from crypto import Crypto
from pycolonies import Colonies, func_spec

SERVER_PRVKEY = "fcc79953d8a751bf41db661592dc34d30004b1a651ffa0725b03ac227641499d"

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

rounds, failures, started, last_round_at = 0, [], time.monotonic(), 0.0


def attempt(what, call):
    try:
        return call()
    except Exception as err:  # every server or connection error of pycolonies
        failures.append(f"{what} after {time.monotonic() - started:.2f}s: {err}")
        return None


while time.monotonic() - started < seconds:
    spec = func_spec("loop", [rounds], colonyname, "loop", maxexectime=60)
    submitted = attempt("submit", lambda: client.submit_func_spec(spec, executor_prvkey))
    assigned = attempt("assign", lambda: client.assign(colonyname, 5, executor_prvkey))
    if assigned is not None:
        if submitted is not None and assigned.processid != submitted.processid:
            failures.append(f"round {rounds} was assigned another process: {assigned.processid}")
        if attempt("close", lambda: client.close(assigned.processid, [rounds], executor_prvkey)) is not None:
            rounds += 1
            last_round_at = time.monotonic() - started
    time.sleep(0.02)

stats = client.stats(colonyname, executor_prvkey)
print(json.dumps({"rounds": rounds, "last_round_at": last_round_at, "failures": failures, "stats": stats}), flush=True)
