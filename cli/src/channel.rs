//! `colonies channel`: the message channels of a process (§6.14), for its initiator and
//! its assigned executor. The reference CLI has no such group; the flag names follow its
//! other commands (`-p/--processid`, `--name`) and the payload fields.

use crate::table::table;
use crate::user::{Ctx, Role, print_json};
use anyhow::bail;
use colonies_client::channels::ChannelEnd;
use colonies_client::messages::{ChannelAppendMsg, ChannelReadMsg, SubscribeChannelMsg};
use colonies_statemachine::channels::{Bytes, MsgEntry};

#[derive(clap::Subcommand)]
pub enum ChannelCmd {
    /// Append a message to a channel of a process.
    Append {
        #[arg(short = 'p', long)]
        processid: String,
        /// The channel's name (one of the process's `spec.channels`).
        #[arg(long)]
        name: String,
        /// The message.
        #[arg(short = 'm', long)]
        msg: String,
        /// Your own number for the message: a repeat of it is taken as a retry and stored
        /// once. 0: none.
        #[arg(long, default_value_t = 0)]
        sequence: i64,
        /// The sequence of the message this one answers.
        #[arg(long, default_value_t = 0)]
        inreplyto: i64,
        /// `end` or `error`; plain data without it.
        #[arg(long = "type", default_value = "")]
        payloadtype: String,
    },
    /// The messages of a channel.
    Read {
        #[arg(short = 'p', long)]
        processid: String,
        #[arg(long)]
        name: String,
        /// Only messages after this sequence.
        #[arg(long, default_value_t = 0)]
        afterseq: i64,
        /// At most this many (0: all).
        #[arg(long, default_value_t = 0)]
        limit: i64,
    },
    /// Print a channel's messages as they come, until the timeout or the process's end;
    /// moves to another node if its node goes away.
    Subscribe {
        #[arg(short = 'p', long)]
        processid: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value_t = 0)]
        afterseq: i64,
        /// Seconds.
        #[arg(long, default_value_t = 30)]
        timeout: i64,
    },
}

pub async fn channel(ctx: &Ctx, command: ChannelCmd) -> anyhow::Result<()> {
    match command {
        ChannelCmd::Append { processid, name, msg, sequence, inreplyto, payloadtype } => {
            let payload = Bytes(msg.into_bytes());
            ctx.send(Role::Caller, ChannelAppendMsg { processid, name, sequence, inreplyto, payload, payloadtype })
                .await
        }
        ChannelCmd::Read { processid, name, afterseq, limit } => {
            let entries: Vec<MsgEntry> =
                ctx.call(Role::Caller, ChannelReadMsg { processid, name, afterseq, limit }).await?;
            if ctx.json {
                return print_json(&entries);
            }
            table(&["SEQ", "SENDER", "TYPE", "TIME", "PAYLOAD"], entries.iter().map(row).collect());
            Ok(())
        }
        ChannelCmd::Subscribe { processid, name, mut afterseq, timeout } => {
            let key = ctx.key(Role::Caller)?;
            let client = ctx.client()?;
            loop {
                let message =
                    SubscribeChannelMsg { processid: processid.clone(), name: name.clone(), afterseq, timeout };
                let end = client
                    .subscribe_channel(&key, message, |batch| {
                        for entry in &batch {
                            print_entry(ctx.json, entry);
                            afterseq = entry.sequence;
                        }
                        true
                    })
                    .await?;
                match end {
                    ChannelEnd::Ended | ChannelEnd::Stopped => return Ok(()),
                    ChannelEnd::Lost if client.servers().len() > 1 => continue,
                    ChannelEnd::Lost => bail!("the node went away; resume with --afterseq {afterseq}"),
                }
            }
        }
    }
}

fn kind(entry: &MsgEntry) -> &str {
    if entry.kind.is_empty() { "data" } else { &entry.kind }
}

fn payload(entry: &MsgEntry) -> String {
    String::from_utf8_lossy(&entry.payload.0).into_owned()
}

fn row(entry: &MsgEntry) -> Vec<String> {
    let time = entry.timestamp.to_rfc3339();
    vec![entry.sequence.to_string(), entry.senderid.clone(), kind(entry).into(), time, payload(entry)]
}

/// One line per message: its JSON, or its sequence, type and payload.
fn print_entry(json: bool, entry: &MsgEntry) {
    if json {
        println!("{}", serde_json::to_string(entry).unwrap_or_default());
    } else {
        println!("{} {} {}", entry.sequence, kind(entry), payload(entry));
    }
}
