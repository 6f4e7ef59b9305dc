//! Channels (§6.14): append-only message logs of a process, one per name in its
//! `spec.channels`, that only its initiator and its assigned executor may read or append to.
//!
//! The reference keeps them in one server's memory; here they are replicated state, so an
//! append that was answered survives a leader change. A channel exists while its process is
//! waiting or running; its messages are dropped when the process ends (closed, failed,
//! cancelled, removed, or taken by retention). Each message gets its `sequence` from the
//! state machine: its 1-based position in the channel, so a reader resumes with
//! `afterseq` = the last sequence it saw, on any node.

pub(crate) mod model;

pub use model::*;

use crate::error::{ApiError, ApiResult};
use crate::model::Process;
use crate::state::{Event, Reply, State};
use crate::texts;
use crate::time::{NANOS_PER_SECOND, Time};

impl State {
    /// The process of a channel, if `caller` may use it: a member of its colony that is
    /// its initiator or its assigned executor (§6.14). `what` names the refused action.
    pub fn channel_process(&self, caller: &str, processid: &str, name: &str, what: &str) -> ApiResult<&Process> {
        let process = self.process(processid).ok_or_else(|| ApiError::not_found(texts::CHANNEL_PROCESS_NOT_FOUND))?;
        self.require_member(caller, &process.spec.conditions.colonyname, true)?;
        if caller != process.initiatorid && caller != process.assignedexecutorid {
            return Err(ApiError::forbidden(texts::channel_not_authorized(what)));
        }
        if !is_open(process.state) || !process.spec.channels.iter().any(|n| n == name) {
            return Err(ApiError::not_found(texts::CHANNEL_NOT_FOUND));
        }
        Ok(process)
    }

    /// The messages of a channel after position `afterseq`, at most `limit` of them (0: all).
    pub fn channel_read(
        &self,
        caller: &str,
        processid: &str,
        name: &str,
        afterseq: i64,
        limit: i64,
    ) -> ApiResult<Vec<MsgEntry>> {
        self.channel_process(caller, processid, name, "read")?;
        let Some(channel) = self.data.extended.channels.processes.get(processid).and_then(|p| p.channels.get(name))
        else {
            return Ok(Vec::new());
        };
        let skip = usize::try_from(afterseq).unwrap_or(0).min(channel.entries.len());
        let take = usize::try_from(limit).ok().filter(|l| *l > 0).unwrap_or(usize::MAX);
        Ok(channel
            .entries
            .iter()
            .enumerate()
            .skip(skip)
            .take(take)
            .map(|(index, entry)| MsgEntry {
                sequence: index as i64 + 1,
                inreplyto: entry.inreplyto,
                timestamp: entry.timestamp,
                senderid: entry.senderid.clone(),
                payload: Bytes(entry.payload.clone()),
                error: if entry.kind == "error" {
                    String::from_utf8_lossy(&entry.payload).into_owned()
                } else {
                    String::new()
                },
                kind: entry.kind.clone(),
            })
            .collect())
    }

    pub(crate) fn channel_append(&mut self, caller: &str, append: &Append, now: Time) -> ApiResult<Reply> {
        let Append { processid, name, sequence, inreplyto, payload, kind } = append;
        if !KINDS.contains(&kind.as_str()) {
            return Err(ApiError::bad_request(texts::channel_bad_kind(kind)));
        }
        if payload.len() > MAX_CHANNEL_PAYLOAD_BYTES {
            return Err(ApiError::bad_request(texts::channel_payload_too_large(MAX_CHANNEL_PAYLOAD_BYTES)));
        }
        let mut process = self.data.extended.channels.processes.get(processid).cloned().unwrap_or_default();
        let mut channel = process.channels.get(name).cloned().unwrap_or_default();
        let key = (caller.to_string(), *sequence);
        if *sequence != 0 && channel.sent.contains(&key) {
            return Ok(Reply::Empty);
        }
        if channel.entries.len() >= MAX_CHANNEL_ENTRIES {
            return Err(ApiError::bad_request(texts::channel_full(MAX_CHANNEL_ENTRIES)));
        }
        if process.bytes + payload.len() > MAX_CHANNEL_BYTES_PER_PROCESS {
            return Err(ApiError::bad_request(texts::channel_bytes_exhausted(MAX_CHANNEL_BYTES_PER_PROCESS)));
        }
        process.schedule = next_schedule(process.schedule, now)?;
        if *sequence != 0 {
            channel.sent.insert(key);
        }
        channel.entries.push_back(Entry {
            inreplyto: *inreplyto,
            timestamp: now,
            senderid: caller.to_string(),
            payload: payload.clone(),
            kind: kind.clone(),
        });
        process.bytes += payload.len();
        process.channels.insert(name.clone(), channel);
        self.data.extended.channels.processes.insert(processid.clone(), process);
        self.emit(Event::ChannelAppended { processid: processid.clone(), name: name.clone() });
        Ok(Reply::Empty)
    }

    /// Drops the messages of a process that ended or is gone.
    pub(crate) fn close_channels(&mut self, processid: &str) {
        self.data.extended.channels.processes.remove(processid);
    }

    /// Drops the messages of a process if it is no longer waiting or running.
    pub(crate) fn close_channels_if_ended(&mut self, process: &Process) {
        if !is_open(process.state) {
            self.close_channels(&process.processid);
        }
    }
}

/// The rate limit (`CHANNEL_RATE_PER_SECOND`, `CHANNEL_RATE_BURST`) as a generic cell rate
/// algorithm: each append moves the schedule one interval on; an append that would put it
/// more than the burst ahead of `now` is refused. Integer nanoseconds of the command's
/// time, so every replica decides alike.
fn next_schedule(schedule: Time, now: Time) -> ApiResult<Time> {
    let interval = NANOS_PER_SECOND / CHANNEL_RATE_PER_SECOND;
    let tolerance = interval * (CHANNEL_RATE_BURST - 1);
    let now_nanos = now.unix_nanos().unwrap_or_default();
    let due = schedule.unix_nanos().unwrap_or(i64::MIN).max(now_nanos);
    if due - now_nanos > tolerance {
        return Err(ApiError::new(429, texts::channel_rate_limited(CHANNEL_RATE_PER_SECOND, CHANNEL_RATE_BURST)));
    }
    Ok(Time::from_unix_nanos(due + interval))
}
