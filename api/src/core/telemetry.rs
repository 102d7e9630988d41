//! Logging: `RUST_LOG` filters (default `info`); quiet in tests unless `TEST_LOG` is set.

use tracing_subscriber::{EnvFilter, fmt};

pub fn init(default: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    // Colours only on a terminal: log files and collectors get plain `key=value` text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let _ = fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(ansi)
        .try_init();
}
