//! The decoding failures of each payload type (§1.3), as each reference handler spells them.

/// The two decoding failures of each payload type: (payloadtype, the payload is not JSON
/// of the message, its `msgtype` differs from the envelope's). Each reference handler
/// spells its own; the few marked below follow the form of their neighbours.
pub const DECODE_FAILURES: &[(&str, &str, &str)] = &[
    (
        "addcolonymsg",
        "Failed to add colony, invalid JSON",
        "Failed to add colony, msg.MsgType does not match payloadType",
    ),
    (
        "removecolonymsg",
        "Failed to remove colony, invalid JSON",
        "Failed to remove colony, msg.MsgType does not match payloadType",
    ),
    (
        "getcoloniesmsg",
        "Failed to get colonies, invalid JSON",
        "Failed to get colonies, msg.MsgType does not match payloadType",
    ),
    (
        "getcolonymsg",
        "Failed to get colony, invalid JSON",
        "Failed to get colony, msg.MsgType does not match payloadType",
    ),
    (
        "getcolonystatsmsg",
        "Failed to get colony statistics, invalid JSON",
        "Failed to get colony statistics, msg.MsgType does not match payloadType",
    ),
    (
        "changecolonyidmsg",
        "Failed to change colony Id, invalid JSON",
        "Failed to change colony Id, msg.MsgType does not match payloadType",
    ),
    (
        "addexecutormsg",
        "Failed to add executor, invalid JSON",
        "Failed to add executor, msg.MsgType does not match payloadType",
    ),
    (
        "approveexecutormsg",
        "Failed to approve executor, invalid JSON",
        "Failed to approve executor, msg.MsgType does not match payloadType",
    ),
    (
        "rejectexecutormsg",
        "Failed to reject executor, invalid JSON",
        "Failed to reject executor, msg.MsgType does not match payloadType",
    ),
    (
        "removeexecutormsg",
        "Failed to remove executor, invalid JSON",
        "Failed to remove executor, msg.MsgType does not match payloadType",
    ),
    (
        "getexecutorsmsg",
        "Failed to get executors, invalid JSON",
        "Failed to get executors, msg.MsgType does not match payloadType",
    ),
    (
        "getexecutormsg",
        "Failed to get executor, invalid JSON",
        "Failed to get executor, msg.MsgType does not match payloadType",
    ),
    (
        "getexecutorbyidmsg",
        "Failed to get executor by ID, invalid JSON",
        "Failed to get executor by ID, msg.MsgType does not match payloadType",
    ),
    (
        "changeexecutoridmsg",
        "Failed to change executor Id, invalid JSON",
        "Failed to change executor Id, msg.MsgType does not match payloadType",
    ),
    (
        "reportallocationmsg",
        "Failed to report allocation, invalid JSON",
        "Failed to report allocation, msg.MsgType does not match payloadType",
    ),
    // Not in the reference source read for these texts: the form of its neighbours.
    (
        "updateexecutormsg",
        "Failed to update executor, invalid JSON",
        "Failed to update executor, msg.MsgType does not match payloadType",
    ),
    (
        "addfunctionmsg",
        "Failed to add function, invalid JSON",
        "Failed to add function, msg.MsgType does not match payloadType",
    ),
    (
        "getfunctionsmsg",
        "Failed to get function, invalid JSON",
        "Failed to get function, msg.MsgType does not match payloadType",
    ),
    (
        "removefunctionmsg",
        "Failed to remove function, invalid JSON",
        "Failed to remove function, msg.MsgType does not match payloadType",
    ),
    (
        "submitfuncspecmsg",
        "Failed to submit process, invalid JSON",
        "Failed to submit process spec, msg.MsgType does not match payloadType",
    ),
    (
        "assignprocessmsg",
        "Failed to assign process, invalid JSON",
        "Failed to assign process, msg.msgType does not match payloadType",
    ),
    (
        "getprocessesmsg",
        "Failed to get processes, invalid JSON",
        "Failed to get processes, msg.MsgType does not match payloadType",
    ),
    (
        "getprocessmsg",
        "Failed to get process, invalid JSON",
        "Failed to get process, msg.MsgType does not match payloadType",
    ),
    (
        "getprocesshistmsg",
        "Failed to get process hist, invalid JSON",
        "Failed to get process history, msg.MsgType does not match payloadType",
    ),
    (
        "removeprocessmsg",
        "Failed to remove process, invalid JSON",
        "Failed to remove process, msg.MsgType does not match payloadType",
    ),
    (
        "removeallprocessesmsg",
        "Failed to remove all processes, invalid JSON",
        "Failed to remove all processes, msg.MsgType does not match payloadType",
    ),
    (
        "closesuccessfulmsg",
        "Failed to close successful, invalid JSON",
        "Failed to close process as successful, msg.MsgType does not match payloadType",
    ),
    (
        "closefailedmsg",
        "Failed to close failed, invalid JSON",
        "Failed to close process as failed, msg.MsgType does not match payloadType",
    ),
    (
        "setoutputmsg",
        "Failed to set output, invalid JSON",
        "Failed to set output, msg.MsgType does not match payloadType",
    ),
    // Not in the reference source read for these texts: the form of its neighbours.
    (
        "cancelprocessmsg",
        "Failed to cancel process, invalid JSON",
        "Failed to cancel process, msg.MsgType does not match payloadType",
    ),
    (
        "pauseassignmentsmsg",
        "Failed to pause assignments, invalid JSON",
        "Failed to pause assignments, msg.MsgType does not match payloadType",
    ),
    (
        "resumeassignmentsmsg",
        "Failed to resume assignments, invalid JSON",
        "Failed to resume assignments, msg.MsgType does not match payloadType",
    ),
    (
        "getpausestatusmsg",
        "Failed to get pause status, invalid JSON",
        "Failed to get pause status, msg.MsgType does not match payloadType",
    ),
    (
        "addattributemsg",
        "Failed to add attribute, invalid JSON",
        "Failed to add attribute, msg.MsgType does not match payloadType",
    ),
    (
        "getattributemsg",
        "Failed to get attribute, invalid JSON",
        "Failed to get attribute, msg.MsgType does not match payloadType",
    ),
    (
        "submitworkflowspecmsg",
        "Failed to submit workkflow, invalid JSON",
        "Failed to submit workflow, msg.MsgType does not match payloadType",
    ),
    (
        "getprocessgraphmsg",
        "Failed to get processgraph, invalid JSON",
        "Failed to get processgraph, msg.MsgType does not match payloadType",
    ),
    (
        "getprocessgraphsmsg",
        "Failed to get processgraphs, invalid JSON",
        "Failed to get processgraphs, msg.MsgType does not match payloadType",
    ),
    (
        "removeprocessgraphmsg",
        "Failed to remove processgraph, invalid JSON",
        "Failed to remove processgraph, msg.MsgType does not match payloadType",
    ),
    (
        "removeallprocessgraphsmsg",
        "Failed to remove all processgraphs, invalid JSON",
        "Failed to remove all processgraphs, msg.MsgType does not match payloadType",
    ),
    // Not in the reference source read for these texts: the form of its neighbours.
    (
        "cancelprocessgraphmsg",
        "Failed to cancel processgraph, invalid JSON",
        "Failed to cancel processgraph, msg.MsgType does not match payloadType",
    ),
    (
        "addchildmsg",
        "Failed to add child to processgraph, invalid JSON",
        "Failed to add child to processgraph, msg.MsgType does not match payloadType",
    ),
    ("addlogmsg", "Failed to add log, invalid JSON", "Failed to add log, msg.MsgType does not match payloadType"),
    (
        "addexecutorlogmsg",
        "Failed to add executor log, invalid JSON",
        "Failed to add executor log, msg.MsgType does not match payloadType",
    ),
    ("getlogsmsg", "Failed to get logs, invalid JSON", "Failed to get logs, msg.MsgType does not match payloadType"),
    (
        "searchlogsmsg",
        "Failed to search logs, invalid JSON",
        "Failed to get logs, msg.MsgType does not match payloadType",
    ),
    ("addcronmsg", "Failed to add cron, invalid JSON", "Failed to add cron, msg.MsgType does not match payloadType"),
    ("getcronmsg", "Failed to get cron, invalid JSON", "Failed to get cron, msg.MsgType does not match payloadType"),
    ("getcronsmsg", "Failed to get crons, invalid JSON", "Failed to get crons, msg.MsgType does not match payloadType"),
    ("runcronmsg", "Failed to run cron, invalid JSON", "Failed to run cron, msg.MsgType does not match payloadType"),
    (
        "removecronmsg",
        "Failed to remove cron, invalid JSON",
        "Failed to remove cron, msg.MsgType does not match payloadType",
    ),
    (
        "addgeneratormsg",
        "Failed to add generator, invalid JSON",
        "Failed to add generator, msg.MsgType does not match payloadType",
    ),
    (
        "getgeneratormsg",
        "Failed to get generator, invalid JSON",
        "Failed to get generator, msg.MsgType does not match payloadType",
    ),
    (
        "getgeneratorsmsg",
        "Failed to get generators, invalid JSON",
        "Failed to get generators, msg.MsgType does not match payloadType",
    ),
    (
        "resolvegeneratormsg",
        "Failed to resolve generator, invalid JSON",
        "Failed to resolve generator, msg.MsgType does not match payloadType",
    ),
    (
        "packgeneratormsg",
        "Failed to inc generator, invalid JSON",
        "Failed to increment generator, msg.MsgType does not match payloadType",
    ),
    (
        "removegeneratormsg",
        "Failed to remove generator, invalid JSON",
        "Failed to remove generator, msg.MsgType does not match payloadType",
    ),
    ("addusermsg", "Failed to add user, invalid JSON", "Failed to add user, msg.MsgType does not match payloadType"),
    ("getusersmsg", "Failed to get users, invalid JSON", "Failed to get users, msg.MsgType does not match payloadType"),
    ("getusermsg", "Failed to get user, invalid JSON", "Failed to get user, msg.MsgType does not match payloadType"),
    // Not in the reference source read for these texts: the form of its neighbours.
    (
        "getuserbyidmsg",
        "Failed to get user by Id, invalid JSON",
        "Failed to get user by Id, msg.MsgType does not match payloadType",
    ),
    (
        "removeusermsg",
        "Failed to remove user, invalid JSON",
        "Failed to remove user, msg.MsgType does not match payloadType",
    ),
    // The reference's handler reuses the add-log text here.
    (
        "changeuseridmsg",
        "Failed to add log, invalid JSON",
        "Failed to change user Id, msg.MsgType does not match payloadType",
    ),
    (
        "versionmsg",
        "Failed to get server version, invalid JSON",
        "Failed to get server version, msg.MsgType does not match payloadType",
    ),
    // Not in the reference source read for these texts: the form of its neighbours.
    (
        "getserverinfomsg",
        "Failed to get server info, invalid JSON",
        "Failed to get server info, msg.MsgType does not match payloadType",
    ),
    // The reference's mismatch text here is the version handler's.
    (
        "getstatisticsmsg",
        "Failed to get statistics, invalid JSON",
        "Failed to get server version, msg.MsgType does not match payloadType",
    ),
    (
        "getclustermsg",
        "Failed to get cluster info, invalid JSON",
        "Failed to get cluster info, msg.MsgType does not match payloadType",
    ),
    // The reference's server-id handler speaks of a colony id.
    (
        "changeserveridmsg",
        "Failed to change colony Id, invalid JSON",
        "Failed to change colony Id, msg.MsgType does not match payloadType",
    ),
    // The mismatch text is the reference's (§7.1); the invalid-JSON one follows its form.
    (
        "subscribeprocessmsg",
        "Failed to subscribe to process, invalid JSON",
        "Failed to subscribe to process, msg.msgType does not match rpcMsg.PayloadType",
    ),
    // Not in the reference source read for the channel texts: the form of its neighbours.
    (
        "channelappendmsg",
        "Failed to append to channel, invalid JSON",
        "Failed to append to channel, msg.MsgType does not match payloadType",
    ),
    (
        "channelreadmsg",
        "Failed to read channel, invalid JSON",
        "Failed to read channel, msg.MsgType does not match payloadType",
    ),
    (
        "subscribechannelmsg",
        "Failed to subscribe to channel, invalid JSON",
        "Failed to subscribe to channel, msg.msgType does not match rpcMsg.PayloadType",
    ),
    // Not in the reference source read for these texts: the form of its neighbours.
    (
        "subscribeprocessesmsg",
        "Failed to subscribe to processes, invalid JSON",
        "Failed to subscribe to processes, msg.msgType does not match rpcMsg.PayloadType",
    ),
    // Locations, files and snapshots: the form of the other handlers.
    (
        "addlocationmsg",
        "Failed to add location, invalid JSON",
        "Failed to add location, msg.MsgType does not match payloadType",
    ),
    (
        "getlocationsmsg",
        "Failed to get locations, invalid JSON",
        "Failed to get locations, msg.MsgType does not match payloadType",
    ),
    (
        "getlocationmsg",
        "Failed to get location, invalid JSON",
        "Failed to get location, msg.MsgType does not match payloadType",
    ),
    (
        "removelocationmsg",
        "Failed to remove location, invalid JSON",
        "Failed to remove location, msg.MsgType does not match payloadType",
    ),
    ("addfilemsg", "Failed to add file, invalid JSON", "Failed to add file, msg.MsgType does not match payloadType"),
    ("getfilemsg", "Failed to get file, invalid JSON", "Failed to get file, msg.MsgType does not match payloadType"),
    ("getfilesmsg", "Failed to get files, invalid JSON", "Failed to get files, msg.MsgType does not match payloadType"),
    (
        "getfilelabelsmsg",
        "Failed to get file labels, invalid JSON",
        "Failed to get file labels, msg.MsgType does not match payloadType",
    ),
    (
        "removefilemsg",
        "Failed to remove file, invalid JSON",
        "Failed to remove file, msg.MsgType does not match payloadType",
    ),
    (
        "createsnapshotmsg",
        "Failed to create snapshot, invalid JSON",
        "Failed to create snapshot, msg.MsgType does not match payloadType",
    ),
    (
        "getsnapshotmsg",
        "Failed to get snapshot, invalid JSON",
        "Failed to get snapshot, msg.MsgType does not match payloadType",
    ),
    (
        "getsnapshotsmsg",
        "Failed to get snapshots, invalid JSON",
        "Failed to get snapshots, msg.MsgType does not match payloadType",
    ),
    (
        "removesnapshotmsg",
        "Failed to remove snapshot, invalid JSON",
        "Failed to remove snapshot, msg.MsgType does not match payloadType",
    ),
    (
        "removeallsnapshotmsg",
        "Failed to remove all snapshots, invalid JSON",
        "Failed to remove all snapshots, msg.MsgType does not match payloadType",
    ),
    // Blueprints (the reference's pkg/server/handlers/blueprint).
    (
        "addblueprintdefinitionmsg",
        "Failed to add blueprint definition, invalid JSON",
        "Failed to add blueprint definition, msg.MsgType does not match payloadType",
    ),
    (
        "getblueprintdefinitionmsg",
        "Failed to get blueprint definition, invalid JSON",
        "Failed to get blueprint definition, msg.MsgType does not match payloadType",
    ),
    (
        "getblueprintdefinitionsmsg",
        "Failed to get blueprint definitions, invalid JSON",
        "Failed to get blueprint definitions, msg.MsgType does not match payloadType",
    ),
    (
        "removeblueprintdefinitionmsg",
        "Failed to remove blueprint definition, invalid JSON",
        "Failed to remove blueprint definition, msg.MsgType does not match payloadType",
    ),
    (
        "addblueprintmsg",
        "Failed to add blueprint, invalid JSON",
        "Failed to add blueprint, msg.MsgType does not match payloadType",
    ),
    (
        "getblueprintmsg",
        "Failed to get blueprint, invalid JSON",
        "Failed to get blueprint, msg.MsgType does not match payloadType",
    ),
    (
        "getblueprintsmsg",
        "Failed to get blueprints, invalid JSON",
        "Failed to get blueprints, msg.MsgType does not match payloadType",
    ),
    (
        "updateblueprintmsg",
        "Failed to update blueprint, invalid JSON",
        "Failed to update blueprint, msg.MsgType does not match payloadType",
    ),
    (
        "removeblueprintmsg",
        "Failed to remove blueprint, invalid JSON",
        "Failed to remove blueprint, msg.MsgType does not match payloadType",
    ),
    (
        "getblueprinthistorymsg",
        "Failed to get blueprint history, invalid JSON",
        "Failed to get blueprint history, msg.MsgType does not match payloadType",
    ),
    (
        "updateblueprintstatusmsg",
        "Failed to update blueprint status, invalid JSON",
        "Failed to update blueprint status, msg.MsgType does not match payloadType",
    ),
    (
        "reconcileblueprintmsg",
        "Failed to reconcile blueprint, invalid JSON",
        "Failed to reconcile blueprint, msg.MsgType does not match payloadType",
    ),
];

/// The (invalid JSON, msgtype mismatch) texts of `payloadtype`, if it is one of ours.
pub fn decode_failures(payloadtype: &str) -> Option<(&'static str, &'static str)> {
    DECODE_FAILURES.iter().find(|(name, ..)| *name == payloadtype).map(|(_, json, mismatch)| (*json, *mismatch))
}

/// An unknown payload type (403, before any handler).
pub fn unknown_payload_type(payloadtype: &str) -> String {
    if payloadtype.is_empty() {
        UNKNOWN_EMPTY_PAYLOAD_TYPE.into()
    } else {
        format!("invalid rpcMsg.PayloadType: {payloadtype}")
    }
}

pub const UNKNOWN_EMPTY_PAYLOAD_TYPE: &str = "invalid rpcMsg.PayloadType: empty (this usually means the client is misconfigured - check that COLONIES_PRVKEY and other environment variables are set correctly)";
