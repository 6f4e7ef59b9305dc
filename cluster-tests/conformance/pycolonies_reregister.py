"""Executor re-registration through ColonyOS's Python SDK (pycolonies), unmodified.

Usage: python pycolonies_reregister.py HOST PORT on|off
"on": the server runs with COLONIES_ALLOW_EXECUTOR_REREGISTER, so adding a taken name with a
new key replaces the registration; "off": it is refused. Prints "ok" at the end.
"""
import secrets
import sys

from crypto import Crypto
from pycolonies import Colonies

SERVER_PRVKEY = "fcc79953d8a751bf41db661592dc34d30004b1a651ffa0725b03ac227641499d"

host, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
client = Colonies(host, port)
crypto = Crypto()


def new_key():
    prvkey = crypto.prvkey()
    return prvkey, crypto.id(prvkey)


colony_prvkey, colony_id = new_key()
colonyname = "py-rereg-" + secrets.token_hex(4)
client.add_colony({"colonyid": colony_id, "name": colonyname}, SERVER_PRVKEY)
first_prvkey, first_id = new_key()
executor = {"executorname": "restarting", "executorid": first_id, "colonyname": colonyname, "executortype": "py"}
client.add_executor(executor, colony_prvkey)
client.approve_executor(colonyname, "restarting", colony_prvkey)

second_prvkey, second_id = new_key()
again = dict(executor, executorid=second_id)
if mode == "on":
    added = client.add_executor(again, colony_prvkey)
    assert added["executorid"] == second_id and added["state"] == 0, added
    client.approve_executor(colonyname, "restarting", colony_prvkey)
    stored = client.get_executor(colonyname, "restarting", second_prvkey)
    assert stored["executorid"] == second_id, stored
else:
    try:
        client.add_executor(again, colony_prvkey)
    except Exception as err:
        assert "already exists" in str(err), err
    else:
        raise AssertionError("a taken name was registered again")
    stored = client.get_executor(colonyname, "restarting", first_prvkey)
    assert stored["executorid"] == first_id, stored
print("ok")
