//! `colonies cron` and `colonies generator`: workflows run on a schedule or per batch of
//! packed arguments, with the reference CLI's command and flag names.

use crate::table::table;
use crate::user::{Ctx, Role, complete, print_json, read_spec, say, show_fields};
use colonies_client::messages::*;
use colonies_statemachine::Time;
use colonies_statemachine::model::{Cron, FunctionSpec, Generator, WorkflowSpec};
use std::path::{Path, PathBuf};

#[derive(clap::Subcommand)]
pub enum CronCmd {
    /// Add a cron that runs a workflow (a JSON array of function specs) on a schedule.
    Add {
        #[arg(long)]
        name: String,
        /// The workflow: a JSON array of function specs with nodenames and dependencies.
        #[arg(long)]
        spec: PathBuf,
        /// A 6-field expression with seconds (`0/5 * * * * *`), or `@daily`, `@every 10s`...
        #[arg(long = "cron", default_value = "")]
        cronexpression: String,
        /// Run every this many seconds instead of by an expression.
        #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
        interval: i64,
        /// With --interval: run at a random time within each interval.
        #[arg(long)]
        random: bool,
        /// Skip a run while the previous run's workflow has not ended.
        #[arg(long, alias = "waitprevious")]
        waitforprevprocessgraph: bool,
    },
    /// List the colony's crons.
    Ls {
        #[arg(long, default_value_t = 20)]
        count: i64,
    },
    Get {
        #[arg(long)]
        cronid: String,
    },
    /// Run the cron's workflow now (its schedule stays as it is).
    Run {
        #[arg(long)]
        cronid: String,
    },
    Remove {
        #[arg(long)]
        cronid: String,
    },
}

#[derive(clap::Subcommand)]
pub enum GeneratorCmd {
    /// Add a generator: the workflow runs with `trigger` packed arguments as its roots'
    /// args, or with fewer once `timeout` seconds passed since the last pack.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        spec: PathBuf,
        #[arg(long)]
        trigger: i64,
        /// Seconds; 0 or less waits for a full batch.
        #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
        timeout: i64,
    },
    Ls {
        #[arg(long, default_value_t = 20)]
        count: i64,
    },
    Get {
        #[arg(long)]
        generatorid: String,
    },
    /// Queue an argument for the generator's next run.
    Pack {
        #[arg(long)]
        generatorid: String,
        #[arg(long)]
        arg: String,
    },
    Remove {
        #[arg(long)]
        generatorid: String,
    },
}

/// The workflow file as the JSON string crons and generators store.
fn workflow_text(ctx: &Ctx, path: &Path) -> anyhow::Result<String> {
    let specs: Vec<FunctionSpec> = read_spec(path)?;
    let functionspecs = specs.into_iter().map(|s| complete(ctx, s)).collect::<anyhow::Result<_>>()?;
    Ok(serde_json::to_string(&WorkflowSpec { colonyname: ctx.colony()?, functionspecs })?)
}

fn when(time: Time) -> String {
    if time.is_zero() { "-".into() } else { time.to_rfc3339() }
}

fn schedule(cron: &Cron) -> String {
    match (cron.interval > 0, cron.random) {
        (true, true) => format!("random within every {} s", cron.interval),
        (true, false) => format!("every {} s", cron.interval),
        _ => cron.cronexpression.clone(),
    }
}

pub async fn cron(ctx: &Ctx, command: CronCmd) -> anyhow::Result<()> {
    match command {
        CronCmd::Add { name, spec, cronexpression, interval, random, waitforprevprocessgraph } => {
            let cron = Cron {
                colonyname: ctx.colony()?,
                name,
                cronexpression,
                interval,
                random,
                waitforprevprocessgraph,
                workflowspec: workflow_text(ctx, &spec)?,
                ..Cron::default()
            };
            let added: Cron = ctx.call(Role::Caller, AddCronMsg { cron: Some(cron) }).await?;
            if ctx.json {
                print_json(&added)
            } else {
                say(format!("Cron {} added, Id={}, next run {}", added.name, added.cronid, when(added.nextrun)))
            }
        }
        CronCmd::Ls { count } => {
            let crons: Vec<Cron> = ctx.call(Role::Caller, GetCronsMsg { colonyname: ctx.colony()?, count }).await?;
            if ctx.json {
                return print_json(&crons);
            }
            let rows = crons
                .iter()
                .map(|c| vec![c.name.clone(), c.cronid.clone(), schedule(c), when(c.nextrun), when(c.lastrun)])
                .collect();
            table(&["NAME", "CRONID", "SCHEDULE", "NEXT RUN", "LAST RUN"], rows);
            Ok(())
        }
        CronCmd::Get { cronid } => {
            let cron: Cron = ctx.call(Role::Caller, GetCronMsg { cronid }).await?;
            show_fields(ctx, &cron)
        }
        CronCmd::Run { cronid } => {
            let cron: Cron = ctx.call(Role::Caller, RunCronMsg { cronid }).await?;
            if ctx.json { print_json(&cron) } else { say(format!("Workflow {} started", cron.prevprocessgraphid)) }
        }
        CronCmd::Remove { cronid } => {
            ctx.send(Role::Caller, RemoveCronMsg { cronid: cronid.clone(), all: false }).await?;
            say(format!("Cron {cronid} removed"))
        }
    }
}

pub async fn generator(ctx: &Ctx, command: GeneratorCmd) -> anyhow::Result<()> {
    match command {
        GeneratorCmd::Add { name, spec, trigger, timeout } => {
            let generator = Generator {
                colonyname: ctx.colony()?,
                name,
                trigger,
                timeout,
                workflowspec: workflow_text(ctx, &spec)?,
                ..Generator::default()
            };
            let added: Generator = ctx.call(Role::Caller, AddGeneratorMsg { generator: Some(generator) }).await?;
            if ctx.json {
                print_json(&added)
            } else {
                say(format!("Generator {} added, Id={}", added.name, added.generatorid))
            }
        }
        GeneratorCmd::Ls { count } => {
            let message = GetGeneratorsMsg { colonyname: ctx.colony()?, count };
            // The server answers null when there is none, as the reference does.
            let generators: Option<Vec<Generator>> = ctx.call(Role::Caller, message).await?;
            let generators = generators.unwrap_or_default();
            if ctx.json {
                return print_json(&generators);
            }
            let rows = generators
                .iter()
                .map(|g| {
                    vec![
                        g.name.clone(),
                        g.generatorid.clone(),
                        g.trigger.to_string(),
                        g.timeout.to_string(),
                        when(g.lastrun),
                    ]
                })
                .collect();
            table(&["NAME", "GENERATORID", "TRIGGER", "TIMEOUT", "LAST RUN"], rows);
            Ok(())
        }
        GeneratorCmd::Get { generatorid } => {
            let generator: Generator = ctx.call(Role::Caller, GetGeneratorMsg { generatorid }).await?;
            show_fields(ctx, &generator)
        }
        GeneratorCmd::Pack { generatorid, arg } => {
            ctx.send(Role::Caller, PackGeneratorMsg { generatorid, arg: arg.clone() }).await?;
            say(format!("Packed {arg}"))
        }
        GeneratorCmd::Remove { generatorid } => {
            ctx.send(Role::Caller, RemoveGeneratorMsg { generatorid: generatorid.clone(), all: false }).await?;
            say(format!("Generator {generatorid} removed"))
        }
    }
}
