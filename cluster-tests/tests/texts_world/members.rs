//! Table rows about members: null objects, roles, colonies, executors, functions, users, ids.

use super::cases::*;
use super::*;
use colonies_client::messages::*;

pub fn rows(w: &World) -> Vec<Case> {
    let server = &w.server;
    let owner = &w.owner;
    let cli = &w.cli;
    let two = &w.two;
    let ada = &w.ada;
    let stranger = &w.stranger;
    let ghost = random_id();
    let g1 = w.running_graph.processgraphid.as_str();
    let root = w.running_root.as_str();
    vec![
        // A null object in the message.
        is("ADD_COLONY_NIL", server, AddColonyMsg { colony: None }, 400, "Failed to add colony, colony is <nil>"),
        is(
            "ADD_EXECUTOR_NIL",
            owner,
            AddExecutorMsg { executor: None },
            400,
            "Failed to add executor, executor is nil",
        ),
        is("ADD_FUNCTION_NIL", cli, AddFunctionMsg { fun: None }, 400, "Failed to add function, msg.Function is nil"),
        is(
            "SUBMIT_SPEC_NIL",
            cli,
            SubmitFunctionSpecMsg { spec: None },
            400,
            "Failed to submit process spec, msg.FunctionSpec is nil",
        ),
        is(
            "ADD_ATTRIBUTE_NIL",
            cli,
            AddAttributeMsg { attribute: None },
            400,
            "Failed to add attribute, msg.Attribute is nil",
        ),
        is(
            "SUBMIT_WORKFLOW_NIL",
            cli,
            SubmitWorkflowSpecMsg { spec: None },
            400,
            "Failed to submit workflow, msg.WorkflowSpec is nil",
        ),
        is(
            "ADD_CHILD_NIL",
            two,
            AddChildMsg { processgraphid: g1.into(), parentprocessid: root.into(), ..Default::default() },
            400,
            "Failed to add child to processgraph, msg.FunctionSpec is nil",
        ),
        is("ADD_CRON_NIL", cli, AddCronMsg { cron: None }, 400, "Failed to add cron, msg.Cron is nil"),
        is(
            "ADD_GENERATOR_NIL",
            cli,
            AddGeneratorMsg { generator: None },
            400,
            "Failed to add generator, msg.Generator is nil",
        ),
        is("ADD_USER_NIL", owner, AddUserMsg { user: None }, 400, "Failed to add user, executor is nil"),
        // Roles (§3.2).
        is("NOT_SERVER_OWNER", stranger, GetColoniesMsg {}, 403, "Access denied, not server owner"),
        is("NOT_COLONY_OWNER", cli, PauseAssignmentsMsg { colonyname: dev() }, 403, "Access denied, not colony owner"),
        is("EMPTY_COLONY_NAME", owner, PauseAssignmentsMsg { colonyname: String::new() }, 403, "Empty Colony name"),
        is(
            "colony_does_not_exist",
            cli,
            GetColonyMsg { colonyname: "nosuch".into() },
            403,
            "Colony with name <nosuch> does not exists",
        ),
        is(
            "not_a_member",
            stranger,
            GetColonyMsg { colonyname: dev() },
            403,
            "Access denied, not a member of Colony with name <dev>",
        ),
        is(
            "NOT_CREATOR_OR_OWNER",
            two,
            RemoveCronMsg { cronid: w.cron.cronid.clone(), all: false },
            403,
            "Access denied, only its creator or the colony owner may remove it",
        ),
        // Colonies.
        is(
            "INVALID_COLONY_ID_LENGTH",
            server,
            new_colony("c2", String::new()),
            400,
            "Failed to add colony, invalid colony Id length",
        ),
        is("EMPTY_COLONY_NAME_ADD", server, new_colony("", random_id()), 400, "Failed to add colony, name is empty"),
        is(
            "colony_already_exists",
            server,
            new_colony("dev", random_id()),
            400,
            "A Colony with name <dev> already exists",
        ),
        is(
            "colony_not_found",
            server,
            RemoveColonyMsg { colonyname: "nosuch".into() },
            400,
            "Colony with name <nosuch> not found",
        ),
        // Executors.
        is(
            "EMPTY_EXECUTOR_NAME",
            owner,
            new_executor("", random_id()),
            400,
            "Failed to add executor, executor name is empty",
        ),
        is(
            "INVALID_EXECUTOR_ID_LENGTH",
            owner,
            new_executor("e2", String::new()),
            400,
            "Failed to add executor, invalid executor Id length",
        ),
        is(
            "executor_already_exists",
            owner,
            new_executor("dev-cli", random_id()),
            400,
            "Executor with name <dev-cli> in Colony <dev> already exists",
        ),
        is(
            "APPROVE_EXECUTOR_NIL",
            owner,
            ApproveExecutorMsg { colonyname: dev(), executorname: "ghost".into() },
            500,
            "Failed to approve executor, executor is nil",
        ),
        is(
            "REJECT_EXECUTOR_NIL",
            owner,
            RejectExecutorMsg { colonyname: dev(), executorname: "ghost".into() },
            500,
            "Failed to reject executor, executor is nil",
        ),
        is(
            "REMOVE_EXECUTOR_NIL",
            owner,
            RemoveExecutorMsg { colonyname: dev(), executorname: "ghost".into() },
            500,
            "Failed to remove executor, executor is nil",
        ),
        is(
            "GET_EXECUTOR_NIL",
            cli,
            GetExecutorMsg { colonyname: dev(), executorname: "ghost".into() },
            500,
            "Failed to get executor, executor is nil",
        ),
        is(
            "GET_EXECUTOR_BY_ID_NIL",
            cli,
            GetExecutorByIdMsg { colonyname: dev(), executorid: ghost.clone() },
            404,
            "Failed to get executor by ID, executor is nil",
        ),
        // Functions.
        is(
            "add_function_no_executor",
            cli,
            function("ghost", ""),
            400,
            "Failed to add function, Executor with name <ghost> does not exist",
        ),
        is(
            "ADD_FUNCTION_OTHER_EXECUTOR",
            cli,
            function("dev-two", ""),
            403,
            "Not allowed to add a function to another executor",
        ),
        is(
            "ADD_FUNCTION_ID_TAKEN",
            cli,
            function("dev-cli", &w.function.functionid),
            400,
            "Failed to add function, a function with that id exists",
        ),
        is(
            "REMOVE_FUNCTION_EMPTY_ID",
            cli,
            RemoveFunctionMsg { functionid: String::new() },
            400,
            "Failed to remove function, msg.FunctionID is empty",
        ),
        is(
            "REMOVE_FUNCTION_MISSING",
            cli,
            RemoveFunctionMsg { functionid: ghost.clone() },
            404,
            "Failed to remove function, function does not exist",
        ),
        is(
            "REMOVE_FUNCTION_OTHER_EXECUTOR",
            two,
            RemoveFunctionMsg { functionid: w.function.functionid.clone() },
            403,
            "Not allowed to remove a function from another executor",
        ),
        // Users.
        is("EMPTY_USER_NAME", owner, new_user(""), 400, "Failed to add user, name is empty"),
        is(
            "user_already_exists",
            owner,
            new_user("ada"),
            400,
            "A user with name <ada> already exists in Colony with name <dev>",
        ),
        is(
            "user_not_found",
            owner,
            RemoveUserMsg { colonyname: dev(), name: "ghost".into() },
            400,
            "User with name <ghost> not found",
        ),
        is(
            "colony_does_not_exist",
            cli,
            GetUsersMsg { colonyname: "nosuch".into() },
            400,
            "Colony with name <nosuch> does not exists",
        ),
        is(
            "GET_USER_NIL",
            cli,
            GetUserMsg { colonyname: dev(), name: "ghost".into() },
            500,
            "Failed to get user, user is nil",
        ),
        is(
            "GET_USER_BY_ID_MISSING",
            cli,
            GetUserByIdMsg { colonyname: dev(), userid: ghost.clone() },
            404,
            "Failed to get user, user not found",
        ),
        // Changing ids.
        is(
            "CHANGE_COLONY_ID_EMPTY",
            owner,
            ChangeColonyIdMsg { colonyname: dev(), colonyid: String::new() },
            400,
            "Failed to change colony Id, colony Id is empty",
        ),
        is(
            "CHANGE_EXECUTOR_ID_EMPTY",
            cli,
            ChangeExecutorIdMsg { colonyname: dev(), executorid: String::new() },
            400,
            "Failed to change executor Id, executor Id is empty",
        ),
        is(
            "CHANGE_EXECUTOR_ID_NO_EXECUTOR",
            ada,
            ChangeExecutorIdMsg { colonyname: dev(), executorid: random_id() },
            400,
            "Failed to change executor Id, executor not found",
        ),
        is(
            "CHANGE_USER_ID_EMPTY",
            ada,
            ChangeUserIdMsg { colonyname: dev(), userid: String::new() },
            400,
            "Failed to change user Id, user Id is empty",
        ),
        is(
            "CHANGE_USER_ID_NO_USER",
            cli,
            ChangeUserIdMsg { colonyname: dev(), userid: random_id() },
            400,
            "Failed to change user Id, user not found",
        ),
        is(
            "CHANGE_SERVER_ID_EMPTY",
            server,
            ChangeServerIdMsg { serverid: String::new() },
            400,
            "Failed to change colony Id, colony Id is empty",
        ),
    ]
}
