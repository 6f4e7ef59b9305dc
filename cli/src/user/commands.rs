//! The user commands' arguments, as clap parses them (ColonyOS's command and flag names).

use super::*;

/// What a command acts on, by name.
#[derive(clap::Args)]
pub struct Named {
    #[arg(long)]
    pub(super) name: String,
}

#[derive(clap::Subcommand)]
pub enum ColonyCmd {
    /// Add a colony (server owner).
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        colonyid: String,
    },
    /// List colonies (server owner).
    Ls,
    /// Show a colony.
    #[command(alias = "check")]
    Get(Named),
    /// Remove a colony (server owner).
    Remove(Named),
    /// Process and workflow counts of the colony.
    Stats,
}

#[derive(clap::Subcommand)]
pub enum ExecutorCmd {
    /// Register an executor in the colony (colony owner).
    Add {
        #[arg(long)]
        executorid: String,
        #[arg(long)]
        name: String,
        #[arg(long = "type")]
        executortype: String,
        #[arg(long)]
        approve: bool,
    },
    /// Generate a key for a new executor, register it (colony owner) and print the key.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long = "type")]
        executortype: String,
        #[arg(long)]
        approve: bool,
        /// Write the private key to this file instead of printing it.
        #[arg(long)]
        keypath: Option<std::path::PathBuf>,
        /// Write the executor id to this file as well.
        #[arg(long)]
        idpath: Option<std::path::PathBuf>,
    },
    Approve(Named),
    Reject(Named),
    Remove(Named),
    Ls {
        /// Also list unregistered executors.
        #[arg(long)]
        all: bool,
        /// Only executors of this type.
        #[arg(long = "type")]
        executortype: Option<String>,
    },
    Get(Named),
    /// Run a built-in OS executor: runs `funcname args...` as a child process.
    Start(crate::executor::ExecutorArgs),
    /// The same, under the name other executors use.
    #[command(subcommand)]
    Os(OsCmd),
}

#[derive(clap::Subcommand)]
pub enum OsCmd {
    Start(crate::executor::ExecutorArgs),
}

/// Limits of a spec built on the command line.
#[derive(clap::Args)]
pub struct Limits {
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    pub(super) maxwaittime: i64,
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    pub(super) maxexectime: i64,
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    pub(super) maxretries: i64,
    #[arg(long, default_value_t = 0)]
    pub(super) priority: i64,
    #[arg(long, default_value = "")]
    pub(super) label: String,
}

/// Waiting for a submitted process.
#[derive(clap::Args)]
pub struct Wait {
    /// Wait until the process ends.
    #[arg(long)]
    pub(super) wait: bool,
    /// With --wait, print its output only.
    #[arg(long)]
    pub(super) out: bool,
    /// Print the process's log lines as they are added, until it ends.
    #[arg(long)]
    pub(super) follow: bool,
}

#[derive(clap::Subcommand)]
pub enum FunctionCmd {
    /// Submit a function spec from a JSON file.
    Submit {
        #[arg(long)]
        spec: std::path::PathBuf,
        #[command(flatten)]
        wait: Wait,
    },
    /// Submit a function call built from flags.
    Exec {
        #[arg(long)]
        func: String,
        #[arg(long, value_delimiter = ',')]
        args: Vec<String>,
        /// `key:value`, comma separated.
        #[arg(long, value_delimiter = ',')]
        kwargs: Vec<String>,
        /// `KEY=value`, comma separated.
        #[arg(long, value_delimiter = ',')]
        env: Vec<String>,
        #[arg(long)]
        targettype: String,
        #[command(flatten)]
        limits: Limits,
        #[command(flatten)]
        wait: Wait,
    },
    /// Tell the colony that an executor (yours) offers a function.
    Register {
        /// The executor's name.
        #[arg(long)]
        name: String,
        #[arg(long)]
        func: String,
    },
    /// Functions registered in the colony.
    Ls,
    Remove {
        #[arg(long)]
        functionid: String,
    },
}

/// Listing filters shared by the ps commands.
#[derive(clap::Args)]
pub struct Listing {
    #[arg(long, default_value_t = 20)]
    pub(super) count: i64,
    #[arg(long, default_value = "")]
    pub(super) executortype: String,
    #[arg(long, default_value = "")]
    pub(super) label: String,
    #[arg(long, default_value = "")]
    pub(super) initiator: String,
}

#[derive(clap::Subcommand)]
pub enum ProcessCmd {
    /// Running processes.
    Ps(Listing),
    /// Waiting processes.
    Psw(Listing),
    /// Successful processes.
    Pss(Listing),
    /// Failed processes.
    Psf(Listing),
    /// Cancelled processes.
    Psc(Listing),
    Get {
        #[arg(short = 'p', long)]
        processid: String,
        /// Print the output only.
        #[arg(long)]
        out: bool,
    },
    Remove {
        #[arg(short = 'p', long)]
        processid: String,
    },
    /// Remove every process of the colony (or those in one state); asks for YES.
    Removeall(StateChoice),
    /// Wait for a process to be assigned to you (an approved executor) and print it.
    Assign {
        /// Seconds to wait.
        #[arg(long, default_value_t = 100)]
        timeout: i64,
    },
    /// Cancel a waiting or running process.
    Cancel {
        #[arg(short = 'p', long)]
        processid: String,
    },
    /// Stop handing out processes of the colony (colony owner).
    Pause,
    /// Hand out processes of the colony again (colony owner).
    Resume,
    /// Whether assignments of the colony are paused.
    Status,
    /// Close a process assigned to you as successful.
    Close {
        #[arg(short = 'p', long)]
        processid: String,
        #[arg(long, value_delimiter = ',')]
        out: Vec<String>,
    },
    /// Close a process assigned to you as failed.
    Fail {
        #[arg(short = 'p', long)]
        processid: String,
        #[arg(long, value_delimiter = ',')]
        errors: Vec<String>,
    },
}

#[derive(clap::Subcommand)]
pub enum WorkflowCmd {
    /// Submit a workflow: a JSON array of function specs with nodename and dependencies.
    Submit {
        #[arg(long)]
        spec: std::path::PathBuf,
    },
    Get {
        #[arg(long)]
        workflowid: String,
    },
    Ps(GraphListing),
    Psw(GraphListing),
    Pss(GraphListing),
    Psf(GraphListing),
    Psc(GraphListing),
    Cancel {
        #[arg(long)]
        workflowid: String,
    },
    Remove {
        #[arg(long)]
        workflowid: String,
    },
    /// Remove every workflow of the colony (or those in one state); asks for YES.
    Removeall(StateChoice),
}

/// The state a removeall is limited to; none means every state.
#[derive(clap::Args)]
pub struct StateChoice {
    #[arg(long)]
    pub(super) waiting: bool,
    #[arg(long)]
    pub(super) successful: bool,
    #[arg(long)]
    pub(super) failed: bool,
    #[arg(long)]
    pub(super) cancelled: bool,
}

impl StateChoice {
    pub(super) fn state(&self) -> i64 {
        match (self.waiting, self.successful, self.failed, self.cancelled) {
            (true, ..) => 0,
            (_, true, ..) => 2,
            (_, _, true, _) => 3,
            (.., true) => 4,
            _ => -1,
        }
    }
}

/// Asks on stdin before a bulk removal.
pub(super) fn confirm(what: &str) -> anyhow::Result<()> {
    eprint!("Remove {what}? Type YES: ");
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    if answer.trim() != "YES" {
        bail!("not removed");
    }
    Ok(())
}

#[derive(clap::Args)]
pub struct GraphListing {
    #[arg(long, default_value_t = 20)]
    pub(super) count: i64,
}

#[derive(clap::Subcommand)]
pub enum LogCmd {
    /// Log lines of a process, or of an executor with -e.
    Get {
        #[arg(short = 'p', long, default_value = "")]
        processid: String,
        #[arg(short = 'e', long, default_value = "")]
        executorname: String,
        #[arg(long, default_value_t = 100)]
        count: i64,
        /// Only lines after this time (Unix nanoseconds), oldest first.
        #[arg(long, default_value_t = 0)]
        since: i64,
        /// Keep printing the process's new lines until it ends.
        #[arg(long)]
        follow: bool,
    },
    Add {
        #[arg(short = 'p', long)]
        processid: String,
        #[arg(short = 'm', long)]
        msg: String,
    },
    /// Log lines of the colony that contain a text.
    Search {
        #[arg(short = 't', long)]
        text: String,
        #[arg(short = 'd', long, default_value_t = 1)]
        days: i64,
        #[arg(long, default_value_t = 10)]
        count: i64,
    },
}

#[derive(clap::Subcommand)]
pub enum UserCmd {
    /// Add a user to the colony (colony owner).
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        userid: String,
        #[arg(long, default_value = "")]
        email: String,
        #[arg(long, default_value = "")]
        phone: String,
    },
    Ls,
    Get(Named),
    /// Remove a user (colony owner).
    Remove(Named),
}

#[derive(clap::Subcommand)]
pub enum AttributeCmd {
    Add {
        #[arg(short = 'p', long)]
        processid: String,
        #[arg(long)]
        key: String,
        #[arg(long)]
        value: String,
    },
    Get {
        #[arg(long)]
        attributeid: String,
    },
}
