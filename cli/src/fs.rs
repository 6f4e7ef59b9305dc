//! `colonies fs` (ColonyFS metadata: files, labels, snapshots) and `colonies location`.
//! The file bytes live in S3; these commands read and change what the server knows of
//! them. Tables never show the S3 keys a file record may carry; `--json` prints records
//! as the server answers them.

use crate::table::table;
use crate::user::{Ctx, Role, print_json, say, show_fields};
use colonies_client::messages::*;
use colonies_statemachine::files::File;
use colonies_statemachine::locations::Location;

#[derive(clap::Subcommand)]
pub enum FsCmd {
    /// The latest revision of each file under a label.
    Ls {
        #[arg(short, long)]
        label: String,
    },
    /// Labels with their number of files; with --name, that label and its sub-labels.
    Labels {
        #[arg(long, default_value = "")]
        name: String,
        /// Only the label named, not its sub-labels.
        #[arg(long, requires = "name")]
        exact: bool,
    },
    /// A file's metadata: by --fileid, or by --label and --name (the latest revision, or
    /// every revision with --all).
    Get {
        #[command(flatten)]
        file: WhichFile,
        #[arg(long)]
        all: bool,
    },
    /// Remove a file: by --fileid, or every revision of --label and --name.
    Remove {
        #[command(flatten)]
        file: WhichFile,
    },
    #[command(subcommand)]
    Snapshot(SnapshotCmd),
}

/// A file by id, or by label and name.
#[derive(clap::Args)]
pub struct WhichFile {
    #[arg(long, default_value = "", conflicts_with_all = ["label", "name"], required_unless_present_all = ["label", "name"])]
    fileid: String,
    #[arg(short, long, default_value = "")]
    label: String,
    #[arg(long, default_value = "")]
    name: String,
}

/// A snapshot by id or by name.
#[derive(clap::Args)]
pub struct WhichSnapshot {
    #[arg(long, default_value = "", required_unless_present = "snapshotid")]
    name: String,
    #[arg(long, default_value = "")]
    snapshotid: String,
}

#[derive(clap::Subcommand)]
pub enum SnapshotCmd {
    /// Freeze the latest revision of each file under a label and its sub-labels.
    Create {
        #[arg(short, long)]
        label: String,
        #[arg(long)]
        name: String,
    },
    Ls,
    Get(WhichSnapshot),
    Remove(WhichSnapshot),
    /// Remove every snapshot of the colony.
    Removeall,
}

#[derive(clap::Subcommand)]
pub enum LocationCmd {
    /// Add a location to the colony (colony owner).
    Add {
        #[arg(long)]
        name: String,
        #[arg(long, alias = "desc", default_value = "")]
        description: String,
        #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
        long: f64,
        #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
        lat: f64,
    },
    Ls,
    Get {
        #[arg(long)]
        name: String,
    },
    /// Remove a location (colony owner).
    Remove {
        #[arg(long)]
        name: String,
    },
}

fn file_rows(files: &[File]) -> Vec<Vec<String>> {
    files
        .iter()
        .map(|f| {
            vec![
                f.fileid.clone(),
                f.label.clone(),
                f.name.clone(),
                f.size.to_string(),
                f.checksum.clone(),
                format!("{}/{}", f.reference.s3object.bucket, f.reference.s3object.object),
                f.added.to_rfc3339(),
            ]
        })
        .collect()
}

pub async fn fs(ctx: &Ctx, command: FsCmd) -> anyhow::Result<()> {
    let colonyname = ctx.colony()?;
    match command {
        FsCmd::Ls { label } => {
            let files = ctx.call(Role::Caller, GetFilesMsg { colonyname, label }).await?;
            if ctx.json {
                return print_json(&files);
            }
            let rows = files.into_iter().map(|f| vec![f.name, f.size.to_string(), f.checksum, f.s3filename]).collect();
            table(&["NAME", "SIZE", "CHECKSUM", "OBJECT"], rows);
            Ok(())
        }
        FsCmd::Labels { name, exact } => {
            let labels = ctx.call(Role::Caller, GetFileLabelsMsg { colonyname, name, exact }).await?;
            if ctx.json {
                return print_json(&labels);
            }
            table(&["LABEL", "FILES"], labels.into_iter().map(|l| vec![l.name, l.files.to_string()]).collect());
            Ok(())
        }
        FsCmd::Get { file: WhichFile { fileid, label, name }, all } => {
            let message = GetFileMsg { colonyname, fileid, label, name, latest: !all };
            let files = ctx.call(Role::Caller, message).await?;
            if ctx.json {
                return print_json(&files);
            }
            table(&["FILEID", "LABEL", "NAME", "SIZE", "CHECKSUM", "OBJECT", "ADDED"], file_rows(&files));
            Ok(())
        }
        FsCmd::Remove { file: WhichFile { fileid, label, name } } => {
            ctx.send(Role::Caller, RemoveFileMsg { colonyname, fileid, label, name }).await?;
            say("File removed".into())
        }
        FsCmd::Snapshot(command) => snapshot(ctx, colonyname, command).await,
    }
}

async fn snapshot(ctx: &Ctx, colonyname: String, command: SnapshotCmd) -> anyhow::Result<()> {
    match command {
        SnapshotCmd::Create { label, name } => {
            let snapshot = ctx.call(Role::Caller, CreateSnapshotMsg { colonyname, label, name }).await?;
            show_fields(ctx, &snapshot)
        }
        SnapshotCmd::Ls => {
            let snapshots = ctx.call(Role::Caller, GetSnapshotsMsg { colonyname }).await?;
            if ctx.json {
                return print_json(&snapshots);
            }
            let rows = snapshots
                .into_iter()
                .map(|s| vec![s.name, s.label, s.fileids.len().to_string(), s.snapshotid, s.added.to_rfc3339()])
                .collect();
            table(&["NAME", "LABEL", "FILES", "SNAPSHOTID", "ADDED"], rows);
            Ok(())
        }
        SnapshotCmd::Get(WhichSnapshot { name, snapshotid }) => {
            let snapshot = ctx.call(Role::Caller, GetSnapshotMsg { colonyname, snapshotid, name }).await?;
            show_fields(ctx, &snapshot)
        }
        SnapshotCmd::Remove(WhichSnapshot { name, snapshotid }) => {
            ctx.send(Role::Caller, RemoveSnapshotMsg { colonyname, snapshotid, name }).await?;
            say("Snapshot removed".into())
        }
        SnapshotCmd::Removeall => {
            ctx.send(Role::Caller, RemoveAllSnapshotsMsg { colonyname }).await?;
            say("All snapshots removed".into())
        }
    }
}

pub async fn location(ctx: &Ctx, command: LocationCmd) -> anyhow::Result<()> {
    let colonyname = ctx.colony()?;
    match command {
        LocationCmd::Add { name, description, long, lat } => {
            let location = Location { locationid: String::new(), name, colonyname, description, long, lat };
            let added = ctx.call(Role::ColonyOwner, AddLocationMsg { location: Some(location) }).await?;
            show_fields(ctx, &added)
        }
        LocationCmd::Ls => {
            let locations = ctx.call(Role::Caller, GetLocationsMsg { colonyname }).await?;
            if ctx.json {
                return print_json(&locations);
            }
            let rows = locations
                .into_iter()
                .map(|l| vec![l.name, l.description, l.long.to_string(), l.lat.to_string(), l.locationid])
                .collect();
            table(&["NAME", "DESCRIPTION", "LONG", "LAT", "LOCATIONID"], rows);
            Ok(())
        }
        LocationCmd::Get { name } => {
            let location = ctx.call(Role::Caller, GetLocationMsg { colonyname, name }).await?;
            show_fields(ctx, &location)
        }
        LocationCmd::Remove { name } => {
            ctx.send(Role::ColonyOwner, RemoveLocationMsg { colonyname, name: name.clone() }).await?;
            say(format!("Location {name} removed"))
        }
    }
}
