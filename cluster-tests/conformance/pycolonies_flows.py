"""ColonyOS's Python SDK (pycolonies), unmodified, against a colonies-rs cluster.

Usage: python pycolonies_flows.py HOST PORT [tls]   (point it at a follower: calls are redirected)
With "tls" every call goes over HTTPS and wait() over wss; pycolonies always verifies, so
the CA comes from REQUESTS_CA_BUNDLE (requests) and WEBSOCKET_CLIENT_CA_BUNDLE (websocket-client).
Every check raises on failure; the last line printed is "ok: N flows".
"""
import requests
import secrets
import sys
import threading
import time

from crypto import Crypto
from pycolonies import Colonies, func_spec
from model import File, Reference, S3Object, Workflow

SERVER_PRVKEY = "fcc79953d8a751bf41db661592dc34d30004b1a651ffa0725b03ac227641499d"

host, port = sys.argv[1], int(sys.argv[2])
tls = sys.argv[3:] == ["tls"]
client = Colonies(host, port, tls=tls)
crypto = Crypto()


def new_key():
    prvkey = crypto.prvkey()
    return prvkey, crypto.id(prvkey)


def expect_error(call, text):
    try:
        call()
    except Exception as err:  # pycolonies wraps every server error in an exception
        assert text in str(err), f"expected an error with {text!r}, got {err!r}"
        return
    raise AssertionError(f"expected an error with {text!r}, the call succeeded")


flows = []


def flow(fn):
    flows.append(fn)
    return fn


# One colony with two approved executors for all flows.
colony_prvkey, colony_id = new_key()
colonyname = "py-" + secrets.token_hex(4)
executor_prvkey, executor_id = new_key()
other_prvkey, other_id = new_key()


@flow
def colonies_and_executors():
    client.add_colony({"colonyid": colony_id, "name": colonyname}, SERVER_PRVKEY)
    assert colonyname in [c["name"] for c in client.list_colonies(SERVER_PRVKEY)]
    # Owners are not members (spec §12): the colony owner may not read its colony.
    expect_error(lambda: client.get_colony(colonyname, colony_prvkey), "not a member")
    for name, ident in (("py-executor", executor_id), ("py-other", other_id)):
        executor = {"executorname": name, "executorid": ident, "colonyname": colonyname, "executortype": "py"}
        client.add_executor(executor, colony_prvkey)
        client.approve_executor(colonyname, name, colony_prvkey)
    assert client.get_colony(colonyname, executor_prvkey)["colonyid"] == colony_id
    names = sorted(e["executorname"] for e in client.list_executors(colonyname, executor_prvkey))
    assert names == ["py-executor", "py-other"], names
    assert client.get_executor(colonyname, "py-executor", executor_prvkey)["executorid"] == executor_id
    rejected_prvkey, rejected_id = new_key()
    client.add_executor(
        {"executorname": "py-rejected", "executorid": rejected_id, "colonyname": colonyname, "executortype": "py"},
        colony_prvkey,
    )
    client.reject_executor(colonyname, "py-rejected", colony_prvkey)
    client.remove_executor(colonyname, "py-rejected", colony_prvkey)


@flow
def executors_parse_in_both_shapes():
    # pycolonies keeps executors as plain dicts, so it reads the protocol's shape (what it
    # is sent) and the web UI's (what a call with an Origin header, a browser's, gets).
    plain = client.get_executor(colonyname, "py-executor", executor_prvkey)
    assert "location" not in plain and plain["capabilities"]["hardware"] is None, plain
    post = requests.post

    def from_a_page(*args, **kwargs):
        return post(*args, headers={"Origin": "http://ui.example.org"}, **kwargs)

    requests.post = from_a_page
    try:
        seen = client.get_executor(colonyname, "py-executor", executor_prvkey)
        listed = client.list_executors(colonyname, executor_prvkey)
    finally:
        requests.post = post
    assert seen["executorid"] == executor_id and seen["location"]["desc"] == "", seen
    assert seen["capabilities"]["hardware"]["gpu"]["count"] == 0, seen
    assert seen["capabilities"]["software"]["name"] == "", seen
    assert all(isinstance(e["capabilities"]["hardware"], dict) for e in listed), listed


@flow
def processes_from_submit_to_close():
    spec = func_spec("compute", ["a", 1], colonyname, "py", priority=3, maxexectime=60, maxretries=2,
                     kwargs={"k": "v"})
    spec.env = {"MODE": "test"}
    spec.label = "conformance"
    submitted = client.submit_func_spec(spec, executor_prvkey)
    assert submitted.state == Colonies.WAITING
    waiting = client.list_processes(colonyname, 10, Colonies.WAITING, executor_prvkey)
    assert submitted.processid in [p["processid"] for p in waiting]
    assigned = client.assign(colonyname, 5, executor_prvkey)
    assert assigned.processid == submitted.processid
    assert assigned.spec.args == ["a", 1] and assigned.spec.kwargs == {"k": "v"}
    assert assigned.spec.env["MODE"] == "test" and assigned.spec.label == "conformance"
    running = client.list_processes(colonyname, 10, Colonies.RUNNING, executor_prvkey)
    assert submitted.processid in [p["processid"] for p in running]
    client.set_output(submitted.processid, ["partial"], executor_prvkey)
    attribute = client.add_attribute(submitted.processid, "progress", "50%", executor_prvkey)
    assert client.get_attribute(attribute["attributeid"], executor_prvkey)["value"] == "50%"
    client.add_log(submitted.processid, "halfway\n", executor_prvkey)
    logs = client.get_process_log(colonyname, submitted.processid, 10, 0, executor_prvkey)
    assert [log["message"] for log in logs] == ["halfway\n"], logs
    client.close(submitted.processid, ["done"], executor_prvkey)
    closed = client.get_process(submitted.processid, executor_prvkey)
    assert closed.state == Colonies.SUCCESSFUL and closed.output == ["done"], closed
    successful = client.list_processes(colonyname, 10, Colonies.SUCCESSFUL, executor_prvkey)
    assert submitted.processid in [p["processid"] for p in successful]

    failing = client.submit_func_spec(func_spec("broken", [], colonyname, "py"), executor_prvkey)
    assert client.assign(colonyname, 5, other_prvkey).processid == failing.processid
    expect_error(lambda: client.close(failing.processid, [], executor_prvkey), "")  # not its executor
    client.fail(failing.processid, ["it broke"], other_prvkey)
    failed = client.get_process(failing.processid, executor_prvkey)
    assert failed.state == Colonies.FAILED and failed.errors == ["it broke"]
    assert failing.processid in [p["processid"] for p in client.list_processes(colonyname, 10, Colonies.FAILED, executor_prvkey)]

    stats = client.stats(colonyname, executor_prvkey)
    assert stats["successfulprocesses"] >= 1 and stats["failedprocesses"] >= 1, stats

    client.remove_process(failing.processid, executor_prvkey)
    expect_error(lambda: client.get_process(failing.processid, executor_prvkey), "")
    leftover = client.submit_func_spec(func_spec("leftover", [], colonyname, "py"), executor_prvkey)
    client.remove_all_processes(colonyname, colony_prvkey, state=Colonies.WAITING)
    expect_error(lambda: client.get_process(leftover.processid, executor_prvkey), "")


@flow
def nothing_to_assign_times_out():
    started = time.time()
    expect_error(lambda: client.assign(colonyname, 1, executor_prvkey), "No process")
    assert time.time() - started >= 0.9


@flow
def a_workflow_walked_to_the_end():
    first = func_spec("first", [], colonyname, "py")
    second = func_spec("second", [], colonyname, "py")
    second.conditions.dependencies = ["first"]
    graph = client.submit_workflow(Workflow(colonyname=colonyname, functionspecs=[first, second]), executor_prvkey)
    assert len(graph.processids) == 2
    parent = client.assign(colonyname, 5, executor_prvkey)
    assert parent.spec.funcname == "first"
    client.close(parent.processid, ["from-first"], executor_prvkey)
    child = client.assign(colonyname, 5, executor_prvkey)
    assert child.spec.funcname == "second" and child.input == ["from-first"], child
    client.close(child.processid, ["end"], executor_prvkey)
    assert client.get_processgraph(graph.processgraphid, executor_prvkey).state == Colonies.SUCCESSFUL
    graphs = client.get_processgraphs(colonyname, 10, executor_prvkey, state=Colonies.SUCCESSFUL)
    assert graph.processgraphid in [g["processgraphid"] for g in graphs]
    client.remove_processgraph(graph.processgraphid, executor_prvkey)
    expect_error(lambda: client.get_processgraph(graph.processgraphid, executor_prvkey), "")


@flow
def users_are_added_listed_and_removed():
    _, user_id = new_key()
    user = {"colonyname": colonyname, "userid": user_id, "name": "alice", "email": "alice@example.com", "phone": "1"}
    assert client.add_user(user, colony_prvkey)["userid"] == user_id
    assert [u["name"] for u in client.get_users(colonyname, executor_prvkey)] == ["alice"]
    client.remove_user(colonyname, "alice", colony_prvkey)
    assert not client.get_users(colonyname, executor_prvkey)


@flow
def an_executor_extends_its_running_workflow():
    graph = client.submit_workflow(
        Workflow(colonyname=colonyname, functionspecs=[func_spec("root", [], colonyname, "py")]), executor_prvkey
    )
    root = client.assign(colonyname, 5, executor_prvkey)
    assert client.find_process("root", graph.processids, executor_prvkey).processid == root.processid
    child = client.add_child(graph.processgraphid, root.processid, "", func_spec("extra", [], colonyname, "py"),
                             "extra", False, executor_prvkey)
    assert child["spec"]["nodename"] == "extra"
    client.add_log(root.processid, "from the executor\n", executor_prvkey)
    logs = client.get_executor_log(colonyname, "py-executor", 10, 0, executor_prvkey)
    assert "from the executor\n" in [log["message"] for log in logs], logs
    client.close(root.processid, ["root-out"], executor_prvkey)
    added = client.assign(colonyname, 5, executor_prvkey)
    assert added.spec.nodename == "extra" and added.input == ["root-out"], added
    client.close(added.processid, [], executor_prvkey)
    assert client.get_processgraph(graph.processgraphid, executor_prvkey).state == Colonies.SUCCESSFUL
    # get_processes_for_workflow sends state -1, which the spec (§6.4) and the reference
    # server refuse; so do we.
    expect_error(lambda: client.get_processes_for_workflow(graph.processgraphid, colonyname, executor_prvkey),
                 "invalid msg.State")


@flow
def functions_are_registered_and_listed():
    client.add_function(colonyname, "py-executor", "compute", executor_prvkey)
    functions = client.get_functions_by_executor(colonyname, "py-executor", executor_prvkey)
    assert [f["funcname"] for f in functions] == ["compute"], functions
    assert "compute" in [f["funcname"] for f in client.get_functions_by_colony(colonyname, executor_prvkey)]


@flow
def wait_uses_the_pubsub_websocket():
    submitted = client.submit_func_spec(func_spec("waited", [], colonyname, "py"), executor_prvkey)

    def work():
        process = client.assign(colonyname, 10, other_prvkey)
        time.sleep(0.5)
        client.close(process.processid, ["waited-out"], other_prvkey)

    worker = threading.Thread(target=work)
    worker.start()
    finished = client.wait(submitted, 30, executor_prvkey)
    worker.join()
    assert finished.state == Colonies.SUCCESSFUL and finished.output == ["waited-out"], finished


@flow
def subscribe_processes_hears_new_work():
    # pycolonies has no call for it; speak the protocol with its own websocket library.
    import base64
    import json
    from websocket import create_connection

    msg = {"colonyname": colonyname, "executortype": "py", "state": Colonies.WAITING, "timeout": 10,
           "msgtype": "subscribeprocessesmsg"}
    payload = base64.b64encode(json.dumps(msg).encode()).decode()
    ws = create_connection(f"{'wss' if tls else 'ws'}://{host}:{port}/pubsub", timeout=15)
    ws.send(json.dumps({"payloadtype": msg["msgtype"], "payload": payload, "signature": crypto.sign(payload, executor_prvkey)}))
    time.sleep(0.5)  # the subscription is registered once the first frame is read
    submitted = client.submit_func_spec(func_spec("announced", [], colonyname, "py"), executor_prvkey)
    reply = json.loads(ws.recv())
    ws.close()
    assert reply["payloadtype"] == "subscribeprocessmsg" and reply["error"] is False, reply
    assert json.loads(base64.b64decode(reply["payload"]))["processid"] == submitted.processid
    client.remove_process(submitted.processid, executor_prvkey)


@flow
def crons_are_added_run_and_removed():
    # Executor type py-cron: no flow assigns its processes.
    workflow = Workflow(colonyname=colonyname, functionspecs=[func_spec("cronjob", [], colonyname, "py-cron")])
    cron = client.add_cron("py-cron", "0 0 12 * * *", False, workflow, colonyname, executor_prvkey)
    assert cron["name"] == "py-cron" and cron["initiatorid"] == executor_id, cron
    fetched = client.get_cron(cron["cronid"], executor_prvkey)
    assert fetched["cronexpression"] == "0 0 12 * * *" and fetched["checkerperiod"] > 0, fetched
    assert not fetched["nextrun"].startswith("0001-"), "a new cron is scheduled"
    assert [c["name"] for c in client.get_crons(colonyname, 10, executor_prvkey)] == ["py-cron"]
    ran = client.run_cron(cron["cronid"], executor_prvkey)
    graph = client.get_processgraph(ran["prevprocessgraphid"], executor_prvkey)
    assert len(graph.processids) == 1
    assert client.get_cron(cron["cronid"], executor_prvkey)["prevprocessgraphid"] == graph.processgraphid
    expect_error(lambda: client.add_cron("py-cron", "0 0 12 * * *", False, workflow, colonyname, executor_prvkey),
                 "already exists")
    expect_error(lambda: client.add_cron("bad", "* * *", False, workflow, colonyname, executor_prvkey),
                 "expected exactly 6 fields")
    expect_error(lambda: client.del_cron(cron["cronid"], other_prvkey), "Access denied")  # not its creator
    client.del_cron(cron["cronid"], executor_prvkey)
    assert client.get_crons(colonyname, 10, executor_prvkey) == []
    expect_error(lambda: client.run_cron(cron["cronid"], executor_prvkey), "cron not found")
    client.remove_processgraph(graph.processgraphid, executor_prvkey)


@flow
def generators_are_added_packed_and_removed():
    import json

    workflow = Workflow(colonyname=colonyname, functionspecs=[func_spec("genjob", [], colonyname, "py-gen")])
    spec = json.dumps(workflow.model_dump(by_alias=True))
    generator = {"colonyname": colonyname, "name": "py-gen", "workflowspec": spec, "trigger": 2, "timeout": 60}
    added = client.add_generator(generator, executor_prvkey)
    generatorid = added["generatorid"]
    assert client.get_generator(generatorid, executor_prvkey)["trigger"] == 2
    assert [g["name"] for g in client.get_generators(colonyname, executor_prvkey)] == ["py-gen"]
    expect_error(lambda: client.add_generator(dict(generator, name="zero", trigger=0), executor_prvkey),
                 "trigger must be larger than 0")
    # pycolonies has no call for packing or resolving; send them with its own signed RPC.
    rpc = client._Colonies__rpc
    resolved = rpc({"msgtype": "resolvegeneratormsg", "colonyname": colonyname, "generatorname": "py-gen"},
                   executor_prvkey)
    assert resolved["generatorid"] == generatorid
    for arg in ("x1", "x2"):
        rpc({"msgtype": "packgeneratormsg", "generatorid": generatorid, "arg": arg}, other_prvkey)
    deadline = time.time() + 20
    while True:
        graphs = client.get_processgraphs(colonyname, 10, executor_prvkey, state=Colonies.WAITING) or []
        roots = [client.get_process(g["rootprocessids"][0], executor_prvkey) for g in graphs]
        runs = [r for r in roots if r.spec.funcname == "genjob"]
        if runs:
            break
        assert time.time() < deadline, "the generator never ran"
        time.sleep(0.2)
    assert len(runs) == 1 and runs[0].spec.args == ["x1", "x2"], runs
    assert client.get_generator(generatorid, executor_prvkey)["queuesize"] == 0
    client.remove_generator(generatorid, executor_prvkey)
    expect_error(lambda: client.get_generator(generatorid, executor_prvkey), "generator is nil")
    assert not client.get_generators(colonyname, executor_prvkey)
    client.remove_processgraph(runs[0].processgraphid, executor_prvkey)


def fake_file(name, checksum, label="data"):
    """A file as pycolonies' upload builds it, pointing at an S3 object nobody wrote: the
    server keeps metadata only, so no S3 is needed."""
    obj = S3Object(server="s3.example", port=9000, tls=False, accesskey="AKIA-test", secretkey="test-secret",
                   region="", encryptionkey="", encryptionalg="", object="obj-" + checksum, bucket="bucket")
    f = File(fileid="", colonyname=colonyname, label=label, name=name, size=3, sequencenr=1, checksum=checksum,
             checksumalg="SHA256", ref=Reference(protocol="s3", s3object=obj))
    return {"msgtype": "addfilemsg", "file": f.model_dump(by_alias=True)}


@flow
def file_metadata_has_revisions_labels_and_latest():
    rpc = client._Colonies__rpc
    first = rpc(fake_file("a.txt", "c1"), executor_prvkey)
    assert first["fileid"] and first["label"] == "/data" and first["added"], first
    assert first["ref"]["s3object"]["secretkey"] == "test-secret", "the keys are stored as sent"
    second = rpc(fake_file("a.txt", "c2"), other_prvkey)
    rpc(fake_file("b.txt", "c3"), executor_prvkey)
    rpc(fake_file("c.txt", "c4", label="data/sub"), executor_prvkey)
    revisions = client.get_file(colonyname, executor_prvkey, label="/data", filename="a.txt", latest=False)
    assert [f["fileid"] for f in revisions] == [first["fileid"], second["fileid"]], revisions
    latest = client.get_file(colonyname, executor_prvkey, label="/data", filename="a.txt")
    assert [f["checksum"] for f in latest] == ["c2"], latest
    by_id = client.get_file(colonyname, executor_prvkey, fileid=first["fileid"])
    assert by_id[0]["checksum"] == "c1"
    listed = client.get_files("/data", colonyname, executor_prvkey)
    assert [(d["name"], d["checksum"], d["s3filename"]) for d in listed] == [("a.txt", "c2", "obj-c2"),
                                                                             ("b.txt", "c3", "obj-c3")], listed
    labels = client.get_file_labels(colonyname, executor_prvkey)
    assert [(l["name"], l["files"]) for l in labels] == [("/data", 3), ("/data/sub", 1)], labels
    assert [l["name"] for l in client.get_file_labels(colonyname, executor_prvkey, "/data", True)] == ["/data"]
    expect_error(lambda: client.get_file(colonyname, executor_prvkey, label="/data", filename="none"),
                 "Failed to get file")
    rpc({"msgtype": "removefilemsg", "colonyname": colonyname, "fileid": second["fileid"], "label": None,
         "name": None}, executor_prvkey)
    latest = client.get_file(colonyname, executor_prvkey, label="/data", filename="a.txt")
    assert [f["checksum"] for f in latest] == ["c1"], "the revision before is the latest again"
    stranger_prvkey, _ = new_key()
    expect_error(lambda: client.get_files("/data", colonyname, stranger_prvkey), "")


@flow
def snapshots_freeze_the_latest_files_under_a_label():
    rpc = client._Colonies__rpc
    snap = client.create_snapshot(colonyname, "/data", "py-snap", executor_prvkey)
    files = {f["name"]: f["fileid"] for f in client.get_file(colonyname, executor_prvkey, label="/data",
                                                             filename="b.txt")}
    assert files["b.txt"] in snap["fileids"] and len(snap["fileids"]) == 3, snap
    assert client.get_snapshot_by_name(colonyname, "py-snap", other_prvkey)["snapshotid"] == snap["snapshotid"]
    assert client.get_snapshot_by_id(colonyname, snap["snapshotid"], executor_prvkey)["name"] == "py-snap"
    expect_error(lambda: client.create_snapshot(colonyname, "/data", "py-snap", executor_prvkey), "already exists")
    client.create_snapshot(colonyname, "/data/sub", "py-sub", executor_prvkey)
    assert [s["name"] for s in client.get_snapshots(colonyname, executor_prvkey)] == ["py-snap", "py-sub"]
    rpc({"msgtype": "removesnapshotmsg", "colonyname": colonyname, "snapshotid": "", "name": "py-snap"},
        executor_prvkey)
    expect_error(lambda: client.get_snapshot_by_name(colonyname, "py-snap", executor_prvkey), "not found")
    rpc({"msgtype": "removeallsnapshotmsg", "colonyname": colonyname}, executor_prvkey)
    assert not client.get_snapshots(colonyname, executor_prvkey)


@flow
def locations_and_executor_reports():
    # pycolonies has no calls for these; they go through its own signed RPC.
    rpc = client._Colonies__rpc
    location = {"locationid": "", "name": "py-north", "colonyname": colonyname, "description": "up",
                "long": 18.07, "lat": 59.33}
    added = rpc({"msgtype": "addlocationmsg", "location": location}, colony_prvkey)
    assert added["locationid"] and added["lat"] == 59.33, added
    expect_error(lambda: rpc({"msgtype": "addlocationmsg", "location": location}, executor_prvkey), "")
    listed = rpc({"msgtype": "getlocationsmsg", "colonyname": colonyname}, executor_prvkey)
    assert [l["name"] for l in listed] == ["py-north"], listed
    got = rpc({"msgtype": "getlocationmsg", "colonyname": colonyname, "name": "py-north"}, other_prvkey)
    assert got == added, got
    rpc({"msgtype": "removelocationmsg", "colonyname": colonyname, "name": "py-north"}, colony_prvkey)
    assert rpc({"msgtype": "getlocationsmsg", "colonyname": colonyname}, executor_prvkey) == []
    allocations = {"projects": {"p": {"allocatedcpu": 4, "usedcpu": 1, "allocatedgpu": 0, "usedgpu": 0,
                                      "allocatedstorage": 0, "usedstorage": 0}}}
    rpc({"msgtype": "reportallocationmsg", "colonyname": colonyname, "executorname": "py-executor",
         "allocations": allocations}, executor_prvkey)
    capabilities = {"hardware": None, "software": [{"name": "python", "type": "lang", "version": "3"}]}
    rpc({"msgtype": "updateexecutormsg", "colonyname": colonyname, "executorname": "py-executor",
         "capabilities": capabilities}, executor_prvkey)
    expect_error(lambda: rpc({"msgtype": "updateexecutormsg", "colonyname": colonyname,
                              "executorname": "py-executor", "capabilities": capabilities}, other_prvkey),
                 "another executor")
    executor = client.get_executor(colonyname, "py-executor", executor_prvkey)
    assert executor["allocations"] == allocations and executor["capabilities"] == capabilities, executor



@flow
def channels_append_read_and_subscribe():
    spec = func_spec("chatty", [], colonyname, "py")
    spec.channels = ["chat"]
    submitted = client.submit_func_spec(spec, executor_prvkey)
    assert client.assign(colonyname, 5, other_prvkey).processid == submitted.processid
    pid = submitted.processid
    # The runner and the initiator both write; positions come from the server.
    client.channel_append(pid, "chat", 1, "hello", other_prvkey)
    client.channel_append(pid, "chat", 2, b"\x00\xff", other_prvkey, payload_type="end")
    client.channel_append(pid, "chat", 1, "question", executor_prvkey, in_reply_to=1)
    client.channel_append(pid, "chat", 1, "hello", other_prvkey)  # a retry: stored once
    entries = client.channel_read(pid, "chat", 0, 0, executor_prvkey)
    assert [e["payload"] for e in entries] == [b"hello", b"\x00\xff", b"question"], entries
    assert [e["sequence"] for e in entries] == [1, 2, 3]
    assert [e["senderid"] for e in entries] == [other_id, other_id, executor_id]
    assert entries[1]["type"] == "end" and entries[2]["inreplyto"] == 1 and "inreplyto" not in entries[0]
    assert [e["payload"] for e in client.channel_read(pid, "chat", 2, 0, other_prvkey)] == [b"question"]
    assert len(client.channel_read(pid, "chat", 0, 2, other_prvkey)) == 2

    # A subscription gets what follows afterseq, then each new message as it comes.
    got = []

    def on_batch(batch):
        got.extend(batch)
        return len(got) < 2

    later = threading.Timer(1.0, lambda: client.channel_append(pid, "chat", 3, "late", other_prvkey))
    later.start()
    client.subscribe_channel(pid, "chat", executor_prvkey, after_seq=2, timeout=20, callback=on_batch)
    later.join()
    assert [e["payload"] for e in got] == [b"question", b"late"], got
    # Its timeout ends it with an empty batch.
    assert client.subscribe_channel(pid, "chat", executor_prvkey, after_seq=4, timeout=1) == []

    stranger_prvkey, _ = new_key()
    expect_error(lambda: client.channel_read(pid, "chat", 0, 0, stranger_prvkey), "not a member")
    expect_error(lambda: client.channel_read(pid, "nosuch", 0, 0, executor_prvkey), "Channel not found")
    # The channel ends with its process.
    client.close(pid, [], other_prvkey)
    expect_error(lambda: client.channel_append(pid, "chat", 9, "x", other_prvkey), "Channel not found")
    expect_error(
        lambda: client.subscribe_channel(pid, "chat", executor_prvkey, timeout=1), "Channel not found"
    )


@flow
def blueprints_are_defined_added_updated_reconciled_and_removed():
    # Executor type py-bp: no flow assigns the reconciliation processes; they are removed
    # at the end.
    def definition(name, kind, interval=0):
        return {
            "kind": "BlueprintDefinition",
            "metadata": {"name": name, "colonyname": colonyname},
            "spec": {
                "group": "compute.colonies.io", "version": "v1", "scope": "Namespaced",
                "names": {"kind": kind, "listKind": kind + "List", "singular": kind.lower(), "plural": kind.lower() + "s"},
                "schema": {"type": "object", "required": ["image"],
                           "properties": {"image": {"type": "string"}, "replicas": {"type": "integer"}}},
                "handler": {"executorType": "py-bp", "functionName": "reconcile", "reconcileInterval": interval},
            },
        }

    expect_error(lambda: client.add_blueprint_definition(definition("py-deployments", "PyDeployment"), executor_prvkey),
                 "")  # the colony owner's
    added = client.add_blueprint_definition(definition("py-deployments", "PyDeployment"), colony_prvkey)
    assert added["blueprintdefinitionid"] and added["spec"]["handler"]["executorType"] == "py-bp", added
    fetched = client.get_blueprint_definition(colonyname, "py-deployments", executor_prvkey)
    assert fetched["spec"]["names"]["kind"] == "PyDeployment", fetched
    listed = client.get_blueprint_definitions(colonyname, colony_prvkey)
    assert [d["metadata"]["name"] for d in listed] == ["py-deployments"], listed

    blueprint = {"kind": "PyDeployment", "metadata": {"name": "py-web", "colonyname": colonyname},
                 "spec": {"image": "nginx", "replicas": 1}}
    expect_error(lambda: client.add_blueprint(dict(blueprint, spec={"replicas": 1}), executor_prvkey),
                 "required field 'image' is missing")
    bp = client.add_blueprint(blueprint, executor_prvkey)
    assert bp["metadata"]["generation"] == 1 and bp["blueprintid"], bp
    first = client.get_process(bp["metadata"]["lastReconciliationProcess"], executor_prvkey)
    assert first.spec.funcname == "reconcile" and first.spec.conditions.executortype == "py-bp"
    assert first.spec.kwargs == {"kind": "PyDeployment", "blueprintName": "py-web"}, first.spec.kwargs
    expect_error(lambda: client.add_blueprint(blueprint, executor_prvkey), "already exists")
    got = client.get_blueprint(colonyname, "py-web", other_prvkey)
    assert got["blueprintid"] == bp["blueprintid"], got
    assert [b["metadata"]["name"] for b in client.get_blueprints(colonyname, executor_prvkey, kind="PyDeployment")] \
        == ["py-web"]
    assert client.get_blueprints(colonyname, executor_prvkey, kind="Other") is None

    got["spec"]["replicas"] = 3
    updated = client.update_blueprint(got, executor_prvkey)
    assert updated["metadata"]["generation"] == 2, updated
    assert client.update_blueprint(updated, executor_prvkey)["metadata"]["generation"] == 2, "same spec"
    forced = client.update_blueprint(updated, executor_prvkey, force_generation=True)
    assert forced["metadata"]["generation"] == 3, forced
    history = client.get_blueprint_history(bp["blueprintid"], executor_prvkey)
    assert [(h["generation"], h["changetype"]) for h in history] == [(3, "update"), (2, "update"), (1, "create")]
    assert len(client.get_blueprint_history(bp["blueprintid"], executor_prvkey, limit=1)) == 1

    client.update_blueprint_status(colonyname, "py-web", {"ready": 3}, other_prvkey)
    assert client.get_blueprint(colonyname, "py-web", executor_prvkey)["status"] == {"ready": 3}
    reconciled = client.reconcile_blueprint(colonyname, "py-web", executor_prvkey, force=True)
    assert reconciled["spec"]["kwargs"] == {"kind": "PyDeployment", "blueprintName": "py-web", "force": True}
    assert client.get_blueprint(colonyname, "py-web", executor_prvkey)["metadata"]["generation"] == 4

    # A definition with reconcileInterval: the leader asks for the whole kind every second.
    client.add_blueprint_definition(definition("py-ticks", "PyTick", 1), colony_prvkey)
    client.add_blueprint({"kind": "PyTick", "metadata": {"name": "py-tick", "colonyname": colonyname},
                          "spec": {"image": "busybox"}}, executor_prvkey)
    deadline = time.time() + 20
    while True:
        waiting = client.list_processes(colonyname, 100, Colonies.WAITING, executor_prvkey) or []
        if any(p["spec"]["kwargs"] == {"kind": "PyTick"} for p in waiting):
            break
        assert time.time() < deadline, "no periodic reconciliation"
        time.sleep(0.2)

    expect_error(lambda: client.remove_blueprint_definition(colonyname, "py-deployments", colony_prvkey),
                 "still exist")
    client.remove_blueprint(colonyname, "py-web", executor_prvkey)
    client.remove_blueprint(colonyname, "py-tick", executor_prvkey)
    expect_error(lambda: client.get_blueprint(colonyname, "py-web", executor_prvkey), "Blueprint not found")
    client.remove_blueprint_definition(colonyname, "py-deployments", colony_prvkey)
    client.remove_blueprint_definition(colonyname, "py-ticks", colony_prvkey)
    assert client.get_blueprint_definitions(colonyname, colony_prvkey) == []
    for process in client.list_processes(colonyname, 100, Colonies.WAITING, executor_prvkey) or []:
        if process["spec"]["conditions"]["executortype"] == "py-bp":
            client.remove_process(process["processid"], executor_prvkey)


@flow
def a_wrong_key_is_refused():
    stranger_prvkey, _ = new_key()
    expect_error(lambda: client.list_processes(colonyname, 10, Colonies.WAITING, stranger_prvkey), "")
    expect_error(lambda: client.add_colony({"colonyid": colony_id, "name": "nope"}, stranger_prvkey), "")


for fn in flows:
    fn()
    print("passed:", fn.__name__, flush=True)
print(f"ok: {len(flows)} flows")
