//! Progress bars on a terminal; nothing when stderr is not one (cron, Airflow, tests).

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Makes progress bars, or hidden ones when progress is off.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    enabled: bool,
}

impl Progress {
    /// Bars when stderr is a terminal.
    pub fn auto() -> Self {
        Progress { enabled: std::io::stderr().is_terminal() }
    }

    /// No bars.
    pub fn hidden() -> Self {
        Progress { enabled: false }
    }

    /// A bar counting bytes.
    pub fn bytes(&self, total: u64, label: &str) -> ProgressBar {
        self.bar(total, label, "{msg:>24} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
    }

    /// A bar counting items.
    pub fn count(&self, total: u64, label: &str) -> ProgressBar {
        self.bar(total, label, "{msg:>24} [{bar:30}] {pos}/{len}")
    }

    fn bar(&self, total: u64, label: &str, template: &str) -> ProgressBar {
        if !self.enabled || total == 0 {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        bar.set_style(ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()).progress_chars("=> "));
        bar.set_message(label.to_string());
        bar
    }
}
