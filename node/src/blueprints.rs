//! The blueprint messages (§6.15): reads of the state, and writes whose new ids (of the
//! object, its history entry, the process it submits) the node draws.

use crate::action::{Action, read, required, write};
use colonies_client::messages::Message;
use colonies_statemachine::texts::blueprints as texts;
use colonies_statemachine::{ApiError, Op};

/// A list reply: `null` when empty, as the reference's (§6.15).
fn null_if_empty<T>(list: Vec<T>) -> Option<Vec<T>> {
    (!list.is_empty()).then_some(list)
}

/// Maps a blueprint message to its action; `dispatch` hands over only these.
pub(crate) fn dispatch(message: Message, new_id: &mut dyn FnMut() -> String) -> Result<Action, ApiError> {
    Ok(match message {
        Message::AddBlueprintDefinition(m) => {
            let mut definition = required(m.blueprintdefinition, texts::ADD_DEFINITION_NIL)?;
            if definition.blueprintdefinitionid.is_empty() {
                definition.blueprintdefinitionid = new_id();
            }
            write(Op::AddBlueprintDefinition { definition: Box::new(definition) })
        }
        Message::GetBlueprintDefinition(m) => read(move |s, c| s.get_blueprint_definition(c, &m.colonyname, &m.name)),
        // `[]` when there is none: the one blueprint list the reference answers so.
        Message::GetBlueprintDefinitions(m) => read(move |s, c| s.get_blueprint_definitions(c, &m.colonyname)),
        Message::RemoveBlueprintDefinition(m) => {
            write(Op::RemoveBlueprintDefinition { colonyname: m.namespace, name: m.name })
        }
        Message::AddBlueprint(m) => {
            let mut blueprint = required(m.blueprint, texts::ADD_BLUEPRINT_NIL)?;
            if blueprint.blueprintid.is_empty() {
                blueprint.blueprintid = new_id();
            }
            write(Op::AddBlueprint { blueprint: Box::new(blueprint), historyid: new_id(), processid: new_id() })
        }
        Message::GetBlueprint(m) => read(move |s, c| s.get_blueprint(c, &m.namespace, &m.name)),
        Message::GetBlueprints(m) => {
            read(move |s, c| s.get_blueprints(c, &m.namespace, &m.kind, &m.locationname).map(null_if_empty))
        }
        Message::UpdateBlueprint(m) => {
            let blueprint = required(m.blueprint, texts::UPDATE_BLUEPRINT_NIL)?;
            write(Op::UpdateBlueprint {
                blueprint: Box::new(blueprint),
                forcegeneration: m.forcegeneration,
                historyid: new_id(),
                processid: new_id(),
            })
        }
        Message::RemoveBlueprint(m) => {
            write(Op::RemoveBlueprint { colonyname: m.namespace, name: m.name, processid: new_id() })
        }
        Message::GetBlueprintHistory(m) => {
            read(move |s, c| s.get_blueprint_history(c, &m.blueprintid, m.limit).map(null_if_empty))
        }
        Message::UpdateBlueprintStatus(m) => {
            write(Op::UpdateBlueprintStatus { colonyname: m.colonyname, name: m.blueprintname, status: m.status })
        }
        Message::ReconcileBlueprint(m) => {
            write(Op::ReconcileBlueprint { colonyname: m.namespace, name: m.name, force: m.force, processid: new_id() })
        }
        other => unreachable!("{} is not a blueprint message", other.payload_type()),
    })
}
