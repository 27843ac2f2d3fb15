//! A report as PDF, printed from its own HTML by a headless Chromium.
//!
//! Overview: [`print_pdf`] hands the written report (`<stem>.html`, which
//! is self-contained: no script, no external resource) to Chromium's
//! `--print-to-pdf`, the same engine and print stylesheet as a browser's
//! Print, so the PDF and the printed page are one layout. Chromium runs
//! with its network features off (no background networking, sync,
//! component updates or QUIC) and a throw-away profile; its profile and the
//! PDF being made live in a hidden folder inside the output folder, so
//! nothing is written elsewhere, and the PDF is renamed into place only
//! when complete. The browser is `RNS_CHROMIUM` when set, else the first
//! of `chromium`, `chromium-browser`, `google-chrome`,
//! `google-chrome-stable` on `PATH`.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long Chromium may take to print one report.
pub const PRINT_TIMEOUT: Duration = Duration::from_secs(120);

/// The browser to print with, if one is found.
pub fn browser() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("RNS_CHROMIUM") {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in [
            "chromium",
            "chromium-browser",
            "google-chrome",
            "google-chrome-stable",
        ] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// Print `html` (a report written in `dir`) to `pdf` (in `dir` too).
///
/// # Errors
/// [`Error::Usage`] when no browser is found; [`Error::Io`] (naming the
/// PDF) when the browser fails, times out or writes nothing.
pub fn print_pdf(html: &Path, pdf: &Path, dir: &Path) -> Result<()> {
    let fail = |what: String| Error::Io {
        path: pdf.to_path_buf(),
        source: std::io::Error::other(what),
    };
    let chrome = browser().ok_or_else(|| {
        Error::Usage(
            "--pdf needs Chromium or Google Chrome: none was found on PATH (install Debian's \
             `chromium`, or set RNS_CHROMIUM to the browser's path)"
                .into(),
        )
    })?;
    let work = dir.join(format!(".rns-pdf.{}.tmp", std::process::id()));
    std::fs::create_dir_all(&work).map_err(|e| Error::Io {
        path: work.clone(),
        source: e,
    })?;
    let result = run_browser(&chrome, html, &work).and_then(|made| {
        let bytes = std::fs::read(&made).map_err(|e| fail(format!("no PDF was printed ({e})")))?;
        if !bytes.starts_with(b"%PDF-") {
            return Err(fail("the browser wrote something that is not a PDF".into()));
        }
        crate::export::atomic::write_atomic_replacing(pdf, &bytes)
    });
    let _ = std::fs::remove_dir_all(&work);
    result
}

/// Run the browser on `html`, writing `work/out.pdf`; its path on success.
fn run_browser(chrome: &Path, html: &Path, work: &Path) -> Result<PathBuf> {
    let out = work.join("out.pdf");
    let io = |e: std::io::Error| Error::Io {
        path: chrome.to_path_buf(),
        source: e,
    };
    let abs = html.canonicalize().map_err(|e| Error::Io {
        path: html.to_path_buf(),
        source: e,
    })?;
    let mut child = Command::new(chrome)
        .args([
            "--headless",
            // The page is the report's own escaped HTML without scripts;
            // the sandbox cannot start as root, where CI runs.
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--no-pdf-header-footer",
        ])
        .arg(format!(
            "--user-data-dir={}",
            work.join("profile").display()
        ))
        .arg(format!("--print-to-pdf={}", out.display()))
        .arg(format!("file://{}", abs.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(io)?;
    let deadline = Instant::now() + PRINT_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().map_err(io)? {
            if !status.success() {
                return Err(io(std::io::Error::other(format!(
                    "the browser failed to print the PDF ({status})"
                ))));
            }
            return Ok(out);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(io(std::io::Error::other(format!(
                "the browser did not print the PDF within {} s",
                PRINT_TIMEOUT.as_secs()
            ))));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
