//! `balance-alert table create` and `config push` / `config pull`: set up a DynamoDB table
//! (AWS or a local emulator) and move a config.json into and out of it.

use std::process::ExitCode;

use balance_alert_core::config::{self, push_document, Settings};
use balance_alert_core::store::ConfigStore;
use balance_alert_store_dynamodb::{create_table, DynamoStore};

use super::{PushArgs, TableOnly, EXIT_USAGE};

fn fail(message: String) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_USAGE)
}

async fn connect(table: &str) -> Result<DynamoStore, ExitCode> {
    DynamoStore::connect(table.to_owned(), Settings::default().history_retention_days)
        .await
        .map_err(|e| fail(format!("--table {table}: {e}")))
}

/// `table create`: the table with its keys, indexes, stream and TTL.
pub async fn create(args: TableOnly) -> ExitCode {
    let store = match connect(&args.table).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    match create_table(store.client(), &args.table).await {
        Ok(()) => {
            println!("table {} is ready", args.table);
            ExitCode::SUCCESS
        }
        Err(e) => fail(format!("--table {}: {e}", args.table)),
    }
}

/// `config push`: validates the file (placeholders resolved from this environment) and
/// uploads it as written.
pub async fn push(args: PushArgs) -> ExitCode {
    let text = match config::read_capped(&args.config) {
        Ok(t) => t,
        Err(e) => return fail(e.to_string()),
    };
    let store = match connect(&args.table).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let now = chrono::Utc::now().timestamp();
    match push_document(&store, &text, &config::process_env(), now).await {
        Ok((version, unresolved)) => {
            for p in unresolved {
                eprintln!(
                    "warning: {p} (kept as written; it must be set where the config is loaded)"
                );
            }
            println!(
                "uploaded {} to table {} as config version {version}",
                args.config.display(),
                args.table
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(e.to_string()),
    }
}

/// `config pull`: prints the stored document.
pub async fn pull(args: TableOnly) -> ExitCode {
    let store = match connect(&args.table).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    match store.config_document().await {
        Ok(Some(doc)) => {
            print!("{}", doc.text);
            if !doc.text.ends_with('\n') {
                println!();
            }
            eprintln!("version {} of table {}", doc.version, args.table);
            ExitCode::SUCCESS
        }
        Ok(None) => fail(format!(
            "table {} holds no config: upload one with `balance-alert config push --table {} --config config.json`",
            args.table, args.table
        )),
        Err(e) => fail(e.to_string()),
    }
}
